/* SPDX-License-Identifier: MIT */
/*
 * Stream parser against the project's real Xen 4.17 fixtures
 * (tests/fixtures, made by make-fixtures.sh with the real-Xen harness and
 * unpacked by the ctest fixture unit.fixture_unpack, see fixtures.cmake):
 *
 *   RVMIG_FIXTURE_PV       `xl save` of a 32 MiB 64-bit PV guest
 *   RVMIG_FIXTURE_PVH      `xl save` of a 32 MiB PVH guest
 *   RVMIG_FIXTURE_MIGRATE  the data pipe of a live `xl migrate` of a 32 MiB
 *                          PVH guest (pages re-sent by later iterations,
 *                          then xl's 44-byte "cleared to unpause" message)
 *
 * The layouts asserted here are the ones documented in
 * tests/fixtures/README.md.  A missing fixture is a failure, never a skip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "streamgen.h"

/* A run of consecutive records of one type, as the README lists them. */
struct run {
	enum rvmig_stream_layer layer;
	uint32_t type;
	uint32_t count;
};

struct fixture {
	const char *env;        /* variable naming the unpacked file */
	const char *what;
	const struct run *runs; /* record sequence, terminated by count 0 */
	uint64_t bytes;         /* file size */
	uint32_t guest_type;    /* RVMIG_GUEST_*: PVH streams are x86 HVM streams */
	uint64_t pfns;          /* pfn entries, with and without data */
	uint64_t pfn_limit;     /* pfns of the guest's address space: 0..limit-1 */
	uint64_t pages;         /* page payloads */
	uint64_t distinct;      /* distinct pfns with a payload */
	uint64_t trailer;       /* bytes after the final END */
	uint8_t *buf;
	size_t len;
	uint8_t p2m[8];         /* X86_PV_P2M_FRAMES body: start pfn, end pfn */
	size_t p2m_have;
};

#define XL(t, n) { RVMIG_STREAM_LAYER_LIBXL, RVMIG_LIBXL_REC_##t, n }
#define XC(t, n) { RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_##t, n }

static const struct run pv_runs[] = {
	XL(LIBXC_CONTEXT, 1), XC(X86_PV_INFO, 1), XC(X86_CPUID_POLICY, 1), XC(X86_MSR_POLICY, 1),
	XC(STATIC_DATA_END, 1), XC(X86_PV_P2M_FRAMES, 1), XC(PAGE_DATA, 8), XC(X86_TSC_INFO, 1),
	XC(SHARED_INFO, 1), XC(X86_PV_VCPU_BASIC, 1), XC(X86_PV_VCPU_EXTENDED, 1), XC(END, 1),
	XL(END, 1), { 0, 0, 0 },
};

static const struct run pvh_runs[] = {
	XL(LIBXC_CONTEXT, 1), XC(X86_CPUID_POLICY, 1), XC(X86_MSR_POLICY, 1), XC(STATIC_DATA_END, 1),
	XC(PAGE_DATA, 1020), XC(X86_TSC_INFO, 1), XC(HVM_CONTEXT, 1), XC(HVM_PARAMS, 1), XC(END, 1),
	XL(END, 1), { 0, 0, 0 },
};

static const struct run mig_runs[] = {
	XL(LIBXC_CONTEXT, 1), XC(X86_CPUID_POLICY, 1), XC(X86_MSR_POLICY, 1), XC(STATIC_DATA_END, 1),
	XC(PAGE_DATA, 1023), XC(X86_TSC_INFO, 1), XC(HVM_CONTEXT, 1), XC(HVM_PARAMS, 1), XC(END, 1),
	XL(END, 1), { 0, 0, 0 },
};

/* A 32 MiB guest is 8192 pfns; the PVH ones list their whole address space
 * (0x0-0xfefff) and send 8144 pages (the rest are holes). */
