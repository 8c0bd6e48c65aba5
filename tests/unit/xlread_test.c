/* SPDX-License-Identifier: MIT */
/*
 * xlread_test.c - the xl save header as rvmig-restore reads it
 * (tools/xen/xlread.c): what rvmig_xl_header_build() writes (rvmig-save's
 * header) reads back with its configuration; a wrong field is refused with
 * the library parser's reason; the optional data is parsed from a heap
 * block of exactly its size, so an over-read is an ASan error; and reading
 * from a pipe stops at the end of the header, at a writer that closes
 * early and at the deadline.  Needs no Xen.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "xlread.h"

static const char cfg[] = "{\"c_info\": {\"name\": \"guest1\"}}";

static uint8_t *build(size_t *len)
{
	uint8_t *b = NULL;

	cr_assert_eq(rvmig_xl_header_build(cfg, sizeof(cfg), &b, len), 0);
	return b;
}

/* xl_saved_read() from a pipe holding `len` octets of b, then EOF. */
static int read_pipe(const uint8_t *b, size_t len, struct xl_saved *s, char *why, size_t whylen)
{
	int p[2], rc;

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], b, len), (ssize_t)len);
	close(p[1]);
	rc = xl_saved_read(p[0], 1000, s, why, whylen);
	close(p[0]);
	return rc;
}

Test(xlread, built_header_reads_back)
{
	size_t len;
	uint8_t *b = build(&len);
	struct xl_saved s;
	char why[256] = "";

	cr_assert_eq(read_pipe(b, len, &s, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(s.stream_version, 2);
	cr_assert_eq(s.mandatory_flags, RVMIG_XL_FLAG_JSON | RVMIG_XL_FLAG_STREAMV2);
	cr_assert_eq(s.optdata_len, 4 + sizeof(cfg));
	cr_assert_eq(len, RVMIG_XL_HEADER_LEN + s.optdata_len);
	cr_assert_str_eq(s.config, cfg);
	cr_assert_eq(s.config_len, sizeof(cfg));
	xl_saved_free(&s);
	free(b);
}

/* The header with `value` at offset `at` is refused with `want` in why. */
static void refused(size_t at, uint32_t value, const char *want)
{
	size_t len;
	uint8_t *b = build(&len);
	struct xl_saved s;
	char why[256] = "";

	memcpy(b + at, &value, sizeof(value));
	cr_assert_eq(read_pipe(b, len, &s, why, sizeof(why)), -EBADMSG, "offset %zu accepted", at);
	cr_assert(strstr(why, "not an xl save stream") && strstr(why, want), "why '%s' lacks '%s'",
		  why, want);
	xl_saved_free(&s);
	free(b);
}

Test(xlread, bad_header_refused_by_the_parser)
{
	refused(0, 0x41414141, "bad magic");
	refused(32, 0x04030201, "byte-order word");
	refused(36, RVMIG_XL_FLAG_STREAMV2 | 4, "unknown mandatory flag");
	refused(36, RVMIG_XL_FLAG_JSON, "lack STREAMv2");
	refused(44, 4 + RVMIG_XL_CONFIG_MAX + 1, "optional data length");
	refused(48, sizeof(cfg) + 1, "config length");
}

/* parse_optdata of `len` octets (a block of exactly that size). */
static int optdata(const void *bytes, uint32_t len, struct xl_saved *s, const char **why)
{
	uint8_t *opt = malloc(len ? len : 1);
	int rc;

	memcpy(opt, bytes, len);
	memset(s, 0, sizeof(*s));
	s->optdata_len = len;
	rc = xl_saved_parse_optdata(opt, s, why);
	free(opt);
	return rc;
}

Test(xlread, bad_optdata_refused)
{
	struct xl_saved s;
	const char *why = "";
	uint8_t b[16] = { 0 };
	uint32_t n;

	cr_assert_eq(optdata(b, 3, &s, &why), -EBADMSG);
	cr_assert(strstr(why, "shorter than its config length"), "%s", why);
	n = 13; /* one more than the 12 that follow */
	memcpy(b, &n, 4);
	cr_assert_eq(optdata(b, 16, &s, &why), -EBADMSG);
	cr_assert(strstr(why, "longer than the optional data"), "%s", why);
	n = 12;
	memcpy(b, &n, 4);
	memset(b + 4, 'x', 12); /* no NUL */
	cr_assert_eq(optdata(b, 16, &s, &why), -EBADMSG);
	cr_assert(strstr(why, "no terminating NUL"), "%s", why);
	n = 0;
	memcpy(b, &n, 4);
	cr_assert_eq(optdata(b, 4, &s, &why), 0);
	cr_assert_null(s.config);
}

Test(xlread, pipe_stops_at_the_stream)
{
	size_t len;
	uint8_t *b = build(&len), rest[8];
	struct xl_saved s;
	char why[256];
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], b, len), (ssize_t)len);
	cr_assert_eq(write(p[1], "LibxlFmt", 8), 8);
	cr_assert_eq(xl_saved_read(p[0], 1000, &s, why, sizeof(why)), 0, "%s", why);
	cr_assert_str_eq(s.config, cfg);
	cr_assert_eq(read(p[0], rest, sizeof(rest)), 8); /* left at the libxl stream */
	cr_assert_eq(memcmp(rest, "LibxlFmt", 8), 0);
	xl_saved_free(&s);
	/* the writer closes in the optional data */
	cr_assert_eq(write(p[1], b, len - 5), (ssize_t)(len - 5));
	close(p[1]);
	cr_assert_eq(xl_saved_read(p[0], 1000, &s, why, sizeof(why)), -EPIPE);
	cr_assert(strstr(why, "ended in the xl header's optional data (offset 48)"), "%s", why);
	xl_saved_free(&s);
	close(p[0]);
	free(b);
}

Test(xlread, pipe_deadline)
{
	struct xl_saved s;
	char why[256];
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], RVMIG_XL_MAGIC, 10), 10);
	cr_assert_eq(xl_saved_read(p[0], 50, &s, why, sizeof(why)), -ETIMEDOUT);
	cr_assert(strstr(why, "within 50 ms"), "%s", why);
	close(p[0]);
	close(p[1]);
}
