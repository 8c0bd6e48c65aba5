/* SPDX-License-Identifier: MIT */
/*
 * Input auto-detection (rvmig_stream_detect(), attr.start
 * RVMIG_STREAM_LAYER_AUTO): an xl save file, a bare libxl v2 stream and a
 * bare libxc v2/v3 stream, generated (tests/unit/streamgen) and cut from the
 * real Xen fixtures (tests/fixtures, unpacked by unit.fixture_unpack), fed
 * whole and in pieces that split the first 8 octets; anything else refused
 * with a message that names the three formats.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "streamgen.h"

static const struct rvmig_stream_attr autodetect = {
	.size = sizeof(autodetect), .start = RVMIG_STREAM_LAYER_AUTO,
};

static const struct {
	const char *sig;
	enum rvmig_stream_layer layer;
} sigs[] = {
	{ "Xen saved domain, xl format\n \0 \r", RVMIG_STREAM_LAYER_XL },
	{ "LibxlFmt\0\0\0\2\0\0\0\0", RVMIG_STREAM_LAYER_LIBXL },
	{ "\xff\xff\xff\xff\xff\xff\xff\xff" "XENF", RVMIG_STREAM_LAYER_LIBXC },
};

Test(stream_detect, every_prefix_of_each_signature)
{
	enum rvmig_stream_layer l;

	for (size_t i = 0; i < 3; i++) {
		for (size_t n = 0; n < RVMIG_STREAM_DETECT_LEN; n++) {
			l = RVMIG_STREAM_LAYER_NONE;
			cr_assert_eq(rvmig_stream_detect(sigs[i].sig, n, &l), 0, "sig %zu, %zu octets", i, n);
			cr_assert_eq(l, RVMIG_STREAM_LAYER_NONE, "layer set before it is known");
		}
		for (size_t n = RVMIG_STREAM_DETECT_LEN; n <= 12; n++) {
			cr_assert_eq(rvmig_stream_detect(sigs[i].sig, n, &l), 1, "sig %zu, %zu octets", i, n);
			cr_assert_eq(l, sigs[i].layer);
		}
	}
}

Test(stream_detect, refused_at_the_first_octet_that_fits_none)
{
	enum rvmig_stream_layer l = RVMIG_STREAM_LAYER_NONE;
	uint8_t b[RVMIG_STREAM_DETECT_LEN];

	for (size_t i = 0; i < 3; i++) {
		for (size_t at = 0; at < RVMIG_STREAM_DETECT_LEN; at++) {
			memcpy(b, sigs[i].sig, sizeof(b));
			b[at] ^= 0x20;
			/* octets before `at` still fit; at `at` none does */
			cr_assert_eq(rvmig_stream_detect(b, at, &l), 0);
			cr_assert_eq(rvmig_stream_detect(b, at + 1, &l), -RVMIG_ESTREAM,
				     "sig %zu changed at %zu", i, at);
			cr_assert_eq(rvmig_stream_detect(b, sizeof(b), &l), -RVMIG_ESTREAM);
		}
	}
	cr_assert_eq(l, RVMIG_STREAM_LAYER_NONE);
	/* legacy (pre migration v2) libxc images begin with the p2m size */
	cr_assert_eq(rvmig_stream_detect("\x00\x20\x00\x00\x00\x00\x00\x00", 8, &l), -RVMIG_ESTREAM);
	cr_assert_eq(rvmig_stream_detect(NULL, 0, &l), 0);
	cr_assert_eq(rvmig_stream_detect(NULL, 1, &l), -EINVAL);
	cr_assert_eq(rvmig_stream_detect("LibxlFmt", 8, NULL), -EINVAL);
}

static void build(const struct streamgen_opts *o, struct streamgen_buf *b, struct streamgen_expect *e)
{
	memset(b, 0, sizeof(*b));
	memset(e, 0, sizeof(*e));
	cr_assert_eq(streamgen_build(o, b, e), 0);
}

/* Replays buf with AUTO in the given chunking and checks it parsed as
 * `layer`, byte for byte, with `pages` page items. */
