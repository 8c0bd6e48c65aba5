/* SPDX-License-Identifier: MIT */
/* rebuild.c - ordered pieces -> byte sink with a digest (and parser). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xstream/rebuild.h"

static const uint8_t zeros[64 * 1024];

int rebuild_init(struct rebuild *r, const struct rebuild_sink *sink, const char *peer,
		 bool thread)
{
	memset(r, 0, sizeof(*r));
	r->sink = *sink;
	r->peer = peer;
	r->limit = REBUILD_NO_LIMIT;
	r->thread = thread;
	return hasher_new(&r->sha, RVMIG_DIGEST_XXH128, thread);
}

void rebuild_fini(struct rebuild *r)
{
	hasher_free(r->sha);
	r->sha = NULL;
}

void rebuild_fail(struct rebuild *r, int err, const char *fmt, ...)
{
	va_list ap;

	if (r->err)
		return;
	r->err = err ? err : -EIO;
	va_start(ap, fmt);
	vsnprintf(r->errtxt, sizeof(r->errtxt), fmt, ap);
	va_end(ap);
}

void rebuild_digest(struct rebuild *r)
{
	if (r->sha && !r->digested && hasher_final(r->sha, r->digest))
		rebuild_fail(r, -ENOMEM, "cannot finish the %s digest",
			     rvmig_digest_name(hasher_get_alg(r->sha)));
	r->digested = true;
}

int rebuild_peek_digest(struct rebuild *r, uint8_t out[RVMIG_DIGEST_LEN])
{
	return hasher_peek(r->sha, out);
}

enum rvmig_digest_alg rebuild_digest_alg(const struct rebuild *r)
{
	return hasher_get_alg(r->sha);
}

uint64_t rebuild_hashed(struct rebuild *r)
{
	return hasher_done(r->sha);
}

void rebuild_wait_hashed(struct rebuild *r, uint64_t upto)
{
	hasher_wait(r->sha, upto);
}

int rebuild_reset(struct rebuild *r, enum rvmig_digest_alg alg)
{
	int rc;

	if (r->digested) { /* the worker of a finished hash is gone */
		hasher_free(r->sha);
		r->sha = NULL;
		rc = hasher_new(&r->sha, alg, r->thread);
	} else {
		rc = hasher_reset(r->sha, alg);
	}
	r->done = r->digested = r->announced = false;
	r->off = r->data_bytes = r->ctrl_bytes = r->zero_bytes = r->zero_left = 0;
	return rc;
}

/* The counters, to the monitor's publisher (cheap: it writes a few times
 * a second at most). */
static void publish(struct rebuild *r)
{
	uint64_t pages = r->raw ? 0 : (r->data_bytes + r->zero_bytes) / RVMIG_STREAM_PAGE_SIZE;

	rvmig_pubxfer_progress(r->pub, r->off, pages,
			       r->raw ? 0 : r->zero_bytes / RVMIG_STREAM_PAGE_SIZE);
}

/* The memory rule of defer_release (see rebuild.h), after a delivery. */
static void hashed_unless_deferred(struct rebuild *r)
{
	if (!r->defer_release)
		hasher_wait(r->sha, hasher_fed(r->sha));
	publish(r);
}

/* Feeds delivered bytes to the verifying parser and drains its items. */
static void parse(struct rebuild *r, const void *data, size_t len)
{
	struct rvmig_stream_item it = { .size = sizeof(it) };
	int rc;

	if (!r->parser || r->err)
		return;
	rc = rvmig_stream_feed(r->parser, data, len);
	while (rc == 0)
		rc = rvmig_stream_next(r->parser, &it) == 1 ? 0 : -1;
	if (rvmig_stream_error(r->parser)[0])
		rebuild_fail(r, -RVMIG_ESTREAM,
			     "the received stream is not a valid Xen save stream: %s",
			     rvmig_stream_error(r->parser));
}

static bool at_offset(struct rebuild *r, const char *what, uint64_t off)
{
	if (r->err)
		return false;
	if (r->zero_left) {
		rebuild_fail(r, -EPROTO, "%s from %s at stream offset %llu while a zero run is "
			     "still being written (internal error)", what, r->peer,
			     (unsigned long long)off);
		return false;
	}
	if (!r->started) {
		rebuild_fail(r, -RVMIG_EBADMSG, "%s from %s before its first message", what,
			     r->peer);
		return false;
	}
	if (r->done) {
		rebuild_fail(r, -RVMIG_EBADMSG, "%s from %s after the END", what, r->peer);
		return false;
	}
	if (off != r->off) {
		rebuild_fail(r, -RVMIG_EBADMSG, "%s from %s for stream offset %llu, expected %llu",
			     what, r->peer, (unsigned long long)off, (unsigned long long)r->off);
		return false;
	}
	return true;
}

/* A piece of `len` bytes at r->off must end within the announced size. */
static bool within(struct rebuild *r, const char *what, uint64_t len)
{
	if (r->limit == REBUILD_NO_LIMIT || (r->off <= r->limit && len <= r->limit - r->off))
		return true;
	rebuild_fail(r, -RVMIG_EBADMSG,
		     "%s of %llu bytes from %s at stream offset %llu goes past the stream size "
		     "the sender announced (%llu bytes; %llu left): protocol error",
		     what, (unsigned long long)len, r->peer, (unsigned long long)r->off,
		     (unsigned long long)r->limit,
		     (unsigned long long)(r->off < r->limit ? r->limit - r->off : 0));
	return false;
}

static void deliver(struct rebuild *r, const void *data, size_t len)
{
	int rc = r->sink.write(r->sink.arg, data, len);

	if (rc) {
		rebuild_fail(r, rc, "cannot write %zu bytes at stream offset %llu to %s: %s", len,
			     (unsigned long long)r->off, r->sink.name, strerror(-rc));
		return;
	}
	hasher_feed(r->sha, data, len);
	parse(r, data, len);
	r->off += len;
}

