/* SPDX-License-Identifier: MIT */
/*
 * The receiving session's output (librvmig/xstream/output.c), white-box:
 * zero runs (output_zero()) become holes in a file output — the file is
 * sparse (fewer blocks than its size) and reads back byte for byte, a
 * trailing run included — while a stream output (a pipe) gets the zeros
 * written; a resumable partial that ends in a hole has its full length once
 * synced, so a receiver that resumes at that offset finds it whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "xstream/output.h"

#define DATA_A 8192u
#define HOLE_MID (1u << 20)
#define DATA_B 4096u
#define HOLE_END (256u << 10)
#define TOTAL (DATA_A + HOLE_MID + DATA_B + HOLE_END)

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/rvmig-holes-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(const char *a, const char *b)
{
	char p[128];

	for (const char *n = a; n; n = n == a ? b : NULL) {
		snprintf(p, sizeof(p), "%s/%s", dir, n);
		unlink(p);
	}
	rmdir(dir);
}

/* The expected content: DATA_A bytes of a pattern, a 1 MiB hole, DATA_B
 * bytes of another, a 256 KiB hole at the end. */
static uint8_t *expected(void)
{
	uint8_t *b = calloc(1, TOTAL);

	cr_assert_not_null(b);
	for (size_t i = 0; i < DATA_A; i++)
		b[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < DATA_B; i++)
		b[DATA_A + HOLE_MID + i] = (uint8_t)(i * 13 + 5) | 1;
	return b;
}

/* Writes `want` as the receiver does: data, zero run, data, zero run. */
static void write_pieces(struct recv_output *o, const uint8_t *want)
{
	cr_assert_eq(output_write(o, want, DATA_A), 0);
	cr_assert_eq(output_zero(o, HOLE_MID), 0);
	cr_assert_eq(output_write(o, want + DATA_A + HOLE_MID, DATA_B), 0);
	cr_assert_eq(output_zero(o, HOLE_END), 0);
	cr_assert_eq(o->off, TOTAL);
}

static uint8_t *read_file(const char *p, struct stat *st)
{
	int fd = open(p, O_RDONLY);
	uint8_t *b;

	cr_assert_geq(fd, 0, "cannot open %s: %s", p, strerror(errno));
	cr_assert_eq(fstat(fd, st), 0);
	b = malloc((size_t)st->st_size + 1);
	cr_assert_not_null(b);
	cr_assert_eq(pread(fd, b, (size_t)st->st_size, 0), st->st_size);
	close(fd);
	return b;
}

/* Whether the filesystem of `dir` keeps holes (vfat, for one, does not):
 * a file with one byte at 1 MiB must take fewer blocks than its size. */
static bool fs_keeps_holes(void)
{
	char p[128];
	struct stat st;
	int fd;
	bool sparse;

	snprintf(p, sizeof(p), "%s/probe", dir);
	fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "x", 1, HOLE_MID), 1);
	cr_assert_eq(fsync(fd), 0);
	cr_assert_eq(fstat(fd, &st), 0);
	sparse = (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size;
	close(fd);
	unlink(p);
	return sparse;
}

