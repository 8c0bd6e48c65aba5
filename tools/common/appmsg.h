/* SPDX-License-Identifier: MIT */
/*
 * appmsg.h - the messages rvmig-send and rvmig-recv exchange on top of the
 * librvmig transfer API.
 *
 * Page payloads travel as bulk requests (rvmig_client_post); everything else
 * is one of these small messages (rvmig_client_send_msg, ordered with the
 * bulk data; rvmig_reply_msg for the verdict).  Each message starts with a
 * tag octet and the format version octet; fields follow little-endian,
 * packed, at the offsets given below.  The librvmig message header already
 * carries a stream offset, so CTRL and ZERO do not repeat it.
 *
 *   HELLO    sender -> receiver, first message
 *            u32 tool version, u32 flags (APP_F_*; APP_F_SHA256 selects the
 *            digest of END/VERDICT/RESUME), u64 input size (0: unknown),
 *            with APP_F_RESUME also u8[32] transfer id (rvmig-send --resume:
 *            the same input gives the same id, see send/xferid.h)
 *   CTRL     stream bytes that are not page payload (headers, record headers,
 *            pfn arrays, non-page records), copied; delivered at the event's
 *            stream offset.  Payload: the bytes.
 *   ZERO     u64 n: n zero octets at the event's stream offset (elided pages);
 *            n is at most APP_ZERO_MAX and never goes past the size a HELLO
 *            announced (receivers refuse it: pipeline/rebuild.h)
 *   END      u64 total stream length, u8[32] digest of all input bytes,
 *            u64 pages, u64 zero pages
 *   ABORT    sender gives up: i32 -errno, then text (why, where)
 *   VERDICT  receiver -> sender: i32 status (0: written and verified, else
 *            -errno / -RVMIG_E*), u32 tool version, u64 bytes written,
 *            u8[32] digest of what was written, then text
 *   RESUME   receiver -> sender (reply), answer to a HELLO with APP_F_RESUME,
 *            before any data: u64 offset, u8[32] digest of the stream bytes
 *            [0, offset).  The receiver holds [0, offset) durably for this
 *            transfer id (0: it starts from the beginning); the sender sends
 *            from `offset` on (still hashing the whole input for END).
 *
 * rvmig-tunnel / rvmigd use CTRL, ZERO, bulk data and END (end of the
 * tunnel's stdin) the same way, plus:
 *   EXEC     tunnel -> daemon, first message: the command's argv, each
 *            argument NUL-terminated
 *   OUT      daemon -> tunnel (reply): bytes the command wrote on stdout
 *   ERR      daemon -> tunnel (reply): bytes the command wrote on stderr
 *   EXIT     daemon -> tunnel (reply), last: i32 status (0..255: the
 *            command's exit status; 256 + N: killed by signal N; < 0:
 *            -errno, the daemon failed or refused), u32 tool version,
 *            u64 stdin bytes delivered, u8[32] their digest, then text
 *
 * Digests (common/hasher.h) travel in a 32-octet slot: XXH3-128, canonical
 * big-endian in the first 16 octets and 16 zero octets after them (the
 * default, and always for the tunnel), or SHA-256 when the HELLO has
 * APP_F_SHA256.  Format version 2 introduced the choice; version 1 always
 * carried SHA-256 and is refused (-EPROTO) rather than misread.
 */
#ifndef RVMIG_TOOLS_APPMSG_H
#define RVMIG_TOOLS_APPMSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/hasher.h"

#define APP_FORMAT_VERSION 2
#define APP_HDR_LEN 2

enum app_tag {
	APP_HELLO = 1,
	APP_CTRL = 2,
	APP_ZERO = 3,
	APP_END = 4,
	APP_ABORT = 5,
	APP_VERDICT = 6,
	APP_EXEC = 7,
	APP_OUT = 8,
	APP_ERR = 9,
	APP_EXIT = 10,
	APP_RESUME = 11,
};

