/* SPDX-License-Identifier: MIT */
/*
 * ep.h - internal state of an rvmig endpoint: the protocol engine that is the
 * same for every transport (client queue, server scheduler, receiver
 * reordering, control-channel credits, registration cache).
 */
#ifndef RVMIG_PROTO_EP_H
#define RVMIG_PROTO_EP_H

#include <stdbool.h>
#include <stdint.h>

#include <rvmig/xfer.h>

#include "core/ctx.h"
#include "proto/wire.h"
#include "transport/transport.h"

/* wr_id = kind << 56 | index */
enum wr_kind { WR_CTRL_RECV = 1, WR_CTRL_SEND = 2, WR_DATA = 3 };
#define WR_ID(kind, idx) ((uint64_t)(kind) << 56 | (uint64_t)(idx))
#define WR_KIND(id) ((unsigned)((id) >> 56))
#define WR_IDX(id) ((uint32_t)((id) & 0xffffffffu))

#define EP_CTRL_CREDITS 32 /* receive buffers per link */
#define EP_CTRL_SENDS 32   /* send buffers per link */
#define EP_SQ_DEPTH 128    /* operations outstanding per link */
#define EP_MAX_CHUNKS 256  /* chunks in flight per endpoint */
#define EP_MAX_LINKS 16    /* links per endpoint */

struct link_state {
	uint32_t send_credits; /* peer receive buffers we may still fill */
	uint32_t to_return;    /* our reposted buffers not yet announced */
	uint32_t held;         /* receiver: credits kept by messages (recv.c) */
	uint32_t sq_used;      /* operations outstanding on the link */
	uint32_t free_send[EP_CTRL_SENDS];
	uint32_t nfree_send;
};

/* One registered piece of a client region (on-demand registration). */
struct mr_piece {
	struct tp_mr tmr;
	bool reg;
	uint32_t refs;
	uint64_t lru;
};

struct rvmig_mr {
	struct rvmig_ep *ep;
	struct rvmig_mr *next;
	uint8_t *addr;
	size_t len;
	unsigned access;
	bool pin_all;
	uint64_t piece_len;
	uint32_t npieces;
	struct mr_piece *pieces;
	uint32_t busy; /* chunks in flight */
	bool orphan;   /* its owner is gone (mr_disown): freed once not busy */
};

/* A client request (bulk or inline message) waiting in the post queue. */
enum item_kind { ITEM_BULK = 1, ITEM_MSG, ITEM_BYE };
struct post_item {
	enum item_kind kind;
	struct rvmig_mr *mr;
	uint64_t offset, len, done; /* bulk: region offset, length, bytes scheduled */
	uint64_t stream_off;
	uint64_t cookie;
	uint32_t req;              /* index in ep->reqs */
	uint8_t *msg;              /* ITEM_MSG: copied payload */
};

struct client_req {
	bool used;
	uint64_t cookie;
	uint32_t chunks_left;      /* scheduled chunks not finished */
	bool all_scheduled;
	int status;
};

/* A chunk in flight (server side of the push, or client side of the pull). */
struct chunk {
	bool used;
	uint64_t seq;
	uint32_t req;
	struct rvmig_mr *mr;
	uint32_t piece;
	uint64_t stream_off;
	uint32_t len;
	uint32_t slot;
	uint32_t link;
};

/* Receiver reorder entry, indexed by seq. */
enum rx_state { RX_EMPTY = 0, RX_ANNOUNCED, RX_READING, RX_READY, RX_MSG, RX_BYE };
struct rx_entry {
	uint8_t state;
	uint8_t link;            /* RX_MSG, RX_BYE: the link of its credit */
	uint32_t slot;
	uint32_t len;
	uint64_t stream_off;
	uint64_t raddr;
	uint32_t rkey;
	uint32_t crc;
	uint8_t *msg;
};

struct delivered_msg {
	struct delivered_msg *next;
	uint64_t token;
	int link;                /* credit returned on release, or -1 */
	uint8_t *data;
};

