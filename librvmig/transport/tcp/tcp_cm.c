/* SPDX-License-Identifier: MIT */
/*
 * tcp_cm.c - TCP link set-up, connecting side: connect, hello, reply.
 *
 * All links of one call are set up at once: every socket connects without
 * blocking, each sends its hello as soon as it is connected and reads its
 * reply as it arrives, and one poll() waits for all of them, up to one
 * deadline.  One at a time, each link cost the connecting side a round trip
 * to a listener that must be scheduled to answer (bench/README.md, issue 19).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "transport/tcp/tcp.h"

enum conn_step { CS_CONNECT, CS_HELLO, CS_REPLY, CS_DONE };

static const char *const step_name[] = {
	[CS_CONNECT] = "connecting", [CS_HELLO] = "sending the hello",
	[CS_REPLY] = "waiting for the reply", [CS_DONE] = "replied",
};

/* One link being set up. */
struct conn {
	int fd;
	enum conn_step step;
	const struct addrinfo *ai; /* the address tried now; the next ones if it fails */
	int err;                   /* why the last address failed */
	uint8_t out[2 + TP_HELLO_MAX]; /* the hello frame: kind, length, data */
	size_t out_len, out_done;
	uint8_t in[2 + TP_HELLO_MAX];  /* the reply frame, as it arrives */
	size_t in_done;
	char peer[64];
};

/* Connects to c->ai or, when that fails at once, to the next addresses. */
static int conn_start(struct conn *c)
{
	for (; c->ai; c->ai = c->ai->ai_next) {
		int fd = socket(c->ai->ai_family, c->ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				c->ai->ai_protocol);

		if (fd < 0) {
			c->err = -errno;
			continue;
		}
		if (connect(fd, c->ai->ai_addr, c->ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			c->fd = fd;
			c->step = CS_CONNECT; /* writable once connected (or failed) */
			return 0;
		}
		c->err = -errno;
		close(fd);
	}
	return c->err ? c->err : -ENOENT;
}

/* The poll() events c waits for. */
static short conn_events(const struct conn *c)
{
	return c->step == CS_REPLY ? POLLIN : POLLOUT;
}

/* Reads what there is of the reply frame, never more than the frame (what
 * the peer sends after it belongs to the link). */
static int conn_read_reply(struct conn *c)
{
	for (;;) {
		size_t need = c->in_done < 2 ? 2 - c->in_done : 2u + c->in[1] - c->in_done;
		ssize_t n;

		if (!need) {
			c->step = CS_DONE;
			return 0;
		}
		n = recv(c->fd, c->in + c->in_done, need, MSG_DONTWAIT);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c->in_done += (size_t)n;
		if (c->in_done >= 2 &&
		    (c->in[0] < TCP_SETUP_HELLO || c->in[0] > TCP_SETUP_REJECT || c->in[1] > TP_HELLO_MAX))
			return -RVMIG_EBADMSG;
	}
}

/* Advances c after poll() reported its fd: as far as it goes without
 * waiting.  0, or the link's error. */
static int conn_advance(struct conn *c, uint32_t timeout_ms)
{
	if (c->step == CS_CONNECT) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el))
			err = errno;
		if (err) {
			close(c->fd);
			c->fd = -1;
			c->err = -err;
			c->ai = c->ai->ai_next;
			return c->ai ? conn_start(c) : -err;
		}
		tcp_sock_tune(c->fd, timeout_ms);
		tcp_addr_name(c->ai->ai_addr, c->peer, sizeof(c->peer));
		c->step = CS_HELLO;
	}
	while (c->step == CS_HELLO) {
		ssize_t n = send(c->fd, c->out + c->out_done, c->out_len - c->out_done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c->out_done += (size_t)n;
		if (c->out_done == c->out_len)
			c->step = CS_REPLY;
	}
	return c->step == CS_REPLY ? conn_read_reply(c) : 0;
}

/* Drives every link until all have their reply, one fails or is refused,
 * or the deadline passes.  0, or the error of link *bad. */
static int conns_run(struct conn *c, struct pollfd *pfd, uint32_t n, int64_t deadline,
		     uint32_t timeout_ms, uint32_t *bad)
{
	for (uint32_t left = n; left;) {
		int64_t wait = deadline - tp_now_ms();

		if (wait <= 0) {
			for (*bad = 0; c[*bad].step == CS_DONE; ++*bad)
				;
			return -ETIMEDOUT;
		}
		for (uint32_t i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = c[i].step == CS_DONE ? -1 : c[i].fd,
						  .events = conn_events(&c[i]) };
		if (poll(pfd, n, wait > INT32_MAX ? INT32_MAX : (int)wait) < 0 && errno != EINTR) {
			*bad = 0;
			return -errno;
		}
		for (uint32_t i = 0; i < n; i++) {
			int rc;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			rc = conn_advance(&c[i], timeout_ms);
			if (!rc && c[i].step == CS_DONE && c[i].in[0] == TCP_SETUP_REJECT)
				rc = -ECONNREFUSED; /* no use waiting for the others */
			if (rc) {
				*bad = i;
				return rc;
			}
			if (c[i].step == CS_DONE)
				left--;
		}
	}
	return 0;
}

