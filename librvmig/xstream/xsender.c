/* SPDX-License-Identifier: MIT */
/*
 * xsender.c - the sender session of rvmig/xstream.h (rvmig_xsender): one
 * connection after another to a receiver until the input is sent and its
 * verdict matches: connect, HELLO, RESUME, the input, END, VERDICT, and
 * back-off between attempts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xstream/xsend.h"
#include "xstream/xsender.h"
#include "xstream/xexec.h"

#define REPLY_TIMEOUT_DEFAULT_MS 60000u
#define PUMP_MS 200
#define BACKOFF_FIRST 0.5
#define BACKOFF_MAX 8.0

double xsender_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int xsender_stopped(const struct rvmig_xsender *s)
{
	return s->o.stop ? *s->o.stop : 0;
}

int xsender_fail(struct rvmig_xsender *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->err)
		return err;
	s->err = err;
	va_start(ap, fmt);
	vsnprintf(s->errtxt, sizeof(s->errtxt), fmt, ap);
	va_end(ap);
	return err;
}

int xsender_settle(struct rvmig_xsender *s, int rc)
{
	const char *text;
	int err = s->attached ? rvmig_xsend_error(s->xs, &text) : 0;

	if (err) {
		s->err = err;
		snprintf(s->errtxt, sizeof(s->errtxt), "%s", text);
	} else if (rc && !s->err) {
		xsender_fail(s, rc, "%s", rvmig_strerror(rc));
	}
	s->t1 = xsender_now();
	return s->err;
}

static void note(struct rvmig_xsender *s, enum rvmig_xsend_note n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct rvmig_xsender *s, enum rvmig_xsend_note n, const char *fmt, ...)
{
	char t[XSENDER_TEXT_MAX + 64];
	va_list ap;

	if (!s->o.on_note)
		return;
	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	s->o.on_note(s, n, t, s->o.arg);
}

void xsender_publish(struct rvmig_xsender *s, bool done)
{
	rvmig_xstats *st;

	if (!s->o.pub || rvmig_xstats_create(&st))
		return;
	rvmig_xsend_stats(s->xs, st);
	rvmig_pubxfer_progress(s->o.pub,
			       rvmig_xstats_get(st, done ? RVMIG_XSTAT_BYTES : RVMIG_XSTAT_ACKED),
			       rvmig_xstats_get(st, RVMIG_XSTAT_PAGES),
			       rvmig_xstats_get(st, RVMIG_XSTAT_ZERO_PAGES));
	rvmig_xstats_destroy(st);
}

/* ---- replies ---- */

void xsender_answer(struct rvmig_xsender *s, const struct rvmig_xmsg *m)
{
	s->answered = true;
	s->peer_status = m->status;
	s->peer_version = m->tool_version;
	s->peer_bytes = m->n;
	memcpy(s->peer_digest, m->digest, RVMIG_DIGEST_LEN);
	/* The peer's words: cut and escaped, never passed on raw. */
	rvmig_text_escape(s->peer_text, sizeof(s->peer_text), m->data, m->len);
}

static void send_reply(struct rvmig_xsender *s, const struct rvmig_xmsg *m)
{
	if (m->tag == RVMIG_XMSG_RESUME && (s->o.flags & RVMIG_XSEND_F_RESUME) && !s->got_resume) {
		s->got_resume = true;
		s->resume_off = m->offset;
		memcpy(s->resume_digest, m->digest, RVMIG_DIGEST_LEN);
		return;
	}
	if (m->tag != RVMIG_XMSG_VERDICT) {
		rvmig_xsend_fail(s->xs, -RVMIG_EBADMSG, false,
				 "unexpected %s message from the receiver %s",
				 rvmig_xmsg_tag_name(m->tag), s->peer);
		return;
	}
	xsender_answer(s, m);
	if (m->status)
		rvmig_xsend_fail(s->xs, m->status, false, "receiver failed: %s", s->peer_text);
}

static void on_reply(rvmig_xsend *xs, const void *msg, size_t len, void *arg)
{
	struct rvmig_xsender *s = arg;
	struct rvmig_xmsg m;
	const char *why;

	if (rvmig_xmsg_decode(msg, len, &m, &why)) {
		rvmig_xsend_fail(xs, -RVMIG_EBADMSG, false, "bad reply from %s: %s", s->peer, why);
		return;
	}
	if (s->exec)
		xexec_reply(s, &m);
	else
		send_reply(s, &m);
}

