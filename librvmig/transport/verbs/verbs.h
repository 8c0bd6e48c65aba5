/* SPDX-License-Identifier: MIT */
/*
 * verbs.h - internals of the InfiniBand verbs transport (rdma_cm + RC QPs).
 *
 * Resources and who owns them:
 *  - struct tp_ep owns one rdma_cm event channel (created with the ep), and,
 *    from the moment the first link fixes the RDMA device, one PD, one
 *    completion channel and one CQ shared by the send and receive queues of
 *    every link.  All links of one ep must be on that device.
 *  - Each link owns its rdma_cm id and the RC QP made on it.  Ids are moved
 *    onto the ep's event channel once connected, so DISCONNECTED and
 *    DEVICE_REMOVAL for any link are read by vb_poll().
 *  - Registered regions are listed on the ep so ep_destroy can release any
 *    the engine forgot (the PD cannot be freed while they exist).
 *  - ep_fd() is an epoll fd over the completion channel fd and the cm event
 *    channel fd; both are non-blocking, so vb_poll() never sleeps.
 *
 * Work request ids: the 64-bit ibv wr_id carries (QP tag, queue, slot); the
 * engine's wr_id and the operation live in per-link slot rings.  Error
 * completions do not carry a valid opcode, so the op must come from there.
 * RC completes each queue in post order, so a ring indexed by a running
 * counter is enough.  The tag is unique per QP ever created on the ep, so
 * flushes from a QP of a failed connection attempt are recognised and
 * dropped instead of landing on a later link with the same index.
 *
 * RECVs before the connection (transport.h, tp_ep_cfg.link_init): once a
 * new link's QP exists (still in INIT) and before rdma_connect/rdma_accept,
 * cfg.link_init(arg, ep, link) is called with the index the link will get;
 * post_recv() on that index is then accepted, held on the ep, and posted to
 * the QP before it connects, so the peer's first SEND (rnr_retry is 0) never
 * finds an empty receive queue.  If the set-up then fails those RECVs are
 * dropped without completions (the link never existed).
 *
 * Connection set-up details the engine sees:
 *  - hello: IB CM pads REQ private data, so lst_wait() hands out
 *    TP_HELLO_MAX bytes (the hello, then zeros); hellos must carry their own
 *    length or be fixed-size.  Reply and reject payloads carry a one-byte
 *    length prefix on the wire, so connect_link() returns them exactly.
 *  - connect_link() on a port nobody listens on: -ECONNREFUSED, empty reply.
 *  - lst_accept() returns once the link is ESTABLISHED (RTU received),
 *    waiting at most cfg.timeout_ms.
 *  - memory may be registered before the first link only when the host has
 *    exactly one RDMA device (-EINVAL otherwise); link_init runs after the
 *    device is known, so registering there always works.
 *
 * Failure detection: ACK timeout from cfg.timeout_ms (verbs_qp.c) with 6
 * transport retries (rdma_rxe treats 7 as "forever"), rnr_retry 0; a
 * DISCONNECTED event moves the QP to the error state (rdma_disconnect) so
 * outstanding work is flushed with -RVMIG_EPEER.
 */
#ifndef RVMIG_TRANSPORT_VERBS_H
#define RVMIG_TRANSPORT_VERBS_H

#include <stdbool.h>
#include <stdint.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "transport/transport.h"

struct rvmig_ctx;

#define VB_SUB "verbs"
#define VB_NAME_MAX 64
#define VB_CQ_EVENTS_ACK_BATCH 64

/* wr_id layout: QP tag in the top 24 bits, receive flag, slot index in the
 * low 32 bits. */
#define VB_TAG_MASK 0xffffffu
#define VB_WRID(tag, recv, slot) \
	(((uint64_t)(tag) << 40) | ((uint64_t)((recv) ? 1 : 0) << 39) | (uint64_t)(uint32_t)(slot))
#define VB_WRID_TAG(w) ((uint32_t)((w) >> 40))
#define VB_WRID_RECV(w) ((int)(((w) >> 39) & 1))
#define VB_WRID_SLOT(w) ((uint32_t)(w))

struct vb_slot {
	uint64_t wr_id;
	enum tp_op op;
};

/* One direction's outstanding work requests of one link, in post order. */
struct vb_ring {
	struct vb_slot *slot;
	uint32_t depth;
	uint64_t head; /* next to complete */
	uint64_t tail; /* next to post */
};

/* A RECV posted by link_init for the link being set up. */
struct vb_pre {
	void *buf;
	uint32_t len;
	uint32_t lkey;
	uint64_t wr_id;
};

struct vb_link {
	struct rdma_cm_id *id;
	uint32_t tag;
	struct vb_ring sq;
	struct vb_ring rq;
	uint32_t max_inline;
	int err;          /* 0 while healthy, then the status flushed ops get */
	bool err_reported;/* the error was shown to the engine (cqe or poll rc) */
	bool logged;      /* the first error completion was logged */
	bool disconnected;/* rdma_disconnect() was called */
	char peer[VB_NAME_MAX];
};

struct vb_mr {
	struct ibv_mr *mr;
	struct vb_mr *prev, *next;
};

struct tp_ep {
	struct rvmig_ctx *ctx;
	struct tp_ep_cfg cfg;
	struct rdma_event_channel *cm_ch;
	int epfd;

