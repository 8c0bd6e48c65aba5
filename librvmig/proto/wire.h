/* SPDX-License-Identifier: MIT */
/*
 * wire.h - rvmig's protocol on the wire, the same for every transport.
 *
 * All fields little-endian, fixed width, sizes asserted.  Two layers:
 *  - the hello exchanged at link set-up (rdma_cm private data on verbs, the
 *    first message on TCP), at most TP_HELLO_MAX bytes;
 *  - control messages on SEND/RECV, each starting with struct wire_hdr whose
 *    `credits` field returns receive buffers to the peer.
 * Bulk payload never travels in control messages: it moves by one-sided
 * WRITE (push) or READ (pull) between registered buffers.
 */
#ifndef RVMIG_WIRE_H
#define RVMIG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC 0x474d5652u /* "RVMG" */
#define WIRE_VERSION 1
#define WIRE_CTRL_SIZE 4096    /* bytes per control buffer */

enum wire_hello_kind { HELLO_REQ = 1, HELLO_ACCEPT = 2, HELLO_REJECT = 3 };

enum wire_caps {
	WIRE_CAP_PUSH = 1u << 0,
	WIRE_CAP_PULL = 1u << 1,
	WIRE_CAP_CRC = 1u << 2, /* client sends CRC32C with each chunk */
};

struct wire_hello {
	uint32_t magic;
	uint16_t version;
	uint8_t kind;
	uint8_t mode;
	uint32_t caps;
	uint8_t link_idx;
	uint8_t nlinks;
	uint16_t ctrl_credits; /* receive buffers the sender of this hello posted per link */
	uint64_t session;
	uint32_t timeout_ms;
	int32_t status;        /* REJECT: positive RVMIG_E* / errno */
	uint8_t reserved[16];
};
_Static_assert(sizeof(struct wire_hello) == 48, "hello must fit rdma_cm private data");

enum wire_msg_type {
	MSG_READY = 1,     /* receiver -> sender: ring description, ready for data */
	MSG_WRITE_DONE,    /* push: data of `seq` is in `slot` */
	MSG_SLOT_FREE,     /* push: receiver returns slots */
	MSG_XFER_REQ,      /* pull: please READ `seq` from (addr, rkey) */
	MSG_XFER_ACK,      /* pull: every seq < upto is read */
	MSG_INLINE,        /* small message carried in the control buffer */
	MSG_CREDIT,        /* only returns credits */
	MSG_PING,          /* keepalive */
	MSG_BYE,           /* clean end of stream (seq-ordered) */
	MSG_ERROR,         /* peer is giving up; text says why */
	MSG_CHALLENGE,     /* receiver -> client: prove you hold the key */
	MSG_AUTH,          /* client -> receiver: the proof */
	MSG__MAX
};

struct wire_hdr {
	uint8_t type;
	uint8_t flags;
	uint16_t credits;
	uint32_t len; /* whole message, header included */
};
_Static_assert(sizeof(struct wire_hdr) == 8, "wire_hdr is 8 bytes");

#define WIRE_NONCE 32
#define WIRE_MAC 32

enum wire_ready_flags { READY_AUTHENTICATED = 1 };

struct wire_ready {
	struct wire_hdr h;
	uint64_t ring_addr;
	uint32_t ring_rkey;
	uint32_t nslots;
	uint32_t slot_size;
	uint32_t max_announce;
	uint32_t flags;
	uint32_t pad;
	uint8_t proof[WIRE_MAC]; /* receiver's proof, READY_AUTHENTICATED */
};

struct wire_challenge {
	struct wire_hdr h;
	uint8_t nonce[WIRE_NONCE];
};

struct wire_auth {
	struct wire_hdr h;
	uint8_t nonce[WIRE_NONCE];
	uint8_t proof[WIRE_MAC];
};

struct wire_write_done {
	struct wire_hdr h;
	uint64_t seq;
	uint64_t stream_off;
	uint32_t slot;
	uint32_t len;
	uint32_t crc;
	uint32_t pad;
};

#define WIRE_SLOT_FREE_MAX 64
struct wire_slot_free {
	struct wire_hdr h;
	uint32_t n;
	uint32_t pad;
	uint32_t slots[WIRE_SLOT_FREE_MAX];
};

struct wire_xfer_req {
	struct wire_hdr h;
	uint64_t seq;
	uint64_t stream_off;
	uint64_t addr;
	uint32_t rkey;
	uint32_t len;
	uint32_t crc;
	uint32_t pad;
};

struct wire_xfer_ack {
	struct wire_hdr h;
	uint64_t upto;
};

struct wire_inline {
	struct wire_hdr h;
	uint64_t seq;
	uint64_t stream_off;
	uint32_t len;
	uint32_t pad;
	uint8_t data[];
};
#define WIRE_INLINE_MAX (WIRE_CTRL_SIZE - sizeof(struct wire_inline))

struct wire_bye {
	struct wire_hdr h;
	uint64_t seq;
};

struct wire_error {
	struct wire_hdr h;
	int32_t code;
	char text[116];
};

/* Host <-> wire conversion of a whole message in place; decode also checks
 * the length against the type.  Return 0 or -RVMIG_EBADMSG. */
void wire_hello_enc(struct wire_hello *h);
int wire_hello_dec(struct wire_hello *h, size_t len);
void wire_msg_enc(void *msg);
int wire_msg_dec(void *msg, size_t len);
const char *wire_msg_name(unsigned type);

#endif