static void on_close(rvmig_xsend *xs, void *arg)
{
	struct rvmig_xsender *s = arg;

	if (s->exec) {
		xexec_close(s);
		return;
	}
	if (!s->answered)
		rvmig_xsend_fail(xs, -RVMIG_EPEER, true,
				 "receiver %s closed the connection without a verdict", s->peer);
}

static void on_progress(rvmig_xsend *xs, uint64_t acked, void *arg)
{
	struct rvmig_xsender *s = arg;

	(void)xs;
	s->o.on_progress(s, acked, s->o.arg);
}

/* ---- the object ---- */

int rvmig_xsender_create(rvmig_ctx *ctx, int fd, const struct rvmig_xsend_opts *opts,
			 rvmig_xsender **out)
{
	static const struct rvmig_xsend_opts defaults = { .size = sizeof(defaults) };
	const struct rvmig_xsend_opts *o = opts ? opts : &defaults;
	uint32_t known = RVMIG_XSTREAM_F_RAW | RVMIG_XSTREAM_F_DIGEST_THREAD | RVMIG_XSEND_F_RESUME;
	struct rvmig_xsend_attr xa = { .size = sizeof(xa) };
	struct rvmig_xsender *s;
	uint64_t size = 0;
	int rc;

	*out = NULL;
	if (!ctx || o->size < sizeof(*o) || (o->flags & ~known) ||
	    (o->retries && !(o->flags & RVMIG_XSEND_F_RESUME)))
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*out = s;
	s->ctx = ctx;
	s->o = *o;
	if (o->ep_attr)
		s->epa = *o->ep_attr;
	else
		s->epa.size = sizeof(s->epa);
	if (o->name && o->name[0])
		snprintf(s->name, sizeof(s->name), "%s", o->name);
	else
		snprintf(s->name, sizeof(s->name), "fd %d", fd);
	s->o.name = s->name;
	xa.flags = o->flags & (RVMIG_XSTREAM_F_RAW | RVMIG_XSTREAM_F_DIGEST_THREAD);
	xa.digest = o->digest;
	xa.zero_min = o->zero_min;
	xa.stop = o->stop;
	xa.on_reply = on_reply;
	xa.on_close = on_close;
	xa.on_progress = o->on_progress ? on_progress : NULL;
	xa.arg = s;
	rc = xsend_create_fd(fd, s->name, &xa, &s->xs);
	if (rc) {
		const char *text = "";

		if (s->xs)
			rvmig_xsend_error(s->xs, &text);
		return xsender_fail(s, rc, "%s", *text ? text : rvmig_strerror(rc));
	}
	if ((o->flags & RVMIG_XSEND_F_RESUME) && !rvmig_xsend_input_mapped(s->xs))
		return xsender_fail(s, -ESPIPE,
				    "resume needs a regular file as input, not %s (a pipe cannot "
				    "be read again from the start)",
				    s->name);
	if (o->pub)
		rvmig_pubxfer_set_total(o->pub, rvmig_xsend_input_size(s->xs, &size)
							? size : RVMIG_PUBXFER_SIZE_UNKNOWN);
	rvmig_xsend_set_pub(s->xs, o->pub);
	return 0;
}

void rvmig_xsender_destroy(rvmig_xsender *s)
{
	if (!s)
		return;
	if (s->xs)
		rvmig_xsend_detach(s->xs);
	if (s->ep)
		rvmig_ep_close(s->ep);
	rvmig_xsend_destroy(s->xs); /* after the endpoint: it may still read the input */
	free(s);
}

/* Errors of rvmig_connect() that another attempt may get past. */
static bool connect_retryable(int rc)
{
	switch (-rc) {
	case ECONNREFUSED: case ECONNRESET: case ECONNABORTED: case ETIMEDOUT:
	case EHOSTUNREACH: case ENETUNREACH: case ENETDOWN: case EHOSTDOWN:
	case EPIPE: case EAGAIN: case EINTR:
	case RVMIG_ETIMEDOUT: case RVMIG_EPEER:
		return true;
	}
	return false;
}

