/* SPDX-License-Identifier: MIT */
/*
 * rvmig/xfer.h - DART-style asynchronous bulk transfer.
 *
 * Roles
 *  - The *client* (source host) registers memory and posts transfer requests
 *    (region, offset, length, destination stream offset, cookie).  Posting
 *    never blocks: it returns 0 at once, or -EAGAIN when the request window
 *    is full (back-pressure: call rvmig_progress() and retry).
 *  - The *server* is the scheduler that moves the bytes.  It drains posted
 *    requests with a bounded number of bytes in flight and a bounded number
 *    of free destination slots (credits), and moves each chunk with one
 *    one-sided operation:
 *      RVMIG_MODE_PUSH: RDMA WRITE from the client's memory into the
 *                       receiver's slot; the server runs on the source host.
 *      RVMIG_MODE_PULL: RDMA READ from the client's memory into the
 *                       receiver's slot; the server runs on the destination.
 *    Push spends the source host's CPU on scheduling and leaves the
 *    destination's CPU idle; pull does the opposite.  Pick pull when the
 *    source is the busy host (a guest still running there during live
 *    migration), push when the destination is busier.  The mode is chosen by
 *    the connecting side and carried in the handshake.
 *  - The *receiver* (destination host) exposes a ring of registered slots
 *    and hands the consumer completions in the order the client posted the
 *    requests (each: stream offset, length, pointer into a slot).  The
 *    consumer returns each slot with rvmig_recv_release(); a slot not yet
 *    released is never overwritten.
 *
 * Ordering and ownership
 *  - Requests are delivered to the receiver in post order, across all links
 *    of an endpoint.  Inline messages (rvmig_client_send_msg) are ordered
 *    with the bulk requests in the same sequence.
 *  - The client must not modify or free posted memory until the request's
 *    RVMIG_EV_SEND_DONE event.  On verbs, payload bytes are never copied in
 *    user space on the source host (zero-copy).
 *  - Events are produced only inside rvmig_progress() and read with
 *    rvmig_event_next(), on the caller's thread.  No callbacks, no threads.
 *  - rvmig_ep_fd() is readable when rvmig_progress() has work; use it in an
 *    event loop (poll/epoll) instead of blocking in rvmig_progress().
 *
 * Shutdown
 *  - rvmig_ep_close() on the client sends BYE after every posted request has
 *    finished and waits (up to timeout_ms) for the receiver's BYE.  The
 *    receiver gets RVMIG_EV_PEER_CLOSED after the last data, in order, and
 *    answers BYE only when it calls rvmig_ep_close() itself, so it can
 *    verify and persist the data (and rvmig_reply_msg() a verdict) first.
 *
 * Failure
 *  - A peer that dies, a cut link, or a peer that sends nothing for
 *    `timeout_ms` while work is pending turns the endpoint into an error
 *    state: rvmig_progress() returns the error and an RVMIG_EV_ERROR event
 *    carries it; all unfinished requests complete with that status.
 *    rvmig_ep_error() then says why, in words: the violation a transport
 *    refused ("link 0 (10.0.0.1:7000): WRITE outside a granted region"),
 *    the timeout, or the reason the peer itself reported in its ERROR
 *    message ("peer reported: ..."), which is also logged at error level.
 *    Either side tells the other its reason this way when it fails.
 *
 * Memory bound (receiver)
 *  - What a peer can make a receiving endpoint hold is bounded by what the
 *    receiver granted it: chunks by the slots (push; a slot returns to the
 *    client only after rvmig_recv_release()) or by 2 * nslots
 *    announcements (pull); inline messages and the BYE by the control
 *    credits, 32 per link, each of which a message keeps until it is
 *    delivered and its RVMIG_EV_RECV_MSG released.  Per endpoint that is:
 *    the ring (nslots * slot_size, registered when the peer has
 *    connected; the listener allocates and faults in its next session's
 *    ring ahead, in rvmig_listen() and whenever rvmig_accept() is about to
 *    wait, so a listener holds one ring more than its endpoints); 64
 *    control buffers of 4 KiB per link; at most 32 copies of messages (of
 *    at most rvmig_msg_max() bytes) per link; events for at
 *    most nslots chunks and those messages; and a reorder table of
 *    max(1024, 2 * W) entries of 48 bytes at most, where W = nslots (push)
 *    or 2 * nslots (pull), plus 32 * nlinks, is how far past the next
 *    sequence number to deliver a peer may be.  Defaults (4 links, 16 slots
 *    of 1 MiB): about 18 MiB.
 *  - A peer that goes past it fails the endpoint with -RVMIG_EBADMSG and a
 *    logged reason naming the violation (and is sent that reason): a
 *    sequence number W or more ahead, a control message without a credit,
 *    a WRITE_DONE into a slot not yet released.  Nothing past the bound is
 *    buffered.
 *  - So a consumer that keeps received messages without releasing them
 *    stops the client once their credits are used up: release each as soon
 *    as it is done with it.
 */