static void auto_ok(const uint8_t *buf, size_t len, enum rvmig_stream_layer layer, uint64_t pages,
		    size_t chunk, size_t max_random, const char *what)
{
	struct streamgen_replay r = { .attr = &autodetect, .chunk = chunk, .max_random = max_random,
				      .seed = 5, .finish = true };

	cr_assert_eq(streamgen_replay(buf, len, &r), 0);
	cr_assert_eq(r.rc, 0, "%s, chunk %zu: %s", what, chunk, r.error);
	cr_assert_str_empty(r.violation, "%s, chunk %zu: %s", what, chunk, r.violation);
	cr_assert_eq(r.rebuilt_len, len);
	cr_assert(memcmp(r.rebuilt, buf, len) == 0, "%s: rebuilt differs", what);
	cr_assert_eq(r.start_layer, layer, "%s, chunk %zu: detected %s", what, chunk,
		     rvmig_stream_layer_name(r.start_layer));
	/* The first item is the detected layer's, unless the first 8 octets
	 * came in pieces: those are reported before the layer is known. */
	cr_assert_eq(r.first_layer, chunk && chunk < RVMIG_STREAM_DETECT_LEN ? RVMIG_STREAM_LAYER_AUTO
									    : layer,
		     "%s, chunk %zu: first item of layer %d", what, chunk, (int)r.first_layer);
	cr_assert_eq(r.stats.pages, pages, "%s", what);
	cr_assert_eq(r.page_items, pages, "%s", what);
	cr_assert(r.stats.done);
	streamgen_replay_free(&r);
}

static void auto_every_chunking(const uint8_t *buf, size_t len, enum rvmig_stream_layer layer,
				uint64_t pages, const char *what)
{
	auto_ok(buf, len, layer, pages, len, 0, what);
	auto_ok(buf, len, layer, pages, 1, 0, what);
	auto_ok(buf, len, layer, pages, 3, 0, what);
	auto_ok(buf, len, layer, pages, 7, 0, what);
	auto_ok(buf, len, layer, pages, 4097, 0, what);
	auto_ok(buf, len, layer, pages, 0, 20000, what);
}

Test(stream_detect, generated_xl_libxl_and_libxc_streams)
{
	struct streamgen_opts xo = { .nr_pfns = 300, .seed = 11, .libxc_version = 3 };
	struct streamgen_opts lo = { .nr_pfns = 300, .seed = 12, .no_xl_header = true,
				     .guest_type = RVMIG_GUEST_X86_HVM };
	struct streamgen_opts co = { .nr_pfns = 300, .seed = 13, .no_xl_header = true,
				     .libxc_version = 2 };
	struct streamgen_buf b;
	struct streamgen_expect e;
	const struct streamgen_rec *end;

	build(&xo, &b, &e);
	auto_every_chunking(b.data, b.len, RVMIG_STREAM_LAYER_XL, e.pages, "xl save");
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);

	build(&lo, &b, &e);
	cr_assert_eq(e.libxl_offset, 0);
	auto_every_chunking(b.data, b.len, RVMIG_STREAM_LAYER_LIBXL, e.pages, "bare libxl");
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);

	/* bare libxc: from its image header to its END record */
	build(&co, &b, &e);
	end = streamgen_find(&e, RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_END, 0);
	cr_assert_not_null(end);
	auto_every_chunking(b.data + e.libxc_offset, end->offset + 8 - e.libxc_offset,
			    RVMIG_STREAM_LAYER_LIBXC, e.pages, "bare libxc v2");
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

/* ---- the real fixtures ---- */

static uint8_t *load(const char *env, size_t *len)
{
	const char *path = getenv(env);
	uint8_t *buf;
	FILE *f;
	long n;

	cr_assert_not_null(path, "%s is not set: run the tests with ctest (its fixture "
			   "unit.fixture_unpack unpacks tests/fixtures/*.zst and sets it)", env);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "fixture %s (%s) not found", path, env);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_gt(n, 0);
	rewind(f);
	buf = malloc((size_t)n);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * The layers of an xl save (tests/fixtures/README.md): the xl header of
 * 48 + optional_data_len octets, the libxl stream to the end of the file,
 * within it (after the 16-octet libxl header) the LIBXC_CONTEXT record of 8
 * octets, the libxc stream, and the libxl END record (8 octets, the last).
 */
static void fixture_layers(const char *env, uint64_t pages)
{
	size_t len, libxl, libxc, libxc_len;
	uint32_t optlen;
	uint8_t *buf = load(env, &len);

	memcpy(&optlen, buf + 44, 4);
	libxl = 48 + (size_t)optlen;
	libxc = libxl + 16 + 8;
	libxc_len = len - 8 - libxc;
	cr_assert_eq(memcmp(buf + libxl, "LibxlFmt", 8), 0, "%s", env);
	cr_assert_eq(memcmp(buf + libxc, "\xff\xff\xff\xff\xff\xff\xff\xffXENF", 12), 0, "%s", env);
	/* libxc END (type 0, length 0) then libxl END, at the end of the file */
	cr_assert_eq(memcmp(buf + len - 16, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16), 0, "%s", env);

	auto_ok(buf, len, RVMIG_STREAM_LAYER_XL, pages, 1 << 20, 0, env);
	auto_ok(buf + libxl, len - libxl, RVMIG_STREAM_LAYER_LIBXL, pages, 1 << 20, 0, env);
	auto_ok(buf + libxc, libxc_len, RVMIG_STREAM_LAYER_LIBXC, pages, 1 << 20, 0, env);
	/* the first 8 octets split over feeds */
	auto_ok(buf + libxc, libxc_len, RVMIG_STREAM_LAYER_LIBXC, pages, 3, 0, env);
	auto_ok(buf + libxl, len - libxl, RVMIG_STREAM_LAYER_LIBXL, pages, 0, 9000, env);
	free(buf);
}

