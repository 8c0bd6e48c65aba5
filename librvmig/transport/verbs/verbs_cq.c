/* SPDX-License-Identifier: MIT */
/*
 * verbs_cq.c - progress: arm(), and poll() which reads the endpoint's
 * rdma_cm events (a disconnect fails the link and flushes its QP), consumes
 * completion-channel events and turns ibv_wc entries into tp_cqe.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "transport/verbs/verbs.h"

#define VB_POLL_BATCH 32

int vb_arm(struct tp_ep *ep)
{
	int rc;

	if (!ep->cq)
		return 0; /* no link yet: only the cm channel can wake us */
	rc = ibv_req_notify_cq(ep->cq, 0);
	if (rc) {
		LOG_ERR(ep->ctx, VB_SUB, "ibv_req_notify_cq: %s", strerror(rc));
		return -rc;
	}
	return 0;
}

static struct vb_link *vb_event_link(struct tp_ep *ep, const struct rdma_cm_event *ev)
{
	uintptr_t idx = (uintptr_t)ev->id->context;

	if (idx < ep->nlinks && ep->links[idx].id == ev->id)
		return &ep->links[idx];
	return NULL;
}

static void vb_cm_drain(struct tp_ep *ep)
{
	struct rdma_cm_event *ev;
	struct vb_link *l;
	uint32_t i;

	while (!rdma_get_cm_event(ep->cm_ch, &ev)) {
		l = vb_event_link(ep, ev);
		switch (ev->event) {
		case RDMA_CM_EVENT_DISCONNECTED:
			if (l)
				vb_link_fail(ep, l, -RVMIG_EPEER, "peer disconnected");
			break;
		case RDMA_CM_EVENT_DEVICE_REMOVAL:
			for (i = 0; i < ep->nlinks; i++)
				vb_link_fail(ep, &ep->links[i], -RVMIG_EPEER, "RDMA device removed");
			break;
		case RDMA_CM_EVENT_TIMEWAIT_EXIT:
			break;
		default:
			LOG_DBG(ep->ctx, VB_SUB, "link %ld: rdma_cm event %s (status %d) ignored",
				l ? (long)(l - ep->links) : -1L, rdma_event_str(ev->event), ev->status);
			break;
		}
		rdma_ack_cm_event(ev);
	}
}

static int vb_wc_status(enum ibv_wc_status s)
{
	switch (s) {
	case IBV_WC_SUCCESS:
		return 0;
	case IBV_WC_RETRY_EXC_ERR:
		return -RVMIG_ETIMEDOUT; /* no ACK from the peer within the retries */
	case IBV_WC_REM_ACCESS_ERR:
		return -RVMIG_EACCESS;
	case IBV_WC_LOC_LEN_ERR:
		return -EMSGSIZE;
	case IBV_WC_LOC_PROT_ERR:
	case IBV_WC_LOC_ACCESS_ERR:
		return -EFAULT;
	default:
		return -RVMIG_EPEER; /* flush, RNR (SEND without RECV), remote op errors, ... */
	}
}

static const char *vb_op_name(enum tp_op op)
{
	switch (op) {
	case TP_OP_SEND:
		return "SEND";
	case TP_OP_RECV:
		return "RECV";
	case TP_OP_WRITE:
		return "WRITE";
	case TP_OP_READ:
		return "READ";
	}
	return "?";
}

