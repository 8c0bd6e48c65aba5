/* SPDX-License-Identifier: MIT */
/*
 * transport.h - the provider interface every transport implements (internal).
 *
 * A transport moves bytes and nothing else: it knows links (one RC QP or one
 * TCP connection), registered memory, two-sided SEND/RECV and one-sided
 * WRITE/READ, and completions.  All protocol (handshake contents, credits,
 * scheduling, ordering) lives in librvmig/proto and is the same for every
 * transport.
 *
 * Semantics every transport must give (those of an InfiniBand RC QP):
 *  - Operations posted on one link execute in order; a SEND posted after a
 *    WRITE on the same link is delivered after the WRITE's data is visible
 *    in the target memory.
 *  - A SEND consumes one RECV buffer posted on the peer's link, in post
 *    order.  A SEND arriving with no RECV posted is a fatal link error
 *    (the protocol's credits must prevent it; nothing is retried).
 *  - A WRITE or READ naming memory outside a region the peer registered with
 *    the matching remote access is refused and fails the link.
 *  - Every posted operation yields exactly one completion (success or
 *    error), including when the link fails (flushed with status
 *    -RVMIG_EPEER or -RVMIG_ETIMEDOUT).  SEND/WRITE completions mean the
 *    local buffer may be reused; READ/RECV completions mean the data is in
 *    the local buffer.
 *  - Nothing blocks except connect_link(s)/lst_wait, which take a timeout.
 */
#ifndef RVMIG_TRANSPORT_H
#define RVMIG_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvmig/common.h>

struct rvmig_ctx;
struct tp_ep;    /* a transport endpoint: the links of one rvmig_ep + shared resources */
struct tp_lst;   /* a listener */
struct tp_req;   /* an incoming link request not yet accepted or rejected */

#define TP_HELLO_MAX 56 /* rdma_cm REQ private data limit on IB/RoCE */

enum tp_op {
	TP_OP_SEND = 1,
	TP_OP_RECV,
	TP_OP_WRITE,
	TP_OP_READ,
};

enum tp_access {
	TP_ACCESS_LOCAL = 0,        /* only read locally (a push or pull source) */
	TP_ACCESS_REMOTE_READ = 1,
	TP_ACCESS_REMOTE_WRITE = 2, /* implies local write */
	TP_ACCESS_LOCAL_WRITE = 4,  /* RECV buffers, READ targets */
};

/* A registered region as the transport sees it. */
struct tp_mr {
	void *addr;
	size_t len;
	uint32_t lkey;
	uint32_t rkey;
	void *priv; /* transport's own (struct ibv_mr *, table slot, ...) */
};

struct tp_cqe {
	uint64_t wr_id;
	enum tp_op op;
	int status;      /* 0 or negative error */
	uint32_t len;    /* RECV: bytes received */
	uint32_t link;   /* link index the operation ran on */
};

/* Sizes the engine asks for when it creates a transport endpoint. */
struct tp_ep_cfg {
	uint32_t sq_depth;   /* max outstanding SEND+WRITE+READ per link */
	uint32_t rq_depth;   /* max posted RECVs per link */
	uint32_t max_rd_atomic; /* max outstanding READs per link */
	uint32_t timeout_ms; /* link failure detection */
	/* Called by the transport for every new link once its queue pair (or
	 * socket) exists and BEFORE the connection is established (before
	 * rdma_connect / rdma_accept), so the engine can post its RECV buffers
	 * with post_recv() and the peer's first SEND never finds an empty
	 * receive queue.  A negative return aborts the link set-up. */
	int (*link_init)(void *arg, struct tp_ep *ep, uint32_t link);
	void *link_init_arg;
};

struct rvmig_tp_ops {
	const char *name; /* URI scheme */

	/* ---- endpoints ---- */
	int (*ep_create)(struct rvmig_ctx *ctx, const struct tp_ep_cfg *cfg, struct tp_ep **out);
	/* Disconnects every link (flushing outstanding ops) and frees all. */
	void (*ep_destroy)(struct tp_ep *ep);
	/* Optional (NULL: ep_destroy never waits): as ep_destroy, but never
	 * waits for the peer, e.g. for its end of a graceful close; what the
	 * peer still sends is discarded.  For peers that have not proved who
	 * they are, which must not hold the listener. */
	void (*ep_abort)(struct tp_ep *ep);
	/* Connects one more link to host:port, sending `hello` (<= TP_HELLO_MAX)
	 * and receiving the peer's reply (<= TP_HELLO_MAX bytes into reply,
	 * *reply_len updated).  A rejection returns -ECONNREFUSED with the
	 * peer's reject payload in reply.  Returns the new link index. */
	int (*connect_link)(struct tp_ep *ep, const char *host, const char *port,
			    const void *hello, size_t hello_len, void *reply, size_t *reply_len,
			    int timeout_ms);
	/* Optional (NULL: the engine calls connect_link once per link):
	 * connects n links to host:port with every set-up in flight at once,
	 * under one deadline timeout_ms.  Link i sends the hello at
	 * hellos + i * hello_len and receives its reply at replies +
	 * i * reply_cap (reply_lens[i] bytes, 0 when it sent none).  Only once
	 * all n accepted are they added, in order (link i of the call gets the
	 * index nlinks-before-the-call + i), and 0 is returned.  Otherwise
	 * nothing is added and the first failure is returned with *failed set
	 * to its link (-ECONNREFUSED: refused, the reject payload in its
	 * reply), logged naming the link and the peer. */
	int (*connect_links)(struct tp_ep *ep, const char *host, const char *port, uint32_t n,
			     const void *hellos, size_t hello_len, void *replies, size_t reply_cap,
			     size_t *reply_lens, int timeout_ms, uint32_t *failed);
	/* A pollable fd, readable when poll() may return completions.  Before
	 * sleeping on it call arm() and then poll() once more. */
	int (*ep_fd)(struct tp_ep *ep);
	int (*arm)(struct tp_ep *ep);
	/* Reaps up to `max` completions without blocking.  Returns the count or
	 * a negative error for a failure not tied to one operation. */
	int (*poll)(struct tp_ep *ep, struct tp_cqe *cqes, int max);
	/* Peer's address as text ("10.0.0.1:7000"). */
	const char *(*peer_name)(struct tp_ep *ep);
	/* Optional: the first link failure, for the engine to report in its
	 * place of the flushed completions' -RVMIG_EPEER: its error (what the
	 * peer violated, e.g. -RVMIG_EACCESS for a WRITE outside a region, or
	 * -RVMIG_EPEER for a closed connection) and why, naming the link
	 * ("link 0 (10.0.0.1:7000): WRITE outside a granted region") into
	 * buf.  Returns 0 (buf untouched) while no link failed. */
	int (*ep_error)(struct tp_ep *ep, char *buf, size_t len);

