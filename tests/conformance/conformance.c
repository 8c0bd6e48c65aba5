/* SPDX-License-Identifier: MIT */
/*
 * Transport conformance suite: the same tests run once per transport.
 *   RVMIG_TEST_TRANSPORT=tcp|verbs   (default tcp)
 *   RVMIG_TEST_HOST=ADDR             (default 127.0.0.1; verbs: $RVMIG_RXE_ADDR,
 *                                     or $RVMIG_PAIR_B across the veth pair)
 * Each test forks: the child is the receiver (listening on port 0 and
 * reporting the port through a pipe), the parent is the client.  Data is
 * checked by SHA-256 on both ends.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rvmig.h>

#include "proto/ep.h"        /* EP_CTRL_CREDITS */
#include "proto/testhooks.h" /* another wire version, a damaged chunk (test library only) */
#include "transport/tcp/tcp.h" /* the hostile peers speak TCP set-up and frames */

#define MiB (1024u * 1024u)

static const char *transport(void)
{
	const char *t = getenv("RVMIG_TEST_TRANSPORT");

	return t && *t ? t : "tcp";
}

static const char *host(void)
{
	const char *h = getenv("RVMIG_TEST_HOST");

	if (h && *h)
		return h;
	if (!strcmp(transport(), "verbs")) {
		h = getenv("RVMIG_PAIR_B");
		if (h && *h)
			return h;
		h = getenv("RVMIG_RXE_ADDR");
		if (h && *h)
			return h;
		cr_assert_fail("verbs transport needs RVMIG_RXE_ADDR (run inside tests/harness/rxe-vm)");
	}
	return "127.0.0.1";
}

static void uri(char *buf, size_t n, int port)
{
	const char *h = host();

	snprintf(buf, n, strchr(h, ':') ? "%s://[%s]:%d" : "%s://%s:%d", transport(), h, port);
}