/* Links are appended in tag order, so a binary search finds the tag. */
static int vb_link_by_tag(const struct tp_ep *ep, uint32_t tag)
{
	uint32_t lo = 0, hi = ep->nlinks;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ep->links[mid].tag == tag)
			return (int)mid;
		if (ep->links[mid].tag < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int vb_wc_to_cqe(struct tp_ep *ep, const struct ibv_wc *wc, struct tp_cqe *cqe)
{
	int found = vb_link_by_tag(ep, VB_WRID_TAG(wc->wr_id));
	int recv = VB_WRID_RECV(wc->wr_id);
	struct vb_link *l;
	struct vb_ring *r;
	struct vb_slot *s;
	uint32_t idx;

	if (found < 0) {
		/* a QP of a connection attempt that failed: the RECVs
		 * link_init posted on it are flushed here */
		LOG_DBG(ep->ctx, VB_SUB, "completion (%s) of abandoned qp 0x%x dropped",
			ibv_wc_status_str(wc->status), wc->qp_num);
		return 0;
	}
	idx = (uint32_t)found;
	l = &ep->links[idx];
	r = recv ? &l->rq : &l->sq;
	if (VB_WRID_SLOT(wc->wr_id) != (uint32_t)(r->head % r->depth))
		LOG_ERR(ep->ctx, VB_SUB, "link %u: %s completion out of order (slot %u, expected %u)",
			idx, recv ? "receive" : "send", VB_WRID_SLOT(wc->wr_id),
			(uint32_t)(r->head % r->depth));
	s = &r->slot[VB_WRID_SLOT(wc->wr_id) % r->depth];
	r->head++;

	cqe->wr_id = s->wr_id;
	cqe->op = s->op;
	cqe->link = idx;
	cqe->len = recv && wc->status == IBV_WC_SUCCESS ? wc->byte_len : 0;
	cqe->status = vb_wc_status(wc->status);
	if (!cqe->status)
		return 1;

	if (wc->status == IBV_WC_WR_FLUSH_ERR) {
		/* The QP went to the error state for a reason seen elsewhere. */
		if (!l->err)
			vb_link_fail(ep, l, -RVMIG_EPEER, "work requests flushed");
		cqe->status = l->err == -RVMIG_ETIMEDOUT ? l->err : -RVMIG_EPEER;
	} else {
		if (!l->logged)
			LOG_ERR(ep->ctx, VB_SUB, "link %u to %s: %s failed: %s (vendor_err 0x%x)", idx,
				l->peer, vb_op_name(s->op), ibv_wc_status_str(wc->status),
				wc->vendor_err);
		l->logged = true;
		if (!ep->fail_err) {
			/* The precise status (a remote access error is the peer
			 * refusing our WRITE or READ), not the flush status. */
			ep->fail_err = cqe->status;
			snprintf(ep->fail_why, sizeof(ep->fail_why), "link %u (%s): %s failed: %s",
				 idx, l->peer, vb_op_name(s->op), ibv_wc_status_str(wc->status));
		}
		vb_link_fail(ep, l,
			     cqe->status == -RVMIG_ETIMEDOUT ? -RVMIG_ETIMEDOUT : -RVMIG_EPEER,
			     ibv_wc_status_str(wc->status));
	}
	l->err_reported = true;
	return 1;
}

static void vb_cq_events(struct tp_ep *ep)
{
	struct ibv_cq *cq;
	void *cq_ctx;

	while (!ibv_get_cq_event(ep->comp_ch, &cq, &cq_ctx)) {
		if (++ep->unacked_cq_events >= VB_CQ_EVENTS_ACK_BATCH) {
			ibv_ack_cq_events(ep->cq, ep->unacked_cq_events);
			ep->unacked_cq_events = 0;
		}
	}
}

int vb_poll(struct tp_ep *ep, struct tp_cqe *cqes, int max)
{
	struct ibv_wc wc[VB_POLL_BATCH];
	int n = 0, got, i;
	uint32_t li;

	vb_cm_drain(ep);
	if (ep->cq) {
		vb_cq_events(ep);
		while (n < max) {
			int want = max - n < VB_POLL_BATCH ? max - n : VB_POLL_BATCH;

			got = ibv_poll_cq(ep->cq, want, wc);
			if (got < 0) {
				LOG_ERR(ep->ctx, VB_SUB, "ibv_poll_cq failed (%d)", got);
				return n ? n : -EIO;
			}
			for (i = 0; i < got; i++)
				n += vb_wc_to_cqe(ep, &wc[i], &cqes[n]);
			if (got < want)
				break;
		}
	}
	if (n)
		return n;
	/* Nothing to return: report a link failure no completion carried. */
	for (li = 0; li < ep->nlinks; li++) {
		struct vb_link *l = &ep->links[li];

		if (l->err && !l->err_reported && l->sq.tail == l->sq.head &&
		    l->rq.tail == l->rq.head) {
			l->err_reported = true;
			return l->err;
		}
	}
	return 0;
}
