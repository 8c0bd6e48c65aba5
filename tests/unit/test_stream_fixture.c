/* SPDX-License-Identifier: MIT */
/*
 * Stream parser against a real `xl save` of a 96 MiB PV guest made with
 * Xen 4.17 (shared/fixtures/xl-save-pv-96M.bin.zst, unpacked by the ctest
 * fixture unit.fixture_unpack, see fixtures.cmake).  The layout asserted
 * here is the one documented in shared/fixtures/README.md.
 * A missing fixture is a failure, never a skip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include <rvmig.h>

#include "streamgen.h"

#define FIXTURE_SHA256 "f5d578e7f62d3486ea926f4bd034e3c88846adcaab0551e46d6b7145e140f357"
#define FIXTURE_SIZE 100873295u
#define FIXTURE_PFNS 0x6000u /* P2M_FRAMES covers pfn 0x0-0x5fff */

#ifndef RVMIG_BUILD_DIR
#define RVMIG_BUILD_DIR "."
#endif

static uint8_t *fx;
static size_t fx_len;

static void load(void)
{
	const char *path = getenv("RVMIG_FIXTURE_PV");
	char def[4096];
	FILE *f;
	long n;

	if (!path) {
		snprintf(def, sizeof(def), "%s/fixtures/xl-save-pv-96M.bin", RVMIG_BUILD_DIR);
		path = def;
	}
	f = fopen(path, "rb");
	if (!f)
		cr_assert_fail("fixture %s not found: run the tests with ctest (its fixture "
			       "unit.fixture_unpack unpacks ${RVMIG_FIXTURES_DIR}/xl-save-pv-96M.bin.zst) "
			       "or set RVMIG_FIXTURE_PV to the unpacked file", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_gt(n, 0);
	rewind(f);
	fx_len = (size_t)n;
	fx = malloc(fx_len);
	cr_assert_not_null(fx);
	cr_assert_eq(fread(fx, 1, fx_len, f), fx_len, "short read of %s", path);
	fclose(f);
}

static void unload(void)
{
	free(fx);
	fx = NULL;
}

TestSuite(stream_fixture, .init = load, .fini = unload, .timeout = 280);

Test(stream_fixture, sha256_matches_readme)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	cr_assert_eq(fx_len, FIXTURE_SIZE);
	cr_assert_eq(EVP_Digest(fx, fx_len, md, &mdlen, EVP_sha256(), NULL), 1);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	cr_assert_str_eq(hex, FIXTURE_SHA256);
}

struct seen {
	enum rvmig_stream_layer layer;
	uint32_t type;
};

/* Record sequence of the README: xl header, libxl LIBXC_CONTEXT, libxc
 * records, libxl END. */
static size_t expected_sequence(struct seen *s)
{
	size_t n = 0;

	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXL, RVMIG_LIBXL_REC_LIBXC_CONTEXT };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_PV_INFO };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_CPUID_POLICY };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_MSR_POLICY };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_STATIC_DATA_END };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_PV_P2M_FRAMES };
	for (int i = 0; i < 24; i++)
		s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_TSC_INFO };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_SHARED_INFO };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_PV_VCPU_BASIC };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_PV_VCPU_EXTENDED };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_X86_PV_VCPU_XSAVE };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_END };
	s[n++] = (struct seen){ RVMIG_STREAM_LAYER_LIBXL, RVMIG_LIBXL_REC_END };
	return n;
}

