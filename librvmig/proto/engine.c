/* SPDX-License-Identifier: MIT */
/*
 * engine.c - the transport-independent core of an endpoint: control buffers
 * and credits, completion dispatch, progress, keepalive and failure.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "proto/ep.h"

#define CTRL_PER_LINK (EP_CTRL_CREDITS + EP_CTRL_SENDS)

uint64_t ep_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint8_t *ctrl_buf(struct rvmig_ep *ep, uint32_t idx)
{
	return ep->ctrl_mem + (size_t)idx * WIRE_CTRL_SIZE;
}

int ep_setup_buffers(struct rvmig_ep *ep)
{
	ep->ctrl_mem = aligned_alloc(4096, (size_t)ep->nlinks * CTRL_PER_LINK * WIRE_CTRL_SIZE);
	ep->links = calloc(ep->nlinks, sizeof(*ep->links));
	if (!ep->ctrl_mem || !ep->links)
		return -ENOMEM;
	for (uint32_t l = 0; l < ep->nlinks; l++) {
		for (uint32_t j = 0; j < EP_CTRL_SENDS; j++)
			ep->links[l].free_send[j] = l * CTRL_PER_LINK + EP_CTRL_CREDITS + j;
		ep->links[l].nfree_send = EP_CTRL_SENDS;
	}
	return 0;
}

/* Called by the transport for each new link before it is connected. */
int ep_link_init(void *arg, struct tp_ep *tep, uint32_t link)
{
	struct rvmig_ep *ep = arg;
	int rc;

	if (link >= ep->nlinks)
		return -EPROTO;
	if (!ep->ctrl_mr_ok) {
		rc = ep->tp->reg_mr(tep, ep->ctrl_mem,
				    (size_t)ep->nlinks * CTRL_PER_LINK * WIRE_CTRL_SIZE,
				    TP_ACCESS_LOCAL_WRITE, &ep->ctrl_mr);
		if (rc)
			return rc;
		ep->ctrl_mr_ok = true;
	}
	for (uint32_t i = 0; i < EP_CTRL_CREDITS; i++) {
		uint32_t idx = link * CTRL_PER_LINK + i;

		rc = ep->tp->post_recv(tep, link, ctrl_buf(ep, idx), WIRE_CTRL_SIZE, &ep->ctrl_mr,
				       WR_ID(WR_CTRL_RECV, idx));
		if (rc)
			return rc;
	}
	ep->links[link].send_credits = EP_CTRL_CREDITS;
	return 0;
}

static int pick_link(struct rvmig_ep *ep, uint32_t need_credits)
{
	for (uint32_t i = 0; i < ep->nlinks; i++) {
		uint32_t l = (ep->rr_link + i) % ep->nlinks;
		struct link_state *ls = &ep->links[l];

		if (ls->send_credits >= need_credits && ls->nfree_send &&
		    ls->sq_used + 2 <= EP_SQ_DEPTH) {
			ep->rr_link = (l + 1) % ep->nlinks;
			return (int)l;
		}
	}
	return -EAGAIN;
}

/*
 * Sends a control message.  A normal message needs two credits so the last
 * one is always left for a credit-only message (CREDIT, PING): two peers that
 * have both run out can still give each other their buffers back.
 * link < 0 picks any link that can take it.
 */
int ep_send_ctrl(struct rvmig_ep *ep, int link, void *msg, size_t len, bool credit_only)
{
	struct wire_hdr *h = msg;
	uint32_t need = credit_only ? 1 : 2;
	struct link_state *ls;
	uint32_t idx;
	uint8_t type = h->type;
	int rc;

	if (ep->error)
		return ep->error;
	if (link < 0) {
		link = pick_link(ep, need);
		if (link < 0)
			return link;
	}
	ls = &ep->links[link];
	if (ls->send_credits < need || !ls->nfree_send) {
		ep->stats[RVMIG_STAT_CREDIT_STALLS]++;
		return -EAGAIN;
	}
	idx = ls->free_send[--ls->nfree_send];
	h->len = (uint32_t)len;
	h->credits = (uint16_t)ls->to_return;
	memcpy(ctrl_buf(ep, idx), msg, len);
	wire_msg_enc(ctrl_buf(ep, idx));
	rc = ep->tp->post_send(ep->tep, (uint32_t)link, ctrl_buf(ep, idx), (uint32_t)len,
			       &ep->ctrl_mr, WR_ID(WR_CTRL_SEND, idx));
	if (rc) {
		ls->free_send[ls->nfree_send++] = idx;
		if (rc != -EAGAIN && !ep->failing)
			ep_fail(ep, rc, "posting %s to %s", wire_msg_name(type), ep->peer);
		return rc;
	}
	ls->to_return = 0;
	ls->send_credits--;
	ls->sq_used++;
	ep->stats[RVMIG_STAT_MSGS_SENT]++;
	ep->last_tx_ns = ep_now_ns();
	return link;
}

