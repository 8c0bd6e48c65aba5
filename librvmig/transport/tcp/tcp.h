/* SPDX-License-Identifier: MIT */
/*
 * tcp.h - internals of the TCP transport.
 *
 * The TCP transport gives the RC-QP semantics of transport.h over stream
 * sockets.  Each link is one TCP connection carrying frames:
 *
 *   struct tcp_frame { op, len, raddr, rkey, id }  + `len` payload bytes
 *
 *   SEND       payload lands in the oldest posted RECV buffer
 *   WRITE      payload is read straight into the peer's registered region
 *   READ_REQ   asks the peer for `len` bytes of its region (no payload)
 *   READ_RESP  the answer, read straight into the requester's buffer
 *
 * Payloads go between user memory and the socket with readv/writev; the
 * only user-space copy is the start of a payload that arrived in a link's
 * read-ahead stage (at most TCP_STAGE bytes per frame), counted in
 * RVMIG_STAT_USER_COPY_BYTES.  One-sided operations are checked against the
 * regions registered here (rkey, bounds, access) exactly as an RNIC would.
 */
#ifndef RVMIG_TCP_H
#define RVMIG_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "transport/transport.h"

enum tcp_frame_op {
	TCP_F_SEND = 1,
	TCP_F_WRITE = 2,
	TCP_F_READ_REQ = 3,
	TCP_F_READ_RESP = 4,
};

/* On the wire, little-endian, 32 bytes. */
struct tcp_frame {
	uint8_t op;
	uint8_t pad[3];
	uint32_t len;
	uint64_t raddr;
	uint32_t rkey;
	uint32_t pad2;
	uint64_t id;
};
_Static_assert(sizeof(struct tcp_frame) == 32, "tcp frame header is 32 bytes");

/* Connection set-up message (hello / reply), before framing starts. */
enum { TCP_SETUP_HELLO = 1, TCP_SETUP_ACCEPT = 2, TCP_SETUP_REJECT = 3 };
struct tcp_setup {
	uint8_t kind;
	uint8_t len;
	uint8_t data[TP_HELLO_MAX];
};

/* A queued outgoing frame (header + optional payload). */
struct tcp_txop {
	struct tcp_txop *next;
	struct tcp_frame hdr;
	struct iovec iov[2];
	int iovcnt;
	size_t total, done;
	uint64_t wr_id;
	enum tp_op op;      /* completion to report; 0 for none (READ_RESP, READ_REQ) */
};

struct tcp_rxbuf {
	void *buf;
	uint32_t len;
	uint64_t wr_id;
};

struct tcp_read {
	uint64_t id;
	void *buf;
	uint32_t len;
	uint64_t wr_id;
	bool used;
};

enum tcp_rx_state { RX_HDR, RX_PAYLOAD };

/* Bytes read past the current payload (or in place of a bare header) in
 * the same receive call: the small frames that follow a payload (control
 * messages, the next header) arrive with it instead of costing a call
 * each.  What lands there of a following payload is copied out of it, so
 * at most this much per frame is copied in user space. */
#define TCP_STAGE 1024

struct tcp_link {
	int fd;
	bool dead;
	char peer[64];
	/* transmit */
	struct tcp_txop *txq_head, *txq_tail;
	uint32_t tx_outstanding; /* posted by the engine, not yet completed */
	bool want_out;
	/* posted receive buffers, FIFO ring */
	struct tcp_rxbuf *rq;
	uint32_t rq_head, rq_count;
	/* outstanding READs issued by us */
	struct tcp_read *reads;
	uint64_t next_read_id;
	/* READ_RESPs queued for the peer, not yet written whole */
	uint32_t resp_queued;
	/* receive state machine */
	enum tcp_rx_state rx_state;
	struct tcp_frame rx_hdr;
	size_t rx_done;
	uint8_t *rx_dst;
	size_t rx_len;
	enum tp_op rx_cqe_op;   /* completion when payload done */
	uint64_t rx_cqe_wr_id;
	uint32_t rx_cqe_len;
	/* bytes read ahead, not yet fed to the state machine: [st_pos, st_len) */
	uint32_t st_pos, st_len;
	uint8_t stage[TCP_STAGE];
};

struct tcp_mr_slot {
	uint8_t *addr;
	size_t len;
	unsigned access;
	uint8_t gen;
	bool used;
};

