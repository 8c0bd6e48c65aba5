/* SPDX-License-Identifier: MIT */
/*
 * Stream parser against streams written from the spec by streamgen: PV and
 * HVM guests, every page type, zero pages, live re-sends, VERIFY, checkpoint
 * rounds, unknown optional records, v2 and v3 libxc streams.  Each is fed in
 * many chunkings (1 byte, odd sizes, page-sized, random, whole) and must be
 * rebuilt byte-exact from the items with counters equal to what was written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "streamgen.h"

static void expect_counts(const struct streamgen_expect *e, const rvmig_stream_snap *s, size_t len)
{
	uint64_t records = e->libxl_optional + e->libxc_optional;

	for (uint32_t t = 0; t < RVMIG_LIBXL_REC_NTYPES; t++) {
		uint64_t n = rvmig_stream_snap_records(s, RVMIG_STREAM_LAYER_LIBXL, t);

		cr_expect_eq(n, e->libxl_records[t], "libxl %s: parsed %llu, wrote %llu",
			     rvmig_stream_rec_name(RVMIG_STREAM_LAYER_LIBXL, t), (unsigned long long)n,
			     (unsigned long long)e->libxl_records[t]);
		records += e->libxl_records[t];
	}
	for (uint32_t t = 0; t < RVMIG_LIBXC_REC_NTYPES; t++) {
		uint64_t n = rvmig_stream_snap_records(s, RVMIG_STREAM_LAYER_LIBXC, t);

		cr_expect_eq(n, e->libxc_records[t], "libxc %s: parsed %llu, wrote %llu",
			     rvmig_stream_rec_name(RVMIG_STREAM_LAYER_LIBXC, t), (unsigned long long)n,
			     (unsigned long long)e->libxc_records[t]);
		records += e->libxc_records[t];
	}
	cr_expect_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_RECORDS), records);
	cr_expect_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_LIBXL_OPTIONAL_RECORDS),
		     e->libxl_optional);
	cr_expect_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_LIBXC_OPTIONAL_RECORDS),
		     e->libxc_optional);
	for (uint32_t t = 0; t < 16; t++)
		cr_expect_eq(rvmig_stream_snap_pfns(s, t), e->pfns_by_type[t],
			     "pfns of type %s: %llu vs %llu", rvmig_stream_page_type_name(t),
			     (unsigned long long)rvmig_stream_snap_pfns(s, t),
			     (unsigned long long)e->pfns_by_type[t]);
	cr_expect_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_PFNS), e->pfns);
	cr_expect_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_PAGES), e->pages);
	cr_expect_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_ZERO_PAGES), e->zero_pages);
	cr_expect_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_BYTES), len);
	cr_expect_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_PAGE_BYTES),
		     rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_PAGES) * 4096);
	cr_expect_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_CONTROL_BYTES) +
			     rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_PAGE_BYTES) +
			     rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_TRAILER_BYTES),
		     len);
	cr_expect_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_DONE), 1);
}

/* Replays buf with the given chunking; asserts a clean, byte-exact parse. */
static void replay_ok(const struct streamgen_buf *b, const struct streamgen_expect *e,
		      const struct rvmig_stream_attr *attr, size_t chunk, size_t max_random,
		      uint64_t seed)
{
	struct streamgen_replay r = { .attr = attr, .chunk = chunk, .max_random = max_random,
				      .seed = seed, .check_pfn_tag = true, .finish = true };

	cr_assert_eq(streamgen_replay(b->data, b->len, &r), 0);
	cr_assert_eq(r.rc, 0, "chunk %zu/random %zu seed %llu: rc %d: %s", chunk, max_random,
		     (unsigned long long)seed, r.rc, r.error);
	cr_assert_str_empty(r.violation, "chunk %zu: %s", chunk, r.violation);
	cr_assert_eq(r.rebuilt_len, b->len);
	cr_assert(memcmp(r.rebuilt, b->data, b->len) == 0, "rebuilt stream differs (chunk %zu)", chunk);
	cr_assert_eq(r.page_items, e->pages);
	expect_counts(e, r.snap, b->len);
	streamgen_replay_free(&r);
}

