/* SPDX-License-Identifier: MIT */
/*
 * What the library says about failures and about its peers (issue 15,
 * items 8 and 10), against hand-built TCP peers:
 *  - a transport violation fails the endpoint with an error naming it
 *    (rvmig_ep_error(), and the error-level log line), not as "peer failed
 *    or closed the connection";
 *  - a peer's ERROR text comes back escaped and cut (rvmig_text_escape());
 *  - peers refused by a listener are logged at a bounded rate, with a
 *    summary, and their endpoints' own failures are not logged one by one;
 *  - key files: longer than 256 bytes refused, not cut; a FIFO refused
 *    without blocking; a slot size that is not a multiple of 4 KiB refused.
 *
 * The peer runs in a forked child (it must wait for the listener's answer,
 * which rvmig_accept() in the parent gives); the receiver is the parent,
 * using the public API with a logger that keeps what it is given.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rvmig.h>

#include "proto/ep.h"           /* EP_CTRL_CREDITS */
#include "proto/wire.h"
#include "transport/tcp/tcp.h"  /* set-up messages and frames */

static const char key_a[] = "0123456789abcdef0123456789abcdef";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void skip_unless_tcp(void)
{
	const char *t = getenv("RVMIG_TEST_TRANSPORT");

	if (t && *t && strcmp(t, "tcp"))
		cr_skip_test("TCP only: the peers are hand-built TCP clients");
}

/* ---- a logger that keeps lines by level ---- */

static char logged[65536];
static unsigned nlines[4];

static void keep_log(void *arg, enum rvmig_log_level level, const char *subsys, const char *fmt,
		     va_list ap)
{
	size_t n = strlen(logged);
	char line[1024];

	(void)arg;
	(void)subsys;
	vsnprintf(line, sizeof(line), fmt, ap);
	if ((unsigned)level < 4)
		nlines[level]++;
	if (n + strlen(line) + 8 < sizeof(logged))
		snprintf(logged + n, sizeof(logged) - n, "%d %s\n", (int)level, line);
}

static rvmig_ctx *log_ctx(enum rvmig_log_level max)
{
	struct rvmig_ctx_attr ca = { .size = sizeof(ca),
				     .logger = { .fn = keep_log, .max_level = max } };
	rvmig_ctx *ctx;

	logged[0] = 0;
	memset(nlines, 0, sizeof(nlines));
	cr_assert_eq(rvmig_ctx_create(&ca, &ctx), 0);
	return ctx;
}

/* ---- the peer: one link, hand-built ---- */

static int peer_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		_exit(20);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		_exit(21);
	return fd;
}

/* Sends the hello of link 0 of a new 1-link session; 0 once accepted. */
static int peer_hello(int fd, uint64_t session)
{
	struct wire_hello h = { .magic = WIRE_MAGIC, .version = WIRE_VERSION, .kind = HELLO_REQ,
				.mode = RVMIG_MODE_PUSH, .caps = WIRE_CAP_PUSH, .link_idx = 0,
				.nlinks = 1, .ctrl_credits = EP_CTRL_CREDITS, .session = session,
				.timeout_ms = 30000 };
	uint8_t reply[TP_HELLO_MAX], kind = 0;
	size_t len = sizeof(reply);

	wire_hello_enc(&h);
	if (tcp_setup_send(fd, TCP_SETUP_HELLO, &h, sizeof(h), 5000) ||
	    tcp_setup_recv(fd, &kind, reply, &len, 5000))
		return -1;
	return kind == TCP_SETUP_ACCEPT ? 0 : -1;
}

/* Reads frames until a READY (0) or the end of the connection (-1). */
static int peer_wait_ready(int fd)
{
	uint8_t buf[sizeof(struct tcp_frame) + WIRE_CTRL_SIZE];
	double end = now_s() + 10;

	while (now_s() < end) {
		struct tcp_frame f;
		uint32_t len;

		if (tcp_read_full(fd, &f, sizeof(f), 5000))
			return -1;
		len = le32toh(f.len);
		if (len > WIRE_CTRL_SIZE || tcp_read_full(fd, buf, len, 5000))
			return -1;
		if (f.op == TCP_F_SEND && len >= sizeof(struct wire_hdr) && buf[0] == MSG_READY)
			return 0;
	}
	return -1;
}

static void peer_send(int fd, const void *p, size_t n)
{
	if (tcp_write_full(fd, p, n, 5000))
		_exit(22);
}

/* A control message in a SEND frame. */
static void peer_ctrl(int fd, void *msg, uint32_t len)
{
	struct tcp_frame f = { .op = TCP_F_SEND, .len = htole32(len) };
	struct wire_hdr *h = msg;

	h->len = len;
	wire_msg_enc(msg);
	peer_send(fd, &f, sizeof(f));
	peer_send(fd, msg, len);
}

