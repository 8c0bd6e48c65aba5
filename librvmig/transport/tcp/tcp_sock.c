/* SPDX-License-Identifier: MIT */
/* Blocking-with-timeout socket helpers used only during link set-up. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/tcp/tcp.h"

int tcp_wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int rc;

	do {
		rc = poll(&p, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	return 0;
}

/* Sends (out) or receives all len bytes, waiting up to timeout_ms whenever
 * the socket is not ready; a receive that meets the end: -ECONNRESET. */
static int io_full(int fd, uint8_t *p, size_t len, int timeout_ms, bool out)
{
	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT)
				: recv(fd, p, len, MSG_DONTWAIT);

		if (n == 0 && !out)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				int rc = tcp_wait_fd(fd, out ? POLLOUT : POLLIN, timeout_ms);

				if (rc)
					return rc;
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tcp_write_full(int fd, const void *buf, size_t len, int timeout_ms)
{
	return io_full(fd, (uint8_t *)(uintptr_t)buf, len, timeout_ms, true); /* only read */
}

int tcp_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	return io_full(fd, buf, len, timeout_ms, false);
}

int tcp_setup_send(int fd, uint8_t kind, const void *data, size_t len, int timeout_ms)
{
	struct tcp_setup s = { .kind = kind, .len = (uint8_t)len };

	if (len > TP_HELLO_MAX)
		return -EINVAL;
	memcpy(s.data, data, len);
	return tcp_write_full(fd, &s, 2 + len, timeout_ms);
}

/* *len: in, the room at data; out, the frame's length.  A frame longer than
 * the room is refused before its body is read. */
int tcp_setup_recv(int fd, uint8_t *kind, void *data, size_t *len, int timeout_ms)
{
	uint8_t h[2];
	int rc = tcp_read_full(fd, h, 2, timeout_ms);

	if (rc)
		return rc;
	if (h[0] < TCP_SETUP_HELLO || h[0] > TCP_SETUP_REJECT || h[1] > TP_HELLO_MAX || h[1] > *len)
		return -RVMIG_EBADMSG;
	rc = tcp_read_full(fd, data, h[1], timeout_ms);
	if (rc)
		return rc;
	*kind = h[0];
	*len = h[1];
	return 0;
}

void tcp_sock_tune(int fd, uint32_t timeout_ms)
{
	int one = 1;
	unsigned int uto = timeout_ms;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	/* Unacknowledged data older than the timeout fails the connection. */
	if (uto)
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

void tcp_addr_name(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%d", host, port);
	} else {
		snprintf(buf, len, "?");
	}
}