static struct fixture pv = {
	.env = "RVMIG_FIXTURE_PV", .what = "xl save, PV 32 MiB", .runs = pv_runs,
	.bytes = 33631963, .guest_type = RVMIG_GUEST_X86_PV,
	.pfns = 8192, .pfn_limit = 0x2000, .pages = 8192, .distinct = 8192, .trailer = 0,
};
static struct fixture pvh = {
	.env = "RVMIG_FIXTURE_PVH", .what = "xl save, PVH 32 MiB", .runs = pvh_runs,
	.bytes = 41734982, .guest_type = RVMIG_GUEST_X86_HVM,
	.pfns = 1044480, .pfn_limit = 0xff000, .pages = 8144, .distinct = 8144, .trailer = 0,
};
static struct fixture mig = {
	.env = "RVMIG_FIXTURE_MIGRATE", .what = "xl migrate, PVH 32 MiB", .runs = mig_runs,
	.bytes = 44115418, .guest_type = RVMIG_GUEST_X86_HVM,
	.pfns = 1045063, .pfn_limit = 0xff000, .pages = 8724, .distinct = 8144, .trailer = 44,
};

/* xl's message after the stream on a migration's data pipe (xl_migrate.c) */
static const char go_msg[] = "domain is yours, you are cleared to unpause";

static void load(struct fixture *fx)
{
	const char *path = getenv(fx->env);
	FILE *f;
	long n;

	if (fx->buf)
		return;
	cr_assert_not_null(path, "%s is not set: run the tests with ctest (its fixture "
			   "unit.fixture_unpack unpacks tests/fixtures/*.zst and sets it)", fx->env);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "fixture %s (%s) not found: run unit.fixture_unpack first", path, fx->env);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_eq((uint64_t)n, fx->bytes, "%s is %ld bytes, the README says %llu", path, n,
		     (unsigned long long)fx->bytes);
	rewind(f);
	fx->len = (size_t)n;
	fx->buf = malloc(fx->len);
	cr_assert_not_null(fx->buf);
	cr_assert_eq(fread(fx->buf, 1, fx->len, f), fx->len, "short read of %s", path);
	fclose(f);
}

static void unload(void)
{
	free(pv.buf);
	free(pvh.buf);
	free(mig.buf);
	pv.buf = pvh.buf = mig.buf = NULL;
}

TestSuite(stream_fixture, .fini = unload, .timeout = 280);

static const struct rvmig_stream_attr trailing = {
	.size = sizeof(trailing), .flags = RVMIG_STREAM_F_ALLOW_TRAILING,
};

/* Feeds the whole fixture in 1 MiB pieces and checks the record sequence,
 * the pages and a byte-exact rebuild. */