/* Feeds the fixture in 1 MiB pieces and checks layout, pfns and rebuild. */
Test(stream_fixture, layout_as_in_readme)
{
	struct seen want[64], got[64];
	size_t nwant = expected_sequence(want), ngot = 0;
	uint8_t *pfn_seen = calloc(FIXTURE_PFNS, 1);
	uint8_t *rebuilt = malloc(fx_len);
	size_t rlen = 0, pos = 0, dup = 0, outside = 0;
	uint8_t p2m[8];
	size_t p2m_have = 0;
	rvmig_stream_parser *p;
	struct rvmig_stream_item it = { .size = sizeof(it) };
	struct rvmig_stream_stats s = { .size = sizeof(s) };
	uint32_t v;
	int rc;

	cr_assert(pfn_seen && rebuilt);
	cr_assert_eq(rvmig_stream_parser_create(NULL, &p), 0);
	while (pos < fx_len) {
		size_t n = fx_len - pos < (1u << 20) ? fx_len - pos : (1u << 20);

		cr_assert_eq(rvmig_stream_feed(p, fx + pos, n), 0);
		pos += n;
		while ((rc = rvmig_stream_next(p, &it)) == 1) {
			const uint8_t *d = it.data;

			cr_assert_eq(it.offset, rlen);
			memcpy(rebuilt + rlen, d, it.len);
			rlen += it.len;
			if ((it.flags & RVMIG_STREAM_F_REC_BEGIN) && it.rec_type != RVMIG_STREAM_REC_NONE) {
				cr_assert_lt(ngot, 64, "more records than the README lists");
				got[ngot++] = (struct seen){ it.layer, it.rec_type };
			}
			if (it.rec_type == RVMIG_LIBXC_REC_X86_PV_P2M_FRAMES &&
			    it.layer == RVMIG_STREAM_LAYER_LIBXC) {
				/* body bytes 0..7 follow the 8-octet record header */
				for (size_t i = 0; i < it.len; i++) {
					uint64_t at = it.offset + i - it.rec_offset;

					if (at >= 8 && at < 16)
						p2m[p2m_have++] = d[i];
				}
			}
			if (it.kind == RVMIG_STREAM_ITEM_PAGE) {
				if (it.pfn >= FIXTURE_PFNS)
					outside++;
				else if (pfn_seen[it.pfn]++)
					dup++;
			}
		}
		cr_assert_eq(rc, 0, "%s", rvmig_stream_error(p));
	}
	cr_assert_eq(rvmig_stream_finish(p), 0, "%s", rvmig_stream_error(p));
	cr_assert_eq(rvmig_stream_get_stats(p, &s), 0);

	/* byte-exact */
	cr_assert_eq(rlen, fx_len);
	cr_assert(memcmp(rebuilt, fx, fx_len) == 0, "rebuilt stream differs from the fixture");

	/* record sequence */
	cr_assert_eq(ngot, nwant, "%zu records, README lists %zu", ngot, nwant);
	for (size_t i = 0; i < nwant; i++)
		cr_assert(got[i].layer == want[i].layer && got[i].type == want[i].type,
			  "record %zu is %s %s, README says %s %s", i,
			  rvmig_stream_layer_name(got[i].layer),
			  rvmig_stream_rec_name(got[i].layer, got[i].type),
			  rvmig_stream_layer_name(want[i].layer),
			  rvmig_stream_rec_name(want[i].layer, want[i].type));

	/* P2M_FRAMES covers pfn 0x0-0x5fff */
	cr_assert_eq(p2m_have, 8);
	memcpy(&v, p2m, 4);
	cr_assert_eq(v, 0);
	memcpy(&v, p2m + 4, 4);
	cr_assert_eq(v, FIXTURE_PFNS - 1);

	/* a suspended-domain save sends every pfn exactly once */
	cr_assert_eq(outside, 0);
	cr_assert_eq(dup, 0);
	for (uint32_t i = 0; i < FIXTURE_PFNS; i++)
		cr_assert_eq(pfn_seen[i], 1, "pfn %#x not sent", i);
	cr_assert_eq(s.pfns, FIXTURE_PFNS);
	cr_assert_eq(s.pages, FIXTURE_PFNS);
	cr_assert_eq(s.libxc_records[RVMIG_LIBXC_REC_PAGE_DATA], 24);
	cr_assert_eq(s.libxl_records[RVMIG_LIBXL_REC_END], 1);
	cr_assert_eq(s.libxl_records[RVMIG_LIBXL_REC_LIBXC_CONTEXT], 1);
	cr_assert_eq(s.libxc_version, 3);
	cr_assert_eq(s.guest_type, RVMIG_GUEST_X86_PV);
	cr_assert_eq(s.xen_major, 4);
	cr_assert_eq(s.xen_minor, 17);
	cr_assert_eq(s.xl_mandatory_flags, 3, "JSON | STREAMv2");
	cr_assert_gt(s.xl_config_len, 0);
	cr_assert_gt(s.zero_pages, 0);
	cr_assert_lt(s.zero_pages, s.pages);
	cr_assert_eq(s.control_bytes + s.page_bytes, fx_len);
	cr_assert(s.done);
	rvmig_stream_parser_destroy(p);
	free(rebuilt);
	free(pfn_seen);
}

