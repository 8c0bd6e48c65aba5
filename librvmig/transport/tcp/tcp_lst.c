/* SPDX-License-Identifier: MIT */
/*
 * tcp_lst.c - TCP link set-up, listening side: listen, collect hellos,
 * accept/reject.
 *
 * Accepted sockets wait in a pending set until their hello frame is whole
 * (read without blocking, as bytes arrive) or the hello wait passes (the
 * listener's auth_timeout_ms, set through lst_set_wait; TCP_HELLO_WAIT_MS
 * until then).  So a peer that connects and never speaks costs one slot for
 * that long but never holds rvmig_accept() (or a server's poll loop): other
 * peers' hellos are handled meanwhile.  The listener's pollable fd is an
 * epoll set of the listening socket and the pending ones; it says nothing
 * when a deadline passes, so the caller keeps tcp_lst_deadline() in its own
 * timer (the proto listener's timer fd).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "transport/tcp/tcp.h"

#define TCP_HELLO_WAIT_MS 5000 /* a connected peer's hello must come within, by default */

int tcp_listen(struct rvmig_ctx *ctx, const char *host, const char *port, struct tp_lst **out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res, *ai;
	struct epoll_event ev = { .events = EPOLLIN };
	struct tp_lst *l;
	int fd = -1, rc, one = 1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	rc = getaddrinfo(host && *host ? host : NULL, port, &hints, &res);
	if (rc) {
		LOG_ERR(ctx, "tcp", "cannot resolve listen address %s:%s: %s", host, port,
			gai_strerror(rc));
		return -EADDRNOTAVAIL;
	}
	rc = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		rc = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		LOG_ERR(ctx, "tcp", "cannot listen on %s:%s: %s", host, port, rvmig_strerror(rc));
		return rc;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	l->ctx = ctx;
	l->fd = fd;
	l->hello_wait_ms = TCP_HELLO_WAIT_MS;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = fd;
	if (l->epfd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		rc = -errno;
		LOG_ERR(ctx, "tcp", "cannot set up the listener's epoll set: %s", strerror(-rc));
		if (l->epfd >= 0)
			close(l->epfd);
		close(fd);
		free(l);
		return rc;
	}
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	l->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	*out = l;
	return 0;
}

int tcp_lst_port(struct tp_lst *l)
{
	return l->port;
}

int tcp_lst_fd(struct tp_lst *l)
{
	return l->epfd;
}

void tcp_lst_set_wait(struct tp_lst *l, int ms)
{
	l->hello_wait_ms = ms;
}

int64_t tcp_lst_deadline(struct tp_lst *l)
{
	int64_t next = INT64_MAX;

	for (unsigned i = 0; i < l->npend; i++)
		if (l->pend[i].deadline < next)
			next = l->pend[i].deadline;
	return next;
}

static void pending_drop(struct tp_lst *l, unsigned i, const char *why)
{
	struct tcp_pending *p = &l->pend[i];

	log_refusal(l->ctx, "tcp", "dropping connection from %s: %s", p->peer, why);
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, p->fd, NULL);
	close(p->fd);
	l->pend[i] = l->pend[--l->npend];
}

/* Takes every connection waiting in the backlog into the pending set; when
 * it is full, the oldest pending peer makes room.  Returns 0, or -errno when
 * accept() fails for another reason than an empty backlog (e.g. EMFILE). */
static int accept_new(struct tp_lst *l)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct tcp_pending *p;
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				return 0;
			LOG_ERR(l->ctx, "tcp", "accept on port %d: %s", l->port, strerror(errno));
			return -errno;
		}
		if (l->npend == TCP_PENDING_MAX) {
			unsigned oldest = 0;

			for (unsigned i = 1; i < l->npend; i++)
				if (l->pend[i].deadline < l->pend[oldest].deadline)
					oldest = i;
			pending_drop(l, oldest, "no hello yet and more peers are waiting");
		}
		p = &l->pend[l->npend];
		memset(p, 0, sizeof(*p));
		p->fd = fd;
		p->deadline = tp_now_ms() + l->hello_wait_ms;
		tcp_addr_name((struct sockaddr *)&ss, p->peer, sizeof(p->peer));
		ev.data.fd = fd;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			LOG_WARN(l->ctx, "tcp", "dropping connection from %s: epoll: %s", p->peer,
				 strerror(errno));
			close(fd);
			continue;
		}
		l->npend++;
	}
}

/* Reads what pending peer i has sent.  Returns 1 when its hello frame is
 * whole, 0 while it is not, -1 when the peer was dropped. */