Test(stream_detect, real_pv_save_and_its_bare_layers, .timeout = 280)
{
	fixture_layers("RVMIG_FIXTURE_PV", 8192);
}

Test(stream_detect, real_pvh_save_and_its_bare_layers, .timeout = 280)
{
	fixture_layers("RVMIG_FIXTURE_PVH", 8144);
}

/* ---- refusals ---- */

static void expect_refused(const void *buf, size_t len, size_t chunk, const char *want1,
			   const char *want2, enum rvmig_stream_layer start)
{
	struct streamgen_replay r = { .attr = &autodetect, .chunk = chunk, .finish = true };

	cr_assert_eq(streamgen_replay(buf, len, &r), 0);
	cr_assert_eq(r.rc, -RVMIG_ESTREAM, "accepted (%zu octets, chunk %zu)", len, chunk);
	cr_assert(strstr(r.error, want1) && strstr(r.error, want2), "want \"%s\" and \"%s\" in: %s",
		  want1, want2, r.error);
	cr_assert_eq(r.start_layer, start, "%s", r.error);
	cr_assert_str_empty(r.violation, "%s", r.violation);
	streamgen_replay_free(&r);
}

Test(stream_detect, other_data_refused_naming_the_three_formats)
{
	static const char text[] = "Lorem ipsum dolor sit amet, consectetur adipiscing elit";
	static const char want[] = "input: start of the stream at offset 0: not a Xen save stream: "
				   "its first octets (4c 6f 72 65 6d 20 69 70) start neither an xl "
				   "header (\"Xen saved domain, xl format\"), a libxl v2 stream "
				   "(\"LibxlFmt\") nor a libxc v2/v3 image (marker ff ff ff ff ff ff "
				   "ff ff)";

	expect_refused(text, sizeof(text) - 1, sizeof(text) - 1, want, "", RVMIG_STREAM_LAYER_AUTO);
	/* fed octet by octet: refused at the first that fits none */
	expect_refused(text, sizeof(text) - 1, 1, "not a Xen save stream: its first octets (4c 6f) "
		       "start neither", "", RVMIG_STREAM_LAYER_AUTO);
	/* input that ends inside the first 8 octets */
	expect_refused("Xen s", 5, 2, "truncated", "first 8 octets", RVMIG_STREAM_LAYER_AUTO);
	expect_refused("", 0, 1, "truncated", "first 8 octets", RVMIG_STREAM_LAYER_AUTO);
}

/* Past the first 8 octets the detected layer's own checks apply. */
Test(stream_detect, a_broken_header_is_named_by_its_layer)
{
	static const char xl[48] = "Xen saved domain, xl formaT";
	static const char xc[40] = "\xff\xff\xff\xff\xff\xff\xff\xffXENX";
	static const char lx[16] = "LibxlFmt\0\0\0\3";

	expect_refused(xl, sizeof(xl), 5, "xl header: save header at offset 0", "bad magic",
		       RVMIG_STREAM_LAYER_XL);
	expect_refused(xc, sizeof(xc), 40, "libxc: image/domain header at offset 0", "bad id",
		       RVMIG_STREAM_LAYER_LIBXC);
	expect_refused(lx, sizeof(lx), 1, "libxl: stream header at offset 0", "unsupported version 3",
		       RVMIG_STREAM_LAYER_LIBXL);
}

Test(stream_detect, refused_as_soon_as_no_format_fits)
{
	rvmig_stream_parser *p;
	struct rvmig_stream_item it = { .size = sizeof(it) };

	cr_assert_eq(rvmig_stream_parser_create(&autodetect, &p), 0);
	cr_assert_eq(rvmig_stream_feed(p, "Li", 2), 0);
	cr_assert_eq(rvmig_stream_next(p, &it), 1);
	cr_assert_eq(it.layer, RVMIG_STREAM_LAYER_AUTO);
	cr_assert_eq(it.len, 2);
	cr_assert(it.flags & RVMIG_STREAM_F_REC_BEGIN);
	cr_assert_eq(rvmig_stream_next(p, &it), 0);
	cr_assert_eq(rvmig_stream_start_layer(p), RVMIG_STREAM_LAYER_AUTO);
	cr_assert_eq(rvmig_stream_feed(p, "nux", 3), 0);
	cr_assert_eq(rvmig_stream_next(p, &it), -RVMIG_ESTREAM);
	cr_assert(strstr(rvmig_stream_error(p), "its first octets (4c 69 6e 75 78)"), "%s",
		  rvmig_stream_error(p));
	cr_assert_eq(rvmig_stream_start_layer(p), RVMIG_STREAM_LAYER_AUTO);
	rvmig_stream_parser_destroy(p);
}