static void replay(size_t chunk, size_t max_random, uint64_t seed)
{
	struct streamgen_replay r = { .chunk = chunk, .max_random = max_random, .seed = seed,
				      .finish = true };

	cr_assert_eq(streamgen_replay(fx, fx_len, &r), 0);
	cr_assert_eq(r.rc, 0, "chunk %zu random %zu: %s", chunk, max_random, r.error);
	cr_assert_str_empty(r.violation, "%s", r.violation);
	cr_assert_eq(r.rebuilt_len, fx_len);
	cr_assert(memcmp(r.rebuilt, fx, fx_len) == 0, "rebuilt differs (chunk %zu random %zu)",
		  chunk, max_random);
	cr_assert_eq(r.stats.pages, FIXTURE_PFNS);
	cr_assert_eq(r.page_items, FIXTURE_PFNS);
	streamgen_replay_free(&r);
}

Test(stream_fixture, round_trip_in_odd_chunks)
{
	replay(fx_len, 0, 0);
	replay(4097, 0, 0);   /* every page straddles two feeds */
	replay(0, 3 << 20, 1);
	replay(0, 70000, 2);
}

Test(stream_fixture, round_trip_one_byte_at_a_time)
{
	replay(1, 0, 0);
}

Test(stream_fixture, truncated_real_stream)
{
	struct streamgen_replay r = { .chunk = 1 << 16, .finish = true };

	/* 3 MB in: inside the page payloads of the first PAGE_DATA records */
	cr_assert_eq(streamgen_replay(fx, 3000000, &r), 0);
	cr_assert_eq(r.rc, -RVMIG_ESTREAM);
	cr_assert(strstr(r.error, "libxc: record PAGE_DATA (0x1)") && strstr(r.error, "truncated") &&
		  strstr(r.error, "offset 3000000"), "%s", r.error);
	cr_assert(memcmp(r.rebuilt, fx, r.rebuilt_len) == 0);
	streamgen_replay_free(&r);
}

/* The same stream without xl's header, as libxl writes it to a migration
 * fd: starts at 48 + optional_data_len. */
Test(stream_fixture, libxl_stream_without_xl_header)
{
	struct rvmig_stream_attr a = { .size = sizeof(a), .start = RVMIG_STREAM_LAYER_LIBXL };
	struct streamgen_replay r = { .attr = &a, .chunk = 1 << 16, .finish = true };
	uint32_t optlen;
	size_t from;

	memcpy(&optlen, fx + 44, 4);
	from = 48 + (size_t)optlen;
	cr_assert_eq(memcmp(fx + from, "LibxlFmt", 8), 0);
	cr_assert_eq(streamgen_replay(fx + from, fx_len - from, &r), 0);
	cr_assert_eq(r.rc, 0, "%s", r.error);
	cr_assert_str_empty(r.violation, "%s", r.violation);
	cr_assert_eq(r.rebuilt_len, fx_len - from);
	cr_assert(memcmp(r.rebuilt, fx + from, fx_len - from) == 0);
	cr_assert_eq(r.stats.pages, FIXTURE_PFNS);
	streamgen_replay_free(&r);
}