void ep_push_event(struct rvmig_ep *ep, const struct rvmig_event *ev)
{
	if (ep->ev_count == ep->ev_cap) {
		uint32_t ncap = ep->ev_cap ? ep->ev_cap * 2 : 64;
		struct rvmig_event *n = malloc(sizeof(*n) * ncap);

		if (!n)
			abort(); /* an event can never be dropped */
		for (uint32_t i = 0; i < ep->ev_count; i++)
			n[i] = ep->evq[(ep->ev_head + i) % ep->ev_cap];
		free(ep->evq);
		ep->evq = n;
		ep->ev_cap = ncap;
		ep->ev_head = 0;
	}
	ep->evq[(ep->ev_head + ep->ev_count) % ep->ev_cap] = *ev;
	ep->ev_count++;
}

void ep_fail(struct rvmig_ep *ep, int err, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (ep->error)
		return;
	if (ep->bye_sent && ep->bye_recv) {
		/* Both sides said goodbye: the links going away is the normal end. */
		ep->error = -EPIPE;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!ep->failing) {
		/* Best effort: tell the peer why, so its operator sees our reason. */
		struct wire_error m = { .h.type = MSG_ERROR, .code = err < 0 ? -err : RVMIG_EPEER };

		ep->failing = true;
		snprintf(m.text, sizeof(m.text), "%.*s", (int)sizeof(m.text) - 1, what);
		ep_send_ctrl(ep, 0, &m, sizeof(m), true);
	}
	ep->error = err < 0 ? err : -RVMIG_EPEER;
	ep->stats[RVMIG_STAT_ERRORS]++;
	snprintf(ep->errmsg, sizeof(ep->errmsg), "%s", what);
	rvmig_logf(ep->ctx, ep->quiet_fail ? RVMIG_LOG_DEBUG : RVMIG_LOG_ERROR, "proto",
		   "endpoint with %s (%s) failed: %s: %s", ep->peer, ep->tp->name, what,
		   rvmig_strerror(ep->error));
	client_fail_all(ep, ep->error);
	ep_push_event(ep, &(struct rvmig_event){ .type = RVMIG_EV_ERROR, .status = ep->error });
}

static void on_recv(struct rvmig_ep *ep, const struct tp_cqe *c)
{
	uint32_t idx = WR_IDX(c->wr_id);
	uint8_t *buf = ctrl_buf(ep, idx);
	struct link_state *ls = &ep->links[c->link];
	struct wire_hdr *h = (struct wire_hdr *)buf;
	bool kept = false;
	int rc;

	ep->last_rx_ns = ep_now_ns();
	ep->stats[RVMIG_STAT_MSGS_RECV]++;
	rc = wire_msg_dec(buf, c->len);
	if (rc) {
		ep_fail(ep, -RVMIG_EBADMSG, "malformed control message (type %u, %u bytes) on link %u",
			buf[0], c->len, c->link);
		return;
	}
	/* Every message takes a credit: the buffers the peer filled and we
	 * have not announced back (reposted or kept by a message, recv.c)
	 * are all it had. */
	if (ls->to_return + ls->held >= EP_CTRL_CREDITS) {
		ep_fail(ep, -RVMIG_EBADMSG, "%s from %s on link %u without a control credit (all %u "
			"granted are in use: credit violation)", wire_msg_name(h->type), ep->peer,
			c->link, EP_CTRL_CREDITS);
		return;
	}
	ls->send_credits += h->credits;
	if (ls->send_credits > EP_CTRL_CREDITS) {
		ep_fail(ep, -RVMIG_EBADMSG, "peer returned more credits than it was given (%u)",
			ls->send_credits);
		return;
	}
	switch (h->type) {
	case MSG_CREDIT:
	case MSG_PING:
		break;
	case MSG_ERROR: {
		struct wire_error *m = (struct wire_error *)buf;
		int code = m->code > 0 && m->code < RVMIG_ELAST ? -m->code : -RVMIG_EPEER;
		char text[160];

		/* The peer's own words, but never its control characters. */
		rvmig_text_escape(text, sizeof(text), m->text, strnlen(m->text, sizeof(m->text)));
		ep_fail(ep, code, "peer reported: %s (error %d)", text, m->code);
		return;
	}
	default:
		if (ep->is_receiver)
			kept = recv_on_msg(ep, c->link, h) == RECV_KEPT_CREDIT;
		else
			sched_on_msg(ep, c->link, h);
		if (ep->error)
			return;
	}
	/* The buffer is free again: repost it and owe the peer a credit
	 * (unless the message keeps it, recv.c). */
	rc = ep->tp->post_recv(ep->tep, c->link, buf, WIRE_CTRL_SIZE, &ep->ctrl_mr, c->wr_id);
	if (rc) {
		/* The link is gone; messages already received on others (an
		 * ERROR saying why) are still handled before the failure. */
		if (!ep->link_err) {
			ep->link_err = rc;
			snprintf(ep->link_err_what, sizeof(ep->link_err_what),
				 "reposting a receive buffer on link %u", c->link);
		}
		return;
	}
	if (!kept)
		ls->to_return++;
}

