/* SPDX-License-Identifier: MIT */
/* appmsg.c - encoding and decoding of the rvmig-send / rvmig-recv messages. */
#include <errno.h>
#include <string.h>

#include <rvmig/common.h>

#include "appmsg.h"

uint32_t app_tool_version(void)
{
	return (uint32_t)RVMIG_VERSION_MAJOR << 16 | (uint32_t)RVMIG_VERSION_MINOR << 8 |
	       (uint32_t)RVMIG_VERSION_PATCH;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static size_t hdr(uint8_t *buf, size_t cap, enum app_tag tag, size_t fixed)
{
	if (cap < APP_HDR_LEN + fixed)
		return 0;
	buf[0] = (uint8_t)tag;
	buf[1] = APP_FORMAT_VERSION;
	return APP_HDR_LEN;
}

size_t app_encode_hello(uint8_t *buf, size_t cap, uint32_t flags, uint64_t size,
			const uint8_t *xfer_id)
{
	size_t idl = flags & APP_F_RESUME ? APP_XFER_ID_LEN : 0;
	size_t n = hdr(buf, cap, APP_HELLO, 16 + idl);

	if (!n)
		return 0;
	put32(buf + n, app_tool_version());
	put32(buf + n + 4, flags);
	put64(buf + n + 8, size);
	if (idl)
		memcpy(buf + n + 16, xfer_id, idl);
	return n + 16 + idl;
}

size_t app_encode_resume(uint8_t *buf, size_t cap, uint64_t offset, const uint8_t digest[32])
{
	size_t n = hdr(buf, cap, APP_RESUME, 40);

	if (!n)
		return 0;
	put64(buf + n, offset);
	memcpy(buf + n + 8, digest, 32);
	return n + 40;
}

size_t app_encode_ctrl_hdr(uint8_t *buf, size_t cap)
{
	return hdr(buf, cap, APP_CTRL, 0);
}

size_t app_encode_zero(uint8_t *buf, size_t cap, uint64_t count)
{
	size_t n = hdr(buf, cap, APP_ZERO, 8);

	if (!n)
		return 0;
	put64(buf + n, count);
	return n + 8;
}

size_t app_encode_end(uint8_t *buf, size_t cap, uint64_t total, const uint8_t digest[32],
		      uint64_t pages, uint64_t zero_pages)
{
	size_t n = hdr(buf, cap, APP_END, 56);

	if (!n)
		return 0;
	put64(buf + n, total);
	memcpy(buf + n + 8, digest, 32);
	put64(buf + n + 40, pages);
	put64(buf + n + 48, zero_pages);
	return n + 56;
}

static size_t text(uint8_t *buf, size_t cap, size_t n, const char *t)
{
	size_t l = t ? strlen(t) : 0;

	if (l > cap - n)
		l = cap - n;
	if (l) /* t may be NULL: no text */
		memcpy(buf + n, t, l);
	return n + l;
}

size_t app_encode_abort(uint8_t *buf, size_t cap, int32_t status, const char *t)
{
	size_t n = hdr(buf, cap, APP_ABORT, 4);

	if (!n)
		return 0;
	put32(buf + n, (uint32_t)status);
	return text(buf, cap, n + 4, t);
}

static size_t encode_status(uint8_t *buf, size_t cap, enum app_tag tag, int32_t status,
			    uint64_t bytes, const uint8_t digest[32], const char *t)
{
	size_t n = hdr(buf, cap, tag, 48);

	if (!n)
		return 0;
	put32(buf + n, (uint32_t)status);
	put32(buf + n + 4, app_tool_version());
	put64(buf + n + 8, bytes);
	memcpy(buf + n + 16, digest, 32);
	return text(buf, cap, n + 48, t);
}

size_t app_encode_verdict(uint8_t *buf, size_t cap, int32_t status, uint64_t bytes,
			  const uint8_t digest[32], const char *t)
{
	return encode_status(buf, cap, APP_VERDICT, status, bytes, digest, t);
}

size_t app_encode_exit(uint8_t *buf, size_t cap, int32_t status, uint64_t bytes,
		       const uint8_t digest[32], const char *t)
{
	return encode_status(buf, cap, APP_EXIT, status, bytes, digest, t);
}

size_t app_encode_payload_hdr(uint8_t *buf, size_t cap, enum app_tag tag)
{
	return hdr(buf, cap, tag, 0);
}

size_t app_encode_exec(uint8_t *buf, size_t cap, int argc, char *const argv[])
{
	size_t n = hdr(buf, cap, APP_EXEC, 0);

	for (int i = 0; n && i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;

		if (l > cap - n)
			return 0;
		memcpy(buf + n, argv[i], l);
		n += l;
	}
	return n;
}

int app_decode(const void *buf, size_t len, struct app_msg *m, const char **why)
{
	static const size_t fixed[] = { [APP_HELLO] = 16, [APP_CTRL] = 0,  [APP_ZERO] = 8,
					[APP_END] = 56,   [APP_ABORT] = 4, [APP_VERDICT] = 48,
					[APP_EXEC] = 0,   [APP_OUT] = 0,   [APP_ERR] = 0,
					[APP_EXIT] = 48,  [APP_RESUME] = 40 };
	const uint8_t *p = buf;

	memset(m, 0, sizeof(*m));
	if (len < APP_HDR_LEN) {
		*why = "message shorter than its header";
		return -EBADMSG;
	}
	if (p[1] != APP_FORMAT_VERSION) {
		*why = "message format version differs (tools of another version?)";
		return -EPROTO;
	}
	if (p[0] < APP_HELLO || p[0] > APP_RESUME) {
		*why = "unknown message tag";
		return -EBADMSG;
	}
	m->tag = p[0];
	if (len < APP_HDR_LEN + fixed[m->tag]) {
		*why = "message truncated";
		return -EBADMSG;
	}
	p += APP_HDR_LEN;
	len -= APP_HDR_LEN;
	switch (m->tag) {
	case APP_HELLO:
		m->tool_version = get32(p);
		m->flags = get32(p + 4);
		m->size = get64(p + 8);
		if (m->flags & APP_F_RESUME) {
			if (len < 16 + APP_XFER_ID_LEN) {
				*why = "HELLO asks to resume but carries no transfer id";
				return -EBADMSG;
			}
			memcpy(m->xfer_id, p + 16, APP_XFER_ID_LEN);
		}
		break;
	case APP_RESUME:
		m->offset = get64(p);
		memcpy(m->digest, p + 8, 32);
		break;
	case APP_CTRL:
	case APP_EXEC:
	case APP_OUT:
	case APP_ERR:
		m->data = p;
		m->len = len;
		break;
	case APP_ZERO:
		m->n = get64(p);
		break;
	case APP_END:
		m->n = get64(p);
		memcpy(m->digest, p + 8, 32);
		m->pages = get64(p + 40);
		m->zero_pages = get64(p + 48);
		break;
	case APP_ABORT:
		m->status = (int32_t)get32(p);
		m->data = p + 4;
		m->len = len - 4;
		break;
	case APP_VERDICT:
	case APP_EXIT:
		m->status = (int32_t)get32(p);
		m->tool_version = get32(p + 4);
		m->n = get64(p + 8);
		memcpy(m->digest, p + 16, 32);
		m->data = p + 48;
		m->len = len - 48;
		break;
	}
	return 0;
}

const char *app_tag_name(enum app_tag t)
{
	static const char *const names[] = { "?",     "HELLO", "CTRL", "ZERO", "END", "ABORT",
					     "VERDICT", "EXEC", "OUT",  "ERR",  "EXIT", "RESUME" };

	return (unsigned)t <= APP_RESUME ? names[t] : "?";
}

enum hasher_alg app_flags_digest(uint32_t flags)
{
	return flags & APP_F_SHA256 ? HASHER_SHA256 : HASHER_XXH128;
}
