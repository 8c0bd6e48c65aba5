/* SPDX-License-Identifier: MIT */
/* xlread.c - the xl save header in front of a stream, read and checked
 * (xlread.h) by the library's stream parser. */
#include "xlread.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

int xl_saved_parse_optdata(const uint8_t *opt, struct xl_saved *s, const char **why)
{
	s->config = NULL;
	s->config_len = 0;
	if (!s->optdata_len)
		return 0;
	if (s->optdata_len < 4) {
		*why = "optional data at offset 48 is shorter than its config length word";
		return -EBADMSG;
	}
	memcpy(&s->config_len, opt, sizeof(s->config_len)); /* host order, as xl writes it */
	if (s->config_len > s->optdata_len - 4) {
		*why = "config length at offset 48 is longer than the optional data";
		return -EBADMSG;
	}
	if (!s->config_len)
		return 0;
	if (!memchr(opt + 4, '\0', s->config_len)) {
		*why = "the configuration at offset 52 has no terminating NUL";
		return -EBADMSG;
	}
	s->config = malloc(s->config_len);
	if (!s->config)
		return -ENOMEM;
	memcpy(s->config, opt + 4, s->config_len);
	return 0;
}

/* len octets from fd, each wait at most timeout_ms (-1: none). */
static int read_full(int fd, uint8_t *p, size_t len, int timeout_ms)
{
	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, timeout_ms);
		ssize_t r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT; /* poll() returns 0 only when the time is up */
		r = read(fd, p, len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int read_fail(int rc, const char *what, unsigned off, int timeout_ms, char *why,
		     size_t whylen)
{
	if (rc == -EPIPE)
		snprintf(why, whylen, "the stream ended in the xl header's %s (offset %u)", what, off);
	else if (rc == -ETIMEDOUT)
		snprintf(why, whylen, "no more of the xl header's %s (offset %u) within %d ms", what,
			 off, timeout_ms);
	else
		snprintf(why, whylen, "reading the xl header's %s (offset %u): %s", what, off,
			 strerror(-rc));
	return rc;
}

/* Hands len octets to the parser: 0, or -EBADMSG with its reason. */
static int check(rvmig_stream_parser *p, const uint8_t *buf, size_t len, char *why,
		 size_t whylen)
{
	struct rvmig_stream_item it = { .size = sizeof(it) };
	int rc = rvmig_stream_feed(p, buf, len);

	while (!rc && (rc = rvmig_stream_next(p, &it)) == 1)
		rc = 0;
	if (rc == -ENOMEM) {
		snprintf(why, whylen, "out of memory");
		return rc;
	}
	if (rc < 0) {
		snprintf(why, whylen, "not an xl save stream: %s", rvmig_stream_error(p));
		return -EBADMSG;
	}
	return 0;
}

int xl_saved_read(int fd, int timeout_ms, struct xl_saved *s, char *why, size_t whylen)
{
	struct rvmig_stream_attr a = { .size = sizeof(a), .start = RVMIG_STREAM_LAYER_XL };
	struct rvmig_stream_stats st = { .size = sizeof(st) };
	uint8_t hdr[RVMIG_XL_HEADER_LEN], *opt = NULL;
	rvmig_stream_parser *p = NULL;
	const char *bad;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = rvmig_stream_parser_create(&a, &p))) {
		snprintf(why, whylen, "cannot create a stream parser: %s", strerror(-rc));
		return rc;
	}
	/* The fixed part, checked by the library's parser (magic, byte
	 * order, mandatory flags, the optional data's length). */
	if ((rc = read_full(fd, hdr, sizeof(hdr), timeout_ms))) {
		read_fail(rc, "fixed part", 0, timeout_ms, why, whylen);
		goto out;
	}
	if ((rc = check(p, hdr, sizeof(hdr), why, whylen)))
		goto out;
	rvmig_stream_get_stats(p, &st);
	s->mandatory_flags = st.xl_mandatory_flags;
	s->optional_flags = st.xl_optional_flags;
	s->stream_version = s->mandatory_flags & RVMIG_XL_FLAG_STREAMV2 ? 2 : 1;
	memcpy(&s->optdata_len, hdr + 44, sizeof(s->optdata_len)); /* host order, as checked */
	if (!s->optdata_len)
		goto out;
	opt = malloc(s->optdata_len);
	if (!opt) {
		snprintf(why, whylen, "out of memory for %u octets of xl optional data", s->optdata_len);
		rc = -ENOMEM;
		goto out;
	}
	rc = read_full(fd, opt, s->optdata_len, timeout_ms);
	if (rc)
		read_fail(rc, "optional data", RVMIG_XL_HEADER_LEN, timeout_ms, why, whylen);
	else if ((rc = check(p, opt, s->optdata_len, why, whylen)))
		;
	else if ((rc = xl_saved_parse_optdata(opt, s, &bad)) == -ENOMEM)
		snprintf(why, whylen, "out of memory for a %u-octet configuration", s->config_len);
	else if (rc)
		snprintf(why, whylen, "bad xl header: %s", bad);
out:
	free(opt);
	rvmig_stream_parser_destroy(p);
	return rc;
}

void xl_saved_free(struct xl_saved *s)
{
	free(s->config);
	s->config = NULL;
}
