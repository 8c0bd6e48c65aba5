/* SPDX-License-Identifier: MIT */
/*
 * Corrupted and truncated streams: each must be rejected with
 * -RVMIG_ESTREAM and a message naming the layer, the record (by name and
 * number) and the absolute offset.  Every case is replayed whole, one byte
 * at a time and in random chunks: the error text must be the same in all
 * three, and the items reported before the error must match the input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "streamgen.h"

static struct streamgen_buf base;
static struct streamgen_expect ex;

static void setup(void)
{
	struct streamgen_opts o = { .nr_pfns = 40, .batch = 16, .seed = 21 };

	memset(&base, 0, sizeof(base));
	cr_assert_eq(streamgen_build(&o, &base, &ex), 0);
}

static void teardown(void)
{
	streamgen_expect_free(&ex);
	streamgen_buf_free(&base);
}

static uint8_t *copy(void)
{
	uint8_t *c = malloc(base.len);

	cr_assert_not_null(c);
	memcpy(c, base.data, base.len);
	return c;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* x86: little-endian, as the stream */
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static const struct streamgen_rec *find(enum rvmig_stream_layer l, uint32_t type)
{
	const struct streamgen_rec *r = streamgen_find(&ex, l, type, 0);

	cr_assert_not_null(r, "generator wrote no %s record", rvmig_stream_rec_name(l, type));
	return r;
}

/* Rejects buf[0..len) in three chunkings; the message must contain every
 * NULL-terminated needle (printf-formatted pairs are built by the caller). */
static void expect_reject_attr(const uint8_t *buf, size_t len, const struct rvmig_stream_attr *attr,
			       const char *n1, const char *n2, const char *n3)
{
	const size_t chunk[3] = { len, 1, 0 };
	char first[512] = "";

	for (int i = 0; i < 3; i++) {
		struct streamgen_replay r = { .attr = attr, .chunk = chunk[i], .max_random = 97,
					      .seed = 5, .finish = true };
		const char *needles[3] = { n1, n2, n3 };

		cr_assert_eq(streamgen_replay(buf, len, &r), 0);
		cr_assert_eq(r.rc, -RVMIG_ESTREAM, "chunk %zu: rc %d (%s), want -RVMIG_ESTREAM",
			     chunk[i], r.rc, r.error);
		cr_assert_str_empty(r.violation, "%s", r.violation);
		cr_assert(memcmp(r.rebuilt, buf, r.rebuilt_len) == 0, "items before the error differ");
		for (int k = 0; k < 3; k++)
			if (needles[k])
				cr_assert(strstr(r.error, needles[k]) != NULL,
					  "error \"%s\" lacks \"%s\"", r.error, needles[k]);
		if (i == 0)
			snprintf(first, sizeof(first), "%s", r.error);
		else
			cr_assert_str_eq(r.error, first, "error text depends on chunking");
		streamgen_replay_free(&r);
	}
}

static void expect_reject(const uint8_t *buf, size_t len, const char *n1, const char *n2,
			  const char *n3)
{
	expect_reject_attr(buf, len, NULL, n1, n2, n3);
}

static const char *off(uint64_t o)
{
	static char b[4][40];
	static int i;

	i = (i + 1) % 4;
	snprintf(b[i], sizeof(b[i]), "offset %llu", (unsigned long long)o);
	return b[i];
}

TestSuite(stream_corrupt, .init = setup, .fini = teardown);

/* ---- truncation ---- */

Test(stream_corrupt, truncated_in_xl_header)
{
	expect_reject(base.data, 20, "xl header", "truncated", off(20));
	expect_reject(base.data, 0, "xl header", "truncated", off(0));
}

Test(stream_corrupt, truncated_in_xl_config)
{
	expect_reject(base.data, 60, "xl header", "optional data", "truncated");
}

Test(stream_corrupt, truncated_in_libxl_header)
{
	expect_reject(base.data, ex.libxl_offset + 5, "libxl: stream header", off(ex.libxl_offset),
		      "truncated");
}