static void deliver_zeros(struct rebuild *r, uint64_t len)
{
	int rc = 0;

	if (r->sink.zero) {
		rc = r->sink.zero(r->sink.arg, len);
		if (rc) {
			rebuild_fail(r, rc,
				     "cannot write %llu zero bytes at stream offset %llu to %s: %s",
				     (unsigned long long)len, (unsigned long long)r->off,
				     r->sink.name, strerror(-rc));
			return;
		}
	}
	if (r->sink.zero) {
		/* The sink holds all of them now, whatever the parser says. */
		hasher_feed_zero(r->sha, len);
		r->off += len;
	}
	while (len && !r->err) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);

		if (r->sink.zero)
			parse(r, zeros, n);
		else
			deliver(r, zeros, n);
		len -= n;
	}
}

void rebuild_prefix(struct rebuild *r, const void *data, size_t len)
{
	if (r->limit != REBUILD_NO_LIMIT && (r->off > r->limit || len > r->limit - r->off)) {
		rebuild_fail(r, -ERANGE,
			     "%zu bytes already held at stream offset %llu go past the stream size "
			     "%s announced (%llu bytes)",
			     len, (unsigned long long)r->off, r->peer, (unsigned long long)r->limit);
		return;
	}
	hasher_feed(r->sha, data, len);
	parse(r, data, len);
	r->off += len;
	hasher_wait(r->sha, hasher_fed(r->sha)); /* the caller reuses its buffer */
}

bool rebuild_busy(const struct rebuild *r)
{
	return r->zero_left && !r->err;
}

void rebuild_step(struct rebuild *r)
{
	uint64_t n = r->zero_left < REBUILD_ZERO_STEP ? r->zero_left : REBUILD_ZERO_STEP;
	uint64_t fed;

	if (!n || r->err) {
		r->zero_left = 0;
		return;
	}
	/* Whatever is queued for the digest must be hashed before the next
	 * wait for it (and before the hasher can stop): keep that bounded. */
	fed = hasher_fed(r->sha);
	if (fed - hasher_done(r->sha) > REBUILD_HASH_LAG)
		hasher_wait(r->sha, fed - REBUILD_HASH_LAG);
	deliver_zeros(r, n);
	r->zero_bytes += n;
	r->zero_left = r->err ? 0 : r->zero_left - n;
	publish(r);
}

static void on_zero(struct rebuild *r, const struct rvmig_xmsg *m)
{
	if (!within(r, "ZERO", m->n))
		return;
	if (m->n > RVMIG_XMSG_ZERO_MAX) {
		rebuild_fail(r, -RVMIG_EBADMSG,
			     "ZERO of %llu bytes from %s at stream offset %llu: more than any zero run "
			     "(at most %llu bytes): protocol error",
			     (unsigned long long)m->n, r->peer, (unsigned long long)r->off,
			     (unsigned long long)RVMIG_XMSG_ZERO_MAX);
		return;
	}
	r->zero_left = m->n;
	rebuild_step(r);
}

void rebuild_data(struct rebuild *r, uint64_t off, const void *data, size_t len)
{
	if (!at_offset(r, "data", off) || !within(r, "data", len))
		return;
	deliver(r, data, len);
	r->data_bytes += len;
	hashed_unless_deferred(r);
}

static void on_end(struct rebuild *r, const struct rvmig_xmsg *m)
{
	char a[65], b[65];

	if (m->n != r->off) {
		rebuild_fail(r, -RVMIG_EINTEGRITY, "%s says the stream is %llu bytes, %llu arrived",
			     r->peer, (unsigned long long)m->n, (unsigned long long)r->off);
		return;
	}
	if (r->limit != REBUILD_NO_LIMIT && m->n != r->limit) {
		rebuild_fail(r, -RVMIG_EINTEGRITY,
			     "%s ends the stream at %llu bytes, but announced %llu bytes", r->peer,
			     (unsigned long long)m->n, (unsigned long long)r->limit);
		return;
	}
	rebuild_digest(r);
	if (memcmp(r->digest, m->digest, 32)) {
		rvmig_digest_hex(hasher_get_alg(r->sha), m->digest, a);
		rvmig_digest_hex(hasher_get_alg(r->sha), r->digest, b);
		rebuild_fail(r, -RVMIG_EINTEGRITY,
			     "%s digest mismatch over %llu bytes from %s: sent %s, delivered %s",
			     rvmig_digest_name(hasher_get_alg(r->sha)), (unsigned long long)r->off,
			     r->peer, a, b);
		return;
	}
	r->done = true;
}

bool rebuild_msg(struct rebuild *r, const struct rvmig_xmsg *m, uint64_t off)
{
	switch (m->tag) {
	case RVMIG_XMSG_CTRL:
		if (at_offset(r, "control bytes", off) && within(r, "CTRL", m->len)) {
			deliver(r, m->data, m->len);
			r->ctrl_bytes += m->len;
			hashed_unless_deferred(r);
		}
		return true;
	case RVMIG_XMSG_ZERO:
		if (at_offset(r, "zero run", off))
			on_zero(r, m);
		return true;
	case RVMIG_XMSG_END:
		if (at_offset(r, "END", r->off))
			on_end(r, m);
		return true;
	default:
		return false;
	}
}

int rebuild_parser_create(struct rebuild *r)
{
	struct rvmig_stream_attr pa = { .size = sizeof(pa), .start = RVMIG_STREAM_LAYER_AUTO,
					.flags = RVMIG_STREAM_F_ALLOW_XL_GO };

	return rvmig_stream_parser_create(&pa, &r->parser);
}
