/* SPDX-License-Identifier: MIT */
/* sendpipe.c - stream bytes in registered input memory -> ordered requests
 * (the sending half of rvmig_xsend). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xstream/msg.h"
#include "xstream/sendpipe.h"

#define RUN_MAX (4u << 20) /* largest coalesced bulk request */

/* Why the endpoint failed, in its words if it has any. */
static const char *ep_why(const rvmig_ep *ep, int err)
{
	const char *why = ep ? rvmig_ep_error(ep) : NULL;

	return why && *why ? why : rvmig_strerror(err);
}

int sendpipe_init(struct sendpipe *p, struct send_input *in, uint64_t zero_min,
		  enum rvmig_digest_alg alg, bool thread,
		  sendpipe_event_fn on_event, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->in = in;
	p->zero_min = zero_min;
	p->data_end = UINT64_MAX;
	p->on_event = on_event;
	p->arg = arg;
	p->msg_max = rvmig_msg_max();
	p->msg = malloc(p->msg_max);
	if (!p->msg || hasher_new(&p->sha, alg, thread))
		return -ENOMEM;
	p->msg_hdr = app_encode_ctrl_hdr(p->msg, p->msg_max);
	return 0;
}

void sendpipe_attach(struct sendpipe *p, rvmig_ep *ep)
{
	p->ep = ep;
}

void sendpipe_resume_at(struct sendpipe *p, uint64_t off)
{
	p->skip = off;
	p->acked = off; /* nothing below it will be posted */
}

void sendpipe_fini(struct sendpipe *p)
{
	hasher_free(p->sha);
	free(p->msg);
	free(p->fl);
	p->sha = NULL;
	p->msg = NULL;
	p->fl = NULL;
}

void sendpipe_fail(struct sendpipe *p, int err, const char *fmt, ...)
{
	va_list ap;

	if (p->err)
		return;
	p->err = err ? err : -EIO;
	va_start(ap, fmt);
	vsnprintf(p->errtxt, sizeof(p->errtxt), fmt, ap);
	va_end(ap);
}

void sendpipe_digest(struct sendpipe *p, uint8_t out[RVMIG_DIGEST_LEN])
{
	if (hasher_final(p->sha, out))
		sendpipe_fail(p, -ENOMEM, "cannot finish the %s digest",
			      rvmig_digest_name(hasher_get_alg(p->sha)));
}

/* The hasher counts from stream offset 0: every byte is handed on in order,
 * the skipped prefix of a resumed transfer included. */
uint64_t sendpipe_reusable(struct sendpipe *p)
{
	uint64_t h = hasher_done(p->sha);

	return h < p->acked ? h : p->acked;
}

/* Waits for whichever of the transport and the hasher holds `off` back. */
static void wait_reusable(struct sendpipe *p, uint64_t off)
{
	if (hasher_done(p->sha) < off && p->acked >= off)
		hasher_wait(p->sha, off);
	else
		sendpipe_pump(p, 100);
}

/* ---- completions ---- */

static void on_done(struct sendpipe *p, const struct rvmig_event *ev)
{
	uint64_t seq = ev->cookie;

	if (ev->status) {
		if (!p->err)
			p->link_err = true;
		sendpipe_fail(p, ev->status, "transfer to %s failed after %llu acknowledged bytes: %s",
			      rvmig_ep_peer(p->ep), (unsigned long long)p->acked,
			      ep_why(p->ep, ev->status));
		return;
	}
	if (seq < p->seq_head || seq >= p->seq_next)
		return;
	p->fl[seq & (p->fl_cap - 1)].done = true;
	while (p->seq_head < p->seq_next && p->fl[p->seq_head & (p->fl_cap - 1)].done) {
		p->acked = p->fl[p->seq_head & (p->fl_cap - 1)].end;
		p->seq_head++;
	}
}

