/* SPDX-License-Identifier: MIT */
/*
 * verbs_qp.c - RC QP creation on the endpoint's PD/CQ, rdma_conn_param
 * (read depths, retry counts) and the ACK timeout derived from timeout_ms.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "transport/verbs/verbs.h"

/* Small SENDs (protocol control messages) go inline when the device can. */
#define VB_INLINE_WANT 64
/*
 * Transport retries after an ACK timeout.  Not 7: the IB spec makes only
 * rnr_retry 7 infinite, but rdma_rxe also treats retry_cnt 7 as "retry
 * forever" (a silent peer was never detected with it in the VM).
 */
#define VB_RETRY_COUNT 6

static uint32_t vb_min(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Lets the engine post the new link's first RECVs (cfg.link_init), then puts
 * them on the QP before it connects. */
static int vb_link_init(struct tp_ep *ep, struct rdma_cm_id *id)
{
	int rc = 0;

	ep->npre = 0;
	if (ep->cfg.link_init) {
		ep->in_link_init = true;
		rc = ep->cfg.link_init(ep->cfg.link_init_arg, ep, ep->nlinks);
		ep->in_link_init = false;
		if (rc < 0) {
			LOG_ERR(ep->ctx, VB_SUB, "link %u: link_init failed: %s", ep->nlinks,
				rvmig_strerror(rc));
			ep->npre = 0;
			return rc;
		}
	}
	rc = vb_prepost(ep, id->qp, ep->last_tag);
	if (rc)
		ep->npre = 0;
	return rc;
}

int vb_qp_create(struct tp_ep *ep, struct rdma_cm_id *id, uint32_t *max_inline, uint32_t *tag)
{
	struct ibv_qp_init_attr a;
	uint32_t max_wr = (uint32_t)ep->dev_attr.max_qp_wr;
	int tries, e = 0;

	if (ep->last_tag >= VB_TAG_MASK) {
		/* tags must grow for vb_link_by_tag(); 16M QPs per endpoint */
		LOG_ERR(ep->ctx, VB_SUB, "endpoint has used up its %u QP tags", VB_TAG_MASK);
		return -ENOSPC;
	}
	for (tries = 0; tries < 2; tries++) {
		memset(&a, 0, sizeof(a));
		a.qp_type = IBV_QPT_RC;
		a.send_cq = ep->cq;
		a.recv_cq = ep->cq;
		a.sq_sig_all = 1;
		a.cap.max_send_wr = vb_min(ep->cfg.sq_depth, max_wr);
		a.cap.max_recv_wr = vb_min(ep->cfg.rq_depth, max_wr);
		a.cap.max_send_sge = 1;
		a.cap.max_recv_sge = 1;
		a.cap.max_inline_data = tries ? 0 : VB_INLINE_WANT;
		if (!rdma_create_qp(id, ep->pd, &a)) {
			*max_inline = a.cap.max_inline_data;
			*tag = ++ep->last_tag;
			e = vb_link_init(ep, id);
			if (e) {
				rdma_destroy_qp(id);
				return e;
			}
			if (a.cap.max_send_wr < ep->cfg.sq_depth ||
			    a.cap.max_recv_wr < ep->cfg.rq_depth)
				LOG_WARN(ep->ctx, VB_SUB,
					 "QP depths limited by the device to %u send / %u receive "
					 "(asked %u / %u)", a.cap.max_send_wr, a.cap.max_recv_wr,
					 ep->cfg.sq_depth, ep->cfg.rq_depth);
			return 0;
		}
		e = errno;
	}
	LOG_ERR(ep->ctx, VB_SUB, "rdma_create_qp(%u send / %u receive WRs) on %s: %s",
		a.cap.max_send_wr, a.cap.max_recv_wr, ibv_get_device_name(ep->verbs->device),
		strerror(e));
	return -e;
}

/*
 * Read depths: what the engine asked (max_rd_atomic), limited by the device
 * and, when accepting, by what the requester offered.  RNR retry is 0: the
 * protocol's credits guarantee a RECV for every SEND, so an RNR NAK is a bug
 * and must fail the link rather than stall it.
 */
void vb_conn_param(const struct tp_ep *ep, struct rdma_conn_param *p,
		   const struct rdma_conn_param *req)
{
	uint32_t init = vb_min(ep->cfg.max_rd_atomic, (uint32_t)ep->dev_attr.max_qp_init_rd_atom);
	uint32_t resp = vb_min(ep->cfg.max_rd_atomic, (uint32_t)ep->dev_attr.max_qp_rd_atom);

	if (req) {
		resp = vb_min(resp, req->initiator_depth);
		init = vb_min(init, req->responder_resources);
	}
	memset(p, 0, sizeof(*p));
	p->initiator_depth = (uint8_t)vb_min(init, 255);
	p->responder_resources = (uint8_t)vb_min(resp, 255);
	p->retry_count = VB_RETRY_COUNT;
	p->rnr_retry_count = 0;
}

/*
 * IB local ACK timeout exponent: 4.096 us * 2^t per try, VB_RETRY_COUNT
 * retries mean VB_RETRY_COUNT + 1 tries before IBV_WC_RETRY_EXC_ERR, so pick
 * the largest t with tries * 4.096 us * 2^t <= timeout_ms.  Kept >= 14
 * (67 ms) so a slow (emulated) host does not fail links spuriously, and
 * <= 31 (the field's width).
 */
uint8_t vb_ack_timeout(uint32_t timeout_ms)
{
	uint64_t budget_ns = (uint64_t)timeout_ms * 1000000ULL / (VB_RETRY_COUNT + 1);
	uint8_t t = 0;

	while (t < 31 && 4096ULL << (t + 1) <= budget_ns)
		t++;
	return t < 14 ? 14 : t;
}

int vb_set_ack_timeout(struct tp_ep *ep, struct rdma_cm_id *id, const char *peer)
{
	uint8_t t = vb_ack_timeout(ep->cfg.timeout_ms);

	if (rdma_set_option(id, RDMA_OPTION_ID, RDMA_OPTION_ID_ACK_TIMEOUT, &t, sizeof(t))) {
		LOG_WARN(ep->ctx, VB_SUB,
			 "link to %s: cannot set the ACK timeout (%s); a dead peer is detected "
			 "after the kernel's default", peer, strerror(errno));
		return -errno;
	}
	LOG_DBG(ep->ctx, VB_SUB, "link to %s: ACK timeout 4.096us*2^%u, %d retries", peer, t,
		VB_RETRY_COUNT);
	return 0;
}
