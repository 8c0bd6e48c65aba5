/* SPDX-License-Identifier: MIT */
/*
 * sched.c - the source side of a transfer: the server's scheduler for push
 * (RDMA WRITE into the receiver's slots) and the announcer for pull (the
 * receiver READs), plus completion of the client's requests.
 *
 * Items leave the client's post queue strictly in order; each chunk or
 * message gets the next sequence number, which is what the receiver orders
 * by.  Slots are taken in sequence order, so the lowest undelivered chunk
 * always holds one and the pipeline cannot deadlock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/log.h"
#include "proto/ep.h"

static void req_finish_chunk(struct rvmig_ep *ep, uint32_t r, int status)
{
	struct client_req *req = &ep->reqs[r];

	if (status && !req->status)
		req->status = status;
	if (--req->chunks_left == 0 && req->all_scheduled) {
		ep_push_event(ep, &(struct rvmig_event){ .type = RVMIG_EV_SEND_DONE,
							 .status = req->status,
							 .cookie = req->cookie });
		if (!req->status)
			ep->stats[RVMIG_STAT_REQUESTS_DONE]++;
		req->used = false;
		ep->nreqs_used--;
	}
}

static void chunk_release(struct rvmig_ep *ep, uint32_t ci, int status)
{
	struct chunk *c = &ep->chunks[ci];

	if (!c->used)
		return;
	c->used = false;
	ep->nchunks--;
	ep->inflight_bytes -= c->len;
	c->mr->busy--;
	mr_piece_put(c->mr, c->piece);
	mr_orphan_idle(c->mr);
	req_finish_chunk(ep, c->req, status);
}

/* Push: the WRITE of chunk `ci` completed at the source (RC: it is placed). */
void sched_data_done(struct rvmig_ep *ep, uint32_t ci, int status)
{
	if (ci >= ep->max_chunks)
		return;
	if (!status) {
		ep->stats[RVMIG_STAT_BYTES_WRITTEN] += ep->chunks[ci].len;
		ep->stats[RVMIG_STAT_BYTES_SENT] += ep->chunks[ci].len;
	}
	chunk_release(ep, ci, status);
}

void client_fail_all(struct rvmig_ep *ep, int status)
{
	if (ep->is_receiver)
		return;
	for (uint32_t i = 0; i < ep->max_chunks; i++)
		chunk_release(ep, i, status);
	/* Requests not started, or partly scheduled. */
	while (ep->q_count) {
		struct post_item *it = &ep->q[ep->q_head];

		if (it->kind == ITEM_BULK) {
			struct client_req *req = &ep->reqs[it->req];

			req->all_scheduled = true;
			req->chunks_left++;
			req_finish_chunk(ep, it->req, status);
		} else if (it->kind == ITEM_MSG) {
			ep_push_event(ep, &(struct rvmig_event){ .type = RVMIG_EV_SEND_DONE,
								 .status = status,
								 .cookie = it->cookie });
		}
		free(it->msg);
		ep->q_head = (ep->q_head + 1) % ep->q_cap;
		ep->q_count--;
	}
}

static void q_pop(struct rvmig_ep *ep)
{
	ep->q_head = (ep->q_head + 1) % ep->q_cap;
	ep->q_count--;
}

static int free_chunk_index(struct rvmig_ep *ep)
{
	if (ep->nchunks >= ep->max_chunks)
		return -1;
	for (uint32_t i = 0; i < ep->max_chunks; i++)
		if (!ep->chunks[i].used)
			return (int)i;
	return -1;
}

/* Sends the item at the head of the queue when it is a message or BYE. */
static int send_small_item(struct rvmig_ep *ep, struct post_item *it)
{
	int rc;

	if (it->kind == ITEM_BYE) {
		struct wire_bye m = { .h.type = MSG_BYE, .seq = ep->next_seq };

		rc = ep_send_ctrl(ep, -1, &m, sizeof(m), false);
		if (rc < 0)
			return rc;
		ep->bye_sent = true;
	} else {
		uint8_t buf[WIRE_CTRL_SIZE];
		struct wire_inline *m = (struct wire_inline *)buf;

		m->h = (struct wire_hdr){ .type = MSG_INLINE };
		m->seq = ep->next_seq;
		m->stream_off = it->stream_off;
		m->len = (uint32_t)it->len;
		m->pad = 0;
		memcpy(m->data, it->msg, it->len);
		rc = ep_send_ctrl(ep, -1, m, sizeof(*m) + it->len, false);
		if (rc < 0)
			return rc;
		ep->stats[RVMIG_STAT_BYTES_SENT] += it->len;
		ep_push_event(ep, &(struct rvmig_event){ .type = RVMIG_EV_SEND_DONE,
							 .cookie = it->cookie });
		free(it->msg);
		it->msg = NULL;
	}
	ep->next_seq++;
	q_pop(ep);
	return 0;
}