/* Ends the last connection (its registrations first). */
static void disconnect(struct rvmig_xsender *s)
{
	rvmig_xsend_detach(s->xs);
	if (s->ep)
		rvmig_ep_close(s->ep);
	s->ep = NULL;
	s->attached = false;
}

int xsender_connect(struct rvmig_xsender *s, const char *uri)
{
	int rc;

	s->err = 0;
	s->errtxt[0] = 0;
	s->got_resume = s->answered = false;
	s->peer_status = 0;
	s->sent_from = 0;
	if (s->ep)
		disconnect(s);
	if (!s->ever_connected && !s->retries)
		s->t0 = xsender_now();
	rc = rvmig_connect(s->ctx, uri, &s->epa, &s->ep);
	if (rc) {
		s->ep = NULL;
		if (rc == -RVMIG_EAUTH)
			return xsender_fail(s, rc,
					    "cannot connect to %s: authentication failed (the receiver "
					    "refused our key or could not prove it holds it; both sides "
					    "need the same pre-shared key)",
					    uri);
		return xsender_fail(s, rc, "cannot connect to %s: %s", uri, rvmig_strerror(rc));
	}
	s->ever_connected = true;
	snprintf(s->peer, sizeof(s->peer), "%s", rvmig_ep_peer(s->ep));
	snprintf(s->transport, sizeof(s->transport), "%s", rvmig_ep_transport(s->ep));
	s->mode = rvmig_ep_mode(s->ep);
	if (s->o.pub)
		rvmig_pubxfer_set_endpoint(s->o.pub, s->ep);
	note(s, RVMIG_XSEND_NOTE_CONNECTED, "connected to %s over %s (%s), input %s%s", s->peer,
	     s->transport, s->mode == RVMIG_MODE_PULL ? "pull" : "push", s->name,
	     rvmig_xsend_input_mapped(s->xs) ? " (mapped)" : " (pipe ring)");
	s->attached = true;
	return rvmig_xsend_attach(s->xs, s->ep);
}

static uint32_t reply_timeout(const struct rvmig_xsender *s)
{
	return s->o.reply_timeout_ms ? s->o.reply_timeout_ms : REPLY_TIMEOUT_DEFAULT_MS;
}

/* Drives the endpoint until *flag, an error or the deadline (`what` the
 * receiver did not send then). */
static void await(struct rvmig_xsender *s, const bool *flag, const char *what)
{
	uint32_t ms = reply_timeout(s);
	double deadline = xsender_now() + ms / 1000.0;

	while (!rvmig_xsend_error(s->xs, NULL) && !*flag) {
		if (xsender_now() > deadline) {
			rvmig_xsend_fail(s->xs, -RVMIG_ETIMEDOUT, false,
					 "receiver %s sent no %s within %u ms", s->peer, what, ms);
			return;
		}
		rvmig_xsend_progress(s->xs, PUMP_MS);
	}
}

/* Waits for the receiver's RESUME, checks it against the input and makes
 * the pipeline skip what the receiver already holds. */
static void resume_handshake(struct rvmig_xsender *s)
{
	uint64_t size = 0;
	int rc;

	await(s, &s->got_resume, "answer to the resume request");
	if (rvmig_xsend_error(s->xs, NULL))
		return;
	rvmig_xsend_input_size(s->xs, &size);
	rc = rvmig_xsend_check_prefix(s->xs, s->resume_off, s->resume_digest);
	if (rc == -ERANGE) {
		rvmig_xsend_fail(s->xs, -RVMIG_EBADMSG, false,
				 "receiver %s holds %llu bytes of this transfer, more than the %llu of %s",
				 s->peer, (unsigned long long)s->resume_off, (unsigned long long)size,
				 s->name);
		return;
	}
	if (rc == -RVMIG_EINTEGRITY) {
		rvmig_xsend_fail(s->xs, rc, false,
				 "receiver %s holds %llu bytes of this transfer that differ from the "
				 "first %llu bytes of %s (was it changed in place?); remove the "
				 "receiver's journal to start over",
				 s->peer, (unsigned long long)s->resume_off,
				 (unsigned long long)s->resume_off, s->name);
		return;
	}
	if (rc) {
		rvmig_xsend_fail(s->xs, rc, false, "cannot check the receiver's %llu bytes: %s",
				 (unsigned long long)s->resume_off, rvmig_strerror(rc));
		return;
	}
	if (s->resume_off)
		note(s, RVMIG_XSEND_NOTE_RESUMING,
		     "resuming at stream offset %llu of %llu (held durably by %s)",
		     (unsigned long long)s->resume_off, (unsigned long long)size, s->peer);
	s->sent_from = s->resume_off;
	rvmig_xsend_resume_at(s->xs, s->resume_off);
}

