/* SPDX-License-Identifier: MIT */
/*
 * verbs_post.c - the data path: one work request with one SGE per call,
 * every send-queue WR signaled, per-link accounting so a full queue is
 * -EAGAIN before the device sees it.  Payload is never copied: only SENDs
 * that fit the QP's inline size go inline.  RECVs posted from link_init
 * are held and put on the QP before it connects (see verbs.h).
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "transport/verbs/verbs.h"

/* The buffer must lie inside its region (a region is optional only for
 * inline SENDs). */
static int vb_check_buf(struct tp_ep *ep, uint32_t link, const void *buf, uint32_t len,
			const struct tp_mr *mr, bool need_mr)
{
	const char *b = buf, *m;

	if (!len)
		return 0;
	if (!mr || !mr->priv)
		return need_mr ? -EINVAL : 0;
	m = mr->addr;
	if (b < m || (size_t)(b - m) > mr->len || mr->len - (size_t)(b - m) < len) {
		LOG_ERR(ep->ctx, VB_SUB, "link %u: buffer %p+%u outside its region %p+%zu", link,
			buf, len, mr->addr, mr->len);
		return -EINVAL;
	}
	return 0;
}

static int vb_check(struct tp_ep *ep, uint32_t link, const void *buf, uint32_t len,
		    const struct tp_mr *mr, bool need_mr, struct vb_link **out)
{
	struct vb_link *l;

	if (link >= ep->nlinks)
		return -EINVAL;
	l = &ep->links[link];
	if (l->err)
		return l->err;
	*out = l;
	return vb_check_buf(ep, link, buf, len, mr, need_mr);
}

/* post_recv() from link_init for the link being set up: held, then posted
 * by vb_prepost() right after the callback. */
static int vb_pre_recv(struct tp_ep *ep, void *buf, uint32_t len, const struct tp_mr *mr,
		       uint64_t wr_id)
{
	int rc = vb_check_buf(ep, ep->nlinks, buf, len, mr, true);

	if (rc)
		return rc;
	if (ep->npre >= ep->cfg.rq_depth)
		return -EAGAIN;
	ep->pre[ep->npre].buf = buf;
	ep->pre[ep->npre].len = len;
	ep->pre[ep->npre].lkey = len ? mr->lkey : 0;
	ep->pre[ep->npre].wr_id = wr_id;
	ep->npre++;
	return 0;
}

/* Posts the RECVs link_init posted to the new QP (still in INIT), as slots
 * 0..npre-1. */
int vb_prepost(struct tp_ep *ep, struct ibv_qp *qp, uint32_t tag)
{
	for (uint32_t i = 0; i < ep->npre; i++) {
		struct ibv_sge sge = { .addr = (uintptr_t)ep->pre[i].buf,
				       .length = ep->pre[i].len, .lkey = ep->pre[i].lkey };
		struct ibv_recv_wr wr = { .wr_id = VB_WRID(tag, 1, i), .sg_list = &sge,
					  .num_sge = sge.length ? 1 : 0 };
		struct ibv_recv_wr *bad;
		int rc = ibv_post_recv(qp, &wr, &bad);

		if (rc) {
			LOG_ERR(ep->ctx, VB_SUB, "posting link_init's RECV %u of %u: %s", i,
				ep->npre, strerror(rc));
			return -rc;
		}
	}
	return 0;
}

static int vb_post_err(struct tp_ep *ep, uint32_t link, const char *what, int rc)
{
	/* Providers return ENOMEM for a full queue. */
	if (rc == ENOMEM)
		return -EAGAIN;
	LOG_ERR(ep->ctx, VB_SUB, "link %u to %s: %s: %s", link, ep->links[link].peer, what,
		strerror(rc));
	return -rc;
}