#ifndef RVMIG_XFER_H
#define RVMIG_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvmig/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rvmig_ep rvmig_ep;
typedef struct rvmig_listener rvmig_listener;
typedef struct rvmig_mr rvmig_mr;

enum rvmig_mode {
	RVMIG_MODE_PUSH = 1, /* default: source WRITEs into the receiver */
	RVMIG_MODE_PULL = 2, /* destination READs from the source */
};

enum rvmig_ep_flags {
	RVMIG_EP_PIN_ALL = 1u << 0, /* register whole regions at rvmig_mr_reg() */
	/* Client: a CRC32C of every chunk travels with it and the receiver checks
	 * it before delivery; a mismatch fails the endpoint with
	 * -RVMIG_EINTEGRITY naming the chunk and stream offset.  Costs the
	 * source one read of the payload (no copy). */
	RVMIG_EP_CHECKSUM = 1u << 1,
};

/*
 * Endpoint parameters.  Defaults (field zero or past `size`; nlinks,
 * slot_size, nslots, window and reg_chunk were chosen by the benchmark sweep
 * in bench/README.md, "Defaults"):
 *   mode          RVMIG_MODE_PUSH (connecting side decides)
 *   nlinks        4 QPs / TCP connections, requests striped round-robin
 *   slot_size     1 MiB: largest chunk one operation moves; larger requests
 *                 are split.  Set by the receiver.  4 KiB .. 64 MiB, a
 *                 multiple of 4 KiB, at most reg_chunk.
 *   nslots        16 receiver slots (credits).  Set by the receiver.
 *   window        8 MiB in flight per endpoint (server side)
 *   max_posted    4096 posted, unfinished requests per client
 *   reg_chunk     4 MiB: on-demand registration granularity
 *   reg_cache     64 MiB: pinned bytes kept in the registration cache
 *   timeout_ms    10000: peer silence that counts as failure
 *   psk           none: no authentication
 *   max_conns     64 (listener only): connection limit, see rvmig_listen()
 *   auth_timeout_ms 5000 (listener only): handshake deadline, see rvmig_listen()
 */
struct rvmig_ep_attr {
	size_t size;
	enum rvmig_mode mode;
	uint32_t flags;
	uint32_t nlinks;
	uint32_t slot_size;
	uint32_t nslots;
	uint64_t window;
	uint32_t max_posted;
	uint64_t reg_chunk;
	uint64_t reg_cache;
	uint32_t timeout_ms;
	/* Pre-shared key for mutual HMAC-SHA-256 challenge-response at connect
	 * (16..256 bytes; see rvmig_key_load()).  A receiver with a key refuses
	 * clients that cannot prove they hold it, before registering any memory
	 * for them; a client with a key refuses a receiver that cannot prove
	 * it.  Default: none (no authentication). */
	const void *psk;
	uint32_t psk_len;
	/* Listener only (ignored by rvmig_connect): how many endpoints accepted
	 * from this listener may be alive at once (peers still in their
	 * handshake are not counted, see rvmig_listen()).  Default 64
	 * (RVMIG_MAX_CONNS_DEFAULT). */
	uint32_t max_conns;
	/* Listener only: how long a connecting peer may take over each step of
	 * its handshake: opening its next link, and with a psk answering the
	 * challenge once all its links are up.  A peer that is slower is
	 * dropped.  This deadline, not timeout_ms, is all an unauthenticated
	 * peer can hold anything for.  Default 5000 ms
	 * (RVMIG_AUTH_TIMEOUT_DEFAULT). */
	uint32_t auth_timeout_ms;
};

#define RVMIG_MAX_CONNS_DEFAULT 64
#define RVMIG_AUTH_TIMEOUT_DEFAULT 5000

