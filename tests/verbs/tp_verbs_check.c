/* SPDX-License-Identifier: MIT */
/*
 * tp_verbs_check - exercises every op of the verbs transport provider
 * (librvmig/transport/verbs) on a real RDMA device (soft-RoCE in the VM).
 *
 *   tp_verbs_check [--addr A] [--mib N] [--timeout-ms T] [--cut CMD] [-v]
 *
 * Forks a server (child) and runs the client in the parent, both on address A
 * (default $RVMIG_RXE_ADDR, else 10.77.0.1).  Checked, in order:
 *   listener: lst_wait timeout, connect to a closed port (refused, no reason),
 *   a rejected link (reason delivered exactly), two accepted links on one
 *   endpoint (hello and reply exact), an unreachable address (bounded error);
 *   data: SEND/RECV of a region descriptor, -EAGAIN at sq_depth and exactly one
 *   completion per op, WRITE then SEND ordering (server checks the data when
 *   the SEND lands), READ, N MiB WRITE and READ in 1 MiB chunks (throughput
 *   printed, data verified), WRITE into a read-only region (-RVMIG_EACCESS,
 *   the link's RECVs flushed on both sides, later posts refused), disconnect
 *   by ep_destroy (server's RECVs flushed), and peer death: the server is
 *   SIGKILLed during a WRITE stream and every outstanding op must complete,
 *   with an error, within the configured timeout.  With --cut CMD the server
 *   is not killed: CMD (e.g. a tc netem 100% loss rule) silences it, and the
 *   first error must be -RVMIG_ETIMEDOUT (ACK timeout x retries), in time.
 * Prints "ok"/"not ok" lines; exit status 0 only when every check passed.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "transport/transport.h"

#define MIB (1024u * 1024u)
#define CHUNK MIB
#define SQ_DEPTH 16
#define RQ_DEPTH 16
#define NRECV 8
#define NRECV1 4
#define RO_LEN 4096

enum { M_INFO = 1, M_VERIFY, M_FILL, M_RESULT, M_BYE };

struct msg {
	uint32_t type;
	uint32_t status;
	uint64_t addr;
	uint64_t off;
	uint64_t len;
	uint64_t seed;
	uint64_t ro_addr;
	uint32_t rkey;
	uint32_t ro_rkey;
};

static const struct rvmig_tp_ops *tp = &rvmig_tp_verbs;
static const char *role = "client";
static const char *addr = "10.77.0.1";
static unsigned mib = 64;
static int timeout_ms = 4000;
static int verbose;
static const char *cut_cmd; /* cuts the network instead of killing the server */
static int failures;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = snprintf(line, sizeof(line), "%s %s - ", ok ? "ok" : "not ok", role);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	printf("%s\n", line); /* one write per line: both processes share stdout */
	fflush(stdout);
	if (!ok)
		failures++;
}

#define REQUIRE(cond, ...)                                                        \
	do {                                                                      \
		int ok_ = !!(cond);                                               \
		check(ok_, __VA_ARGS__);                                          \
		if (!ok_) {                                                       \
			printf("# %s: giving up at %s:%d\n", role, __FILE__, __LINE__); \
			exit(1);                                                  \
		}                                                                 \
	} while (0)