static void on_cqe(struct rvmig_ep *ep, const struct tp_cqe *c)
{
	unsigned kind = WR_KIND(c->wr_id);

	if (c->status) {
		ep->stats[RVMIG_STAT_ERRORS]++;
		if (kind == WR_DATA && !ep->is_receiver)
			sched_data_done(ep, WR_IDX(c->wr_id), c->status);
		/* Failed later in drive_pass(), after the other links' messages:
		 * the peer's ERROR explaining why may be among them. */
		if (!ep->link_err) {
			ep->link_err = c->status;
			snprintf(ep->link_err_what, sizeof(ep->link_err_what), "%s on link %u",
				 c->op == TP_OP_RECV ? "receive" : c->op == TP_OP_SEND ? "send"
				 : c->op == TP_OP_WRITE ? "RDMA WRITE" : "RDMA READ", c->link);
		}
		return;
	}
	switch (kind) {
	case WR_CTRL_RECV:
		on_recv(ep, c);
		break;
	case WR_CTRL_SEND: {
		struct link_state *ls = &ep->links[c->link];

		ls->free_send[ls->nfree_send++] = WR_IDX(c->wr_id);
		ls->sq_used--;
		break;
	}
	case WR_DATA:
		ep->links[c->link].sq_used--;
		if (ep->is_receiver)
			recv_read_done(ep, c->wr_id & ((1ull << 56) - 1), 0);
		else
			sched_data_done(ep, WR_IDX(c->wr_id), 0);
		break;
	default:
		ep_fail(ep, -EPROTO, "completion with unknown id %#llx", (unsigned long long)c->wr_id);
	}
}

static void housekeeping(struct rvmig_ep *ep)
{
	uint64_t now = ep_now_ns(), to = (uint64_t)ep->attr.timeout_ms * 1000000ull;

	for (uint32_t l = 0; l < ep->nlinks && !ep->error; l++) {
		if (ep->links[l].to_return >= EP_CTRL_CREDITS / 2) {
			struct wire_hdr m = { .type = MSG_CREDIT };

			ep_send_ctrl(ep, (int)l, &m, sizeof(m), true);
		}
	}
	if (ep->error || (ep->bye_sent && ep->bye_recv))
		return;
	if (now - ep->last_tx_ns > to / 3) {
		struct wire_hdr m = { .type = MSG_PING };

		ep_send_ctrl(ep, -1, &m, sizeof(m), true);
	}
	if (now - ep->last_rx_ns > to) {
		/* A peer silent for the whole timeout will not send its FIN
		 * either: close without waiting for it. */
		ep->no_linger = true;
		ep_fail(ep, -RVMIG_ETIMEDOUT, "nothing heard from the peer for %u ms",
			ep->attr.timeout_ms);
	}
}

