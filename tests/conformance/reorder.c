/* SPDX-License-Identifier: MIT */
/*
 * The receiver's reorder buffer against a hand-built sender (TCP only).
 *
 * The peer here speaks the TCP transport's set-up and frames and the
 * protocol's control messages itself (transport/tcp/tcp.h, proto/wire.h),
 * so it can do what the library's client never does: send messages behind
 * a sequence gap, far ahead of the next expected sequence number, without
 * control credits, or into a slot the receiver still holds.  The receiver
 * (a forked child using the public API) must fail the connection with a
 * reason naming the violation, tell the peer in an ERROR message, and its
 * resident set must stay within the bound stated in rvmig/xfer.h; a peer
 * that keeps to its credits must not be failed, and the credits its
 * messages kept must come back once the gap is filled and the consumer has
 * released them.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rvmig.h>

#include "proto/ep.h"           /* EP_CTRL_CREDITS */
#include "proto/wire.h"
#include "transport/tcp/tcp.h"  /* set-up messages and frames */

#define NSLOTS 16
#define MSG_BYTES 4000          /* payload of each inline message */

static bool tcp_only(void)
{
	const char *t = getenv("RVMIG_TEST_TRANSPORT");

	return !t || !*t || !strcmp(t, "tcp");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the receiver: a child process using the public API ---- */

struct rx_result {
	int status;          /* rvmig_progress()'s error, 0 if none came */
	long rss0_kb;        /* VmRSS once accepted */
	long rss_max_kb;     /* largest VmRSS seen afterwards */
	uint64_t msgs;       /* messages delivered */
	uint64_t in_order;   /* ... whose stream offsets came in increasing order */
	char log[2048];      /* what the library logged as errors */
};

static struct rx_result res;

/* Keeps errors, and debug lines that name a violation (the TCP
 * transport's own checks log their reason at debug level). */
static void log_capture(void *arg, enum rvmig_log_level level, const char *subsys,
			const char *fmt, va_list ap)
{
	size_t n = strlen(res.log);
	char line[512];
	va_list cp;

	(void)arg;
	if (level <= RVMIG_LOG_WARN) {
		va_copy(cp, ap);
		rvmig_log_stderr(NULL, level, subsys, fmt, cp);
		va_end(cp);
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	if ((level == RVMIG_LOG_ERROR || strstr(line, "violation")) &&
	    n + strlen(line) + 2 < sizeof(res.log)) {
		strcat(res.log, line);
		strcat(res.log, "\n");
	}
}

static long vmrss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Serves one connection until it fails or 20 s pass; the result goes to
 * out_fd. */
static int run_receiver(int port_fd, int out_fd)
{
	struct rvmig_ctx_attr ca = { .size = sizeof(ca),
				     .logger = { .fn = log_capture, .max_level = RVMIG_LOG_DEBUG } };
	struct rvmig_ep_attr a = { .size = sizeof(a), .nslots = NSLOTS, .timeout_ms = 30000 };
	rvmig_ctx *ctx;
	rvmig_listener *l;
	rvmig_ep *ep;
	uint64_t last_off = 0;
	double end;
	int port, rc;

	if (rvmig_ctx_create(&ca, &ctx) || rvmig_listen(ctx, "tcp://127.0.0.1:0", &a, &l))
		return 10;
	port = rvmig_listener_port(l);
	if (write(port_fd, &port, sizeof(port)) != sizeof(port))
		return 11;
	if (rvmig_accept(l, 20000, &ep))
		return 12;
	res.rss0_kb = res.rss_max_kb = vmrss_kb();
	end = now_s() + 20;
	while (!res.status && now_s() < end) {
		struct rvmig_event ev;
		long rss;

		rc = rvmig_progress(ep, 100);
		if (rc < 0)
			res.status = rc;
		while (rvmig_event_next(ep, &ev) > 0) {
			if (ev.type == RVMIG_EV_RECV_MSG) {
				res.msgs++;
				if (ev.stream_off >= last_off)
					res.in_order++;
				last_off = ev.stream_off;
			}
			if (ev.type == RVMIG_EV_RECV_MSG || ev.type == RVMIG_EV_RECV_DATA)
				rvmig_recv_release(ep, ev.token);
		}
		rss = vmrss_kb();
		if (rss > res.rss_max_kb)
			res.rss_max_kb = rss;
	}
	if (write(out_fd, &res, sizeof(res)) != sizeof(res))
		return 13;
	rvmig_ep_close(ep);
	rvmig_listener_close(l);
	rvmig_ctx_destroy(ctx);
	return 0;
}

struct rx_child {
	pid_t pid;
	int port;
	int out_fd;
};

static struct rx_child start_receiver(void)
{
	struct rx_child c;
	int pp[2], op[2];

	cr_assert_eq(pipe(pp), 0);
	cr_assert_eq(pipe(op), 0);
	c.pid = fork();
	cr_assert_geq(c.pid, 0);
	if (!c.pid) {
		close(pp[0]);
		close(op[0]);
		_exit(run_receiver(pp[1], op[1]));
	}
	close(pp[1]);
	close(op[1]);
	cr_assert_eq(read(pp[0], &c.port, sizeof(c.port)), (ssize_t)sizeof(c.port),
		     "the receiver did not start listening");
	close(pp[0]);
	c.out_fd = op[0];
	return c;
}

static struct rx_result wait_receiver(struct rx_child *c)
{
	struct rx_result r;
	int st = 0;

	memset(&r, 0, sizeof(r));
	cr_assert_eq(read(c->out_fd, &r, sizeof(r)), (ssize_t)sizeof(r),
		     "the receiver reported nothing");
	waitpid(c->pid, &st, 0);
	close(c->out_fd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the receiver exited with %#x", st);
	cr_log_info("receiver: status %d, %llu messages, VmRSS %ld kB -> at most %ld kB; log: %s",
		    r.status, (unsigned long long)r.msgs, r.rss0_kb, r.rss_max_kb, r.log);
	return r;
}

/* ---- the hand-built sender: one TCP connection per link ---- */

struct raw_link {
	int fd;
	uint8_t rx[sizeof(struct tcp_frame) + WIRE_CTRL_SIZE];
	size_t got;
	uint32_t credits;    /* receive buffers of the receiver we may fill */
	uint32_t owed;       /* messages received, credits not yet given back */
	bool ready, dead;
	char error[160];     /* text of an ERROR from the receiver */
};

static void raw_connect(struct raw_link *l, int port, uint64_t session, uint8_t nlinks,
			uint8_t idx)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct wire_hello h = { .magic = WIRE_MAGIC, .version = WIRE_VERSION, .kind = HELLO_REQ,
				.mode = RVMIG_MODE_PUSH, .caps = WIRE_CAP_PUSH, .link_idx = idx,
				.nlinks = nlinks, .ctrl_credits = EP_CTRL_CREDITS,
				.session = session, .timeout_ms = 30000 };
	struct wire_hello r;
	size_t rlen = sizeof(r);
	uint8_t kind = 0;

	memset(l, 0, sizeof(*l));
	l->credits = EP_CTRL_CREDITS;
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(l->fd, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_eq(connect(l->fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	wire_hello_enc(&h);
	cr_assert_eq(tcp_setup_send(l->fd, TCP_SETUP_HELLO, &h, sizeof(h), 5000), 0);
	cr_assert_eq(tcp_setup_recv(l->fd, &kind, &r, &rlen, 5000), 0, "no answer to the hello");
	cr_assert_eq(kind, TCP_SETUP_ACCEPT, "link %u refused", idx);
}

/* One whole frame is in l->rx: a control message from the receiver. */
static void raw_frame(struct raw_link *l, const struct tcp_frame *f)
{
	uint8_t m[WIRE_CTRL_SIZE] __attribute__((aligned(8)));
	struct wire_hdr *h = (struct wire_hdr *)m;

	if (f->op != TCP_F_SEND)
		return;
	memcpy(m, l->rx + sizeof(*f), f->len);
	if (wire_msg_dec(m, f->len))
		return;
	l->credits += h->credits;
	l->owed++;
	if (h->type == MSG_READY)
		l->ready = true;
	if (h->type == MSG_ERROR && !l->error[0])
		snprintf(l->error, sizeof(l->error), "%.*s", (int)sizeof(l->error) - 1,
			 ((struct wire_error *)m)->text);
}

/* Reads what has arrived (waiting up to timeout_ms for something). */
static void raw_read(struct raw_link *l, int timeout_ms)
{
	struct pollfd p = { .fd = l->fd, .events = POLLIN };

	if (l->dead || poll(&p, 1, timeout_ms) <= 0)
		return;
	for (;;) {
		struct tcp_frame f;
		ssize_t n = recv(l->fd, l->rx + l->got, sizeof(l->rx) - l->got, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			l->dead = true;
			return;
		}
		if (n < 0)
			return;
		l->got += (size_t)n;
		while (l->got >= sizeof(f)) {
			size_t whole;

			memcpy(&f, l->rx, sizeof(f));
			f.len = le32toh(f.len);
			cr_assert_leq(f.len, WIRE_CTRL_SIZE, "frame of %u bytes from the receiver",
				      f.len);
			whole = sizeof(f) + f.len;
			if (l->got < whole)
				break;
			raw_frame(l, &f);
			memmove(l->rx, l->rx + whole, l->got - whole);
			l->got -= whole;
		}
	}
}

/* Sends one control message (credits or not); false once the receiver has
 * closed the connection. */
static bool raw_send(struct raw_link *l, void *msg, uint32_t len)
{
	struct wire_hdr *h = msg;
	struct tcp_frame f = { .op = TCP_F_SEND, .len = htole32(len) };
	uint8_t out[sizeof(f) + WIRE_CTRL_SIZE];
	size_t done = 0, total = sizeof(f) + len;
	double give_up = now_s() + 20;

	h->len = len;
	h->credits = (uint16_t)l->owed;
	l->owed = 0;
	wire_msg_enc(msg);
	memcpy(out, &f, sizeof(f));
	memcpy(out + sizeof(f), msg, len);
	if (l->credits)
		l->credits--;
	while (done < total && !l->dead) {
		struct pollfd p = { .fd = l->fd, .events = POLLIN | POLLOUT };
		ssize_t n;

		cr_assert_lt(now_s(), give_up, "the receiver neither reads nor fails");
		poll(&p, 1, 1000);
		if (p.revents & POLLIN)
			raw_read(l, 0);
		if (!(p.revents & POLLOUT))
			continue;
		n = send(l->fd, out + done, total - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			l->dead = true;
		if (n > 0)
			done += (size_t)n;
	}
	return !l->dead;
}

static bool raw_inline(struct raw_link *l, uint64_t seq)
{
	uint8_t buf[sizeof(struct wire_inline) + MSG_BYTES] __attribute__((aligned(8)));
	struct wire_inline *m = (struct wire_inline *)buf;

	memset(buf, 0, sizeof(buf));
	m->h.type = MSG_INLINE;
	m->seq = seq;
	m->stream_off = seq * MSG_BYTES;
	m->len = MSG_BYTES;
	memset(m->data, (int)(seq & 0xff), MSG_BYTES);
	return raw_send(l, m, sizeof(buf));
}

/* Waits for the receiver's READY on link 0. */
static void raw_wait_ready(struct raw_link *l)
{
	double end = now_s() + 10;

	while (!l->ready && !l->dead && now_s() < end)
		raw_read(l, 100);
	cr_assert(l->ready, "no READY from the receiver");
}

/* Reads until the receiver's ERROR (or the connection's end) or 10 s. */
static void raw_wait_error(struct raw_link *l)
{
	double end = now_s() + 10;

	while (!l->error[0] && !l->dead && now_s() < end)
		raw_read(l, 100);
}

static uint64_t session_id(void)
{
	return (uint64_t)getpid() << 32 ^ (uint64_t)(now_s() * 1e6);
}

/* The RSS the receiver may gain: what xfer.h states for one connection of
 * these parameters is well under this; unbounded buffering of the flood
 * below would be ~160 MB. */
#define RSS_SLACK_KB (24 * 1024)

/*
 * 40,000 inline messages of 4 KB behind a gap (sequence 0 never sent), the
 * peer ignoring its credits.  Every message keeps its credit until it is
 * delivered, so past the 32 that one link's credits allow the connection
 * fails as a credit violation (sent this fast, the TCP transport usually
 * sees it first: a message with no receive buffer posted), and the
 * receiver never holds more than those messages.
 */
Test(reorder, flood_behind_gap_fails_on_credits, .timeout = 90)
{
	struct rx_child c;
	struct raw_link l;
	struct rx_result r;
	uint64_t sent = 0;

	if (!tcp_only())
		cr_skip_test("TCP only: the peer is a hand-built TCP client");
	c = start_receiver();
	raw_connect(&l, c.port, session_id(), 1, 0);
	raw_wait_ready(&l);
	for (uint64_t seq = 1; seq <= 40000 && !l.error[0]; seq++) {
		if (!raw_inline(&l, seq))
			break;
		sent++;
	}
	raw_wait_error(&l);
	close(l.fd);
	r = wait_receiver(&c);
	cr_log_info("the peer sent %llu messages", (unsigned long long)sent);
	cr_expect_lt(sent, 40000, "the receiver took all 40,000 messages");
	cr_expect_neq(r.status, 0, "the receiver did not fail the connection");
	cr_expect(strstr(r.log, "credit violation") != NULL,
		  "the receiver's log does not give the reason: %s", r.log);
	cr_expect_eq(r.msgs, 0, "messages behind the gap were delivered");
	cr_expect_lt(r.rss_max_kb - r.rss0_kb, RSS_SLACK_KB,
		     "the receiver's RSS grew from %ld kB to %ld kB", r.rss0_kb, r.rss_max_kb);
}

/*
 * The same 40,000 messages from a peer that keeps to the credits it is
 * given.  They used to come back as soon as each message was buffered, so
 * the whole flood was taken; now the messages behind the gap keep theirs,
 * and after 31 (one credit stays for credit-only messages) the peer has
 * to wait: the receiver holds 31 messages, not 40,000.
 */
Test(reorder, flood_within_credits_is_bounded, .timeout = 120)
{
	struct rx_child c;
	struct raw_link l;
	struct rx_result r;
	uint64_t seq;

	if (!tcp_only())
		cr_skip_test("TCP only: the peer is a hand-built TCP client");
	c = start_receiver();
	raw_connect(&l, c.port, session_id(), 1, 0);
	raw_wait_ready(&l);
	for (seq = 1; seq <= 40000 && !l.error[0] && !l.dead; seq++) {
		double end = now_s() + 2;

		while (l.credits < 2 && !l.dead && now_s() < end)
			raw_read(&l, 100);
		if (l.credits < 2 || !raw_inline(&l, seq))
			break;
	}
	close(l.fd);
	r = wait_receiver(&c);
	cr_log_info("the peer could send %llu messages", (unsigned long long)(seq - 1));
	cr_expect_eq(seq - 1, EP_CTRL_CREDITS - 1, "the peer could send %llu messages behind the gap",
		     (unsigned long long)(seq - 1));
	cr_expect_eq(l.error[0], 0, "a peer within its credits was failed: %s", l.error);
	cr_expect_eq(r.msgs, 0, "messages behind the gap were delivered");
	cr_expect_lt(r.rss_max_kb - r.rss0_kb, RSS_SLACK_KB,
		     "the receiver's RSS grew from %ld kB to %ld kB", r.rss0_kb, r.rss_max_kb);
}

/*
 * The same at a pace the receiver keeps up with (each message is handled
 * and its buffer posted again before the next): the 33rd message has no
 * credit left, as the protocol engine counts them, and the peer is told.
 */
Test(reorder, paced_messages_behind_gap_fail_on_credits, .timeout = 60)
{
	struct rx_child c;
	struct raw_link l;
	struct rx_result r;
	uint64_t seq;

	if (!tcp_only())
		cr_skip_test("TCP only: the peer is a hand-built TCP client");
	c = start_receiver();
	raw_connect(&l, c.port, session_id(), 1, 0);
	raw_wait_ready(&l);
	for (seq = 1; seq <= 2 * EP_CTRL_CREDITS && !l.error[0]; seq++) {
		if (!raw_inline(&l, seq))
			break;
		raw_read(&l, 20);
	}
	raw_wait_error(&l);
	close(l.fd);
	r = wait_receiver(&c);
	cr_expect_eq(seq - 1, EP_CTRL_CREDITS + 1, "the connection failed after %llu messages",
		     (unsigned long long)(seq - 1));
	cr_expect(strstr(r.log, "INLINE from 127.0.0.1") && strstr(r.log, "without a control "
		  "credit (all 32 granted are in use: credit violation)"),
		  "the receiver's log lacks the reason: %s", r.log);
	cr_expect(strstr(l.error, "without a control credit") != NULL,
		  "the peer was not told the reason (ERROR: '%s')", l.error);
	cr_expect_eq(r.msgs, 0, "messages behind the gap were delivered");
}

/*
 * A sequence number beyond what the slots and credits granted allow is
 * refused at once, not buffered: one link and 16 slots allow 16 + 32 = 48
 * sequence numbers from the next expected (0), so 47 is kept and 48 fails
 * the connection, as does one far ahead on a fresh connection.
 */
static void ahead(uint64_t first, uint64_t second, const char *expect)
{
	struct rx_child c;
	struct raw_link l;
	struct rx_result r;

	c = start_receiver();
	raw_connect(&l, c.port, session_id(), 1, 0);
	raw_wait_ready(&l);
	if (first != UINT64_MAX) {
		raw_inline(&l, first);
		raw_read(&l, 300);
		cr_expect_eq(l.error[0], 0, "sequence %llu was refused: %s",
			     (unsigned long long)first, l.error);
	}
	raw_inline(&l, second);
	raw_wait_error(&l);
	close(l.fd);
	r = wait_receiver(&c);
	cr_expect_neq(r.status, 0, "sequence %llu did not fail the connection",
		      (unsigned long long)second);
	cr_expect(strstr(r.log, expect) != NULL, "the receiver's log lacks '%s': %s", expect,
		  r.log);
	cr_expect(strstr(l.error, "ahead of the next expected") != NULL,
		  "the peer was not told the reason (ERROR: '%s')", l.error);
}

Test(reorder, sequence_past_window_refused, .timeout = 60)
{
	if (!tcp_only())
		cr_skip_test("TCP only: the peer is a hand-built TCP client");
	ahead(NSLOTS + EP_CTRL_CREDITS - 1, NSLOTS + EP_CTRL_CREDITS,
	      "is 48 ahead of the next expected (0), past the 48 its slots and credits allow");
}

Test(reorder, sequence_far_ahead_refused, .timeout = 60)
{
	if (!tcp_only())
		cr_skip_test("TCP only: the peer is a hand-built TCP client");
	ahead(UINT64_MAX, 1ull << 23, "INLINE for sequence 8388608");
}

/*
 * Push: a WRITE_DONE naming a slot that an earlier, undelivered chunk
 * still holds.  Only SLOT_FREE gives slots back, so this is a violation
 * (it would let a peer queue chunks without bound).
 */
Test(reorder, write_done_into_held_slot_refused, .timeout = 60)
{
	struct wire_write_done m = { .h.type = MSG_WRITE_DONE, .slot = 3, .len = 4096 };
	struct rx_child c;
	struct raw_link l;
	struct rx_result r;

	if (!tcp_only())
		cr_skip_test("TCP only: the peer is a hand-built TCP client");
	c = start_receiver();
	raw_connect(&l, c.port, session_id(), 1, 0);
	raw_wait_ready(&l);
	m.seq = 1; /* behind the gap at 0: held, not delivered */
	raw_send(&l, &m, sizeof(m));
	m = (struct wire_write_done){ .h.type = MSG_WRITE_DONE, .seq = 2, .slot = 3, .len = 4096 };
	raw_send(&l, &m, sizeof(m));
	raw_wait_error(&l);
	close(l.fd);
	r = wait_receiver(&c);
	cr_expect_neq(r.status, 0);
	cr_expect(strstr(r.log, "names slot 3, which the receiver still holds") != NULL,
		  "the receiver's log lacks the reason: %s", r.log);
}

/*
 * A peer that keeps to its credits: two links, link 0 sends sequence
 * numbers 1.. ahead of 0 until its credits are used up (31: one stays for
 * a credit-only message) and gets none back while they wait behind the
 * gap; then link 1 sends 0, all 32 are delivered in order, and once the
 * consumer has released them link 0 gets its credits back.
 */
Test(reorder, credits_bound_gap_and_come_back, .timeout = 60)
{
	struct rx_child c;
	struct raw_link l0, l1;
	struct rx_result r;
	uint64_t session = session_id();
	uint64_t seq = 1;
	double end;

	if (!tcp_only())
		cr_skip_test("TCP only: the peer is a hand-built TCP client");
	c = start_receiver();
	raw_connect(&l0, c.port, session, 2, 0);
	raw_connect(&l1, c.port, session, 2, 1);
	raw_wait_ready(&l0);
	while (l0.credits >= 2)
		cr_assert(raw_inline(&l0, seq++), "link 0 closed: %s", l0.error);
	cr_assert_eq(seq - 1, EP_CTRL_CREDITS - 1);
	raw_read(&l0, 500);
	cr_expect_eq(l0.error[0], 0, "a peer within its credits was failed: %s", l0.error);
	cr_expect_eq(l0.credits, 1, "credits of undelivered messages came back early (%u)",
		     l0.credits);
	cr_assert(raw_inline(&l1, 0));
	end = now_s() + 10;
	while (l0.credits < EP_CTRL_CREDITS / 2 && !l0.dead && now_s() < end)
		raw_read(&l0, 100);
	cr_expect_geq(l0.credits, EP_CTRL_CREDITS / 2,
		      "link 0 got its credits not back after the gap was filled (%u)", l0.credits);
	cr_expect_eq(l0.error[0], 0, "%s", l0.error);
	close(l0.fd);
	close(l1.fd);
	r = wait_receiver(&c);
	cr_expect_eq(r.msgs, EP_CTRL_CREDITS, "%llu messages delivered",
		     (unsigned long long)r.msgs);
	cr_expect_eq(r.in_order, r.msgs, "messages delivered out of order");
}