/* Loads a pre-shared key file into buf (at most *len bytes; *len is set to
 * the key length).  The file must be a regular file (not a symbolic link;
 * a FIFO or device is refused without blocking) owned by the caller (or
 * root) and not readable or writable by group or others (mode 0600/0400);
 * otherwise -EPERM and the logger says why.  Trailing newlines are not part
 * of the key.  Keys shorter than 16 bytes, or longer than 256 (or *len)
 * bytes, are refused (-EINVAL): a key is never cut short. */
RVMIG_API int rvmig_key_load(rvmig_ctx *ctx, const char *path, void *buf, size_t *len);

/* ---- connection set-up ------------------------------------------------ */

/*
 * URIs: "verbs://HOST:PORT" (rdma_cm, RC QPs) and "tcp://HOST:PORT".
 * HOST is a name or an IPv4/IPv6 literal ([::1]).
 *
 * Handshake.  A peer's handshake is: a hello on each of the links it
 * announced, then, when the listener has a psk, the challenge-response
 * (see psk above).  It is a state of the listener that rvmig_accept()
 * advances without ever waiting for one peer: many peers can be in their
 * handshake at once; each must open its next link, and answer the
 * challenge once all are up, within attr->auth_timeout_ms (default 5 s) or
 * it is dropped; and at most 64 of their links are kept (the peer idle the
 * longest since its last step is dropped to make room for a newcomer).  A TCP
 * peer that connects and sends nothing (or half a hello) is likewise given
 * auth_timeout_ms for its whole hello, alongside other peers (at most 64
 * such; the oldest makes room for a new one).  Nothing a peer sends before
 * it has authenticated is served: anything but the answer to the challenge
 * ends its connection, and no memory it could reach is registered before.
 * (On verbs, accepting one link still waits until rdma_cm reports it
 * established, which the peer's kernel answers at once, at most
 * timeout_ms.)
 *
 * Connection limit.  A listener counts the endpoints rvmig_accept()
 * returned that are not yet closed with rvmig_ep_close();
 * attr->max_conns (default RVMIG_MAX_CONNS_DEFAULT) bounds that count.
 * Peers in their handshake are not counted, so peers that never
 * authenticate cannot take the places of those that do.  A new peer that
 * arrives while the count is at the limit is refused inside the handshake,
 * before any memory is registered for it: rvmig_connect() on its side fails
 * with -RVMIG_ECONNLIMIT and logs "<uri> refused the connection: too many
 * connections (limit N)".  A peer that completes its handshake after the
 * limit was reached meanwhile is refused then (rvmig_connect() also fails
 * with -RVMIG_ECONNLIMIT).  Closing an accepted endpoint frees its place at
 * once; endpoints may outlive their listener.
 *
 * Servicing requests.  Connection requests are only answered (accepted or
 * refused) inside rvmig_accept(); until then they wait in the kernel (TCP
 * backlog, rdma_cm event channel) and the peer sees nothing until its own
 * timeout.  A server that is busy with its endpoints keeps
 * rvmig_listener_fd() in its poll set and, whenever it is readable, calls
 * rvmig_accept(l, 0, &ep) — also while it is at its limit, so that peers
 * over the limit are told so at once instead of timing out.  The fd is
 * readable when a connection request waits, when a peer in its handshake
 * has sent something and when a handshake deadline has passed.  At the
 * limit, rvmig_accept() refuses every new peer and returns -ETIMEDOUT when
 * its timeout ends, so never call it with timeout -1 while at the limit
 * from the thread that would close the endpoints.
 */
RVMIG_API int rvmig_listen(rvmig_ctx *ctx, const char *uri, const struct rvmig_ep_attr *attr,
			   rvmig_listener **out);
/* Port actually bound (useful with port 0). */
RVMIG_API int rvmig_listener_port(rvmig_listener *l);
/* A file descriptor that is readable while rvmig_accept() has work: a
 * connection request, a message from a peer in its handshake, a handshake
 * deadline passed (level-triggered; owned by the listener, do not read or
 * close it). */
RVMIG_API int rvmig_listener_fd(rvmig_listener *l);
/* Endpoints of this listener alive now (see the connection limit above). */
RVMIG_API uint32_t rvmig_listener_conns(const rvmig_listener *l);
/* Advances the handshakes of connecting peers for up to timeout_ms (-1:
 * forever, 0: handle what is already waiting, up to 64 link requests) and
 * returns the first endpoint whose handshake is complete.  Returns
 * -ETIMEDOUT when none was
 * completed in that time (peers refused or dropped meanwhile, e.g. over the
 * limit, with a wrong key or too slow, are logged, not returned). */