/* Picks a link that can take one data op plus one control message. */
static int data_link(struct rvmig_ep *ep)
{
	for (uint32_t i = 0; i < ep->nlinks; i++) {
		uint32_t l = (ep->rr_link + i) % ep->nlinks;
		struct link_state *ls = &ep->links[l];

		if (ls->send_credits >= 2 && ls->nfree_send && ls->sq_used + 2 <= EP_SQ_DEPTH) {
			ep->rr_link = (l + 1) % ep->nlinks;
			return (int)l;
		}
	}
	return -1;
}

/* Schedules one chunk of the bulk item at the head.  0, or -EAGAIN to stall. */
static int schedule_chunk(struct rvmig_ep *ep, struct post_item *it)
{
	uint64_t off = it->offset + it->done;
	uint64_t len = it->len - it->done;
	uint64_t lim = mr_chunk_limit(it->mr, off);
	struct chunk *c;
	uint32_t piece;
	int ci, link, rc;

	if (len > ep->slot_size)
		len = ep->slot_size;
	if (len > lim)
		len = lim;
	if (ep->inflight_bytes && ep->inflight_bytes + len > ep->attr.window)
		return -EAGAIN;
	if (ep->mode == RVMIG_MODE_PUSH && !ep->nfree_slots)
		return -EAGAIN;
	if (ep->mode == RVMIG_MODE_PULL && ep->announced >= ep->max_announce)
		return -EAGAIN;
	ci = free_chunk_index(ep);
	link = data_link(ep);
	if (ci < 0 || link < 0)
		return -EAGAIN;
	rc = mr_piece_get(it->mr, off, &piece);
	if (rc)
		return rc;
	c = &ep->chunks[ci];
	*c = (struct chunk){ .used = true, .seq = ep->next_seq, .req = it->req, .mr = it->mr,
			     .piece = piece, .stream_off = it->stream_off + it->done,
			     .len = (uint32_t)len, .link = (uint32_t)link };
	if (ep->mode == RVMIG_MODE_PUSH) {
		struct tp_mr *pm = &it->mr->pieces[piece].tmr;
		struct wire_write_done m = { .h.type = MSG_WRITE_DONE };

		c->slot = ep->free_slots[--ep->nfree_slots];
		rc = ep->tp->post_write(ep->tep, (uint32_t)link, it->mr->addr + off, (uint32_t)len, pm,
					ep->ring_addr + (uint64_t)c->slot * ep->slot_size,
					ep->ring_rkey, WR_ID(WR_DATA, ci));
		if (rc) {
			ep->free_slots[ep->nfree_slots++] = c->slot;
			c->used = false;
			mr_piece_put(it->mr, piece);
			if (rc == -EAGAIN)
				return rc;
			ep_fail(ep, rc, "posting RDMA WRITE of %llu bytes to %s", (unsigned long long)len,
				ep->peer);
			return rc;
		}
		ep->links[link].sq_used++;
		ep->stats[RVMIG_STAT_OPS_WRITE]++;
		/* Same link, after the WRITE: RC ordering makes the data visible first. */
		m.seq = c->seq;
		m.stream_off = c->stream_off;
		m.slot = c->slot;
		m.len = c->len;
		m.crc = ep->crc ? crc32c(0, it->mr->addr + off, len) : 0;
		rc = ep_send_ctrl(ep, link, &m, sizeof(m), false);
		if (rc < 0) {
			ep_fail(ep, rc, "WRITE_DONE could not follow its WRITE on link %d", link);
			return rc;
		}
	} else {
		struct tp_mr *pm = &it->mr->pieces[piece].tmr;
		struct wire_xfer_req m = { .h.type = MSG_XFER_REQ, .seq = c->seq,
					   .stream_off = c->stream_off,
					   .addr = (uintptr_t)(it->mr->addr + off),
					   .rkey = pm->rkey, .len = c->len,
					   .crc = ep->crc ? crc32c(0, it->mr->addr + off, len) : 0 };

		rc = ep_send_ctrl(ep, link, &m, sizeof(m), false);
		if (rc < 0) {
			c->used = false;
			mr_piece_put(it->mr, piece);
			return rc;
		}
		ep->announced++;
	}
	ep->nchunks++;
	ep->inflight_bytes += len;
	it->mr->busy++;
	ep->reqs[it->req].chunks_left++;
	ep->next_seq++;
	it->done += len;
	if (it->done == it->len) {
		ep->reqs[it->req].all_scheduled = true;
		q_pop(ep);
	}
	return 0;
}

