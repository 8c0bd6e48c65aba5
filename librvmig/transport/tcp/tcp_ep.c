/* SPDX-License-Identifier: MIT */
/* tcp_ep.c - TCP transport endpoints, memory table and posting. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "transport/tcp/tcp.h"

static int tcp_ep_create(struct rvmig_ctx *ctx, const struct tp_ep_cfg *cfg, struct tp_ep **out)
{
	struct tp_ep *ep = calloc(1, sizeof(*ep));

	if (!ep)
		return -ENOMEM;
	ep->ctx = ctx;
	ep->cfg = *cfg;
	if (!ep->cfg.max_rd_atomic)
		ep->cfg.max_rd_atomic = 16;
	ep->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ep->epfd < 0) {
		int rc = -errno;

		free(ep);
		return rc;
	}
	*out = ep;
	return 0;
}

/*
 * Closes the links gracefully: send FIN after everything we wrote, then
 * discard what the peer still sends until its FIN (bounded).  Closing a
 * socket with unread data would send RST, and an RST makes the peer's
 * kernel drop data it has not read yet, such as our last ERROR message.
 */
static void linger_close(struct tp_ep *ep)
{
	struct pollfd pfd[64];
	uint32_t n = 0;
	char sink[65536];

	for (uint32_t i = 0; i < ep->nlinks && n < 64; i++) {
		if (ep->links[i].dead)
			continue;
		shutdown(ep->links[i].fd, SHUT_WR);
		pfd[n++] = (struct pollfd){ .fd = ep->links[i].fd, .events = POLLIN };
	}
	/* at most 2 s of wall time (counting rounds of a 10 ms poll took
	 * several times that on a slow, emulated host) */
	for (int64_t end = tp_now_ms() + 2000, left; n && (left = end - tp_now_ms()) > 0;) {
		uint32_t open = 0;

		if (poll(pfd, n, left < 10 ? (int)left : 10) < 0 && errno != EINTR)
			break;
		for (uint32_t i = 0; i < n; i++) {
			if (pfd[i].fd < 0)
				continue;
			if (pfd[i].revents) {
				ssize_t r = recv(pfd[i].fd, sink, sizeof(sink), MSG_DONTWAIT);

				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
					pfd[i].fd = -1;
					continue;
				}
			}
			open++;
		}
		if (!open)
			break;
	}
}

static void ep_release(struct tp_ep *ep)
{
	for (uint32_t i = 0; i < ep->nlinks; i++) {
		struct tcp_link *l = &ep->links[i];

		tcp_link_flush_tx(ep, i);
		close(l->fd);
		free(l->rq);
		free(l->reads);
	}
	free(ep->links);
	free(ep->cq);
	free(ep->mrs);
	close(ep->epfd);
	free(ep);
}

static void tcp_ep_destroy(struct tp_ep *ep)
{
	if (!ep)
		return;
	linger_close(ep);
	ep_release(ep);
}

/* Without waiting: FIN after what we wrote (a last ERROR still goes out),
 * and what the peer sent that is already here is read away first so that
 * closing does not turn into a reset that could destroy that ERROR. */
