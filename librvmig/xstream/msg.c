/* SPDX-License-Identifier: MIT */
/* appmsg.c - encoding and decoding of the rvmig-send / rvmig-recv messages. */
#include <errno.h>
#include <string.h>

#include <rvmig/common.h>

#include "xstream/msg.h"

uint32_t rvmig_xmsg_tool_version(void)
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

static size_t hdr(uint8_t *buf, size_t cap, enum rvmig_xmsg_tag tag, size_t fixed)
{
	if (cap < RVMIG_XMSG_HDR_LEN + fixed)
		return 0;
	buf[0] = (uint8_t)tag;
	buf[1] = RVMIG_XMSG_VERSION;
	return RVMIG_XMSG_HDR_LEN;
}

size_t rvmig_xmsg_encode_hello(uint8_t *buf, size_t cap, uint32_t flags, uint64_t size,
			const uint8_t *xfer_id)
{
	size_t idl = flags & RVMIG_XMSG_F_RESUME ? RVMIG_XFER_ID_LEN : 0;
	size_t n = hdr(buf, cap, RVMIG_XMSG_HELLO, 16 + idl);

	if (!n)
		return 0;
	put32(buf + n, rvmig_xmsg_tool_version());
	put32(buf + n + 4, flags);
	put64(buf + n + 8, size);
	if (idl)
		memcpy(buf + n + 16, xfer_id, idl);
	return n + 16 + idl;
}

size_t rvmig_xmsg_encode_resume(uint8_t *buf, size_t cap, uint64_t offset, const uint8_t digest[32])
{
	size_t n = hdr(buf, cap, RVMIG_XMSG_RESUME, 40);

	if (!n)
		return 0;
	put64(buf + n, offset);
	memcpy(buf + n + 8, digest, 32);
	return n + 40;
}

size_t app_encode_ctrl_hdr(uint8_t *buf, size_t cap)
{
	return hdr(buf, cap, RVMIG_XMSG_CTRL, 0);
}

size_t rvmig_xmsg_encode_zero(uint8_t *buf, size_t cap, uint64_t count)
{
	size_t n = hdr(buf, cap, RVMIG_XMSG_ZERO, 8);

	if (!n)
		return 0;
	put64(buf + n, count);
	return n + 8;
}