struct rvmig_ep {
	struct rvmig_ctx *ctx;
	const struct rvmig_tp_ops *tp;
	struct tp_ep *tep;
	struct rvmig_ep_attr attr;
	bool is_receiver;
	enum rvmig_mode mode;
	uint32_t nlinks;
	uint64_t session;
	char peer[96];

	/* control buffers: per link EP_CTRL_CREDITS recv + EP_CTRL_SENDS send */
	uint8_t *ctrl_mem;
	struct tp_mr ctrl_mr;
	bool ctrl_mr_ok;
	struct link_state *links;
	uint32_t rr_link;

	/* peer facts from READY */
	bool ready;
	uint64_t ring_addr;
	uint32_t ring_rkey;
	uint32_t nslots, slot_size, max_announce;
	bool crc;                /* chunks carry CRC32C (negotiated in the hello) */

	/* receiver ring */
	uint8_t *ring;
	struct tp_mr ring_mr;
	bool ring_mr_ok;
	uint32_t *free_slots;   /* push: sender's view; pull: receiver's own */
	uint32_t nfree_slots;
	uint32_t pending_free[WIRE_SLOT_FREE_MAX]; /* receiver, push: to return */
	uint32_t npending_free;
	uint8_t *slot_busy;      /* receiver, push: slots not yet released (recv.c) */

	/* client */
	struct post_item *q;     /* FIFO of posted items */
	uint32_t q_cap, q_head, q_count;
	struct client_req *reqs;
	uint32_t nreqs_used;
	struct chunk *chunks;    /* in flight, capacity max_chunks */
	uint32_t max_chunks, nchunks;
	uint64_t next_seq;
	uint64_t inflight_bytes;
	uint32_t announced;      /* pull: XFER_REQs not yet acked */
	struct rvmig_mr *mrs;
	uint64_t pinned_bytes;
	uint64_t lru_tick;

	/* receiver reorder ring */
	struct rx_entry *rx;
	uint64_t rx_cap;         /* power of two */
	uint64_t next_deliver;   /* lowest seq not yet delivered */
	uint64_t next_sched;     /* pull: lowest seq not yet READ */
	uint64_t max_seen;       /* highest seq + 1 received */
	uint64_t acked;          /* pull: last XFER_ACK sent */
	uint32_t reads_inflight;
	struct delivered_msg *dmsgs;

	/* events */
	struct rvmig_event *evq;
	uint32_t ev_cap, ev_head, ev_count;

	/* lifecycle */
	int error;
	char errmsg[256];        /* why it failed (rvmig_ep_error()), "" until then */
	bool bye_sent, bye_recv, closed_evented;
	bool want_bye;
	bool failing;            /* ep_fail() in progress: no recursion */
	int link_err;            /* first failed completion, reported after the batch */
	char link_err_what[64];           /* receiver: rvmig_ep_close() asked for our BYE */
	uint64_t reply_id;
	uint64_t last_rx_ns, last_tx_ns;

	/* closed without waiting for the peer (tp ep_abort): a receiver dropped
	 * in its handshake (setup.c), or a peer silent for the timeout */
	bool no_linger;
	/* receiver in its handshake: a failure is the listener's to report
	 * (refused peers are logged by it, at a bounded rate), not logged here */
	bool quiet_fail;

	/* authentication */
	uint8_t nonce_s[WIRE_NONCE], nonce_c[WIRE_NONCE];
	uint8_t psk[256];
	bool auth_answered;      /* client sent AUTH */
	int auth_state;          /* receiver: 0 none, 1 waiting, 2 ok, <0 failed */

	uint64_t stats[RVMIG_STAT__COUNT];
	/* the published transfer this endpoint is attached to, or NULL
	 * (rvmig_pubxfer_set_endpoint(); publish/publish_int.h) */
	struct rvmig_pubxfer *pub;

	/* receiver: the live-endpoint count of the listener that accepted it
	 * (setup.c), released by rvmig_ep_close() */
	struct conn_count *conns;
};