enum {
	APP_F_RAW = 1u << 0, /* input is not parsed as a Xen stream */
	APP_F_SIZE = 1u << 1, /* hello.size is the exact input length */
	APP_F_RESUME = 1u << 2, /* hello.xfer_id follows; the sender wants RESUME */
	APP_F_SHA256 = 1u << 3, /* digests are SHA-256 (else XXH3-128) */
};

#define APP_XFER_ID_LEN 32

/* The longest zero run one ZERO message may carry.  Senders elide the
 * all-zero pages of a Xen PAGE_DATA record, and a record is at most
 * 128 MiB (RVMIG_STREAM_REC_LENGTH_MAX), so no real run comes near it; a
 * larger n is a protocol error, whatever size the stream announced. */
#define APP_ZERO_MAX (1ull << 30)

/* Tool version as carried on the wire: major << 16 | minor << 8 | patch. */
uint32_t app_tool_version(void);

struct app_msg {
	enum app_tag tag;
	/* HELLO */
	uint32_t tool_version;
	uint32_t flags;
	uint64_t size;
	uint8_t xfer_id[APP_XFER_ID_LEN]; /* with APP_F_RESUME */
	/* RESUME: offset */
	uint64_t offset;
	/* ZERO: n; END: total; VERDICT: bytes written */
	uint64_t n;
	/* END, VERDICT, RESUME, EXIT: the digest slot (see above) */
	uint8_t digest[32];
	uint64_t pages, zero_pages;
	/* ABORT, VERDICT */
	int32_t status;
	/* CTRL, OUT, ERR, EXEC: payload; ABORT, VERDICT, EXIT: text (not
	 * NUL-terminated) */
	const uint8_t *data;
	size_t len;
};

/* Encoders write into buf (at least cap octets) and return the length, or 0
 * if it does not fit.  Texts are truncated to fit. */
/* xfer_id: APP_XFER_ID_LEN octets, sent only with APP_F_RESUME in flags. */
size_t app_encode_hello(uint8_t *buf, size_t cap, uint32_t flags, uint64_t size,
			const uint8_t *xfer_id);
size_t app_encode_resume(uint8_t *buf, size_t cap, uint64_t offset, const uint8_t digest[32]);
size_t app_encode_ctrl_hdr(uint8_t *buf, size_t cap); /* payload follows */
size_t app_encode_zero(uint8_t *buf, size_t cap, uint64_t n);
size_t app_encode_end(uint8_t *buf, size_t cap, uint64_t total, const uint8_t digest[32],
		      uint64_t pages, uint64_t zero_pages);
size_t app_encode_abort(uint8_t *buf, size_t cap, int32_t status, const char *text);
size_t app_encode_verdict(uint8_t *buf, size_t cap, int32_t status, uint64_t bytes,
			  const uint8_t digest[32], const char *text);

/* EXIT: like VERDICT, with the status defined above. */
size_t app_encode_exit(uint8_t *buf, size_t cap, int32_t status, uint64_t bytes,
		       const uint8_t digest[32], const char *text);
/* Header of a message whose payload follows (CTRL, OUT, ERR, EXEC). */
size_t app_encode_payload_hdr(uint8_t *buf, size_t cap, enum app_tag tag);
/* EXEC with argv[0..argc-1]; 0 if it does not fit. */
size_t app_encode_exec(uint8_t *buf, size_t cap, int argc, char *const argv[]);

/* Decodes one message.  Returns 0, or -EBADMSG (truncated, unknown tag)
 * or -EPROTO (other format version) with `why` naming the problem. */
int app_decode(const void *buf, size_t len, struct app_msg *m, const char **why);

const char *app_tag_name(enum app_tag t);

/* The digest a HELLO's flags select (APP_F_SHA256, else XXH3-128). */
enum hasher_alg app_flags_digest(uint32_t flags);

#endif
