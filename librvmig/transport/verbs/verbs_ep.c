/* SPDX-License-Identifier: MIT */
/*
 * verbs_ep.c - transport endpoint: create/destroy, the device-wide resources
 * (PD, completion channel, CQ) made when the first link fixes the device,
 * the link table, and the epoll fd the engine sleeps on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/log.h"
#include "transport/verbs/verbs.h"

/* Defaults for zeroed tp_ep_cfg fields. */
#define VB_DEF_SQ_DEPTH 128
#define VB_DEF_RQ_DEPTH 128
#define VB_DEF_RD_ATOMIC 16
#define VB_DEF_TIMEOUT_MS 10000

static int vb_epoll_add(struct tp_ep *ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ev.data.fd = fd;
	if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int e = errno;

		LOG_ERR(ep->ctx, VB_SUB, "epoll_ctl(ADD fd %d): %s", fd, strerror(e));
		return -e;
	}
	return 0;
}

int vb_ep_create(struct rvmig_ctx *ctx, const struct tp_ep_cfg *cfg, struct tp_ep **out)
{
	struct tp_ep *ep;
	int rc;

	if (!out)
		return -EINVAL;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->ctx = ctx;
	ep->epfd = -1;
	if (cfg)
		ep->cfg = *cfg;
	if (!ep->cfg.sq_depth)
		ep->cfg.sq_depth = VB_DEF_SQ_DEPTH;
	if (!ep->cfg.rq_depth)
		ep->cfg.rq_depth = VB_DEF_RQ_DEPTH;
	if (!ep->cfg.max_rd_atomic)
		ep->cfg.max_rd_atomic = VB_DEF_RD_ATOMIC;
	if (!ep->cfg.timeout_ms)
		ep->cfg.timeout_ms = VB_DEF_TIMEOUT_MS;
	snprintf(ep->peer, sizeof(ep->peer), "(not connected)");
	ep->pre = calloc(ep->cfg.rq_depth, sizeof(*ep->pre));
	if (!ep->pre) {
		free(ep);
		return -ENOMEM;
	}

	ep->cm_ch = rdma_create_event_channel();
	if (!ep->cm_ch) {
		rc = -errno;
		LOG_ERR(ctx, VB_SUB, "rdma_create_event_channel: %s (is rdma_ucm loaded?)",
			strerror(-rc));
		goto fail;
	}
	rc = vb_nonblock(ep->cm_ch->fd);
	if (rc)
		goto fail;
	ep->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ep->epfd < 0) {
		rc = -errno;
		LOG_ERR(ctx, VB_SUB, "epoll_create1: %s", strerror(-rc));
		goto fail;
	}
	rc = vb_epoll_add(ep, ep->cm_ch->fd);
	if (rc)
		goto fail;
	*out = ep;
	return 0;
fail:
	vb_ep_destroy(ep);
	return rc;
}