static int pending_read(struct tp_lst *l, unsigned i)
{
	struct tcp_pending *p = &l->pend[i];
	char why[96];

	for (;;) {
		size_t want = p->got < 2 ? 2 - p->got : (size_t)2 + p->buf[1] - p->got;
		ssize_t n;

		if (p->got >= 2) {
			if (p->buf[0] != TCP_SETUP_HELLO || p->buf[1] > TP_HELLO_MAX) {
				snprintf(why, sizeof(why), "no valid hello (frame kind %u, length %u)",
					 p->buf[0], p->buf[1]);
				pending_drop(l, i, why);
				return -1;
			}
			if (!want)
				return 1;
		}
		n = recv(p->fd, p->buf + p->got, want, MSG_DONTWAIT);
		if (n > 0) {
			p->got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		snprintf(why, sizeof(why), "closed before its hello was complete (%zu bytes): %s",
			 p->got, n ? strerror(errno) : "end of stream");
		pending_drop(l, i, why);
		return -1;
	}
}

/* Drops the pending peers whose deadline has passed and whose hello is not
 * whole with what they sent until now.  All of them, before any hello is
 * handed on: tcp_lst_wait() returns at the first whole hello, and peers
 * further on in the set must not outlive their deadline meanwhile. */
static void pending_expire(struct tp_lst *l, int64_t now)
{
	for (unsigned i = 0; i < l->npend;) {
		struct tcp_pending *p = &l->pend[i];
		char why[96];
		int rc;

		if (now < p->deadline) {
			i++;
			continue;
		}
		rc = pending_read(l, i);
		if (rc < 0)
			continue; /* slot i now holds another peer */
		if (rc > 0) {
			i++;
			continue;
		}
		snprintf(why, sizeof(why), "no hello within %d ms (%zu bytes came)",
			 l->hello_wait_ms, p->got);
		pending_drop(l, i, why);
	}
}

int tcp_lst_wait(struct tp_lst *l, int timeout_ms, struct tp_req **reqp, void *hello,
		 size_t *hello_len)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : tp_now_ms() + timeout_ms;

	for (;;) {
		struct epoll_event evs[16];
		int64_t now, next = deadline;
		int wait, n, rc;

		if ((rc = accept_new(l)))
			return rc;
		now = tp_now_ms();
		pending_expire(l, now);
		for (unsigned i = 0; i < l->npend;) {
			struct tcp_pending *p = &l->pend[i];
			struct tp_req *req;

			rc = pending_read(l, i);
			if (rc < 0)
				continue; /* slot i now holds another peer */
			if (rc == 0) {
				if (p->deadline < next)
					next = p->deadline;
				i++;
				continue;
			}
			req = calloc(1, sizeof(*req));
			if (!req) {
				pending_drop(l, i, "out of memory");
				return -ENOMEM;
			}
			req->lst = l;
			req->fd = p->fd;
			memcpy(req->peer, p->peer, sizeof(req->peer));
			memcpy(hello, p->buf + 2, p->buf[1]);
			*hello_len = p->buf[1];
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, p->fd, NULL);
			l->pend[i] = l->pend[--l->npend];
			*reqp = req;
			return 0;
		}
		if (now >= deadline)
			return -ETIMEDOUT;
		wait = next - now > 60000 ? 60000 : (int)(next - now);
		n = epoll_wait(l->epfd, evs, 16, timeout_ms < 0 && next == INT64_MAX ? -1 : wait);
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int tcp_lst_accept(struct tp_req *req, struct tp_ep *ep, const void *reply, size_t reply_len)
{
	int rc, fd = req->fd;

	tcp_sock_tune(fd, ep->cfg.timeout_ms);
	/* Receive buffers are posted (link_init) before the peer learns it may send. */
	rc = tcp_ep_add_link(ep, fd, req->peer);
	if (rc >= 0) {
		int w = tcp_setup_send(fd, TCP_SETUP_ACCEPT, reply, reply_len, 5000);

		if (w) {
			tcp_link_fail(ep, (uint32_t)rc, w, "sending accept");
			rc = w;
		}
	} else {
		close(fd);
	}
	free(req);
	return rc;
}

void tcp_lst_reject(struct tp_req *req, const void *reply, size_t reply_len)
{
	tcp_setup_send(req->fd, TCP_SETUP_REJECT, reply, reply_len, 1000);
	close(req->fd);
	free(req);
}

void tcp_lst_close(struct tp_lst *l)
{
	if (!l)
		return;
	while (l->npend) {
		close(l->pend[l->npend - 1].fd);
		l->npend--;
	}
	close(l->epfd);
	close(l->fd);
	free(l);
}