/* engine.c */
int ep_link_init(void *arg, struct tp_ep *tep, uint32_t link);
int ep_setup_buffers(struct rvmig_ep *ep);
int ep_send_ctrl(struct rvmig_ep *ep, int link, void *msg, size_t len, bool credit_only);
void ep_fail(struct rvmig_ep *ep, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ep_push_event(struct rvmig_ep *ep, const struct rvmig_event *ev);
int ep_drive(struct rvmig_ep *ep, int timeout_ms);
void ep_batch(struct rvmig_ep *ep, bool open);
void ep_free(struct rvmig_ep *ep);
uint64_t ep_now_ns(void);

/* sched.c: the server (scheduler) and the client side of the protocol */
void sched_run(struct rvmig_ep *ep);
void sched_data_done(struct rvmig_ep *ep, uint32_t chunk, int status);
void sched_on_msg(struct rvmig_ep *ep, uint32_t link, struct wire_hdr *h);
void client_fail_all(struct rvmig_ep *ep, int status);
int client_bye(struct rvmig_ep *ep);
/* api.c: cancels the queued bulk requests on `mr` (compared, never read;
 * NULL: on any region) as rvmig_client_cancel() does, messages left in
 * place; returns how many. */
int client_cancel_bulk(struct rvmig_ep *ep, const struct rvmig_mr *mr);

/* recv.c: the receiver */
/* recv_on_msg() returns 0, RECV_KEPT_CREDIT (the message keeps its control
 * credit: the engine must not announce the buffer) or -errno. */
#define RECV_KEPT_CREDIT 1
int recv_on_msg(struct rvmig_ep *ep, uint32_t link, struct wire_hdr *h);
void recv_read_done(struct rvmig_ep *ep, uint64_t seq, int status);
void recv_run(struct rvmig_ep *ep);
int recv_release(struct rvmig_ep *ep, uint64_t token);
int msg_deliver(struct rvmig_ep *ep, uint8_t *data, uint32_t len, uint64_t stream_off,
		uint64_t id, int link);
int msg_release(struct rvmig_ep *ep, uint64_t token);

/* links.c: connects the client's links (ep->nlinks) to host:port, each
 * sending `tmpl` (host order) with its link_idx: all at once when the
 * transport can and pause_ms is 0, else one by one, pause_ms apart (the
 * test hook proto_link_pause_ms()).  0 or the error, logged naming the link
 * and the peer (uri). */
int links_connect(struct rvmig_ep *ep, const char *host, const char *port, const char *uri,
		  const struct wire_hello *tmpl, int timeout_ms, uint32_t pause_ms);

/* ring.c: `bytes` of receive ring (4 KiB aligned, free()d), faulted in;
 * NULL when out of memory. */
uint8_t *ring_alloc(size_t bytes);

/* auth.c */
int auth_challenge(struct rvmig_ep *ep);
int auth_check_client(struct rvmig_ep *ep, const struct wire_auth *m);
void auth_server_proof(struct rvmig_ep *ep, uint8_t out[WIRE_MAC]);
int auth_answer(struct rvmig_ep *ep, const struct wire_challenge *c);
int auth_check_server(struct rvmig_ep *ep, const struct wire_ready *r);

/* mrcache.c */
int mr_piece_get(struct rvmig_mr *mr, uint64_t off, uint32_t *piece);
void mr_piece_put(struct rvmig_mr *mr, uint32_t piece);
uint64_t mr_chunk_limit(const struct rvmig_mr *mr, uint64_t off);
void mr_release_all(struct rvmig_ep *ep);
int mr_register(struct rvmig_ep *ep, void *addr, size_t len, unsigned access, struct rvmig_mr **out);
/* 0, or -EBUSY while a request on it is in flight or still queued. */
int mr_deregister(struct rvmig_mr *mr);
/* For an owner that goes away before the endpoint (rvmig_xsend_detach()):
 * its queued requests are cancelled and the region is freed now, or, with
 * chunks still in flight, by the endpoint once they end (mr_orphan_idle(),
 * called as each ends) or when it closes.  The memory must stay in place
 * until then. */
void mr_disown(struct rvmig_mr *mr);
void mr_orphan_idle(struct rvmig_mr *mr);

/* stats.c */
struct cpu_mark { uint64_t user, sys; };
void stats_cpu_enter(struct cpu_mark *m);
void stats_cpu_leave(struct rvmig_ep *ep, const struct cpu_mark *m);

#endif
