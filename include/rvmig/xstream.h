/* SPDX-License-Identifier: MIT */
/*
 * rvmig/xstream.h - moving a whole Xen save / migration stream (or any
 * bytes) over an endpoint: the protocol of rvmig-send, rvmig-recv,
 * rvmig-tunnel and rvmigd as a library (rvmig_xstream(3)).
 *
 * Three parts:
 *   - the messages (rvmig_xmsg_*): the wire format both sides speak on top
 *     of the transfer API (rvmig/xfer.h), encoded and decoded without I/O;
 *   - the sender (rvmig_xsend): reads its input (a regular file or a pipe)
 *     into a ring of registered buffers, parses it
 *     as a Xen stream (rvmig/stream.h) unless told not to, and posts page
 *     payloads as zero-copy bulk requests straight from that memory, runs
 *     of all-zero pages as ZERO messages and every other byte as ordered
 *     CTRL messages (copied), with a digest of every byte; or it is handed
 *     the caller's registered memory (rvmig_xsend_feed_mr()) and posts
 *     page payloads straight from there.  What is copied: reading a file
 *     or pipe copies it once, in the kernel, into the ring; CTRL bytes and
 *     rvmig_xsend_msg() are copied; page payloads never are, after that;
 *   - the receiver (rvmig_xrecv): turns bulk data and CTRL / ZERO / END
 *     messages, which arrive in post order, back into the byte stream,
 *     hands it in order to the caller's sink, hashes it, optionally parses
 *     it (a verifying parser), and checks END's length and digest.
 * The session messages around them (HELLO, RESUME, VERDICT, ABORT; EXEC,
 * OUT, ERR, EXIT for a remote command) are posted with rvmig_xsend_msg()
 * and rvmig_reply_msg() and decoded with rvmig_xmsg_decode().  The
 * sending side of a whole session is rvmig_xsender (connect, HELLO,
 * RESUME, VERDICT, retries, or a remote command) with the one-shot
 * rvmig_xstream_send_fd(); the receiving side is rvmig_xrsession with
 * rvmig_xstream_recv_fd().
 * The wire format is that of rvmig 0.1 (message format version 2): old and
 * new programs interoperate.
 *
 * Threads: none, unless the caller sets RVMIG_XSTREAM_F_DIGEST_THREAD in
 * an attr: then one worker thread per object computes the digest,
 * overlapping the transfer (RVMIG_HASH_THREAD=0 in the environment turns
 * it off again).  Everything else happens in the caller's calls, on its
 * thread; callbacks are called only from inside them.
 *
 * Errors: 0 or a count on success, -errno or -RVMIG_E* on failure
 * (rvmig_strerror()).  The first error of an object sticks:
 * rvmig_xsend_error() / rvmig_xrecv_error() return it with a text that
 * says what failed, where (stream offset) and with which peer.  The
 * library never prints.
 *
 * Statistics: rvmig_xsend_stats() / rvmig_xrecv_stats() fill a snapshot
 * (rvmig_xstats_create()) read with rvmig_xstats_get(); counters can be
 * added without changing the ABI.
 */
#ifndef RVMIG_XSTREAM_H
#define RVMIG_XSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvmig/common.h>
#include <rvmig/publish.h>
#include <rvmig/stream.h>
#include <rvmig/xfer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- digests ----------------------------------------------------------- */

/*
 * The end-to-end digest.  It detects corruption and bugs end to end; it is
 * not a defence against an attacker on the path (who could rewrite END as
 * well).  XXH3-128 (the default) fills the first 16 octets of a 32-octet
 * slot, canonical big-endian (what `xxhsum -H2` prints), the rest zero;
 * SHA-256 fills all 32 (what sha256sum prints).
 */
enum rvmig_digest_alg {
	RVMIG_DIGEST_XXH128 = 0,
	RVMIG_DIGEST_SHA256 = 1,
};
#define RVMIG_DIGEST_LEN 32 /* octets of a digest slot on the wire and in journals */

/* "xxh128" / "sha256". */
RVMIG_API const char *rvmig_digest_name(enum rvmig_digest_alg alg);
/* Parses a name as above: 0 or -EINVAL. */
RVMIG_API int rvmig_digest_parse(const char *name, enum rvmig_digest_alg *alg);
/* Octets of the slot the digest fills (16 or 32). */
RVMIG_API size_t rvmig_digest_size(enum rvmig_digest_alg alg);
/* One-shot digest of [data, data + len) into a zero-padded slot: 0 or
 * -ENOMEM.  Runs on the caller's thread. */
RVMIG_API int rvmig_digest_buf(enum rvmig_digest_alg alg, const void *data, size_t len,
			       uint8_t out[RVMIG_DIGEST_LEN]);
/* The digest as lowercase hex (2 * rvmig_digest_size() digits), NUL-terminated. */
RVMIG_API void rvmig_digest_hex(enum rvmig_digest_alg alg, const uint8_t slot[RVMIG_DIGEST_LEN],
				char out[2 * RVMIG_DIGEST_LEN + 1]);

/* ---- messages ---------------------------------------------------------- */

/*
 * Page payloads travel as bulk requests (rvmig_client_post); everything else
 * is one of these small messages (rvmig_client_send_msg, ordered with the
 * bulk data; rvmig_reply_msg for the answers).  Each message starts with a
 * tag octet and the format version octet; fields follow little-endian,
 * packed.  The librvmig message header already carries a stream offset, so
 * CTRL and ZERO do not repeat it.
 *
 *   HELLO    sender -> receiver, first message
 *            u32 tool version, u32 flags (RVMIG_XMSG_F_*; _SHA256 selects the
 *            digest of END/VERDICT/RESUME), u64 input size (0: unknown),
 *            with RVMIG_XMSG_F_RESUME also u8[32] transfer id (the same
 *            input gives the same id: rvmig_xsend_xfer_id())
 *   CTRL     stream bytes that are not page payload (headers, record headers,
 *            pfn arrays, non-page records), copied; delivered at the event's
 *            stream offset.  Payload: the bytes.
 *   ZERO     u64 n: n zero octets at the event's stream offset (elided pages);
 *            n is at most RVMIG_XMSG_ZERO_MAX and never goes past the size a
 *            HELLO announced (receivers refuse it)
 *   END      u64 total stream length, u8[32] digest of all input bytes,
 *            u64 pages, u64 zero pages
 *   ABORT    sender gives up: i32 -errno, then text (why, where)
 *   VERDICT  receiver -> sender: i32 status (0: written and verified, else
 *            -errno / -RVMIG_E*), u32 tool version, u64 bytes written,
 *            u8[32] digest of what was written, then text
 *   RESUME   receiver -> sender (reply), answer to a HELLO with
 *            RVMIG_XMSG_F_RESUME, before any data: u64 offset, u8[32] digest
 *            of the stream bytes [0, offset).  The receiver holds
 *            [0, offset) durably for this transfer id (0: it starts from the
 *            beginning); the sender sends from `offset` on (still hashing
 *            the whole input for END).
 * A remote command (rvmig-tunnel / rvmigd) uses CTRL, ZERO, bulk data and
 * END (end of its stdin) the same way, plus:
 *   EXEC     first message: the command's argv, each argument NUL-terminated
 *   OUT      reply: bytes the command wrote on stdout
 *   ERR      reply: bytes the command wrote on stderr
 *   EXIT     reply, last: i32 status (0..255: the command's exit status;
 *            256 + N: killed by signal N; < 0: -errno, the far side failed
 *            or refused), u32 tool version, u64 stdin bytes delivered,
 *            u8[32] their digest (always XXH3-128), then text
 * Format version 2 introduced the digest choice; version 1 always carried
 * SHA-256 and is refused (-EPROTO) rather than misread.
 */