int vb_ep_bind_device(struct tp_ep *ep, struct ibv_context *verbs)
{
	const char *dev = ibv_get_device_name(verbs->device);
	int rc;

	if (ep->verbs) {
		if (ep->verbs == verbs)
			return 0;
		LOG_ERR(ep->ctx, VB_SUB,
			"all links of an endpoint must use one RDMA device: the new link is on %s, "
			"the endpoint on %s", dev, ibv_get_device_name(ep->verbs->device));
		return -EXDEV;
	}
	if (ibv_query_device(verbs, &ep->dev_attr)) {
		rc = -errno;
		LOG_ERR(ep->ctx, VB_SUB, "ibv_query_device(%s): %s", dev, strerror(-rc));
		return rc;
	}
	ep->pd = ibv_alloc_pd(verbs);
	if (!ep->pd) {
		rc = -errno;
		LOG_ERR(ep->ctx, VB_SUB, "ibv_alloc_pd(%s): %s", dev, strerror(-rc));
		goto fail;
	}
	ep->comp_ch = ibv_create_comp_channel(verbs);
	if (!ep->comp_ch) {
		rc = -errno;
		LOG_ERR(ep->ctx, VB_SUB, "ibv_create_comp_channel(%s): %s", dev, strerror(-rc));
		goto fail;
	}
	rc = vb_nonblock(ep->comp_ch->fd);
	if (rc)
		goto fail;
	/* Room for two links; vb_ep_add_link() grows it for more. */
	ep->cq_size = 2 * (int)(ep->cfg.sq_depth + ep->cfg.rq_depth);
	if (ep->cq_size > ep->dev_attr.max_cqe)
		ep->cq_size = ep->dev_attr.max_cqe;
	ep->cq = ibv_create_cq(verbs, ep->cq_size, ep, ep->comp_ch, 0);
	if (!ep->cq) {
		rc = -errno;
		LOG_ERR(ep->ctx, VB_SUB, "ibv_create_cq(%s, %d entries): %s", dev, ep->cq_size,
			strerror(-rc));
		goto fail;
	}
	ep->cq_size = ep->cq->cqe;
	rc = vb_epoll_add(ep, ep->comp_ch->fd);
	if (rc)
		goto fail;
	ep->verbs = verbs;
	LOG_DBG(ep->ctx, VB_SUB, "endpoint bound to %s (max_qp_wr %d, max_cqe %d, rd_atom %d/%d)",
		dev, ep->dev_attr.max_qp_wr, ep->dev_attr.max_cqe, ep->dev_attr.max_qp_rd_atom,
		ep->dev_attr.max_qp_init_rd_atom);
	return 0;
fail:
	if (ep->cq)
		ibv_destroy_cq(ep->cq);
	if (ep->comp_ch)
		ibv_destroy_comp_channel(ep->comp_ch);
	if (ep->pd)
		ibv_dealloc_pd(ep->pd);
	ep->cq = NULL;
	ep->comp_ch = NULL;
	ep->pd = NULL;
	return rc;
}

static int vb_ring_init(struct vb_ring *r, uint32_t depth)
{
	r->slot = calloc(depth, sizeof(*r->slot));
	if (!r->slot)
		return -ENOMEM;
	r->depth = depth;
	r->head = r->tail = 0;
	return 0;
}

/* Makes room in the shared CQ for one more link's queues. */
static int vb_cq_grow(struct tp_ep *ep, uint32_t nlinks)
{
	uint64_t need = (uint64_t)nlinks * (ep->cfg.sq_depth + ep->cfg.rq_depth);
	int want;

	if (need <= (uint64_t)ep->cq_size)
		return 0;
	if (need > (uint64_t)ep->dev_attr.max_cqe) {
		LOG_ERR(ep->ctx, VB_SUB,
			"%u links of %u+%u work requests need %llu CQ entries; %s allows %d",
			nlinks, ep->cfg.sq_depth, ep->cfg.rq_depth, (unsigned long long)need,
			ibv_get_device_name(ep->verbs->device), ep->dev_attr.max_cqe);
		return -ENOSPC;
	}
	want = need * 2 > (uint64_t)ep->dev_attr.max_cqe ? ep->dev_attr.max_cqe : (int)need * 2;
	if (ibv_resize_cq(ep->cq, want)) {
		int e = errno;

		LOG_ERR(ep->ctx, VB_SUB, "ibv_resize_cq(%d -> %d entries): %s", ep->cq_size, want,
			strerror(e));
		return -e;
	}
	ep->cq_size = ep->cq->cqe;
	return 0;
}