static void build(const struct streamgen_opts *o, struct streamgen_buf *b, struct streamgen_expect *e)
{
	memset(b, 0, sizeof(*b));
	cr_assert_eq(streamgen_build(o, b, e), 0);
}

Test(stream_gen, pv_v3_every_chunking)
{
	struct streamgen_opts o = { .nr_pfns = 100, .batch = 16, .live_rounds = 2, .verify = true,
				    .unknown_optional = true, .seed = 11 };
	static const size_t chunks[] = { 1, 2, 3, 7, 8, 9, 4095, 4096, 4097, 65536, 0 };
	struct streamgen_buf b;
	struct streamgen_expect e;

	build(&o, &b, &e);
	/* the scenario really contains what it claims */
	for (uint32_t t = 0; t < 16; t++)
		if (rvmig_stream_page_has_data(t) || t >= RVMIG_PAGE_BROKEN)
			cr_assert_gt(e.pfns_by_type[t], 0, "no pfn of type %s", rvmig_stream_page_type_name(t));
	cr_assert_gt(e.zero_pages, 0);
	cr_assert_gt(e.libxc_records[RVMIG_LIBXC_REC_VERIFY], 0);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		replay_ok(&b, &e, NULL, chunks[i] ? chunks[i] : b.len, 0, 0);
	for (uint64_t seed = 1; seed <= 6; seed++)
		replay_ok(&b, &e, NULL, 0, seed < 4 ? 64 : 20000, seed);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

Test(stream_gen, hvm_v3)
{
	struct streamgen_opts o = { .guest_type = RVMIG_GUEST_X86_HVM, .nr_pfns = 300, .batch = 100,
				    .live_rounds = 3, .unknown_optional = true, .seed = 5 };
	struct streamgen_buf b;
	struct streamgen_expect e;

	build(&o, &b, &e);
	cr_assert_gt(e.libxc_records[RVMIG_LIBXC_REC_HVM_PARAMS], 0);
	cr_assert_gt(e.libxl_records[RVMIG_LIBXL_REC_EMULATOR_CONTEXT], 0);
	replay_ok(&b, &e, NULL, 1, 0, 0);
	replay_ok(&b, &e, NULL, b.len, 0, 0);
	for (uint64_t seed = 1; seed <= 4; seed++)
		replay_ok(&b, &e, NULL, 0, 9000, seed);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

Test(stream_gen, pv_v2_without_static_data_end)
{
	struct streamgen_opts o = { .libxc_version = 2, .nr_pfns = 200, .live_rounds = 1, .seed = 2 };
	struct streamgen_buf b;
	struct streamgen_expect e;
	struct streamgen_replay r = { .chunk = 777, .finish = true };

	build(&o, &b, &e);
	cr_assert_eq(e.libxc_records[RVMIG_LIBXC_REC_STATIC_DATA_END], 0);
	replay_ok(&b, &e, NULL, 333, 0, 0);
	cr_assert_eq(streamgen_replay(b.data, b.len, &r), 0);
	cr_assert_eq(r.stats.libxc_version, 2);
	cr_assert_eq(r.stats.guest_type, RVMIG_GUEST_X86_PV);
	cr_assert_eq(r.stats.xen_major, 4);
	cr_assert_eq(r.stats.xen_minor, 17);
	streamgen_replay_free(&r);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

Test(stream_gen, checkpoint_rounds)
{
	for (uint32_t gt = RVMIG_GUEST_X86_PV; gt <= RVMIG_GUEST_X86_HVM; gt++) {
		struct streamgen_opts o = { .guest_type = gt, .nr_pfns = 128, .batch = 32,
					    .live_rounds = 1, .checkpoints = 4,
					    .unknown_optional = true, .seed = 77 + gt };
		struct streamgen_buf b;
		struct streamgen_expect e;

		build(&o, &b, &e);
		cr_assert_eq(e.libxc_records[RVMIG_LIBXC_REC_CHECKPOINT], 4);
		cr_assert_eq(e.libxl_records[RVMIG_LIBXL_REC_CHECKPOINT_END], 4);
		replay_ok(&b, &e, NULL, 1, 0, 0);
		replay_ok(&b, &e, NULL, 4096, 0, 0);
		replay_ok(&b, &e, NULL, 0, 30000, 9);
		streamgen_expect_free(&e);
		streamgen_buf_free(&b);
	}
}

Test(stream_gen, large_batches)
{
	struct streamgen_opts o = { .nr_pfns = 3000, .batch = 1024, .live_rounds = 1, .seed = 3 };
	struct streamgen_buf b;
	struct streamgen_expect e;

	build(&o, &b, &e);
	replay_ok(&b, &e, NULL, 1 << 20, 0, 0);
	replay_ok(&b, &e, NULL, 0, 100000, 4);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

Test(stream_gen, start_at_libxl_header)
{
	struct streamgen_opts o = { .no_xl_header = true, .nr_pfns = 50, .seed = 8 };
	struct rvmig_stream_attr attr = { .size = sizeof(attr), .start = RVMIG_STREAM_LAYER_LIBXL };
	struct streamgen_buf b;
	struct streamgen_expect e;

	build(&o, &b, &e);
	cr_assert_eq(e.libxl_offset, 0);
	replay_ok(&b, &e, &attr, 1, 0, 0);
	replay_ok(&b, &e, &attr, 0, 5000, 3);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

Test(stream_gen, start_at_libxc_header)
{
	struct streamgen_opts o = { .no_xl_header = true, .nr_pfns = 50, .seed = 8 };
	struct rvmig_stream_attr attr = { .size = sizeof(attr), .start = RVMIG_STREAM_LAYER_LIBXC };
	struct streamgen_buf b;
	struct streamgen_expect e;
	const struct streamgen_rec *end;
	struct streamgen_replay r = { .attr = &attr, .chunk = 5, .finish = true };
	size_t from, len;

	build(&o, &b, &e);
	end = streamgen_find(&e, RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_END, 0);
	cr_assert_not_null(end);
	from = e.libxc_offset;
	len = end->offset + 8 - from;
	cr_assert_eq(streamgen_replay(b.data + from, len, &r), 0);
	cr_assert_eq(r.rc, 0, "%s", r.error);
	cr_assert_str_empty(r.violation, "%s", r.violation);
	cr_assert_eq(r.rebuilt_len, len);
	cr_assert(memcmp(r.rebuilt, b.data + from, len) == 0);
	cr_assert_eq(r.stats.pages, e.pages);
	cr_assert_eq(r.stats.libxc_records[RVMIG_LIBXC_REC_END], 1);
	cr_assert_eq(r.stats.libxl_records[RVMIG_LIBXL_REC_END], 0);
	cr_assert(r.stats.done);
	streamgen_replay_free(&r);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

/* The live-migration pipe carries a 44-byte xl message after the stream. */
Test(stream_gen, trailing_bytes)
{
	struct streamgen_opts o = { .nr_pfns = 20, .seed = 1 };
	struct rvmig_stream_attr attr = { .size = sizeof(attr), .flags = RVMIG_STREAM_F_ALLOW_TRAILING };
	struct streamgen_buf b;
	struct streamgen_expect e;
	struct streamgen_replay r = { .attr = &attr, .chunk = 10, .finish = true };
	size_t end;
	char msg[80];

	build(&o, &b, &e);
	end = b.len;
	memset(msg, 'x', 44);
	cr_assert_eq(streamgen_append(&b, msg, 44), 0);

	cr_assert_eq(streamgen_replay(b.data, b.len, &r), 0);
	cr_assert_eq(r.rc, 0, "%s", r.error);
	cr_assert_eq(r.stats.trailer_bytes, 44);
	cr_assert_eq(r.rebuilt_len, b.len);
	cr_assert(memcmp(r.rebuilt, b.data, b.len) == 0);
	streamgen_replay_free(&r);

	r.attr = NULL;
	cr_assert_eq(streamgen_replay(b.data, b.len, &r), 0);
	cr_assert_eq(r.rc, -RVMIG_ESTREAM);
	snprintf(msg, sizeof(msg), "offset %zu", end);
	cr_assert(strstr(r.error, "trailing") && strstr(r.error, msg), "%s", r.error);
	cr_assert_eq(r.rebuilt_len, end, "all stream bytes reported before the error");
	streamgen_replay_free(&r);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

/* Whole-buffer feeds never copy a page; page data points into the buffer. */
Test(stream_gen, zero_copy_pages)
{
	struct streamgen_opts o = { .nr_pfns = 64, .seed = 4 };
	struct streamgen_buf b;
	struct streamgen_expect e;
	rvmig_stream_parser *p;
	struct rvmig_stream_item it = { .size = sizeof(it) };
	rvmig_stream_snap *s;
	size_t pages = 0;
	int rc;

	build(&o, &b, &e);
	cr_assert_eq(rvmig_stream_parser_create(NULL, &p), 0);
	cr_assert_eq(rvmig_stream_feed(p, b.data, b.len), 0);
	cr_assert_eq(rvmig_stream_feed(p, b.data, b.len), -EBUSY);
	while ((rc = rvmig_stream_next(p, &it)) == 1) {
		const uint8_t *d = it.data;

		cr_assert(d >= b.data && d + it.len <= b.data + b.len, "item data outside the fed buffer");
		cr_assert_eq(d, b.data + it.offset);
		if (it.kind == RVMIG_STREAM_ITEM_PAGE) {
			cr_assert_eq(it.flags & RVMIG_STREAM_F_COPIED, 0);
			pages++;
		}
	}
	cr_assert_eq(rc, 0, "%s", rvmig_stream_error(p));
	cr_assert_eq(rvmig_stream_finish(p), 0);
	cr_assert(rvmig_stream_done(p));
	cr_assert_eq(rvmig_stream_snap_create(&s), 0);
	cr_assert_eq(rvmig_stream_snapshot(p, s), 0);
	cr_assert_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_PAGES_COPIED), 0);
	rvmig_stream_snap_destroy(s);
	cr_assert_eq(pages, e.pages);
	rvmig_stream_parser_destroy(p);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

/* A stats struct from an older caller (smaller size) is filled only up to
 * its size. */
Test(stream_gen, stats_respect_size)
{
	rvmig_stream_parser *p;
	unsigned char raw[sizeof(struct rvmig_stream_stats) + 16];
	struct rvmig_stream_stats *s = (struct rvmig_stream_stats *)raw;
	size_t small = offsetof(struct rvmig_stream_stats, pages);

	cr_assert_eq(rvmig_stream_parser_create(NULL, &p), 0);
	memset(raw, 0xab, sizeof(raw));
	s->size = small;
	cr_assert_eq(rvmig_stream_get_stats(p, s), 0);
	cr_assert_eq(s->size, small);
	cr_assert_eq(s->bytes, 0);
	for (size_t i = small; i < sizeof(raw); i++)
		cr_assert_eq(raw[i], 0xab, "byte %zu past size written", i);
	rvmig_stream_parser_destroy(p);
}

/* The snapshot: empty until filled, 0 for what it does not know, still
 * valid after the parser is gone; NULLs refused. */
Test(stream_gen, snapshot_accessors)
{
	struct streamgen_opts o = { .nr_pfns = 64, .seed = 5 };
	struct streamgen_buf b;
	struct streamgen_expect e;
	struct rvmig_stream_item it = { .size = sizeof(it) };
	rvmig_stream_parser *p;
	rvmig_stream_snap *s;

	build(&o, &b, &e);
	cr_assert_eq(rvmig_stream_snap_create(NULL), -EINVAL);
	cr_assert_eq(rvmig_stream_snap_create(&s), 0);
	cr_assert_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_BYTES), 0);
	cr_assert_eq(rvmig_stream_parser_create(NULL, &p), 0);
	cr_assert_eq(rvmig_stream_snapshot(NULL, s), -EINVAL);
	cr_assert_eq(rvmig_stream_snapshot(p, NULL), -EINVAL);
	cr_assert_eq(rvmig_stream_feed(p, b.data, b.len), 0);
	while (rvmig_stream_next(p, &it) == 1)
		;
	cr_assert_eq(rvmig_stream_finish(p), 0, "%s", rvmig_stream_error(p));
	cr_assert_eq(rvmig_stream_snapshot(p, s), 0);
	rvmig_stream_parser_destroy(p);
	cr_assert_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_BYTES), b.len);
	cr_assert_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_PAGES), e.pages);
	cr_assert_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_DONE), 1);
	cr_assert_eq(rvmig_stream_snap_records(s, RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_END), 1);
	cr_assert_eq(rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_NTYPES), 0);
	cr_assert_eq(rvmig_stream_snap_get(s, (enum rvmig_stream_stat)1000), 0);
	cr_assert_eq(rvmig_stream_snap_records(s, RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_NTYPES), 0);
	cr_assert_eq(rvmig_stream_snap_records(s, RVMIG_STREAM_LAYER_XL, 0), 0);
	cr_assert_eq(rvmig_stream_snap_pfns(s, 16), 0);
	cr_assert_eq(rvmig_stream_snap_get(NULL, RVMIG_STREAM_STAT_BYTES), 0);
	rvmig_stream_snap_destroy(s);
	rvmig_stream_snap_destroy(NULL);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