/* END, then the receiver's verdict on it. */
static int finish(struct rvmig_xsender *s)
{
	uint8_t digest[RVMIG_DIGEST_LEN];
	rvmig_xstats *st;
	uint64_t total;
	int rc = rvmig_xsend_end(s->xs, true, digest);

	if (rc)
		return rc;
	while (!rvmig_xsend_error(s->xs, NULL) && rvmig_xsend_pending(s->xs))
		rvmig_xsend_progress(s->xs, PUMP_MS);
	await(s, &s->answered, "verdict");
	if ((rc = rvmig_xsend_error(s->xs, NULL)))
		return rc;
	if ((rc = rvmig_xstats_create(&st)))
		return rvmig_xsend_fail(s->xs, rc, false, "out of memory");
	rvmig_xsend_stats(s->xs, st);
	total = rvmig_xstats_get(st, RVMIG_XSTAT_BYTES);
	rvmig_xstats_destroy(st);
	if (s->peer_bytes != total || memcmp(s->peer_digest, digest, RVMIG_DIGEST_LEN))
		return rvmig_xsend_fail(
			s->xs, -RVMIG_EINTEGRITY, false,
			"receiver %s reports %llu bytes with another %s digest than sent (%llu bytes)",
			s->peer, (unsigned long long)s->peer_bytes, rvmig_digest_name(s->o.digest),
			(unsigned long long)total);
	memcpy(s->digest, digest, RVMIG_DIGEST_LEN);
	s->digest_valid = s->verified = true;
	return 0;
}

/* One connection: connect, HELLO (and RESUME), the input, END, the
 * verdict.  *retry says whether another attempt may help. */
static int attempt(struct rvmig_xsender *s, const char *uri, bool *retry)
{
	uint8_t m[128], id[RVMIG_XFER_ID_LEN] = { 0 };
	uint64_t size = 0;
	bool size_known = rvmig_xsend_input_size(s->xs, &size);
	bool resume = s->o.flags & RVMIG_XSEND_F_RESUME;
	uint32_t flags;
	int rc = xsender_connect(s, uri);

	*retry = false;
	if (rc) {
		*retry = !s->attached && connect_retryable(rc);
		return rc;
	}
	flags = (s->o.flags & RVMIG_XSTREAM_F_RAW ? RVMIG_XMSG_F_RAW : 0) |
		(size_known ? RVMIG_XMSG_F_SIZE : 0) | (resume ? RVMIG_XMSG_F_RESUME : 0) |
		(s->o.digest == RVMIG_DIGEST_SHA256 ? RVMIG_XMSG_F_SHA256 : 0);
	if (resume && (rc = rvmig_xsend_xfer_id(s->xs, id)))
		return rvmig_xsend_fail(s->xs, rc, false, "cannot stat %s: %s", s->name,
					rvmig_strerror(rc));
	rvmig_xsend_msg(s->xs, m,
			rvmig_xmsg_encode_hello(m, sizeof(m), flags, size_known ? size : 0, id), 0);
	if (resume)
		resume_handshake(s);
	if (!rvmig_xsend_error(s->xs, NULL))
		rvmig_xsend_run(s->xs);
	rc = finish(s);
	*retry = rc && rvmig_xsend_link_failed(s->xs) && !s->answered && !xsender_stopped(s);
	if (rc && !*retry)
		rvmig_xsend_abort(s->xs);
	return rc;
}

/* 0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s, ... before retry n (1-based); false if
 * stopped meanwhile. */
