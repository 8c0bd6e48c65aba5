/* SPDX-License-Identifier: MIT */
/*
 * The receiving rebuild (librvmig/xstream/rebuild.h), shared by rvmig-recv
 * and rvmigd, tested alone, white-box:
 * pieces in post order become the byte stream in a sink, with the digest
 * and the verifying parser alongside; gaps, pieces past the announced size,
 * oversized zero runs and a wrong END are refused naming what, where and
 * the peer.  The stream is a real Xen stream from tests/unit/streamgen,
 * cut into CTRL, data and ZERO pieces as a sender would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "streamgen.h"
#include "xstream/msg.h"
#include "xstream/rebuild.h"

struct sink {
	uint8_t *buf;
	size_t len, cap;
	uint64_t zero_calls;
	int fail_at_write; /* nonzero: that write (1-based) fails with -ENOSPC */
	int writes;
};

static int sink_write(void *arg, const void *data, size_t len)
{
	struct sink *s = arg;

	if (s->fail_at_write && ++s->writes == s->fail_at_write)
		return -ENOSPC;
	cr_assert_leq(s->len + len, s->cap, "sink overflow");
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

static int sink_zero(void *arg, uint64_t len)
{
	struct sink *s = arg;

	cr_assert_leq(s->len + len, s->cap, "sink overflow");
	memset(s->buf + s->len, 0, len);
	s->len += len;
	s->zero_calls++;
	return 0;
}

static struct sink sk;
static struct rebuild rb;

static void setup(size_t cap, bool with_zero)
{
	struct rebuild_sink s = { .write = sink_write, .zero = with_zero ? sink_zero : NULL,
				  .arg = &sk, .name = "the test sink" };

	memset(&sk, 0, sizeof(sk));
	sk.cap = cap;
	sk.buf = malloc(cap ? cap : 1);
	cr_assert_not_null(sk.buf);
	cr_assert_eq(rebuild_init(&rb, &s, "peer 10.0.0.9:7471", true), 0);
	rb.started = true;
}

static void teardown(void)
{
	rvmig_stream_parser_destroy(rb.parser);
	rebuild_fini(&rb);
	free(sk.buf);
}

static void msg(const uint8_t *b, size_t n, uint64_t off)
{
	struct rvmig_xmsg m;
	const char *why = "";

	cr_assert_eq(rvmig_xmsg_decode(b, n, &m, &why), 0, "%s", why);
	cr_assert(rebuild_msg(&rb, &m, off));
	while (rebuild_busy(&rb))
		rebuild_step(&rb);
}

static void ctrl(uint64_t off, const void *data, size_t len)
{
	uint8_t b[8192];
	size_t h = app_encode_ctrl_hdr(b, sizeof(b));

	cr_assert_leq(h + len, sizeof(b));
	memcpy(b + h, data, len);
	msg(b, h + len, off);
}

static void zero(uint64_t off, uint64_t n)
{
	uint8_t b[16];

	msg(b, rvmig_xmsg_encode_zero(b, sizeof(b), n), off);
}

static void end(uint64_t total, const uint8_t d[32])
{
	uint8_t b[64];

	msg(b, rvmig_xmsg_encode_end(b, sizeof(b), total, d, 0, 0), total);
}

/* Sends buf as a sender would: all-zero 4 KiB-aligned blocks as ZERO, the
 * rest alternately as CTRL pieces and bulk data. */
static void send_stream(const uint8_t *buf, size_t len)
{
	static const uint8_t z[4096];
	size_t off = 0, k = 0;

	while (off < len) {
		size_t n = len - off < 4096 ? len - off : 4096;

		if (n == 4096 && !memcmp(buf + off, z, 4096))
			zero(off, n);
		else if (k++ % 2)
			ctrl(off, buf + off, n);
		else
			rebuild_data(&rb, off, buf + off, n);
		cr_assert_eq(rb.err, 0, "%s", rb.errtxt);
		off += n;
	}
}

Test(rebuild, xen_stream_in_pieces_verified, .fini = teardown)
{
	struct streamgen_opts o = { .nr_pfns = 600, .seed = 21, .batch = 128 };
	struct streamgen_buf b = { 0 };
	struct streamgen_expect e = { 0 };
	rvmig_stream_snap *st;
	uint8_t d[RVMIG_DIGEST_LEN];

	cr_assert_eq(streamgen_build(&o, &b, &e), 0);
	for (int with_zero = 1; with_zero >= 0; with_zero--) {
		setup(b.len, with_zero);
		cr_assert_eq(rebuild_parser_create(&rb), 0);
		send_stream(b.data, b.len);
		cr_assert_eq(rvmig_digest_buf(RVMIG_DIGEST_XXH128, b.data, b.len, d), 0);
		end(b.len, d);
		cr_assert_eq(rb.err, 0, "%s", rb.errtxt);
		cr_assert(rb.done);
		cr_assert_arr_eq(rb.digest, d, 32);
		cr_assert_eq(sk.len, b.len);
		cr_assert(memcmp(sk.buf, b.data, b.len) == 0, "rebuilt stream differs");
		cr_assert_eq(rvmig_stream_finish(rb.parser), 0, "%s", rvmig_stream_error(rb.parser));
		cr_assert_eq(rvmig_stream_snap_create(&st), 0);
		cr_assert_eq(rvmig_stream_snapshot(rb.parser, st), 0);
		cr_assert_eq(rvmig_stream_snap_get(st, RVMIG_STREAM_STAT_PAGES), e.pages);
		rvmig_stream_snap_destroy(st);
		cr_assert_gt(rb.zero_bytes, 0);
		cr_assert_eq(sk.zero_calls > 0, with_zero, "zeros go to the sink's zero() if it has one");
		cr_assert_eq(rb.data_bytes + rb.ctrl_bytes + rb.zero_bytes, b.len);
		teardown();
	}
	sk.buf = NULL;
	rb.parser = NULL;
	rb.sha = NULL;
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

Test(rebuild, gap_and_order_refused, .fini = teardown)
{
	setup(1 << 16, true);
	ctrl(0, "abcd", 4);
	rebuild_data(&rb, 8, "efgh", 4);
	cr_assert_eq(rb.err, -RVMIG_EBADMSG);
	cr_assert(strstr(rb.errtxt, "data from peer 10.0.0.9:7471 for stream offset 8, expected 4"),
		  "%s", rb.errtxt);
	/* the first error stays */
	ctrl(4, "efgh", 4);
	cr_assert(strstr(rb.errtxt, "offset 8"), "%s", rb.errtxt);
}

Test(rebuild, nothing_before_the_first_message, .fini = teardown)
{
	setup(64, true);
	rb.started = false;
	ctrl(0, "x", 1);
	cr_assert_eq(rb.err, -RVMIG_EBADMSG);
	cr_assert(strstr(rb.errtxt, "before its first message"), "%s", rb.errtxt);
}

Test(rebuild, pieces_past_the_announced_size, .fini = teardown)
{
	setup(1 << 16, true);
	rb.limit = 10;
	ctrl(0, "0123456", 7);
	zero(7, 4096);
	cr_assert_eq(rb.err, -RVMIG_EBADMSG);
	cr_assert(strstr(rb.errtxt, "ZERO of 4096 bytes from peer 10.0.0.9:7471 at stream offset 7 "
				    "goes past the stream size the sender announced (10 bytes; 3 left)"),
		  "%s", rb.errtxt);
	cr_assert_eq(sk.len, 7, "nothing of the refused piece reached the sink");
}

Test(rebuild, zero_run_over_the_cap, .fini = teardown)
{
	setup(64, true);
	zero(0, RVMIG_XMSG_ZERO_MAX + 4096);
	cr_assert_eq(rb.err, -RVMIG_EBADMSG);
	cr_assert(strstr(rb.errtxt, "more than any zero run"), "%s", rb.errtxt);
	cr_assert_eq(sk.len, 0);
}

Test(rebuild, zero_run_in_bounded_steps, .fini = teardown)
{
	struct rvmig_xmsg m;
	uint8_t b[16];
	const char *why;
	uint64_t n = 3 * (uint64_t)REBUILD_ZERO_STEP + 4096;
	int steps = 1;

	setup((size_t)n, true);
	cr_assert_eq(rvmig_xmsg_decode(b, rvmig_xmsg_encode_zero(b, sizeof(b), n), &m, &why), 0);
	cr_assert(rebuild_msg(&rb, &m, 0));
	cr_assert_eq(sk.len, REBUILD_ZERO_STEP, "the first step only");
	while (rebuild_busy(&rb)) {
		rebuild_step(&rb);
		steps++;
	}
	cr_assert_eq(steps, 4);
	cr_assert_eq(sk.len, n);
	cr_assert_eq(rb.off, n);
}

Test(rebuild, end_with_other_length_or_digest, .fini = teardown)
{
	uint8_t d[RVMIG_DIGEST_LEN];

	setup(64, true);
	ctrl(0, "0123456789", 10);
	cr_assert_eq(rvmig_digest_buf(RVMIG_DIGEST_XXH128, "0123456789", 10, d), 0);
	d[3] ^= 1;
	end(10, d);
	cr_assert_eq(rb.err, -RVMIG_EINTEGRITY);
	cr_assert(strstr(rb.errtxt, "xxh128 digest mismatch over 10 bytes from peer 10.0.0.9:7471"),
		  "%s", rb.errtxt);
	cr_assert(!rb.done);
	teardown();

	setup(64, true);
	ctrl(0, "0123456789", 10);
	{
		uint8_t b[64];
		struct rvmig_xmsg m;
		const char *why;

		cr_assert_eq(rvmig_xmsg_decode(b, rvmig_xmsg_encode_end(b, sizeof(b), 11, d, 0, 0), &m, &why), 0);
		rebuild_msg(&rb, &m, 10);
	}
	cr_assert_eq(rb.err, -RVMIG_EINTEGRITY);
	cr_assert(strstr(rb.errtxt, "says the stream is 11 bytes, 10 arrived"), "%s", rb.errtxt);
}

Test(rebuild, sink_error_names_offset_and_sink, .fini = teardown)
{
	setup(64, true);
	sk.fail_at_write = 2;
	ctrl(0, "abc", 3);
	ctrl(3, "def", 3);
	cr_assert_eq(rb.err, -ENOSPC);
	cr_assert(strstr(rb.errtxt, "cannot write 3 bytes at stream offset 3 to the test sink"), "%s",
		  rb.errtxt);
}

Test(rebuild, malformed_stream_refused_by_the_verifying_parser, .fini = teardown)
{
	setup(64, true);
	cr_assert_eq(rebuild_parser_create(&rb), 0);
	ctrl(0, "Lorem ipsum", 11);
	cr_assert_eq(rb.err, -RVMIG_ESTREAM);
	cr_assert(strstr(rb.errtxt, "the received stream is not a valid Xen save stream: input: "
				    "start of the stream at offset 0: not a Xen save stream"),
		  "%s", rb.errtxt);
}

/* A zero run the verifying parser refuses: the sink's zero() took all of
 * it, so the offset (bytes delivered) says so too (found by fuzz_rebuild:
 * the offset stopped at the first 64 KiB the parser refused). */
Test(rebuild, refused_zero_run_still_counted_as_delivered, .fini = teardown)
{
	setup(1u << 20, true);
	cr_assert_eq(rebuild_parser_create(&rb), 0);
	zero(0, 1u << 20);
	cr_assert_eq(rb.err, -RVMIG_ESTREAM);
	cr_assert(strstr(rb.errtxt, "not a Xen save stream"), "%s", rb.errtxt);
	cr_assert_eq(sk.len, 1u << 20);
	cr_assert_eq(rb.off, sk.len, "offset %llu, sink %zu", (unsigned long long)rb.off, sk.len);
}

Test(rebuild, other_tags_are_the_owners, .fini = teardown)
{
	uint8_t b[64];
	struct rvmig_xmsg m;
	const char *why;

	setup(64, true);
	cr_assert_eq(rvmig_xmsg_decode(b, rvmig_xmsg_encode_hello(b, sizeof(b), 0, 0, NULL), &m, &why), 0);
	cr_assert(!rebuild_msg(&rb, &m, 0));
	cr_assert_eq(rb.err, 0);
}
