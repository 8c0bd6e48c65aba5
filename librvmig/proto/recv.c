/* SPDX-License-Identifier: MIT */
/*
 * recv.c - the destination side: the ring of slots, reordering by sequence
 * number, in-order delivery to the consumer, slot return (push) and the
 * READ scheduler (pull).
 *
 * What a peer can make the receiver hold is bounded by what it was granted
 * (the memory bound of rvmig/xfer.h): a chunk holds a slot (push) or one of
 * the announcements READY allows (pull) until it is delivered; an inline
 * message or BYE keeps the control credit it came with until it is
 * delivered and, for a message, released by the consumer.  So a sequence
 * number can be at most rx_window() ahead of the next one to deliver, and a
 * peer that goes further, names a slot the receiver still holds or sends
 * without a credit is failed, not buffered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/log.h"
#include "proto/ep.h"
#include "proto/testhooks.h"

#define TOKEN_SLOT (1ull << 62)
#define TOKEN_MSG (2ull << 62)

static struct rx_entry *rx_at(struct rvmig_ep *ep, uint64_t seq)
{
	return &ep->rx[seq & (ep->rx_cap - 1)];
}

/*
 * How many sequence numbers, from the next one to deliver on, a peer that
 * keeps to what it was granted can have in use: chunks are bounded by the
 * slots (push) or by READY's max_announce, 2 * nslots (pull, see
 * receiver_ready() in setup.c); messages and BYE by the control credits of
 * all links, each kept until the message is delivered and released.
 */
static uint64_t rx_window(const struct rvmig_ep *ep)
{
	uint64_t chunks = ep->mode == RVMIG_MODE_PULL ? 2ull * ep->nslots : ep->nslots;

	return chunks + (uint64_t)ep->nlinks * EP_CTRL_CREDITS;
}

/* A message's control credit goes back to the peer (see the top). */
static void credit_return(struct rvmig_ep *ep, int link)
{
	if (link < 0 || (uint32_t)link >= ep->nlinks || !ep->links[link].held)
		return;
	ep->links[link].held--;
	ep->links[link].to_return++;
}

/* Makes room for `seq` in the reorder ring.  Returns the entry or NULL. */
static struct rx_entry *rx_slot_for(struct rvmig_ep *ep, uint64_t seq, const char *what)
{
	uint64_t win = rx_window(ep);
	struct rx_entry *e;

	if (seq < ep->next_deliver) {
		ep_fail(ep, -RVMIG_EBADMSG, "%s for sequence %llu from %s, already delivered (next "
			"expected %llu)", what, (unsigned long long)seq, ep->peer,
			(unsigned long long)ep->next_deliver);
		return NULL;
	}
	if (seq - ep->next_deliver >= win) {
		ep_fail(ep, -RVMIG_EBADMSG, "%s for sequence %llu from %s is %llu ahead of the next "
			"expected (%llu), past the %llu its slots and credits allow (protocol "
			"violation)", what, (unsigned long long)seq, ep->peer,
			(unsigned long long)(seq - ep->next_deliver),
			(unsigned long long)ep->next_deliver, (unsigned long long)win);
		return NULL;
	}
	if (seq - ep->next_deliver >= ep->rx_cap) {
		uint64_t ncap = ep->rx_cap;
		struct rx_entry *n;

		while (seq - ep->next_deliver >= ncap)
			ncap *= 2;
		n = calloc(ncap, sizeof(*n)); /* ncap < 2 * rx_window() */
		if (!n) {
			ep_fail(ep, -ENOMEM, "reorder ring");
			return NULL;
		}
		for (uint64_t s = ep->next_deliver; s < ep->max_seen; s++)
			n[s & (ncap - 1)] = *rx_at(ep, s);
		free(ep->rx);
		ep->rx = n;
		ep->rx_cap = ncap;
	}
	e = rx_at(ep, seq);
	if (e->state != RX_EMPTY) {
		ep_fail(ep, -RVMIG_EBADMSG, "%s for sequence %llu sent twice by %s", what,
			(unsigned long long)seq, ep->peer);
		return NULL;
	}
	if (seq + 1 > ep->max_seen)
		ep->max_seen = seq + 1;
	return e;
}