struct tp_ep {
	struct rvmig_ctx *ctx;
	struct tp_ep_cfg cfg;
	int epfd;
	struct tcp_link *links;
	uint32_t nlinks;
	/* completion queue (ring) */
	struct tp_cqe *cq;
	uint32_t cq_cap, cq_head, cq_count;
	/* registered regions; rkey = index << 8 | generation */
	struct tcp_mr_slot *mrs;
	uint32_t nmrs;
	char peer_name[64];
	/* payload bytes of WRITEs / READ responses copied out of a stage */
	uint64_t copied;
	unsigned tx_hold;      /* open batches (rvmig_tp_ops.batch): posts only queue */
	int fail_err;          /* first link failure, reported by poll() */
	bool fail_reported;
	char fail_why[128];    /* ... and why (tp ep_error) */
};

/* An accepted socket whose hello frame is not yet whole (tcp_lst.c). */
struct tcp_pending {
	int fd;
	char peer[64];
	uint8_t buf[2 + TP_HELLO_MAX]; /* the hello frame: kind, length, data */
	size_t got;
	int64_t deadline;             /* CLOCK_MONOTONIC ms: dropped after */
};

#define TCP_PENDING_MAX 64

struct tp_lst {
	struct rvmig_ctx *ctx;
	int fd;   /* listening socket (non-blocking) */
	int epfd; /* epoll set: fd and the pending sockets (tcp_lst_fd) */
	int port;
	int hello_wait_ms; /* a pending peer's hello must be whole within */
	struct tcp_pending pend[TCP_PENDING_MAX];
	unsigned npend;
};

struct tp_req {
	struct tp_lst *lst;
	int fd;
	char peer[64];
};

/* tcp_sock.c */
/* Waits up to timeout_ms (-1: for ever) for `ev` on fd: 0, -ETIMEDOUT or -errno. */
int tcp_wait_fd(int fd, short ev, int timeout_ms);
int tcp_write_full(int fd, const void *buf, size_t len, int timeout_ms);
int tcp_read_full(int fd, void *buf, size_t len, int timeout_ms);
int tcp_setup_send(int fd, uint8_t kind, const void *data, size_t len, int timeout_ms);
/* *len: the room at data in, the frame's length out (-RVMIG_EBADMSG if longer). */
int tcp_setup_recv(int fd, uint8_t *kind, void *data, size_t *len, int timeout_ms);
void tcp_sock_tune(int fd, uint32_t timeout_ms);
void tcp_addr_name(const struct sockaddr *sa, char *buf, size_t len);

/* tcp_cm.c */
int tcp_connect_link(struct tp_ep *ep, const char *host, const char *port, const void *hello,
		     size_t hello_len, void *reply, size_t *reply_len, int timeout_ms);
int tcp_connect_links(struct tp_ep *ep, const char *host, const char *port, uint32_t n,
		      const void *hellos, size_t hello_len, void *replies, size_t reply_cap,
		      size_t *reply_lens, int timeout_ms, uint32_t *failed);
int tcp_listen(struct rvmig_ctx *ctx, const char *host, const char *port, struct tp_lst **out);
int tcp_lst_port(struct tp_lst *l);
int tcp_lst_fd(struct tp_lst *l);
int tcp_lst_wait(struct tp_lst *l, int timeout_ms, struct tp_req **req, void *hello,
		 size_t *hello_len);
void tcp_lst_set_wait(struct tp_lst *l, int ms);
int64_t tcp_lst_deadline(struct tp_lst *l);
int tcp_lst_accept(struct tp_req *req, struct tp_ep *ep, const void *reply, size_t reply_len);
void tcp_lst_reject(struct tp_req *req, const void *reply, size_t reply_len);
void tcp_lst_close(struct tp_lst *l);

/* tcp_ep.c */
int tcp_ep_add_link(struct tp_ep *ep, int fd, const char *peer);

/* tcp_io.c */
void tcp_cq_push(struct tp_ep *ep, uint64_t wr_id, enum tp_op op, int status, uint32_t len,
		 uint32_t link);
void tcp_link_fail(struct tp_ep *ep, uint32_t li, int err, const char *why);
void tcp_link_flush_tx(struct tp_ep *ep, uint32_t li);
int tcp_link_rx(struct tp_ep *ep, uint32_t li);
int tcp_link_tx(struct tp_ep *ep, uint32_t li);
int tcp_txq_add(struct tp_ep *ep, uint32_t li, struct tcp_txop *op);
void tcp_batch(struct tp_ep *ep, bool open);
const struct tcp_mr_slot *tcp_mr_check(struct tp_ep *ep, uint64_t addr, uint32_t rkey,
				       size_t len, unsigned access);

#endif