	/* set once the device is known (first link or first reg_mr) */
	struct ibv_context *verbs;
	struct ibv_device_attr dev_attr;
	struct ibv_pd *pd;
	struct ibv_comp_channel *comp_ch;
	struct ibv_cq *cq;
	int cq_size;
	unsigned unacked_cq_events;

	struct vb_link *links;
	uint32_t nlinks, links_cap;
	uint32_t last_tag;

	struct vb_pre *pre; /* rq_depth entries */
	uint32_t npre;
	bool in_link_init; /* inside cfg.link_init: post_recv(nlinks) is held */

	struct vb_mr *mrs;
	size_t mr_bytes;

	char peer[VB_NAME_MAX];
	int fail_err;          /* first link failure and why (tp ep_error) */
	char fail_why[160];
};

struct tp_lst {
	struct rvmig_ctx *ctx;
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	int port;
	struct tp_req *reqs; /* received, not yet accepted or rejected */
	char name[VB_NAME_MAX];
};

struct tp_req {
	struct tp_lst *lst;
	struct rdma_cm_id *id;
	struct rdma_conn_param peer_param; /* depths the requester asked for */
	struct tp_req *prev, *next;
	char peer[VB_NAME_MAX];
};

/* verbs_ep.c */
int vb_ep_create(struct rvmig_ctx *ctx, const struct tp_ep_cfg *cfg, struct tp_ep **out);
void vb_ep_destroy(struct tp_ep *ep);
int vb_ep_fd(struct tp_ep *ep);
int vb_arm(struct tp_ep *ep);
int vb_poll(struct tp_ep *ep, struct tp_cqe *cqes, int max);
const char *vb_peer_name(struct tp_ep *ep);
int vb_ep_bind_device(struct tp_ep *ep, struct ibv_context *verbs);
int vb_ep_add_link(struct tp_ep *ep, struct rdma_cm_id *id, uint32_t max_inline, uint32_t tag);
void vb_link_fail(struct tp_ep *ep, struct vb_link *l, int err, const char *why);
int vb_ep_error(struct tp_ep *ep, char *buf, size_t len);

/* verbs_qp.c */
int vb_qp_create(struct tp_ep *ep, struct rdma_cm_id *id, uint32_t *max_inline, uint32_t *tag);
int vb_set_ack_timeout(struct tp_ep *ep, struct rdma_cm_id *id, const char *peer);
void vb_conn_param(const struct tp_ep *ep, struct rdma_conn_param *p,
		   const struct rdma_conn_param *req);
uint8_t vb_ack_timeout(uint32_t timeout_ms);

/* verbs_cm.c */
int vb_connect_link(struct tp_ep *ep, const char *host, const char *port, const void *hello,
		    size_t hello_len, void *reply, size_t *reply_len, int timeout_ms);
int vb_cm_wait(struct rvmig_ctx *ctx, struct rdma_event_channel *ch, struct rdma_cm_id *id,
	       int timeout_ms, enum rdma_cm_event_type want, struct rdma_cm_event **out);
int vb_cm_status_err(const struct rdma_cm_event *ev);
int vb_link_attach(struct tp_ep *ep, struct rdma_cm_id *id, uint32_t max_inline, uint32_t tag);
void vb_addr_name(const struct sockaddr *sa, char *buf, size_t len);
int vb_nonblock(int fd);

/* verbs_lst.c */
int vb_listen(struct rvmig_ctx *ctx, const char *host, const char *port, struct tp_lst **out);
int vb_lst_port(struct tp_lst *l);
int vb_lst_fd(struct tp_lst *l);
int vb_lst_wait(struct tp_lst *l, int timeout_ms, struct tp_req **req, void *hello,
		size_t *hello_len);
int vb_lst_accept(struct tp_req *req, struct tp_ep *ep, const void *reply, size_t reply_len);
void vb_lst_reject(struct tp_req *req, const void *reply, size_t reply_len);
void vb_lst_close(struct tp_lst *l);

/* verbs_mr.c */
int vb_reg_mr(struct tp_ep *ep, void *addr, size_t len, unsigned access, struct tp_mr *out);
int vb_dereg_mr(struct tp_ep *ep, struct tp_mr *mr);
void vb_mr_release_all(struct tp_ep *ep);
int vb_prepost(struct tp_ep *ep, struct ibv_qp *qp, uint32_t tag);

/* verbs_post.c */
int vb_post_recv(struct tp_ep *ep, uint32_t link, void *buf, uint32_t len,
		 const struct tp_mr *mr, uint64_t wr_id);
int vb_post_send(struct tp_ep *ep, uint32_t link, const void *buf, uint32_t len,
		 const struct tp_mr *mr, uint64_t wr_id);
int vb_post_write(struct tp_ep *ep, uint32_t link, const void *buf, uint32_t len,
		  const struct tp_mr *mr, uint64_t raddr, uint32_t rkey, uint64_t wr_id);
int vb_post_read(struct tp_ep *ep, uint32_t link, void *buf, uint32_t len,
		 const struct tp_mr *mr, uint64_t raddr, uint32_t rkey, uint64_t wr_id);

/* Reply/reject private data carries a one-byte length so the peer gets the
 * exact payload back (IB CM pads private data to the message's full size). */
#define VB_REPLY_HDR 1

#endif /* RVMIG_TRANSPORT_VERBS_H */