	/* ---- memory ---- */
	int (*reg_mr)(struct tp_ep *ep, void *addr, size_t len, unsigned access, struct tp_mr *out);
	int (*dereg_mr)(struct tp_ep *ep, struct tp_mr *mr);

	/* ---- data path (never block; -EAGAIN when the link's queue is full) ---- */
	int (*post_recv)(struct tp_ep *ep, uint32_t link, void *buf, uint32_t len,
			 const struct tp_mr *mr, uint64_t wr_id);
	int (*post_send)(struct tp_ep *ep, uint32_t link, const void *buf, uint32_t len,
			 const struct tp_mr *mr, uint64_t wr_id);
	int (*post_write)(struct tp_ep *ep, uint32_t link, const void *buf, uint32_t len,
			  const struct tp_mr *mr, uint64_t raddr, uint32_t rkey, uint64_t wr_id);
	int (*post_read)(struct tp_ep *ep, uint32_t link, void *buf, uint32_t len,
			 const struct tp_mr *mr, uint64_t raddr, uint32_t rkey, uint64_t wr_id);
	/* Optional (NULL: every post is handed on at once, as verbs does).
	 * Between batch(ep, true) and the matching batch(ep, false) posts may
	 * only be queued; the closing call hands them all on (TCP: the frames
	 * posted on a link leave in one send call instead of one each).  Calls
	 * nest; the outermost close hands on.  The engine opens a batch only
	 * around work that never waits (one progress pass, one scheduling
	 * pass), so nothing stays queued while it or its caller sleeps. */
	void (*batch)(struct tp_ep *ep, bool open);
	/* Optional (NULL: none, as verbs, whose payloads only the NIC moves):
	 * payload bytes of WRITEs and READ responses this endpoint copied in
	 * user space so far (TCP: the part of a payload that arrived in the
	 * read-ahead staging buffer; RVMIG_STAT_USER_COPY_BYTES). */
	uint64_t (*copied_bytes)(struct tp_ep *ep);

	/* ---- listening ---- */
	int (*listen)(struct rvmig_ctx *ctx, const char *host, const char *port, struct tp_lst **out);
	int (*lst_port)(struct tp_lst *l);
	int (*lst_fd)(struct tp_lst *l);
	/* Waits up to timeout_ms for the next link request; copies the peer's
	 * hello into `hello` (TP_HELLO_MAX bytes). -ETIMEDOUT when none.  Also
	 * drops every peer whose request is still partial at its deadline. */
	int (*lst_wait)(struct tp_lst *l, int timeout_ms, struct tp_req **req, void *hello,
			size_t *hello_len);
	/* Optional, both or neither (NULL: requests arrive whole, as rdma_cm's
	 * do).  lst_set_wait: how long a connected peer may take to deliver
	 * its whole request (TCP: the hello frame), from when it is accepted;
	 * set before the first lst_wait().  lst_deadline: the earliest
	 * deadline of the requests not yet handed on, tp_now_ms() time,
	 * INT64_MAX when there is none.  lst_fd() does not become readable
	 * when it passes: the caller calls lst_wait() by then, which drops the
	 * peer (or hands on its request if it became whole in time). */
	void (*lst_set_wait)(struct tp_lst *l, int ms);
	int64_t (*lst_deadline)(struct tp_lst *l);
	/* Accepts the request as a new link of `ep` (created with ep_create),
	 * sending `reply`.  Returns the link index.  Consumes req. */
	int (*lst_accept)(struct tp_req *req, struct tp_ep *ep, const void *reply, size_t reply_len);
	/* Refuses the request with `reply` as the reason.  Consumes req. */
	void (*lst_reject)(struct tp_req *req, const void *reply, size_t reply_len);
	void (*lst_close)(struct tp_lst *l);
};

/* The transports built into this library, NULL-terminated, in one place. */
extern const struct rvmig_tp_ops *const rvmig_tp_table[];
const struct rvmig_tp_ops *rvmig_tp_find(const char *scheme);
/* CLOCK_MONOTONIC in milliseconds, for the transports' set-up deadlines. */
int64_t tp_now_ms(void);

extern const struct rvmig_tp_ops rvmig_tp_tcp;
#ifdef RVMIG_HAVE_VERBS
extern const struct rvmig_tp_ops rvmig_tp_verbs;
#endif

#endif /* RVMIG_TRANSPORT_H */