Test(stream_corrupt, truncated_in_libxc_header)
{
	expect_reject(base.data, ex.libxc_offset + 30, "libxc: image/domain header",
		      off(ex.libxc_offset), "truncated");
}

Test(stream_corrupt, truncated_mid_record_header)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_PV_INFO);

	expect_reject(base.data, r->offset + 3, "libxc: record header", off(r->offset), "truncated");
}

Test(stream_corrupt, truncated_mid_record_body)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_CPUID_POLICY);

	expect_reject(base.data, r->offset + 20, "libxc: record X86_CPUID_POLICY (0x11)",
		      off(r->offset), "truncated");
}

Test(stream_corrupt, truncated_mid_pfn_array)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA);

	expect_reject(base.data, r->offset + 16 + 8 * 3 + 2, "libxc: record PAGE_DATA (0x1)",
		      off(r->offset), "pfn array");
}

Test(stream_corrupt, truncated_mid_page)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA);
	uint32_t count;

	memcpy(&count, base.data + r->offset + 8, 4);
	expect_reject(base.data, r->offset + 16 + 8 * count + 4096 + 100,
		      "libxc: record PAGE_DATA (0x1)", off(r->offset), "page payload");
}

Test(stream_corrupt, truncated_between_libxc_and_libxl_end)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_END);

	expect_reject(base.data, r->offset + 8, "libxl: record header", off(r->offset + 8),
		      "truncated");
}

Test(stream_corrupt, truncated_last_byte)
{
	expect_reject(base.data, base.len - 1, "libxl", "truncated", NULL);
}

/* ---- xl header ---- */

Test(stream_corrupt, bad_magic)
{
	uint8_t *c = copy();

	c[3] ^= 0x20;
	expect_reject(c, base.len, "xl header", "magic", off(0));
	free(c);
}

Test(stream_corrupt, bad_byte_order)
{
	uint8_t *c = copy();

	put32(c + 32, 0x04030201);
	expect_reject(c, base.len, "xl header", "byte-order", off(32));
	put32(c + 32, 0x01020305);
	expect_reject(c, base.len, "xl header", "byte-order", off(32));
	free(c);
}

Test(stream_corrupt, unknown_mandatory_xl_flag)
{
	uint8_t *c = copy();

	put32(c + 36, 3 | 1u << 5);
	expect_reject(c, base.len, "xl header", "mandatory flag(s) 0x20", off(36));
	put32(c + 36, 1); /* JSON but not STREAMv2: legacy stream */
	expect_reject(c, base.len, "xl header", "STREAMv2", off(36));
	free(c);
}

Test(stream_corrupt, xl_optional_data_over_cap)
{
	uint8_t *c = copy();
	struct rvmig_stream_attr a = { .size = sizeof(a), .max_xl_optdata_len = 64 };

	put32(c + 44, 0x7fffffff);
	expect_reject(c, base.len, "xl header", "exceeds the cap", off(44));
	free(c);
	/* the real config (> 64 octets) against a small configured cap */
	expect_reject_attr(base.data, base.len, &a, "xl header", "exceeds the cap of 64", off(44));
}

Test(stream_corrupt, xl_config_longer_than_optional_data)
{
	uint8_t *c = copy();
	uint32_t optlen;

	memcpy(&optlen, c + 44, 4);
	put32(c + 48, optlen - 3);
	expect_reject(c, base.len, "xl header", "config length", off(48));
	free(c);
}

/* ---- libxl ---- */

Test(stream_corrupt, libxl_bad_ident)
{
	uint8_t *c = copy();

	c[ex.libxl_offset] = 'l';
	expect_reject(c, base.len, "libxl: stream header", "ident", off(ex.libxl_offset));
	free(c);
}

