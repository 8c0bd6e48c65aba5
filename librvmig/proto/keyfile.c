/* SPDX-License-Identifier: MIT */
/*
 * keyfile.c - pre-shared key files: rvmig_key_load() (the checks on the
 * file, its I/O) and key_parse() (the key in the file's bytes, no I/O).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rvmig/xfer.h>

#include "core/log.h"
#include "proto/keyfile.h"

#define KEYFILE_FILE_MAX 4096 /* larger files are refused unread */

int key_parse(const uint8_t *data, size_t n, size_t max, size_t *len)
{
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	*len = n;
	if (n < KEYFILE_KEY_MIN)
		return -EINVAL;
	if (n > max)
		return -EMSGSIZE;
	return 0;
}

RVMIG_API int rvmig_key_load(rvmig_ctx *ctx, const char *path, void *buf, size_t *len)
{
	/* a whole key file (a key, its line end), and a byte more to see a longer one */
	uint8_t tmp[KEYFILE_FILE_MAX + 1];
	size_t got = 0, max, klen;
	struct stat st;
	int fd, rc;

	if (!path || !buf || !len)
		return -EINVAL;
	max = *len < KEYFILE_KEY_MAX ? *len : KEYFILE_KEY_MAX;
	/* O_NONBLOCK: a FIFO (or a device) must not block open() before it is
	 * refused as not a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ELOOP)
			LOG_ERR(ctx, "auth", "key file %s is a symbolic link: name the file itself", path);
		else
			LOG_ERR(ctx, "auth", "cannot open key file %s: %s", path, rvmig_strerror(rc));
		return rc == -ELOOP ? -EPERM : rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		LOG_ERR(ctx, "auth", "key file %s is not a regular file", path);
		close(fd);
		return -EPERM;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		LOG_ERR(ctx, "auth", "key file %s has mode %04o: it must not be accessible by group or "
			"others (chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -EPERM;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		LOG_ERR(ctx, "auth", "key file %s is owned by uid %u, not by us or root", path,
			(unsigned)st.st_uid);
		close(fd);
		return -EPERM;
	}
	while (got < sizeof(tmp) && st.st_size <= KEYFILE_FILE_MAX) {
		ssize_t n = read(fd, tmp + got, sizeof(tmp) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			LOG_ERR(ctx, "auth", "cannot read key file %s: %s", path, rvmig_strerror(rc));
			close(fd);
			explicit_bzero(tmp, sizeof(tmp));
			return rc;
		}
		if (!n)
			break;
		got += (size_t)n;
	}
	close(fd);
	rc = got > KEYFILE_FILE_MAX || st.st_size > KEYFILE_FILE_MAX ? -EMSGSIZE
							     : key_parse(tmp, got, max, &klen);
	if (rc == -EINVAL)
		LOG_ERR(ctx, "auth", "key in %s is %zu bytes; at least %d are needed "
			"(e.g. head -c 32 /dev/urandom | base64 > %s)", path, klen, KEYFILE_KEY_MIN, path);
	else if (rc)
		LOG_ERR(ctx, "auth", "key in %s is longer than %zu bytes (the file has %lld): it "
			"would be cut, so keys that differ only after that would match; use a key "
			"of 16 to %zu bytes", path, max, (long long)st.st_size, max);
	if (!rc) {
		memcpy(buf, tmp, klen);
		*len = klen;
	}
	explicit_bzero(tmp, sizeof(tmp));
	return rc ? -EINVAL : 0;
}