static void deliver(struct rvmig_ep *ep)
{
	while (ep->next_deliver < ep->max_seen) {
		struct rx_entry *e = rx_at(ep, ep->next_deliver);
		struct rvmig_event ev = { .stream_off = e->stream_off, .len = e->len };

		if (e->state == RX_READY) {
			uint8_t *d = ep->ring + (size_t)e->slot * ep->slot_size;

			if (ep->crc) {
				uint32_t got;

				if (proto_damages_chunk(ep->next_deliver))
					d[e->len / 2] ^= 0x40; /* damage in flight */
				got = crc32c(0, d, e->len);
				if (got != e->crc) {
					ep_fail(ep, -RVMIG_EINTEGRITY,
						"chunk %llu (stream offset %llu, %u bytes) has CRC32C %08x, "
						"sender computed %08x", (unsigned long long)ep->next_deliver,
						(unsigned long long)e->stream_off, e->len, got, e->crc);
					return;
				}
			}
			ev.type = RVMIG_EV_RECV_DATA;
			ev.data = ep->ring + (size_t)e->slot * ep->slot_size;
			ev.token = TOKEN_SLOT | e->slot;
			ep->stats[RVMIG_STAT_BYTES_RECV] += e->len;
		} else if (e->state == RX_MSG) {
			uint8_t *msg = e->msg;
			uint64_t seq = ep->next_deliver;
			int link = e->link;

			memset(e, 0, sizeof(*e));
			ep->next_deliver++;
			if (msg_deliver(ep, msg, ev.len, ev.stream_off, seq, link))
				return;
			continue;
		} else if (e->state == RX_BYE) {
			credit_return(ep, e->link);
			ev = (struct rvmig_event){ .type = RVMIG_EV_PEER_CLOSED };
			ep->bye_recv = true;
			ep->closed_evented = true;
		} else {
			return;
		}
		memset(e, 0, sizeof(*e));
		ep->next_deliver++;
		ep_push_event(ep, &ev);
	}
}

