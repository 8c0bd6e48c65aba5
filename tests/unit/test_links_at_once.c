/* SPDX-License-Identifier: MIT */
/*
 * The client's links are set up at once (librvmig/proto/links.c,
 * transport/tcp/tcp_cm.c): over TCP, every link's hello is sent before any
 * reply has come.  Against a scripted peer on loopback (plain sockets
 * speaking the TCP set-up frames, white-box), which reads the hellos of all
 * links before it answers any:
 *  - a refusal of all of them comes back as the peer's reason (one link at a
 *    time, the client waited for link 0's reply that never came: timeout);
 *  - a peer that answers every link but the last fails the connection at
 *    the client's deadline, and the error names that link and the peer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "logkeep.h"
#include "proto/wire.h"
#include "transport/tcp/tcp.h"

#define NLINKS 4
#define SILENT_LINK 3

enum script { REJECT_ALL, ALL_BUT_LAST };

struct peer {
	enum script script;
	int lfd, port;
	int fds[NLINKS];
	unsigned idx_seen;   /* bit per link_idx of the hellos read */
	bool one_session;    /* all hellos named the same session */
	int nhellos;         /* hellos read before the first answer */
};

static int read_full(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = recv(fd, (uint8_t *)buf + got, len - got, 0);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void answer(int fd, uint8_t kind, const struct wire_hello *req)
{
	uint8_t frame[2 + sizeof(struct wire_hello)] = { kind, sizeof(struct wire_hello) };
	struct wire_hello r = *req;

	r.kind = kind == TCP_SETUP_REJECT ? HELLO_REJECT : HELLO_ACCEPT;
	r.status = kind == TCP_SETUP_REJECT ? RVMIG_ECONNLIMIT : 0;
	r.caps = kind == TCP_SETUP_REJECT ? 7 : r.caps;
	wire_hello_enc(&r);
	memcpy(frame + 2, &r, sizeof(r));
	/* no assertion on this thread; a client gone after the first refusal
	 * makes the others fail, which is fine */
	(void)send(fd, frame, sizeof(frame), MSG_NOSIGNAL);
}

/* Reads the hellos of all NLINKS links (each within 10 s), then answers
 * them as scripted and waits for the client to close (at most 10 s). */
static void *peer_run(void *arg)
{
	struct peer *p = arg;
	struct wire_hello h[NLINKS];
	struct timeval tv = { .tv_sec = 10 };
	uint64_t session = 0;

	p->one_session = true;
	for (int i = 0; i < NLINKS; i++) {
		struct pollfd pfd = { .fd = p->lfd, .events = POLLIN };
		uint8_t hdr[2];

		p->fds[i] = -1;
		if (poll(&pfd, 1, 10000) != 1)
			return NULL;
		p->fds[i] = accept(p->lfd, NULL, NULL);
		if (p->fds[i] < 0)
			return NULL;
		setsockopt(p->fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (read_full(p->fds[i], hdr, 2) || hdr[0] != TCP_SETUP_HELLO ||
		    hdr[1] != sizeof(h[i]) || read_full(p->fds[i], &h[i], sizeof(h[i])) ||
		    wire_hello_dec(&h[i], sizeof(h[i])) || h[i].link_idx >= NLINKS)
			return NULL;
		p->idx_seen |= 1u << h[i].link_idx;
		if (i && h[i].session != session)
			p->one_session = false;
		session = h[i].session;
		p->nhellos++;
	}
	for (int i = 0; i < NLINKS; i++) {
		if (p->script == REJECT_ALL)
			answer(p->fds[i], TCP_SETUP_REJECT, &h[i]);
		else if (h[i].link_idx != SILENT_LINK)
			answer(p->fds[i], TCP_SETUP_ACCEPT, &h[i]);
	}
	for (int i = 0; i < NLINKS; i++) {
		char sink[256];

		while (recv(p->fds[i], sink, sizeof(sink), 0) > 0)
			;
	}
	return NULL;
}

static void peer_start(struct peer *p, enum script script, pthread_t *th)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	memset(p, 0, sizeof(*p));
	p->script = script;
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(p->lfd, 0);
	cr_assert_eq(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(p->lfd, 16), 0);
	cr_assert_eq(getsockname(p->lfd, (struct sockaddr *)&a, &al), 0);
	p->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(th, NULL, peer_run, p), 0);
}

static void peer_end(struct peer *p, pthread_t th)
{
	pthread_join(th, NULL);
	for (int i = 0; i < NLINKS; i++)
		if (p->fds[i] >= 0)
			close(p->fds[i]);
	close(p->lfd);
}

static int connect_to(const struct peer *p, rvmig_ctx **ctx, rvmig_ep **ep)
{
	struct rvmig_ctx_attr ca = { .size = sizeof(ca),
				     .logger = { .fn = log_keep, .max_level = RVMIG_LOG_ERROR } };
	struct rvmig_ep_attr a = { .size = sizeof(a), .nlinks = NLINKS, .timeout_ms = 3000 };
	char uri[64];

	logged[0] = 0;
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(rvmig_ctx_create(&ca, ctx), 0);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", p->port);
	return rvmig_connect(*ctx, uri, &a, ep);
}

Test(links_at_once, every_hello_leaves_before_any_reply, .timeout = 60)
{
	struct peer p;
	pthread_t th;
	rvmig_ctx *ctx;
	rvmig_ep *ep = NULL;
	int rc;

	peer_start(&p, REJECT_ALL, &th);
	rc = connect_to(&p, &ctx, &ep);
	peer_end(&p, th);
	cr_assert_eq(p.nhellos, NLINKS, "the peer got %d hellos before answering (log: %s)",
		     p.nhellos, logged);
	cr_assert_eq(p.idx_seen, (1u << NLINKS) - 1, "links named %#x", p.idx_seen);
	cr_assert(p.one_session, "the links named different sessions");
	cr_assert_eq(rc, -RVMIG_ECONNLIMIT, "connect: %s (log: %s)", rvmig_strerror(rc), logged);
	cr_assert(strstr(logged, "refused the connection") && strstr(logged, "limit 7"),
		  "the refusal's reason is not in the log: %s", logged);
	cr_assert_null(ep);
	rvmig_ctx_destroy(ctx);
}

Test(links_at_once, silent_link_fails_at_the_deadline_named, .timeout = 60)
{
	char want_link[32], want_peer[64];
	struct peer p;
	pthread_t th;
	rvmig_ctx *ctx;
	rvmig_ep *ep = NULL;
	int rc;

	peer_start(&p, ALL_BUT_LAST, &th);
	rc = connect_to(&p, &ctx, &ep);
	peer_end(&p, th); /* the client closed its links when it failed */
	rvmig_ctx_destroy(ctx);
	cr_assert_eq(p.nhellos, NLINKS);
	cr_assert_eq(rc, -ETIMEDOUT, "connect: %s (log: %s)", rvmig_strerror(rc), logged);
	cr_assert_null(ep);
	snprintf(want_link, sizeof(want_link), "link %d", SILENT_LINK);
	snprintf(want_peer, sizeof(want_peer), "127.0.0.1:%d", p.port);
	cr_assert(strstr(logged, want_link) && strstr(logged, want_peer),
		  "the error does not name %s and %s: %s", want_link, want_peer, logged);
}
