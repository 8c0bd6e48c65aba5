/* SPDX-License-Identifier: MIT */
/* journal.c - format and atomic I/O of the rvmig-recv resume journal. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/report.h"
#include "journal.h"

#define MAGIC "rvmig-recv-journal"

static int sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int l = 32;

	return EVP_Digest(data, len, out, &l, EVP_sha256(), NULL) ? 0 : -ENOMEM;
}

/* The lines before "check", as written and as checked. */
static int body(char *buf, size_t cap, const struct recv_journal *j)
{
	char id[65], sha[65];

	report_hex(j->xfer_id, id);
	report_hex(j->digest, sha);
	return snprintf(buf, cap,
			MAGIC " %d\ntransfer-id %s\nflags %u\nsize %llu\noffset %llu\ndigest %s\n",
			JOURNAL_VERSION, id, (unsigned)j->flags, (unsigned long long)j->size,
			(unsigned long long)j->offset, sha);
}

static int unhex(const char *s, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

int journal_load(const char *path, struct recv_journal *j, char *why, size_t whylen)
{
	char buf[1024], again[1024], id[65], sha[65], check[65];
	uint8_t want[32], got[32];
	unsigned flags;
	unsigned long long size, off;
	int fd, n, version, bl;
	ssize_t len;

	memset(j, 0, sizeof(*j));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		n = -errno;
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return n;
	}
	len = read(fd, buf, sizeof(buf) - 1);
	n = errno;
	close(fd);
	if (len < 0) {
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(n));
		return -n;
	}
	buf[len] = 0;
	if (sscanf(buf, MAGIC " %d", &version) != 1) {
		snprintf(why, whylen, "%s is not an rvmig-recv journal", path);
		return -EBADMSG;
	}
	if (version != JOURNAL_VERSION) {
		snprintf(why, whylen, "%s has journal format version %d, this rvmig-recv reads %d",
			 path, version, JOURNAL_VERSION);
		return -EBADMSG;
	}
	if (sscanf(buf,
		   MAGIC " %*d\ntransfer-id %64s\nflags %u\nsize %llu\noffset %llu\ndigest %64s\n"
			 "check %64s",
		   id, &flags, &size, &off, sha, check) != 6 ||
	    unhex(id, j->xfer_id) || unhex(sha, j->digest) || unhex(check, want)) {
		snprintf(why, whylen, "%s is malformed", path);
		return -EBADMSG;
	}
	j->flags = flags;
	j->size = size;
	j->offset = off;
	bl = body(again, sizeof(again), j);
	if (bl <= 0 || (size_t)bl >= sizeof(again) || sha256(again, (size_t)bl, got) ||
	    memcmp(got, want, 32) || strncmp(buf, again, (size_t)bl)) {
		snprintf(why, whylen, "%s fails its checksum (damaged)", path);
		return -EBADMSG;
	}
	return 0;
}

static int fsync_dir(const char *path, char *why, size_t whylen)
{
	char *d = strdup(path);
	int fd, rc = 0;

	if (!d) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd)) {
		rc = -errno;
		snprintf(why, whylen, "fsync of the directory of %s: %s", path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	free(d);
	return rc;
}

int journal_store(const char *path, const struct recv_journal *j, char *why, size_t whylen)
{
	char buf[1024], tmp[4096], hex[65];
	uint8_t sum[32];
	int n, fd, rc;

	n = body(buf, sizeof(buf), j);
	if (n <= 0 || (size_t)n >= sizeof(buf) - 80 || sha256(buf, (size_t)n, sum)) {
		snprintf(why, whylen, "cannot format the journal %s", path);
		return -EINVAL;
	}
	report_hex(sum, hex);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "check %s\n", hex);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(why, whylen, "path too long: %s", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot create %s: %s", tmp, strerror(errno));
		return rc;
	}
	errno = 0;
	if (write(fd, buf, (size_t)n) != n || fsync(fd)) {
		rc = errno ? -errno : -EIO;
		snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(-rc));
		close(fd);
		unlink(tmp);
		return rc;
	}
	close(fd);
	if (rename(tmp, path)) {
		rc = -errno;
		snprintf(why, whylen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	return fsync_dir(path, why, whylen);
}

int journal_remove(const char *path, char *why, size_t whylen)
{
	char tmp[4096];

	if (unlink(path) && errno != ENOENT) {
		int rc = -errno;

		snprintf(why, whylen, "cannot remove %s: %s", path, strerror(errno));
		return rc;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) < sizeof(tmp))
		unlink(tmp);
	return fsync_dir(path, why, whylen);
}