Test(stream_gen, attr_validation)
{
	rvmig_stream_parser *p = NULL;
	struct rvmig_stream_attr a = { .size = sizeof(a), .start = 7 };

	cr_assert_eq(rvmig_stream_parser_create(&a, &p), -EINVAL);
	cr_assert_null(p);
	a.start = RVMIG_STREAM_LAYER_XL;
	a.max_record_len = RVMIG_STREAM_REC_LENGTH_MAX + 1;
	cr_assert_eq(rvmig_stream_parser_create(&a, &p), -EINVAL);
	a.max_record_len = 0;
	a.flags = 0x100;
	cr_assert_eq(rvmig_stream_parser_create(&a, &p), -EINVAL);
	cr_assert_eq(rvmig_stream_parser_create(NULL, NULL), -EINVAL);
	cr_assert_eq(rvmig_stream_parser_create(NULL, &p), 0);
	cr_assert_eq(rvmig_stream_finish(p), -RVMIG_ESTREAM, "empty input is a truncated stream");
	cr_assert(strstr(rvmig_stream_error(p), "xl header") != NULL, "%s", rvmig_stream_error(p));
	rvmig_stream_parser_destroy(p);
}

/* Items: size 0 is refused; an older, smaller struct is filled only up to
 * its size. */
Test(stream_gen, item_respects_size)
{
	struct streamgen_opts o = { .nr_pfns = 8, .seed = 4 };
	struct streamgen_buf b;
	struct streamgen_expect e;
	rvmig_stream_parser *p;
	unsigned char raw[sizeof(struct rvmig_stream_item) + 16];
	struct rvmig_stream_item *it = (struct rvmig_stream_item *)raw;
	size_t small = offsetof(struct rvmig_stream_item, len) + sizeof(it->len);
	size_t got = 0;
	int rc;

	build(&o, &b, &e);
	cr_assert_eq(rvmig_stream_parser_create(NULL, &p), 0);
	cr_assert_eq(rvmig_stream_feed(p, b.data, b.len), 0);
	memset(raw, 0, sizeof(raw));
	cr_assert_eq(rvmig_stream_next(p, it), -EINVAL);
	it->size = small - 1;
	cr_assert_eq(rvmig_stream_next(p, it), -EINVAL);
	memset(raw, 0xab, sizeof(raw));
	it->size = small;
	while ((rc = rvmig_stream_next(p, it)) == 1) {
		cr_assert_eq(it->size, small);
		cr_assert_eq(it->offset, got);
		got += it->len;
		for (size_t i = small; i < sizeof(raw); i++)
			cr_assert_eq(raw[i], 0xab, "byte %zu past size written", i);
	}
	cr_assert_eq(rc, 0);
	cr_assert_eq(got, b.len);
	cr_assert_eq(rvmig_stream_finish(p), 0);
	rvmig_stream_parser_destroy(p);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
}

