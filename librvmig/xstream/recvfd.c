/* SPDX-License-Identifier: MIT */
/*
 * recvfd.c - the outcome of a receiving session (rvmig_xrsession_result)
 * and the one-shot receive into a descriptor (rvmig_xstream_recv_fd).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "xstream/rsession.h"
#include "xstream/stats.h"

/* Copies what fits of `from` into the caller's result of `size` bytes. */
static void result_copy(struct rvmig_xresult *res, const struct rvmig_xresult *from)
{
	size_t n = res->size < sizeof(*from) ? res->size : sizeof(*from);

	if (n <= sizeof(res->size))
		return;
	memcpy((char *)res + sizeof(res->size), (const char *)from + sizeof(from->size),
	       n - sizeof(res->size));
}

void rvmig_xrsession_result(const rvmig_xrsession *s, struct rvmig_xresult *res)
{
	struct rvmig_xresult r = { .size = sizeof(r) };
	rvmig_xstats st;
	const char *text;

	r.status = s->status;
	if (rvmig_xrecv_error(s->rb, &text) && s->status)
		snprintf(r.text, sizeof(r.text), "%s", text);
	rvmig_xrecv_stats(s->rb, &st);
	r.bytes = rvmig_xstats_get(&st, RVMIG_XSTAT_BYTES);
	r.pages = rvmig_xstats_get(&st, RVMIG_XSTAT_PAGES);
	r.zero_pages = rvmig_xstats_get(&st, RVMIG_XSTAT_ZERO_PAGES);
	r.control_bytes = rvmig_xstats_get(&st, RVMIG_XSTAT_CONTROL_BYTES);
	r.data_bytes = rvmig_xstats_get(&st, RVMIG_XSTAT_DATA_BYTES);
	r.zero_bytes = rvmig_xstats_get(&st, RVMIG_XSTAT_ZERO_BYTES);
	r.seconds = s->t0 ? (s->t1 ? s->t1 : s->t0) - s->t0 : 0;
	r.digest_alg = rvmig_xrecv_digest_alg(s->rb);
	if (rvmig_xrecv_done(s->rb) && !rvmig_xrecv_digest(s->rb, false, r.digest))
		r.verified = true;
	r.raw = s->raw;
	r.peer_bytes = s->expect_size;
	r.resume_offset = s->resume_off;
	r.retries = s->conns > 1 ? s->conns - 1 : 0;
	r.peer_version = s->peer_version;
	r.exit_status = -1;
	snprintf(r.peer, sizeof(r.peer), "%s", s->peer);
	snprintf(r.transport, sizeof(r.transport), "%s", s->transport);
	r.mode = s->mode;
	result_copy(res, &r);
}

int rvmig_xstream_recv_fd(rvmig_ctx *ctx, const char *listen_uri, int fd,
			  const struct rvmig_xrecv_opts *opts, struct rvmig_xresult *res)
{
	struct rvmig_xrecv_opts o = { .size = sizeof(o) };
	struct rvmig_xrsession_attr a;
	struct rvmig_xrsession *s = NULL;
	rvmig_listener *l = NULL;
	int rc;

	if (opts) {
		if (opts->size < sizeof(o))
			return -EINVAL;
		o = *opts;
	}
	if (!ctx || !listen_uri || fd < 0)
		return -EINVAL;
	a = (struct rvmig_xrsession_attr){
		.size = sizeof(a),
		.flags = RVMIG_XRSESSION_F_FD |
			 (o.flags & (RVMIG_XRSESSION_F_NO_VERIFY | RVMIG_XSTREAM_F_DIGEST_THREAD)),
		.fd = fd,
		.timeout_ms = o.timeout_ms,
		.accept_timeout_ms = o.accept_timeout_ms,
		.stop = o.stop,
	};
	rc = rvmig_xrsession_create(ctx, &a, &s);
	if (!rc) {
		rc = rvmig_listen(ctx, listen_uri, o.ep, &l);
		if (rc)
			rsession_fail(s, rc, "cannot listen on %s: %s", listen_uri, rvmig_strerror(rc));
		s->status = rc;
	}
	if (!rc && o.on_listening)
		o.on_listening(rvmig_listener_port(l), o.arg);
	if (!rc)
		rc = rvmig_xrsession_run(s, l); /* takes l */
	if (s && res)
		rvmig_xrsession_result(s, res);
	else if (res && res->size >= offsetof(struct rvmig_xresult, status) + sizeof(res->status))
		res->status = rc;
	rvmig_xrsession_destroy(s);
	return rc;
}