static bool backoff(const struct rvmig_xsender *s, unsigned n)
{
	double d = BACKOFF_FIRST, end;

	for (unsigned i = 1; i < n && d < BACKOFF_MAX; i++)
		d *= 2;
	if (d > BACKOFF_MAX)
		d = BACKOFF_MAX;
	end = xsender_now() + d;
	while (!xsender_stopped(s) && xsender_now() < end) {
		double left = end - xsender_now();
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100000000 };

		if (left < 0.1)
			ts.tv_nsec = left > 0 ? (long)(left * 1e9) : 0;
		nanosleep(&ts, NULL);
	}
	return !xsender_stopped(s);
}

int rvmig_xsender_send(rvmig_xsender *s, const char *uri)
{
	bool retry;
	int rc;

	if (!uri || s->used || !s->xs || (s->err && !s->attached))
		return s->err ? s->err : -EINVAL;
	s->used = true;
	for (;;) {
		rc = xsender_settle(s, attempt(s, uri, &retry));
		if (!rc || !retry || !(s->o.flags & RVMIG_XSEND_F_RESUME))
			break;
		if (s->retries >= s->o.retries) {
			note(s, RVMIG_XSEND_NOTE_GAVE_UP, "%s; giving up after %u retries", s->errtxt,
			     s->retries);
			break;
		}
		s->retries++;
		note(s, RVMIG_XSEND_NOTE_RETRY, "%s; retry %u of %u", s->errtxt, s->retries,
		     s->o.retries);
		disconnect(s);
		if (!backoff(s, s->retries)) {
			s->err = 0;
			rc = xsender_fail(s, -EINTR, "interrupted by signal %d while waiting to retry",
					  xsender_stopped(s));
			break;
		}
	}
	xsender_publish(s, !rc);
	return rc;
}

bool rvmig_xsender_connected(const rvmig_xsender *s)
{
	return s->ever_connected;
}

int rvmig_xsender_error(const rvmig_xsender *s, const char **text)
{
	if (text)
		*text = s->errtxt;
	return s->err;
}

rvmig_xsend *rvmig_xsender_xsend(const rvmig_xsender *s)
{
	return s->xs;
}

rvmig_ep *rvmig_xsender_ep(const rvmig_xsender *s)
{
	return s->ep;
}

void rvmig_xsender_result(const rvmig_xsender *s, struct rvmig_xresult *r)
{
	struct rvmig_xresult v = { .size = sizeof(v) };
	rvmig_xstats *st;

	if (!r || r->size < sizeof(size_t))
		return;
	v.status = s->err;
	snprintf(v.text, sizeof(v.text), "%s", s->err ? s->errtxt : "");
	snprintf(v.peer, sizeof(v.peer), "%s", s->peer);
	snprintf(v.transport, sizeof(v.transport), "%s", s->transport);
	v.mode = s->mode;
	if (s->xs && !rvmig_xstats_create(&st)) {
		rvmig_xsend_stats(s->xs, st);
		v.bytes = rvmig_xstats_get(st, RVMIG_XSTAT_BYTES);
		rvmig_xstats_destroy(st);
	}
	v.peer_bytes = s->peer_bytes;
	v.verified = s->verified;
	v.digest_alg = s->o.digest;
	if (s->digest_valid)
		memcpy(v.digest, s->digest, RVMIG_DIGEST_LEN);
	v.resume_offset = s->sent_from;
	v.retries = s->retries;
	v.peer_version = s->peer_version;
	v.exit_status = s->exec && s->answered && s->peer_status >= 0 ? s->peer_status : -1;
	v.seconds = s->t1 > s->t0 && s->t0 > 0 ? s->t1 - s->t0 : 0;
	v.size = r->size;
	memcpy(r, &v, r->size < sizeof(v) ? r->size : sizeof(v));
}

int rvmig_xstream_send_fd(rvmig_ctx *ctx, const char *uri, int fd,
			  const struct rvmig_xsend_opts *opts, struct rvmig_xresult *res)
{
	rvmig_xsender *s;
	int rc = rvmig_xsender_create(ctx, fd, opts, &s);

	if (!rc)
		rc = rvmig_xsender_send(s, uri);
	if (s && res)
		rvmig_xsender_result(s, res);
	else if (res && res->size >= offsetof(struct rvmig_xresult, status) + sizeof(int))
		res->status = rc;
	rvmig_xsender_destroy(s);
	return rc;
}
