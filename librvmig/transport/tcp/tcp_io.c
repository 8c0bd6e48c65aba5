/* SPDX-License-Identifier: MIT */
/*
 * tcp_io.c - the TCP transport's data path: frame transmit queue, receive
 * state machine, one-sided operations served from registered memory.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "transport/tcp/tcp.h"

#define TCP_MAX_IOV 64

void tcp_cq_push(struct tp_ep *ep, uint64_t wr_id, enum tp_op op, int status, uint32_t len,
		 uint32_t link)
{
	if (ep->cq_count == ep->cq_cap) {
		uint32_t ncap = ep->cq_cap ? ep->cq_cap * 2 : 256;
		struct tp_cqe *ncq = malloc(sizeof(*ncq) * ncap);

		if (!ncq)
			abort(); /* completions can never be dropped */
		for (uint32_t i = 0; i < ep->cq_count; i++)
			ncq[i] = ep->cq[(ep->cq_head + i) % ep->cq_cap];
		free(ep->cq);
		ep->cq = ncq;
		ep->cq_cap = ncap;
		ep->cq_head = 0;
	}
	ep->cq[(ep->cq_head + ep->cq_count) % ep->cq_cap] = (struct tp_cqe){
		.wr_id = wr_id, .op = op, .status = status, .len = len, .link = link,
	};
	ep->cq_count++;
}

static void link_update_events(struct tp_ep *ep, uint32_t li)
{
	struct tcp_link *l = &ep->links[li];
	bool want = l->txq_head != NULL;
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.u32 = li };

	if (want == l->want_out || l->dead)
		return;
	l->want_out = want;
	epoll_ctl(ep->epfd, EPOLL_CTL_MOD, l->fd, &ev);
}

void tcp_link_flush_tx(struct tp_ep *ep, uint32_t li)
{
	struct tcp_link *l = &ep->links[li];

	while (l->txq_head) {
		struct tcp_txop *op = l->txq_head;

		l->txq_head = op->next;
		if (op->op)
			tcp_cq_push(ep, op->wr_id, op->op, -RVMIG_EPEER, 0, li);
		free(op);
	}
	l->txq_tail = NULL;
}