Test(stream_corrupt, libxl_wrong_version)
{
	uint8_t *c = copy();

	c[ex.libxl_offset + 11] = 3;
	expect_reject(c, base.len, "libxl: stream header", "version 3", off(ex.libxl_offset + 8));
	c[ex.libxl_offset + 11] = 1;
	expect_reject(c, base.len, "libxl", "version 1", NULL);
	free(c);
}

Test(stream_corrupt, libxl_reserved_options_and_big_endian)
{
	uint8_t *c = copy();

	c[ex.libxl_offset + 15] = 4;
	expect_reject(c, base.len, "libxl: stream header", "reserved option", off(ex.libxl_offset + 12));
	c[ex.libxl_offset + 15] = 1;
	expect_reject(c, base.len, "libxl", "big-endian", NULL);
	free(c);
}

Test(stream_corrupt, libxl_unknown_mandatory_record)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXL, RVMIG_LIBXL_REC_LIBXC_CONTEXT);
	uint8_t *c = copy();

	put32(c + r->offset, 0x6);
	expect_reject(c, base.len, "libxl: record unknown mandatory (0x6)", off(r->offset),
		      "unknown mandatory record type");
	free(c);
}

Test(stream_corrupt, libxl_checkpoint_end_outside_checkpoint)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXL, RVMIG_LIBXL_REC_END);
	uint8_t *c = copy();

	put32(c + r->offset, RVMIG_LIBXL_REC_CHECKPOINT_END);
	expect_reject(c, base.len, "libxl: record CHECKPOINT_END (0x4)", off(r->offset),
		      "without a preceding");
	free(c);
}

Test(stream_corrupt, libxl_end_with_body)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXL, RVMIG_LIBXL_REC_END);
	uint8_t *c = copy();

	put32(c + r->offset + 4, 8);
	expect_reject(c, base.len, "libxl: record END (0x0)", "must be 0", off(r->offset));
	free(c);
}

/* ---- libxc headers ---- */

Test(stream_corrupt, libxc_bad_marker_and_id)
{
	uint8_t *c = copy();

	c[ex.libxc_offset + 2] = 0;
	expect_reject(c, base.len, "libxc: image/domain header", "marker", off(ex.libxc_offset));
	c[ex.libxc_offset + 2] = 0xff;
	c[ex.libxc_offset + 8] = 'Y';
	expect_reject(c, base.len, "libxc", "bad id", off(ex.libxc_offset + 8));
	free(c);
}

Test(stream_corrupt, libxc_wrong_versions)
{
	uint8_t *c = copy();

	c[ex.libxc_offset + 15] = 4;
	expect_reject(c, base.len, "libxc: image/domain header", "version 4", off(ex.libxc_offset + 12));
	c[ex.libxc_offset + 15] = 1;
	expect_reject(c, base.len, "libxc", "version 1", NULL);
	free(c);
}

Test(stream_corrupt, libxc_options_and_domain_header)
{
	uint8_t *c = copy();
	size_t d = ex.libxc_offset + 24;

	c[ex.libxc_offset + 17] = 1;
	expect_reject(c, base.len, "libxc", "big-endian", off(ex.libxc_offset + 16));
	c[ex.libxc_offset + 17] = 2;
	expect_reject(c, base.len, "libxc", "reserved option", NULL);
	c[ex.libxc_offset + 17] = 0;
	c[ex.libxc_offset + 21] = 1;
	expect_reject(c, base.len, "libxc", "reserved image header", NULL);
	c[ex.libxc_offset + 21] = 0;
	put32(c + d, 9);
	expect_reject(c, base.len, "libxc", "unknown domain type 9", off(d));
	put32(c + d, 1);
	c[d + 4] = 13;
	expect_reject(c, base.len, "libxc", "page_shift 13", off(d + 4));
	free(c);
}

/* ---- libxc records ---- */