void sendpipe_pump(struct sendpipe *p, int timeout_ms)
{
	struct rvmig_event ev;
	int rc = rvmig_progress(p->ep, timeout_ms);

	clock_gettime(CLOCK_MONOTONIC, &p->last_pump);
	while (rvmig_event_next(p->ep, &ev) > 0) {
		switch (ev.type) {
		case RVMIG_EV_SEND_DONE:
			on_done(p, &ev);
			break;
		case RVMIG_EV_RECV_MSG:
			p->on_event(p, &ev);
			rvmig_recv_release(p->ep, ev.token);
			break;
		case RVMIG_EV_PEER_CLOSED:
			p->on_event(p, &ev);
			break;
		case RVMIG_EV_ERROR:
			rc = ev.status;
			break;
		default:
			break;
		}
	}
	if (rc < 0 && !p->err)
		p->link_err = true;
	if (rc < 0)
		sendpipe_fail(p, rc, "connection to %s failed after %llu acknowledged bytes: %s",
			      rvmig_ep_peer(p->ep), (unsigned long long)p->acked, ep_why(p->ep, rc));
	if (p->stop && *p->stop)
		sendpipe_fail(p, -EINTR, "interrupted by signal %d", *p->stop);
	rvmig_pubxfer_progress(p->pub, p->acked, p->pages, p->zero_pages);
	if (p->on_pump)
		p->on_pump(p);
}

/* ---- posting ---- */

