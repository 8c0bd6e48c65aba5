/* SPDX-License-Identifier: MIT */
/*
 * hasher_test.c - the stream digest (librvmig/xstream/digest.c) gives
 * exactly the one-shot digest of what was fed (SHA-256 from OpenSSL,
 * XXH3-128 from libxxhash, zero-padded to the 32-octet slot), threaded and
 * inline, with merged runs, zero runs, peeks, resets and a change of
 * algorithm, and honours its memory rule.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "xstream/digest.h"

static enum rvmig_digest_alg alg_under_test = RVMIG_DIGEST_XXH128;

static void oneshot_alg(enum rvmig_digest_alg alg, const uint8_t *p, size_t len, uint8_t out[32])
{
	memset(out, 0, 32);
	if (alg == RVMIG_DIGEST_SHA256) {
		unsigned int l;
		EVP_Digest(p, len, out, &l, EVP_sha256(), NULL);
	} else {
		XXH128_canonical_t c;
		XXH128_canonicalFromHash(&c, XXH3_128bits(p, len));
		memcpy(out, c.digest, 16);
	}
}

static void oneshot(const uint8_t *p, size_t len, uint8_t out[32])
{
	oneshot_alg(alg_under_test, p, len, out);
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

static void check(enum rvmig_digest_alg alg, bool threaded, bool zero_runs)
{
	setenv("RVMIG_HASH_THREAD", threaded ? "1" : "0", 1);
	alg_under_test = alg;
	struct hasher *h;
	cr_assert_eq(hasher_new(&h, alg, true), 0);
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

Test(hasher, threaded) { check(RVMIG_DIGEST_XXH128, true, false); }
Test(hasher, inline) { check(RVMIG_DIGEST_XXH128, false, false); }
Test(hasher, threaded_zero_runs) { check(RVMIG_DIGEST_XXH128, true, true); }
Test(hasher, inline_zero_runs) { check(RVMIG_DIGEST_XXH128, false, true); }
Test(hasher, sha256_threaded) { check(RVMIG_DIGEST_SHA256, true, false); }
Test(hasher, sha256_inline_zero_runs) { check(RVMIG_DIGEST_SHA256, false, true); }

static void peek_reset_and_wait(enum rvmig_digest_alg alg)
{
	setenv("RVMIG_HASH_THREAD", "1", 1);
	alg_under_test = alg;
	struct hasher *h;
	cr_assert_eq(hasher_new(&h, alg, true), 0);
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

	/* A reset may change the algorithm (the receiver learns it from the
	 * sender's HELLO). */
	enum rvmig_digest_alg other = alg == RVMIG_DIGEST_SHA256 ? RVMIG_DIGEST_XXH128 : RVMIG_DIGEST_SHA256;
	cr_assert_eq(hasher_reset(h, other), 0);
	cr_assert_eq(hasher_get_alg(h), other);
	cr_assert_eq(hasher_fed(h), 0);
	hasher_feed(h, buf, 1000);
	cr_assert_eq(hasher_final(h, got), 0);
	oneshot_alg(other, buf, 1000, want);
	cr_assert_arr_eq(got, want, 32, "after reset to %s", rvmig_digest_name(other));
	hasher_free(h);
	free(buf);
}

Test(hasher, peek_reset_and_wait) { peek_reset_and_wait(RVMIG_DIGEST_XXH128); }
Test(hasher, sha256_peek_reset_and_wait) { peek_reset_and_wait(RVMIG_DIGEST_SHA256); }

/* Known answers, as `xxhsum -H2` and `sha256sum` print them: the tools'
 * digests can be checked with those commands. */
Test(hasher, known_answers)
{
	static const struct {
		enum rvmig_digest_alg alg;
		const char *in, *hex;
	} kat[] = {
		{ RVMIG_DIGEST_XXH128, "", "99aa06d3014798d86001c324468d497f" },
		{ RVMIG_DIGEST_XXH128, "abc", "06b05ab6733a618578af5f94892f3950" },
		{ RVMIG_DIGEST_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ RVMIG_DIGEST_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	};
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		struct hasher *h;
		uint8_t got[32], buf[32];
		char hex[65] = "";
		cr_assert_eq(hasher_new(&h, kat[i].alg, true), 0);
		hasher_feed(h, kat[i].in, strlen(kat[i].in));
		cr_assert_eq(hasher_final(h, got), 0);
		for (size_t j = 0; j < rvmig_digest_size(kat[i].alg); j++)
			snprintf(hex + 2 * j, 3, "%02x", got[j]);
		cr_assert_str_eq(hex, kat[i].hex, "%s(\"%s\")", rvmig_digest_name(kat[i].alg), kat[i].in);
		for (size_t j = rvmig_digest_size(kat[i].alg); j < 32; j++)
			cr_assert_eq(got[j], 0, "slot padding");
		cr_assert_eq(rvmig_digest_buf(kat[i].alg, kat[i].in, strlen(kat[i].in), buf), 0);
		cr_assert_arr_eq(buf, got, 32, "one-shot helper");
		hasher_free(h);
	}
	enum rvmig_digest_alg a;
	cr_assert_eq(rvmig_digest_parse("sha256", &a), 0);
	cr_assert_eq(a, RVMIG_DIGEST_SHA256);
	cr_assert_eq(rvmig_digest_parse("xxh128", &a), 0);
	cr_assert_eq(a, RVMIG_DIGEST_XXH128);
	cr_assert_eq(rvmig_digest_parse("md5", &a), -EINVAL);
}

Test(hasher, empty)
{
	struct hasher *h;
	uint8_t got[32], want[32];
	cr_assert_eq(hasher_new(&h, RVMIG_DIGEST_XXH128, true), 0);
	hasher_feed(h, "", 0);
	cr_assert_eq(hasher_final(h, got), 0);
	oneshot_alg(RVMIG_DIGEST_XXH128, (const uint8_t *)"", 0, want);
	cr_assert_arr_eq(got, want, 32);
	hasher_free(h);
}