Test(stream_corrupt, record_length_over_cap)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_PV_INFO);
	const struct streamgen_rec *s = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA);
	struct rvmig_stream_attr a = { .size = sizeof(a), .max_record_len = 4095 };
	uint8_t *c = copy();

	put32(c + r->offset + 4, (128u << 20) + 1);
	expect_reject(c, base.len, "libxc: record X86_PV_INFO (0x2)", off(r->offset),
		      "exceeds the cap of 134217728");
	put32(c + r->offset + 4, 0xffffffff);
	expect_reject(c, base.len, "libxc: record X86_PV_INFO (0x2)", "length 4294967295", NULL);
	free(c);
	expect_reject_attr(base.data, base.len, &a, "libxc: record PAGE_DATA (0x1)", off(s->offset),
			   "exceeds the cap of 4095");
}

Test(stream_corrupt, unknown_mandatory_libxc_record)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_MSR_POLICY);
	uint8_t *c = copy();

	put32(c + r->offset, 0x13);
	expect_reject(c, base.len, "libxc: record unknown mandatory (0x13)", off(r->offset),
		      "unknown mandatory record type");
	put32(c + r->offset, 0x7fffffff);
	expect_reject(c, base.len, "(0x7fffffff)", "unknown mandatory", NULL);
	/* with bit 31 set the same record is optional and passes */
	put32(c + r->offset, 0x80000013);
	{
		struct streamgen_replay rp = { .chunk = 1, .finish = true };

		cr_assert_eq(streamgen_replay(c, base.len, &rp), 0);
		cr_assert_eq(rp.rc, 0, "%s", rp.error);
		cr_assert_eq(rp.stats.libxc_optional_records, 1);
		cr_assert(memcmp(rp.rebuilt, c, base.len) == 0);
		streamgen_replay_free(&rp);
	}
	free(c);
}

Test(stream_corrupt, fixed_size_records)
{
	const struct streamgen_rec *t = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_TSC_INFO);
	const struct streamgen_rec *m = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_MSR_POLICY);
	const struct streamgen_rec *e = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_STATIC_DATA_END);
	uint8_t *c = copy();

	put32(c + t->offset + 4, 16);
	expect_reject(c, base.len, "libxc: record X86_TSC_INFO (0x8)", "must be 24", off(t->offset));
	free(c);
	c = copy();
	put32(c + m->offset + 4, 24);
	expect_reject(c, base.len, "libxc: record X86_MSR_POLICY (0x12)", "multiple of 16", NULL);
	free(c);
	c = copy();
	put32(c + e->offset + 4, 8);
	expect_reject(c, base.len, "libxc: record STATIC_DATA_END (0x10)", "must be 0", NULL);
	free(c);
}

Test(stream_corrupt, page_data_before_static_data_end)
{
	const struct streamgen_rec *e = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_STATIC_DATA_END);
	const struct streamgen_rec *p = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA);
	uint8_t *c = copy();

	put32(c + e->offset, 0x80000010); /* now an unknown optional record */
	expect_reject(c, base.len, "libxc: record PAGE_DATA (0x1)", off(p->offset),
		      "before STATIC_DATA_END");
	free(c);
}

Test(stream_corrupt, page_data_inconsistent_length)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA);
	uint8_t *c = copy();

	put32(c + r->offset + 4, r->length + 8);
	expect_reject(c, base.len, "libxc: record PAGE_DATA (0x1)", off(r->offset), "inconsistent");
	put32(c + r->offset + 4, r->length - 4096);
	expect_reject(c, base.len, "PAGE_DATA", "inconsistent", NULL);
	put32(c + r->offset + 4, 4);
	expect_reject(c, base.len, "PAGE_DATA", "below the minimum 8", NULL);
	free(c);
}

Test(stream_corrupt, page_data_count)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA);
	uint8_t *c = copy();

	put32(c + r->offset + 8, 0);
	expect_reject(c, base.len, "libxc: record PAGE_DATA (0x1)", "count is 0", off(r->offset));
	put32(c + r->offset + 8, 0x10000000);
	expect_reject(c, base.len, "PAGE_DATA", "too short for 268435456 pfns", NULL);
	free(c);
}