static int track(struct sendpipe *p, uint64_t end, uint64_t *seq)
{
	if (p->seq_next - p->seq_head == p->fl_cap) {
		uint64_t ncap = p->fl_cap ? p->fl_cap * 2 : 8192;
		struct sendpipe_inflight *n = calloc(ncap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (uint64_t q = p->seq_head; q < p->seq_next; q++)
			n[q & (ncap - 1)] = p->fl[q & (p->fl_cap - 1)];
		free(p->fl);
		p->fl = n;
		p->fl_cap = ncap;
	}
	*seq = p->seq_next;
	p->fl[*seq & (p->fl_cap - 1)] = (struct sendpipe_inflight){ .end = end };
	return 0;
}

/* Posts a message or bulk request, waiting out back-pressure. */
static void post(struct sendpipe *p, enum sendpipe_kind k, const void *msg, size_t len,
		 const struct in_seg *seg, uint64_t off, uint64_t end)
{
	uint64_t seq;
	int rc;

	if (p->err)
		return;
	if ((rc = track(p, end, &seq))) {
		sendpipe_fail(p, rc, "out of memory");
		return;
	}
	for (;;) {
		if (k == SP_DATA)
			rc = rvmig_client_post(p->ep, p->in->bufs[seg->buf].mr,
					       p->in->bufs[seg->buf].mr_off + seg->off, seg->len,
					       off, seq);
		else
			rc = rvmig_client_send_msg(p->ep, msg, len, off, seq);
		if (rc != -EAGAIN)
			break;
		sendpipe_pump(p, 100);
		if (p->err)
			return;
	}
	if (rc) {
		sendpipe_fail(p, rc, "cannot post stream offset %llu: %s", (unsigned long long)off,
			      ep_why(p->ep, rc));
		return;
	}
	p->seq_next++;
}

void sendpipe_msg(struct sendpipe *p, const void *msg, size_t len, uint64_t off)
{
	sendpipe_flush(p);
	post(p, SP_CTRL, msg, len, NULL, off, off);
}

void sendpipe_flush(struct sendpipe *p)
{
	uint8_t z[32];

	switch (p->pk) {
	case SP_NONE:
		return;
	case SP_CTRL:
		post(p, SP_CTRL, p->msg, p->msg_hdr + p->p_len, NULL, p->p_off, p->p_off + p->p_len);
		p->control_bytes += p->p_len;
		break;
	case SP_DATA:
		post(p, SP_DATA, NULL, 0, &p->p_seg, p->p_off, p->p_off + p->p_len);
		p->data_bytes += p->p_len;
		break;
	case SP_ZERO:
		p->zero_pages += p->p_len / RVMIG_STREAM_PAGE_SIZE;
		post(p, SP_ZERO, z, rvmig_xmsg_encode_zero(z, sizeof(z), p->p_len), NULL, p->p_off,
		     p->p_off + p->p_len);
		break;
	}
	p->pk = SP_NONE;
	p->ztail = 0;
}

void sendpipe_drain(struct sendpipe *p)
{
	sendpipe_flush(p);
	while (!p->err && rvmig_client_pending(p->ep))
		sendpipe_pump(p, 200);
}

static bool extends(const struct sendpipe *p, enum sendpipe_kind k, uint64_t off)
{
	return p->pk == k && p->p_off + p->p_len == off;
}

static void add_ctrl(struct sendpipe *p, uint64_t off, const uint8_t *data, size_t len)
{
	size_t room = p->msg_max - p->msg_hdr;

	while (len && !p->err) {
		size_t n;

		if (!extends(p, SP_CTRL, off) || p->p_len == room) {
			sendpipe_flush(p);
			p->pk = SP_CTRL;
			p->p_off = off;
			p->p_len = 0;
		}
		n = room - p->p_len < len ? room - p->p_len : len;
		memcpy(p->msg + p->msg_hdr + p->p_len, data, n);
		p->p_len += n;
		off += n;
		data += n;
		len -= n;
	}
}

static void add_zero(struct sendpipe *p, uint64_t off, uint64_t len)
{
	if (!extends(p, SP_ZERO, off)) {
		sendpipe_flush(p);
		p->pk = SP_ZERO;
		p->p_off = off;
		p->p_len = 0;
	}
	p->p_len += len;
}

/* Returns the number of input buffers the range lies in (0: failed). */
static int add_data(struct sendpipe *p, uint64_t off, uint64_t len)
{
	struct in_seg seg[2];
	int n = input_locate(p->in, off, len, seg);

	if (!n) {
		sendpipe_fail(p, -EFAULT,
			      "stream offset %llu is not in the input buffers (internal error)",
			      (unsigned long long)off);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (extends(p, SP_DATA, off) && p->p_seg.buf == seg[i].buf &&
		    p->p_seg.off + p->p_seg.len == seg[i].off && p->p_len + seg[i].len <= RUN_MAX) {
			p->p_len += seg[i].len;
			p->p_seg.len += seg[i].len;
		} else {
			sendpipe_flush(p);
			p->pk = SP_DATA;
			p->p_off = off;
			p->p_len = seg[i].len;
			p->p_seg = seg[i];
		}
		off += seg[i].len;
	}
	p->data_end = off;
	return n;
}

/*
 * A zero page that follows data is appended to the data run while the run's
 * zero tail is shorter than zero_min; once it is that long, the tail is cut
 * off the run and elided.  (zero_min one page: every zero page is elided.)
 */
static void zero_page(struct sendpipe *p, uint64_t off, uint64_t len)
{
	/* (data_end: the run may have been posted since, as a ring buffer
	 * filled up) */
	if (p->zero_min <= len || (!extends(p, SP_DATA, off) && p->data_end != off)) {
		add_zero(p, off, len);
		return;
	}
	if (add_data(p, off, len) != 1) {
		p->ztail = 0; /* it straddles two buffers: the run restarted inside it */
		return;
	}
	p->ztail = p->ztail + len < p->p_len ? p->ztail + len : p->p_len;
	if (p->ztail < p->zero_min)
		return;
	p->data_end = UINT64_MAX; /* the run ends in zeros now */
	if (p->ztail == p->p_len) {
		p->pk = SP_ZERO;
	} else {
		uint64_t z = p->ztail, end = p->p_off + p->p_len;

		p->p_len -= z;
		p->p_seg.len -= (size_t)z;
		sendpipe_flush(p);
		p->pk = SP_ZERO;
		p->p_off = end - z;
		p->p_len = z;
	}
	p->ztail = 0;
}

/* Resume: the part of an item at or after p->skip. */
static void item_tail(struct sendpipe *p, const struct rvmig_stream_item *it)
{
	uint64_t d = p->skip - it->offset;

	if (it->kind != RVMIG_STREAM_ITEM_PAGE)
		add_ctrl(p, p->skip, (const uint8_t *)it->data + d, it->len - d);
	else if (it->flags & RVMIG_STREAM_F_ZERO)
		add_zero(p, p->skip, it->len - d);
	else
		add_data(p, p->skip, it->len - d);
}

/* Long runs of parsing (a full ring buffer is parsed as fast as the CPU
 * goes) must not starve the endpoint:
 * keepalives and completions are handled at least every PUMP_MS, or a busy
 * host makes the peer give up on a silent sender. */
#define PUMP_MS 50
static void keep_pumping(struct sendpipe *p)
{
	struct timespec now;

	if ((++p->items & 63) || !p->ep)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - p->last_pump.tv_sec) * 1000 +
		    (now.tv_nsec - p->last_pump.tv_nsec) / 1000000 >= PUMP_MS)
		sendpipe_pump(p, 0);
}

