/* SPDX-License-Identifier: MIT */
#include <endian.h>
#include <stdbool.h>

#include <rvmig/common.h>

#include "proto/wire.h"

static const char *const names[MSG__MAX] = {
	[MSG_READY] = "READY", [MSG_WRITE_DONE] = "WRITE_DONE", [MSG_SLOT_FREE] = "SLOT_FREE",
	[MSG_XFER_REQ] = "XFER_REQ", [MSG_XFER_ACK] = "XFER_ACK", [MSG_INLINE] = "INLINE",
	[MSG_CREDIT] = "CREDIT", [MSG_PING] = "PING", [MSG_BYE] = "BYE", [MSG_ERROR] = "ERROR",
	[MSG_CHALLENGE] = "CHALLENGE", [MSG_AUTH] = "AUTH",
};

const char *wire_msg_name(unsigned type)
{
	return type < MSG__MAX && names[type] ? names[type] : "unknown";
}

/* Conversion helpers: the same code serves both directions. */
#define CV16(x) ((x) = enc ? htole16(x) : le16toh(x))
#define CV32(x) ((x) = enc ? htole32(x) : le32toh(x))
#define CV64(x) ((x) = enc ? htole64(x) : le64toh(x))

static void hello_cv(struct wire_hello *h, bool enc)
{
	CV32(h->magic);
	CV16(h->version);
	CV32(h->caps);
	CV16(h->ctrl_credits);
	CV64(h->session);
	CV32(h->timeout_ms);
	h->status = (int32_t)(enc ? htole32((uint32_t)h->status) : le32toh((uint32_t)h->status));
}

void wire_hello_enc(struct wire_hello *h)
{
	hello_cv(h, true);
}

int wire_hello_dec(struct wire_hello *h, size_t len)
{
	if (len < sizeof(*h))
		return -RVMIG_EBADMSG;
	hello_cv(h, false);
	if (h->magic != WIRE_MAGIC)
		return -RVMIG_EBADMSG;
	return 0;
}

static size_t min_len(unsigned type)
{
	switch (type) {
	case MSG_READY: return sizeof(struct wire_ready);
	case MSG_WRITE_DONE: return sizeof(struct wire_write_done);
	case MSG_SLOT_FREE: return offsetof(struct wire_slot_free, slots);
	case MSG_XFER_REQ: return sizeof(struct wire_xfer_req);
	case MSG_XFER_ACK: return sizeof(struct wire_xfer_ack);
	case MSG_INLINE: return sizeof(struct wire_inline);
	case MSG_BYE: return sizeof(struct wire_bye);
	case MSG_ERROR: return sizeof(struct wire_error);
	case MSG_CHALLENGE: return sizeof(struct wire_challenge);
	case MSG_AUTH: return sizeof(struct wire_auth);
	default: return sizeof(struct wire_hdr);
	}
}

static int msg_cv(void *msg, size_t len, bool enc)
{
	struct wire_hdr *h = msg;
	unsigned type = h->type;

	if (!enc) {
		if (len < sizeof(*h))
			return -RVMIG_EBADMSG;
		CV16(h->credits);
		CV32(h->len);
		if (h->len != len || type == 0 || type >= MSG__MAX || len < min_len(type))
			return -RVMIG_EBADMSG;
	}
	switch (type) {
	case MSG_READY: {
		struct wire_ready *m = msg;

		CV64(m->ring_addr);
		CV32(m->ring_rkey);
		CV32(m->nslots);
		CV32(m->slot_size);
		CV32(m->max_announce);
		CV32(m->flags);
		break;
	}
	case MSG_WRITE_DONE: {
		struct wire_write_done *m = msg;

		CV64(m->seq);
		CV64(m->stream_off);
		CV32(m->slot);
		CV32(m->len);
		CV32(m->crc);
		break;
	}
	case MSG_SLOT_FREE: {
		struct wire_slot_free *m = msg;
		uint32_t n = enc ? m->n : le32toh(m->n);

		if (n > WIRE_SLOT_FREE_MAX ||
		    (!enc && len != offsetof(struct wire_slot_free, slots) + n * sizeof(uint32_t)))
			return -RVMIG_EBADMSG;
		CV32(m->n);
		for (uint32_t i = 0; i < n; i++)
			CV32(m->slots[i]);
		break;
	}
	case MSG_XFER_REQ: {
		struct wire_xfer_req *m = msg;

		CV64(m->seq);
		CV64(m->stream_off);
		CV64(m->addr);
		CV32(m->rkey);
		CV32(m->len);
		CV32(m->crc);
		break;
	}
	case MSG_XFER_ACK:
		CV64(((struct wire_xfer_ack *)msg)->upto);
		break;
	case MSG_INLINE: {
		struct wire_inline *m = msg;

		CV64(m->seq);
		CV64(m->stream_off);
		CV32(m->len);
		if (!enc && len != sizeof(*m) + m->len)
			return -RVMIG_EBADMSG;
		break;
	}
	case MSG_BYE:
		CV64(((struct wire_bye *)msg)->seq);
		break;
	case MSG_ERROR: {
		struct wire_error *m = msg;

		m->code = (int32_t)(enc ? htole32((uint32_t)m->code) : le32toh((uint32_t)m->code));
		m->text[sizeof(m->text) - 1] = 0;
		break;
	}
	default:
		break;
	}
	if (enc) {
		CV16(h->credits);
		CV32(h->len);
	}
	return 0;
}

void wire_msg_enc(void *msg)
{
	msg_cv(msg, 0, true);
}

int wire_msg_dec(void *msg, size_t len)
{
	return msg_cv(msg, len, false);
}