static void logger(void *arg, enum rvmig_log_level lvl, const char *sub, const char *fmt,
		   va_list ap)
{
	char line[512];

	(void)arg;
	vsnprintf(line, sizeof(line), fmt, ap);
	printf("# %s rvmig[%s] %d: %s\n", role, sub, (int)lvl, line);
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_alarm(int sig)
{
	static const char m[] = "not ok - watchdog: test hung, killed by SIGALRM\n";

	(void)sig;
	if (write(1, m, sizeof(m) - 1) < 0)
		_exit(3);
	_exit(3);
}

static uint64_t pat(uint64_t seed, uint64_t i)
{
	return (seed << 40) ^ (i * 0x9E3779B97F4A7C15ULL) ^ (i >> 7);
}

static void fill(void *buf, uint64_t len, uint64_t seed)
{
	uint64_t *w = buf;

	for (uint64_t i = 0; i < len / 8; i++)
		w[i] = pat(seed, i);
}

static int verify(const void *buf, uint64_t len, uint64_t seed)
{
	const uint64_t *w = buf;

	for (uint64_t i = 0; i < len / 8; i++)
		if (w[i] != pat(seed, i))
			return 0;
	return 1;
}

/* Completions reaped while waiting to post a SEND, handed out first later. */
static struct tp_cqe stash[64];
static int nstash;

/* Collects at least `least` and at most `want` completions (fewer on timeout
 * or error), sleeping on ep_fd after arm + poll. */
static int wait_cqes2(struct tp_ep *ep, struct tp_cqe *out, int least, int want, int tmo_ms,
		      int *err)
{
	double end = now_s() + tmo_ms / 1000.0;
	int got = 0, n;

	*err = 0;
	while (got < want && nstash) {
		out[got++] = stash[0];
		memmove(stash, stash + 1, --nstash * sizeof(stash[0]));
	}
	while (got < least) {
		struct pollfd pfd = { .fd = tp->ep_fd(ep), .events = POLLIN };
		double left;

		n = tp->poll(ep, out + got, want - got);
		if (n < 0) {
			*err = n;
			return got;
		}
		got += n;
		if (got >= least || n > 0)
			continue;
		if (tp->arm(ep)) {
			*err = -EIO;
			return got;
		}
		n = tp->poll(ep, out + got, want - got);
		if (n < 0) {
			*err = n;
			return got;
		}
		if (n > 0) {
			got += n;
			continue;
		}
		left = end - now_s();
		if (left <= 0)
			break;
		poll(&pfd, 1, (int)(left * 1000) + 1);
	}
	return got;
}

static int wait_cqes(struct tp_ep *ep, struct tp_cqe *out, int want, int tmo_ms, int *err)
{
	return wait_cqes2(ep, out, want, want, tmo_ms, err);
}

/* ---- control messages ---- */

struct ctl {
	struct msg rx[2][NRECV];
	struct msg tx[SQ_DEPTH];
	struct tp_mr mr;
	unsigned txi;
	unsigned init_calls;
};

static uint64_t rx_wrid(uint32_t link, unsigned slot)
{
	return 0x52580000ULL | (link << 8) | slot; /* "RX" */
}

static int post_rx(struct tp_ep *ep, struct ctl *c, uint32_t link, unsigned slot)
{
	return tp->post_recv(ep, link, &c->rx[link][slot], sizeof(struct msg), &c->mr,
			     rx_wrid(link, slot));
}

/* Posts a SEND; while the send queue is full (-EAGAIN) keeps polling,
 * stashing what completes, for up to 30 s.  *held says whether it had to. */
static int post_tx_held(struct tp_ep *ep, struct ctl *c, uint32_t link, const struct msg *m,
			uint64_t wr_id, int *held)
{
	struct msg *t = &c->tx[c->txi++ % SQ_DEPTH];
	double end = now_s() + 30;
	int rc, err;

	*t = *m;
	*held = 0;
	while ((rc = tp->post_send(ep, link, t, sizeof(*t), &c->mr, wr_id)) == -EAGAIN &&
	       now_s() < end && nstash < 48) {
		*held = 1;
		nstash += wait_cqes2(ep, stash + nstash, 1, 16, 100, &err);
		if (err)
			return err;
	}
	return rc;
}

static int post_tx(struct tp_ep *ep, struct ctl *c, uint32_t link, const struct msg *m,
		   uint64_t wr_id)
{
	int held;

	return post_tx_held(ep, c, link, m, wr_id, &held);
}

/* tp_ep_cfg.link_init: registers the control buffers on first use (the
 * device is known by then) and posts the link's RECVs before it connects. */
static int link_init(void *arg, struct tp_ep *ep, uint32_t link)
{
	struct ctl *c = arg;
	int rc;

	if (link > 1)
		return -EINVAL;
	if (!c->mr.priv) {
		rc = tp->reg_mr(ep, c, sizeof(*c), TP_ACCESS_LOCAL_WRITE, &c->mr);
		if (rc)
			return rc;
	}
	for (unsigned s = 0; s < (link ? NRECV1 : NRECV); s++) {
		rc = post_rx(ep, c, link, s);
		if (rc)
			return rc;
	}
	c->init_calls++;
	return 0;
}

static struct tp_ep *make_ep(struct rvmig_ctx *ctx, struct ctl *c)
{
	struct tp_ep_cfg cfg = { .sq_depth = SQ_DEPTH, .rq_depth = RQ_DEPTH,
				 .max_rd_atomic = 16, .timeout_ms = (uint32_t)timeout_ms,
				 .link_init = c ? link_init : NULL, .link_init_arg = c };
	struct tp_ep *ep = NULL;
	int rc = tp->ep_create(ctx, &cfg, &ep);

	REQUIRE(rc == 0 && ep, "ep_create: %d", rc);
	return ep;
}

/* ================================ server ================================ */

static void srv_reply(struct tp_ep *ep, struct ctl *c, uint32_t link, uint32_t status)
{
	struct msg m = { .type = M_RESULT, .status = status };
	int rc = post_tx(ep, c, link, &m, 0x5458);

	check(rc == 0, "post_send RESULT on link %u: %d", link, rc);
}

/* Phase 1: two links, serve VERIFY/FILL until BYE, then expect every RECV
 * still posted to be flushed with an error once the client goes away. */
static int srv_phase1(struct rvmig_ctx *ctx, struct tp_lst *lst)
{
	char hello[TP_HELLO_MAX];
	size_t hlen = 0;
	struct tp_req *req;
	struct tp_ep *ep;
	struct ctl *c = calloc(1, sizeof(*c));
	struct tp_mr big, ro;
	uint64_t big_len = (uint64_t)mib * MIB;
	void *buf = NULL, *robuf = NULL;
	unsigned posted[2] = { 0, 0 }, flushed[2] = { 0, 0 }, ok_after_err = 0;
	int bye = 0, rc, err, f0 = failures;

	/* rejected request */
	rc = tp->lst_wait(lst, 120000, &req, hello, &hlen);
	REQUIRE(rc == 0, "lst_wait (1st request): %d", rc);
	check(hlen >= 9 && !memcmp(hello, "reject-me", 9), "hello of rejected request (%zu bytes)",
	      hlen);
	tp->lst_reject(req, "go away", 7);

	ep = make_ep(ctx, c); /* link_init posts each link's RECVs before it connects */
	for (uint32_t i = 0; i < 2; i++) {
		char want[16], reply[16];

		snprintf(want, sizeof(want), "hello-%u", i);
		snprintf(reply, sizeof(reply), "welcome-%u", i);
		rc = tp->lst_wait(lst, 120000, &req, hello, &hlen);
		REQUIRE(rc == 0, "lst_wait (link %u): %d", i, rc);
		check(hlen >= strlen(want) && hlen <= TP_HELLO_MAX &&
			      !memcmp(hello, want, strlen(want) + 1),
		      "hello '%s' received (%zu bytes incl. padding)", want, hlen);
		rc = tp->lst_accept(req, ep, reply, strlen(reply));
		REQUIRE(rc == (int)i, "lst_accept -> link %d (want %u)", rc, i);
		posted[i] = i ? NRECV1 : NRECV;
	}
	check(c->init_calls == 2, "link_init called once per accepted link (%u)", c->init_calls);
	check(strchr(tp->peer_name(ep), ':') && tp->peer_name(ep)[0] != '(',
	      "server peer_name %s", tp->peer_name(ep));

	REQUIRE(posix_memalign(&buf, 4096, big_len) == 0, "alloc %u MiB", mib);
	REQUIRE(posix_memalign(&robuf, 4096, RO_LEN) == 0, "alloc ro");
	memset(buf, 0, big_len);
	rc = tp->reg_mr(ep, buf, big_len, TP_ACCESS_REMOTE_READ | TP_ACCESS_REMOTE_WRITE, &big);
	REQUIRE(rc == 0, "reg_mr %u MiB remote read+write: %d", mib, rc);
	rc = tp->reg_mr(ep, robuf, RO_LEN, TP_ACCESS_REMOTE_READ, &ro);
	REQUIRE(rc == 0, "reg_mr read-only region: %d", rc);
	{
		struct msg m = { .type = M_INFO, .addr = (uintptr_t)buf, .len = big_len,
				 .rkey = big.rkey, .ro_addr = (uintptr_t)robuf,
				 .ro_rkey = ro.rkey };

		REQUIRE(post_tx(ep, c, 0, &m, 0x5458) == 0, "post_send INFO");
	}

	while (!bye || posted[0] || posted[1]) {
		struct tp_cqe cq[8];
		int n = wait_cqes2(ep, cq, 1, 8, 120000, &err);

		if (n == 0 && err) {
			/* a link failure no completion carried; keep draining */
			if (verbose)
				printf("# server: poll -> %d\n", err);
			continue;
		}
		if (n == 0) {
			check(0, "server: no completion for 120 s (bye %d, posted %u/%u)", bye,
			      posted[0], posted[1]);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct tp_cqe *e = &cq[i];
			struct msg *m;
			unsigned slot = e->wr_id & 0xff;

			if (e->op == TP_OP_SEND) {
				if (e->status)
					check(0, "server SEND completion status %d", e->status);
				continue;
			}
			if (e->op != TP_OP_RECV || e->link > 1 || e->wr_id != rx_wrid(e->link, slot)) {
				check(0, "unexpected completion op %d link %u wr_id %" PRIx64,
				      e->op, e->link, e->wr_id);
				continue;
			}
			posted[e->link]--;
			if (e->status) {
				flushed[e->link]++;
				continue;
			}
			if (flushed[e->link])
				ok_after_err++;
			m = &c->rx[e->link][slot];
			if (e->len != sizeof(*m)) {
				check(0, "RECV len %u, want %zu", e->len, sizeof(*m));
				continue;
			}
			switch (m->type) {
			case M_VERIFY:
				srv_reply(ep, c, e->link,
					  m->off + m->len <= big_len &&
						  verify((char *)buf + m->off, m->len, m->seed) ? 0 : 1);
				break;
			case M_FILL:
				if (m->off + m->len <= big_len)
					fill((char *)buf + m->off, m->len, m->seed);
				srv_reply(ep, c, e->link, 0);
				break;
			case M_BYE:
				bye = 1;
				break;
			default:
				check(0, "unknown message type %u", m->type);
			}
			if (!bye) {
				rc = post_rx(ep, c, e->link, slot);
				check(rc == 0, "re-post RECV link %u: %d", e->link, rc);
				if (!rc)
					posted[e->link]++;
			}
		}
	}
	check(flushed[1] == NRECV1, "link 1 (after the client's access error): %u of %u RECVs "
	      "flushed with an error", flushed[1], NRECV1);
	check(flushed[0] == NRECV - 1, "link 0 (after the client's ep_destroy): %u of %u RECVs "
	      "flushed with an error", flushed[0], NRECV - 1);
	check(ok_after_err == 0, "no successful RECV after a flush on the same link");
	rc = tp->post_recv(ep, 0, &c->rx[0][0], sizeof(struct msg), &c->mr, 1);
	check(rc < 0, "post_recv on a dead link refused: %d", rc);

	check(tp->dereg_mr(ep, &big) == 0, "dereg_mr big");
	check(tp->dereg_mr(ep, &ro) == 0, "dereg_mr ro");
	check(tp->dereg_mr(ep, &c->mr) == 0, "dereg_mr control");
	tp->ep_destroy(ep);
	free(buf);
	free(robuf);
	free(c);
	return failures == f0 ? 0 : 1;
}

/* Phase 2: one link; stays up until the client kills this process. */
static void srv_phase2(struct rvmig_ctx *ctx, struct tp_lst *lst)
{
	char hello[TP_HELLO_MAX];
	size_t hlen;
	struct tp_req *req;
	struct ctl *c = calloc(1, sizeof(*c));
	struct tp_ep *ep = make_ep(ctx, c);
	struct tp_mr big;
	uint64_t len = 16 * MIB;
	void *buf = NULL;
	int rc;

	int held;

	rc = tp->lst_wait(lst, 60000, &req, hello, &hlen);
	REQUIRE(rc == 0, "lst_wait (phase 2): %d", rc);
	rc = tp->lst_accept(req, ep, "ready", 5);
	REQUIRE(rc == 0, "lst_accept phase 2: %d", rc);
	REQUIRE(posix_memalign(&buf, 4096, len) == 0, "alloc");
	REQUIRE(tp->reg_mr(ep, buf, len, TP_ACCESS_REMOTE_WRITE, &big) == 0, "reg_mr");
	{
		struct msg m = { .type = M_INFO, .addr = (uintptr_t)buf, .len = len,
				 .rkey = big.rkey };

		/* sent at once: the client's RECVs were posted by its
		 * link_init before it connected (it sleeps a second now) */
		rc = post_tx_held(ep, c, 0, &m, 1, &held);
		REQUIRE(rc == 0 && !held, "post_send INFO (held %d)", held);
		REQUIRE(post_tx(ep, c, 0, &m, 2) == 0, "post_send INFO 2");
	}
	for (;;) { /* until SIGKILL */
		struct tp_cqe cq[8];
		int err;

		wait_cqes2(ep, cq, 1, 8, 1000, &err);
	}
}

static int server(int sync_fd, int res_fd)
{
	struct rvmig_ctx *ctx;
	struct rvmig_ctx_attr a = { .size = sizeof(a),
				    .logger = { logger, NULL, verbose ? RVMIG_LOG_DEBUG
								      : RVMIG_LOG_INFO } };
	struct tp_lst *lst;
	struct tp_req *req;
	char hello[TP_HELLO_MAX];
	size_t hlen;
	double t0;
	int rc, port;
	char verdict;

	role = "server";
	REQUIRE(rvmig_ctx_create(&a, &ctx) == 0, "ctx");
	rc = tp->listen(ctx, addr, "0", &lst);
	REQUIRE(rc == 0, "listen on %s: %d", addr, rc);
	port = tp->lst_port(lst);
	check(port > 0 && port < 65536, "lst_port %d", port);
	check(tp->lst_fd(lst) >= 0, "lst_fd");
	t0 = now_s();
	rc = tp->lst_wait(lst, 300, &req, hello, &hlen);
	check(rc == -ETIMEDOUT && now_s() - t0 >= 0.29 && now_s() - t0 < 2.0,
	      "lst_wait with no request: %d after %.2f s", rc, now_s() - t0);
	REQUIRE(write(sync_fd, &port, sizeof(port)) == sizeof(port), "sync");
	close(sync_fd);

	verdict = srv_phase1(ctx, lst) ? 'F' : 'P';
	REQUIRE(write(res_fd, &verdict, 1) == 1, "report");
	close(res_fd);
	srv_phase2(ctx, lst);
	return 0;
}

/* ================================ client ================================ */

struct cli {
	struct tp_ep *ep;
	struct ctl *c;
	struct msg info;
	struct tp_mr src;
	char *sbuf;
};

/* Next completion, sleeping at most tmo_ms. */
static int next_cqe(struct tp_ep *ep, struct tp_cqe *e, int tmo_ms)
{
	int err = 0;
	int n = wait_cqes(ep, e, 1, tmo_ms, &err);

	return n == 1 ? 0 : (err ? err : -ETIMEDOUT);
}

/* Sends a request on link 0 and waits for its SEND completion and the RESULT. */
static int rpc(struct cli *k, uint32_t type, uint64_t off, uint64_t len, uint64_t seed,
	       int extra_sq)
{
	struct msg m = { .type = type, .off = off, .len = len, .seed = seed };
	int need = 2 + extra_sq, status = -1, rc;
	struct tp_cqe e;

	rc = post_tx(k->ep, k->c, 0, &m, 0xC0DE);
	if (rc)
		return rc;
	while (need > 0) {
		rc = next_cqe(k->ep, &e, 60000);
		if (rc)
			return rc;
		need--;
		if (e.status)
			return e.status;
		if (e.op == TP_OP_RECV) {
			unsigned slot = e.wr_id & 0xff;

			status = (int)k->c->rx[0][slot].status;
			if (post_rx(k->ep, k->c, 0, slot))
				return -EIO;
		}
	}
	return status;
}

static void cli_connect_checks(struct rvmig_ctx *ctx, const char *port, struct cli *k)
{
	char reply[TP_HELLO_MAX], p2[16];
	size_t rlen;
	struct tp_lst *l2;
	struct tp_ep *x;
	double t0;
	int rc;

	/* a port nobody listens on: take one from a closed listener */
	rc = tp->listen(ctx, addr, "0", &l2);
	REQUIRE(rc == 0, "second listener: %d", rc);
	snprintf(p2, sizeof(p2), "%d", tp->lst_port(l2));
	tp->lst_close(l2);
	x = make_ep(ctx, NULL);
	rlen = sizeof(reply);
	rc = tp->connect_link(x, addr, p2, "nobody", 6, reply, &rlen, 5000);
	check(rc == -ECONNREFUSED && rlen == 0, "connect to a closed port: %d (reply %zu bytes)",
	      rc, rlen);

	/* unreachable address: bounded failure */
	t0 = now_s();
	rlen = sizeof(reply);
	rc = tp->connect_link(x, "10.77.0.99", port, "hello", 5, reply, &rlen, 2000);
	check(rc < 0 && now_s() - t0 < 3.5, "connect to an absent host: %d (%s) after %.1f s", rc,
	      rvmig_strerror(rc), now_s() - t0);
	tp->ep_destroy(x);

	k->c = calloc(1, sizeof(*k->c));
	k->ep = make_ep(ctx, k->c); /* link_init posts each link's RECVs */
	rlen = sizeof(reply);
	rc = tp->connect_link(k->ep, addr, port, "reject-me", 9, reply, &rlen, 10000);
	check(rc == -ECONNREFUSED && rlen == 7 && !memcmp(reply, "go away", 7),
	      "rejected link: %d, reason '%.*s' (%zu bytes)", rc, (int)rlen, reply, rlen);
	check(k->c->init_calls == 1, "link_init ran for the rejected link too (%u)",
	      k->c->init_calls);
	check(tp->post_recv(k->ep, 0, k->c->rx[0], sizeof(struct msg), &k->c->mr, 1) == -EINVAL,
	      "post_recv on the next link outside link_init: -EINVAL");
	for (int i = 0; i < 2; i++) {
		char hello[16], want[16];

		snprintf(hello, sizeof(hello), "hello-%d", i);
		snprintf(want, sizeof(want), "welcome-%d", i);
		rlen = sizeof(reply);
		rc = tp->connect_link(k->ep, addr, port, hello, strlen(hello) + 1, reply, &rlen,
				      10000);
		REQUIRE(rc == i, "connect_link %d -> %d", i, rc);
		check(rlen == strlen(want) && !memcmp(reply, want, rlen),
		      "reply '%.*s' exact (%zu bytes)", (int)rlen, reply, rlen);
	}
	{
		char want[64];

		snprintf(want, sizeof(want), "%s:%s", addr, port);
		check(!strcmp(tp->peer_name(k->ep), want), "peer_name '%s'", tp->peer_name(k->ep));
	}
}

/*
 * reg_mr beyond RLIMIT_MEMLOCK without CAP_IPC_LOCK -> -RVMIG_EMEMLOCK.  Runs
 * in a child that drops the capability before opening any RDMA file (the
 * kernel refuses verbs calls from a process whose credentials changed after
 * it opened them).  Needs a one-device host: memory can only be registered
 * before the first link when the device is unambiguous.
 */
static void memlock_check(struct rvmig_ctx *ctx)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct d[2];
		struct rlimit rl;
		struct tp_ep *ep;
		struct tp_mr mr;
		void *buf = NULL;
		int rc;

		role = "memlock";
		if (syscall(SYS_capget, &h, d))
			_exit(3);
		d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
		d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
		getrlimit(RLIMIT_MEMLOCK, &rl);
		rl.rlim_cur = MIB;
		if (syscall(SYS_capset, &h, d) || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(3);
		if (posix_memalign(&buf, 4096, 4 * MIB))
			_exit(3);
		ep = make_ep(ctx, NULL);
		rc = tp->reg_mr(ep, buf, 4 * MIB, TP_ACCESS_LOCAL, &mr);
		if (rc == -EINVAL) {
			printf("# memlock check skipped: several RDMA devices\n");
			fflush(stdout);
			_exit(4);
		}
		check(rc == -RVMIG_EMEMLOCK, "reg_mr of 4 MiB over a 1 MiB RLIMIT_MEMLOCK: %d (%s)",
		      rc, rvmig_strerror(rc));
		rc = tp->reg_mr(ep, buf, 256 * 1024, TP_ACCESS_LOCAL, &mr);
		check(rc == 0, "reg_mr of 256 KiB under it: %d", rc);
		if (!rc)
			tp->dereg_mr(ep, &mr);
		tp->ep_destroy(ep);
		fflush(stdout);
		_exit(failures ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 3)
		check(0, "memlock child: status 0x%x", status);
	else if (WEXITSTATUS(status) == 1)
		failures++;
}

static void cli_phase1(struct rvmig_ctx *ctx, const char *port)
{
	struct cli k = { 0 };
	uint64_t big_len = (uint64_t)mib * MIB;
	struct tp_cqe e, cq[SQ_DEPTH * 2];
	int rc, err, n;
	double t0, dt;

	cli_connect_checks(ctx, port, &k);
	REQUIRE(posix_memalign((void **)&k.sbuf, 4096, big_len) == 0, "alloc");
	memset(k.sbuf, 0, big_len);
	rc = tp->reg_mr(k.ep, k.sbuf, big_len, TP_ACCESS_LOCAL_WRITE, &k.src);
	REQUIRE(rc == 0, "reg_mr %u MiB local: %d", mib, rc);
	check(tp->post_recv(k.ep, 7, k.c->rx[0], sizeof(struct msg), &k.c->mr, 1) == -EINVAL,
	      "post on a link that does not exist: -EINVAL");
	check(tp->post_send(k.ep, 0, k.sbuf + big_len - 8, 16, &k.src, 1) == -EINVAL,
	      "post of a buffer outside its region: -EINVAL");

	rc = next_cqe(k.ep, &e, 30000);
	REQUIRE(rc == 0 && e.status == 0 && e.op == TP_OP_RECV && e.link == 0 &&
			e.len == sizeof(struct msg) && e.wr_id == rx_wrid(0, 0),
		"INFO received: rc %d status %d op %d link %u len %u wr_id %" PRIx64, rc, e.status,
		e.op, e.link, e.len, e.wr_id);
	k.info = k.c->rx[0][0];
	REQUIRE(k.info.type == M_INFO && k.info.len == big_len, "INFO contents");
	REQUIRE(post_rx(k.ep, k.c, 0, 0) == 0, "re-post");

	/* -EAGAIN at sq_depth; exactly one completion per op */
	{
		unsigned seen[SQ_DEPTH] = { 0 };
		int bad = 0;

		for (int i = 0; i < SQ_DEPTH; i++) {
			rc = tp->post_write(k.ep, 1, k.sbuf + i * 4096, 4096, &k.src,
					    k.info.addr + i * 4096, k.info.rkey, 1000 + i);
			if (rc)
				bad++;
		}
		rc = tp->post_write(k.ep, 1, k.sbuf, 4096, &k.src, k.info.addr, k.info.rkey, 999);
		check(bad == 0 && rc == -EAGAIN, "%d WRITEs posted, the next one -EAGAIN (%d)",
		      SQ_DEPTH, rc);
		n = wait_cqes(k.ep, cq, SQ_DEPTH * 2, 2000, &err);
		for (int i = 0; i < n; i++) {
			if (cq[i].op != TP_OP_WRITE || cq[i].link != 1 || cq[i].status ||
			    cq[i].wr_id < 1000 || cq[i].wr_id >= 1000 + SQ_DEPTH ||
			    (int)(cq[i].wr_id - 1000) != i)
				bad++;
			else
				seen[cq[i].wr_id - 1000]++;
		}
		for (int i = 0; i < SQ_DEPTH; i++)
			bad += seen[i] != 1;
		check(n == SQ_DEPTH && bad == 0 && err == 0,
		      "%d completions for %d WRITEs, in order, each once (err %d)", n, SQ_DEPTH,
		      err);
	}

	/* WRITE then SEND on the same link: the SEND must land after the data */
	for (int r = 0; r < 4; r++) {
		uint64_t len = r == 3 ? 4 * MIB : MIB, off = (uint64_t)r * 8 * MIB % big_len;
		struct msg m = { .type = M_VERIFY, .off = off, .len = len, .seed = 100 + r };
		int status = -1, wpos = -1, spos = -1;

		fill(k.sbuf, len, 100 + r);
		rc = tp->post_write(k.ep, 0, k.sbuf, (uint32_t)len, &k.src, k.info.addr + off,
				    k.info.rkey, 0xA000 + r);
		check(rc == 0, "post_write %" PRIu64 " bytes: %d", len, rc);
		rc = post_tx(k.ep, k.c, 0, &m, 0xB000 + r);
		check(rc == 0, "post_send right behind it: %d", rc);
		n = wait_cqes(k.ep, cq, 3, 60000, &err);
		for (int i = 0; i < n; i++) {
			if (cq[i].wr_id == 0xA000u + r && !cq[i].status && cq[i].op == TP_OP_WRITE)
				wpos = i;
			else if (cq[i].wr_id == 0xB000u + r && !cq[i].status &&
				 cq[i].op == TP_OP_SEND)
				spos = i;
			else if (cq[i].op == TP_OP_RECV && !cq[i].status) {
				status = (int)k.c->rx[0][cq[i].wr_id & 0xff].status;
				post_rx(k.ep, k.c, 0, cq[i].wr_id & 0xff);
			}
		}
		if (!(n == 3 && wpos >= 0 && spos > wpos && status == 0))
			printf("# got %d cqes, err %d\n", n, err);
		if (!(n == 3 && wpos >= 0 && spos > wpos && status == 0))
			for (int i = 0; i < n; i++)
				printf("# cqe %d: op %d link %u status %d wr_id %" PRIx64 " len %u\n", i,
				       cq[i].op, cq[i].link, cq[i].status, cq[i].wr_id, cq[i].len);
		check(n == 3 && wpos >= 0 && spos > wpos && status == 0,
		      "WRITE %" PRIu64 " KiB then SEND: completions in order, server saw the data "
		      "(status %d)", len / 1024, status);
	}

	/* READ */
	rc = rpc(&k, M_FILL, 8 * MIB, MIB, 7, 0);
	check(rc == 0, "server filled 1 MiB: %d", rc);
	memset(k.sbuf, 0, MIB);
	rc = tp->post_read(k.ep, 1, k.sbuf, MIB, &k.src, k.info.addr + 8 * MIB, k.info.rkey, 77);
	check(rc == 0, "post_read: %d", rc);
	rc = next_cqe(k.ep, &e, 30000);
	check(rc == 0 && e.status == 0 && e.op == TP_OP_READ && e.wr_id == 77 && e.link == 1 &&
		      verify(k.sbuf, MIB, 7),
	      "READ 1 MiB on link 1: data verified");

	/* big WRITE in 1 MiB chunks, up to SQ_DEPTH in flight */
	fill(k.sbuf, big_len, 11);
	{
		uint64_t posted = 0, done = 0, chunks = big_len / CHUNK;
		int errs = 0;

		t0 = now_s();
		while (done < chunks && !errs) {
			while (posted < chunks &&
			       !(rc = tp->post_write(k.ep, 0, k.sbuf + posted * CHUNK, CHUNK, &k.src,
						     k.info.addr + posted * CHUNK, k.info.rkey,
						     posted)))
				posted++;
			if (rc && rc != -EAGAIN && posted < chunks) {
				check(0, "post_write chunk %" PRIu64 ": %d", posted, rc);
				break;
			}
			n = wait_cqes2(k.ep, cq, 1, SQ_DEPTH, 30000, &err);
			if (n == 0) {
				check(0, "no WRITE completion within 30 s (err %d)", err);
				break;
			}
			for (int i = 0; i < n; i++) {
				errs += cq[i].status != 0 || cq[i].wr_id != done;
				done++;
			}
		}
		dt = now_s() - t0;
		check(done == chunks && !errs, "%u MiB WRITE in 1 MiB chunks: %.1f MB/s (%.2f s)",
		      mib, big_len / dt / 1e6, dt);
		printf("# RESULT write_1MiB_MBps %.1f\n", big_len / dt / 1e6);
	}
	rc = rpc(&k, M_VERIFY, 0, big_len, 11, 0);
	check(rc == 0, "server verified all %u MiB: %d", mib, rc);

	/* big READ */
	rc = rpc(&k, M_FILL, 0, big_len, 13, 0);
	check(rc == 0, "server filled %u MiB: %d", mib, rc);
	memset(k.sbuf, 0, big_len);
	{
		uint64_t posted = 0, done = 0, chunks = big_len / CHUNK;
		int errs = 0;

		t0 = now_s();
		while (done < chunks && !errs) {
			while (posted < chunks &&
			       !(rc = tp->post_read(k.ep, 0, k.sbuf + posted * CHUNK, CHUNK, &k.src,
						    k.info.addr + posted * CHUNK, k.info.rkey,
						    posted)))
				posted++;
			if (rc && rc != -EAGAIN && posted < chunks) {
				check(0, "post_read chunk %" PRIu64 ": %d", posted, rc);
				break;
			}
			n = wait_cqes2(k.ep, cq, 1, SQ_DEPTH, 30000, &err);
			if (n == 0) {
				check(0, "no READ completion within 30 s (err %d)", err);
				break;
			}
			for (int i = 0; i < n; i++) {
				errs += cq[i].status != 0 || cq[i].wr_id != done;
				done++;
			}
		}
		dt = now_s() - t0;
		check(done == chunks && !errs && verify(k.sbuf, big_len, 13),
		      "%u MiB READ in 1 MiB chunks: %.1f MB/s (%.2f s), data verified", mib,
		      big_len / dt / 1e6, dt);
		printf("# RESULT read_1MiB_MBps %.1f\n", big_len / dt / 1e6);
	}

	/* WRITE into a region the server registered read-only: link 1 fails */
	rc = tp->post_write(k.ep, 1, k.sbuf, 64, &k.src, k.info.ro_addr, k.info.ro_rkey, 0xACC);
	check(rc == 0, "post_write to a read-only region: %d", rc);
	{
		int acc = 0, fl = 0, other = 0;

		t0 = now_s();
		while ((acc + fl + other) < 1 + NRECV1 && now_s() - t0 < 20) {
			n = wait_cqes2(k.ep, cq, 1, 1 + NRECV1 - (acc + fl + other), 20000, &err);
			for (int i = 0; i < n; i++) {
				if (cq[i].wr_id == 0xACC && cq[i].status == -RVMIG_EACCESS)
					acc++;
				else if (cq[i].op == TP_OP_RECV && cq[i].link == 1 &&
					 cq[i].status == -RVMIG_EPEER)
					fl++;
				else
					other++;
			}
			if (!n && !err)
				break;
		}
		check(acc == 1 && fl == NRECV1 && other == 0,
		      "access violation -> -RVMIG_EACCESS, %d/%d link-1 RECVs flushed with "
		      "-RVMIG_EPEER, %d others", fl, NRECV1, other);
		rc = tp->post_write(k.ep, 1, k.sbuf, 64, &k.src, k.info.addr, k.info.rkey, 1);
		check(rc < 0, "post on the failed link refused: %d (%s)", rc, rvmig_strerror(rc));
	}
	/* link 0 still works */
	rc = rpc(&k, M_VERIFY, 0, big_len, 13, 0);
	check(rc == 0, "link 0 unaffected by link 1's failure: %d", rc);

	{
		struct msg m = { .type = M_BYE };

		rc = post_tx(k.ep, k.c, 0, &m, 0xB1E);
		check(rc == 0, "post_send BYE");
		rc = next_cqe(k.ep, &e, 10000);
		check(rc == 0 && e.wr_id == 0xB1E && e.status == 0, "BYE sent");
	}
	check(tp->dereg_mr(k.ep, &k.src) == 0, "dereg_mr");
	check(tp->dereg_mr(k.ep, &k.c->mr) == 0, "dereg_mr ctl");
	tp->ep_destroy(k.ep); /* the server checks its RECVs get flushed */
	free(k.sbuf);
	free(k.c);
}

static void cli_phase2(struct rvmig_ctx *ctx, const char *port, pid_t srv)
{
	struct ctl *c = calloc(1, sizeof(*c));
	struct tp_ep *ep = make_ep(ctx, c);
	char reply[TP_HELLO_MAX];
	size_t rlen = sizeof(reply);
	struct tp_cqe cq[SQ_DEPTH + NRECV], e;
	struct tp_mr src;
	struct msg info;
	uint64_t posted = 0, done = 0, errs = 0, recv_fl = 0, outstanding;
	char *buf = NULL;
	double t_kill = 0, t_err = 0;
	int rc, err, n, status, first_err = 0;

	rc = tp->connect_link(ep, addr, port, "hello-die", 9, reply, &rlen, 10000);
	REQUIRE(rc == 0 && rlen == 5, "phase 2 link: %d", rc);
	/* The server SENDs as soon as it has accepted; our RECVs were posted by
	 * link_init before the connection existed, so nothing can RNR while we
	 * do not touch the link for a second. */
	usleep(1000000);
	REQUIRE(posix_memalign((void **)&buf, 4096, MIB) == 0, "alloc");
	REQUIRE(tp->reg_mr(ep, buf, MIB, TP_ACCESS_LOCAL, &src) == 0, "reg");
	for (int i = 0; i < 2; i++) {
		rc = next_cqe(ep, &e, 30000);
		REQUIRE(rc == 0 && e.op == TP_OP_RECV && !e.status && e.wr_id == rx_wrid(0, i),
			"phase 2 INFO %d: rc %d op %d status %d", i, rc, e.op, e.status);
	}
	info = c->rx[0][1];
	check(info.type == M_INFO, "the server's SENDs right after accepting arrived intact "
	      "(RECVs from link_init)");

	/* stream 256 KiB WRITEs; kill the server after 1 s */
	t_kill = now_s() + 1.0;
	for (;;) {
		double t = now_s();

		while (!tp->post_write(ep, 0, buf, 256 * 1024, &src,
				       info.addr + (posted % 64) * 256 * 1024, info.rkey, posted))
			posted++;
		if (srv > 0 && t >= t_kill) {
			if (cut_cmd) {
				printf("# cutting the network: %s\n", cut_cmd);
				fflush(stdout);
				t_kill = now_s();
				rc = system(cut_cmd);
				check(rc == 0, "cut command exit status %d", rc);
			} else {
				kill(srv, SIGKILL);
				t_kill = now_s();
			}
			srv = -srv;
		}
		n = wait_cqes2(ep, cq, 1, SQ_DEPTH + NRECV, 500, &err);
		for (int i = 0; i < n; i++) {
			if (cq[i].op == TP_OP_WRITE)
				done++;
			else if (cq[i].op == TP_OP_RECV && cq[i].status)
				recv_fl++;
			if (cq[i].status && !t_err) {
				t_err = now_s();
				first_err = cq[i].status;
			}
			errs += cq[i].status != 0;
		}
		if (err && !t_err) {
			t_err = now_s();
			first_err = err;
		}
		outstanding = posted - done;
		if (srv < 0 && t_err && !outstanding && recv_fl == NRECV - 2)
			break;
		if (srv < 0 && now_s() - t_kill > timeout_ms / 1000.0 * 2 + 5)
			break;
	}
	check(t_err && t_err - t_kill <= timeout_ms / 1000.0 + 1,
	      "peer %s: first error (%s) %.2f s later (timeout %d ms)",
	      cut_cmd ? "cut off" : "killed", rvmig_strerror(first_err), t_err - t_kill,
	      timeout_ms);
	if (cut_cmd) {
		check(first_err == -RVMIG_ETIMEDOUT, "silent peer -> -RVMIG_ETIMEDOUT (%d)",
		      first_err);
		kill(-srv, SIGKILL);
	}
	check(!outstanding && recv_fl == NRECV - 2,
	      "every op completed: %" PRIu64 " WRITEs (%" PRIu64 " with errors), %" PRIu64
	      " RECVs flushed", done, errs, recv_fl);
	rc = tp->post_write(ep, 0, buf, 4096, &src, info.addr, info.rkey, 1);
	check(rc < 0, "post after peer death refused: %d (%s)", rc, rvmig_strerror(rc));
	n = tp->poll(ep, cq, 8);
	check(n == 0, "nothing more to poll: %d", n);
	waitpid(-srv, &status, 0);
	check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "server died of SIGKILL");
	tp->dereg_mr(ep, &src);
	tp->dereg_mr(ep, &c->mr);
	tp->ep_destroy(ep);
	free(buf);
	free(c);
}

