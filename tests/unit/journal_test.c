/* SPDX-License-Identifier: MIT */
/*
 * journal_test.c - the resume journal of the receiving session (librvmig/xstream/journal.c):
 * what journal_format() writes parses back; every field is checked for its
 * exact form before it is decoded (a short hex field used to make unhex()
 * read past its end); each input is parsed from a heap block of exactly
 * its size, so an over-read is an ASan error; and the file functions do
 * not go through a symbolic link or block on a FIFO.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xstream/journal.h"

static const struct recv_journal sample = {
	.xfer_id = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, [31] = 0xfe },
	.flags = 11,
	.size = 123456789,
	.offset = 67108864,
	.digest = { 0xde, 0xad, 0xbe, 0xef, [16] = 0x5a, [31] = 0x01 },
};

/* journal_parse() of a copy of `text` (its first `len` bytes, no NUL) in a
 * block of exactly that size; `why` gets the reason. */
static int parse_exact(const char *text, size_t len, struct recv_journal *j, char *why,
		       size_t whylen)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	cr_assert(copy);
	memcpy(copy, text, len);
	why[0] = 0;
	rc = journal_parse(copy, len, j, why, whylen);
	free(copy);
	return rc;
}

static int parse_str(const char *text, char *why, size_t whylen)
{
	struct recv_journal j;

	return parse_exact(text, strlen(text), &j, why, whylen);
}

static int format_sample(char *buf, size_t cap)
{
	int n = journal_format(buf, cap, &sample);

	cr_assert_gt(n, 0);
	return n;
}

/* `good` with the value of line `key` replaced by `value`. */
static void replace_value(char *out, size_t cap, const char *good, const char *key,
			  const char *value)
{
	const char *at = strstr(good, key), *nl;

	cr_assert(at);
	at += strlen(key) + 1;
	nl = strchr(at, '\n');
	cr_assert(nl);
	snprintf(out, cap, "%.*s%s%s", (int)(at - good), good, value, nl);
}

Test(journal, round_trip)
{
	char buf[JOURNAL_MAX], why[256];
	struct recv_journal j;
	int n = format_sample(buf, sizeof(buf));

	cr_assert_eq(strlen(buf), (size_t)n);
	cr_assert_eq(parse_exact(buf, (size_t)n, &j, why, sizeof(why)), 0, "%s", why);
	cr_assert_arr_eq(&j, &sample, sizeof(j));
}

Test(journal, format_needs_room)
{
	char buf[JOURNAL_MAX];
	int n = format_sample(buf, sizeof(buf));

	cr_assert_eq(journal_format(buf, (size_t)n, &sample), -EINVAL);
	cr_assert_eq(journal_format(buf, 10, &sample), -EINVAL);
}

Test(journal, short_and_long_hex_fields)
{
	static const char *const keys[] = { "transfer-id", "digest", "check" };
	static const size_t lens[] = { 0, 1, 2, 3, 31, 62, 63, 65, 66, 128 };
	char good[JOURNAL_MAX], bad[2 * JOURNAL_MAX], hex[200], why[256];

	format_sample(good, sizeof(good));
	for (size_t k = 0; k < 3; k++) {
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			memset(hex, 'a', lens[l]);
			hex[lens[l]] = 0;
			replace_value(bad, sizeof(bad), good, keys[k], hex);
			cr_assert_eq(parse_str(bad, why, sizeof(why)), -EBADMSG,
				     "%s of %zu digits accepted", keys[k], lens[l]);
			cr_assert(strstr(why, "is malformed") && strstr(why, keys[k]),
				  "%s of %zu digits: '%s'", keys[k], lens[l], why);
		}
	}
}

Test(journal, hex_digits_only_lowercase)
{
	char good[JOURNAL_MAX], bad[JOURNAL_MAX], hex[65], why[256];

	format_sample(good, sizeof(good));
	for (const char *c = "AFgz -+x\t"; *c; c++) {
		memset(hex, '0', 64);
		hex[64] = 0;
		hex[17] = *c;
		replace_value(bad, sizeof(bad), good, "digest", hex);
		cr_assert_eq(parse_str(bad, why, sizeof(why)), -EBADMSG, "digit '%c' accepted", *c);
	}
}

Test(journal, numbers)
{
	static const char *const bad_sizes[] = { "", "-1", "+1", "1x", " 1", "0x10",
						  "18446744073709551616", "99999999999999999999",
						  "123456789012345678901" };
	char good[JOURNAL_MAX], bad[JOURNAL_MAX], why[256];

	format_sample(good, sizeof(good));
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		replace_value(bad, sizeof(bad), good, "size", bad_sizes[i]);
		cr_assert_eq(parse_str(bad, why, sizeof(why)), -EBADMSG, "size '%s' accepted",
			     bad_sizes[i]);
	}
	replace_value(bad, sizeof(bad), good, "flags", "4294967296");
	cr_assert_eq(parse_str(bad, why, sizeof(why)), -EBADMSG);
	cr_assert(strstr(why, "flags"), "%s", why);
	/* well-formed, but no longer what the check covers */
	replace_value(bad, sizeof(bad), good, "size", "18446744073709551615");
	cr_assert_eq(parse_str(bad, why, sizeof(why)), -EBADMSG);
	cr_assert(strstr(why, "fails its checksum"), "%s", why);
}

