/* SPDX-License-Identifier: MIT */
/* journal.c - format and atomic I/O of the rvmig-recv resume journal. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xstream/journal.h"
#include "xstream/ownfile.h"

#define MAGIC "rvmig-recv-journal"
#define HEX_LEN 64 /* every hex field: 32 octets */

static int sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int l = 32;

	return EVP_Digest(data, len, out, &l, EVP_sha256(), NULL) ? 0 : -ENOMEM;
}

static void hex32(const uint8_t in[32], char out[HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[HEX_LEN] = 0;
}

/* The lines before "check", as written and as checked. */
static int body(char *buf, size_t cap, const struct recv_journal *j)
{
	char id[HEX_LEN + 1], sha[HEX_LEN + 1];

	hex32(j->xfer_id, id);
	hex32(j->digest, sha);
	return snprintf(buf, cap,
			MAGIC " %d\ntransfer-id %s\nflags %u\nsize %llu\noffset %llu\ndigest %s\n",
			JOURNAL_VERSION, id, (unsigned)j->flags, (unsigned long long)j->size,
			(unsigned long long)j->offset, sha);
}

int journal_format(char *buf, size_t cap, const struct recv_journal *j)
{
	char hex[HEX_LEN + 1];
	uint8_t sum[32];
	int n = body(buf, cap, j), m;

	if (n <= 0 || (size_t)n >= cap || sha256(buf, (size_t)n, sum))
		return -EINVAL;
	hex32(sum, hex);
	m = snprintf(buf + n, cap - (size_t)n, "check %s\n", hex);
	if (m <= 0 || (size_t)m >= cap - (size_t)n)
		return -EINVAL;
	return n + m;
}

/* Parsing: a cursor over the buffer, one "key value\n" line at a time. */
struct cursor {
	const char *p, *end;
};

/* The value of the next line if its key is `key`, else NULL. */
static const char *field(struct cursor *c, const char *key, size_t *vlen)
{
	size_t kl = strlen(key), left = (size_t)(c->end - c->p);
	const char *v, *nl;

	if (left <= kl || memcmp(c->p, key, kl) || c->p[kl] != ' ')
		return NULL;
	v = c->p + kl + 1;
	nl = memchr(v, '\n', (size_t)(c->end - v));
	if (!nl)
		return NULL;
	*vlen = (size_t)(nl - v);
	c->p = nl + 1;
	return v;
}

/* Exactly HEX_LEN lowercase hex digits (what hex32() writes). */
static bool unhex(const char *s, size_t n, uint8_t out[32])
{
	if (n != HEX_LEN)
		return false;
	for (size_t i = 0; i < HEX_LEN; i++) {
		int v;

		if (s[i] >= '0' && s[i] <= '9')
			v = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			v = s[i] - 'a' + 10;
		else
			return false;
		if (i % 2)
			out[i / 2] = (uint8_t)(out[i / 2] << 4 | v);
		else
			out[i / 2] = (uint8_t)v;
	}
	return true;
}

/* A decimal number of 1..20 digits, no sign, not above `max`. */
static bool dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!n || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

int journal_parse(const void *buf, size_t len, struct recv_journal *j, char *why,
		  size_t whylen)
{
	struct cursor c = { buf, (const char *)buf + len };
	char again[JOURNAL_MAX + 1];
	const char *v, *bad = NULL;
	uint8_t want[32], got[32];
	uint64_t version, flags;
	size_t vl;
	int bl;

	memset(j, 0, sizeof(*j));
	if (len > JOURNAL_MAX) {
		snprintf(why, whylen, "is not an rvmig-recv journal (%zu bytes, at most %d)", len,
			 JOURNAL_MAX);
		return -EBADMSG;
	}
	if (!(v = field(&c, MAGIC, &vl)) || !dec(v, vl, INT32_MAX, &version)) {
		snprintf(why, whylen, "is not an rvmig-recv journal");
		return -EBADMSG;
	}
	if (version != JOURNAL_VERSION) {
		snprintf(why, whylen, "has journal format version %llu, this rvmig-recv reads %d",
			 (unsigned long long)version, JOURNAL_VERSION);
		return -EBADMSG;
	}
	if (!(v = field(&c, "transfer-id", &vl)) || !unhex(v, vl, j->xfer_id))
		bad = "no transfer-id of 64 lowercase hex digits";
	else if (!(v = field(&c, "flags", &vl)) || !dec(v, vl, UINT32_MAX, &flags))
		bad = "no decimal flags";
	else if (!(v = field(&c, "size", &vl)) || !dec(v, vl, UINT64_MAX, &j->size))
		bad = "no decimal size";
	else if (!(v = field(&c, "offset", &vl)) || !dec(v, vl, UINT64_MAX, &j->offset))
		bad = "no decimal offset";
	else if (!(v = field(&c, "digest", &vl)) || !unhex(v, vl, j->digest))
		bad = "no digest of 64 lowercase hex digits";
	else if (!(v = field(&c, "check", &vl)) || !unhex(v, vl, want))
		bad = "no check of 64 lowercase hex digits";
	else if (c.p != c.end)
		bad = "text after the check line";
	if (bad) {
		snprintf(why, whylen, "is malformed: %s", bad);
		memset(j, 0, sizeof(*j));
		return -EBADMSG;
	}
	j->flags = (uint32_t)flags;
	/* What was read must be what this journal's writer writes, byte for
	 * byte, and carry its checksum. */
	bl = body(again, sizeof(again), j);
	if (bl <= 0 || (size_t)bl >= sizeof(again) || sha256(again, (size_t)bl, got) ||
	    memcmp(got, want, 32) || (size_t)bl > len || memcmp(buf, again, (size_t)bl)) {
		snprintf(why, whylen, "fails its checksum (damaged)");
		memset(j, 0, sizeof(*j));
		return -EBADMSG;
	}
	return 0;
}

static const char *last(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int journal_load(int dirfd, const char *path, struct recv_journal *j, char *why,
		 size_t whylen)
{
	char buf[JOURNAL_MAX + 1], pwhy[256];
	size_t len = 0;
	int fd, rc;

	memset(j, 0, sizeof(*j));
	fd = ownfile_open(dirfd, last(path), O_RDONLY, path, why, whylen);
	if (fd < 0)
		return fd;
	/* One byte more than a journal can hold tells a too long file. */
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
			close(fd);
			return rc;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	if ((rc = journal_parse(buf, len, j, pwhy, sizeof(pwhy))))
		snprintf(why, whylen, "%s %s", path, pwhy);
	return rc;
}

static int fsync_dir(int dirfd, const char *path, char *why, size_t whylen)
{
	if (fsync(dirfd)) {
		int rc = -errno;

		snprintf(why, whylen, "fsync of the directory of %s: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

int journal_store(int dirfd, const char *path, const struct recv_journal *j, char *why,
		  size_t whylen)
{
	char buf[JOURNAL_MAX], tmp[4096], tmpname[4096];
	int n, fd, rc;

	n = journal_format(buf, sizeof(buf), j);
	if (n < 0) {
		snprintf(why, whylen, "cannot format the journal %s", path);
		return -EINVAL;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(why, whylen, "path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(tmpname, sizeof(tmpname), "%s", last(tmp));
	fd = ownfile_open(dirfd, tmpname, O_WRONLY | O_CREAT, tmp, why, whylen);
	if (fd == -EEXIST) {
		/* Left by a crash between its creation and the rename (or
		 * planted): the name goes, whatever it is, and is made anew. */
		if (unlinkat(dirfd, tmpname, 0) && errno != ENOENT) {
			rc = -errno;
			snprintf(why, whylen, "cannot remove the stale %s: %s", tmp, strerror(errno));
			return rc;
		}
		fd = ownfile_open(dirfd, tmpname, O_WRONLY | O_CREAT, tmp, why, whylen);
	}
	if (fd < 0)
		return fd;
	errno = 0;
	if (write(fd, buf, (size_t)n) != n || fsync(fd)) {
		rc = errno ? -errno : -EIO;
		snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(-rc));
		close(fd);
		unlinkat(dirfd, tmpname, 0);
		return rc;
	}
	close(fd);
	if (renameat(dirfd, tmpname, dirfd, last(path))) {
		rc = -errno;
		snprintf(why, whylen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlinkat(dirfd, tmpname, 0);
		return rc;
	}
	return fsync_dir(dirfd, path, why, whylen);
}

int journal_remove(int dirfd, const char *path, char *why, size_t whylen)
{
	char tmp[4096];

	/* unlinkat() removes a name, never what a symbolic link points to. */
	if (unlinkat(dirfd, last(path), 0) && errno != ENOENT) {
		int rc = -errno;

		snprintf(why, whylen, "cannot remove %s: %s", path, strerror(errno));
		return rc;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) < sizeof(tmp))
		unlinkat(dirfd, last(tmp), 0);
	return fsync_dir(dirfd, path, why, whylen);
}