#define RVMIG_XMSG_VERSION 2
#define RVMIG_XMSG_HDR_LEN 2     /* tag, version; a payload follows at this offset */
#define RVMIG_XFER_ID_LEN 32     /* octets of a transfer id */
/* The longest zero run one ZERO message may carry.  Senders elide the
 * all-zero pages of a PAGE_DATA record, at most 128 MiB
 * (RVMIG_STREAM_REC_LENGTH_MAX), so no real run comes near it. */
#define RVMIG_XMSG_ZERO_MAX (1ull << 30)

enum rvmig_xmsg_tag {
	RVMIG_XMSG_HELLO = 1,
	RVMIG_XMSG_CTRL = 2,
	RVMIG_XMSG_ZERO = 3,
	RVMIG_XMSG_END = 4,
	RVMIG_XMSG_ABORT = 5,
	RVMIG_XMSG_VERDICT = 6,
	RVMIG_XMSG_EXEC = 7,
	RVMIG_XMSG_OUT = 8,
	RVMIG_XMSG_ERR = 9,
	RVMIG_XMSG_EXIT = 10,
	RVMIG_XMSG_RESUME = 11,
};

/* HELLO flags */
enum {
	RVMIG_XMSG_F_RAW = 1u << 0,    /* input is not parsed as a Xen stream */
	RVMIG_XMSG_F_SIZE = 1u << 1,   /* input_size is the exact input length */
	RVMIG_XMSG_F_RESUME = 1u << 2, /* xfer_id follows; the sender wants RESUME */
	RVMIG_XMSG_F_SHA256 = 1u << 3, /* digests are SHA-256 (else XXH3-128) */
};

/*
 * A decoded message.  Which fields a tag fills is listed above; the others
 * are zero.  `data` points into the buffer given to rvmig_xmsg_decode()
 * (valid as long as it is).  This layout belongs to version node
 * RVMIG_0.11; a later field would come with a new decode call.
 */
struct rvmig_xmsg {
	enum rvmig_xmsg_tag tag;
	uint32_t tool_version;              /* HELLO, VERDICT, EXIT */
	uint32_t flags;                     /* HELLO */
	uint64_t input_size;                /* HELLO */
	uint8_t xfer_id[RVMIG_XFER_ID_LEN]; /* HELLO with RVMIG_XMSG_F_RESUME */
	uint64_t offset;                    /* RESUME */
	uint64_t n;                         /* ZERO: n; END: total; VERDICT, EXIT: bytes */
	uint8_t digest[RVMIG_DIGEST_LEN];   /* END, VERDICT, RESUME, EXIT */
	uint64_t pages, zero_pages;         /* END */
	int32_t status;                     /* ABORT, VERDICT, EXIT */
	/* CTRL, OUT, ERR, EXEC: payload; ABORT, VERDICT, EXIT: text (not
	 * NUL-terminated, the peer's words: escape before printing,
	 * rvmig_text_escape()) */
	const uint8_t *data;
	size_t len;
};

/* Tool version as carried on the wire: major << 16 | minor << 8 | patch. */
RVMIG_API uint32_t rvmig_xmsg_tool_version(void);

/* Encoders write into buf (at least cap octets) and return the length, or
 * 0 if it does not fit; texts are cut to fit.  None keeps a pointer. */
/* xfer_id: RVMIG_XFER_ID_LEN octets, sent only with RVMIG_XMSG_F_RESUME. */
RVMIG_API size_t rvmig_xmsg_encode_hello(uint8_t *buf, size_t cap, uint32_t flags,
					 uint64_t input_size, const uint8_t *xfer_id);
RVMIG_API size_t rvmig_xmsg_encode_resume(uint8_t *buf, size_t cap, uint64_t offset,
					  const uint8_t digest[RVMIG_DIGEST_LEN]);
RVMIG_API size_t rvmig_xmsg_encode_zero(uint8_t *buf, size_t cap, uint64_t n);
RVMIG_API size_t rvmig_xmsg_encode_end(uint8_t *buf, size_t cap, uint64_t total,
				       const uint8_t digest[RVMIG_DIGEST_LEN], uint64_t pages,
				       uint64_t zero_pages);
RVMIG_API size_t rvmig_xmsg_encode_abort(uint8_t *buf, size_t cap, int32_t status,
					 const char *text);
RVMIG_API size_t rvmig_xmsg_encode_verdict(uint8_t *buf, size_t cap, int32_t status,
					   uint64_t bytes, const uint8_t digest[RVMIG_DIGEST_LEN],
					   const char *text);
RVMIG_API size_t rvmig_xmsg_encode_exit(uint8_t *buf, size_t cap, int32_t status, uint64_t bytes,
					const uint8_t digest[RVMIG_DIGEST_LEN], const char *text);
/* The header of a message whose payload the caller puts at
 * buf + RVMIG_XMSG_HDR_LEN (CTRL, OUT, ERR, EXEC). */
RVMIG_API size_t rvmig_xmsg_encode_payload_hdr(uint8_t *buf, size_t cap, enum rvmig_xmsg_tag tag);
/* EXEC with argv[0..argc-1]. */
RVMIG_API size_t rvmig_xmsg_encode_exec(uint8_t *buf, size_t cap, int argc, char *const argv[]);

/* Decodes one message (a peer's: every length is checked).  Returns 0, or
 * -EBADMSG (truncated, unknown tag) or -EPROTO (another format version)
 * with *why (static text) naming the problem. */
RVMIG_API int rvmig_xmsg_decode(const void *buf, size_t len, struct rvmig_xmsg *m,
				const char **why);
/* "HELLO", "CTRL", ...; "?" for an unknown tag. */
RVMIG_API const char *rvmig_xmsg_tag_name(enum rvmig_xmsg_tag t);
/* The digest a HELLO's flags select (RVMIG_XMSG_F_SHA256, else XXH3-128). */
RVMIG_API enum rvmig_digest_alg rvmig_xmsg_digest_alg(uint32_t flags);

/* ---- statistics snapshots ---------------------------------------------- */

typedef struct rvmig_xstats rvmig_xstats;

enum rvmig_xstat {
	RVMIG_XSTAT_BYTES,         /* sender: input bytes read; receiver: stream
				    * bytes delivered (its offset) */
	RVMIG_XSTAT_ACKED,         /* sender: every request below this stream
				    * offset completed */
	RVMIG_XSTAT_HANDED,        /* sender: input bytes handed to the pipeline */
	RVMIG_XSTAT_PAGES,         /* sender: page payloads parsed */
	RVMIG_XSTAT_ZERO_PAGES,    /* sender: ... elided as ZERO runs */
	RVMIG_XSTAT_CONTROL_BYTES, /* bytes that went as CTRL messages */
	RVMIG_XSTAT_DATA_BYTES,    /* bytes that went as bulk data */
	RVMIG_XSTAT_ZERO_BYTES,    /* bytes that went as ZERO runs */
	RVMIG_XSTAT_PLAIN_OFFSET,  /* sender with RVMIG_XSTREAM_F_PLAIN_FALLBACK:
				    * the stream offset from which the input
				    * went as plain CTRL messages (the parser's
				    * reason: rvmig_stream_error()); UINT64_MAX
				    * while it is all parsed */
	RVMIG_XSTAT_PAGE_COPY_BYTES, /* sender: page payload bytes copied in
				      * user space (a page split over more
				      * than two pieces of fed memory went
				      * as CTRL); 0 otherwise (since 0.13) */
	RVMIG_XSTAT_NTYPES,        /* not a counter: how many there are */
};