static rvmig_ctx *new_ctx(void)
{
	struct rvmig_ctx_attr a = { .size = sizeof(a),
				    .logger = { .fn = rvmig_log_stderr, .max_level = RVMIG_LOG_WARN } };
	rvmig_ctx *ctx;

	cr_assert_eq(rvmig_ctx_create(&a, &ctx), 0);
	return ctx;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 32;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

/* ---- the receiver child ---- */

struct rx_opts {
	struct rvmig_ep_attr attr;
	uint64_t total;        /* bytes expected at stream offsets [0, total) */
	uint64_t kill_after;   /* SIGKILL self after this many bytes (0: never) */
	uint64_t corrupt_seq;  /* damage this chunk on arrival (0: none) */
	int expect_error;      /* the client is expected to die: wait for an error */
};

/* Receives into a buffer indexed by stream offset, writes its SHA-256 and
 * message count to `out`. */
static int run_receiver(int port_fd, int out_fd, const struct rx_opts *o)
{
	rvmig_ctx *ctx = new_ctx();
	rvmig_listener *l;
	rvmig_ep *ep;
	char u[128];
	uint8_t *buf = calloc(1, o->total ? o->total : 1);
	uint64_t got = 0, msgs = 0;
	bool closed = false;
	int port, rc;

	uri(u, sizeof(u), 0);
	if (o->corrupt_seq)
		proto_test_corrupt_seq = o->corrupt_seq;
	if ((rc = rvmig_listen(ctx, u, &o->attr, &l)))
		return 10;
	port = rvmig_listener_port(l);
	if (write(port_fd, &port, sizeof(port)) != sizeof(port))
		return 11;
	rc = rvmig_accept(l, 20000, &ep);
	if (rc)
		return 12;
	while (!closed) {
		struct rvmig_event ev;

		rc = rvmig_progress(ep, 1000);
		if (rc < 0)
			break;
		while (rvmig_event_next(ep, &ev) > 0) {
			if (ev.type == RVMIG_EV_RECV_DATA || ev.type == RVMIG_EV_RECV_MSG) {
				if (ev.stream_off + ev.len > o->total)
					return 13;
				memcpy(buf + ev.stream_off, ev.data, ev.len);
				got += ev.len;
				msgs++;
				rvmig_recv_release(ep, ev.token);
				if (o->kill_after && got >= o->kill_after)
					raise(SIGKILL);
			} else if (ev.type == RVMIG_EV_PEER_CLOSED) {
				closed = true;
			}
		}
	}
	if (o->expect_error) {
		/* The client was killed: we must see an error, not hang. */
		rvmig_ep_close(ep);
		rvmig_listener_close(l);
		rvmig_ctx_destroy(ctx);
		free(buf);
		return rc < 0 ? 0 : 14;
	}
	if (!closed)
		return 15;
	{
		uint8_t h[32];

		sha256(buf, o->total, h);
		if (write(out_fd, h, 32) != 32 || write(out_fd, &msgs, 8) != 8)
			return 16;
	}
	rvmig_ep_close(ep);
	rvmig_listener_close(l);
	rvmig_ctx_destroy(ctx);
	free(buf);
	return 0;
}

struct peer {
	pid_t pid;
	int port;
	int out_fd;
};

static struct peer start_receiver(const struct rx_opts *o)
{
	int pp[2], op[2];
	struct peer p;

	cr_assert_eq(pipe(pp), 0);
	cr_assert_eq(pipe(op), 0);
	p.pid = fork();
	cr_assert_geq(p.pid, 0);
	if (!p.pid) {
		close(pp[0]);
		close(op[0]);
		_exit(run_receiver(pp[1], op[1], o));
	}
	close(pp[1]);
	close(op[1]);
	cr_assert_eq(read(pp[0], &p.port, sizeof(p.port)), (ssize_t)sizeof(p.port),
		     "receiver did not start listening");
	close(pp[0]);
	p.out_fd = op[0];
	return p;
}

static int wait_receiver(struct peer *p, uint8_t hash[32], uint64_t *msgs)
{
	int st = 0;

	if (hash) {
		cr_assert_eq(read(p->out_fd, hash, 32), 32, "receiver reported no digest");
		cr_assert_eq(read(p->out_fd, msgs, 8), 8);
	}
	waitpid(p->pid, &st, 0);
	close(p->out_fd);
	return st;
}

static rvmig_ep *connect_to(rvmig_ctx *ctx, int port, const struct rvmig_ep_attr *a)
{
	char u[128];
	rvmig_ep *ep = NULL;
	int rc;

	uri(u, sizeof(u), port);
	rc = rvmig_connect(ctx, u, a, &ep);
	cr_assert_eq(rc, 0, "connect to %s: %s", u, rvmig_strerror(rc));
	return ep;
}

/* Runs progress until no request is pending; returns the first error. */
static int drain(rvmig_ep *ep, uint64_t *done, int *first_status)
{
	struct rvmig_event ev;
	int rc = 0;

	while (rvmig_client_pending(ep)) {
		rc = rvmig_progress(ep, 1000);
		while (rvmig_event_next(ep, &ev) > 0) {
			if (ev.type == RVMIG_EV_SEND_DONE) {
				if (done)
					(*done)++;
				if (ev.status && first_status && !*first_status)
					*first_status = ev.status;
			}
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One bulk transfer of `len` bytes from an odd offset, checked by hash. */
static void bulk(enum rvmig_mode mode, uint64_t len, unsigned flags)
{
	struct rx_opts o = { .attr = { .size = sizeof(o.attr) }, .total = len };
	struct rvmig_ep_attr a = { .size = sizeof(a), .mode = mode, .flags = flags };
	rvmig_ctx *ctx = new_ctx();
	const uint64_t off = 4093; /* odd, not page aligned */
	uint8_t *src = malloc(len + off), want[32], got[32];
	struct peer p = start_receiver(&o);
	rvmig_mr *mr;
	rvmig_ep *ep;
	uint64_t msgs, done = 0;
	rvmig_stats *st;
	int status = 0;

	fill(src, len + off, (uint32_t)len);
	sha256(src + off, len, want);
	ep = connect_to(ctx, p.port, &a);
	cr_assert_eq(rvmig_mr_reg(ep, src, len + off,
				  mode == RVMIG_MODE_PULL ? RVMIG_MR_REMOTE_READ : RVMIG_MR_LOCAL, &mr), 0);
	cr_assert_eq(rvmig_client_post(ep, mr, off, len, 0, 42), 0);
	cr_assert_eq(drain(ep, &done, &status), 0);
	cr_assert_eq(status, 0, "request failed: %s", rvmig_strerror(status));
	cr_assert_eq(done, 1);
	cr_assert_eq(rvmig_stats_snapshot(ep, &st), 0);
	cr_assert_eq(rvmig_stats_get(st, RVMIG_STAT_USER_COPY_BYTES), 0,
		     "the sender copied payload in user space");
	cr_assert_eq(rvmig_stats_get(st, RVMIG_STAT_BYTES_SENT), len);
	rvmig_stats_free(st);
	cr_assert_eq(rvmig_mr_dereg(mr), 0);
	rvmig_ep_close(ep);
	cr_assert_eq(wait_receiver(&p, got, &msgs), 0, "receiver failed");
	cr_assert_eq(memcmp(want, got, 32), 0, "SHA-256 differs between sender and receiver");
	rvmig_ctx_destroy(ctx);
	free(src);
}

Test(handshake, connect_and_close)
{
	bulk(RVMIG_MODE_PUSH, 4096, 0);
}

Test(handshake, version_mismatch_refused)
{
	struct rx_opts o = { .attr = { .size = sizeof(o.attr) }, .expect_error = 1 };
	struct rvmig_ep_attr a = { .size = sizeof(a), .timeout_ms = 3000 };
	rvmig_ctx *ctx = new_ctx();
	struct peer p = start_receiver(&o);
	char u[128];
	rvmig_ep *ep = NULL;
	int rc;

	uri(u, sizeof(u), p.port);
	proto_test_wire_version = WIRE_VERSION + 1;
	rc = rvmig_connect(ctx, u, &a, &ep);
	proto_test_wire_version = WIRE_VERSION;
	cr_assert_eq(rc, -RVMIG_EPROTO_VERSION, "got %d (%s)", rc, rvmig_strerror(rc));
	kill(p.pid, SIGKILL);
	wait_receiver(&p, NULL, NULL);
	rvmig_ctx_destroy(ctx);
}

/* TCP: peers that connect and then send nothing (or half a hello) must not
 * hold the listener: it waits for their hello (auth_timeout_ms, 5 s by
 * default) alongside other peers.
 * The client's timeout (3 s) is below that wait, so a listener that blocked
 * on the silent peers would make this connect fail. */
Test(handshake, silent_tcp_peers_do_not_hold_accept, .timeout = 60)
{
	struct rx_opts o = { .attr = { .size = sizeof(o.attr) }, .total = 1 * MiB };
	struct rvmig_ep_attr a = { .size = sizeof(a), .timeout_ms = 3000 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int silent[2];
	uint8_t *src = malloc(MiB), want[32], got[32];
	uint64_t msgs, done = 0;
	rvmig_ctx *ctx;
	rvmig_mr *mr;
	rvmig_ep *ep;
	struct peer p;

	if (strcmp(transport(), "tcp"))
		cr_skip_test("TCP only: rdma_cm carries the hello in the connect request");
	p = start_receiver(&o);
	cr_assert_eq(inet_pton(AF_INET, host(), &sa.sin_addr), 1);
	sa.sin_port = htons((uint16_t)p.port);
	for (int i = 0; i < 2; i++) {
		silent[i] = socket(AF_INET, SOCK_STREAM, 0);
		cr_assert_geq(silent[i], 0);
		cr_assert_eq(connect(silent[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	cr_assert_eq(write(silent[1], "\x01", 1), 1); /* the first byte of a hello frame */
	ctx = new_ctx();
	fill(src, MiB, 7);
	sha256(src, MiB, want);
	ep = connect_to(ctx, p.port, &a);
	cr_assert_eq(rvmig_mr_reg(ep, src, MiB, RVMIG_MR_LOCAL, &mr), 0);
	cr_assert_eq(rvmig_client_post(ep, mr, 0, MiB, 0, 1), 0);
	cr_assert_eq(drain(ep, &done, NULL), 0);
	cr_assert_eq(rvmig_mr_dereg(mr), 0);
	rvmig_ep_close(ep);
	cr_assert_eq(wait_receiver(&p, got, &msgs), 0, "receiver failed");
	cr_assert_eq(memcmp(want, got, 32), 0, "data differs");
	close(silent[0]);
	close(silent[1]);
	rvmig_ctx_destroy(ctx);
	free(src);
}

Test(handshake, bad_uri_and_unknown_transport)
{
	rvmig_ctx *ctx = new_ctx();
	rvmig_ep *ep;

	cr_assert_eq(rvmig_connect(ctx, "tcp://nohostport", NULL, &ep), -EINVAL);
	cr_assert_eq(rvmig_connect(ctx, "carrier-pigeon://a:1", NULL, &ep), -RVMIG_ENOTRANSPORT);
	rvmig_ctx_destroy(ctx);
}

/* ---- connection limit ---- */

/* The client's log, kept to check what the connecting side reports. */
static char client_log[8192];

static void log_capture(void *arg, enum rvmig_log_level level, const char *subsys,
			const char *fmt, va_list ap)
{
	size_t n = strlen(client_log);
	va_list cp;

	(void)arg;
	va_copy(cp, ap);
	rvmig_log_stderr(NULL, level, subsys, fmt, cp);
	va_end(cp);
	if (n + 2 < sizeof(client_log)) {
		vsnprintf(client_log + n, sizeof(client_log) - n - 1, fmt, ap);
		strcat(client_log, "\n");
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A receiver with max_conns = 2 serving from one poll loop that watches the
 * listener fd and calls rvmig_accept(l, 0) only when it is readable (the
 * pattern the header prescribes).  It exits 0 after serving `want` endpoints
 * to their clean close, with the live count back at 0.
 */
static int run_limited_receiver(int port_fd, unsigned want)
{
	enum { MAXE = 4 };
	struct rvmig_ep_attr a = { .size = sizeof(a), .max_conns = 2 };
	rvmig_ctx *ctx = new_ctx();
	rvmig_listener *l;
	rvmig_ep *eps[MAXE] = { NULL };
	unsigned served = 0, accepted = 0;
	double give_up = now_s() + 120;
	char u[128];
	int port;

	uri(u, sizeof(u), 0);
	if (rvmig_listen(ctx, u, &a, &l))
		return 10;
	port = rvmig_listener_port(l);
	if (write(port_fd, &port, sizeof(port)) != sizeof(port))
		return 11;
	while (served < want) {
		struct pollfd pfd[MAXE + 1];
		int rc;

		if (now_s() > give_up)
			return 12;
		pfd[0] = (struct pollfd){ .fd = rvmig_listener_fd(l), .events = POLLIN };
		for (int i = 0; i < MAXE; i++)
			pfd[i + 1] = (struct pollfd){ .fd = eps[i] ? rvmig_ep_fd(eps[i]) : -1,
						      .events = POLLIN };
		poll(pfd, MAXE + 1, 100);
		if (pfd[0].revents & POLLIN) {
			rvmig_ep *ep;

			rc = rvmig_accept(l, 0, &ep);
			if (!rc) {
				int i = 0;

				while (i < MAXE && eps[i])
					i++;
				if (i == MAXE || ++accepted > want)
					return 13; /* the limit did not hold */
				eps[i] = ep;
				if (rvmig_listener_conns(l) > 2)
					return 14;
			} else if (rc != -ETIMEDOUT) {
				return 15;
			}
		}
		for (int i = 0; i < MAXE; i++) {
			struct rvmig_event ev;
			bool closed = false;

			if (!eps[i])
				continue;
			if (rvmig_progress(eps[i], 0) < 0)
				return 16;
			while (rvmig_event_next(eps[i], &ev) > 0)
				if (ev.type == RVMIG_EV_PEER_CLOSED)
					closed = true;
			if (closed) {
				rvmig_ep_close(eps[i]);
				eps[i] = NULL;
				served++;
			}
		}
	}
	if (rvmig_listener_conns(l) != 0)
		return 17;
	rvmig_listener_close(l);
	rvmig_ctx_destroy(ctx);
	return 0;
}

Test(limit, third_connection_refused_then_one_after_close, .timeout = 180)
{
	struct rvmig_ctx_attr ca = { .size = sizeof(ca),
				     .logger = { .fn = log_capture, .max_level = RVMIG_LOG_WARN } };
	struct rvmig_ep_attr a = { .size = sizeof(a), .timeout_ms = 30000 };
	rvmig_ctx *ctx;
	rvmig_ep *e1, *e2, *e3 = NULL, *e4;
	char u[128], want[200];
	int pp[2], port, rc, st;
	double t0, took;
	pid_t pid;

	cr_assert_eq(pipe(pp), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		close(pp[0]);
		_exit(run_limited_receiver(pp[1], 3));
	}
	close(pp[1]);
	cr_assert_eq(read(pp[0], &port, sizeof(port)), (ssize_t)sizeof(port));
	close(pp[0]);
	cr_assert_eq(rvmig_ctx_create(&ca, &ctx), 0);
	uri(u, sizeof(u), port);
	e1 = connect_to(ctx, port, &a);
	e2 = connect_to(ctx, port, &a);

	client_log[0] = 0;
	t0 = now_s();
	rc = rvmig_connect(ctx, u, &a, &e3);
	took = now_s() - t0;
	cr_assert_eq(rc, -RVMIG_ECONNLIMIT, "third connection: got %d (%s), expected refusal", rc,
		     rvmig_strerror(rc));
	cr_assert_null(e3);
	snprintf(want, sizeof(want), "%s refused the connection: too many connections (limit 2)",
		 u);
	cr_assert(strstr(client_log, want), "client log lacks \"%s\":\n%s", want, client_log);
	cr_assert_str_eq(rvmig_strerror(rc), "too many connections");
	/* Refused by the server's poll loop, not left to our 30 s timeout
	 * (half of it: the margin is for a loaded host, or valgrind). */
	cr_assert_lt(took, 15.0, "refusal took %.2f s", took);
	cr_log_info("third connection refused after %.3f s", took);

	rvmig_ep_close(e1);
	e4 = connect_to(ctx, port, &a);
	rvmig_ep_close(e2);
	rvmig_ep_close(e4);
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "receiver failed (status %d)",
		  WEXITSTATUS(st));
	rvmig_ctx_destroy(ctx);
}

Test(limit, default_and_count)
{
	rvmig_ctx *ctx = new_ctx();
	rvmig_listener *l;
	char u[128];

	cr_assert_eq(RVMIG_MAX_CONNS_DEFAULT, 64);
	uri(u, sizeof(u), 0);
	cr_assert_eq(rvmig_listen(ctx, u, NULL, &l), 0);
	cr_assert_eq(rvmig_listener_conns(l), 0);
	cr_assert_geq(rvmig_listener_fd(l), 0);
	rvmig_listener_close(l);
	rvmig_ctx_destroy(ctx);
}

/* One test per size: a process that has used verbs must not fork the next
 * receiver (registered pages are not inherited sanely across fork). */
static uint64_t odd_sizes[] = { 1, 4095, 4097, MiB + 3, 3 * MiB + 17 };
ParameterizedTestParameters(push, sizes_at_odd_offsets)
{
	return cr_make_param_array(uint64_t, odd_sizes, sizeof(odd_sizes) / sizeof(odd_sizes[0]));
}
ParameterizedTest(uint64_t *len, push, sizes_at_odd_offsets) { bulk(RVMIG_MODE_PUSH, *len, 0); }
ParameterizedTestParameters(pull, sizes_at_odd_offsets)
{
	return cr_make_param_array(uint64_t, odd_sizes, sizeof(odd_sizes) / sizeof(odd_sizes[0]));
}
ParameterizedTest(uint64_t *len, pull, sizes_at_odd_offsets) { bulk(RVMIG_MODE_PULL, *len, 0); }
Test(push, large_64MiB, .timeout = 600) { bulk(RVMIG_MODE_PUSH, 64 * MiB, 0); }
Test(pull, large_64MiB, .timeout = 600) { bulk(RVMIG_MODE_PULL, 64 * MiB, 0); }
Test(push, checksummed_5MiB) { bulk(RVMIG_MODE_PUSH, 5 * MiB + 11, RVMIG_EP_CHECKSUM); }
Test(pull, checksummed_5MiB) { bulk(RVMIG_MODE_PULL, 5 * MiB + 11, RVMIG_EP_CHECKSUM); }
Test(push, pin_all_16MiB, .timeout = 300) { bulk(RVMIG_MODE_PUSH, 16 * MiB, RVMIG_EP_PIN_ALL); }
Test(pull, pin_all_16MiB, .timeout = 300) { bulk(RVMIG_MODE_PULL, 16 * MiB, RVMIG_EP_PIN_ALL); }

/* Thousands of small requests mixed with inline messages, under a tiny
 * request window so posting must back off (-EAGAIN) and resume. */
static void many_small(enum rvmig_mode mode)
{
	const unsigned n = 3000;
	uint64_t total = 0;
	uint64_t *lens = malloc(sizeof(*lens) * n);

	for (unsigned i = 0; i < n; i++) {
		lens[i] = 1 + (i * 7919u) % 700;
		total += lens[i];
	}
	struct rx_opts o = { .attr = { .size = sizeof(o.attr) }, .total = total };
	struct rvmig_ep_attr a = { .size = sizeof(a), .mode = mode, .max_posted = 16 };
	rvmig_ctx *ctx = new_ctx();
	uint8_t *src = malloc(total), want[32], got[32];
	struct peer p = start_receiver(&o);
	rvmig_ep *ep;
	rvmig_mr *mr;
	uint64_t off = 0, done = 0, msgs = 0;
	unsigned eagain = 0;
	int status = 0;

	fill(src, total, 7);
	sha256(src, total, want);
	ep = connect_to(ctx, p.port, &a);
	cr_assert_eq(rvmig_mr_reg(ep, src, total,
				  mode == RVMIG_MODE_PULL ? RVMIG_MR_REMOTE_READ : 0, &mr), 0);
	for (unsigned i = 0; i < n; i++) {
		int rc;

		for (;;) {
			rc = (i % 3 == 0) ? rvmig_client_send_msg(ep, src + off, lens[i], off, i)
					  : rvmig_client_post(ep, mr, off, lens[i], off, i);
			if (rc != -EAGAIN)
				break;
			eagain++;
			cr_assert_geq(rvmig_progress(ep, 100), 0);
			struct rvmig_event ev;

			while (rvmig_event_next(ep, &ev) > 0)
				if (ev.type == RVMIG_EV_SEND_DONE) {
					done++;
					cr_assert_eq(ev.status, 0);
				}
		}
		cr_assert_eq(rc, 0, "post %u: %s", i, rvmig_strerror(rc));
		off += lens[i];
	}
	cr_assert_eq(drain(ep, &done, &status), 0);
	cr_assert_eq(status, 0);
	cr_assert_eq(done, n, "%llu of %u requests completed", (unsigned long long)done, n);
	cr_assert_gt(eagain, 0, "a 16-request window never pushed back");
	rvmig_mr_dereg(mr);
	rvmig_ep_close(ep);
	cr_assert_eq(wait_receiver(&p, got, &msgs), 0);
	cr_assert_eq(msgs, n);
	cr_assert_eq(memcmp(want, got, 32), 0, "SHA-256 differs");
	rvmig_ctx_destroy(ctx);
	free(src);
	free(lens);
}

Test(push, thousands_small_with_backpressure, .timeout = 300) { many_small(RVMIG_MODE_PUSH); }
Test(pull, thousands_small_with_backpressure, .timeout = 300) { many_small(RVMIG_MODE_PULL); }

/* Cancel: requests not yet scheduled complete with -RVMIG_ECANCELED and the
 * receiver sees exactly the others, in order.  A region whose only request
 * is queued, not yet started, cannot be deregistered before (-EBUSY: it was
 * freed, and the queue read it later), and can after. */
Test(cancel, unscheduled_requests, .timeout = 300)
{
	const unsigned n = 64;
	const uint64_t len = 256 * 1024;
	struct rvmig_ep_attr a = { .size = sizeof(a), .window = 1 * MiB };
	rvmig_ctx *ctx = new_ctx();
	uint8_t *src = malloc(n * len), extra[4096] = { 0 };
	rvmig_ep *ep;
	rvmig_mr *mr, *mr2;
	unsigned ok = 0, cancelled = 0;
	int cn;
	struct rvmig_event ev;

	/* The receiver verifies what it got against the first `ok` requests, so
	 * it learns the count from the data size: use a separate check here. */
	struct rx_opts o = { .attr = { .size = sizeof(o.attr) }, .total = n * len };
	struct peer p = start_receiver(&o);

	fill(src, n * len, 3);
	ep = connect_to(ctx, p.port, &a);
	cr_assert_eq(rvmig_mr_reg(ep, src, n * len, 0, &mr), 0);
	cr_assert_eq(rvmig_mr_reg(ep, extra, sizeof(extra), 0, &mr2), 0);
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(rvmig_client_post(ep, mr, i * len, len, i * len, i), 0);
	cr_assert_eq(rvmig_client_post(ep, mr2, 0, sizeof(extra), n * len, n), 0);
	cr_assert_eq(rvmig_mr_dereg(mr2), -EBUSY);
	cn = rvmig_client_cancel(ep);
	cr_assert_eq(rvmig_mr_dereg(mr2), 0);
	cr_assert_gt(cn, 0, "nothing was left to cancel");
	while (rvmig_client_pending(ep)) {
		cr_assert_geq(rvmig_progress(ep, 1000), 0);
		while (rvmig_event_next(ep, &ev) > 0) {
			if (ev.status == -RVMIG_ECANCELED)
				cancelled++;
			else if (ev.status == 0)
				ok++;
			else
				cr_assert_fail("unexpected status %d", ev.status);
		}
	}
	cr_assert_eq(ok + cancelled, n + 1);
	cr_assert_eq(cancelled, (unsigned)cn);
	rvmig_mr_dereg(mr);
	rvmig_ep_close(ep);
	{
		uint8_t got[32], want[32];
		uint64_t msgs;
		uint8_t *exp = calloc(1, n * len);

		/* The receiver got the prefix (possibly a partial request's chunks). */
		cr_assert_eq(wait_receiver(&p, got, &msgs), 0);
		for (uint64_t k = 0; k <= n * 4; k++) {
			/* chunks are <= 1 MiB and requests 256 KiB: at most one chunk each */
			memset(exp, 0, n * len);
			memcpy(exp, src, (k < n ? k : n) * len);
			sha256(exp, n * len, want);
			if (!memcmp(want, got, 32)) {
				cr_assert_eq(k, ok, "receiver has %llu requests, client saw %u done",
					     (unsigned long long)k, ok);
				break;
			}
			cr_assert_lt(k, (uint64_t)n, "receiver data is not a prefix of what was sent");
		}
		cr_assert_eq(msgs, ok);
		free(exp);
	}
	rvmig_ctx_destroy(ctx);
	free(src);
}

/* The receiver dies mid-transfer: the client gets an error within the
 * timeout and never hangs. */
static void receiver_killed(enum rvmig_mode mode)
{
	const uint64_t len = 32 * MiB;
	struct rx_opts o = { .attr = { .size = sizeof(o.attr) }, .total = len,
			     .kill_after = 4 * MiB };
	struct rvmig_ep_attr a = { .size = sizeof(a), .mode = mode, .timeout_ms = 3000 };
	rvmig_ctx *ctx = new_ctx();
	uint8_t *src = malloc(len);
	struct peer p = start_receiver(&o);
	rvmig_ep *ep;
	rvmig_mr *mr;
	int rc = 0, st = 0, status = 0;
	struct timespec t0, t1;

	fill(src, len, 9);
	ep = connect_to(ctx, p.port, &a);
	cr_assert_eq(rvmig_mr_reg(ep, src, len, mode == RVMIG_MODE_PULL ? RVMIG_MR_REMOTE_READ : 0,
				  &mr), 0);
	for (unsigned i = 0; i < 32; i++)
		cr_assert_eq(rvmig_client_post(ep, mr, i * MiB, MiB, i * MiB, i), 0);
	/* Keep the transfer moving (pull over TCP needs our progress to serve
	 * the READs) until the receiver has killed itself. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (waitpid(p.pid, &st, WNOHANG) == 0) {
		struct rvmig_event ev;

		rc = rvmig_progress(ep, 50);
		while (rvmig_event_next(ep, &ev) > 0)
			if (ev.status && !status)
				status = ev.status;
		if (rc < 0)
			break;
	}
	if (!WIFSIGNALED(st))
		waitpid(p.pid, &st, 0);
	cr_assert(WIFSIGNALED(st), "receiver was supposed to die");
	if (!status && rc >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = drain(ep, NULL, &status);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert(rc < 0 || status < 0, "no error after the receiver died");
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 3 + 10, "error took longer than the timeout");
	rvmig_ep_close(ep);
	close(p.out_fd);
	rvmig_ctx_destroy(ctx);
	free(src);
}

Test(failure, receiver_killed_push, .timeout = 120) { receiver_killed(RVMIG_MODE_PUSH); }
Test(failure, receiver_killed_pull, .timeout = 120) { receiver_killed(RVMIG_MODE_PULL); }

/* The client dies mid-transfer: the receiver reports an error, no hang. */
Test(failure, client_killed, .timeout = 120)
{
	struct rx_opts o = { .attr = { .size = sizeof(o.attr), .timeout_ms = 3000 },
			     .total = 64 * MiB, .expect_error = 1 };
	struct peer p = start_receiver(&o);
	pid_t c = fork();
	int st = 0;

	if (!c) {
		rvmig_ctx *ctx = new_ctx();
		uint8_t *src = malloc(64 * MiB);
		rvmig_ep *ep = connect_to(ctx, p.port, NULL);

		fill(src, 64 * MiB, 1);
		rvmig_mr *mr;
		struct rvmig_event ev;
		unsigned done = 0;

		rvmig_mr_reg(ep, src, 64 * MiB, 0, &mr);
		for (unsigned i = 0; i < 64; i++)
			rvmig_client_post(ep, mr, i * MiB, MiB, i * MiB, i);
		while (done < 4) {
			rvmig_progress(ep, 100);
			while (rvmig_event_next(ep, &ev) > 0)
				done++;
		}
		raise(SIGKILL);
	}
	waitpid(c, &st, 0);
	cr_assert(WIFSIGNALED(st));
	st = wait_receiver(&p, NULL, NULL);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "receiver did not report the dead client (status %d)", st);
}

/* ---- authentication ---- */

static const char key_a[] = "0123456789abcdef0123456789abcdef";
static const char key_b[] = "fedcba9876543210fedcba9876543210";

/* Receiver with key `rk` accepts once (returns its accept status through the
 * exit code: 0 accepted, 1 nobody accepted by the time *done (a pipe's
 * write end, the caller's) is closed, or within 60 s).  The deadlines are
 * generous (a loaded host, valgrind): the tests wait for events. */
static struct peer start_auth_receiver(const char *rk, int *done)
{
	struct rx_opts o = { .attr = { .size = sizeof(o.attr), .timeout_ms = 20000 } };
	int pp[2], dp[2];
	struct peer p = { .out_fd = -1 };

	if (rk) {
		o.attr.psk = rk;
		o.attr.psk_len = (uint32_t)strlen(rk);
	}
	cr_assert_eq(pipe(pp), 0);
	cr_assert_eq(pipe(dp), 0);
	p.pid = fork();
	if (!p.pid) {
		rvmig_ctx *ctx = new_ctx();
		struct pollfd pf = { .fd = dp[0], .events = POLLIN };
		rvmig_listener *l;
		rvmig_ep *ep;
		double end = now_s() + 60;
		char u[128];
		int port, rc = -ETIMEDOUT;

		close(dp[1]);
		uri(u, sizeof(u), 0);
		if (rvmig_listen(ctx, u, &o.attr, &l))
			_exit(10);
		port = rvmig_listener_port(l);
		if (write(pp[1], &port, sizeof(port)) != sizeof(port))
			_exit(11);
		/* Until a client is accepted, or the caller says it is done. */
		while (rc && now_s() < end && poll(&pf, 1, 0) == 0)
			rc = rvmig_accept(l, 200, &ep);
		if (rc)
			_exit(1);
		/* Serve until the client goes. */
		for (;;) {
			struct rvmig_event ev;

			if (rvmig_progress(ep, 500) < 0)
				break;
			if (rvmig_event_next(ep, &ev) > 0 && ev.type == RVMIG_EV_PEER_CLOSED)
				break;
		}
		rvmig_ep_close(ep);
		rvmig_ctx_destroy(ctx);
		_exit(0);
	}
	close(pp[1]);
	close(dp[0]);
	*done = dp[1];
	cr_assert_eq(read(pp[0], &p.port, sizeof(p.port)), (ssize_t)sizeof(p.port));
	close(pp[0]);
	return p;
}

static int auth_try(const char *rk, const char *ck, int *rx_status)
{
	int done;
	struct peer p = start_auth_receiver(rk, &done);
	struct rvmig_ep_attr a = { .size = sizeof(a), .timeout_ms = 20000 };
	rvmig_ctx *ctx = new_ctx();
	rvmig_ep *ep = NULL;
	char u[128];
	int rc, st = 0;

	if (ck) {
		a.psk = ck;
		a.psk_len = (uint32_t)strlen(ck);
	}
	uri(u, sizeof(u), p.port);
	rc = rvmig_connect(ctx, u, &a, &ep);
	if (!rc)
		rvmig_ep_close(ep);
	else
		close(done); /* refused: the receiver stops waiting for us */
	waitpid(p.pid, &st, 0);
	if (!rc)
		close(done);
	*rx_status = WIFEXITED(st) ? WEXITSTATUS(st) : 100;
	rvmig_ctx_destroy(ctx);
	return rc;
}

Test(auth, same_key_accepted)
{
	int rx;

	cr_assert_eq(auth_try(key_a, key_a, &rx), 0);
	cr_assert_eq(rx, 0, "receiver did not accept the authenticated client");
}

Test(auth, wrong_key_refused, .timeout = 60)
{
	int rx, rc = auth_try(key_a, key_b, &rx);

	cr_assert_eq(rc, -RVMIG_EAUTH, "got %s", rvmig_strerror(rc));
	cr_assert_eq(rx, 1, "receiver accepted a client with the wrong key");
}

Test(auth, client_without_key_refused, .timeout = 60)
{
	int rx, rc = auth_try(key_a, NULL, &rx);

	cr_assert_eq(rc, -RVMIG_EAUTH, "got %s", rvmig_strerror(rc));
	cr_assert_eq(rx, 1);
}

Test(auth, receiver_without_key_refused_by_client, .timeout = 60)
{
	int rx, rc = auth_try(NULL, key_a, &rx);

	cr_assert_eq(rc, -RVMIG_EAUTH, "got %s", rvmig_strerror(rc));
	(void)rx;
}

Test(auth, key_file_permissions)
{
	char path[] = "/tmp/rvmig-key-XXXXXX";
	uint8_t buf[256];
	size_t len = sizeof(buf);
	rvmig_ctx *ctx = new_ctx();
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, key_a, strlen(key_a)), (ssize_t)strlen(key_a));
	cr_assert_eq(write(fd, "\n", 1), 1);
	close(fd);
	chmod(path, 0644);
	cr_assert_eq(rvmig_key_load(ctx, path, buf, &len), -EPERM, "a world-readable key was loaded");
	chmod(path, 0600);
	len = sizeof(buf);
	cr_assert_eq(rvmig_key_load(ctx, path, buf, &len), 0);
	cr_assert_eq(len, strlen(key_a));
	cr_assert_eq(memcmp(buf, key_a, len), 0);
	unlink(path);
	rvmig_ctx_destroy(ctx);
}

/* ---- hostile peers before authentication (TCP, hand-built) ----
 *
 * These peers speak the TCP transport's set-up and frames themselves
 * (transport/tcp/tcp.h, proto/wire.h): a hello that the listener accepts,
 * then whatever a peer without the key can do.  rdma_cm carries the hello
 * in the connect request, so they run over TCP only; the library code they
 * exercise (the handshake state kept by the listener) is the same for
 * verbs. */

static int raw_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(inet_pton(AF_INET, host(), &sa.sin_addr), 1);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	return fd;
}

/* The hello of link `idx` of an `nlinks`-link push session, encoded. */
static struct wire_hello raw_hello_msg(uint64_t session, uint8_t nlinks, uint8_t idx)
{
	struct wire_hello h = { .magic = WIRE_MAGIC, .version = WIRE_VERSION, .kind = HELLO_REQ,
				.mode = RVMIG_MODE_PUSH, .caps = WIRE_CAP_PUSH | WIRE_CAP_PULL,
				.link_idx = idx, .nlinks = nlinks, .ctrl_credits = EP_CTRL_CREDITS,
				.session = session, .timeout_ms = 30000 };

	wire_hello_enc(&h);
	return h;
}

/* Sends a hello for link `idx` of an `nlinks`-link session and returns the
 * listener's answer (TCP_SETUP_ACCEPT or TCP_SETUP_REJECT). */
static int raw_hello(int fd, uint64_t session, uint8_t nlinks, uint8_t idx)
{
	struct wire_hello h = raw_hello_msg(session, nlinks, idx);
	uint8_t reply[TP_HELLO_MAX], kind = 0;
	size_t len = sizeof(reply);

	cr_assert_eq(tcp_setup_send(fd, TCP_SETUP_HELLO, &h, sizeof(h), 3000), 0);
	cr_assert_eq(tcp_setup_recv(fd, &kind, reply, &len, 3000), 0, "no answer to the hello");
	return kind;
}

/* A keyed receiver (run_receiver) that expects `total` bytes. */
static struct rx_opts keyed_rx(uint64_t total)
{
	struct rx_opts o = { .attr = { .size = sizeof(o.attr), .timeout_ms = 30000,
				       .psk = key_a, .psk_len = sizeof(key_a) - 1 },
			     .total = total };

	return o;
}

/* Whether the listener still holds fd's connection (reads what it sent). */
static bool still_open(int fd)
{
	for (;;) {
		uint8_t sink[4096];
		ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (n <= 0)
			return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

/* Connects with key_a, moves `len` bytes, closes; returns connect's time.
 * held_fd >= 0: a hostile peer's connection that the listener must still
 * hold once the keyed client is connected. */
static double keyed_transfer(int port, uint64_t len, int held_fd)
{
	struct rvmig_ep_attr a = { .size = sizeof(a), .timeout_ms = 20000, .psk = key_a,
				   .psk_len = sizeof(key_a) - 1 };
	rvmig_ctx *ctx = new_ctx();
	uint8_t *src = malloc(len);
	rvmig_ep *ep = NULL;
	rvmig_mr *mr;
	double t0, took;
	char u[128];
	int rc, status = 0;

	fill(src, len, 21);
	uri(u, sizeof(u), port);
	t0 = now_s();
	rc = rvmig_connect(ctx, u, &a, &ep);
	took = now_s() - t0;
	cr_assert_eq(rc, 0, "the keyed client was not served: %s (after %.2f s)", rvmig_strerror(rc),
		     took);
	cr_assert(held_fd < 0 || still_open(held_fd),
		  "the hostile peer was dropped before the keyed client was served");
	cr_assert_eq(rvmig_mr_reg(ep, src, len, RVMIG_MR_LOCAL, &mr), 0);
	cr_assert_eq(rvmig_client_post(ep, mr, 0, len, 0, 1), 0);
	cr_assert_eq(drain(ep, NULL, &status), 0);
	cr_assert_eq(status, 0);
	cr_assert_eq(rvmig_mr_dereg(mr), 0);
	rvmig_ep_close(ep);
	rvmig_ctx_destroy(ctx);
	free(src);
	return took;
}

/* A peer without the key completes the hello and never answers the
 * CHALLENGE.  The receiver's accept must not wait on that peer: a keyed
 * client (20 s timeout) is served while the listener still holds it (its
 * auth_timeout_ms is 120 s: a served client that had waited for the drop
 * would have timed out first). */
Test(auth, keyless_silent_peer_does_not_delay_keyed_client, .timeout = 90)
{
	struct rx_opts o = keyed_rx(MiB);
	struct peer p;
	double took;
	int fd;

	if (strcmp(transport(), "tcp"))
		cr_skip_test("TCP only: the hostile peer is a hand-built TCP client");
	o.attr.auth_timeout_ms = 120000;
	p = start_receiver(&o);
	fd = raw_connect(p.port);
	cr_assert_eq(raw_hello(fd, 0x5157, 1, 0), TCP_SETUP_ACCEPT);
	took = keyed_transfer(p.port, MiB, fd);
	cr_log_info("keyed client connected in %.3f s next to a silent keyless peer", took);
	cr_assert_eq(wait_receiver(&p, (uint8_t[32]){ 0 }, &(uint64_t){ 0 }), 0, "receiver failed");
	close(fd);
}

/* The unanswered CHALLENGE expires after auth_timeout_ms, not after the
 * receiver's (much longer) timeout_ms: the listener closes the connection.
 * (5 s: room for a keyed client's own handshake afterwards on a loaded
 * host, or under valgrind; at 1 s it was itself refused now and then.) */
#define CHALLENGE_AUTH_MS 5000
Test(auth, unanswered_challenge_dropped_at_auth_timeout, .timeout = 120)
{
	int pp[2], port, fd, st;
	double t0, took;
	pid_t pid;

	if (strcmp(transport(), "tcp"))
		cr_skip_test("TCP only: the hostile peer is a hand-built TCP client");
	cr_assert_eq(pipe(pp), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		struct rvmig_ep_attr a = { .size = sizeof(a), .timeout_ms = 30000, .psk = key_a,
					   .psk_len = sizeof(key_a) - 1,
					   .auth_timeout_ms = CHALLENGE_AUTH_MS };
		rvmig_ctx *ctx = new_ctx();
		rvmig_listener *l;
		rvmig_ep *ep = NULL;
		double end = now_s() + 60;
		char u[128];

		close(pp[0]);
		uri(u, sizeof(u), 0);
		if (rvmig_listen(ctx, u, &a, &l))
			_exit(10);
		port = rvmig_listener_port(l);
		if (write(pp[1], &port, sizeof(port)) != sizeof(port))
			_exit(11);
		while (!ep && now_s() < end)
			rvmig_accept(l, 200, &ep);
		if (!ep)
			_exit(12);
		for (bool closed = false; !closed;) { /* serve until the client goes */
			struct rvmig_event ev;

			if (rvmig_progress(ep, 500) < 0)
				_exit(13);
			while (rvmig_event_next(ep, &ev) > 0) {
				if (ev.type == RVMIG_EV_RECV_DATA)
					rvmig_recv_release(ep, ev.token);
				else if (ev.type == RVMIG_EV_PEER_CLOSED)
					closed = true;
			}
		}
		rvmig_ep_close(ep);
		rvmig_listener_close(l);
		rvmig_ctx_destroy(ctx);
		_exit(0);
	}
	close(pp[1]);
	cr_assert_eq(read(pp[0], &port, sizeof(port)), (ssize_t)sizeof(port));
	close(pp[0]);
	fd = raw_connect(port);
	t0 = now_s();
	cr_assert_eq(raw_hello(fd, 0x5158, 1, 0), TCP_SETUP_ACCEPT);
	/* The CHALLENGE comes, then the end of the connection. */
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		uint8_t sink[4096];
		ssize_t n;

		cr_assert_eq(poll(&pf, 1, 25000), 1, "the listener kept the keyless peer 25 s");
		n = recv(fd, sink, sizeof(sink), 0);
		if (n <= 0)
			break;
	}
	took = now_s() - t0;
	cr_log_info("keyless peer dropped after %.3f s (auth_timeout_ms %d)", took,
		    CHALLENGE_AUTH_MS);
	/* At auth_timeout_ms, long before timeout_ms (30 s): the margin is for
	 * a loaded host, or valgrind. */
	cr_assert(took > CHALLENGE_AUTH_MS / 1000.0 - 0.2 && took < 20.0,
		  "dropped after %.2f s, not at auth_timeout_ms", took);
	close(fd);
	/* The listener still serves a keyed client. */
	keyed_transfer(port, 4096, -1);
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "receiver failed (status %d)", st);
}

/* Keyless peers that announce a 2-link session and open only one link
 * (half-open sessions) must not take the places of authenticated clients:
 * with max_conns 2 and 70 of them waiting (more links than the pool of
 * peers in their handshake holds), a keyed client is still served. */
Test(limit, keyless_half_open_sessions_do_not_take_places, .timeout = 60)
{
	enum { N = 70 };
	struct rx_opts o = keyed_rx(MiB);
	int fds[N];
	struct peer p;
	double took;

	if (strcmp(transport(), "tcp"))
		cr_skip_test("TCP only: the hostile peers are hand-built TCP clients");
	o.attr.max_conns = 2;
	p = start_receiver(&o);
	for (int i = 0; i < N; i++) {
		fds[i] = raw_connect(p.port);
		cr_assert_eq(raw_hello(fds[i], 0x4a10 + (uint64_t)i, 2, 0), TCP_SETUP_ACCEPT,
			     "half-open peer %d was refused", i);
	}
	took = keyed_transfer(p.port, MiB, -1);
	cr_log_info("keyed client served in %.3f s next to %d half-open sessions", took, N);
	cr_assert_eq(wait_receiver(&p, (uint8_t[32]){ 0 }, &(uint64_t){ 0 }), 0, "receiver failed");
	for (int i = 0; i < N; i++)
		close(fds[i]);
}

/* Before authentication nothing is served: a keyless peer that sends
 * zero-length READ_REQ frames after its hello gets no READ_RESP and the
 * listener closes the connection at the first one (instead of queueing an
 * answer per frame).  The listener then serves a keyed client. */
Test(auth, read_req_before_auth_closes_connection, .timeout = 60)
{
	enum { FRAMES = 20000 };
	struct rx_opts o = keyed_rx(4096);
	struct tcp_frame f = { .op = TCP_F_READ_REQ, .id = 1 };
	struct tcp_frame hdr;
	size_t sent = 0, hgot = 0, skip = 0;
	unsigned resp = 0, sends = 0;
	bool closed = false;
	double end;
	struct peer p;
	int fd;

	if (strcmp(transport(), "tcp"))
		cr_skip_test("TCP only: the hostile peer is a hand-built TCP client");
	p = start_receiver(&o);
	fd = raw_connect(p.port);
	cr_assert_eq(raw_hello(fd, 0x5159, 1, 0), TCP_SETUP_ACCEPT);
	end = now_s() + 30.0; /* the close ends it: a deadline for a loaded host */
	while (!closed && now_s() < end) {
		struct pollfd pf = { .fd = fd, .events = POLLIN | (sent < FRAMES ? POLLOUT : 0) };
		uint8_t buf[65536];
		ssize_t n;

		if (poll(&pf, 1, 100) <= 0)
			continue;
		if (pf.revents & POLLIN) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n <= 0) {
				closed = n == 0 || errno != EAGAIN;
				continue;
			}
			/* Count the frames that come back: SENDs (the CHALLENGE,
			 * an ERROR) are fine, a READ_RESP is not. */
			for (ssize_t i = 0; i < n;) {
				if (skip) {
					size_t k = (size_t)(n - i) < skip ? (size_t)(n - i) : skip;

					skip -= k;
					i += (ssize_t)k;
					continue;
				}
				((uint8_t *)&hdr)[hgot++] = buf[i++];
				if (hgot < sizeof(hdr))
					continue;
				hgot = 0;
				skip = le32toh(hdr.len);
				if (hdr.op == TCP_F_READ_RESP)
					resp++;
				else if (hdr.op == TCP_F_SEND)
					sends++;
			}
		}
		if ((pf.revents & POLLOUT) && sent < FRAMES) {
			n = send(fd, &f, sizeof(f), MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n == sizeof(f))
				sent++;
			else if (n < 0 && errno != EAGAIN)
				sent = FRAMES; /* the listener closed: stop writing */
		}
		if (pf.revents & (POLLHUP | POLLERR))
			closed = true;
	}
	cr_log_info("%zu READ_REQ frames written, %u READ_RESP and %u SEND frames back, %s", sent,
		    resp, sends, closed ? "closed" : "still open");
	cr_assert_eq(resp, 0, "%u READ_REQ frames were answered before authentication", resp);
	cr_assert(closed, "the connection stayed open after READ_REQ frames before authentication");
	close(fd);
	keyed_transfer(p.port, 4096, -1);
	cr_assert_eq(wait_receiver(&p, (uint8_t[32]){ 0 }, &(uint64_t){ 0 }), 0, "receiver failed");
}

/* ---- handshake deadlines seen by a server that polls the listener fd ----
 *
 * rvmigd's pattern (xfer.h, "Servicing requests"): poll rvmig_listener_fd()
 * and call rvmig_accept(l, 0) only when it is readable.  The fd must become
 * readable when any handshake deadline passes, the TCP transport's hello
 * deadline included, with nothing else going on: the listener's own timer
 * has to fire.  Each peer here is alone with its listener, so no other
 * peer's traffic wakes it. */

#define DEADLINE_MS 1000
/* How late a drop may come: before the hello's former fixed 5 s deadline,
 * with 3.5 s for a loaded host (a listener whose timer missed the
 * deadline kept the peer until the end of the test). */
#define DEADLINE_LATE_S 4.5

/* A keyed listener with auth_timeout_ms DEADLINE_MS served that way; it
 * closes whatever it accepts and ends after 15 s. */
static struct peer start_polling_listener(void)
{
	int pp[2];
	struct peer p = { .out_fd = -1 };

	cr_assert_eq(pipe(pp), 0);
	p.pid = fork();
	cr_assert_geq(p.pid, 0);
	if (!p.pid) {
		struct rvmig_ep_attr a = { .size = sizeof(a), .timeout_ms = 30000, .psk = key_a,
					   .psk_len = sizeof(key_a) - 1,
					   .auth_timeout_ms = DEADLINE_MS };
		rvmig_ctx *ctx = new_ctx();
		double end = now_s() + 15;
		rvmig_listener *l;
		rvmig_ep *ep;
		char u[128];
		int port;

		close(pp[0]);
		uri(u, sizeof(u), 0);
		if (rvmig_listen(ctx, u, &a, &l))
			_exit(10);
		port = rvmig_listener_port(l);
		if (write(pp[1], &port, sizeof(port)) != sizeof(port))
			_exit(11);
		while (now_s() < end) {
			struct pollfd pf = { .fd = rvmig_listener_fd(l), .events = POLLIN };

			if (poll(&pf, 1, 1000) == 1 && !rvmig_accept(l, 0, &ep))
				rvmig_ep_close(ep);
		}
		rvmig_listener_close(l);
		rvmig_ctx_destroy(ctx);
		_exit(0);
	}
	close(pp[1]);
	cr_assert_eq(read(pp[0], &p.port, sizeof(p.port)), (ssize_t)sizeof(p.port),
		     "listener did not start");
	close(pp[0]);
	return p;
}

/* Waits up to `ms` for the listener to close fd (whatever it sent before);
 * returns whether it did. */
static bool closed_within(int fd, int ms)
{
	double end = now_s() + ms / 1000.0;

	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		uint8_t sink[4096];
		int left = (int)((end - now_s()) * 1000);
		ssize_t n;

		if (left <= 0 || poll(&pf, 1, left) != 1)
			return false;
		n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
	}
}

static void stop_listener(struct peer *p)
{
	int st = 0;

	kill(p->pid, SIGKILL);
	waitpid(p->pid, &st, 0);
}

/* Half a hello, then nothing: dropped at the hello deadline (the listener's
 * auth_timeout_ms).  It stayed connected for as long as nothing else woke
 * the server: the timer knew only the deadlines of whole-hello sessions. */
Test(listener, half_hello_dropped_by_idle_listener, .timeout = 60)
{
	struct peer p;
	double t0, took;
	bool closed;
	int fd;

	if (strcmp(transport(), "tcp"))
		cr_skip_test("TCP only: rdma_cm carries the hello in the connect request");
	p = start_polling_listener();
	fd = raw_connect(p.port);
	t0 = now_s();
	cr_assert_eq(write(fd, "\x01\x30", 2), 2); /* a hello frame's kind and length */
	closed = closed_within(fd, DEADLINE_MS + 6000); /* past the former fixed 5 s too */
	took = now_s() - t0;
	cr_log_info("half-hello peer %s after %.3f s (deadline %d ms)", closed ? "dropped" : "open",
		    took, DEADLINE_MS);
	cr_assert(closed, "the listener kept a half-hello peer %.1f s (deadline %d ms)", took,
		  DEADLINE_MS);
	cr_assert(took > DEADLINE_MS / 1000.0 - 0.2 && took < DEADLINE_LATE_S,
		  "dropped after %.2f s, deadline %d ms", took, DEADLINE_MS);
	close(fd);
	stop_listener(&p);
}

/* A hello sent a byte every 100 ms (slowloris, 5 s for all of it): dropped
 * at the hello deadline, long before it is whole. */
Test(listener, slow_hello_dropped_at_deadline, .timeout = 60)
{
	struct wire_hello h = raw_hello_msg(0x5160, 1, 0);
	uint8_t frame[2 + sizeof(h)] = { TCP_SETUP_HELLO, sizeof(h) };
	size_t sent = 0;
	bool closed = false;
	double t0, took;
	struct peer p;
	int fd;

	if (strcmp(transport(), "tcp"))
		cr_skip_test("TCP only: rdma_cm carries the hello in the connect request");
	memcpy(frame + 2, &h, sizeof(h));
	p = start_polling_listener();
	fd = raw_connect(p.port);
	t0 = now_s();
	while (!closed && sent < sizeof(frame)) {
		if (send(fd, frame + sent, 1, MSG_NOSIGNAL) != 1)
			closed = true;
		else
			sent++;
		closed = closed || closed_within(fd, 100);
	}
	closed = closed || closed_within(fd, DEADLINE_MS + 1000);
	took = now_s() - t0;
	cr_log_info("slow hello %s after %.3f s, %zu of %zu bytes sent", closed ? "dropped" : "open",
		    took, sent, sizeof(frame));
	cr_assert(closed, "the listener kept a slow hello %.1f s", took);
	cr_assert_lt(sent, sizeof(frame), "the slow hello was whole before it was dropped");
	cr_assert(took < DEADLINE_LATE_S, "dropped after %.2f s, deadline %d ms", took, DEADLINE_MS);
	close(fd);
	stop_listener(&p);
}

/* A whole hello of link 0 of 2, then nothing: the session is dropped when
 * its second link is late, by the same timer. */
Test(listener, half_open_session_dropped_by_idle_listener, .timeout = 60)
{
	struct peer p;
	double t0, took;
	bool closed;
	int fd;

	if (strcmp(transport(), "tcp"))
		cr_skip_test("TCP only: the hostile peer is a hand-built TCP client");
	p = start_polling_listener();
	fd = raw_connect(p.port);
	t0 = now_s();
	cr_assert_eq(raw_hello(fd, 0x5161, 2, 0), TCP_SETUP_ACCEPT);
	closed = closed_within(fd, DEADLINE_MS + 4000);
	took = now_s() - t0;
	cr_log_info("half-open session %s after %.3f s", closed ? "dropped" : "open", took);
	cr_assert(closed, "the listener kept a half-open session %.1f s", took);
	cr_assert(took > DEADLINE_MS / 1000.0 - 0.2 && took < DEADLINE_LATE_S,
		  "dropped after %.2f s, deadline %d ms", took, DEADLINE_MS);
	close(fd);
	stop_listener(&p);
}

/* Link requests that are already waiting are all answered by one
 * rvmig_accept(l, 0) (up to 64).  It answered one per call, leaving the
 * others a round of the server's loop each: in the soak, under 50 hostile
 * clients on a loaded host, the TCP transport's set of 64 waiting peers
 * overflowed and links of legitimate tunnels were dropped unanswered. */
Test(listener, waiting_hellos_answered_in_one_accept, .timeout = 60)
{
	enum { N = 40 };
	struct rvmig_ep_attr a = { .size = sizeof(a), .psk = key_a, .psk_len = sizeof(key_a) - 1 };
	rvmig_ctx *ctx;
	rvmig_listener *l;
	rvmig_ep *ep = NULL;
	unsigned answered = 0;
	int fds[N], rc;
	char u[128];

	if (strcmp(transport(), "tcp"))
		cr_skip_test("TCP only: the peers are hand-built TCP clients");
	ctx = new_ctx();
	uri(u, sizeof(u), 0);
	cr_assert_eq(rvmig_listen(ctx, u, &a, &l), 0);
	for (int i = 0; i < N; i++) {
		struct wire_hello h = raw_hello_msg(0x5200 + (uint64_t)i, 1, 0);

		fds[i] = raw_connect(rvmig_listener_port(l));
		cr_assert_eq(tcp_setup_send(fds[i], TCP_SETUP_HELLO, &h, sizeof(h), 3000), 0);
	}
	usleep(200000); /* every hello is in the listener's socket buffers */
	rc = rvmig_accept(l, 0, &ep);
	cr_assert_eq(rc, -ETIMEDOUT, "got %d (%s)", rc, rvmig_strerror(rc));
	for (int i = 0; i < N; i++) {
		struct pollfd pf = { .fd = fds[i], .events = POLLIN };

		answered += poll(&pf, 1, 0) == 1;
		close(fds[i]);
	}
	cr_log_info("%u of %d waiting hellos answered by one rvmig_accept(l, 0)", answered, N);
	cr_assert_eq(answered, N, "one rvmig_accept(l, 0) answered %u of %d waiting hellos",
		     answered, N);
	rvmig_listener_close(l);
	rvmig_ctx_destroy(ctx);
}

/* ---- integrity ---- */

/* A chunk damaged between the wire and the consumer is caught by its CRC32C:
 * the receiver fails naming the chunk, the client learns why. */
static void corrupted(enum rvmig_mode mode)
{
	const uint64_t len = 8 * MiB;
	struct rx_opts o = { .attr = { .size = sizeof(o.attr) }, .total = len, .corrupt_seq = 3,
			     .expect_error = 1 };
	struct rvmig_ep_attr a = { .size = sizeof(a), .mode = mode, .flags = RVMIG_EP_CHECKSUM,
				   .timeout_ms = 5000 };
	rvmig_ctx *ctx = new_ctx();
	uint8_t *src = malloc(len);
	struct peer p = start_receiver(&o);
	rvmig_ep *ep;
	rvmig_mr *mr;
	int rc, status = 0, st;

	fill(src, len, 5);
	ep = connect_to(ctx, p.port, &a);
	cr_assert_eq(rvmig_mr_reg(ep, src, len, mode == RVMIG_MODE_PULL ? RVMIG_MR_REMOTE_READ : 0,
				  &mr), 0);
	cr_assert_eq(rvmig_client_post(ep, mr, 0, len, 0, 1), 0);
	rc = drain(ep, NULL, &status);
	/* Push completes requests once the WRITEs are placed; the receiver's
	 * verdict arrives after: keep progressing until it does. */
	for (int i = 0; rc >= 0 && !status && i < 100; i++) {
		struct rvmig_event ev;

		rc = rvmig_progress(ep, 100);
		while (rvmig_event_next(ep, &ev) > 0)
			if (ev.status && !status)
				status = ev.status;
	}
	cr_assert(rc < 0 || status < 0, "damaged data went through unnoticed");
	cr_assert_eq(rc < 0 ? rc : status, -RVMIG_EINTEGRITY, "client saw %s, not the receiver's reason",
		     rvmig_strerror(rc < 0 ? rc : status));
	rvmig_ep_close(ep);
	st = wait_receiver(&p, NULL, NULL);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "receiver did not fail cleanly (%d)", st);
	rvmig_ctx_destroy(ctx);
	free(src);
}

Test(integrity, corrupted_chunk_push, .timeout = 60) { corrupted(RVMIG_MODE_PUSH); }
Test(integrity, corrupted_chunk_pull, .timeout = 60) { corrupted(RVMIG_MODE_PULL); }

/* ---- load ---- */

/*
 * What a process holds, counted: open fds and the sockets among them (from
 * /proc/self/fd) and, on verbs, the QPs, CQs, MRs, PDs and CM IDs the kernel's
 * RDMA resource tracking lists for the process (`rdma -j resource show`,
 * iproute2).  The load tests compare counts before and after and must fail
 * on any leak.
 */
struct res_count {
	int fds, sockets;
	int qp, cq, mr, pd, cm_id; /* -1: not counted (tcp) */
};

static const char *const rdma_res_types[] = { "qp", "cq", "mr", "pd", "cm_id" };

/* Entries of `rdma -j resource show TYPE` owned by `pid`; -2 if the tool
 * failed (counted as a test failure by the caller). */
static int rdma_res_count(const char *type, pid_t pid)
{
	char cmd[128], key[32], *out = NULL;
	size_t cap = 0, len = 0;
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "rdma -j resource show %s 2>/dev/null", type);
	f = popen(cmd, "r");
	if (!f)
		return -2;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *o = realloc(out, cap = cap * 2 + 8192);

			if (!o)
				break;
			out = o;
		}
		size_t r = fread(out + len, 1, cap - len - 1, f);

		if (!r)
			break;
		len += r;
	}
	if (pclose(f) != 0 || !out || len < 2 || out[0] != '[') {
		free(out);
		return -2;
	}
	out[len] = 0;
	snprintf(key, sizeof(key), "\"pid\":%d", (int)pid);
	for (const char *p = out; (p = strstr(p, key)); p += strlen(key))
		if (p[strlen(key)] < '0' || p[strlen(key)] > '9')
			n++;
	free(out);
	return n;
}