static void check_layout(struct fixture *fx)
{
	const struct rvmig_stream_attr *a = fx->trailer ? &trailing : NULL;
	uint8_t *rebuilt, *pfn_seen;
	size_t rlen = 0, pos = 0, run = 0, nrec = 0;
	uint64_t distinct = 0, cur = 0;
	rvmig_stream_parser *p;
	struct rvmig_stream_item it = { .size = sizeof(it) };
	rvmig_stream_snap *s;
	int rc;

	load(fx);
	rebuilt = malloc(fx->len);
	pfn_seen = calloc(fx->pfn_limit, 1);
	cr_assert(rebuilt && pfn_seen);
	cr_assert_eq(rvmig_stream_parser_create(a, &p), 0);
	while (pos < fx->len) {
		size_t n = fx->len - pos < (1u << 20) ? fx->len - pos : (1u << 20);

		cr_assert_eq(rvmig_stream_feed(p, fx->buf + pos, n), 0);
		pos += n;
		while ((rc = rvmig_stream_next(p, &it)) == 1) {
			cr_assert_eq(it.offset, rlen);
			memcpy(rebuilt + rlen, it.data, it.len);
			rlen += it.len;
			if ((it.flags & RVMIG_STREAM_F_REC_BEGIN) && it.rec_type != RVMIG_STREAM_REC_NONE) {
				const struct run *r = &fx->runs[run];

				nrec++;
				if (cur == r->count) {
					cr_assert_neq(r->count, 0);
					r = &fx->runs[++run];
					cur = 0;
				}
				cr_assert(r->count && it.layer == r->layer && it.rec_type == r->type,
					  "%s: record %zu is %s %s, README says %s %s", fx->what, nrec,
					  rvmig_stream_layer_name(it.layer),
					  rvmig_stream_rec_name(it.layer, it.rec_type),
					  rvmig_stream_layer_name(r->layer),
					  r->count ? rvmig_stream_rec_name(r->layer, r->type) : "(end)");
				cur++;
			}
			if (it.layer == RVMIG_STREAM_LAYER_LIBXC &&
			    it.rec_type == RVMIG_LIBXC_REC_X86_PV_P2M_FRAMES) {
				/* body octets 0..7 follow the 8-octet record header */
				for (size_t i = 0; i < it.len; i++) {
					uint64_t at = it.offset + i - it.rec_offset;

					if (at >= 8 && at < 16 && fx->p2m_have < 8)
						fx->p2m[fx->p2m_have++] = ((const uint8_t *)it.data)[i];
				}
			}
			if (it.kind == RVMIG_STREAM_ITEM_PAGE) {
				cr_assert_lt(it.pfn, fx->pfn_limit, "%s: pfn %#llx outside the guest", fx->what,
					     (unsigned long long)it.pfn);
				if (!pfn_seen[it.pfn]++)
					distinct++;
			}
		}
		cr_assert_eq(rc, 0, "%s: %s", fx->what, rvmig_stream_error(p));
	}
	cr_assert_eq(rvmig_stream_finish(p), 0, "%s: %s", fx->what, rvmig_stream_error(p));
	cr_assert_eq(rvmig_stream_snap_create(&s), 0);
	cr_assert_eq(rvmig_stream_snapshot(p, s), 0);
	cr_assert(fx->runs[run + 1].count == 0 && cur == fx->runs[run].count,
		  "%s: stream ends after %zu records, before the README's sequence does", fx->what,
		  nrec);

	cr_assert_eq(rlen, fx->len);
	cr_assert(memcmp(rebuilt, fx->buf, fx->len) == 0, "%s: rebuilt stream differs", fx->what);
#define S(which) rvmig_stream_snap_get(s, RVMIG_STREAM_STAT_##which)
	cr_assert_eq(S(PFNS), fx->pfns);
	cr_assert_eq(S(PAGES), fx->pages);
	cr_assert_eq(distinct, fx->distinct);
	cr_assert_eq(S(TRAILER_BYTES), fx->trailer);
	cr_assert_eq(S(LIBXC_VERSION), 3);
	cr_assert_eq(S(GUEST_TYPE), fx->guest_type);
	cr_assert_eq(S(XEN_MAJOR), 4);
	cr_assert_eq(S(XEN_MINOR), 17);
	cr_assert_eq(S(XL_MANDATORY_FLAGS), 3, "JSON | STREAMv2");
	cr_assert_gt(S(XL_CONFIG_LEN), 0);
	cr_assert_gt(S(ZERO_PAGES), 0);
	cr_assert_lt(S(ZERO_PAGES), S(PAGES));
	cr_assert_eq(S(CONTROL_BYTES) + S(PAGE_BYTES) + S(TRAILER_BYTES), fx->len);
	cr_assert_eq(S(RECORDS), nrec);
	cr_assert_eq(S(DONE), 1);
#undef S
	rvmig_stream_snap_destroy(s);
	rvmig_stream_parser_destroy(p);
	free(rebuilt);
	free(pfn_seen);
}

Test(stream_fixture, pv_save_layout_as_in_readme)
{
	uint32_t lo, hi;

	check_layout(&pv);
	/* X86_PV_P2M_FRAMES covers pfn 0x0-0x1fff */
	cr_assert_eq(pv.p2m_have, 8);
	memcpy(&lo, pv.p2m, 4);
	memcpy(&hi, pv.p2m + 4, 4);
	cr_assert_eq(lo, 0);
	cr_assert_eq(hi, pv.pfn_limit - 1);
}

Test(stream_fixture, pvh_save_layout_as_in_readme)
{
	check_layout(&pvh);
}

Test(stream_fixture, live_migration_layout_as_in_readme)
{
	check_layout(&mig);
	/* later iterations re-sent pages; the data pipe ends with xl's message */
	cr_assert_gt(mig.pages, mig.distinct);
	cr_assert_eq(memcmp(mig.buf + mig.len - sizeof(go_msg), go_msg, sizeof(go_msg)), 0,
		     "the migration stream does not end with xl's \"%s\"", go_msg);
}

/* Without ALLOW_TRAILING, xl's message after the stream is an error that
 * says where. */
