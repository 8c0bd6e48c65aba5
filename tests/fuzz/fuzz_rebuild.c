/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the receiver's rebuild path (rvmig_xrecv, rvmig/xstream.h)
 * through the calls rvmig-recv makes: what a peer sends (the first message,
 * bulk data at an offset, CTRL / ZERO / END messages through
 * rvmig_xmsg_decode()) in any order, with or without the verifying parser,
 * with a resume in between.
 *
 * Input: a config byte, then operations, each an opcode byte and its
 * operands (lengths little-endian, cut at the end of the input).  Checked
 * after every operation:
 *   - the receiver's offset is what reached the sink (written or zeroed), it
 *     never moves backwards, never forward past the size announced first
 *     (a later first message cannot move it, a resumed prefix cannot pass
 *     it), and not at all after an error;
 *   - an error is negative, has a text, and that text is printable ASCII
 *     (peer bytes escaped; the peer's name itself carries control bytes);
 *   - after a matching END the receiver's digest is the digest of exactly
 *     what the sink got (computed here independently).
 * Work per input is bounded: zero runs are given up after ZERO_BUDGET bytes
 * (rvmig_xrecv_drop_zeros(), as rvmig-recv does when its sink goes away),
 * and -rss_limit_mb catches unbounded allocation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig/xstream.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEEP_MAX (1u << 20)     /* sink bytes kept for the digest check */
#define ZERO_BUDGET (16u << 20) /* zeros delivered per input at most */

struct sink {
	uint8_t *keep;   /* the first KEEP_MAX bytes that reached the sink */
	uint64_t bytes;  /* bytes that reached the sink */
	uint64_t fail_at; /* a write past this fails with -ENOSPC */
};

struct in {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct in *in, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n && in->left; i++, in->left--, in->p++)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static const uint8_t *take_bytes(struct in *in, size_t *len)
{
	const uint8_t *p = in->p;

	if (*len > in->left)
		*len = in->left;
	in->p += *len;
	in->left -= *len;
	return p;
}

static void keep(struct sink *s, const void *data, uint64_t len)
{
	if (s->bytes < KEEP_MAX) {
		uint64_t n = len < KEEP_MAX - s->bytes ? len : KEEP_MAX - s->bytes;

		if (data)
			memcpy(s->keep + s->bytes, data, n);
		else
			memset(s->keep + s->bytes, 0, n);
	}
	s->bytes += len;
}

static int sink_write(void *arg, const void *data, size_t len)
{
	struct sink *s = arg;

	if (s->bytes + len > s->fail_at)
		return -ENOSPC;
	keep(s, data, len);
	return 0;
}

static int sink_zero(void *arg, uint64_t len)
{
	struct sink *s = arg;

	if (s->bytes + len > s->fail_at)
		return -ENOSPC;
	keep(s, NULL, len);
	return 0;
}

static void check_text(const char *t)
{
	char shown[1200];

	if (!t || !t[0])
		abort();
	for (const char *c = t; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) {
			rvmig_text_escape(shown, sizeof(shown), t, strlen(t));
			fprintf(stderr, "fuzz_rebuild: error text with a raw byte 0x%02x: %s\n",
				(unsigned char)*c, shown);
			abort();
		}
}

/* A message as a peer would send it: decoded first, as rvmig-recv does. */
static void msg(rvmig_xrecv *r, const uint8_t *buf, size_t len, uint64_t off)
{
	struct rvmig_xmsg m;
	const char *why = NULL;

	if (rvmig_xmsg_decode(buf, len, &m, &why)) {
		if (!why)
			abort();
		return;
	}
	if (rvmig_xrecv_msg(r, &m, off) != (m.tag == RVMIG_XMSG_CTRL || m.tag == RVMIG_XMSG_ZERO ||
					    m.tag == RVMIG_XMSG_END))
		abort();
}

/* An END that matches what the sink got (a fuzzer cannot guess a digest). */
static void good_end(rvmig_xrecv *r, const struct sink *s)
{
	uint8_t d[RVMIG_DIGEST_LEN], buf[128];
	size_t n;

	if (s->bytes > KEEP_MAX ||
	    rvmig_digest_buf(rvmig_xrecv_digest_alg(r), s->keep, s->bytes, d))
		return;
	n = rvmig_xmsg_encode_end(buf, sizeof(buf), s->bytes, d, 0, 0);
	msg(r, buf, n, rvmig_xrecv_offset(r));
}

/* The invariants of the comment at the top, after one operation. */
static void check(rvmig_xrecv *r, const struct sink *s, uint64_t *last_off, int *last_err,
		  uint64_t limit)
{
	const char *text;
	int err = rvmig_xrecv_error(r, &text);
	uint64_t off = rvmig_xrecv_offset(r);

	if (off != s->bytes || off < *last_off || (off > *last_off && off > limit) ||
	    (*last_err && off != *last_off) || err > 0 || (err && text[0] == 0)) {
		fprintf(stderr,
			"fuzz_rebuild: offset %llu (before: %llu), sink %llu, limit %llu, error %d "
			"(before: %d): %s\n",
			(unsigned long long)off, (unsigned long long)*last_off,
			(unsigned long long)s->bytes, (unsigned long long)limit, err, *last_err, text);
		abort();
	}
	if (err)
		check_text(text);
	if (rvmig_xrecv_done(r) && !err && s->bytes <= KEEP_MAX) {
		uint8_t want[RVMIG_DIGEST_LEN], got[RVMIG_DIGEST_LEN];

		if (rvmig_digest_buf(rvmig_xrecv_digest_alg(r), s->keep, s->bytes, want) ||
		    rvmig_xrecv_digest(r, false, got) || memcmp(want, got, sizeof(want)))
			abort();
	}
	*last_off = off;
	*last_err = err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t keepbuf[KEEP_MAX];
	struct sink s = { .keep = keepbuf, .fail_at = UINT64_MAX };
	struct rvmig_xrecv_sink sk = { sink_write, sink_zero, &s, "the fuzzer's sink" };
	struct rvmig_xrecv_attr a = { .size = sizeof(a), .sink = &sk,
				      .peer = "10.0.0.2:7471\n\x1b[1;32mrvmig-recv: received" };
	struct in in = { data, size };
	uint64_t limit = RVMIG_XRECV_NO_LIMIT, last_off = 0, zeros = 0, want;
	bool announced = false; /* limit is the first length since the last reset */
	int last_err = 0;
	rvmig_xrecv *r;
	uint8_t cfg;

	if (size < 1)
		return 0;
	/* Config: bit 0 the sink has no zero() (zeros are written), bit 1 the
	 * sink fails (ENOSPC) after the u16 that follows, in 64-byte units. */
	cfg = (uint8_t)take(&in, 1);
	if (cfg & 1)
		sk.zero = NULL;
	if (cfg & 2)
		s.fail_at = take(&in, 2) * 64;
	if (rvmig_xrecv_create(&a, &r))
		return 0;
	while (in.left) {
		uint8_t op = (uint8_t)take(&in, 1);
		uint64_t off = rvmig_xrecv_offset(r);
		size_t len;
		const uint8_t *p;

		/* Bit 7 of the opcode: the piece claims another offset. */
		if (op & 0x80)
			off += (int8_t)take(&in, 1);
		switch (op & 0x0f) {
		case 0: /* the first message: raw flag, announced size or none */
			want = op & 0x10 ? take(&in, 3) : RVMIG_XRECV_NO_LIMIT;
			if (rvmig_xrecv_begin(r, op & 0x20, want) == -EALREADY && !rvmig_xrecv_started(r))
				abort();
			if (!announced)
				limit = want;
			announced = true;
			break;
		case 1: /* the verifying parser, as rvmig-recv makes it for Xen streams */
			if (rvmig_xrecv_verify(r) || !rvmig_xrecv_parser(r))
				abort();
			break;
		case 2: /* bulk data */
			len = (size_t)take(&in, 2);
			p = take_bytes(&in, &len);
			rvmig_xrecv_data(r, off, p, len);
			break;
		case 3: /* a message */
			len = (size_t)take(&in, 2);
			p = take_bytes(&in, &len);
			msg(r, p, len, off);
			break;
		case 4: /* a CTRL of the next bytes, encoded here */
		{
			uint8_t buf[RVMIG_XMSG_HDR_LEN + 255];

			len = (size_t)take(&in, 1);
			p = take_bytes(&in, &len);
			if (rvmig_xmsg_encode_payload_hdr(buf, sizeof(buf), RVMIG_XMSG_CTRL) !=
			    RVMIG_XMSG_HDR_LEN)
				abort();
			memcpy(buf + RVMIG_XMSG_HDR_LEN, p, len);
			msg(r, buf, RVMIG_XMSG_HDR_LEN + len, off);
			break;
		}
		case 5: /* a ZERO run of the u24 that follows, in pages */
		{
			uint8_t buf[32];
			size_t n = rvmig_xmsg_encode_zero(buf, sizeof(buf), take(&in, 3) * 4096);

			msg(r, buf, n, off);
			break;
		}
		case 6: /* a matching END */
			good_end(r, &s);
			break;
		case 7: /* end of input */
			if (rvmig_xrecv_finish_stream(r) && !rvmig_xrecv_error(r, NULL))
				abort();
			break;
		case 8: /* resume: the sink rewound to a prefix that is already there */
			len = (size_t)take(&in, 2);
			p = take_bytes(&in, &len);
			if (rvmig_xrecv_reset(r, op & 0x10 ? RVMIG_DIGEST_SHA256 : RVMIG_DIGEST_XXH128))
				break;
			announced = false; /* the length is kept until announced again */
			s.bytes = 0;
			/* More than the announced length is refused, not taken. */
			if (limit == RVMIG_XRECV_NO_LIMIT || len <= limit)
				keep(&s, p, len);
			rvmig_xrecv_prefix(r, p, len);
			if ((limit != RVMIG_XRECV_NO_LIMIT && len > limit) !=
			    (rvmig_xrecv_error(r, NULL) == -ERANGE))
				abort();
			last_off = 0;
			last_err = 0;
			break;
		default:
			break;
		}
		/* A zero run goes on in steps between turns of the event loop. */
		while (rvmig_xrecv_busy(r)) {
			if (zeros >= ZERO_BUDGET) {
				rvmig_xrecv_drop_zeros(r);
				break;
			}
			rvmig_xrecv_step(r);
			zeros += RVMIG_XRECV_ZERO_STEP;
		}
		check(r, &s, &last_off, &last_err, limit);
	}
	rvmig_xrecv_destroy(r);
	return 0;
}
