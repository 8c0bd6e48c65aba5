/* SPDX-License-Identifier: MIT */
/* tcp_cm.c - TCP link set-up: connect with hello, listen, accept/reject. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "transport/tcp/tcp.h"

static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	int err = 0, rc;
	socklen_t el = sizeof(err);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = tcp_wait_fd(fd, POLLOUT, timeout_ms);
	if (rc) {
		close(fd);
		return rc;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		close(fd);
		return -err;
	}
	return fd;
}

int tcp_connect_link(struct tp_ep *ep, const char *host, const char *port, const void *hello,
		     size_t hello_len, void *reply, size_t *reply_len, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char peer[64] = "";
	uint8_t kind = 0;
	int fd = -ENOENT, rc;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		LOG_ERR(ep->ctx, "tcp", "cannot resolve %s:%s: %s", host, port, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai, timeout_ms);
		if (fd >= 0) {
			tcp_addr_name(ai->ai_addr, peer, sizeof(peer));
			break;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		LOG_ERR(ep->ctx, "tcp", "connect to %s:%s failed: %s", host, port, rvmig_strerror(fd));
		return fd;
	}
	tcp_sock_tune(fd, ep->cfg.timeout_ms);
	rc = tcp_setup_send(fd, TCP_SETUP_HELLO, hello, hello_len, timeout_ms);
	if (!rc)
		rc = tcp_setup_recv(fd, &kind, reply, reply_len, timeout_ms);
	if (rc) {
		LOG_ERR(ep->ctx, "tcp", "handshake with %s failed: %s", peer, rvmig_strerror(rc));
		close(fd);
		return rc;
	}
	if (kind == TCP_SETUP_REJECT) {
		close(fd);
		return -ECONNREFUSED;
	}
	if (kind != TCP_SETUP_ACCEPT) {
		close(fd);
		return -RVMIG_EBADMSG;
	}
	rc = tcp_ep_add_link(ep, fd, peer);
	if (rc < 0)
		close(fd);
	return rc;
}

int tcp_listen(struct rvmig_ctx *ctx, const char *host, const char *port, struct tp_lst **out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res, *ai;
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
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
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
	return l->fd;
}

int tcp_lst_wait(struct tp_lst *l, int timeout_ms, struct tp_req **reqp, void *hello,
		 size_t *hello_len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct tp_req *req;
	uint8_t kind;
	int rc, fd;

	rc = tcp_wait_fd(l->fd, POLLIN, timeout_ms);
	if (rc)
		return rc;
	fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EAGAIN || errno == ECONNABORTED ? -EAGAIN : -errno;
	req = calloc(1, sizeof(*req));
	if (!req) {
		close(fd);
		return -ENOMEM;
	}
	req->lst = l;
	req->fd = fd;
	tcp_addr_name((struct sockaddr *)&ss, req->peer, sizeof(req->peer));
	/* A peer that connects but never says hello must not block us long. */
	rc = tcp_setup_recv(fd, &kind, hello, hello_len, 5000);
	if (rc || kind != TCP_SETUP_HELLO) {
		LOG_WARN(l->ctx, "tcp", "dropping connection from %s: no valid hello (%s)", req->peer,
			 rvmig_strerror(rc ? rc : -RVMIG_EBADMSG));
		close(fd);
		free(req);
		return -EAGAIN;
	}
	*reqp = req;
	return 0;
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
	close(l->fd);
	free(l);
}