/* ---- xl migrate's go message after the stream ---- */

static const struct rvmig_stream_attr auto_go = {
	.size = sizeof(auto_go), .start = RVMIG_STREAM_LAYER_AUTO,
	.flags = RVMIG_STREAM_F_ALLOW_XL_GO,
};

/* The migration fixture ends with the go message: accepted as a 44-octet
 * trailer in any chunking, byte for byte. */
Test(stream_detect, real_migration_with_its_go_message, .timeout = 280)
{
	size_t len;
	uint8_t *buf = load("RVMIG_FIXTURE_MIGRATE", &len);
	size_t chunks[] = { 1 << 20, 5, 4097 };

	cr_assert_eq(memcmp(buf + len - RVMIG_STREAM_XL_GO_LEN, RVMIG_STREAM_XL_GO_MSG,
			    RVMIG_STREAM_XL_GO_LEN), 0);
	for (size_t i = 0; i < 3; i++) {
		struct streamgen_replay r = { .attr = &auto_go, .chunk = chunks[i], .finish = true };

		cr_assert_eq(streamgen_replay(buf, len, &r), 0);
		cr_assert_eq(r.rc, 0, "chunk %zu: %s", chunks[i], r.error);
		cr_assert_str_empty(r.violation, "%s", r.violation);
		cr_assert_eq(r.rebuilt_len, len);
		cr_assert(memcmp(r.rebuilt, buf, len) == 0);
		cr_assert_eq(r.stats.trailer_bytes, RVMIG_STREAM_XL_GO_LEN);
		cr_assert_eq(r.stats.pages, 8724);
		streamgen_replay_free(&r);
	}
	free(buf);
}

static void go_refused(const struct streamgen_buf *b, const void *tail, size_t tail_len,
		       size_t chunk, const char *want1, const char *want2)
{
	uint8_t *s = malloc(b->len + tail_len);
	struct streamgen_replay r = { .attr = &auto_go, .chunk = chunk, .finish = true };

	cr_assert_not_null(s);
	memcpy(s, b->data, b->len);
	memcpy(s + b->len, tail, tail_len);
	cr_assert_eq(streamgen_replay(s, b->len + tail_len, &r), 0);
	cr_assert_eq(r.rc, -RVMIG_ESTREAM, "accepted: %zu trailing octets", tail_len);
	cr_assert(strstr(r.error, want1) && strstr(r.error, want2), "want \"%s\", \"%s\" in: %s",
		  want1, want2, r.error);
	streamgen_replay_free(&r);
	free(s);
}

Test(stream_detect, only_the_go_message_may_follow)
{
	struct streamgen_opts o = { .nr_pfns = 40, .seed = 17 };
	struct streamgen_buf b;
	struct streamgen_expect e;
	char go2[2 * RVMIG_STREAM_XL_GO_LEN];
	char bad[RVMIG_STREAM_XL_GO_LEN];

	build(&o, &b, &e);
	/* nothing after the END: fine with the flag too */
	auto_ok(b.data, b.len, RVMIG_STREAM_LAYER_XL, e.pages, 7, 0, "xl save, go flag");
	/* a different message, cut where it differs */
	memcpy(bad, RVMIG_STREAM_XL_GO_MSG, sizeof(bad));
	bad[10] = 'Y';
	go_refused(&b, bad, sizeof(bad), 1 << 20, "is not xl migrate's go message", "octet 10 differs");
	go_refused(&b, bad, sizeof(bad), 3, "is not xl migrate's go message", "octet 10 differs");
	/* the message without its NUL, or cut: truncated */
	go_refused(&b, RVMIG_STREAM_XL_GO_MSG, RVMIG_STREAM_XL_GO_LEN - 1, 1 << 20, "truncated",
		   "go message (43 of 44 octets)");
	/* the message twice */
	memcpy(go2, RVMIG_STREAM_XL_GO_MSG, RVMIG_STREAM_XL_GO_LEN);
	memcpy(go2 + RVMIG_STREAM_XL_GO_LEN, RVMIG_STREAM_XL_GO_MSG, RVMIG_STREAM_XL_GO_LEN);
	go_refused(&b, go2, sizeof(go2), 1 << 20, "44 byte(s) of trailing data after xl migrate's go",
		   "");
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}
