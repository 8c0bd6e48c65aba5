/* SPDX-License-Identifier: MIT */
/*
 * diag_peer - a peer of the rvmig tools that says what it likes in the text
 * of its messages (diag.sh): the tools must print a peer's words cut and
 * escaped, never raw, so that a newline and terminal escapes cannot forge
 * a line of their own.  It speaks the tools' application messages
 * (include/rvmig/xstream.h) over librvmig.
 *
 *   diag_peer [--key-file PATH] recv URI READY_FILE verdict|exit STATUS TEXT
 *       listens (port 0 allowed; the port goes into READY_FILE), takes one
 *       sender or tunnel, releases everything it gets and, at its END (a
 *       sender) or EXEC (a tunnel), answers VERDICT or EXIT with STATUS and
 *       TEXT; then waits up to 5 s for the peer to close
 *   diag_peer [--key-file PATH] send URI abort STATUS TEXT
 *       connects, sends HELLO and then ABORT with STATUS and TEXT
 *   diag_peer [--key-file PATH] send URI exec ARG...
 *       connects and sends EXEC with the ARGs (rvmigd)
 *
 * A sender then waits up to 5 s for a reply and prints it on stdout as
 * "TAG STATUS LEN" (never its text).  Exit status 0, or 2 when the
 * arguments or the set-up were wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rvmig.h>

#include <rvmig/xstream.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: diag_peer [--key-file PATH] recv URI READY_FILE verdict|exit STATUS TEXT\n"
			"       diag_peer [--key-file PATH] send URI abort STATUS TEXT\n"
			"       diag_peer [--key-file PATH] send URI exec ARG...\n");
	return 2;
}

/* Waits up to 5 s for the peer to close (or fail) or, with `reply`, to
 * answer, handling events; an answer is printed as "TAG STATUS LEN". */
static void linger(rvmig_ep *ep, bool reply)
{
	double end = now_s() + 5;
	bool closed = false, answered = false;

	while (!closed && !(reply && answered) && now_s() < end) {
		struct rvmig_event ev;

		if (rvmig_progress(ep, 100) < 0)
			break;
		while (rvmig_event_next(ep, &ev) > 0) {
			struct rvmig_xmsg m;
			const char *why;

			if (ev.type == RVMIG_EV_PEER_CLOSED)
				closed = true;
			if (ev.type != RVMIG_EV_RECV_MSG && ev.type != RVMIG_EV_RECV_DATA)
				continue;
			if (ev.type == RVMIG_EV_RECV_MSG && !rvmig_xmsg_decode(ev.data, ev.len, &m, &why)) {
				printf("%s %d %zu\n", rvmig_xmsg_tag_name(m.tag), m.status, m.len);
				fflush(stdout);
				answered = true;
			}
			rvmig_recv_release(ep, ev.token);
		}
	}
}

static int reply(rvmig_ep *ep, const void *m, size_t n)
{
	int rc;

	while ((rc = rvmig_reply_msg(ep, m, n)) == -EAGAIN)
		if (rvmig_progress(ep, 50) < 0)
			return -1;
	return rc;
}

static struct rvmig_ep_attr a = { .size = sizeof(a), .timeout_ms = 10000 };

static int serve(rvmig_ctx *ctx, char **argv)
{
	bool exit_tag = !strcmp(argv[3], "exit");
	int status = atoi(argv[4]);
	const char *text = argv[5];
	uint8_t digest[32] = { 0 }, m[4096];
	uint64_t bytes = 0;
	rvmig_listener *l;
	rvmig_ep *ep;
	bool answered = false;
	double end;
	FILE *f;

	if (rvmig_listen(ctx, argv[1], &a, &l))
		return 2;
	f = fopen(argv[2], "w");
	if (!f || fprintf(f, "%d\n", rvmig_listener_port(l)) < 0 || fclose(f))
		return 2;
	if (rvmig_accept(l, 20000, &ep))
		return 2;
	end = now_s() + 20;
	while (!answered && now_s() < end) {
		struct rvmig_event ev;

		if (rvmig_progress(ep, 100) < 0)
			break;
		while (rvmig_event_next(ep, &ev) > 0) {
			struct rvmig_xmsg am;
			const char *why;

			if (ev.type == RVMIG_EV_RECV_DATA)
				bytes += ev.len;
			if (ev.type == RVMIG_EV_RECV_MSG && !rvmig_xmsg_decode(ev.data, ev.len, &am, &why) &&
			    (am.tag == (exit_tag ? RVMIG_XMSG_EXEC : RVMIG_XMSG_END)) && !answered) {
				size_t n = exit_tag ? rvmig_xmsg_encode_exit(m, sizeof(m), status, bytes, digest, text)
						    : rvmig_xmsg_encode_verdict(m, sizeof(m), status, bytes, digest,
									 text);

				answered = !reply(ep, m, n);
			}
			if (ev.type == RVMIG_EV_RECV_MSG || ev.type == RVMIG_EV_RECV_DATA)
				rvmig_recv_release(ep, ev.token);
		}
	}
	linger(ep, false);
	rvmig_ep_close(ep);
	rvmig_listener_close(l);
	return answered ? 0 : 2;
}

static int send_msg(rvmig_ep *ep, const void *m, size_t n)
{
	int rc;

	while ((rc = rvmig_client_send_msg(ep, m, n, 0, 1)) == -EAGAIN)
		if (rvmig_progress(ep, 50) < 0)
			return -1;
	return rc;
}

static int client(rvmig_ctx *ctx, int argc, char **argv)
{
	uint8_t m[4096];
	size_t n;
	rvmig_ep *ep;
	int i = 1;

	if (i + 1 >= argc)
		return usage();
	if (rvmig_connect(ctx, argv[i], &a, &ep))
		return 2;
	if (!strcmp(argv[i + 1], "abort") && i + 3 < argc) {
		n = rvmig_xmsg_encode_hello(m, sizeof(m), RVMIG_XMSG_F_RAW, 0, NULL);
		if (send_msg(ep, m, n))
			return 2;
		n = rvmig_xmsg_encode_abort(m, sizeof(m), atoi(argv[i + 2]), argv[i + 3]);
	} else if (!strcmp(argv[i + 1], "exec")) {
		n = rvmig_xmsg_encode_exec(m, sizeof(m), argc - i - 2, argv + i + 2);
	} else {
		return usage();
	}
	if (!n || send_msg(ep, m, n))
		return 2;
	linger(ep, true);
	rvmig_ep_close(ep);
	return 0;
}

int main(int argc, char **argv)
{
	struct rvmig_ctx_attr ca = { .size = sizeof(ca),
				     .logger = { .fn = rvmig_log_stderr, .max_level = RVMIG_LOG_WARN } };
	uint8_t key[256];
	size_t key_len = sizeof(key);
	rvmig_ctx *ctx;
	int rc;

	if (argc < 2 || rvmig_ctx_create(&ca, &ctx))
		return usage();
	if (argc > 3 && !strcmp(argv[1], "--key-file")) {
		if (rvmig_key_load(ctx, argv[2], key, &key_len))
			return 2;
		a.psk = key;
		a.psk_len = (uint32_t)key_len;
		argc -= 2;
		argv += 2;
	}
	if (!strcmp(argv[1], "recv") && argc == 7)
		rc = serve(ctx, argv + 1);
	else if (!strcmp(argv[1], "send"))
		rc = client(ctx, argc - 1, argv + 1);
	else
		rc = usage();
	rvmig_ctx_destroy(ctx);
	return rc;
}