/* Waits (up to 10 s) until the other side closes the connection. */
static void peer_wait_close(int fd)
{
	uint8_t sink[4096];
	double end = now_s() + 10;

	while (now_s() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 200) > 0 && recv(fd, sink, sizeof(sink), 0) <= 0)
			return;
	}
}

enum peer_act { WRITE_OUTSIDE, BIG_SEND, BAD_READ_RESP, ERROR_TEXT };

static const char evil[] = "it failed\n\033[1;32mrvmig-recv: received 1 bytes, verified\033[0m";

static void peer_run(int port, enum peer_act act)
{
	int fd = peer_connect(port);

	if (peer_hello(fd, 0xd1a9ull << 16 | (uint64_t)act) || peer_wait_ready(fd))
		_exit(23);
	switch (act) {
	case WRITE_OUTSIDE: {
		struct tcp_frame f = { .op = TCP_F_WRITE, .len = htole32(16),
				       .raddr = htole64(0x1000), .rkey = htole32(0x7f0001) };

		peer_send(fd, &f, sizeof(f));
		peer_send(fd, "xxxxxxxxxxxxxxxx", 16);
		break;
	}
	case BIG_SEND: {
		struct tcp_frame f = { .op = TCP_F_SEND, .len = htole32(2 * WIRE_CTRL_SIZE) };
		static uint8_t big[2 * WIRE_CTRL_SIZE];

		peer_send(fd, &f, sizeof(f));
		peer_send(fd, big, sizeof(big));
		break;
	}
	case BAD_READ_RESP: {
		struct tcp_frame f = { .op = TCP_F_READ_RESP, .id = htole64(12345) };

		peer_send(fd, &f, sizeof(f));
		break;
	}
	case ERROR_TEXT: {
		struct wire_error m = { .h.type = MSG_ERROR, .code = EIO };

		memcpy(m.text, evil, sizeof(evil));
		peer_ctrl(fd, &m, sizeof(m));
		break;
	}
	}
	peer_wait_close(fd);
	close(fd);
	_exit(0);
}

/* Listens (logging into `logged`), forks the peer, accepts it and drives
 * the endpoint until it fails.  Returns the error; *why gets
 * rvmig_ep_error(). */
