/* SPDX-License-Identifier: MIT */
/*
 * hasher_test.c - the tools' threaded SHA-256 (tools/common/hasher.c) gives
 * exactly the one-shot SHA-256 of what was fed, threaded and inline, with
 * merged runs, zero runs, peeks and resets, and honours its memory rule.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/hasher.h"

static void oneshot(const uint8_t *p, size_t len, uint8_t out[32])
{
	unsigned int l;
	EVP_Digest(p, len, out, &l, EVP_sha256(), NULL);
}

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *b = malloc(len);
	cr_assert(b);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
	return b;
}

/* Feeds buf in pieces of pseudo-random sizes (some adjacent, so merged),
 * with the runs listed in `zero_runs` replaced by zeros fed as zero runs. */
static void feed_pieces(struct hasher *h, uint8_t *buf, size_t len, bool zero_runs)
{
	unsigned s = 7;
	size_t off = 0;
	while (off < len) {
		s = s * 1103515245u + 12345u;
		size_t n = 1 + (s >> 8) % 70000;
		if (n > len - off)
			n = len - off;
		if (zero_runs && (s >> 4) % 5 == 0) {
			memset(buf + off, 0, n);
			hasher_feed_zero(h, n);
		} else {
			hasher_feed(h, buf + off, n);
		}
		off += n;
	}
	cr_assert_eq(hasher_fed(h), len);
}

static void check(bool threaded, bool zero_runs)
{
	setenv("RVMIG_HASH_THREAD", threaded ? "1" : "0", 1);
	struct hasher *h;
	cr_assert_eq(hasher_new(&h), 0);
	cr_assert_eq(hasher_threaded(h), threaded);
	size_t len = 24u << 20;
	uint8_t *buf = pattern(len, 42), got[32], want[32];
	feed_pieces(h, buf, len, zero_runs);
	cr_assert_eq(hasher_final(h, got), 0);
	oneshot(buf, len, want);
	cr_assert_arr_eq(got, want, 32);
	hasher_free(h);
	free(buf);
}

Test(hasher, threaded) { check(true, false); }
Test(hasher, inline) { check(false, false); }
Test(hasher, threaded_zero_runs) { check(true, true); }
Test(hasher, inline_zero_runs) { check(false, true); }

Test(hasher, peek_reset_and_wait)
{
	setenv("RVMIG_HASH_THREAD", "1", 1);
	struct hasher *h;
	cr_assert_eq(hasher_new(&h), 0);
	size_t len = 8u << 20;
	uint8_t *buf = pattern(len, 9), got[32], want[32];

	uint64_t total = hasher_feed(h, buf, len / 2);
	cr_assert_eq(hasher_peek(h, got), 0);
	oneshot(buf, len / 2, want);
	cr_assert_arr_eq(got, want, 32, "peek after the first half");
	cr_assert_eq(hasher_done(h), total);

	/* The memory rule: once hasher_wait() returned, the fed bytes may be
	 * changed without changing the hash. */
	total = hasher_feed(h, buf + len / 2, len / 2);
	hasher_wait(h, total);
	cr_assert_geq(hasher_done(h), total);
	uint8_t saved = buf[len - 1];
	buf[len - 1] ^= 0xff;
	cr_assert_eq(hasher_peek(h, got), 0);
	buf[len - 1] = saved;
	oneshot(buf, len, want);
	cr_assert_arr_eq(got, want, 32, "peek over the whole buffer");

	cr_assert_eq(hasher_reset(h), 0);
	cr_assert_eq(hasher_fed(h), 0);
	hasher_feed(h, buf, 1000);
	cr_assert_eq(hasher_final(h, got), 0);
	oneshot(buf, 1000, want);
	cr_assert_arr_eq(got, want, 32, "after reset");
	hasher_free(h);
	free(buf);
}

Test(hasher, empty)
{
	struct hasher *h;
	uint8_t got[32], want[32];
	cr_assert_eq(hasher_new(&h), 0);
	hasher_feed(h, "", 0);
	cr_assert_eq(hasher_final(h, got), 0);
	oneshot((const uint8_t *)"", 0, want);
	cr_assert_arr_eq(got, want, 32);
	hasher_free(h);
}