int recv_on_msg(struct rvmig_ep *ep, uint32_t link, struct wire_hdr *h)
{
	struct rx_entry *e;

	if (h->type == MSG_AUTH) {
		if (ep->auth_state != 1) {
			ep_fail(ep, -RVMIG_EBADMSG, "unexpected AUTH from %s", ep->peer);
			return -RVMIG_EBADMSG;
		}
		ep->auth_state = auth_check_client(ep, (struct wire_auth *)h) ? -1 : 2;
		return 0;
	}
	if (!ep->ready) {
		/* Nothing but AUTH is accepted before the receiver is READY. */
		ep_fail(ep, -RVMIG_EAUTH, "%s from %s before authentication", wire_msg_name(h->type),
			ep->peer);
		return -RVMIG_EAUTH;
	}
	switch (h->type) {
	case MSG_WRITE_DONE: {
		struct wire_write_done *m = (struct wire_write_done *)h;

		if (ep->mode != RVMIG_MODE_PUSH || m->slot >= ep->nslots || m->len > ep->slot_size) {
			ep_fail(ep, -RVMIG_EBADMSG, "WRITE_DONE for slot %u, %u bytes, from %s", m->slot,
				m->len, ep->peer);
			return -RVMIG_EBADMSG;
		}
		if (!ep->slot_busy && !(ep->slot_busy = calloc(ep->nslots, 1))) {
			ep_fail(ep, -ENOMEM, "slot table");
			return -ENOMEM;
		}
		if (ep->slot_busy[m->slot]) {
			/* Only a SLOT_FREE gives a slot back to the sender. */
			ep_fail(ep, -RVMIG_EBADMSG, "WRITE_DONE for sequence %llu from %s names slot "
				"%u, which the receiver still holds (protocol violation)",
				(unsigned long long)m->seq, ep->peer, m->slot);
			return -RVMIG_EBADMSG;
		}
		e = rx_slot_for(ep, m->seq, "WRITE_DONE");
		if (!e)
			return ep->error;
		*e = (struct rx_entry){ .state = RX_READY, .slot = m->slot, .len = m->len,
					.stream_off = m->stream_off, .crc = m->crc };
		ep->slot_busy[m->slot] = 1;
		break;
	}
	case MSG_XFER_REQ: {
		struct wire_xfer_req *m = (struct wire_xfer_req *)h;

		if (ep->mode != RVMIG_MODE_PULL || !m->len || m->len > ep->slot_size) {
			ep_fail(ep, -RVMIG_EBADMSG, "XFER_REQ of %u bytes from %s", m->len, ep->peer);
			return -RVMIG_EBADMSG;
		}
		e = rx_slot_for(ep, m->seq, "XFER_REQ");
		if (!e)
			return ep->error;
		*e = (struct rx_entry){ .state = RX_ANNOUNCED, .len = m->len,
					.stream_off = m->stream_off, .raddr = m->addr,
					.rkey = m->rkey, .crc = m->crc };
		break;
	}
	case MSG_INLINE: {
		struct wire_inline *m = (struct wire_inline *)h;
		uint8_t *copy = malloc(m->len ? m->len : 1);

		if (!copy) {
			ep_fail(ep, -ENOMEM, "inline message");
			return -ENOMEM;
		}
		e = rx_slot_for(ep, m->seq, "INLINE");
		if (!e) {
			free(copy);
			return ep->error;
		}
		memcpy(copy, m->data, m->len);
		*e = (struct rx_entry){ .state = RX_MSG, .link = (uint8_t)link, .len = m->len,
					.stream_off = m->stream_off, .msg = copy };
		ep->links[link].held++;
		deliver(ep);
		return RECV_KEPT_CREDIT;
	}
	case MSG_BYE: {
		struct wire_bye *m = (struct wire_bye *)h;

		e = rx_slot_for(ep, m->seq, "BYE");
		if (!e)
			return ep->error;
		*e = (struct rx_entry){ .state = RX_BYE, .link = (uint8_t)link };
		ep->links[link].held++;
		deliver(ep);
		return RECV_KEPT_CREDIT;
	}
	default:
		ep_fail(ep, -RVMIG_EBADMSG, "unexpected %s from sender %s on link %u",
			wire_msg_name(h->type), ep->peer, link);
		return -RVMIG_EBADMSG;
	}
	deliver(ep);
	return 0;
}

void recv_read_done(struct rvmig_ep *ep, uint64_t seq, int status)
{
	struct rx_entry *e;

	ep->reads_inflight--;
	if (seq < ep->next_deliver || seq >= ep->max_seen)
		return;
	e = rx_at(ep, seq);
	if (e->state != RX_READING)
		return;
	ep->inflight_bytes -= e->len;
	ep->stats[RVMIG_STAT_BYTES_READ] += e->len;
	e->state = RX_READY;
	(void)status;
	deliver(ep);
}

static void schedule_reads(struct rvmig_ep *ep)
{
	/* Messages are delivered without a READ and may pass the scheduler. */
	if (ep->next_sched < ep->next_deliver)
		ep->next_sched = ep->next_deliver;
	while (ep->next_sched < ep->max_seen && !ep->error) {
		struct rx_entry *e = rx_at(ep, ep->next_sched);
		uint32_t link, slot;
		int rc;

		if (e->state == RX_EMPTY)
			return; /* not announced yet: reads go strictly in order */
		if (e->state != RX_ANNOUNCED) {
			ep->next_sched++;
			continue;
		}
		if (!ep->nfree_slots || (ep->inflight_bytes && ep->inflight_bytes + e->len >
				  ep->attr.window)) {
			ep->stats[RVMIG_STAT_CREDIT_STALLS]++;
			return;
		}
		link = ep->rr_link;
		if (ep->links[link].sq_used + 1 > EP_SQ_DEPTH)
			return;
		slot = ep->free_slots[ep->nfree_slots - 1];
		rc = ep->tp->post_read(ep->tep, link, ep->ring + (size_t)slot * ep->slot_size, e->len,
				       &ep->ring_mr, e->raddr, e->rkey,
				       WR_ID(WR_DATA, 0) | ep->next_sched);
		if (rc == -EAGAIN)
			return;
		if (rc) {
			ep_fail(ep, rc, "posting RDMA READ of %u bytes from %s", e->len, ep->peer);
			return;
		}
		ep->nfree_slots--;
		ep->rr_link = (link + 1) % ep->nlinks;
		ep->links[link].sq_used++;
		ep->stats[RVMIG_STAT_OPS_READ]++;
		ep->reads_inflight++;
		ep->inflight_bytes += e->len;
		e->slot = slot;
		e->state = RX_READING;
		ep->next_sched++;
	}
}

