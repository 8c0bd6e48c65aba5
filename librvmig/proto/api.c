/* SPDX-License-Identifier: MIT */
/* api.c - the client, receiver and progress entry points of rvmig/xfer.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ep.h"
#include "publish/publish_int.h"

static struct post_item *q_push(struct rvmig_ep *ep)
{
	if (ep->q_count == ep->q_cap) {
		uint32_t ncap = ep->q_cap ? ep->q_cap * 2 : 64;
		struct post_item *n = malloc(sizeof(*n) * ncap);

		if (!n)
			return NULL;
		for (uint32_t i = 0; i < ep->q_count; i++)
			n[i] = ep->q[(ep->q_head + i) % ep->q_cap];
		free(ep->q);
		ep->q = n;
		ep->q_cap = ncap;
		ep->q_head = 0;
	}
	ep->q_count++;
	return &ep->q[(ep->q_head + ep->q_count - 1) % ep->q_cap];
}

static int client_check(const struct rvmig_ep *ep)
{
	if (!ep)
		return -EINVAL;
	if (ep->is_receiver)
		return -EOPNOTSUPP;
	if (ep->error)
		return ep->error;
	if (ep->bye_sent || ep->bye_recv)
		return -EPIPE;
	if (ep->nreqs_used + ep->q_count >= ep->attr.max_posted)
		return -EAGAIN;
	return 0;
}

RVMIG_API int rvmig_client_post(rvmig_ep *ep, rvmig_mr *mr, uint64_t offset, uint64_t len,
				uint64_t stream_off, uint64_t cookie)
{
	struct post_item *it;
	uint32_t r;
	int rc = client_check(ep);

	if (rc)
		return rc;
	if (!mr || mr->ep != ep || !len || offset > mr->len || len > mr->len - offset)
		return -EINVAL;
	if (ep->mode == RVMIG_MODE_PULL && !(mr->access & RVMIG_MR_REMOTE_READ))
		return -EACCES;
	for (r = 0; r < ep->attr.max_posted && ep->reqs[r].used; r++)
		;
	if (r == ep->attr.max_posted)
		return -EAGAIN;
	it = q_push(ep);
	if (!it)
		return -ENOMEM;
	*it = (struct post_item){ .kind = ITEM_BULK, .mr = mr, .offset = offset, .len = len,
				  .stream_off = stream_off, .cookie = cookie, .req = r };
	ep->reqs[r] = (struct client_req){ .used = true, .cookie = cookie };
	ep->nreqs_used++;
	sched_run(ep);
	return 0;
}

RVMIG_API size_t rvmig_msg_max(void)
{
	return WIRE_INLINE_MAX;
}

RVMIG_API int rvmig_client_send_msg(rvmig_ep *ep, const void *buf, size_t len,
				    uint64_t stream_off, uint64_t cookie)
{
	struct post_item *it;
	uint8_t *copy;
	int rc = client_check(ep);

	if (rc)
		return rc;
	if ((!buf && len) || len > WIRE_INLINE_MAX)
		return -EMSGSIZE;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	it = q_push(ep);
	if (!it) {
		free(copy);
		return -ENOMEM;
	}
	*it = (struct post_item){ .kind = ITEM_MSG, .len = len, .stream_off = stream_off,
				  .cookie = cookie, .msg = copy };
	sched_run(ep);
	return 0;
}

int client_bye(struct rvmig_ep *ep)
{
	struct post_item *it;

	if (ep->bye_sent)
		return 0;
	it = q_push(ep);
	if (!it)
		return -ENOMEM;
	*it = (struct post_item){ .kind = ITEM_BYE };
	sched_run(ep);
	return 0;
}

/* Cancels a queued request (a whole one, or the rest of a partly scheduled
 * one: its chunks handed to the transport finish first): it completes with
 * -RVMIG_ECANCELED.  Returns 1, or 0 for a BYE (dropped). */
static int cancel_item(struct rvmig_ep *ep, struct post_item *it)
{
	if (it->kind == ITEM_BULK) {
		struct client_req *req = &ep->reqs[it->req];

		req->all_scheduled = true;
		if (!req->status)
			req->status = -RVMIG_ECANCELED;
		if (req->chunks_left == 0) {
			ep_push_event(ep, &(struct rvmig_event){ .type = RVMIG_EV_SEND_DONE,
								 .status = -RVMIG_ECANCELED,
								 .cookie = req->cookie });
			req->used = false;
			ep->nreqs_used--;
		}
		return 1;
	}
	if (it->kind == ITEM_MSG) {
		ep_push_event(ep, &(struct rvmig_event){ .type = RVMIG_EV_SEND_DONE,
							 .status = -RVMIG_ECANCELED,
							 .cookie = it->cookie });
		free(it->msg);
		return 1;
	}
	return 0;
}

