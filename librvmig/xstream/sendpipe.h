/* SPDX-License-Identifier: MIT */
/*
 * sendpipe.h - the sending half of rvmig_xsend (rvmig/xstream.h):
 * stream bytes held in registered input memory (send/input.h) become
 * ordered librvmig requests.
 *
 *   - page payloads of a parsed Xen stream: zero-copy bulk requests
 *     (rvmig_client_post) straight from the input memory, runs of adjacent
 *     pages coalesced up to 4 MiB;
 *   - all-zero pages: ZERO messages (see sendpipe.zero_min);
 *   - every other byte (headers, record headers, pfn arrays, non-page
 *     records, trailer, unparsed input): CTRL messages, coalesced;
 *   - raw input (rvmig-send --raw): bulk requests.
 *
 * Every input byte is added to a digest (sendpipe_digest(); XXH3-128 or
 * SHA-256, digest.h) as it is handed to the owner's process function
 * (sendpipe_hand(): one hasher feed per read, not one per item).  Requests
 * are tracked in post order; `acked` is the stream offset below which all of
 * them completed, so input buffers up to there may be reused.  Events other
 * than completions (replies, peer close) go to the owner's callback.
 */
#ifndef RVMIG_XSTREAM_SENDPIPE_H
#define RVMIG_XSTREAM_SENDPIPE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <rvmig/stream.h>
#include <rvmig/xfer.h>
#include <rvmig/publish.h>

#include "xstream/digest.h"
#include "xstream/input.h"

struct sendpipe;
/* Called from sendpipe_pump() for RVMIG_EV_RECV_MSG (released afterwards)
 * and RVMIG_EV_PEER_CLOSED. */
typedef void (*sendpipe_event_fn)(struct sendpipe *p, const struct rvmig_event *ev);

enum sendpipe_kind { SP_NONE, SP_CTRL, SP_DATA, SP_ZERO };

struct sendpipe_inflight {
	uint64_t end; /* stream offset after the request */
	bool done;
};

struct sendpipe {
	rvmig_ep *ep;
	struct send_input *in;
	sendpipe_event_fn on_event;
	void *arg;                /* owner's */
	const volatile int *stop; /* optional: nonzero (a signal number) stops */
	rvmig_pubxfer *pub;       /* optional: fed `acked`, pages and zero pages
				   * at each pump (rvmig/publish.h) */
	bool quit;                /* owner: end sendpipe_run() now */
	void (*on_pump)(struct sendpipe *p); /* optional: after each sendpipe_pump() */
	/* digest of every byte handed on, maybe in a worker thread: input
	 * memory is reused only below both `acked` and what the worker has
	 * hashed (sendpipe_reusable()). */
	struct hasher *sha;
	size_t msg_max;

	/* the item being coalesced */
	enum sendpipe_kind pk;
	uint64_t p_off, p_len;
	struct in_seg p_seg;
	uint8_t *msg;             /* CTRL message being filled: header + payload */
	size_t msg_hdr;

	/* requests in flight, by sequence number (= cookie) */
	struct sendpipe_inflight *fl;
	uint64_t fl_cap, seq_head, seq_next;
	uint64_t acked;           /* every request ending at or before this completed */

	uint64_t zero_min;        /* shortest zero run elided, bytes */
	uint64_t ztail;           /* zero bytes at the end of the pending data run */
	uint64_t data_end;        /* stream offset after the last data (pending
				   * or posted) */
	uint64_t pages, zero_pages, control_bytes, data_bytes;
	uint64_t page_copy_bytes; /* page payload that went as CTRL (copied) */
	uint64_t skip;            /* resume: bytes below this are hashed, not sent */
	uint64_t items;           /* parser items handed on */
	struct timespec last_pump; /* when the endpoint was last driven */
	int err;                  /* first fatal error */
	bool link_err;            /* ... and it came from the connection */
	char errtxt[1024];
};

/* Sets up (the endpoint is attached later with sendpipe_attach()).
 * zero_min: shortest run of zero pages, in bytes, that is elided.  Returns
 * 0 or -ENOMEM. */
int sendpipe_init(struct sendpipe *p, struct send_input *in, uint64_t zero_min,
		  enum rvmig_digest_alg alg, bool thread,
		  sendpipe_event_fn on_event, void *arg);
void sendpipe_attach(struct sendpipe *p, rvmig_ep *ep);
/* Resume at stream offset `off`: items (raw runs) ending at or before it
 * are only hashed; one straddling it is sent from `off` on (page bytes as
 * bulk data, zero pages as a ZERO run, other bytes as CTRL).  Call before
 * anything is handed on. */
void sendpipe_resume_at(struct sendpipe *p, uint64_t off);
void sendpipe_fini(struct sendpipe *p);

/* Records the first fatal error (later ones are ignored). */
void sendpipe_fail(struct sendpipe *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Drives the endpoint once (waiting up to timeout_ms) and handles events. */
void sendpipe_pump(struct sendpipe *p, int timeout_ms);

/* Newly read input bytes [off, off + len) at `data`: hashed (the next bytes
 * of the stream, in order), then given to process().  sendpipe_run() hands
 * on what it reads this way; a fed sender calls it for each piece. */
typedef void (*sendpipe_process_fn)(struct sendpipe *p, uint64_t off, const uint8_t *data,
				    size_t len);
void sendpipe_hand(struct sendpipe *p, sendpipe_process_fn process, uint64_t off,
		   const uint8_t *data, size_t len);

/* What process() does with the bytes handed to it (hashed already):
 * one parser item (page or control/trailer bytes) ... */
void sendpipe_item(struct sendpipe *p, const struct rvmig_stream_item *it);
/* ... bytes at `off` as CTRL messages (copied) ... */
void sendpipe_bytes(struct sendpipe *p, uint64_t off, const void *data, size_t len);
/* ... input bytes [off, off + len) as bulk requests from the input memory. */
void sendpipe_raw(struct sendpipe *p, uint64_t off, uint64_t len);
/* Posts whatever is being coalesced. */
void sendpipe_flush(struct sendpipe *p);
/* Posts a whole message at stream offset `off`, waiting out back-pressure. */
void sendpipe_msg(struct sendpipe *p, const void *msg, size_t len, uint64_t off);
/* Waits until every posted request completed (or an error). */
void sendpipe_drain(struct sendpipe *p);
/* Stream offset below which input memory is no longer needed: every
 * request there completed and every byte there is hashed. */
uint64_t sendpipe_reusable(struct sendpipe *p);
/* Digest of every byte handed on so far (call once, at the end). */
void sendpipe_digest(struct sendpipe *p, uint8_t out[RVMIG_DIGEST_LEN]);

/*
 * Reads the input (sendpipe.in) into the ring until end of input, an
 * error, *p->stop or p->quit, handing each newly read run of bytes to
 * process(p, off, data, len) right after its read (sendpipe_hand(); a
 * pipe's pending bytes are also flushed whenever it pauses, so interactive
 * exchanges are not held back).  `data` stays in place until the requests
 * made from it complete and it is hashed.  Events are handled meanwhile.
 */
void sendpipe_run(struct sendpipe *p, sendpipe_process_fn process);

#endif