size_t rvmig_xmsg_encode_end(uint8_t *buf, size_t cap, uint64_t total, const uint8_t digest[32],
		      uint64_t pages, uint64_t zero_pages)
{
	size_t n = hdr(buf, cap, RVMIG_XMSG_END, 56);

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

size_t rvmig_xmsg_encode_abort(uint8_t *buf, size_t cap, int32_t status, const char *t)
{
	size_t n = hdr(buf, cap, RVMIG_XMSG_ABORT, 4);

	if (!n)
		return 0;
	put32(buf + n, (uint32_t)status);
	return text(buf, cap, n + 4, t);
}

static size_t encode_status(uint8_t *buf, size_t cap, enum rvmig_xmsg_tag tag, int32_t status,
			    uint64_t bytes, const uint8_t digest[32], const char *t)
{
	size_t n = hdr(buf, cap, tag, 48);

	if (!n)
		return 0;
	put32(buf + n, (uint32_t)status);
	put32(buf + n + 4, rvmig_xmsg_tool_version());
	put64(buf + n + 8, bytes);
	memcpy(buf + n + 16, digest, 32);
	return text(buf, cap, n + 48, t);
}

size_t rvmig_xmsg_encode_verdict(uint8_t *buf, size_t cap, int32_t status, uint64_t bytes,
			  const uint8_t digest[32], const char *t)
{
	return encode_status(buf, cap, RVMIG_XMSG_VERDICT, status, bytes, digest, t);
}

size_t rvmig_xmsg_encode_exit(uint8_t *buf, size_t cap, int32_t status, uint64_t bytes,
		       const uint8_t digest[32], const char *t)
{
	return encode_status(buf, cap, RVMIG_XMSG_EXIT, status, bytes, digest, t);
}

size_t rvmig_xmsg_encode_payload_hdr(uint8_t *buf, size_t cap, enum rvmig_xmsg_tag tag)
{
	return hdr(buf, cap, tag, 0);
}

size_t rvmig_xmsg_encode_exec(uint8_t *buf, size_t cap, int argc, char *const argv[])
{
	size_t n = hdr(buf, cap, RVMIG_XMSG_EXEC, 0);

	for (int i = 0; n && i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;

		if (l > cap - n)
			return 0;
		memcpy(buf + n, argv[i], l);
		n += l;
	}
	return n;
}

int rvmig_xmsg_decode(const void *buf, size_t len, struct rvmig_xmsg *m, const char **why)
{
	static const size_t fixed[] = { [RVMIG_XMSG_HELLO] = 16, [RVMIG_XMSG_CTRL] = 0,  [RVMIG_XMSG_ZERO] = 8,
					[RVMIG_XMSG_END] = 56,   [RVMIG_XMSG_ABORT] = 4, [RVMIG_XMSG_VERDICT] = 48,
					[RVMIG_XMSG_EXEC] = 0,   [RVMIG_XMSG_OUT] = 0,   [RVMIG_XMSG_ERR] = 0,
					[RVMIG_XMSG_EXIT] = 48,  [RVMIG_XMSG_RESUME] = 40 };
	const uint8_t *p = buf;

	memset(m, 0, sizeof(*m));
	if (len < RVMIG_XMSG_HDR_LEN) {
		*why = "message shorter than its header";
		return -EBADMSG;
	}
	if (p[1] != RVMIG_XMSG_VERSION) {
		*why = "message format version differs (tools of another version?)";
		return -EPROTO;
	}
	if (p[0] < RVMIG_XMSG_HELLO || p[0] > RVMIG_XMSG_RESUME) {
		*why = "unknown message tag";
		return -EBADMSG;
	}
	m->tag = p[0];
	if (len < RVMIG_XMSG_HDR_LEN + fixed[m->tag]) {
		*why = "message truncated";
		return -EBADMSG;
	}
	p += RVMIG_XMSG_HDR_LEN;
	len -= RVMIG_XMSG_HDR_LEN;
	switch (m->tag) {
	case RVMIG_XMSG_HELLO:
		m->tool_version = get32(p);
		m->flags = get32(p + 4);
		m->input_size = get64(p + 8);
		if (m->flags & RVMIG_XMSG_F_RESUME) {
			if (len < 16 + RVMIG_XFER_ID_LEN) {
				*why = "HELLO asks to resume but carries no transfer id";
				return -EBADMSG;
			}
			memcpy(m->xfer_id, p + 16, RVMIG_XFER_ID_LEN);
		}
		break;
	case RVMIG_XMSG_RESUME:
		m->offset = get64(p);
		memcpy(m->digest, p + 8, 32);
		break;
	case RVMIG_XMSG_CTRL:
	case RVMIG_XMSG_EXEC:
	case RVMIG_XMSG_OUT:
	case RVMIG_XMSG_ERR:
		m->data = p;
		m->len = len;
		break;
	case RVMIG_XMSG_ZERO:
		m->n = get64(p);
		break;
	case RVMIG_XMSG_END:
		m->n = get64(p);
		memcpy(m->digest, p + 8, 32);
		m->pages = get64(p + 40);
		m->zero_pages = get64(p + 48);
		break;
	case RVMIG_XMSG_ABORT:
		m->status = (int32_t)get32(p);
		m->data = p + 4;
		m->len = len - 4;
		break;
	case RVMIG_XMSG_VERDICT:
	case RVMIG_XMSG_EXIT:
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

const char *rvmig_xmsg_tag_name(enum rvmig_xmsg_tag t)
{
	static const char *const names[] = { "?",     "HELLO", "CTRL", "ZERO", "END", "ABORT",
					     "VERDICT", "EXEC", "OUT",  "ERR",  "EXIT", "RESUME" };

	return (unsigned)t <= RVMIG_XMSG_RESUME ? names[t] : "?";
}

enum rvmig_digest_alg rvmig_xmsg_digest_alg(uint32_t flags)
{
	return flags & RVMIG_XMSG_F_SHA256 ? RVMIG_DIGEST_SHA256 : RVMIG_DIGEST_XXH128;
}