static int serve_one(enum peer_act act, char *why, size_t whylen)
{
	struct rvmig_ep_attr a = { .size = sizeof(a), .timeout_ms = 20000 };
	rvmig_ctx *ctx = log_ctx(RVMIG_LOG_WARN); /* the tools' default level */
	rvmig_listener *l;
	rvmig_ep *ep = NULL;
	double end;
	pid_t pid;
	int rc = 0, st;

	cr_assert_eq(rvmig_listen(ctx, "tcp://127.0.0.1:0", &a, &l), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid)
		peer_run(rvmig_listener_port(l), act);
	cr_assert_eq(rvmig_accept(l, 10000, &ep), 0, "the peer was not accepted");
	cr_assert_str_empty(rvmig_ep_error(ep), "a healthy endpoint has an error text");
	end = now_s() + 15;
	while (!rc && now_s() < end) {
		struct rvmig_event ev;

		rc = rvmig_progress(ep, 200);
		while (rvmig_event_next(ep, &ev) > 0)
			if (ev.type == RVMIG_EV_RECV_MSG || ev.type == RVMIG_EV_RECV_DATA)
				rvmig_recv_release(ep, ev.token);
	}
	snprintf(why, whylen, "%s", rvmig_ep_error(ep));
	rvmig_ep_close(ep);
	rvmig_listener_close(l);
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the peer failed (status %#x)", st);
	rvmig_ctx_destroy(ctx);
	cr_log_info("error %d (%s): %s; logged:\n%s", rc, rvmig_strerror(rc), why, logged);
	return rc;
}

static void violation(enum peer_act act, int err, const char *reason)
{
	char why[256];
	int rc;

	skip_unless_tcp();
	rc = serve_one(act, why, sizeof(why));
	cr_expect_eq(rc, err, "error %d (%s), not %d (%s)", rc, rvmig_strerror(rc), err,
		     rvmig_strerror(err));
	cr_expect(strstr(why, reason) && strstr(why, "link 0 (127.0.0.1:"),
		  "rvmig_ep_error() does not name the violation '%s' and the link: '%s'", reason,
		  why);
	cr_expect(strstr(logged, reason) != NULL,
		  "the violation '%s' is not logged at the default level: %s", reason, logged);
}

Test(diag, write_outside_ring_named, .timeout = 60)
{
	violation(WRITE_OUTSIDE, -RVMIG_EACCESS, "WRITE outside a granted region");
}

Test(diag, oversized_send_named, .timeout = 60)
{
	violation(BIG_SEND, -RVMIG_EBADMSG, "SEND larger than the receive buffer");
}

Test(diag, bad_read_resp_named, .timeout = 60)
{
	violation(BAD_READ_RESP, -RVMIG_EBADMSG, "READ response matches no outstanding READ");
}

/* A peer's ERROR: its code, its words escaped (the newline and the escapes
 * that would forge a log line show as \n, \x1b), nothing raw logged. */
Test(diag, peer_error_text_escaped, .timeout = 60)
{
	char why[256];
	int rc;

	skip_unless_tcp();
	rc = serve_one(ERROR_TEXT, why, sizeof(why));
	cr_expect_eq(rc, -EIO, "error %d, not the peer's -EIO", rc);
	cr_expect(strstr(why, "peer reported: it failed\\n\\x1b[1;32mrvmig-recv: received") != NULL,
		  "rvmig_ep_error() is not the peer's text escaped: '%s'", why);
	cr_expect(!strpbrk(why, "\n\033"), "rvmig_ep_error() carries raw control characters");
	cr_expect(strchr(logged, '\033') == NULL, "an ESC from the peer was logged: %s", logged);
	cr_expect(strstr(logged, "\nrvmig-recv: received") == NULL && strncmp(logged, "rvmig", 5),
		  "the peer's text started a log line of its own: %s", logged);
}

Test(diag, text_escape)
{
	static const struct {
		const char *in;
		size_t len, cap;
		const char *out;
	} c[] = {
		{ "plain text: 0-9 ~", 17, 64, "plain text: 0-9 ~" },
		{ "a\nb\rc\td\\e", 9, 64, "a\\nb\\rc\\td\\\\e" },
		{ "\033[31mred\033[0m", 12, 64, "\\x1b[31mred\\x1b[0m" },
		{ "nul\0del\177hi\200\377", 12, 64, "nul\\x00del\\x7fhi\\x80\\xff" },
		{ "", 0, 64, "" },
		/* cut after a whole escape, "..." within cap */
		{ "abcdefghij", 10, 8, "abcd..." },
		{ "ab\033cdefgh", 9, 9, "ab..." },
		{ "ab\033cdefgh", 9, 11, "ab\\x1bc..." },
		{ "abcdefg", 7, 8, "abcdefg" },
		{ "abcdefgh", 8, 8, "abcd..." },
		{ "abc", 3, 4, "abc" },
		{ "abcd", 4, 4, "..." },
		{ "abcd", 4, 3, "" },
		{ "abcd", 4, 1, "" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char out[80];
		size_t n;

		memset(out, 'Z', sizeof(out));
		n = rvmig_text_escape(out, c[i].cap, c[i].in, c[i].len);
		cr_expect_str_eq(out, c[i].out, "case %zu: '%s', not '%s'", i, out, c[i].out);
		cr_expect_eq(n, strlen(c[i].out), "case %zu: returned %zu", i, n);
		cr_expect_lt(n, c[i].cap, "case %zu: %zu bytes for cap %zu", i, n, c[i].cap);
		cr_expect_eq(out[c[i].cap], 'Z', "case %zu: wrote past cap", i);
	}
	cr_expect_eq(rvmig_text_escape(NULL, 10, "x", 1), 0);
	cr_expect_eq(rvmig_text_escape((char[1]){ 'Z' }, 0, "x", 1), 0);
}

/* ---- refused peers: rate-limited, summarised ---- */

/* 60 peers without the key, each resetting its connection once its hello
 * is answered: at most LOG_REFUSAL_BURST (5) warnings, then one summary
 * line when the listener closes, and no error line for any of them. */
Test(diag, refusals_rate_limited, .timeout = 60)
{
	struct rvmig_ep_attr a = { .size = sizeof(a), .psk = key_a, .psk_len = sizeof(key_a) - 1 };
	rvmig_ctx *ctx = log_ctx(RVMIG_LOG_WARN);
	const int n = 60;
	rvmig_listener *l;
	rvmig_ep *ep = NULL;
	double end;
	pid_t pid;
	int st;

	skip_unless_tcp();
	cr_assert_eq(rvmig_listen(ctx, "tcp://127.0.0.1:0", &a, &l), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		for (int i = 0; i < n; i++) {
			int fd = peer_connect(rvmig_listener_port(l));
			struct linger lg = { 1, 0 };

			if (peer_hello(fd, 0xf100d000ull + (uint64_t)i))
				_exit(24);
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
		}
		_exit(0);
	}
	end = now_s() + 20;
	while (waitpid(pid, &st, WNOHANG) == 0 && now_s() < end)
		cr_assert_neq(rvmig_accept(l, 100, &ep), 0, "a peer without the key was accepted");
	/* the last refusals */
	for (int i = 0; i < 5; i++)
		rvmig_accept(l, 100, &ep);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the flooding peer failed (%#x)", st);
	cr_expect_leq(nlines[RVMIG_LOG_WARN], 5, "%u warnings before the summary:\n%s",
		      nlines[RVMIG_LOG_WARN], logged);
	cr_expect_eq(nlines[RVMIG_LOG_ERROR], 0, "refused peers logged errors:\n%s", logged);
	rvmig_listener_close(l);
	cr_log_info("logged:\n%s", logged);
	cr_expect(strstr(logged, "55 more peers refused in the last") != NULL,
		  "no summary of the other 55 refusals:\n%s", logged);
	cr_expect_leq(nlines[RVMIG_LOG_WARN], 6, "%u warning lines for %d refused peers",
		      nlines[RVMIG_LOG_WARN], n);
	rvmig_ctx_destroy(ctx);
}

/* ---- key files, attributes ---- */

static void write_key(const char *path, size_t len, const char *tail)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	for (size_t i = 0; i < len; i++)
		fputc('a' + (int)(i % 26), f);
	fputs(tail, f);
	fclose(f);
	chmod(path, 0600);
}

Test(diag, key_file_limits, .timeout = 30)
{
	char dir[] = "/tmp/rvmig-diag-XXXXXX", path[96];
	uint8_t buf[512];
	size_t len;
	rvmig_ctx *ctx = log_ctx(RVMIG_LOG_WARN);
	double t0;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	/* 256 bytes and a line end: the whole key */
	write_key(path, 256, "\r\n");
	len = sizeof(buf);
	cr_expect_eq(rvmig_key_load(ctx, path, buf, &len), 0, "%s", logged);
	cr_expect_eq(len, 256);
	/* 257 or 300 bytes: refused, never cut to 256 */
	write_key(path, 257, "\n");
	len = sizeof(buf);
	cr_expect_eq(rvmig_key_load(ctx, path, buf, &len), -EINVAL, "a 257-byte key was taken");
	write_key(path, 300, "");
	len = sizeof(buf);
	cr_expect_eq(rvmig_key_load(ctx, path, buf, &len), -EINVAL, "a 300-byte key was taken");
	cr_expect(strstr(logged, "longer than 256 bytes") != NULL, "%s", logged);
	/* a key and more lines after it: not one key */
	write_key(path, 32, "\n\n\nmore\n");
	len = sizeof(buf);
	cr_expect_eq(rvmig_key_load(ctx, path, buf, &len), 0);
	cr_expect_eq(len, 32 + 3 + 4, "the key is everything but the last line end");
	/* a small caller buffer bounds it too */
	write_key(path, 40, "\n");
	len = 32;
	cr_expect_eq(rvmig_key_load(ctx, path, buf, &len), -EINVAL, "a key larger than *len was cut");
	/* 15 bytes: too short */
	write_key(path, 15, "\n");
	len = sizeof(buf);
	cr_expect_eq(rvmig_key_load(ctx, path, buf, &len), -EINVAL);
	unlink(path);
	/* a FIFO: refused at once, not waited on */
	cr_assert_eq(mkfifo(path, 0600), 0);
	t0 = now_s();
	len = sizeof(buf);
	cr_expect_eq(rvmig_key_load(ctx, path, buf, &len), -EPERM);
	cr_expect_lt(now_s() - t0, 1.0, "opening a FIFO key file blocked");
	unlink(path);
	/* a symbolic link to a good key: refused */
	snprintf(path, sizeof(path), "%s/real", dir);
	write_key(path, 32, "\n");
	{
		char link[96];

		snprintf(link, sizeof(link), "%s/link", dir);
		cr_assert_eq(symlink(path, link), 0);
		len = sizeof(buf);
		cr_expect_eq(rvmig_key_load(ctx, link, buf, &len), -EPERM);
		unlink(link);
	}
	unlink(path);
	rmdir(dir);
	rvmig_ctx_destroy(ctx);
}

/* A slot size that is not a multiple of 4 KiB is refused when listening
 * (it used to reach aligned_alloc() with a size that is not a multiple of
 * the alignment once a peer came); one over reg_chunk too. */
Test(diag, slot_size_checked)
{
	struct rvmig_ep_attr a = { .size = sizeof(a), .slot_size = 5000 };
	rvmig_ctx *ctx = log_ctx(RVMIG_LOG_WARN);
	rvmig_listener *l = NULL;

	cr_expect_eq(rvmig_listen(ctx, "tcp://127.0.0.1:0", &a, &l), -EINVAL);
	a.slot_size = 8u << 20;
	cr_expect_eq(rvmig_listen(ctx, "tcp://127.0.0.1:0", &a, &l), -EINVAL, "reg_chunk 4 MiB");
	a.reg_chunk = 8u << 20;
	cr_expect_eq(rvmig_listen(ctx, "tcp://127.0.0.1:0", &a, &l), 0, "%s", logged);
	rvmig_listener_close(l);
	rvmig_ctx_destroy(ctx);
}