/* A snapshot to fill (reusable, no allocation per fill): 0 or -ENOMEM. */
RVMIG_API int rvmig_xstats_create(rvmig_xstats **out);
RVMIG_API void rvmig_xstats_destroy(rvmig_xstats *st);
/* A counter of the last fill; 0 for one the filling object does not keep
 * (and for a value past RVMIG_XSTAT_NTYPES of a newer header). */
RVMIG_API uint64_t rvmig_xstats_get(const rvmig_xstats *st, enum rvmig_xstat which);

/* ---- sender ------------------------------------------------------------ */

typedef struct rvmig_xsend rvmig_xsend;

/* attr flags (sender and receiver) */
enum {
	/* sender: the input is any bytes: all of it goes as bulk data */
	RVMIG_XSTREAM_F_RAW = 1u << 0,
	/* sender: input that is not (or stops being) a Xen stream goes on as
	 * CTRL messages instead of failing, and bytes after the stream's END
	 * are allowed (a tunnel carrying xl migrate's whole conversation) */
	RVMIG_XSTREAM_F_PLAIN_FALLBACK = 1u << 1,
	/* both: compute the digest in one worker thread */
	RVMIG_XSTREAM_F_DIGEST_THREAD = 1u << 2,
	/* receiver: the caller keeps each event's buffer until
	 * rvmig_xrecv_hashed() passed its end (see rvmig_xrecv_data()) */
	RVMIG_XSTREAM_F_DEFER_RELEASE = 1u << 3,
};

/*
 * The default shortest zero run elided: four pages (16 KiB).  Chosen by a
 * sweep against nc on a Xen stream with 20 % zero pages (bench/README.md,
 * bench/results/native-2026-12-07: against one page the receiver's CPU
 * 1.87 -> 1.04 s/GiB, the sender's 1.37 -> 0.92, syscalls per MiB 82/221
 * -> 20/14; 16 pages no better).  One page until 0.13.
 */
#define RVMIG_XSEND_ZERO_MIN_DEFAULT (4u * 4096u)

struct rvmig_xsend_attr {
	size_t size;                   /* sizeof(struct rvmig_xsend_attr) */
	uint32_t flags;                /* RVMIG_XSTREAM_F_*; default 0 (parse; fail
					* on input that is no Xen stream) */
	enum rvmig_digest_alg digest;  /* default RVMIG_DIGEST_XXH128 */
	/* Shortest run of all-zero pages sent as a ZERO message, in bytes (a
	 * multiple of 4096; shorter runs go with the page data around them);
	 * 0: RVMIG_XSEND_ZERO_MIN_DEFAULT. */
	uint64_t zero_min;
	/* The input is read into ring_bufs buffers of ring_buf_size bytes,
	 * each registered with the endpoint; 0: 6 and 2 MiB (until
	 * 2026-12: 4 and 8 MiB).  All but one may wait for completions, so
	 * the default holds the default 8 MiB window: give more for a
	 * larger one. */
	unsigned ring_bufs;
	size_t ring_buf_size;
	/* Optional: a nonzero value (a signal number) stops the transfer with
	 * -EINTR at the next check. */
	const volatile int *stop;
	/* Called from inside the sender's calls for each message the peer
	 * sends back (its buffer is released afterwards: copy what you keep)
	 * and when the peer closes the connection. */
	void (*on_reply)(rvmig_xsend *s, const void *msg, size_t len, void *arg);
	void (*on_close)(rvmig_xsend *s, void *arg);
	/* Optional: called after each turn of the endpoint inside the
	 * sender's calls with the acknowledged stream offset (a progress bar). */
	void (*on_progress)(rvmig_xsend *s, uint64_t acked, void *arg);
	void *arg;
};

/*
 * Creates a sender for the input at `path` ("-": standard input): a regular
 * file (positioned at 0) is read by position (pread, 1 MiB at a time, up to
 * the size it has now), anything else as a pipe; either way into the ring
 * of attr.ring_bufs registered buffers, so memory stays bounded by it.
 * The path is kept (copied) for messages and rvmig_xsend_xfer_id().  On
 * failure *out is still set when it could be allocated, so that
 * rvmig_xsend_error() says why (then destroy it); -ENOMEM, -EINVAL, or the
 * -errno of open / fstat / mmap (-EISDIR for a directory).  A file that
 * shrinks while it is read fails the transfer (-ENODATA).
 */
RVMIG_API int rvmig_xsend_create(const char *path, const struct rvmig_xsend_attr *attr,
				 rvmig_xsend **out);
/*
 * A sender whose input is memory the caller holds, registered with the
 * endpoint (rvmig_mr_reg(): a buffer pool, a mapped file), handed over
 * piece by piece with rvmig_xsend_feed_mr() after rvmig_xsend_attach()
 * instead of rvmig_xsend_run(), then rvmig_xsend_end().  `name` (copied;
 * NULL: "memory") is for messages.  attr as for rvmig_xsend_create()
 * (ring_bufs and ring_buf_size unused).  Its input size is unknown
 * (rvmig_xsend_input_size() 0), it cannot resume (rvmig_xsend_xfer_id(),
 * rvmig_xsend_check_prefix(): an error).  0, -EINVAL or -ENOMEM (*out set
 * as for rvmig_xsend_create()).
 */
RVMIG_API int rvmig_xsend_create_fed(const char *name, const struct rvmig_xsend_attr *attr,
				     rvmig_xsend **out);
/*
 * The next `len` input bytes of a fed sender: [offset, offset + len) of
 * `mr`, registered with the attached endpoint (RVMIG_MR_REMOTE_READ in pull
 * mode).  They are parsed (unless RVMIG_XSTREAM_F_RAW) and hashed like any
 * input; page payloads (and raw input) are posted as bulk requests
 * straight from `mr`, never copied; the other bytes (headers, record
 * headers, pfn arrays, and a page split over more than two pieces) are
 * copied into CTRL messages.  Waits out back-pressure; posts everything
 * before returning.  The bytes must stay in place, unchanged, until
 * rvmig_xsend_reusable() has passed their end.  A record cut by the end of
 * a piece is handed on with the next piece (or rvmig_xsend_end()), so a
 * caller cycling buffers needs at least two.  0 or the sender's error
 * (-EINVAL: no fed sender, or `mr` of another endpoint; -ERANGE: outside
 * `mr`; -ENOTCONN: not attached).
 */
RVMIG_API int rvmig_xsend_feed_mr(rvmig_xsend *s, rvmig_mr *mr, uint64_t offset, size_t len);
/* The stream offset below which the sender no longer reads its input
 * memory: every request there completed and the digest has read it (0
 * before rvmig_xsend_attach()). */
RVMIG_API uint64_t rvmig_xsend_reusable(rvmig_xsend *s);

/* Frees everything, the input memory included: first detach the sender
 * (rvmig_xsend_detach(), which deregisters that memory) and close the
 * endpoint, which may still be reading it. */
