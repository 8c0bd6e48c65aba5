/* SPDX-License-Identifier: MIT */
/*
 * xrecv.c - the receiver of rvmig/xstream.h: the rebuild (rebuild.h) with
 * its own copies of the names it prints and the verifying parser it owns.
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xstream/stats.h"
#include "xstream/xrecv.h"

/* The caller's name for the peer, escaped: it may be the peer's words. */
static void set_peer(struct rvmig_xrecv *r, const char *peer)
{
	if (!peer)
		peer = "?";
	rvmig_text_escape(r->peer, sizeof(r->peer), peer, strlen(peer));
}

int rvmig_xrecv_create(const struct rvmig_xrecv_attr *attr, rvmig_xrecv **out)
{
	struct rvmig_xrecv *r;
	struct rebuild_sink sink;

	*out = NULL;
	if (!attr || attr->size < offsetof(struct rvmig_xrecv_attr, on_msg) || !attr->sink ||
	    !attr->sink->write)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	/* The pump's callbacks came with RVMIG_0.13; an older attr has none. */
	memcpy(&r->attr, attr, attr->size < sizeof(r->attr) ? attr->size : sizeof(r->attr));
	r->attr.size = sizeof(r->attr);
	r->attr.sink = NULL; /* the caller's: copied into rb below */
	r->attr.peer = NULL;
	set_peer(r, attr->peer);
	snprintf(r->sink_name, sizeof(r->sink_name), "%s",
		 attr->sink->name ? attr->sink->name : "the output");
	sink = (struct rebuild_sink){ attr->sink->write, attr->sink->zero, attr->sink->arg,
				      r->sink_name };
	if (rebuild_init(&r->rb, &sink, r->peer, attr->flags & RVMIG_XSTREAM_F_DIGEST_THREAD)) {
		rebuild_fini(&r->rb);
		free(r);
		return -ENOMEM;
	}
	r->rb.defer_release = attr->flags & RVMIG_XSTREAM_F_DEFER_RELEASE;
	*out = r;
	return 0;
}

void rvmig_xrecv_destroy(rvmig_xrecv *r)
{
	if (!r)
		return;
	rvmig_xrecv_detach(r);
	free(r->held);
	rvmig_stream_parser_destroy(r->rb.parser);
	rebuild_fini(&r->rb);
	free(r);
}

void rvmig_xrecv_set_pub(rvmig_xrecv *r, rvmig_pubxfer *px)
{
	r->rb.pub = px;
}

void rvmig_xrecv_set_peer(rvmig_xrecv *r, const char *peer)
{
	set_peer(r, peer);
}

static const char *length_text(uint64_t limit, char *buf, size_t cap)
{
	if (limit == RVMIG_XRECV_NO_LIMIT)
		return "no length";
	snprintf(buf, cap, "%llu bytes", (unsigned long long)limit);
	return buf;
}

int rvmig_xrecv_begin(rvmig_xrecv *r, bool raw, uint64_t limit)
{
	bool again = r->rb.started;
	char was[32], now[32];

	/* The stream's length is announced once per connection (or
	 * rvmig_xrecv_reset()): another one would move the bound on what may
	 * still come. */
	if (r->rb.announced && limit != r->rb.limit) {
		rebuild_fail(&r->rb, -RVMIG_EBADMSG,
			     "a second first message from %s at stream offset %llu announces %s, "
			     "the first announced %s: protocol error",
			     r->peer, (unsigned long long)r->rb.off,
			     length_text(limit, now, sizeof(now)),
			     length_text(r->rb.limit, was, sizeof(was)));
		return -EALREADY;
	}
	r->rb.started = r->rb.announced = true;
	r->rb.raw = raw;
	r->rb.limit = limit;
	return again ? -EALREADY : 0;
}

bool rvmig_xrecv_started(const rvmig_xrecv *r)
{
	return r->rb.started;
}

int rvmig_xrecv_verify(rvmig_xrecv *r)
{
	if (r->rb.parser)
		return 0;
	return rebuild_parser_create(&r->rb);
}

rvmig_stream_parser *rvmig_xrecv_parser(const rvmig_xrecv *r)
{
	return r->rb.parser;
}