static void conn_log_failure(struct tp_ep *ep, const struct conn *c, uint32_t link,
			     const char *host, const char *port, int rc, int timeout_ms)
{
	if (rc == -ECONNREFUSED && c->step == CS_DONE)
		return; /* refused by the peer, which said why: the engine reports it */
	if (c->step == CS_CONNECT || c->fd < 0)
		LOG_ERR(ep->ctx, "tcp", "link %u: connect to %s:%s failed: %s", link, host, port,
			rc == -ETIMEDOUT ? "no connection within the timeout" : rvmig_strerror(rc));
	else if (rc == -ETIMEDOUT)
		LOG_ERR(ep->ctx, "tcp", "link %u: handshake with %s: no reply within %d ms (%s)", link,
			c->peer, timeout_ms, step_name[c->step]);
	else
		LOG_ERR(ep->ctx, "tcp", "link %u: handshake with %s failed (%s): %s", link, c->peer,
			step_name[c->step], rvmig_strerror(rc));
}

int tcp_connect_links(struct tp_ep *ep, const char *host, const char *port, uint32_t n,
		      const void *hellos, size_t hello_len, void *replies, size_t reply_cap,
		      size_t *reply_lens, int timeout_ms, uint32_t *failed)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	uint32_t bad = 0, i, first = ep->nlinks; /* the index link 0 of the call gets */
	struct pollfd *pfd;
	struct conn *c;
	int64_t deadline;
	int rc;

	*failed = 0;
	if (timeout_ms <= 0)
		timeout_ms = (int)ep->cfg.timeout_ms;
	deadline = tp_now_ms() + timeout_ms;
	if (!n || hello_len > TP_HELLO_MAX || (hello_len && !hellos))
		return -EINVAL;
	for (i = 0; i < n; i++)
		reply_lens[i] = 0;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		LOG_ERR(ep->ctx, "tcp", "cannot resolve %s:%s: %s", host, port, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	c = calloc(n, sizeof(*c));
	pfd = calloc(n, sizeof(*pfd));
	rc = c && pfd ? 0 : -ENOMEM;
	for (i = 0; c && i < n; i++) {
		c[i] = (struct conn){ .fd = -1, .ai = res, .out_len = 2 + hello_len };
		c[i].out[0] = TCP_SETUP_HELLO;
		c[i].out[1] = (uint8_t)hello_len;
		if (hello_len)
			memcpy(c[i].out + 2, (const uint8_t *)hellos + i * hello_len, hello_len);
	}
	for (i = 0; !rc && i < n; i++) {
		rc = conn_start(&c[i]);
		bad = i;
	}
	if (!rc)
		rc = conns_run(c, pfd, n, deadline, ep->cfg.timeout_ms, &bad);
	for (i = 0; c && i < n; i++) {
		size_t len = c[i].step == CS_DONE ? c[i].in[1] : 0;

		reply_lens[i] = len < reply_cap ? len : reply_cap;
		memcpy((uint8_t *)replies + i * reply_cap, c[i].in + 2, reply_lens[i]);
		if (!rc && c[i].in[0] != TCP_SETUP_ACCEPT) {
			rc = -RVMIG_EBADMSG;
			bad = i;
		}
	}
	/* Links are added in index order, once every one of them replied. */
	for (i = 0; !rc && i < n; i++) {
		rc = tcp_ep_add_link(ep, c[i].fd, c[i].peer);
		if (rc >= 0) {
			c[i].fd = -1; /* the endpoint's now */
			rc = 0;
		} else {
			bad = i;
		}
	}
	if (rc) {
		*failed = bad;
		if (c)
			conn_log_failure(ep, &c[bad], first + bad, host, port, rc, timeout_ms);
	}
	for (i = 0; c && i < n; i++)
		if (c[i].fd >= 0)
			close(c[i].fd);
	free(c);
	free(pfd);
	freeaddrinfo(res);
	return rc;
}

int tcp_connect_link(struct tp_ep *ep, const char *host, const char *port, const void *hello,
		     size_t hello_len, void *reply, size_t *reply_len, int timeout_ms)
{
	uint32_t bad;
	int rc = tcp_connect_links(ep, host, port, 1, hello, hello_len, reply, *reply_len,
				   reply_len, timeout_ms, &bad);

	return rc < 0 ? rc : (int)ep->nlinks - 1;
}