static int vb_post_sq(struct tp_ep *ep, uint32_t link, enum tp_op op, const void *buf,
		      uint32_t len, const struct tp_mr *mr, uint64_t raddr, uint32_t rkey,
		      uint64_t wr_id)
{
	bool inl = op == TP_OP_SEND && len && len <= (ep->nlinks > link ?
					ep->links[link].max_inline : 0);
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	struct vb_link *l;
	struct vb_slot *s;
	int rc;

	rc = vb_check(ep, link, buf, len, mr, !inl, &l);
	if (rc)
		return rc;
	if (l->sq.tail - l->sq.head >= l->sq.depth)
		return -EAGAIN;

	memset(&wr, 0, sizeof(wr));
	sge.addr = (uintptr_t)buf;
	sge.length = len;
	sge.lkey = mr && mr->priv ? mr->lkey : 0;
	wr.wr_id = VB_WRID(l->tag, 0, l->sq.tail % l->sq.depth);
	wr.sg_list = &sge;
	wr.num_sge = len ? 1 : 0;
	wr.send_flags = IBV_SEND_SIGNALED | (inl ? IBV_SEND_INLINE : 0);
	switch (op) {
	case TP_OP_SEND:
		wr.opcode = IBV_WR_SEND;
		break;
	case TP_OP_WRITE:
		wr.opcode = IBV_WR_RDMA_WRITE;
		break;
	case TP_OP_READ:
		wr.opcode = IBV_WR_RDMA_READ;
		break;
	default:
		return -EINVAL;
	}
	if (op != TP_OP_SEND) {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	rc = ibv_post_send(l->id->qp, &wr, &bad);
	if (rc)
		return vb_post_err(ep, link, "ibv_post_send", rc);
	s = &l->sq.slot[l->sq.tail % l->sq.depth];
	s->wr_id = wr_id;
	s->op = op;
	l->sq.tail++;
	return 0;
}

int vb_post_recv(struct tp_ep *ep, uint32_t link, void *buf, uint32_t len,
		 const struct tp_mr *mr, uint64_t wr_id)
{
	struct ibv_recv_wr wr, *bad;
	struct ibv_sge sge;
	struct vb_link *l;
	struct vb_slot *s;
	int rc;

	if (link == ep->nlinks && ep->in_link_init)
		return vb_pre_recv(ep, buf, len, mr, wr_id);
	rc = vb_check(ep, link, buf, len, mr, true, &l);
	if (rc)
		return rc;
	if (l->rq.tail - l->rq.head >= l->rq.depth)
		return -EAGAIN;
	memset(&wr, 0, sizeof(wr));
	sge.addr = (uintptr_t)buf;
	sge.length = len;
	sge.lkey = mr ? mr->lkey : 0;
	wr.wr_id = VB_WRID(l->tag, 1, l->rq.tail % l->rq.depth);
	wr.sg_list = &sge;
	wr.num_sge = len ? 1 : 0;
	rc = ibv_post_recv(l->id->qp, &wr, &bad);
	if (rc)
		return vb_post_err(ep, link, "ibv_post_recv", rc);
	s = &l->rq.slot[l->rq.tail % l->rq.depth];
	s->wr_id = wr_id;
	s->op = TP_OP_RECV;
	l->rq.tail++;
	return 0;
}

int vb_post_send(struct tp_ep *ep, uint32_t link, const void *buf, uint32_t len,
		 const struct tp_mr *mr, uint64_t wr_id)
{
	return vb_post_sq(ep, link, TP_OP_SEND, buf, len, mr, 0, 0, wr_id);
}

int vb_post_write(struct tp_ep *ep, uint32_t link, const void *buf, uint32_t len,
		  const struct tp_mr *mr, uint64_t raddr, uint32_t rkey, uint64_t wr_id)
{
	return vb_post_sq(ep, link, TP_OP_WRITE, buf, len, mr, raddr, rkey, wr_id);
}

int vb_post_read(struct tp_ep *ep, uint32_t link, void *buf, uint32_t len,
		 const struct tp_mr *mr, uint64_t raddr, uint32_t rkey, uint64_t wr_id)
{
	return vb_post_sq(ep, link, TP_OP_READ, buf, len, mr, raddr, rkey, wr_id);
}