Test(output_holes, file_output_is_sparse_and_reads_back_identical)
{
	uint8_t *want = expected(), *got;
	struct recv_output o;
	struct stat st;
	char path[128], why[256];

	make_dir();
	if (!fs_keeps_holes()) {
		remove_dir(NULL, NULL);
		cr_skip_test("the filesystem of /tmp keeps no holes: nothing to check here");
	}
	snprintf(path, sizeof(path), "%s/out.xl", dir);
	cr_assert_eq(output_init(&o, path, 0600, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(output_open(&o, why, sizeof(why)), 0, "%s", why);
	write_pieces(&o, want);
	cr_assert_eq(output_commit(&o, why, sizeof(why)), 0, "%s", why);
	output_close(&o);

	got = read_file(path, &st);
	cr_assert_eq(st.st_size, TOTAL, "the trailing hole must count in the length");
	cr_assert_eq(memcmp(got, want, TOTAL), 0, "content differs");
	/* Allocated: the data (12 KiB) and block rounding, never the 1.25 MiB
	 * of zeros. */
	cr_assert_lt((uint64_t)st.st_blocks * 512, (uint64_t)TOTAL / 4,
		     "%llu bytes allocated for %u bytes of which %u are zero runs: not sparse",
		     (unsigned long long)st.st_blocks * 512, TOTAL, HOLE_MID + HOLE_END);
	free(got);
	free(want);
	remove_dir("out.xl", NULL);
}

struct drain {
	int fd;
	uint8_t *buf;
	size_t len, cap;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	ssize_t n;

	while ((n = read(d->fd, d->buf + d->len, d->cap - d->len)) > 0)
		d->len += (size_t)n;
	return NULL;
}

Test(output_holes, pipe_output_gets_the_zeros_written)
{
	uint8_t *want = expected();
	struct drain d = { .cap = TOTAL + 1 };
	struct recv_output o;
	pthread_t th;
	int p[2];

	d.buf = malloc(d.cap);
	cr_assert_not_null(d.buf);
	cr_assert_eq(pipe(p), 0);
	d.fd = p[0];
	cr_assert_eq(pthread_create(&th, NULL, drain_main, &d), 0);
	cr_assert_eq(output_init_fd(&o, p[1], "the test pipe", NULL), 0);
	cr_assert(o.stream);
	write_pieces(&o, want);
	output_close(&o); /* a reopened descriptor of ours; p[1] stays the caller's */
	close(p[1]);
	pthread_join(th, NULL);
	close(p[0]);
	cr_assert_eq(d.len, TOTAL, "the reader got %zu bytes, not %u", d.len, TOTAL);
	cr_assert_eq(memcmp(d.buf, want, TOTAL), 0, "the zeros did not reach the pipe");
	free(d.buf);
	free(want);
}

Test(output_holes, resumable_partial_ending_in_a_hole_keeps_its_length)
{
	uint8_t *want = expected(), *got;
	struct recv_output o;
	struct stat st;
	char path[128], why[256];

	make_dir();
	snprintf(path, sizeof(path), "%s/out.xl", dir);
	cr_assert_eq(output_init(&o, path, 0600, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(output_open_resume(&o, 0, why, sizeof(why)), 0, "%s", why);
	write_pieces(&o, want);
	/* What the journal records as durable must be there in full, the
	 * trailing hole included. */
	cr_assert_eq(output_sync(&o, why, sizeof(why)), 0, "%s", why);
	output_close(&o);

	snprintf(path, sizeof(path), "%s/out.xl" OUTPUT_PARTIAL_SUFFIX, dir);
	got = read_file(path, &st);
	cr_assert_eq(st.st_size, TOTAL);
	cr_assert_eq(memcmp(got, want, TOTAL), 0);
	free(got);

	/* A second receiver resumes at that offset (output_open_resume()
	 * refuses a partial shorter than the journal's offset). */
	snprintf(path, sizeof(path), "%s/out.xl", dir);
	cr_assert_eq(output_init(&o, path, 0600, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(output_open_resume(&o, TOTAL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(o.off, TOTAL);
	cr_assert_eq(output_write(&o, "end", 3), 0);
	cr_assert_eq(output_commit(&o, why, sizeof(why)), 0, "%s", why);
	output_close(&o);
	got = read_file(path, &st);
	cr_assert_eq(st.st_size, TOTAL + 3);
	cr_assert_eq(memcmp(got, want, TOTAL), 0);
	cr_assert_eq(memcmp(got + TOTAL, "end", 3), 0);
	free(got);
	free(want);
	remove_dir("out.xl", "out.xl" OUTPUT_PARTIAL_SUFFIX);
}