RVMIG_API void rvmig_xsend_destroy(rvmig_xsend *s);

/* Optional: the transfer the monitor sees (rvmig/publish.h; not owned,
 * NULL: none) is fed the acknowledged offset, pages and zero pages as the
 * transfer goes. */
RVMIG_API void rvmig_xsend_set_pub(rvmig_xsend *s, rvmig_pubxfer *px);

/* The input's name in messages ("stdin" for "-"), size (1 and *size for a
 * regular file, 0 when unknown) and whether it is a regular file read by
 * position, which a new connection or a resume reads again from the start
 * (the name is from when such files were mapped whole; since 0.13 they are
 * read into the ring). */
RVMIG_API const char *rvmig_xsend_input_name(const rvmig_xsend *s);
RVMIG_API int rvmig_xsend_input_size(const rvmig_xsend *s, uint64_t *size);
RVMIG_API bool rvmig_xsend_input_mapped(const rvmig_xsend *s);

/*
 * The transfer id of a resumable transfer: SHA-256 over "rvmig-xfer-id 1",
 * then, each as 8 little-endian octets, the input's size, mtime in ns,
 * st_dev, st_ino, the raw flag (0/1), then the path as given
 * (NUL-terminated).  A rerun on the unchanged file gives the same id; a
 * rewritten file or another one gives another.  0 or -errno.
 */
RVMIG_API int rvmig_xsend_xfer_id(const rvmig_xsend *s, uint8_t id[RVMIG_XFER_ID_LEN]);

/*
 * Starts a connection on `ep` (connected; the caller keeps it and closes it
 * after rvmig_xsend_detach()): everything per connection starts again from
 * stream offset 0 (parser, digest, counters, error) and the input memory
 * is registered (RVMIG_MR_REMOTE_READ in pull mode, else RVMIG_MR_LOCAL).
 * 0 or an error.
 */
RVMIG_API int rvmig_xsend_attach(rvmig_xsend *s, rvmig_ep *ep);
/*
 * Leaves the endpoint, at any point of the transfer: the bulk requests still
 * queued there are cancelled (messages already posted, rvmig_xsend_abort()'s
 * included, still go) and the input memory is deregistered; a buffer with
 * chunks in flight is released by the endpoint once they end, or when it
 * closes.  Call before closing the endpoint (closing it frees its
 * registrations, so a later detach would touch freed ones), and destroy the
 * sender only after closing it.  A fed sender's regions are the caller's:
 * after detach no request on them is queued, so rvmig_mr_dereg() succeeds
 * once the chunks in flight on them have ended (-EBUSY before), or
 * rvmig_ep_close() releases them.
 */
RVMIG_API void rvmig_xsend_detach(rvmig_xsend *s);

/* Posts a whole message (copied) at stream offset `off`, after everything
 * coalesced so far, waiting out back-pressure.  0 or the sender's error. */
RVMIG_API int rvmig_xsend_msg(rvmig_xsend *s, const void *msg, size_t len, uint64_t off);

/*
 * Resume at stream offset `off` (call after attach, before run): the input
 * below it is parsed and hashed but not sent.  rvmig_xsend_check_prefix()
 * first tells whether the peer's digest of that prefix matches the input
 * (a regular file only: rvmig_xsend_input_mapped(); it reads the prefix
 * again): 0, -ERANGE (the input is shorter), -ENOTSUP (no regular file),
 * -RVMIG_EINTEGRITY (another digest), -ENOMEM, -errno of the read.
 */
RVMIG_API int rvmig_xsend_check_prefix(const rvmig_xsend *s, uint64_t off,
				       const uint8_t digest[RVMIG_DIGEST_LEN]);
RVMIG_API void rvmig_xsend_resume_at(rvmig_xsend *s, uint64_t off);

/*
 * Sends the input: reads it (a pipe: as it comes, handing on what it has
 * whenever the pipe pauses), parses it and posts it, driving the endpoint
 * meanwhile.  Returns at the end of input, on the first error, or when
 * rvmig_xsend_quit() was called from a callback.  0 or the error.
 */
RVMIG_API int rvmig_xsend_run(rvmig_xsend *s);
/* Makes rvmig_xsend_run() return (from on_reply / on_close). */
RVMIG_API void rvmig_xsend_quit(rvmig_xsend *s);

/*
 * End of input: checks that a parsed stream ended properly (-RVMIG_ESTREAM
 * otherwise; with RVMIG_XSTREAM_F_PLAIN_FALLBACK bytes the parser held back
 * go as CTRL instead), posts what is coalesced, finishes the digest into
 * `digest` (may be NULL) and, with `send_end`, posts END (total length,
 * digest, pages, zero pages).  The digest is final afterwards: a new one
 * needs rvmig_xsend_attach().  0 or the error.
 */
RVMIG_API int rvmig_xsend_end(rvmig_xsend *s, bool send_end, uint8_t digest[RVMIG_DIGEST_LEN]);

/* Drives the endpoint once, waiting up to timeout_ms: completions, replies
 * (on_reply), peer close (on_close).  0 or the sender's error. */
RVMIG_API int rvmig_xsend_progress(rvmig_xsend *s, int timeout_ms);
/* Whether requests are still in flight. */
RVMIG_API bool rvmig_xsend_pending(const rvmig_xsend *s);

/* Tells the peer the sender gives up: cancels what is in flight and sends
 * ABORT with the error and its text (best effort, bounded wait). */
RVMIG_API void rvmig_xsend_abort(rvmig_xsend *s);

/* Records the first error (later ones are ignored); with `link` it counts
 * as a connection failure (rvmig_xsend_link_failed()).  Returns err. */