void sendpipe_item(struct sendpipe *p, const struct rvmig_stream_item *it)
{
	keep_pumping(p);
	if (it->kind == RVMIG_STREAM_ITEM_PAGE)
		p->pages++;
	if (it->offset + it->len <= p->skip)
		return;
	if (it->offset < p->skip) {
		item_tail(p, it);
		return;
	}
	if (it->kind == RVMIG_STREAM_ITEM_PAGE && (it->flags & RVMIG_STREAM_F_COPIED) &&
	    !input_locate(p->in, it->offset, it->len, (struct in_seg[2]){ 0 })) {
		/* straddled more than two fed pieces: only the parser's copy is left */
		if (it->flags & RVMIG_STREAM_F_ZERO)
			add_zero(p, it->offset, it->len);
		else
			add_ctrl(p, it->offset, it->data, it->len);
		p->page_copy_bytes += it->flags & RVMIG_STREAM_F_ZERO ? 0 : it->len;
	} else if (it->kind == RVMIG_STREAM_ITEM_PAGE) {
		if (it->flags & RVMIG_STREAM_F_ZERO) {
			zero_page(p, it->offset, it->len);
		} else {
			add_data(p, it->offset, it->len);
			p->ztail = 0;
		}
	} else {
		add_ctrl(p, it->offset, it->data, it->len);
	}
}

void sendpipe_bytes(struct sendpipe *p, uint64_t off, const void *data, size_t len)
{
	add_ctrl(p, off, data, len);
}

void sendpipe_raw(struct sendpipe *p, uint64_t off, uint64_t len)
{
	while (len && !p->err) {
		uint64_t n = len < RUN_MAX ? len : RUN_MAX;

		if (off + n > p->skip) {
			uint64_t from = off < p->skip ? p->skip : off;

			add_data(p, from, off + n - from);
			sendpipe_flush(p);
		}
		off += n;
		len -= n;
	}
}

/* ---- input loops ---- */

/* Hands on the bytes [b->fed, b->filled) of the current buffer. */
static void process(struct sendpipe *p, sendpipe_process_fn fn)
{
	struct in_buf *b = &p->in->bufs[p->in->cur];
	uint64_t off = b->stream_base + b->fed;
	size_t len = b->filled - b->fed;

	if (!len)
		return;
	b->fed = b->filled;
	sendpipe_hand(p, fn, off, b->base + (off - b->stream_base), len);
}

/* One hasher feed per piece read (up to 1 MiB), while it is in the cache:
 * per item (every 4 KiB page of a Xen stream) the digest worker's queue
 * took a lock and often a wake-up each time. */
void sendpipe_hand(struct sendpipe *p, sendpipe_process_fn fn, uint64_t off, const uint8_t *data,
		   size_t len)
{
	fn(p, off, data, len);
	hasher_feed(p->sha, data, len);
}

/* Whether the pipe has bytes (or end of input) to read, waiting up to
 * 100 ms for them or for the endpoint while nothing is left to hand on. */
static bool pipe_ready(struct sendpipe *p, const struct in_buf *b)
{
	struct pollfd pf[2] = { { .fd = p->in->fd, .events = POLLIN },
				{ .fd = rvmig_ep_fd(p->ep), .events = POLLIN } };

	if (poll(pf, 2, b->fed < b->filled ? 0 : 100) < 0 && errno != EINTR) {
		sendpipe_fail(p, -errno, "poll: %s", strerror(errno));
		return false;
	}
	return pf[0].revents;
}

void sendpipe_run(struct sendpipe *p, sendpipe_process_fn fn)
{
	struct send_input *in = p->in;

	while (!p->err && !p->quit && !(p->stop && *p->stop)) {
		struct in_buf *b = &in->bufs[in->cur];
		ssize_t n;

		if (in->eof) {
			process(p, fn);
			break;
		}
		if (b->filled == b->cap) {
			process(p, fn);
			while (!p->err && !input_next_buf(in, sendpipe_reusable(p))) {
				sendpipe_flush(p); /* a run may still point into the buffer */
				wait_reusable(p, input_next_need(in));
			}
			continue;
		}
		if (in->file || pipe_ready(p, b)) {
			n = input_read(in);
			if (n < 0 && n != -EAGAIN)
				sendpipe_fail(p, (int)n, "%s", in->why);
			process(p, fn); /* while it is in the cache */
		} else if (!p->err) {
			/* Input idle: hand on what we have. */
			process(p, fn);
			sendpipe_flush(p);
		}
		sendpipe_pump(p, 0);
	}
}