void recv_run(struct rvmig_ep *ep)
{
	if (ep->mode == RVMIG_MODE_PULL) {
		schedule_reads(ep);
		/* Tell the source which chunks are read so it can reuse the memory. */
		if (ep->next_deliver > ep->acked &&
		    (ep->next_deliver - ep->acked >= 8 || !ep->reads_inflight)) {
			struct wire_xfer_ack m = { .h.type = MSG_XFER_ACK, .upto = ep->next_deliver };

			if (ep_send_ctrl(ep, -1, &m, sizeof(m), false) >= 0)
				ep->acked = ep->next_deliver;
		}
	} else if (ep->npending_free) {
		struct wire_slot_free m = { .h.type = MSG_SLOT_FREE, .n = ep->npending_free };

		memcpy(m.slots, ep->pending_free, sizeof(uint32_t) * ep->npending_free);
		if (ep_send_ctrl(ep, -1, &m, offsetof(struct wire_slot_free, slots) +
				 sizeof(uint32_t) * ep->npending_free, false) >= 0)
			ep->npending_free = 0;
	}
	if (ep->want_bye && !ep->bye_sent) {
		struct wire_bye m = { .h.type = MSG_BYE };

		if (ep_send_ctrl(ep, -1, &m, sizeof(m), false) >= 0)
			ep->bye_sent = true;
	}
}

int recv_release(struct rvmig_ep *ep, uint64_t token)
{
	if ((token & (3ull << 62)) == TOKEN_SLOT) {
		uint32_t slot = (uint32_t)(token & 0xffffffffu);

		if (slot >= ep->nslots)
			return -EINVAL;
		if (ep->mode == RVMIG_MODE_PULL) {
			ep->free_slots[ep->nfree_slots++] = slot;
		} else {
			if (!ep->slot_busy || !ep->slot_busy[slot])
				return -EINVAL; /* released twice */
			if (ep->npending_free == WIRE_SLOT_FREE_MAX) {
				recv_run(ep);
				if (ep->npending_free == WIRE_SLOT_FREE_MAX)
					return -EAGAIN;
			}
			ep->slot_busy[slot] = 0;
			ep->pending_free[ep->npending_free++] = slot;
		}
		return 0;
	}
	return msg_release(ep, token);
}

/* Hands a copied message to the consumer as RVMIG_EV_RECV_MSG.  `link`: the
 * link whose control credit the message keeps until released, or -1. */
int msg_deliver(struct rvmig_ep *ep, uint8_t *data, uint32_t len, uint64_t stream_off,
		uint64_t id, int link)
{
	struct delivered_msg *d = malloc(sizeof(*d));

	if (!d) {
		free(data);
		ep_fail(ep, -ENOMEM, "message delivery");
		return -ENOMEM;
	}
	d->token = TOKEN_MSG | id;
	d->link = link;
	d->data = data;
	d->next = ep->dmsgs;
	ep->dmsgs = d;
	ep_push_event(ep, &(struct rvmig_event){ .type = RVMIG_EV_RECV_MSG, .data = data,
						 .len = len, .stream_off = stream_off,
						 .token = d->token });
	ep->stats[RVMIG_STAT_BYTES_RECV] += len;
	return 0;
}

int msg_release(struct rvmig_ep *ep, uint64_t token)
{
	if ((token & (3ull << 62)) != TOKEN_MSG)
		return -EINVAL;
	for (struct delivered_msg **pp = &ep->dmsgs; *pp; pp = &(*pp)->next) {
		if ((*pp)->token == token) {
			struct delivered_msg *d = *pp;

			*pp = d->next;
			credit_return(ep, d->link);
			free(d->data);
			free(d);
			return 0;
		}
	}
	return -EINVAL;
}