void rvmig_xrecv_data(rvmig_xrecv *r, uint64_t off, const void *data, size_t len)
{
	rebuild_data(&r->rb, off, data, len);
}

int rvmig_xrecv_msg(rvmig_xrecv *r, const struct rvmig_xmsg *m, uint64_t off)
{
	return rebuild_msg(&r->rb, m, off) ? 1 : 0;
}

bool rvmig_xrecv_busy(const rvmig_xrecv *r)
{
	return rebuild_busy(&r->rb);
}

void rvmig_xrecv_step(rvmig_xrecv *r)
{
	rebuild_step(&r->rb);
}

void rvmig_xrecv_drop_zeros(rvmig_xrecv *r)
{
	r->rb.zero_left = 0;
}

bool rvmig_xrecv_done(const rvmig_xrecv *r)
{
	return r->rb.done;
}

uint64_t rvmig_xrecv_offset(const rvmig_xrecv *r)
{
	return r->rb.off;
}

int rvmig_xrecv_finish_stream(rvmig_xrecv *r)
{
	if (!r->rb.parser || rvmig_stream_finish(r->rb.parser) >= 0)
		return 0;
	rebuild_fail(&r->rb, -RVMIG_ESTREAM, "the received stream is not a valid Xen save stream: %s",
		     rvmig_stream_error(r->rb.parser));
	return -RVMIG_ESTREAM;
}

int rvmig_xrecv_digest(rvmig_xrecv *r, bool end, uint8_t out[RVMIG_DIGEST_LEN])
{
	if (!r->rb.digested && !end) {
		memset(out, 0, RVMIG_DIGEST_LEN);
		return -EAGAIN;
	}
	rebuild_digest(&r->rb); /* fails the receiver with -ENOMEM if it must */
	memcpy(out, r->rb.digest, RVMIG_DIGEST_LEN);
	return r->rb.err == -ENOMEM ? -ENOMEM : 0;
}

int rvmig_xrecv_peek_digest(rvmig_xrecv *r, uint8_t out[RVMIG_DIGEST_LEN])
{
	return rebuild_peek_digest(&r->rb, out);
}

enum rvmig_digest_alg rvmig_xrecv_digest_alg(const rvmig_xrecv *r)
{
	return rebuild_digest_alg(&r->rb);
}

uint64_t rvmig_xrecv_hashed(rvmig_xrecv *r)
{
	return rebuild_hashed(&r->rb);
}

void rvmig_xrecv_wait_hashed(rvmig_xrecv *r, uint64_t upto)
{
	rebuild_wait_hashed(&r->rb, upto);
}

int rvmig_xrecv_reset(rvmig_xrecv *r, enum rvmig_digest_alg alg)
{
	rvmig_stream_parser_destroy(r->rb.parser);
	r->rb.parser = NULL;
	r->rb.err = 0;
	r->rb.errtxt[0] = 0;
	return rebuild_reset(&r->rb, alg);
}

void rvmig_xrecv_prefix(rvmig_xrecv *r, const void *data, size_t len)
{
	rebuild_prefix(&r->rb, data, len);
}

int rvmig_xrecv_fail(rvmig_xrecv *r, int err, const char *fmt, ...)
{
	va_list ap;
	char t[sizeof(r->rb.errtxt)];

	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	rebuild_fail(&r->rb, err, "%s", t);
	return err;
}

int rvmig_xrecv_error(const rvmig_xrecv *r, const char **text)
{
	if (text)
		*text = r->rb.errtxt;
	return r->rb.err;
}

void rvmig_xrecv_stats(const rvmig_xrecv *r, rvmig_xstats *st)
{
	xstats_clear(st);
	xstats_set(st, RVMIG_XSTAT_BYTES, r->rb.off);
	xstats_set(st, RVMIG_XSTAT_CONTROL_BYTES, r->rb.ctrl_bytes);
	xstats_set(st, RVMIG_XSTAT_DATA_BYTES, r->rb.data_bytes);
	xstats_set(st, RVMIG_XSTAT_ZERO_BYTES, r->rb.zero_bytes);
	xstats_set(st, RVMIG_XSTAT_PAGES, r->end_pages);
	xstats_set(st, RVMIG_XSTAT_ZERO_PAGES, r->end_zero_pages);
}