/* Hand-built stream from the low-level writers: a PAGE_DATA record whose
 * pfns carry no data at all, one with a single page, an empty HVM_CONTEXT
 * and an HVM_PARAMS record with zero entries. */
Test(stream_gen, records_without_page_data)
{
	struct streamgen_buf b = { 0 };
	uint64_t nodata[3] = { 0xfull << 60 | 7, 0xeull << 60 | 8, 0xdull << 60 | 9 };
	uint64_t one = 5;
	uint8_t page[4096], params[8] = { 0 };
	struct streamgen_replay r = { .chunk = 1, .finish = true };
	size_t end;

	memset(page, 0x11, sizeof(page));
	cr_assert_eq(streamgen_xl_header(&b, 3, 0, "{}", 2), 0);
	cr_assert_eq(streamgen_libxl_header(&b, 2, 0), 0);
	cr_assert_eq(streamgen_record(&b, RVMIG_LIBXL_REC_LIBXC_CONTEXT, NULL, 0), 0);
	cr_assert_eq(streamgen_libxc_header(&b, 3, RVMIG_GUEST_X86_HVM, 12, 4, 17), 0);
	cr_assert_eq(streamgen_record(&b, RVMIG_LIBXC_REC_STATIC_DATA_END, NULL, 0), 0);
	cr_assert_eq(streamgen_page_data(&b, 3, nodata, NULL), 0);
	cr_assert_eq(streamgen_page_data(&b, 1, &one, page), 0);
	cr_assert_eq(streamgen_record(&b, RVMIG_LIBXC_REC_HVM_PARAMS, params, 8), 0);
	cr_assert_eq(streamgen_record(&b, RVMIG_LIBXC_REC_HVM_CONTEXT, NULL, 0), 0);
	cr_assert_eq(streamgen_record(&b, RVMIG_LIBXC_REC_END, NULL, 0), 0);
	cr_assert_eq(streamgen_record(&b, RVMIG_LIBXL_REC_END, NULL, 0), 0);
	end = b.len;

	cr_assert_eq(streamgen_replay(b.data, b.len, &r), 0);
	cr_assert_eq(r.rc, 0, "%s", r.error);
	cr_assert_str_empty(r.violation, "%s", r.violation);
	cr_assert_eq(r.rebuilt_len, end);
	cr_assert(memcmp(r.rebuilt, b.data, end) == 0);
	cr_assert_eq(r.stats.pfns, 4);
	cr_assert_eq(r.stats.pages, 1);
	cr_assert_eq(r.stats.zero_pages, 0);
	cr_assert_eq(r.stats.pfns_by_type[RVMIG_PAGE_XTAB], 1);
	cr_assert_eq(r.stats.pfns_by_type[RVMIG_PAGE_XALLOC], 1);
	cr_assert_eq(r.stats.pfns_by_type[RVMIG_PAGE_BROKEN], 1);
	cr_assert_eq(r.stats.libxc_records[RVMIG_LIBXC_REC_PAGE_DATA], 2);
	cr_assert_eq(r.stats.guest_type, RVMIG_GUEST_X86_HVM);
	cr_assert_eq(r.stats.xl_config_len, 2);
	streamgen_replay_free(&r);

	/* HVM_PARAMS whose count disagrees with its length */
	params[0] = 1;
	b.len = 0;
	cr_assert_eq(streamgen_libxc_header(&b, 3, RVMIG_GUEST_X86_HVM, 12, 4, 17), 0);
	cr_assert_eq(streamgen_record(&b, RVMIG_LIBXC_REC_HVM_PARAMS, params, 8), 0);
	{
		struct rvmig_stream_attr a = { .size = sizeof(a), .start = RVMIG_STREAM_LAYER_LIBXC };

		r.attr = &a;
		cr_assert_eq(streamgen_replay(b.data, b.len, &r), 0);
		cr_assert_eq(r.rc, -RVMIG_ESTREAM);
		cr_assert(strstr(r.error, "libxc: record HVM_PARAMS (0xa) at offset 40") &&
			  strstr(r.error, "count 1 does not match length 8"), "%s", r.error);
		streamgen_replay_free(&r);
	}
	streamgen_buf_free(&b);
}