int vb_ep_add_link(struct tp_ep *ep, struct rdma_cm_id *id, uint32_t max_inline, uint32_t tag)
{
	struct vb_link *l;
	int rc;

	if (ep->nlinks == ep->links_cap) {
		uint32_t cap = ep->links_cap ? ep->links_cap * 2 : 4;
		struct vb_link *n = realloc(ep->links, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ep->links = n;
		ep->links_cap = cap;
	}
	rc = vb_cq_grow(ep, ep->nlinks + 1);
	if (rc)
		return rc;
	l = &ep->links[ep->nlinks];
	memset(l, 0, sizeof(*l));
	if (vb_ring_init(&l->sq, ep->cfg.sq_depth) || vb_ring_init(&l->rq, ep->cfg.rq_depth)) {
		free(l->sq.slot);
		free(l->rq.slot);
		return -ENOMEM;
	}
	l->id = id;
	l->tag = tag;
	l->max_inline = max_inline;
	/* the RECVs link_init posted, which vb_prepost() put on this QP */
	for (uint32_t i = 0; i < ep->npre; i++) {
		l->rq.slot[i].wr_id = ep->pre[i].wr_id;
		l->rq.slot[i].op = TP_OP_RECV;
	}
	l->rq.tail = ep->npre;
	ep->npre = 0;
	vb_addr_name(rdma_get_peer_addr(id), l->peer, sizeof(l->peer));
	id->context = (void *)(uintptr_t)ep->nlinks;
	if (ep->nlinks == 0)
		memcpy(ep->peer, l->peer, sizeof(ep->peer));
	return (int)ep->nlinks++;
}

/*
 * Marks a link failed: its QP goes to the error state (rdma_disconnect does
 * that and tells the peer), so everything outstanding is flushed and the
 * flushed completions carry `err`.  A link with nothing outstanding reports
 * the failure through the next poll() that has no completions to return.
 */
void vb_link_fail(struct tp_ep *ep, struct vb_link *l, int err, const char *why)
{
	uint32_t idx = (uint32_t)(l - ep->links);

	if (!ep->fail_err) {
		ep->fail_err = err;
		snprintf(ep->fail_why, sizeof(ep->fail_why), "link %u (%s): %s", idx, l->peer, why);
	}
	if (!l->err) {
		l->err = err;
		if (err == -RVMIG_EPEER && !strcmp(why, "peer disconnected"))
			LOG_INFO(ep->ctx, VB_SUB, "link %u to %s: %s", idx, l->peer, why);
		else
			LOG_ERR(ep->ctx, VB_SUB, "link %u to %s failed: %s", idx, l->peer, why);
	}
	if (!l->disconnected) {
		l->disconnected = true;
		rdma_disconnect(l->id);
	}
}

int vb_ep_fd(struct tp_ep *ep)
{
	return ep->epfd;
}

const char *vb_peer_name(struct tp_ep *ep)
{
	return ep->peer;
}

int vb_ep_error(struct tp_ep *ep, char *buf, size_t len)
{
	if (ep->fail_err)
		snprintf(buf, len, "%s", ep->fail_why);
	return ep->fail_err;
}

void vb_ep_destroy(struct tp_ep *ep)
{
	uint32_t i;

	if (!ep)
		return;
	/* Move every QP to the error state and tell the peers first, so their
	 * outstanding work is flushed rather than timed out. */
	for (i = 0; i < ep->nlinks; i++) {
		struct vb_link *l = &ep->links[i];

		if (!l->disconnected) {
			l->disconnected = true;
			rdma_disconnect(l->id);
		}
	}
	for (i = 0; i < ep->nlinks; i++) {
		struct vb_link *l = &ep->links[i];

		if (l->id->qp)
			rdma_destroy_qp(l->id);
		rdma_destroy_id(l->id);
		free(l->sq.slot);
		free(l->rq.slot);
	}
	free(ep->links);
	free(ep->pre);
	vb_mr_release_all(ep);
	if (ep->cq) {
		/* ibv_destroy_cq waits for every delivered event to be acked. */
		if (ep->unacked_cq_events)
			ibv_ack_cq_events(ep->cq, ep->unacked_cq_events);
		ibv_destroy_cq(ep->cq);
	}
	if (ep->comp_ch)
		ibv_destroy_comp_channel(ep->comp_ch);
	if (ep->pd && ibv_dealloc_pd(ep->pd))
		LOG_ERR(ep->ctx, VB_SUB, "ibv_dealloc_pd: %s", strerror(errno));
	if (ep->cm_ch)
		rdma_destroy_event_channel(ep->cm_ch);
	if (ep->epfd >= 0)
		close(ep->epfd);
	free(ep);
}