RVMIG_API int rvmig_accept(rvmig_listener *l, int timeout_ms, rvmig_ep **out);
RVMIG_API void rvmig_listener_close(rvmig_listener *l);

/* Connects and handshakes, waiting up to attr->timeout_ms. */
RVMIG_API int rvmig_connect(rvmig_ctx *ctx, const char *uri, const struct rvmig_ep_attr *attr,
			    rvmig_ep **out);

/* Sends a clean shutdown (after all posted work), then frees everything.
 * Safe on an endpoint in error state. */
RVMIG_API void rvmig_ep_close(rvmig_ep *ep);

/* Name of the transport ("tcp", "verbs") and the peer's address. */
RVMIG_API const char *rvmig_ep_transport(const rvmig_ep *ep);
RVMIG_API const char *rvmig_ep_peer(const rvmig_ep *ep);
RVMIG_API enum rvmig_mode rvmig_ep_mode(const rvmig_ep *ep);
/* Why the endpoint failed: the text of its first failure (see "Failure"
 * above), "" while it has not.  What the peer sent in it (the 115 bytes an
 * ERROR message carries at most) is escaped with rvmig_text_escape(), so
 * it can be printed as it is.  Owned by the endpoint, valid until
 * rvmig_ep_close(). */
RVMIG_API const char *rvmig_ep_error(const rvmig_ep *ep);

/* ---- memory regions --------------------------------------------------- */

enum rvmig_mr_access {
	RVMIG_MR_LOCAL = 0,        /* source of push / sink of local ops */
	RVMIG_MR_REMOTE_READ = 1,  /* peer may RDMA READ it (pull source) */
	RVMIG_MR_REMOTE_WRITE = 2, /* peer may RDMA WRITE it */
};

/*
 * Registers [addr, addr+len) for use with `ep`.  Without RVMIG_EP_PIN_ALL the
 * memory is pinned lazily in reg_chunk pieces as requests touch it, with at
 * most reg_cache bytes pinned at once (least recently used pieces are
 * unpinned when idle).  Returns -RVMIG_EMEMLOCK, with the needed amount
 * logged, when RLIMIT_MEMLOCK is too small.
 */
RVMIG_API int rvmig_mr_reg(rvmig_ep *ep, void *addr, size_t len, unsigned access, rvmig_mr **out);
/* Must not be called while requests on the region are unfinished: -EBUSY
 * while one is queued (rvmig_client_cancel() ends those) or in flight. */
RVMIG_API int rvmig_mr_dereg(rvmig_mr *mr);

/* A descriptor the peer can use to reach the region (pin-all regions). */
struct rvmig_mr_desc {
	uint64_t addr;
	uint64_t len;
	uint32_t rkey;
};
RVMIG_API int rvmig_mr_desc(const rvmig_mr *mr, struct rvmig_mr_desc *desc);

/* ---- client ----------------------------------------------------------- */

/*
 * Posts a transfer of `len` bytes at `offset` in `mr`, to be delivered at
 * `stream_off` on the receiver.  Returns 0 or -EAGAIN (window full).  The
 * request completes with one RVMIG_EV_SEND_DONE carrying `cookie`.
 */
RVMIG_API int rvmig_client_post(rvmig_ep *ep, rvmig_mr *mr, uint64_t offset, uint64_t len,
				uint64_t stream_off, uint64_t cookie);
/* Posts a small message (at most rvmig_msg_max() bytes) that is copied at
 * once and delivered in order as RVMIG_EV_RECV_MSG.  Completes with
 * RVMIG_EV_SEND_DONE carrying `cookie`.  Returns 0 or -EAGAIN. */
RVMIG_API int rvmig_client_send_msg(rvmig_ep *ep, const void *buf, size_t len, uint64_t stream_off,
				    uint64_t cookie);
RVMIG_API size_t rvmig_msg_max(void);
/* Cancels every posted request not yet handed to the transport; each
 * completes with status -RVMIG_ECANCELED.  Returns how many were cancelled. */
RVMIG_API int rvmig_client_cancel(rvmig_ep *ep);
/* Number of posted requests not yet completed. */
RVMIG_API uint32_t rvmig_client_pending(const rvmig_ep *ep);

/* ---- progress and events ---------------------------------------------- */

/*
 * Drives all I/O of the endpoint: posts scheduled operations, reaps
 * completions, exchanges credits.  Waits up to timeout_ms (0: don't wait,
 * -1: forever) when there is nothing to do.  Returns the number of new
 * events (>= 0) or a negative error once the endpoint has failed.
 */
