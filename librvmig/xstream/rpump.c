/* SPDX-License-Identifier: MIT */
/*
 * rpump.c - the receiver's event pump (rvmig_xrecv_attach / _progress /
 * _detach, rvmig/xstream.h): one turn of the endpoint, its events handed to
 * the rebuild or to the owner's callbacks, buffers held for the digest.
 */
#include <errno.h>
#include <stdlib.h>

#include "xstream/xrecv.h"

int rvmig_xrecv_attach(rvmig_xrecv *r, rvmig_ep *ep)
{
	if (r->ep && r->ep != ep)
		return -EBUSY;
	if (r->ep != ep)
		r->rb.announced = false; /* a new connection announces its stream again */
	r->ep = ep;
	return 0;
}

void rvmig_xrecv_set_drain(rvmig_xrecv *r, bool drain)
{
	r->drain = drain;
}

/* Keeps an event's buffer until the bytes before the receiver's offset are
 * hashed. */
static void hold(rvmig_xrecv *r, uint64_t token)
{
	if (r->held_n == r->held_cap) {
		size_t ncap = r->held_cap ? r->held_cap * 2 : 64;
		struct xrecv_held *n = malloc(ncap * sizeof(*n));

		if (!n) { /* cannot defer: wait for the digest instead */
			rebuild_wait_hashed(&r->rb, r->rb.off);
			rvmig_recv_release(r->ep, token);
			return;
		}
		for (size_t i = 0; i < r->held_n; i++)
			n[i] = r->held[(r->held_head + i) % r->held_cap];
		free(r->held);
		r->held = n;
		r->held_head = 0;
		r->held_cap = ncap;
	}
	r->held[(r->held_head + r->held_n) % r->held_cap] = (struct xrecv_held){ token, r->rb.off };
	r->held_n++;
}

/* Releases the held buffers that are hashed; with `all`, waits for all. */
static void release_hashed(rvmig_xrecv *r, bool all)
{
	uint64_t hashed;

	if (all && r->held_n)
		rebuild_wait_hashed(&r->rb, r->rb.off);
	hashed = rebuild_hashed(&r->rb);
	while (r->held_n && (all || r->held[r->held_head].end <= hashed)) {
		rvmig_recv_release(r->ep, r->held[r->held_head].token);
		r->held_head = (r->held_head + 1) % r->held_cap;
		r->held_n--;
	}
}

/* An event's buffer after it was handed on. */
static void done_with(rvmig_xrecv *r, uint64_t token)
{
	if (r->rb.defer_release && !r->drain)
		hold(r, token);
	else
		rvmig_recv_release(r->ep, token);
}

static void on_msg(rvmig_xrecv *r, const struct rvmig_event *ev)
{
	struct rvmig_xmsg m;
	const char *why;

	if (rvmig_xmsg_decode(ev->data, ev->len, &m, &why)) {
		rebuild_fail(&r->rb, -RVMIG_EBADMSG, "bad message from %s at stream offset %llu: %s",
			     r->peer, (unsigned long long)ev->stream_off, why);
		return;
	}
	if (rebuild_msg(&r->rb, &m, ev->stream_off)) {
		if (m.tag == RVMIG_XMSG_END && r->rb.done) {
			r->end_pages = m.pages;
			r->end_zero_pages = m.zero_pages;
		}
		return;
	}
	if (r->attr.on_msg)
		r->attr.on_msg(r, &m, ev->stream_off, r->attr.arg);
	else
		rebuild_fail(&r->rb, -RVMIG_EBADMSG, "unexpected %s message from %s",
			     rvmig_xmsg_tag_name(m.tag), r->peer);
}

/* Whether the next event may be taken: not while a zero run is being
 * delivered nor while the sink holds something back. */
static bool may_take(const rvmig_xrecv *r)
{
	if (r->drain)
		return true;
	return !rebuild_busy(&r->rb) && (!r->attr.ready || r->attr.ready(r->attr.arg));
}

int rvmig_xrecv_progress(rvmig_xrecv *r, int timeout_ms)
{
	struct rvmig_event ev;
	/* With buffers held for the digest, do not sleep on the network: when
	 * nothing arrives, wait for the digest and hand the oldest back.  Nor
	 * while a zero run is being written: one step of it per turn, and no
	 * further event until it is done. */
	bool busy = rebuild_busy(&r->rb) && !r->drain;
	int rc, got = 0;

	if (!r->ep)
		return -EINVAL;
	rc = rvmig_progress(r->ep, r->held_n || busy ? 0 : timeout_ms);
	if (busy && (!r->attr.ready || r->attr.ready(r->attr.arg)))
		rebuild_step(&r->rb);
	while (may_take(r) && rvmig_event_next(r->ep, &ev) > 0) {
		got++;
		switch (ev.type) {
		case RVMIG_EV_RECV_DATA:
			if (!r->drain)
				rebuild_data(&r->rb, ev.stream_off, ev.data, ev.len);
			done_with(r, ev.token);
			break;
		case RVMIG_EV_RECV_MSG:
			if (!r->drain)
				on_msg(r, &ev);
			done_with(r, ev.token);
			break;
		case RVMIG_EV_PEER_CLOSED:
			if (r->attr.on_close)
				r->attr.on_close(r, r->attr.arg);
			break;
		case RVMIG_EV_ERROR:
			rc = ev.status;
			break;
		default:
			break;
		}
	}
	if (r->held_n && !got)
		rebuild_wait_hashed(&r->rb, r->held[r->held_head].end);
	release_hashed(r, r->drain);
	return rc < 0 ? rc : 0;
}

void rvmig_xrecv_detach(rvmig_xrecv *r)
{
	if (!r->ep)
		return;
	release_hashed(r, true);
	r->ep = NULL;
}
