/* SPDX-License-Identifier: MIT */
/* tcp_cm.c - TCP link set-up, connecting side: connect with hello, reply. */
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