int main(int argc, char **argv)
{
	struct rvmig_ctx_attr a = { .size = sizeof(a) };
	struct rvmig_ctx *ctx;
	int sync_p[2], res_p[2], port = 0;
	char port_s[16], verdict = 'F';
	pid_t pid;

	if (getenv("RVMIG_RXE_ADDR"))
		addr = getenv("RVMIG_RXE_ADDR");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--addr") && i + 1 < argc)
			addr = argv[++i];
		else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
			timeout_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cut") && i + 1 < argc)
			cut_cmd = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else {
			fprintf(stderr, "usage: %s [--addr A] [--mib N] [--timeout-ms T] "
				"[--cut SHELL-CMD] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	if (mib < 16)
		mib = 16;
	signal(SIGALRM, on_alarm);
	alarm(600);
	if (pipe(sync_p) || pipe(res_p))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(sync_p[0]);
		close(res_p[0]);
		return server(sync_p[1], res_p[1]);
	}
	close(sync_p[1]);
	close(res_p[1]);
	a.logger.fn = logger;
	a.logger.max_level = verbose ? RVMIG_LOG_DEBUG : RVMIG_LOG_INFO;
	REQUIRE(rvmig_ctx_create(&a, &ctx) == 0, "ctx");
	if (read(sync_p[0], &port, sizeof(port)) != sizeof(port)) {
		check(0, "server did not start");
		kill(pid, SIGKILL);
		return 1;
	}
	snprintf(port_s, sizeof(port_s), "%d", port);
	printf("# server %s:%s, %u MiB, timeout %d ms\n", addr, port_s, mib, timeout_ms);

	memlock_check(ctx);
	cli_phase1(ctx, port_s);
	if (read(res_p[0], &verdict, 1) != 1)
		verdict = 'F';
	check(verdict == 'P', "server side of phase 1 passed");
	cli_phase2(ctx, port_s, pid);
	rvmig_ctx_destroy(ctx);
	printf("# %s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