/* Marks a link dead and completes everything outstanding on it in error. */
void tcp_link_fail(struct tp_ep *ep, uint32_t li, int err, const char *why)
{
	struct tcp_link *l = &ep->links[li];

	if (l->dead)
		return;
	LOG_DBG(ep->ctx, "tcp", "link %u to %s failed: %s (%s)", li, l->peer, why,
		 rvmig_strerror(err));
	l->dead = true;
	epoll_ctl(ep->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	shutdown(l->fd, SHUT_RDWR);
	tcp_link_flush_tx(ep, li);
	for (uint32_t i = 0; i < l->rq_count; i++) {
		struct tcp_rxbuf *rb = &l->rq[(l->rq_head + i) % ep->cfg.rq_depth];

		tcp_cq_push(ep, rb->wr_id, TP_OP_RECV, -RVMIG_EPEER, 0, li);
	}
	l->rq_count = 0;
	for (uint32_t i = 0; i < ep->cfg.max_rd_atomic; i++) {
		if (l->reads[i].used) {
			tcp_cq_push(ep, l->reads[i].wr_id, TP_OP_READ, -RVMIG_EPEER, 0, li);
			l->reads[i].used = false;
		}
	}
	/* Reported by poll() once the completions above are reaped. */
	if (!ep->fail_err) {
		ep->fail_err = err;
		snprintf(ep->fail_why, sizeof(ep->fail_why), "link %u (%s): %s", li, l->peer, why);
	}
}

int tcp_txq_add(struct tp_ep *ep, uint32_t li, struct tcp_txop *op)
{
	struct tcp_link *l = &ep->links[li];

	op->total = 0;
	for (int i = 0; i < op->iovcnt; i++)
		op->total += op->iov[i].iov_len;
	op->done = 0;
	op->next = NULL;
	if (l->txq_tail)
		l->txq_tail->next = op;
	else
		l->txq_head = op;
	l->txq_tail = op;
	/* Try at once: most small frames go out without waiting for epoll.
	 * Not inside a batch (tcp_batch sends what it queued at its end) and
	 * not while the socket is full (EPOLLOUT is awaited: a send now would
	 * only return EAGAIN). */
	if (ep->tx_hold || l->want_out)
		return 0;
	return tcp_link_tx(ep, li);
}

void tcp_batch(struct tp_ep *ep, bool open)
{
	if (open) {
		ep->tx_hold++;
		return;
	}
	if (!ep->tx_hold || --ep->tx_hold)
		return;
	for (uint32_t li = 0; li < ep->nlinks; li++) {
		struct tcp_link *l = &ep->links[li];

		if (l->txq_head && !l->want_out && !l->dead)
			tcp_link_tx(ep, li);
	}
}

/* Writes as much of the transmit queue as the socket takes. */
int tcp_link_tx(struct tp_ep *ep, uint32_t li)
{
	struct tcp_link *l = &ep->links[li];

	while (l->txq_head && !l->dead) {
		struct iovec iov[TCP_MAX_IOV];
		struct msghdr msg = { .msg_iov = iov };
		int n = 0;
		size_t skip, want = 0;
		ssize_t w;

		/* Gather several queued frames into one send. */
		for (struct tcp_txop *op = l->txq_head; op && n < TCP_MAX_IOV - 2; op = op->next) {
			skip = op == l->txq_head ? op->done : 0;
			for (int i = 0; i < op->iovcnt; i++) {
				if (skip >= op->iov[i].iov_len) {
					skip -= op->iov[i].iov_len;
					continue;
				}
				iov[n].iov_base = (uint8_t *)op->iov[i].iov_base + skip;
				iov[n].iov_len = op->iov[i].iov_len - skip;
				want += iov[n].iov_len;
				skip = 0;
				n++;
			}
		}
		/* sendmsg with MSG_NOSIGNAL, not writev: a peer that reset the
		 * connection must give EPIPE here, not a SIGPIPE that kills the
		 * caller's process (a library cannot assume it is ignored). */
		msg.msg_iovlen = (size_t)n;
		w = sendmsg(l->fd, &msg, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			tcp_link_fail(ep, li, -RVMIG_EPEER, strerror(errno));
			return -RVMIG_EPEER;
		}
		/* Less than offered: the socket is full, and another send now
		 * would only return EAGAIN; EPOLLOUT says when it has room. */
		if ((size_t)w < want)
			want = 0;
		while (w > 0 && l->txq_head) {
			struct tcp_txop *op = l->txq_head;
			size_t left = op->total - op->done;

			if ((size_t)w < left) {
				op->done += (size_t)w;
				w = 0;
				break;
			}
			w -= (ssize_t)left;
			l->txq_head = op->next;
			if (!l->txq_head)
				l->txq_tail = NULL;
			if (op->op) {
				l->tx_outstanding--;
				tcp_cq_push(ep, op->wr_id, op->op, 0, 0, li);
			} else if (op->hdr.op == TCP_F_READ_RESP) {
				l->resp_queued--;
			}
			free(op);
		}
		if (!want)
			break;
	}
	link_update_events(ep, li);
	return 0;
}

const struct tcp_mr_slot *tcp_mr_check(struct tp_ep *ep, uint64_t addr, uint32_t rkey,
				       size_t len, unsigned access)
{
	uint32_t idx = rkey >> 8;
	const struct tcp_mr_slot *m;

	if (idx >= ep->nmrs)
		return NULL;
	m = &ep->mrs[idx];
	if (!m->used || m->gen != (rkey & 0xff) || !(m->access & access))
		return NULL;
	if (addr < (uintptr_t)m->addr || len > m->len ||
	    addr - (uintptr_t)m->addr > m->len - len)
		return NULL;
	return m;
}

static void frame_dec(struct tcp_frame *f)
{
	f->len = le32toh(f->len);
	f->raddr = le64toh(f->raddr);
	f->rkey = le32toh(f->rkey);
	f->id = le64toh(f->id);
}

/* Header complete: decide where the payload goes. Returns 0 or error. */
static int rx_dispatch(struct tp_ep *ep, uint32_t li)
{
	struct tcp_link *l = &ep->links[li];
	struct tcp_frame *f = &l->rx_hdr;

	frame_dec(f);
	l->rx_done = 0;
	l->rx_len = f->len;
	l->rx_cqe_op = 0;
	switch (f->op) {
	case TCP_F_SEND: {
		struct tcp_rxbuf *rb;

		if (!l->rq_count) {
			tcp_link_fail(ep, li, -RVMIG_EBADMSG,
				      "SEND arrived with no receive buffer posted (credit violation)");
			return -RVMIG_EBADMSG;
		}
		rb = &l->rq[l->rq_head];
		if (f->len > rb->len) {
			tcp_link_fail(ep, li, -RVMIG_EBADMSG, "SEND larger than the receive buffer");
			return -RVMIG_EBADMSG;
		}
		l->rq_head = (l->rq_head + 1) % ep->cfg.rq_depth;
		l->rq_count--;
		l->rx_dst = rb->buf;
		l->rx_cqe_op = TP_OP_RECV;
		l->rx_cqe_wr_id = rb->wr_id;
		l->rx_cqe_len = f->len;
		break;
	}
	case TCP_F_WRITE: {
		if (!tcp_mr_check(ep, f->raddr, f->rkey, f->len, TP_ACCESS_REMOTE_WRITE)) {
			tcp_link_fail(ep, li, -RVMIG_EACCESS, "WRITE outside a granted region");
			return -RVMIG_EACCESS;
		}
		l->rx_dst = (uint8_t *)(uintptr_t)f->raddr;
		break;
	}
	case TCP_F_READ_REQ: {
		struct tcp_txop *op;

		/* Zero-length READs too must name a region the peer may read:
		 * one that has none (a receiver, any endpoint before the peer
		 * authenticated) is served nothing. */
		if (!tcp_mr_check(ep, f->raddr, f->rkey, f->len, TP_ACCESS_REMOTE_READ)) {
			tcp_link_fail(ep, li, -RVMIG_EACCESS, "READ outside a granted region");
			return -RVMIG_EACCESS;
		}
		/* The peer keeps at most max_rd_atomic READs outstanding (and
		 * one answer may still be leaving): more is a violation, not a
		 * reason to queue answers without bound. */
		if (l->resp_queued >= 2 * ep->cfg.max_rd_atomic) {
			tcp_link_fail(ep, li, -RVMIG_EBADMSG,
				      "more READs outstanding than the responder allows");
			return -RVMIG_EBADMSG;
		}
		op = calloc(1, sizeof(*op));
		if (!op)
			return -ENOMEM;
		op->hdr.op = TCP_F_READ_RESP;
		op->hdr.len = htole32(f->len);
		op->hdr.id = htole64(f->id);
		op->iov[0] = (struct iovec){ &op->hdr, sizeof(op->hdr) };
		op->iov[1] = (struct iovec){ (void *)(uintptr_t)f->raddr, f->len };
		op->iovcnt = f->len ? 2 : 1;
		l->resp_queued++;
		l->rx_state = RX_HDR;
		l->rx_done = 0;
		return tcp_txq_add(ep, li, op);
	}
	case TCP_F_READ_RESP: {
		struct tcp_read *rd = NULL;

		for (uint32_t i = 0; i < ep->cfg.max_rd_atomic; i++)
			if (l->reads[i].used && l->reads[i].id == f->id)
				rd = &l->reads[i];
		if (!rd || rd->len != f->len) {
			tcp_link_fail(ep, li, -RVMIG_EBADMSG, "READ response matches no outstanding READ");
			return -RVMIG_EBADMSG;
		}
		rd->used = false;
		l->rx_dst = rd->buf;
		l->rx_cqe_op = TP_OP_READ;
		l->rx_cqe_wr_id = rd->wr_id;
		l->rx_cqe_len = rd->len;
		l->tx_outstanding--;
		break;
	}
	default:
		tcp_link_fail(ep, li, -RVMIG_EBADMSG, "unknown frame type");
		return -RVMIG_EBADMSG;
	}
	l->rx_state = RX_PAYLOAD;
	return 0;
}

static void rx_payload_done(struct tp_ep *ep, uint32_t li)
{
	struct tcp_link *l = &ep->links[li];

	if (l->rx_cqe_op)
		tcp_cq_push(ep, l->rx_cqe_wr_id, l->rx_cqe_op, 0, l->rx_cqe_len, li);
	l->rx_state = RX_HDR;
	l->rx_done = 0;
}

/* Feeds the bytes staged by the last receive call to the frame state
 * machine: headers, payloads (copied to their destination), completions.
 * Consumes them all unless the link fails.  0 or a negative error. */
static int rx_feed(struct tp_ep *ep, uint32_t li)
{
	struct tcp_link *l = &ep->links[li];

	while (!l->dead) {
		size_t avail = l->st_len - l->st_pos, k;

		if (l->rx_state == RX_PAYLOAD && l->rx_done == l->rx_len) {
			rx_payload_done(ep, li);
			continue;
		}
		if (!avail)
			break;
		if (l->rx_state == RX_HDR) {
			k = sizeof(l->rx_hdr) - l->rx_done;
			k = k < avail ? k : avail;
			memcpy((uint8_t *)&l->rx_hdr + l->rx_done, l->stage + l->st_pos, k);
			l->rx_done += k;
			l->st_pos += (uint32_t)k;
			if (l->rx_done == sizeof(l->rx_hdr)) {
				int rc = rx_dispatch(ep, li);

				if (rc)
					return rc;
			}
		} else {
			k = l->rx_len - l->rx_done;
			k = k < avail ? k : avail;
			memcpy(l->rx_dst + l->rx_done, l->stage + l->st_pos, k);
			if (l->rx_hdr.op == TCP_F_WRITE || l->rx_hdr.op == TCP_F_READ_RESP)
				ep->copied += k;
			l->rx_done += k;
			l->st_pos += (uint32_t)k;
		}
	}
	l->st_pos = l->st_len = 0;
	return 0;
}

/*
 * Reads what is available on the link.  A payload is read straight from the
 * socket into its destination; up to TCP_STAGE bytes after it (or, between
 * payloads, in place of a bare header) go to the link's staging buffer in
 * the same readv, so the frames that follow a payload - its completion
 * message, the next header - cost no receive call of their own.  A read
 * shorter than asked for means the socket is drained: no further call
 * that would only return EAGAIN (level-triggered epoll reports new data).
 */
int tcp_link_rx(struct tp_ep *ep, uint32_t li)
{
	struct tcp_link *l = &ep->links[li];
	int rc = rx_feed(ep, li);

	for (int rounds = 0; rounds < 64 && !l->dead && !rc; rounds++) {
		struct iovec iov[2];
		size_t pay_left = 0;
		int iovcnt = 0;
		ssize_t n;

		if (l->rx_state == RX_PAYLOAD) {
			pay_left = l->rx_len - l->rx_done; /* > 0: rx_feed completes full payloads */
			iov[iovcnt++] = (struct iovec){ l->rx_dst + l->rx_done, pay_left };
		}
		iov[iovcnt++] = (struct iovec){ l->stage, TCP_STAGE };
		n = readv(l->fd, iov, iovcnt);
		if (n == 0) {
			tcp_link_fail(ep, li, -RVMIG_EPEER, "connection closed by peer");
			return -RVMIG_EPEER;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			tcp_link_fail(ep, li, -RVMIG_EPEER, strerror(errno));
			return -RVMIG_EPEER;
		}
		if ((size_t)n <= pay_left) {
			l->rx_done += (size_t)n;
		} else {
			l->rx_done += pay_left;
			l->st_pos = 0;
			l->st_len = (uint32_t)((size_t)n - pay_left);
		}
		rc = rx_feed(ep, li);
		if ((size_t)n < pay_left + TCP_STAGE)
			break;
	}
	return rc;
}