Test(journal, every_truncation_is_refused)
{
	char good[JOURNAL_MAX], why[256];
	struct recv_journal j;
	int n = format_sample(good, sizeof(good));

	for (int len = 0; len < n; len++)
		cr_assert_eq(parse_exact(good, (size_t)len, &j, why, sizeof(why)), -EBADMSG,
			     "the first %d of %d bytes accepted", len, n);
}

Test(journal, text_after_the_check)
{
	char good[JOURNAL_MAX], bad[JOURNAL_MAX + 8], why[256];
	int n = format_sample(good, sizeof(good));

	snprintf(bad, sizeof(bad), "%sx", good);
	cr_assert_eq(parse_str(bad, why, sizeof(why)), -EBADMSG);
	cr_assert(strstr(why, "after the check"), "%s", why);
	/* a NUL inside is not an end either */
	memcpy(bad, good, (size_t)n);
	bad[n] = 0;
	struct recv_journal j;
	cr_assert_eq(parse_exact(bad, (size_t)n + 1, &j, why, sizeof(why)), -EBADMSG);
}

Test(journal, damage_and_other_versions)
{
	char good[JOURNAL_MAX], bad[JOURNAL_MAX], why[256];
	int n = format_sample(good, sizeof(good));

	memcpy(bad, good, (size_t)n + 1);
	bad[strstr(bad, "offset ") - bad + 7] ^= 1; /* 6 -> 7 */
	cr_assert_eq(parse_str(bad, why, sizeof(why)), -EBADMSG);
	cr_assert(strstr(why, "fails its checksum"), "%s", why);
	cr_assert_eq(parse_str("rvmig-recv-journal 1\nsha256 00\n", why, sizeof(why)), -EBADMSG);
	cr_assert(strstr(why, "version 1, this rvmig-recv reads 2"), "%s", why);
	cr_assert_eq(parse_str("rvmig-recv-journal x\n", why, sizeof(why)), -EBADMSG);
	cr_assert(strstr(why, "not an rvmig-recv journal"), "%s", why);
	cr_assert_eq(parse_str("hello\n", why, sizeof(why)), -EBADMSG);
	cr_assert(strstr(why, "not an rvmig-recv journal"), "%s", why);
}

Test(journal, too_long)
{
	char *big = malloc(JOURNAL_MAX + 1), why[256];
	struct recv_journal j;

	cr_assert(big);
	memset(big, '\n', JOURNAL_MAX + 1);
	cr_assert_eq(journal_parse(big, JOURNAL_MAX + 1, &j, why, sizeof(why)), -EBADMSG);
	free(big);
}

/* The file functions, in a fresh directory. */
static char dir[64];
static int dfd = -1;

static void mkdir_fresh(void)
{
	snprintf(dir, sizeof(dir), "/tmp/journal_test.XXXXXX");
	cr_assert(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0);
}

static void rm_fresh(void)
{
	char cmd[128];

	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

Test(journal_file, store_load_remove, .init = mkdir_fresh, .fini = rm_fresh)
{
	char path[128], why[256];
	struct recv_journal j;
	struct stat st;

	path_of(path, sizeof(path), "out.bin.rvmig-journal");
	cr_assert_eq(journal_load(dfd, path, &j, why, sizeof(why)), -ENOENT);
	cr_assert_eq(journal_store(dfd, path, &sample, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(journal_load(dfd, path, &j, why, sizeof(why)), 0, "%s", why);
	cr_assert_arr_eq(&j, &sample, sizeof(j));
	cr_assert_eq(journal_remove(dfd, path, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(journal_load(dfd, path, &j, why, sizeof(why)), -ENOENT);
}

Test(journal_file, symlinks_are_not_followed, .init = mkdir_fresh, .fini = rm_fresh)
{
	char path[128], tmp[160], victim[128], why[256], back[16] = { 0 };
	struct recv_journal j;
	int fd;

	path_of(path, sizeof(path), "out.bin.rvmig-journal");
	path_of(victim, sizeof(victim), "victim");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0640);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "precious", 8), 8);
	close(fd);
	/* a journal that is a symbolic link is refused, not read */
	cr_assert_eq(symlink(victim, path), 0);
	cr_assert_eq(journal_load(dfd, path, &j, why, sizeof(why)), -ELOOP);
	cr_assert(strstr(why, "symbolic link"), "%s", why);
	/* a temporary that is one is replaced, not written through */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(symlink(victim, tmp), 0);
	cr_assert_eq(journal_store(dfd, path, &sample, why, sizeof(why)), 0, "%s", why);
	fd = open(victim, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read(fd, back, sizeof(back) - 1), 8);
	close(fd);
	cr_assert_str_eq(back, "precious");
	cr_assert_eq(journal_load(dfd, path, &j, why, sizeof(why)), 0, "%s", why);
	/* removing a journal that is a link removes the link only */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(symlink(victim, path), 0);
	cr_assert_eq(journal_remove(dfd, path, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(access(victim, F_OK), 0);
}

Test(journal_file, fifo_does_not_block, .init = mkdir_fresh, .fini = rm_fresh, .timeout = 10)
{
	char path[128], why[256];
	struct recv_journal j;

	path_of(path, sizeof(path), "out.bin.rvmig-journal");
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_assert_eq(journal_load(dfd, path, &j, why, sizeof(why)), -EPERM);
	cr_assert(strstr(why, "not a regular file"), "%s", why);
}