Test(stream_fixture, live_migration_trailer_refused_by_default)
{
	struct streamgen_replay r = { .chunk = 1 << 16, .finish = true };
	char want[64];

	load(&mig);
	cr_assert_eq(streamgen_replay(mig.buf, mig.len, &r), 0);
	cr_assert_eq(r.rc, -RVMIG_ESTREAM);
	snprintf(want, sizeof(want), "offset %zu", mig.len - (size_t)mig.trailer);
	cr_assert(strstr(r.error, "44 byte(s) of trailing data") && strstr(r.error, want), "%s",
		  r.error);
	streamgen_replay_free(&r);
}

static void replay(struct fixture *fx, size_t chunk, size_t max_random, uint64_t seed)
{
	struct streamgen_replay r = { .attr = fx->trailer ? &trailing : NULL, .chunk = chunk,
				      .max_random = max_random, .seed = seed, .finish = true };

	load(fx);
	cr_assert_eq(streamgen_replay(fx->buf, fx->len, &r), 0);
	cr_assert_eq(r.rc, 0, "%s, chunk %zu random %zu: %s", fx->what, chunk, max_random, r.error);
	cr_assert_str_empty(r.violation, "%s", r.violation);
	cr_assert_eq(r.rebuilt_len, fx->len);
	cr_assert(memcmp(r.rebuilt, fx->buf, fx->len) == 0, "%s: rebuilt differs (chunk %zu random %zu)",
		  fx->what, chunk, max_random);
	cr_assert_eq(r.stats.pages, fx->pages);
	cr_assert_eq(r.page_items, fx->pages);
	streamgen_replay_free(&r);
}

Test(stream_fixture, round_trip_in_odd_chunks)
{
	struct fixture *all[] = { &pv, &pvh, &mig };

	for (size_t i = 0; i < 3; i++) {
		replay(all[i], all[i]->bytes, 0, 0);
		replay(all[i], 4097, 0, 0); /* every page straddles two feeds */
		replay(all[i], 0, 3 << 20, 1);
		replay(all[i], 0, 70000, 2);
	}
}

Test(stream_fixture, round_trip_one_byte_at_a_time)
{
	replay(&pv, 1, 0, 0);
	replay(&mig, 1, 0, 0);
}

Test(stream_fixture, truncated_real_stream)
{
	struct streamgen_replay r = { .chunk = 1 << 16, .finish = true };

	load(&pv);
	/* 3 MB in: inside the page payloads of the first PAGE_DATA records */
	cr_assert_eq(streamgen_replay(pv.buf, 3000000, &r), 0);
	cr_assert_eq(r.rc, -RVMIG_ESTREAM);
	cr_assert(strstr(r.error, "libxc: record PAGE_DATA (0x1)") && strstr(r.error, "truncated") &&
		  strstr(r.error, "offset 3000000"), "%s", r.error);
	cr_assert(memcmp(r.rebuilt, pv.buf, r.rebuilt_len) == 0);
	streamgen_replay_free(&r);
}

/* The same streams without xl's header, as libxl writes them to a
 * migration fd: they start at 48 + optional_data_len. */
static void without_xl_header(struct fixture *fx)
{
	struct rvmig_stream_attr a = { .size = sizeof(a), .start = RVMIG_STREAM_LAYER_LIBXL,
				       .flags = fx->trailer ? RVMIG_STREAM_F_ALLOW_TRAILING : 0 };
	struct streamgen_replay r = { .attr = &a, .chunk = 1 << 16, .finish = true };
	uint32_t optlen;
	size_t from;

	load(fx);
	memcpy(&optlen, fx->buf + 44, 4);
	from = 48 + (size_t)optlen;
	cr_assert_eq(memcmp(fx->buf + from, "LibxlFmt", 8), 0, "%s", fx->what);
	cr_assert_eq(streamgen_replay(fx->buf + from, fx->len - from, &r), 0);
	cr_assert_eq(r.rc, 0, "%s: %s", fx->what, r.error);
	cr_assert_str_empty(r.violation, "%s", r.violation);
	cr_assert_eq(r.rebuilt_len, fx->len - from);
	cr_assert(memcmp(r.rebuilt, fx->buf + from, fx->len - from) == 0);
	cr_assert_eq(r.stats.pages, fx->pages);
	streamgen_replay_free(&r);
}

Test(stream_fixture, libxl_stream_without_xl_header)
{
	without_xl_header(&pv);
	without_xl_header(&pvh);
	without_xl_header(&mig);
}