RVMIG_API int rvmig_client_cancel(rvmig_ep *ep)
{
	int n = 0;

	if (!ep || ep->is_receiver)
		return -EINVAL;
	/* Chunks already handed to the transport finish; everything not yet
	 * scheduled (including the rest of a partly scheduled request) is
	 * cancelled and its request completes with -RVMIG_ECANCELED. */
	while (ep->q_count) {
		n += cancel_item(ep, &ep->q[ep->q_head]);
		ep->q_head = (ep->q_head + 1) % ep->q_cap;
		ep->q_count--;
	}
	return n;
}

int client_cancel_bulk(struct rvmig_ep *ep, const struct rvmig_mr *mr)
{
	uint32_t kept = 0;
	int n = 0;

	/* The others keep their order, closed up towards the head. */
	for (uint32_t i = 0; i < ep->q_count; i++) {
		struct post_item *it = &ep->q[(ep->q_head + i) % ep->q_cap];

		if (it->kind == ITEM_BULK && (!mr || it->mr == mr))
			n += cancel_item(ep, it);
		else
			ep->q[(ep->q_head + kept++) % ep->q_cap] = *it;
	}
	ep->q_count = kept;
	return n;
}

RVMIG_API uint32_t rvmig_client_pending(const rvmig_ep *ep)
{
	uint32_t n = 0;

	if (!ep)
		return 0;
	for (uint32_t i = 0; i < ep->q_count; i++)
		if (ep->q[(ep->q_head + i) % ep->q_cap].kind == ITEM_MSG)
			n++;
	return ep->nreqs_used + n;
}

RVMIG_API int rvmig_progress(rvmig_ep *ep, int timeout_ms)
{
	struct cpu_mark m;
	int rc;

	if (!ep)
		return -EINVAL;
	stats_cpu_enter(&m);
	rc = ep_drive(ep, timeout_ms);
	stats_cpu_leave(ep, &m);
	if (ep->pub)
		pubxfer_tick(ep->pub);
	return rc;
}

RVMIG_API int rvmig_ep_fd(rvmig_ep *ep)
{
	if (!ep)
		return -EINVAL;
	ep->tp->arm(ep->tep);
	return ep->tp->ep_fd(ep->tep);
}

RVMIG_API int rvmig_event_next(rvmig_ep *ep, struct rvmig_event *ev)
{
	if (!ep || !ev)
		return -EINVAL;
	if (!ep->ev_count)
		return 0;
	*ev = ep->evq[ep->ev_head];
	ep->ev_head = (ep->ev_head + 1) % ep->ev_cap;
	ep->ev_count--;
	return 1;
}

RVMIG_API int rvmig_recv_release(rvmig_ep *ep, uint64_t token)
{
	if (!ep)
		return -EINVAL;
	return ep->is_receiver ? recv_release(ep, token) : msg_release(ep, token);
}

RVMIG_API int rvmig_reply_msg(rvmig_ep *ep, const void *buf, size_t len)
{
	uint8_t b[WIRE_CTRL_SIZE];
	struct wire_inline *m = (struct wire_inline *)b;
	int rc;

	if (!ep || !ep->is_receiver || (!buf && len))
		return -EINVAL;
	if (len > WIRE_INLINE_MAX)
		return -EMSGSIZE;
	if (ep->error)
		return ep->error;
	m->h = (struct wire_hdr){ .type = MSG_INLINE };
	m->seq = 0;
	m->stream_off = 0;
	m->len = (uint32_t)len;
	m->pad = 0;
	memcpy(m->data, buf, len);
	/* Always on link 0: one RC link keeps replies in the order they were sent. */
	rc = ep_send_ctrl(ep, 0, m, sizeof(*m) + len, false);
	return rc < 0 ? rc : 0;
}

RVMIG_API int rvmig_mr_reg(rvmig_ep *ep, void *addr, size_t len, unsigned access, rvmig_mr **out)
{
	return mr_register(ep, addr, len, access, out);
}

RVMIG_API int rvmig_mr_dereg(rvmig_mr *mr)
{
	return mr_deregister(mr);
}

RVMIG_API int rvmig_mr_desc(const rvmig_mr *mr, struct rvmig_mr_desc *d)
{
	if (!mr || !d)
		return -EINVAL;
	if (!mr->pin_all || !mr->pieces[0].reg)
		return -ENODATA; /* on-demand regions have no single key */
	d->addr = (uintptr_t)mr->addr;
	d->len = mr->len;
	d->rkey = mr->pieces[0].tmr.rkey;
	return 0;
}

RVMIG_API const char *rvmig_ep_transport(const rvmig_ep *ep)
{
	return ep ? ep->tp->name : NULL;
}

RVMIG_API const char *rvmig_ep_peer(const rvmig_ep *ep)
{
	return ep ? ep->peer : NULL;
}

RVMIG_API enum rvmig_mode rvmig_ep_mode(const rvmig_ep *ep)
{
	return ep ? ep->mode : 0;
}

RVMIG_API const char *rvmig_ep_error(const rvmig_ep *ep)
{
	return ep ? ep->errmsg : "";
}