/* Reaps completions, schedules work.  Returns completions handled. */
static int drive_pass(struct rvmig_ep *ep)
{
	struct tp_cqe cqes[64];
	int n, total = 0;

	do {
		n = ep->tp->poll(ep->tep, cqes, 64);
		if (n < 0) {
			if (!ep->link_err) {
				ep->link_err = n;
				snprintf(ep->link_err_what, sizeof(ep->link_err_what),
					 "transport failure");
			}
			break;
		}
		for (int i = 0; i < n; i++)
			on_cqe(ep, &cqes[i]);
		total += n;
	} while (n == 64 || (ep->link_err && n > 0 && !ep->error));
	if (ep->link_err && !ep->error) {
		char why[160];
		int err = ep->tp->ep_error ? ep->tp->ep_error(ep->tep, why, sizeof(why)) : 0;

		/* The transport knows what failed the link first (a violation
		 * it refused, the peer closing); the completions it flushed
		 * since only say the link is gone. */
		if (err)
			ep_fail(ep, err, "%s", why);
		else
			ep_fail(ep, ep->link_err, "%s", ep->link_err_what);
	}
	if (!ep->error) {
		if (ep->is_receiver)
			recv_run(ep);
		else
			sched_run(ep);
		housekeeping(ep);
	}
	return total;
}

/* Opens or closes a batch of posts (rvmig_tp_ops.batch): what one pass
 * posts leaves together when it ends.  Only around work that never waits. */
void ep_batch(struct rvmig_ep *ep, bool open)
{
	if (ep->tep && ep->tp->batch)
		ep->tp->batch(ep->tep, open);
}

/* One pass: reap completions, schedule work.  Returns completions handled. */
static int drive_once(struct rvmig_ep *ep)
{
	int total;

	ep_batch(ep, true);
	total = drive_pass(ep);
	ep_batch(ep, false);
	return total;
}

int ep_drive(struct rvmig_ep *ep, int timeout_ms)
{
	uint64_t deadline = timeout_ms > 0 ? ep_now_ns() + (uint64_t)timeout_ms * 1000000ull : 0;

	for (;;) {
		int did;
		struct pollfd p;
		int wait;

		if (ep->error)
			break;
		did = drive_once(ep);
		/* Work was done: return so the caller can look at its state. */
		if (ep->ev_count || ep->error || did)
			break;
		if (timeout_ms == 0)
			break;
		/* Nothing to do: arm, look once more, then sleep on the fd. */
		ep->tp->arm(ep->tep);
		if (drive_once(ep) || ep->ev_count || ep->error)
			break;
		wait = (int)(ep->attr.timeout_ms / 3);
		if (timeout_ms > 0) {
			uint64_t now = ep_now_ns();
			int left;

			if (now >= deadline)
				break;
			left = (int)((deadline - now + 999999) / 1000000);
			if (left < wait)
				wait = left;
		}
		p = (struct pollfd){ .fd = ep->tp->ep_fd(ep->tep), .events = POLLIN };
		poll(&p, 1, wait);
	}
	if (ep->error)
		return ep->error;
	return (int)ep->ev_count;
}

void ep_free(struct rvmig_ep *ep)
{
	mr_release_all(ep);
	if (ep->tep) {
		if (ep->ring_mr_ok)
			ep->tp->dereg_mr(ep->tep, &ep->ring_mr);
		if (ep->ctrl_mr_ok)
			ep->tp->dereg_mr(ep->tep, &ep->ctrl_mr);
		if (ep->no_linger && ep->tp->ep_abort)
			ep->tp->ep_abort(ep->tep);
		else
			ep->tp->ep_destroy(ep->tep);
	}
	for (uint32_t i = 0; i < ep->q_count; i++)
		free(ep->q[(ep->q_head + i) % ep->q_cap].msg);
	if (ep->rx) {
		for (uint64_t s = ep->next_deliver; s < ep->max_seen; s++)
			free(ep->rx[s & (ep->rx_cap - 1)].msg);
	}
	while (ep->dmsgs) {
		struct delivered_msg *d = ep->dmsgs;

		ep->dmsgs = d->next;
		free(d->data);
		free(d);
	}
	free(ep->q);
	free(ep->reqs);
	free(ep->chunks);
	free(ep->rx);
	free(ep->evq);
	free(ep->ring);
	free(ep->free_slots);
	free(ep->slot_busy);
	free(ep->ctrl_mem);
	free(ep->links);
	free(ep);
}