static void res_take(struct res_count *c)
{
	char path[64], link[128];
	bool verbs = !strcmp(transport(), "verbs");
	int *rdma[] = { &c->qp, &c->cq, &c->mr, &c->pd, &c->cm_id };

	memset(c, 0, sizeof(*c));
	for (int fd = 0; fd < 1000; fd++) { /* valgrind keeps its own fds above */
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		c->fds++;
		if (!strncmp(link, "socket:", 7))
			c->sockets++;
	}
	for (size_t i = 0; i < sizeof(rdma) / sizeof(rdma[0]); i++)
		*rdma[i] = verbs ? rdma_res_count(rdma_res_types[i], getpid()) : -1;
}

static void res_print(char *buf, size_t n, const struct res_count *c)
{
	snprintf(buf, n, "fds %d sockets %d qp %d cq %d mr %d pd %d cm_id %d", c->fds, c->sockets,
		 c->qp, c->cq, c->mr, c->pd, c->cm_id);
}

/* Asserts that nothing was leaked between `a` (before) and `b` (after). */
static void res_assert_same(const struct res_count *a, const struct res_count *b, const char *who)
{
	char x[160], y[160];

	res_print(x, sizeof(x), a);
	res_print(y, sizeof(y), b);
	cr_log_info("%s: before: %s; after: %s", who, x, y);
	if (!strcmp(transport(), "verbs"))
		cr_assert(a->qp >= 0 && a->cq >= 0 && a->mr >= 0 && a->pd >= 0 && a->cm_id >= 0 &&
			  b->qp >= 0 && b->cq >= 0 && b->mr >= 0 && b->pd >= 0 && b->cm_id >= 0,
			  "%s: cannot read the kernel's RDMA resource tracking (`rdma -j resource "
			  "show`): %s / %s", who, x, y);
	cr_assert(!memcmp(a, b, sizeof(*a)), "%s leaked resources: before: %s; after: %s", who, x,
		  y);
}