Test(stream_corrupt, page_data_reserved_field)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA);
	uint8_t *c = copy();

	put32(c + r->offset + 12, 1);
	expect_reject(c, base.len, "libxc: record PAGE_DATA (0x1)", "reserved field",
		      off(r->offset + 12));
	free(c);
}

Test(stream_corrupt, pfn_reserved_bits_and_type)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA);
	uint64_t e3 = r->offset + 16 + 3 * 8, v;
	uint8_t *c = copy();

	memcpy(&v, c + e3, 8);
	put64(c + e3, v | 1ull << 52);
	expect_reject(c, base.len, "libxc: record PAGE_DATA (0x1)", "pfn[3]", "reserved bits 52-59");
	expect_reject(c, base.len, off(e3), NULL, NULL);
	put64(c + e3, (v & ~(0xfull << 60)) | 5ull << 60);
	expect_reject(c, base.len, "PAGE_DATA", "unknown page type 0x5", off(e3));
	free(c);
}

Test(stream_corrupt, nonzero_padding)
{
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_PV_VCPU_XSAVE);
	uint8_t *c = copy();
	uint64_t pad = r->offset + 8 + r->length + 2;

	cr_assert_neq(r->length % 8, 0, "generator must write a padded XSAVE record");
	c[pad] = 0x5a;
	expect_reject(c, base.len, "libxc: record X86_PV_VCPU_XSAVE (0x6)", "padding", off(pad));
	free(c);
}

Test(stream_corrupt, second_static_data_end)
{
	/* the zero-length libxc END retyped: a second STATIC_DATA_END */
	const struct streamgen_rec *r = find(RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_END);
	uint8_t *c = copy();

	put32(c + r->offset, RVMIG_LIBXC_REC_STATIC_DATA_END);
	expect_reject(c, base.len, "libxc: record STATIC_DATA_END (0x10)", "second", off(r->offset));
	free(c);
}

/* Random byte flips, truncations and chunkings: the parser either accepts
 * (then the rebuild is exact) or rejects with -RVMIG_ESTREAM and a message,
 * never crashes (run under ASan/UBSan), and every item it reported before
 * an error matches the input. */
Test(stream_corrupt, random_mutations)
{
	uint64_t rng = 0x1234567;
	size_t accepted = 0, rejected = 0;

	for (int iter = 0; iter < 600; iter++) {
		uint8_t *c = copy();
		size_t len = base.len;
		int flips = 1 + (int)(rng % 4);
		struct streamgen_replay r = { .chunk = 0, .max_random = 1 + rng % 9000,
					      .seed = rng, .finish = true };

		for (int k = 0; k < flips; k++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			/* bias towards the headers and record headers, where
			 * the interesting checks are */
			size_t at = (k & 1) ? rng % len : rng % (ex.libxc_offset + 200);

			c[at] ^= (uint8_t)(1u << (rng >> 40) % 8);
		}
		if (iter % 5 == 0)
			len = (size_t)(rng % len);
		cr_assert_eq(streamgen_replay(c, len, &r), 0);
		cr_assert_str_empty(r.violation, "iter %d: %s", iter, r.violation);
		cr_assert(memcmp(r.rebuilt, c, r.rebuilt_len) == 0, "iter %d: items differ", iter);
		if (r.rc == 0) {
			cr_assert_eq(r.rebuilt_len, len);
			accepted++;
		} else {
			cr_assert_eq(r.rc, -RVMIG_ESTREAM, "iter %d: rc %d", iter, r.rc);
			cr_assert(strlen(r.error) > 20, "iter %d: no message", iter);
			rejected++;
		}
		streamgen_replay_free(&r);
		free(c);
	}
	cr_log_info("random mutations: %zu accepted, %zu rejected", accepted, rejected);
	cr_assert_gt(rejected, 0);
}