static void tcp_ep_abort(struct tp_ep *ep)
{
	char sink[4096];

	if (!ep)
		return;
	for (uint32_t i = 0; i < ep->nlinks; i++) {
		if (ep->links[i].dead)
			continue;
		shutdown(ep->links[i].fd, SHUT_WR);
		for (int k = 0; k < 16; k++)
			if (recv(ep->links[i].fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
				break;
	}
	ep_release(ep);
}

int tcp_ep_add_link(struct tp_ep *ep, int fd, const char *peer)
{
	struct tcp_link *nl = realloc(ep->links, sizeof(*nl) * (ep->nlinks + 1));
	struct tcp_link *l;
	struct epoll_event ev = { .events = EPOLLIN };
	uint32_t li = ep->nlinks;
	int rc;

	if (!nl)
		return -ENOMEM;
	ep->links = nl;
	l = &nl[li];
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	snprintf(l->peer, sizeof(l->peer), "%s", peer);
	if (!li)
		snprintf(ep->peer_name, sizeof(ep->peer_name), "%s", peer);
	l->rq = calloc(ep->cfg.rq_depth, sizeof(*l->rq));
	l->reads = calloc(ep->cfg.max_rd_atomic, sizeof(*l->reads));
	if (!l->rq || !l->reads) {
		free(l->rq);
		free(l->reads);
		return -ENOMEM;
	}
	ev.data.u32 = li;
	if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		rc = -errno;
		free(l->rq);
		free(l->reads);
		return rc;
	}
	ep->nlinks++;
	if (ep->cfg.link_init) {
		rc = ep->cfg.link_init(ep->cfg.link_init_arg, ep, li);
		if (rc < 0) {
			epoll_ctl(ep->epfd, EPOLL_CTL_DEL, fd, NULL);
			free(l->rq);
			free(l->reads);
			ep->nlinks--;
			return rc;
		}
	}
	return (int)li;
}

static int tcp_ep_fd(struct tp_ep *ep)
{
	return ep->epfd;
}

static int tcp_arm(struct tp_ep *ep)
{
	(void)ep;
	return 0; /* level-triggered epoll: nothing to arm */
}

static int tcp_poll(struct tp_ep *ep, struct tp_cqe *cqes, int max)
{
	struct epoll_event evs[16];
	int n, got = 0;

	if (!ep->cq_count) {
		n = epoll_wait(ep->epfd, evs, 16, 0);
		for (int i = 0; i < n; i++) {
			uint32_t li = evs[i].data.u32;

			if (li >= ep->nlinks || ep->links[li].dead)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				tcp_link_rx(ep, li);
			if (!ep->links[li].dead && (evs[i].events & EPOLLOUT))
				tcp_link_tx(ep, li);
		}
	}
	while (got < max && ep->cq_count) {
		cqes[got++] = ep->cq[ep->cq_head];
		ep->cq_head = (ep->cq_head + 1) % ep->cq_cap;
		ep->cq_count--;
	}
	if (!got && ep->fail_err && !ep->fail_reported) {
		ep->fail_reported = true;
		return ep->fail_err;
	}
	return got;
}

static const char *tcp_peer_name(struct tp_ep *ep)
{
	return ep->peer_name;
}

static int tcp_ep_error(struct tp_ep *ep, char *buf, size_t len)
{
	if (ep->fail_err)
		snprintf(buf, len, "%s", ep->fail_why);
	return ep->fail_err;
}

static uint64_t tcp_copied_bytes(struct tp_ep *ep)
{
	return ep->copied;
}

static int tcp_reg_mr(struct tp_ep *ep, void *addr, size_t len, unsigned access, struct tp_mr *out)
{
	uint32_t idx;

	for (idx = 0; idx < ep->nmrs; idx++)
		if (!ep->mrs[idx].used)
			break;
	if (idx == ep->nmrs) {
		struct tcp_mr_slot *n;

		if (ep->nmrs >= (1u << 24))
			return -ENOSPC;
		n = realloc(ep->mrs, sizeof(*n) * (ep->nmrs ? ep->nmrs * 2 : 16));
		if (!n)
			return -ENOMEM;
		memset(n + ep->nmrs, 0, sizeof(*n) * (ep->nmrs ? ep->nmrs : 16));
		ep->mrs = n;
		ep->nmrs = ep->nmrs ? ep->nmrs * 2 : 16;
	}
	ep->mrs[idx].addr = addr;
	ep->mrs[idx].len = len;
	ep->mrs[idx].access = access;
	ep->mrs[idx].used = true;
	ep->mrs[idx].gen++;
	out->addr = addr;
	out->len = len;
	out->rkey = idx << 8 | ep->mrs[idx].gen;
	out->lkey = out->rkey;
	out->priv = NULL;
	return 0;
}

static int tcp_dereg_mr(struct tp_ep *ep, struct tp_mr *mr)
{
	uint32_t idx = mr->rkey >> 8;

	if (idx >= ep->nmrs || !ep->mrs[idx].used)
		return -EINVAL;
	ep->mrs[idx].used = false;
	return 0;
}

static struct tcp_link *usable_link(struct tp_ep *ep, uint32_t li)
{
	if (li >= ep->nlinks)
		return NULL;
	return &ep->links[li];
}

static int tcp_post_recv(struct tp_ep *ep, uint32_t li, void *buf, uint32_t len,
			 const struct tp_mr *mr, uint64_t wr_id)
{
	struct tcp_link *l = usable_link(ep, li);

	(void)mr;
	if (!l)
		return -EINVAL;
	if (l->dead)
		return -RVMIG_EPEER;
	if (l->rq_count == ep->cfg.rq_depth)
		return -EAGAIN;
	l->rq[(l->rq_head + l->rq_count) % ep->cfg.rq_depth] =
		(struct tcp_rxbuf){ .buf = buf, .len = len, .wr_id = wr_id };
	l->rq_count++;
	return 0;
}

static int post_frame(struct tp_ep *ep, uint32_t li, uint8_t fop, const void *buf, uint32_t len,
		      uint64_t raddr, uint32_t rkey, uint64_t wr_id, enum tp_op cqe_op)
{
	struct tcp_link *l = usable_link(ep, li);
	struct tcp_txop *op;

	if (!l)
		return -EINVAL;
	if (l->dead)
		return -RVMIG_EPEER;
	if (l->tx_outstanding >= ep->cfg.sq_depth)
		return -EAGAIN;
	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->hdr.op = fop;
	op->hdr.len = htole32(len);
	op->hdr.raddr = htole64(raddr);
	op->hdr.rkey = htole32(rkey);
	op->iov[0] = (struct iovec){ &op->hdr, sizeof(op->hdr) };
	op->iov[1] = (struct iovec){ (void *)buf, len };
	op->iovcnt = len ? 2 : 1;
	op->wr_id = wr_id;
	op->op = cqe_op;
	l->tx_outstanding++;
	tcp_txq_add(ep, li, op);
	return 0;
}

static int tcp_post_send(struct tp_ep *ep, uint32_t li, const void *buf, uint32_t len,
			 const struct tp_mr *mr, uint64_t wr_id)
{
	(void)mr;
	return post_frame(ep, li, TCP_F_SEND, buf, len, 0, 0, wr_id, TP_OP_SEND);
}

static int tcp_post_write(struct tp_ep *ep, uint32_t li, const void *buf, uint32_t len,
			  const struct tp_mr *mr, uint64_t raddr, uint32_t rkey, uint64_t wr_id)
{
	(void)mr;
	return post_frame(ep, li, TCP_F_WRITE, buf, len, raddr, rkey, wr_id, TP_OP_WRITE);
}

static int tcp_post_read(struct tp_ep *ep, uint32_t li, void *buf, uint32_t len,
			 const struct tp_mr *mr, uint64_t raddr, uint32_t rkey, uint64_t wr_id)
{
	struct tcp_link *l = usable_link(ep, li);
	struct tcp_read *rd = NULL;
	struct tcp_txop *op;

	(void)mr;
	if (!l)
		return -EINVAL;
	if (l->dead)
		return -RVMIG_EPEER;
	if (l->tx_outstanding >= ep->cfg.sq_depth)
		return -EAGAIN;
	for (uint32_t i = 0; i < ep->cfg.max_rd_atomic && !rd; i++)
		if (!l->reads[i].used)
			rd = &l->reads[i];
	if (!rd)
		return -EAGAIN;
	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*rd = (struct tcp_read){ .id = ++l->next_read_id, .buf = buf, .len = len,
				 .wr_id = wr_id, .used = true };
	op->hdr.op = TCP_F_READ_REQ;
	op->hdr.len = htole32(len);
	op->hdr.raddr = htole64(raddr);
	op->hdr.rkey = htole32(rkey);
	op->hdr.id = htole64(rd->id);
	op->iov[0] = (struct iovec){ &op->hdr, sizeof(op->hdr) };
	op->iovcnt = 1;
	l->tx_outstanding++;
	tcp_txq_add(ep, li, op);
	return 0;
}

const struct rvmig_tp_ops rvmig_tp_tcp = {
	.name = "tcp",
	.ep_create = tcp_ep_create,
	.ep_destroy = tcp_ep_destroy,
	.ep_abort = tcp_ep_abort,
	.connect_link = tcp_connect_link,
	.connect_links = tcp_connect_links,
	.ep_fd = tcp_ep_fd,
	.arm = tcp_arm,
	.poll = tcp_poll,
	.peer_name = tcp_peer_name,
	.ep_error = tcp_ep_error,
	.reg_mr = tcp_reg_mr,
	.dereg_mr = tcp_dereg_mr,
	.post_recv = tcp_post_recv,
	.post_send = tcp_post_send,
	.post_write = tcp_post_write,
	.post_read = tcp_post_read,
	.batch = tcp_batch,
	.copied_bytes = tcp_copied_bytes,
	.listen = tcp_listen,
	.lst_port = tcp_lst_port,
	.lst_fd = tcp_lst_fd,
	.lst_wait = tcp_lst_wait,
	.lst_set_wait = tcp_lst_set_wait,
	.lst_deadline = tcp_lst_deadline,
	.lst_accept = tcp_lst_accept,
	.lst_reject = tcp_lst_reject,
	.lst_close = tcp_lst_close,
};