static unsigned load_count(unsigned dflt)
{
	const char *s = getenv("RVMIG_TEST_LOAD_COUNT");

	return s && atoi(s) > 0 ? (unsigned)atoi(s) : dflt;
}

/* Many short transfers in a row between the same two processes: every
 * endpoint's sockets/QPs, CQs, MRs, PDs and CM IDs are released (counted on
 * both sides from the 2nd connection, after one-time library set-up, to the
 * end: the counts must be equal). */
Test(load, sequential_short_transfers, .timeout = 900)
{
	const unsigned n = load_count(1000);
	int pp[2], rp[2], gp[2];
	pid_t pid;
	int port, st;
	struct res_count cl_before = { 0 }, cl_after, rx_before, rx_after;
	rvmig_ctx *ctx;
	uint8_t src[8192];

	fill(src, sizeof(src), 11);
	cr_assert_eq(pipe(pp), 0);
	cr_assert_eq(pipe(rp), 0);
	cr_assert_eq(pipe(gp), 0);
	pid = fork();
	if (!pid) {
		rvmig_ctx *c = new_ctx();
		rvmig_listener *l;
		struct res_count before = { 0 }, after;
		char u[128];
		int rc = 0;

		uri(u, sizeof(u), 0);
		if (rvmig_listen(c, u, NULL, &l))
			_exit(10);
		port = rvmig_listener_port(l);
		if (write(pp[1], &port, sizeof(port)) != sizeof(port))
			_exit(11);
		for (unsigned i = 0; i < n && !rc; i++) {
			rvmig_ep *ep;
			uint64_t got = 0;
			bool closed = false;

			if (i == 1) {
				/* The client waits for this before it connects
				 * again: an incoming request already has a CM ID
				 * in our name, so count while none is under way. */
				res_take(&before);
				if (write(gp[1], "g", 1) != 1)
					_exit(17);
			}
			if (rvmig_accept(l, 20000, &ep))
				_exit(12);
			while (!closed) {
				struct rvmig_event ev;

				if (rvmig_progress(ep, 1000) < 0) {
					rc = 13;
					break;
				}
				while (rvmig_event_next(ep, &ev) > 0) {
					if (ev.type == RVMIG_EV_RECV_DATA) {
						if (memcmp(ev.data, src + ev.stream_off, ev.len))
							rc = 14;
						got += ev.len;
						rvmig_recv_release(ep, ev.token);
					} else if (ev.type == RVMIG_EV_PEER_CLOSED) {
						closed = true;
					}
				}
			}
			rvmig_ep_close(ep);
			if (got != sizeof(src))
				rc = 15;
		}
		res_take(&after);
		if (write(rp[1], &before, sizeof(before)) != sizeof(before) ||
		    write(rp[1], &after, sizeof(after)) != sizeof(after))
			rc = 16;
		rvmig_listener_close(l);
		rvmig_ctx_destroy(c);
		_exit(rc);
	}
	close(pp[1]);
	close(rp[1]);
	cr_assert_eq(read(pp[0], &port, sizeof(port)), (ssize_t)sizeof(port));
	ctx = new_ctx();
	for (unsigned i = 0; i < n; i++) {
		rvmig_ep *ep;
		rvmig_mr *mr;
		int status = 0;

		if (i == 1) {
			char g;

			res_take(&cl_before);
			cr_assert_eq(read(gp[0], &g, 1), 1, "receiver did not count its resources");
		}
		ep = connect_to(ctx, port, NULL);
		cr_assert_eq(rvmig_mr_reg(ep, src, sizeof(src), 0, &mr), 0);
		cr_assert_eq(rvmig_client_post(ep, mr, 0, sizeof(src), 0, i), 0);
		cr_assert_eq(drain(ep, NULL, &status), 0, "transfer %u", i);
		cr_assert_eq(status, 0);
		if (i == 1) {
			/* The counters do see an open endpoint (2 links). */
			struct res_count open;
			char x[160];

			res_take(&open);
			res_print(x, sizeof(x), &open);
			cr_log_info("client with one endpoint open: %s", x);
			cr_assert_geq(open.fds, cl_before.fds, "%s", x);
			if (!strcmp(transport(), "verbs"))
				cr_assert(open.qp >= cl_before.qp + 2 && open.cq > cl_before.cq &&
					  open.mr > cl_before.mr && open.pd > cl_before.pd &&
					  open.cm_id >= cl_before.cm_id + 2,
					  "RDMA resource tracking does not show the open endpoint: %s", x);
			else
				cr_assert_geq(open.sockets, cl_before.sockets + 2, "%s", x);
		}
		cr_assert_eq(rvmig_mr_dereg(mr), 0);
		rvmig_ep_close(ep);
	}
	res_take(&cl_after);
	if (n > 1)
		res_assert_same(&cl_before, &cl_after, "client (sequential connections 2..n)");
	cr_assert_eq(read(rp[0], &rx_before, sizeof(rx_before)), (ssize_t)sizeof(rx_before),
		     "receiver reported no resource counts");
	cr_assert_eq(read(rp[0], &rx_after, sizeof(rx_after)), (ssize_t)sizeof(rx_after));
	close(rp[0]);
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "receiver failed (status %d)",
		  WEXITSTATUS(st));
	if (n > 1)
		res_assert_same(&rx_before, &rx_after, "receiver (sequential connections 2..n)");
	rvmig_ctx_destroy(ctx);
}