RVMIG_API int rvmig_progress(rvmig_ep *ep, int timeout_ms);
/* A file descriptor that becomes readable when rvmig_progress() has work. */
RVMIG_API int rvmig_ep_fd(rvmig_ep *ep);

enum rvmig_event_type {
	RVMIG_EV_SEND_DONE = 1, /* client: request finished (status 0 or error) */
	RVMIG_EV_RECV_DATA,     /* receiver: bulk data in a slot */
	RVMIG_EV_RECV_MSG,      /* inline message (data valid until release); the
				 * client receives the receiver's replies this way */
	RVMIG_EV_PEER_CLOSED,   /* peer shut down cleanly */
	RVMIG_EV_ERROR,         /* endpoint failed; status says why */
};

struct rvmig_event {
	enum rvmig_event_type type;
	int status;          /* 0 or negative error */
	uint64_t cookie;     /* SEND_DONE */
	uint64_t stream_off; /* RECV_*: where the bytes belong */
	uint64_t len;        /* RECV_* */
	const void *data;    /* RECV_*: valid until rvmig_recv_release(token) */
	uint64_t token;      /* RECV_*: pass to rvmig_recv_release() */
};

/* Takes the next event.  Returns 1 with *ev filled, 0 when none. */
RVMIG_API int rvmig_event_next(rvmig_ep *ep, struct rvmig_event *ev);

/* The consumer is done with the data of a RECV_* event (either side). */
RVMIG_API int rvmig_recv_release(rvmig_ep *ep, uint64_t token);

/* Receiver only: sends a small message (at most rvmig_msg_max() bytes) back
 * to the client, e.g. "written and verified".  Copied at once; replies keep
 * their order among themselves but are not ordered
 * with the data stream.  The client gets it as RVMIG_EV_RECV_MSG with
 * stream_off 0 and releases it with rvmig_recv_release().  Returns 0 or
 * -EAGAIN (no control credit right now: progress and retry). */
RVMIG_API int rvmig_reply_msg(rvmig_ep *ep, const void *buf, size_t len);

/* ---- statistics ------------------------------------------------------- */

typedef struct rvmig_stats rvmig_stats;

/* Takes a snapshot of an endpoint's counters; read it with the accessors
 * (new counters can be added without breaking the ABI). */
RVMIG_API int rvmig_stats_snapshot(rvmig_ep *ep, rvmig_stats **out);
RVMIG_API void rvmig_stats_free(rvmig_stats *s);

enum rvmig_stat {
	RVMIG_STAT_BYTES_SENT = 0,   /* payload bytes this side sent (push/inline) */
	RVMIG_STAT_BYTES_RECV,       /* payload bytes delivered to this side's consumer */
	RVMIG_STAT_OPS_WRITE,        /* one-sided WRITE operations issued */
	RVMIG_STAT_OPS_READ,         /* one-sided READ operations issued */
	RVMIG_STAT_BYTES_WRITTEN,    /* bytes moved by WRITEs issued here */
	RVMIG_STAT_BYTES_READ,       /* bytes moved by READs issued here */
	RVMIG_STAT_MSGS_SENT,        /* control messages sent */
	RVMIG_STAT_MSGS_RECV,        /* control messages received */
	RVMIG_STAT_REG_COUNT,        /* memory registrations performed */
	RVMIG_STAT_REG_BYTES,        /* bytes registered */
	RVMIG_STAT_REG_NSEC,         /* time spent registering, ns */
	RVMIG_STAT_DEREG_COUNT,      /* deregistrations (cache evictions included) */
	RVMIG_STAT_USER_COPY_BYTES,  /* bulk payload bytes copied in user space (TCP: read-ahead; verbs: 0) */
	RVMIG_STAT_ERRORS,           /* failed operations */
	RVMIG_STAT_CPU_USER_NSEC,    /* thread CPU time spent inside rvmig calls */
	RVMIG_STAT_CPU_SYS_NSEC,
	RVMIG_STAT_REQUESTS_DONE,    /* client requests completed */
	RVMIG_STAT_CREDIT_STALLS,    /* times the server waited for slots/window */
	RVMIG_STAT__COUNT
};

RVMIG_API uint64_t rvmig_stats_get(const rvmig_stats *s, enum rvmig_stat which);
RVMIG_API const char *rvmig_stat_name(enum rvmig_stat which);

#ifdef __cplusplus
}
#endif
#endif /* RVMIG_XFER_H */