RVMIG_API int rvmig_xsend_fail(rvmig_xsend *s, int err, bool link, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The first error (0: none) and its text (never NULL). */
RVMIG_API int rvmig_xsend_error(const rvmig_xsend *s, const char **text);
/* Whether the first error came from the connection (another may help). */
RVMIG_API bool rvmig_xsend_link_failed(const rvmig_xsend *s);

/* Fills a snapshot: BYTES, ACKED, HANDED, PAGES, ZERO_PAGES, CONTROL_BYTES,
 * DATA_BYTES, ZERO_BYTES, PLAIN_OFFSET, PAGE_COPY_BYTES. */
RVMIG_API void rvmig_xsend_stats(const rvmig_xsend *s, rvmig_xstats *st);
/* The parser of this connection (records by type: rvmig_stream_get_stats()),
 * NULL for raw input; owned by the sender. */
RVMIG_API rvmig_stream_parser *rvmig_xsend_parser(const rvmig_xsend *s);

/* ---- sender session: a whole transfer to a URI ------------------------- */

/*
 * rvmig_xsender is the sending side of a whole session (rvmig_xsender(3)),
 * what rvmig-send, rvmig-save and rvmig-tunnel do: connect to a URI, say
 * HELLO, resume from the receiver's RESUME offset, send the input with an
 * rvmig_xsend, END, and wait (with a deadline) for the VERDICT, whose
 * length and digest must match what was sent; with
 * RVMIG_XSEND_F_RESUME a connection failure is retried, with back-off,
 * from the offset the receiver holds.  rvmig_xsender_exec() runs a command
 * through rvmigd instead (EXEC, the input as its stdin, OUT / ERR / EXIT
 * back).  rvmig_xstream_send_fd() is the one-shot form: send this fd to
 * this URI.
 *
 * The input is an fd the caller keeps (never closed by the library), read
 * from its current position: a regular file at offset 0 is read by
 * position (pread, and may be resumed), anything else is read as a pipe;
 * both into a ring of registered buffers.  Everything happens on the caller's thread inside the calls;
 * with RVMIG_XSTREAM_F_DIGEST_THREAD one worker thread hashes.  Waits:
 * connect (the endpoint's timeout_ms), RESUME and VERDICT
 * (reply_timeout_ms), back-off (at most 8 s each); the command's EXIT
 * waits as long as the connection lives, like ssh, unless
 * reply_timeout_ms is set.
 */
typedef struct rvmig_xsender rvmig_xsender;

/* opts flag beside RVMIG_XSTREAM_F_RAW and RVMIG_XSTREAM_F_DIGEST_THREAD:
 * resumable transfer (a mapped input only): the HELLO carries the transfer
 * id (rvmig_xsend_xfer_id()), the receiver's RESUME offset and digest are
 * checked against the input and only what lies past it is sent. */
#define RVMIG_XSEND_F_RESUME (1u << 8)

/* What rvmig_xsend_opts.on_note reports (with a sentence saying it). */
enum rvmig_xsend_note {
	RVMIG_XSEND_NOTE_CONNECTED = 1, /* a connection is up (a detail) */
	RVMIG_XSEND_NOTE_RESUMING = 2,  /* the receiver holds a prefix; sending the rest */
	RVMIG_XSEND_NOTE_RETRY = 3,     /* a connection failed; the next attempt follows */
	RVMIG_XSEND_NOTE_GAVE_UP = 4,   /* a connection failed and no retry is left */
};

struct rvmig_xsend_opts {
	size_t size;              /* sizeof(struct rvmig_xsend_opts) */
	/* RVMIG_XSTREAM_F_RAW, RVMIG_XSTREAM_F_DIGEST_THREAD, RVMIG_XSEND_F_RESUME;
	 * default 0: parse the input as a Xen stream, digest inline, no resume */
	uint32_t flags;
	enum rvmig_digest_alg digest; /* default RVMIG_DIGEST_XXH128 */
	uint64_t zero_min;        /* as rvmig_xsend_attr.zero_min (default
				   * RVMIG_XSEND_ZERO_MIN_DEFAULT) */
	/* Endpoint attributes for rvmig_connect() (NULL: the defaults); the
	 * struct is copied, a pre-shared key it points at must stay valid until
	 * the sender is destroyed. */
	const struct rvmig_ep_attr *ep_attr;
	/* With RVMIG_XSEND_F_RESUME: reconnect at most this often after a
	 * connection failure, waiting 0.5 s doubling up to 8 s; default 0 */
	unsigned retries;
	/* Deadline for each answer waited for: RESUME after HELLO, VERDICT after
	 * the last request completed (the receiver syncs its output first);
	 * default 0: 60 s (EXIT: none) */
	uint32_t reply_timeout_ms;
	/* The input's name in messages and in the transfer id (copied);
	 * default "fd N" */
	const char *name;
	/* Optional: a nonzero value (a signal number) stops the transfer with
	 * -EINTR at the next check, also during back-off. */
	const volatile int *stop;
	/* Optional: the transfer the monitor sees (not owned): given the total
	 * (if known), each connection's endpoint and the progress; the caller
	 * ends it (rvmig_pubxfer_end()). */
	rvmig_pubxfer *pub;
	/* Optional callbacks, called only from inside the sender's calls:
	 * the acknowledged stream offset after each turn of the endpoint; a
	 * note (the text is valid during the call); a command's stdout (1) or
	 * stderr (2) bytes (rvmig_xsender_exec()). */
	void (*on_progress)(rvmig_xsender *s, uint64_t acked, void *arg);
	void (*on_note)(rvmig_xsender *s, enum rvmig_xsend_note note, const char *text, void *arg);
	void (*on_output)(rvmig_xsender *s, int stream, const void *data, size_t len, void *arg);
	void *arg;
};

/*
 * The outcome of a transfer, filled by rvmig_xsender_result(),
 * rvmig_xrsession_result() and the one-shot calls of both sides.  The
 * caller sets `size` (sizeof(struct rvmig_xresult)); the library fills no
 * more than that many octets, so fields can be added at the end.  Texts
 * are NUL-terminated and escaped (the peer's words included).
 */
struct rvmig_xresult {
	size_t size;
	int status;               /* 0 or the error (as returned) */
	char text[1024];          /* the error: what failed, where, with which peer; "" on success */
	char peer[128];           /* the last connection's peer ("" if none) */
	char transport[16];       /* ... its transport ("tcp", "verbs") */
	enum rvmig_mode mode;     /* ... its mode */
	uint64_t bytes;           /* sender: input bytes read; receiver: stream bytes delivered */
	uint64_t peer_bytes;      /* sender: what the receiver reported written (VERDICT,
				   * EXIT); receiver: the size the sender announced (0: unknown) */
	bool verified;            /* END's length and digest match the stream */
	enum rvmig_digest_alg digest_alg;
	uint8_t digest[RVMIG_DIGEST_LEN]; /* of all stream bytes, once final (else zeros) */
	uint64_t resume_offset;   /* where the last connection started */
	unsigned retries;         /* connections after the first */
	uint32_t peer_version;    /* the peer's tool version (sender: VERDICT, EXIT;
				   * receiver: HELLO) */
	int exit_status;          /* a command run through rvmigd (0..255, 256 + N:
				   * killed by signal N); -1 if none */
	double seconds;           /* from the first connection to the end */
	/* what the stream held (receiver; pages as END said them) */
	uint64_t pages, zero_pages;
	uint64_t control_bytes, data_bytes, zero_bytes;
	bool raw;                 /* not parsed as a Xen stream (the sender said raw) */
};

/*
 * Creates a sender session for the input `fd` (see above; not closed by
 * the library).  The context is the caller's (it must outlive the sender).
 * On failure *out is still set when it could be allocated, so that
 * rvmig_xsender_error() says why (then destroy it).  0, -EINVAL, -EBADF,
 * -ENOMEM or the -errno of fstat / mmap.
 */
RVMIG_API int rvmig_xsender_create(rvmig_ctx *ctx, int fd, const struct rvmig_xsend_opts *opts,
				   rvmig_xsender **out);
/* Closes the last connection (waiting, bounded, for the receiver's BYE)
 * and frees everything. */
RVMIG_API void rvmig_xsender_destroy(rvmig_xsender *s);

/*
 * The whole transfer to `uri` (call once): connect, HELLO, RESUME, the
 * input, END, VERDICT, retries as the opts say.  0 only when the receiver
 * reported every byte written with the same digest; otherwise the first
 * error of the last attempt (-RVMIG_EINTEGRITY: another length or digest,
 * -RVMIG_ETIMEDOUT: no answer within reply_timeout_ms, the receiver's own
 * status from its VERDICT, -EINTR: stopped, or a connection's error), and
 * an ABORT told the receiver why.
 */
RVMIG_API int rvmig_xsender_send(rvmig_xsender *s, const char *uri);

/*
 * Runs argv[0..argc-1] at `uri` through rvmigd (EXEC): the input is the
 * command's stdin (parsed as a Xen stream while it is one, the rest sent
 * as it is: RVMIG_XSTREAM_F_PLAIN_FALLBACK), its stdout and stderr come to
 * on_output.  0 when the command's EXIT arrived: its status is in
 * rvmig_xresult.exit_status (verified: rvmigd rebuilt every byte handed on
 * with the same XXH3-128 digest); else the error (-RVMIG_EPEER: rvmigd
 * refused or failed, the result's text says why).  A connect failure
 * reads no input, so the call may be repeated with another URI
 * (rvmig_xsender_connected() is false then).
 */
RVMIG_API int rvmig_xsender_exec(rvmig_xsender *s, const char *uri, int argc,
				 char *const argv[]);

/* Whether a connection was ever established. */
RVMIG_API bool rvmig_xsender_connected(const rvmig_xsender *s);
/* Fills *r (r->size set by the caller) with the outcome so far. */
RVMIG_API void rvmig_xsender_result(const rvmig_xsender *s, struct rvmig_xresult *r);
/* The first error of the session (0: none) and its text (never NULL). */
RVMIG_API int rvmig_xsender_error(const rvmig_xsender *s, const char **text);
/* The sender pipeline underneath (owned by the session): statistics
 * (rvmig_xsend_stats()), the parser, the input's size and name. */
RVMIG_API rvmig_xsend *rvmig_xsender_xsend(const rvmig_xsender *s);
/* The last connection (owned by the session; NULL before one): for
 * rvmig_stats_snapshot() and the like, until rvmig_xsender_destroy(). */
RVMIG_API rvmig_ep *rvmig_xsender_ep(const rvmig_xsender *s);

/*
 * One-shot: sends the input `fd` to the receiver at `uri`
 * (rvmig_xsender_create() + rvmig_xsender_send() + rvmig_xsender_result()
 * + rvmig_xsender_destroy()).  opts may be NULL (defaults), res may be NULL
 * (else res->size set by the caller).  Returns as rvmig_xsender_send().
 */
RVMIG_API int rvmig_xstream_send_fd(rvmig_ctx *ctx, const char *uri, int fd,
				    const struct rvmig_xsend_opts *opts, struct rvmig_xresult *res);

/* ---- receiver ---------------------------------------------------------- */

typedef struct rvmig_xrecv rvmig_xrecv;

/* Where the rebuilt stream goes, in order.  Each returns 0 or -errno (which
 * fails the transfer).  data is valid during the call only.  zero may be
 * NULL (zeros are then written through write). */
struct rvmig_xrecv_sink {
	int (*write)(void *arg, const void *data, size_t len);
	int (*zero)(void *arg, uint64_t len);
	void *arg;
	const char *name; /* for messages ("PATH", "the command's stdin"); kept */
};

#define RVMIG_XRECV_NO_LIMIT UINT64_MAX
#define RVMIG_XRECV_ZERO_STEP (4u << 20) /* zeros delivered per rvmig_xrecv_step() */

struct rvmig_xrecv_attr {
	size_t size;                        /* sizeof(struct rvmig_xrecv_attr) */
	uint32_t flags;                     /* RVMIG_XSTREAM_F_DIGEST_THREAD, _DEFER_RELEASE */
	const struct rvmig_xrecv_sink *sink; /* required; copied */
	const char *peer;                   /* for messages; copied, escaped
					     * (rvmig_text_escape()); default "?" */
	/* The rest (RVMIG_0.13) serves rvmig_xrecv_progress(); an attr of
	 * an older size leaves it zero. */
	/* Optional: called from inside rvmig_xrecv_progress() with each message
	 * the receiver does not take itself (all but CTRL, ZERO, END: HELLO,
	 * ABORT, EXEC, ...) and its stream offset; m->data is valid during the
	 * call only.  NULL: such a message fails the receiver
	 * (-RVMIG_EBADMSG). */
	void (*on_msg)(rvmig_xrecv *r, const struct rvmig_xmsg *m, uint64_t off, void *arg);
	/* Optional: the peer closed the connection. */
	void (*on_close)(rvmig_xrecv *r, void *arg);
	/* Optional: false while the sink cannot take more now (it keeps part of
	 * a piece back); no further event is taken until it says true. */
	bool (*ready)(void *arg);
	void *arg;
};

/* Creates a receiver at stream offset 0 with an XXH3-128 digest (see
 * rvmig_xrecv_reset()).  0, -EINVAL or -ENOMEM. */
RVMIG_API int rvmig_xrecv_create(const struct rvmig_xrecv_attr *attr, rvmig_xrecv **out);
/* Frees the receiver and its parser. */
RVMIG_API void rvmig_xrecv_destroy(rvmig_xrecv *r);
/* Optional: the transfer the monitor sees (not owned, NULL: none) is fed
 * the stream offset, pages and zero pages as they are delivered. */
RVMIG_API void rvmig_xrecv_set_pub(rvmig_xrecv *r, rvmig_pubxfer *px);
/* The peer named in messages from now on (copied, escaped). */
RVMIG_API void rvmig_xrecv_set_peer(rvmig_xrecv *r, const char *peer);

/*
 * What the session's first message said: `raw` (bulk data and zero runs
 * are no page payloads) and the announced stream length (`limit`; nothing
 * may go past it, RVMIG_XRECV_NO_LIMIT by default), given by
 * rvmig_xrecv_begin(), which also marks the receiver started (pieces before
 * it are refused): 0 the first time, -EALREADY after (a second first
 * message, or the next connection of a resumed transfer; the values are
 * set either way, except that a length other than the one announced
 * first since creation, the last rvmig_xrecv_reset() or the
 * rvmig_xrecv_attach() of another endpoint is refused: the receiver fails
 * with -RVMIG_EBADMSG naming the peer, the stream offset and both lengths,
 * and keeps the first).
 */
RVMIG_API int rvmig_xrecv_begin(rvmig_xrecv *r, bool raw, uint64_t limit);
RVMIG_API bool rvmig_xrecv_started(const rvmig_xrecv *r);

/* Creates the verifying parser (a Xen stream starting at any of its three
 * layers, followed by nothing or xl migrate's go message), owned by the
 * receiver; 0 or -errno.  rvmig_xrecv_parser() returns it (NULL: none). */
RVMIG_API int rvmig_xrecv_verify(rvmig_xrecv *r);
RVMIG_API rvmig_stream_parser *rvmig_xrecv_parser(const rvmig_xrecv *r);

/*
 * The pieces, in the order they arrive: bulk data of a RVMIG_EV_RECV_DATA
 * event at stream offset `off`, and a decoded CTRL, ZERO or END message at
 * `off`.  Each must start exactly where the previous one ended.  Counts are
 * checked before any work (the announced limit, RVMIG_XMSG_ZERO_MAX).  END
 * checks length and digest (-RVMIG_EINTEGRITY) and then
 * rvmig_xrecv_done() is true and the digest final.  Without
 * RVMIG_XSTREAM_F_DEFER_RELEASE each call returns only when what it was
 * given is hashed, so the caller may release the event at once.
 * rvmig_xrecv_msg() returns 1, or 0 (doing nothing) for other tags.
 */
RVMIG_API void rvmig_xrecv_data(rvmig_xrecv *r, uint64_t off, const void *data, size_t len);
RVMIG_API int rvmig_xrecv_msg(rvmig_xrecv *r, const struct rvmig_xmsg *m, uint64_t off);
/* A ZERO is delivered in steps of RVMIG_XRECV_ZERO_STEP: while
 * rvmig_xrecv_busy(), call rvmig_xrecv_step() between turns of the event
 * loop and hand on nothing else.  rvmig_xrecv_drop_zeros() gives up the
 * rest of the run (the sink went away). */
RVMIG_API bool rvmig_xrecv_busy(const rvmig_xrecv *r);
RVMIG_API void rvmig_xrecv_step(rvmig_xrecv *r);
RVMIG_API void rvmig_xrecv_drop_zeros(rvmig_xrecv *r);
/* END matched. */
RVMIG_API bool rvmig_xrecv_done(const rvmig_xrecv *r);
/* The next stream offset expected (= bytes delivered). */
RVMIG_API uint64_t rvmig_xrecv_offset(const rvmig_xrecv *r);
/* A parsed stream is complete: 0, or -RVMIG_ESTREAM (also recorded as the
 * receiver's error).  0 without a parser. */
RVMIG_API int rvmig_xrecv_finish_stream(rvmig_xrecv *r);

/* The final digest: after a matching END (or a mismatching one: then it
 * is what was delivered) 0 and the digest; before, -EAGAIN and zeros,
 * unless `end` asks to end the running digest now (nothing may be
 * delivered afterwards).  0, -EAGAIN or -ENOMEM. */
RVMIG_API int rvmig_xrecv_digest(rvmig_xrecv *r, bool end, uint8_t out[RVMIG_DIGEST_LEN]);
/* The digest of what was delivered so far, without ending it. */
RVMIG_API int rvmig_xrecv_peek_digest(rvmig_xrecv *r, uint8_t out[RVMIG_DIGEST_LEN]);
RVMIG_API enum rvmig_digest_alg rvmig_xrecv_digest_alg(const rvmig_xrecv *r);
/* With RVMIG_XSTREAM_F_DEFER_RELEASE: the stream offset below which every
 * delivered byte is hashed, and waiting for it to reach `upto`. */
RVMIG_API uint64_t rvmig_xrecv_hashed(rvmig_xrecv *r);
RVMIG_API void rvmig_xrecv_wait_hashed(rvmig_xrecv *r, uint64_t upto);

/*
 * Resume: back to stream offset 0 with a new digest `alg`, no parser, no
 * error, counters cleared (the caller rewinds its sink); then bytes that
 * are already in the sink (read back from a partial file) are given to
 * rvmig_xrecv_prefix(), which feeds the digest and the parser only (bytes
 * past the announced length fail the receiver with -ERANGE, naming the
 * stream offset and the length, and are not taken).
 */
RVMIG_API int rvmig_xrecv_reset(rvmig_xrecv *r, enum rvmig_digest_alg alg);
RVMIG_API void rvmig_xrecv_prefix(rvmig_xrecv *r, const void *data, size_t len);

/* Records the first error (later ones are ignored); returns err. */
RVMIG_API int rvmig_xrecv_fail(rvmig_xrecv *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The first error (0: none) and its text (never NULL). */
RVMIG_API int rvmig_xrecv_error(const rvmig_xrecv *r, const char **text);

/* Fills a snapshot: BYTES, CONTROL_BYTES, DATA_BYTES, ZERO_BYTES; PAGES and
 * ZERO_PAGES as a matching END said them (0 before). */
RVMIG_API void rvmig_xrecv_stats(const rvmig_xrecv *r, rvmig_xstats *st);

/*
 * The receiver's event pump (RVMIG_0.13), one turn of which replaces the
 * caller's own loop over rvmig_event_next():
 * rvmig_xrecv_attach() takes a connected endpoint (the caller keeps it and
 * closes it after rvmig_xrecv_detach()); rvmig_xrecv_progress() drives it
 * once, waiting up to timeout_ms (not at all while a zero run is being
 * delivered or buffers are held for the digest), and hands each event on:
 * bulk data to rvmig_xrecv_data(), CTRL / ZERO / END to rvmig_xrecv_msg(),
 * a message that does not decode fails the receiver (-RVMIG_EBADMSG, with
 * the peer and the stream offset), other messages go to the attr's
 * on_msg, a peer that closes to on_close.  Event buffers are released
 * once hashed (with RVMIG_XSTREAM_F_DEFER_RELEASE they are held in a ring
 * meanwhile, and released by later turns).  Returns 0, or the endpoint's
 * error (the connection failed; not recorded as the receiver's error: the
 * caller decides whether that ends the transfer).  With
 * rvmig_xrecv_set_drain(r, true) every event is released unseen (after a
 * failure, while waiting for the peer to close).  rvmig_xrecv_detach()
 * waits for the digest to pass what is held, releases it and forgets the
 * endpoint.  attach returns 0 or -EBUSY (another endpoint is attached).
 */
RVMIG_API int rvmig_xrecv_attach(rvmig_xrecv *r, rvmig_ep *ep);
RVMIG_API int rvmig_xrecv_progress(rvmig_xrecv *r, int timeout_ms);
RVMIG_API void rvmig_xrecv_set_drain(rvmig_xrecv *r, bool drain);
RVMIG_API void rvmig_xrecv_detach(rvmig_xrecv *r);

/* ---- a receiving session ----------------------------------------------- */

/*
 * What rvmig-recv does, as a library object (RVMIG_0.13): accepts senders
 * on a listener, answers HELLO (and RESUME), rebuilds and verifies the
 * stream into its output, answers END with VERDICT and waits (bounded) for
 * the sender to close.  The output is one of:
 *   - a path: written as PATH.rvmig-partial-XXXXXX, fsync'ed and renamed
 *     to PATH only when END's length and digest matched (a partial or
 *     wrong file never appears under PATH); "-" is standard output; an
 *     existing FIFO or device is written in place, never replaced.  Files
 *     next to PATH are never opened through a symbolic link nor as another
 *     user's file; a new PATH gets output_mode (0600), an existing one keeps
 *     its mode (and, as root, its owner).  With RVMIG_XRSESSION_F_RESUME
 *     the partial is PATH.rvmig-partial with a journal PATH.rvmig-journal
 *     of its durable prefix (see rvmig-recv(1) --resume): a connection that
 *     ends before END leaves both, the session waits resume_wait_ms for the
 *     sender to come back, and a later session continues from them;
 *   - a caller's descriptor (RVMIG_XRSESSION_F_FD): written in order with
 *     write(2) (zeros as zeros), never closed, fsync'ed at END when it is a
 *     regular file or a block device; with O_NONBLOCK semantics of its own
 *     (reopened through /proc/self/fd) so a stalled reader cannot hold the
 *     session deaf to its deadlines, nor to the sender leaving;
 *   - a caller's sink (rvmig_xrecv_sink), called in stream order.
 * Deadlines: an output whose reader takes nothing for timeout_ms, and the
 * wait for the sender to close after the VERDICT, end at timeout_ms
 * (10000); the first sender is waited for accept_timeout_ms (0: for
 * ever), a returning one resume_wait_ms (60000).  Every count from the
 * wire is checked before work is done (rvmig_xrecv).
 * The session logs what a user wants to know (a stale partial removed, a
 * journal ignored, a transfer continued, the outcome) through `logger`
 * (default: the context's), subsystem "xrecv"; errors are also in
 * rvmig_xrsession_result().  No thread unless RVMIG_XSTREAM_F_DIGEST_THREAD.
 */
typedef struct rvmig_xrsession rvmig_xrsession;

enum {
	RVMIG_XRSESSION_F_RESUME = 1u << 8,    /* path only: resumable (see above) */
	RVMIG_XRSESSION_F_NO_VERIFY = 1u << 9, /* do not parse the stream as a Xen stream */
	RVMIG_XRSESSION_F_FD = 1u << 10,       /* the output is attr.fd */
};

struct rvmig_xrsession_attr {
	size_t size;                   /* sizeof(struct rvmig_xrsession_attr) */
	uint32_t flags;                /* RVMIG_XRSESSION_F_*, RVMIG_XSTREAM_F_DIGEST_THREAD */
	const char *path;              /* the output, or ... */
	int fd;                        /* ... with RVMIG_XRSESSION_F_FD, or ... */
	const struct rvmig_xrecv_sink *sink; /* ... a sink (copied) */
	unsigned output_mode;          /* permissions of a new PATH; 0: 0600 */
	uint32_t timeout_ms;           /* stalled output, close after VERDICT; 0: 10000 */
	uint32_t accept_timeout_ms;    /* the first sender; 0: wait for ever */
	uint32_t resume_wait_ms;       /* RVMIG_XRSESSION_F_RESUME; 0: 60000 */
	enum rvmig_mode mode;          /* accept only senders in this mode; 0: any */
	/* Optional: a nonzero value (a signal number) ends the session with
	 * -EINTR at the next check (with RESUME the durable state is kept). */
	const volatile int *stop;
	struct rvmig_logger logger;    /* fn NULL: the context's logger */
	rvmig_pubxfer *pub;            /* optional, not owned: what the monitor sees */
	/* Optional: after each turn, the stream offset delivered and the
	 * announced size (0: unknown). */
	void (*on_progress)(rvmig_xrsession *s, uint64_t off, uint64_t total, void *arg);
	void *arg;
};

/*
 * Creates a session and prepares its output before anyone sends: a path's
 * directory must take the file, a FIFO or device must open (a FIFO waits
 * here for its reader), and with RESUME the journal's prefix is read back
 * and checked.  0 or an error; on failure *out is still set when it could
 * be allocated, so that rvmig_xrsession_result() says why (then destroy
 * it).
 */
RVMIG_API int rvmig_xrsession_create(rvmig_ctx *ctx, const struct rvmig_xrsession_attr *attr,
				     rvmig_xrsession **out);
/* Closes the endpoint it still has and frees everything (run() already
 * removed an unverified temporary file; a resumable partial stays). */
RVMIG_API void rvmig_xrsession_destroy(rvmig_xrsession *s);
/*
 * Receives one transfer.  Takes `l` (closes it when it is no longer
 * needed: after the first sender unless RESUME, else at the end; the
 * caller must not use it after the call).  Returns 0 when the stream is
 * complete, verified and durable under its final name, else the error
 * (also in the result); rvmig_xrsession_kept() then says whether a
 * resumable state was kept for a later session.
 */
RVMIG_API int rvmig_xrsession_run(rvmig_xrsession *s, rvmig_listener *l);
/* With RESUME: the sender did not finish and the partial and its journal
 * are kept (rvmig-recv exits 75 then). */
RVMIG_API bool rvmig_xrsession_kept(const rvmig_xrsession *s);
/* Fills `res` (see struct rvmig_xresult). */
RVMIG_API void rvmig_xrsession_result(const rvmig_xrsession *s, struct rvmig_xresult *res);
/* The receiver inside (digest, verifying parser: rvmig_xrecv_parser());
 * owned by the session. */
RVMIG_API rvmig_xrecv *rvmig_xrsession_xrecv(const rvmig_xrsession *s);
/* The library counters of the last connection, taken before it closed
 * (NULL if none); owned by the session. */
RVMIG_API const rvmig_stats *rvmig_xrsession_ep_stats(const rvmig_xrsession *s);
/* The output's name in messages: PATH, "stdout", the sink's name. */
RVMIG_API const char *rvmig_xrsession_output(const rvmig_xrsession *s);
/*
 * The checks rvmig-recv makes of -o PATH before anything else: not empty,
 * not a directory nor a name ending in '/', not a socket; with `resume`
 * not "-", a FIFO or a device.  0 or -EINVAL with `why` filled.
 */
RVMIG_API int rvmig_xrsession_check_path(const char *path, bool resume, char *why, size_t whylen);

/*
 * Holding the verdict (RVMIG_0.14).  Without a hold the session answers
 * END with its VERDICT as soon as the stream is complete, verified and
 * durable, and the sender acts on it (rvmig-save destroys the saved
 * domain).  A caller that still consumes the stream after that
 * (rvmig-restore: libxl builds the domain from it, then it is renamed and
 * unpaused) sets a hold before rvmig_xrsession_run(): once the stream is
 * verified, run() calls fn(s, why, whylen, arg) from inside it, on the
 * caller's thread, about every 100 ms, driving the connection meanwhile,
 * until fn returns
 *   0   done: the VERDICT says success;
 *   < 0 failed (-errno or -RVMIG_E*): the VERDICT carries that status and
 *       the text fn wrote into why (NUL-terminated, at most whylen octets;
 *       "" for rvmig_strerror()'s), which the sender reports escaped
 *       ("receiver failed: ..."), and run() returns it;
 *   1   not yet.
 * If fn has not answered within timeout_ms (0: 30000, below the 60 s a
 * sender waits for a verdict by default), the VERDICT fails with
 * -RVMIG_ETIMEDOUT and a text naming the deadline.  If the sender goes
 * away while the verdict is held (it heard none, so it keeps its source),
 * run() fails with -RVMIG_EPEER whatever fn answered.  Either way fn is
 * not called again, and the caller undoes what its consumer did.  The
 * output itself is not undone (a file is already under its final name).
 * The wire format is unchanged: VERDICT always carried a status and a
 * text, so any sender understands a failing one.  fn NULL: no hold.
 * 0, or -EINVAL for a NULL session.
 */
typedef int (*rvmig_xrsession_hold_fn)(rvmig_xrsession *s, char *why, size_t whylen, void *arg);
RVMIG_API int rvmig_xrsession_set_hold(rvmig_xrsession *s, rvmig_xrsession_hold_fn fn, void *arg,
				       uint32_t timeout_ms);

/*
 * One-shot: receives one transfer from a sender on `listen_uri` into `fd`
 * (written as with RVMIG_XRSESSION_F_FD).  opts may be NULL (all
 * defaults); res may be NULL.  Returns 0 when the stream is complete and
 * verified, else the error (res says why).
 */
struct rvmig_xrecv_opts {
	size_t size;                      /* sizeof(struct rvmig_xrecv_opts) */
	uint32_t flags;                   /* RVMIG_XRSESSION_F_NO_VERIFY, RVMIG_XSTREAM_F_DIGEST_THREAD */
	const struct rvmig_ep_attr *ep;   /* the listener's; NULL: defaults */
	uint32_t accept_timeout_ms;       /* 0: wait for ever */
	uint32_t timeout_ms;              /* as in rvmig_xrsession_attr; 0: 10000 */
	const volatile int *stop;         /* as in rvmig_xrsession_attr */
	/* Optional: called once listening, with the bound port (port 0 in the
	 * URI picks a free one). */
	void (*on_listening)(int port, void *arg);
	void *arg;
};
RVMIG_API int rvmig_xstream_recv_fd(rvmig_ctx *ctx, const char *listen_uri, int fd,
				    const struct rvmig_xrecv_opts *opts, struct rvmig_xresult *res);

#ifdef __cplusplus
}
#endif
#endif /* RVMIG_XSTREAM_H */