/* Ten clients at once into one receiver process, served from one event loop
 * over the endpoints' file descriptors. */
Test(load, ten_concurrent_clients, .timeout = 900)
{
	enum { N = 10 };
	const uint64_t len = 6 * MiB + 123;
	int pp[2], rp[2], port, st;
	pid_t rx, cl[N];
	struct res_count rx_before, rx_after;

	cr_assert_eq(pipe(pp), 0);
	cr_assert_eq(pipe(rp), 0);
	rx = fork();
	if (!rx) {
		rvmig_ctx *c = new_ctx();
		rvmig_listener *l;
		rvmig_ep *eps[N];
		uint64_t got[N] = { 0 };
		bool closed[N] = { false };
		unsigned nclosed = 0;
		char u[128];
		uint8_t *want = malloc(len);

		struct res_count before, after;

		fill(want, len, 77);
		uri(u, sizeof(u), 0);
		if (rvmig_listen(c, u, NULL, &l))
			_exit(10);
		res_take(&before);
		port = rvmig_listener_port(l);
		if (write(pp[1], &port, sizeof(port)) != sizeof(port))
			_exit(11);
		for (int i = 0; i < N; i++)
			if (rvmig_accept(l, 30000, &eps[i]))
				_exit(12);
		while (nclosed < N) {
			struct pollfd pfd[N];

			for (int i = 0; i < N; i++)
				pfd[i] = (struct pollfd){ .fd = closed[i] ? -1 : rvmig_ep_fd(eps[i]),
							  .events = POLLIN };
			poll(pfd, N, 100);
			for (int i = 0; i < N; i++) {
				struct rvmig_event ev;

				if (closed[i])
					continue;
				if (rvmig_progress(eps[i], 0) < 0)
					_exit(13);
				while (rvmig_event_next(eps[i], &ev) > 0) {
					if (ev.type == RVMIG_EV_RECV_DATA) {
						if (memcmp(ev.data, want + ev.stream_off, ev.len))
							_exit(14);
						got[i] += ev.len;
						rvmig_recv_release(eps[i], ev.token);
					} else if (ev.type == RVMIG_EV_PEER_CLOSED) {
						closed[i] = true;
						nclosed++;
					}
				}
			}
		}
		for (int i = 0; i < N; i++) {
			rvmig_ep_close(eps[i]);
			if (got[i] != len)
				_exit(15);
		}
		res_take(&after);
		if (write(rp[1], &before, sizeof(before)) != sizeof(before) ||
		    write(rp[1], &after, sizeof(after)) != sizeof(after))
			_exit(16);
		rvmig_listener_close(l);
		rvmig_ctx_destroy(c);
		free(want);
		_exit(0);
	}
	close(pp[1]);
	cr_assert_eq(read(pp[0], &port, sizeof(port)), (ssize_t)sizeof(port));
	for (int k = 0; k < N; k++) {
		cl[k] = fork();
		if (!cl[k]) {
			rvmig_ctx *ctx = new_ctx();
			struct rvmig_ep_attr a = { .size = sizeof(a),
						   .mode = k % 2 ? RVMIG_MODE_PULL : RVMIG_MODE_PUSH };
			uint8_t *src = malloc(len);
			rvmig_ep *ep;
			rvmig_mr *mr;
			char u[128];
			int status = 0;

			fill(src, len, 77);
			uri(u, sizeof(u), port);
			if (rvmig_connect(ctx, u, &a, &ep))
				_exit(20);
			if (rvmig_mr_reg(ep, src, len, RVMIG_MR_REMOTE_READ, &mr))
				_exit(21);
			if (rvmig_client_post(ep, mr, 0, len, 0, 1))
				_exit(22);
			if (drain(ep, NULL, &status) || status)
				_exit(23);
			rvmig_ep_close(ep);
			rvmig_ctx_destroy(ctx);
			free(src);
			_exit(0);
		}
	}
	for (int k = 0; k < N; k++) {
		waitpid(cl[k], &st, 0);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client %d failed (%d)", k,
			  WEXITSTATUS(st));
	}
	waitpid(rx, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "receiver failed (%d)", WEXITSTATUS(st));
	close(rp[1]);
	cr_assert_eq(read(rp[0], &rx_before, sizeof(rx_before)), (ssize_t)sizeof(rx_before),
		     "receiver reported no resource counts");
	cr_assert_eq(read(rp[0], &rx_after, sizeof(rx_after)), (ssize_t)sizeof(rx_after));
	close(rp[0]);
	res_assert_same(&rx_before, &rx_after, "receiver (10 concurrent transfers)");
}