static void sched_pass(struct rvmig_ep *ep)
{
	while (ep->q_count && !ep->error) {
		struct post_item *it = &ep->q[ep->q_head];
		int rc;

		if (it->kind == ITEM_BULK) {
			rc = schedule_chunk(ep, it);
		} else {
			/* A BYE goes only after every chunk is finished. */
			if (it->kind == ITEM_BYE && ep->nchunks)
				return;
			rc = send_small_item(ep, it);
		}
		if (rc) {
			if (rc == -EAGAIN)
				ep->stats[RVMIG_STAT_CREDIT_STALLS]++;
			return;
		}
	}
}

/* Schedules what the queue and the credits allow; the frames it posts
 * leave together (ep_batch). */
void sched_run(struct rvmig_ep *ep)
{
	if (!ep->ready)
		return;
	ep_batch(ep, true);
	sched_pass(ep);
	ep_batch(ep, false);
}

static void on_ack(struct rvmig_ep *ep, uint64_t upto)
{
	for (uint32_t i = 0; i < ep->max_chunks; i++) {
		struct chunk *c = &ep->chunks[i];

		if (c->used && c->seq < upto) {
			ep->stats[RVMIG_STAT_BYTES_SENT] += c->len;
			ep->announced--;
			chunk_release(ep, i, 0);
		}
	}
}

void sched_on_msg(struct rvmig_ep *ep, uint32_t link, struct wire_hdr *h)
{
	switch (h->type) {
	case MSG_READY: {
		struct wire_ready *m = (struct wire_ready *)h;

		if (ep->ready || !m->nslots || m->nslots > 65536 || !m->slot_size ||
		    m->slot_size > (64u << 20) || !m->max_announce) {
			ep_fail(ep, -RVMIG_EBADMSG, "bad READY from %s (nslots %u slot %u)", ep->peer,
				m->nslots, m->slot_size);
			return;
		}
		if (auth_check_server(ep, m))
			return;
		ep->ring_addr = m->ring_addr;
		ep->ring_rkey = m->ring_rkey;
		ep->nslots = m->nslots;
		ep->slot_size = m->slot_size;
		ep->max_announce = m->max_announce < EP_MAX_CHUNKS ? m->max_announce : EP_MAX_CHUNKS;
		if (ep->mode == RVMIG_MODE_PUSH) {
			ep->free_slots = malloc(sizeof(uint32_t) * m->nslots);
			if (!ep->free_slots) {
				ep_fail(ep, -ENOMEM, "slot table");
				return;
			}
			for (uint32_t i = 0; i < m->nslots; i++)
				ep->free_slots[i] = m->nslots - 1 - i;
			ep->nfree_slots = m->nslots;
		}
		ep->ready = true;
		break;
	}
	case MSG_SLOT_FREE: {
		struct wire_slot_free *m = (struct wire_slot_free *)h;

		for (uint32_t i = 0; i < m->n; i++) {
			if (ep->mode != RVMIG_MODE_PUSH || m->slots[i] >= ep->nslots ||
			    ep->nfree_slots >= ep->nslots) {
				ep_fail(ep, -RVMIG_EBADMSG, "SLOT_FREE names slot %u of %u", m->slots[i],
					ep->nslots);
				return;
			}
			ep->free_slots[ep->nfree_slots++] = m->slots[i];
		}
		break;
	}
	case MSG_CHALLENGE:
		if (ep->ready || ep->auth_answered) {
			ep_fail(ep, -RVMIG_EBADMSG, "unexpected CHALLENGE from %s", ep->peer);
			return;
		}
		auth_answer(ep, (struct wire_challenge *)h);
		break;
	case MSG_XFER_ACK:
		on_ack(ep, ((struct wire_xfer_ack *)h)->upto);
		break;
	case MSG_INLINE: {
		struct wire_inline *m = (struct wire_inline *)h;
		uint8_t *copy = malloc(m->len ? m->len : 1);

		if (!copy) {
			ep_fail(ep, -ENOMEM, "reply message");
			return;
		}
		memcpy(copy, m->data, m->len);
		msg_deliver(ep, copy, m->len, 0, ++ep->reply_id, -1);
		break;
	}
	case MSG_BYE:
		ep->bye_recv = true;
		if (!ep->bye_sent || ep->nchunks || ep->q_count) {
			/* The receiver ended the transfer before we did. */
			ep_fail(ep, -RVMIG_EPEER, "receiver %s closed before the transfer ended",
				ep->peer);
			return;
		}
		if (!ep->closed_evented) {
			ep->closed_evented = true;
			ep_push_event(ep, &(struct rvmig_event){ .type = RVMIG_EV_PEER_CLOSED });
		}
		break;
	default:
		ep_fail(ep, -RVMIG_EBADMSG, "unexpected %s from receiver %s on link %u",
			wire_msg_name(h->type), ep->peer, link);
	}
}
