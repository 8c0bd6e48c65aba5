/* SPDX-License-Identifier: MIT */
/*
 * The sender session (rvmig_xsender, rvmig_xstream_send_fd(); rvmig/xstream.h)
 * as a program linking only the public header uses it, against a receiver
 * thread built from rvmig_xrecv over a real TCP endpoint on 127.0.0.1:
 * a generated Xen stream (file and pipe) moves byte-identical and verified;
 * a receiver that reports another digest, a failure of its own, or nothing
 * at all makes the sender fail with -RVMIG_EINTEGRITY, its status, or
 * -RVMIG_ETIMEDOUT at the deadline; a receiver that drops the first
 * connection mid-stream is reconnected and resumed from the offset it
 * holds; nobody listening is retried and given up; a remote command (EXEC)
 * gets its stdin and returns its output and exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "eploop.h"
#include "memsink.h"
#include "streamgen.h"

/* ---- the receiving side: a thread with its own event loop ---- */

enum rx_how {
	RX_OK,          /* a true verdict */
	RX_BAD_DIGEST,  /* a verdict with another digest */
	RX_STATUS,      /* a verdict with a failure of its own */
	RX_SILENT,      /* no verdict at all */
	RX_DROP_ONCE,   /* the first connection dropped after some data */
	RX_EXEC,        /* rvmigd: OUT, then EXIT */
};

#define RX_EXIT_STATUS 3
#define RX_OUT "hello from the command\n"

struct rx {
	rvmig_listener *l;
	enum rx_how how;
	struct memsink out;    /* the rebuilt stream */
	int connections;
	uint64_t dropped_at;   /* RX_DROP_ONCE: what the first connection left */
	bool resume_asked;
	char exec_arg[64];     /* RX_EXEC: argv[1] */
	char err[512];
};

static void reply(rvmig_ep *ep, const uint8_t *m, size_t n)
{
	int rc = eploop_reply(ep, m, n);

	cr_assert_eq(rc, 0, "reply: %s", rvmig_strerror(rc));
}

/* One decoded message of the sender. */
static void on_msg(struct rx *rx, rvmig_ep *ep, rvmig_xrecv *r, const struct rvmig_event *ev)
{
	struct rvmig_xmsg m;
	uint8_t out[256], d[RVMIG_DIGEST_LEN];
	const char *why;

	cr_assert_eq(rvmig_xmsg_decode(ev->data, ev->len, &m, &why), 0, "%s", why);
	if (m.tag == RVMIG_XMSG_HELLO) {
		rvmig_xrecv_begin(r, m.flags & RVMIG_XMSG_F_RAW,
				  m.flags & RVMIG_XMSG_F_SIZE ? m.input_size : RVMIG_XRECV_NO_LIMIT);
		if (m.flags & RVMIG_XMSG_F_RESUME) {
			rx->resume_asked = true;
			cr_assert_eq(rvmig_xrecv_peek_digest(r, d), 0);
			reply(ep, out, rvmig_xmsg_encode_resume(out, sizeof(out),
								rvmig_xrecv_offset(r), d));
		}
		return;
	}
	if (m.tag == RVMIG_XMSG_EXEC) {
		/* argv: "cmd\0arg\0" */
		size_t l0 = strnlen((const char *)m.data, m.len);

		if (l0 + 1 < m.len)
			snprintf(rx->exec_arg, sizeof(rx->exec_arg), "%.*s", (int)(m.len - l0 - 1),
				 (const char *)m.data + l0 + 1);
		rvmig_xrecv_begin(r, false, RVMIG_XRECV_NO_LIMIT);
		out[0] = 0;
		{
			size_t n = rvmig_xmsg_encode_payload_hdr(out, sizeof(out), RVMIG_XMSG_OUT);

			memcpy(out + n, RX_OUT, strlen(RX_OUT));
			reply(ep, out, n + strlen(RX_OUT));
		}
		return;
	}
	if (m.tag == RVMIG_XMSG_ABORT) {
		rvmig_xrecv_fail(r, m.status, "the sender gave up: %.*s", (int)m.len,
				 (const char *)m.data);
		return;
	}
	cr_assert_eq(rvmig_xrecv_msg(r, &m, ev->stream_off), 1, "unexpected %s",
		     rvmig_xmsg_tag_name(m.tag));
}

/* Serves one connection; returns whether the sender is to come back. */
static bool serve(struct rx *rx, rvmig_ep *ep)
{
	struct rvmig_xrecv_sink sink = memsink_sink(&rx->out);
	struct rvmig_xrecv_attr a = { .size = sizeof(a), .sink = &sink, .peer = "the test sender" };
	uint8_t m[4096], d[RVMIG_DIGEST_LEN];
	bool closed = false, drop = rx->how == RX_DROP_ONCE && rx->connections == 1;
	rvmig_xrecv *r;

	cr_assert_eq(rvmig_xrecv_create(&a, &r), 0);
	if (rx->out.len)
		rvmig_xrecv_prefix(r, rx->out.buf, rx->out.len); /* what it holds from before */
	while (!rvmig_xrecv_error(r, NULL) && !rvmig_xrecv_done(r) && !closed) {
		struct rvmig_event ev;

		if (rvmig_progress(ep, rvmig_xrecv_busy(r) ? 0 : 100) < 0)
			break;
		if (rvmig_xrecv_busy(r))
			rvmig_xrecv_step(r);
		while (!rvmig_xrecv_busy(r) && rvmig_event_next(ep, &ev) > 0) {
			if (ev.type == RVMIG_EV_RECV_DATA)
				rvmig_xrecv_data(r, ev.stream_off, ev.data, ev.len);
			else if (ev.type == RVMIG_EV_RECV_MSG)
				on_msg(rx, ep, r, &ev);
			else if (ev.type == RVMIG_EV_PEER_CLOSED)
				closed = true;
			if (ev.type == RVMIG_EV_RECV_DATA || ev.type == RVMIG_EV_RECV_MSG)
				rvmig_recv_release(ep, ev.token);
		}
		if (drop && rvmig_xrecv_offset(r) > 0 && !rvmig_xrecv_busy(r)) {
			/* Gone mid-stream, holding [0, offset). */
			rx->dropped_at = rvmig_xrecv_offset(r);
			rvmig_xrecv_destroy(r);
			return true;
		}
	}
	if (rvmig_xrecv_error(r, NULL)) {
		const char *t;

		rvmig_xrecv_error(r, &t);
		snprintf(rx->err, sizeof(rx->err), "%s", t);
	}
	rvmig_xrecv_digest(r, false, d);
	if (rx->how == RX_BAD_DIGEST)
		d[0] ^= 0xff;
	if (rx->how == RX_EXEC)
		reply(ep, m, rvmig_xmsg_encode_exit(m, sizeof(m), RX_EXIT_STATUS,
						    rvmig_xrecv_offset(r), d, "exited"));
	else if (rx->how == RX_STATUS)
		reply(ep, m, rvmig_xmsg_encode_verdict(m, sizeof(m), -ENOSPC, rvmig_xrecv_offset(r),
						       d, "no space left for the test"));
	else if (rx->how != RX_SILENT)
		reply(ep, m, rvmig_xmsg_encode_verdict(m, sizeof(m), rvmig_xrecv_error(r, NULL),
						       rvmig_xrecv_offset(r), d, "ok"));
	/* The sender closes first (after the verdict, or at its deadline). */
	if (!closed)
		eploop_wait_close(ep, 400);
	rvmig_xrecv_destroy(r);
	return false;
}

static void *receiver(void *arg)
{
	struct rx *rx = arg;
	bool again = true;

	while (again) {
		rvmig_ep *ep;
		int rc = rvmig_accept(rx->l, 20000, &ep);

		if (rc) {
			snprintf(rx->err, sizeof(rx->err), "accept: %s", rvmig_strerror(rc));
			return NULL;
		}
		rx->connections++;
		again = serve(rx, ep);
		rvmig_ep_close(ep);
	}
	return NULL;
}

/* ---- the sending side ---- */

struct notes {
	int connected, resuming, retry, gave_up;
	char last[1200];
	size_t out_len;
	char out[256];
	uint64_t progress_calls;
};

static void on_note(rvmig_xsender *s, enum rvmig_xsend_note n, const char *text, void *arg)
{
	struct notes *nt = arg;

	(void)s;
	nt->connected += n == RVMIG_XSEND_NOTE_CONNECTED;
	nt->resuming += n == RVMIG_XSEND_NOTE_RESUMING;
	nt->retry += n == RVMIG_XSEND_NOTE_RETRY;
	nt->gave_up += n == RVMIG_XSEND_NOTE_GAVE_UP;
	snprintf(nt->last, sizeof(nt->last), "%s", text);
}

static void on_output(rvmig_xsender *s, int stream, const void *data, size_t len, void *arg)
{
	struct notes *nt = arg;

	(void)s;
	cr_assert_eq(stream, 1);
	cr_assert_leq(nt->out_len + len, sizeof(nt->out) - 1);
	memcpy(nt->out + nt->out_len, data, len);
	nt->out_len += len;
}

static void on_progress(rvmig_xsender *s, uint64_t acked, void *arg)
{
	struct notes *nt = arg;

	(void)s;
	(void)acked;
	nt->progress_calls++;
}

static struct streamgen_buf gen(uint32_t pfns)
{
	struct streamgen_opts o = { .nr_pfns = pfns, .batch = 64, .seed = 7 };
	struct streamgen_buf b = { 0 };
	struct streamgen_expect exp;

	cr_assert_eq(streamgen_build(&o, &b, &exp), 0);
	streamgen_expect_free(&exp);
	return b;
}

/* A temporary file holding b, open for reading at offset 0. */
static int file_fd(const struct streamgen_buf *b)
{
	char path[] = "/tmp/rvmig-xsender-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(write(fd, b->data, b->len), (ssize_t)b->len);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

struct session {
	rvmig_ctx *ctx;
	struct rx rx;
	pthread_t th;
	char uri[64];
	struct notes nt;
	struct rvmig_xsend_opts o;
	struct rvmig_xresult res;
};

static void start(struct session *s, enum rx_how how, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->rx.how = how;
	cr_assert_eq(memsink_init(&s->rx.out, cap), 0);
	cr_assert_eq(rvmig_ctx_create(NULL, &s->ctx), 0);
	cr_assert_eq(rvmig_listen(s->ctx, "tcp://127.0.0.1:0", NULL, &s->rx.l), 0);
	snprintf(s->uri, sizeof(s->uri), "tcp://127.0.0.1:%d", rvmig_listener_port(s->rx.l));
	cr_assert_eq(pthread_create(&s->th, NULL, receiver, &s->rx), 0);
	s->o = (struct rvmig_xsend_opts){ .size = sizeof(s->o), .name = "the test input",
					  .on_note = on_note, .on_output = on_output,
					  .on_progress = on_progress, .arg = &s->nt };
	s->res.size = sizeof(s->res);
}

static void stop(struct session *s)
{
	pthread_join(s->th, NULL);
	rvmig_listener_close(s->rx.l);
	rvmig_ctx_destroy(s->ctx);
}

/* Sends b as a file to a receiver that behaves as `how`, with the opts'
 * flags, retries and reply deadline; returns what the one-shot call did. */
static int send_file(struct session *s, enum rx_how how, const struct streamgen_buf *b,
		     uint32_t flags, unsigned retries, uint32_t reply_ms)
{
	int fd = file_fd(b), rc;

	start(s, how, b->len ? b->len : 1);
	s->o.flags = flags;
	s->o.retries = retries;
	s->o.reply_timeout_ms = reply_ms;
	rc = rvmig_xstream_send_fd(s->ctx, s->uri, fd, &s->o, &s->res);
	stop(s);
	close(fd);
	return rc;
}

static void done(struct session *s, struct streamgen_buf *b)
{
	memsink_free(&s->rx.out);
	streamgen_buf_free(b);
}

Test(xsender, file_moves_verified)
{
	struct streamgen_buf b = gen(512);
	struct session s;
	uint8_t d[RVMIG_DIGEST_LEN];
	int rc;

	rc = send_file(&s, RX_OK, &b, 0, 0, 0);
	cr_assert_eq(rc, 0, "%s", s.res.text);
	cr_assert_eq(s.res.status, 0);
	cr_assert_str_empty(s.res.text);
	cr_assert(s.res.verified);
	cr_assert_eq(s.res.bytes, b.len);
	cr_assert_eq(s.res.peer_bytes, b.len);
	cr_assert_eq(s.res.exit_status, -1);
	cr_assert_str_eq(s.res.transport, "tcp");
	cr_assert_eq(rvmig_digest_buf(RVMIG_DIGEST_XXH128, b.data, b.len, d), 0);
	cr_assert_arr_eq(s.res.digest, d, RVMIG_DIGEST_LEN);
	cr_assert_eq(s.rx.out.len, b.len);
	cr_assert_arr_eq(s.rx.out.buf, b.data, b.len);
	cr_assert_eq(s.nt.connected, 1);
	cr_assert_gt(s.nt.progress_calls, 0);
	done(&s, &b);
}

static void *feed_pipe(void *arg)
{
	struct streamgen_buf *b = arg;
	int fd = (int)(intptr_t)b->cap; /* the write end, passed in cap */
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off > 65536 ? 65536 : b->len - off);

		cr_assert_gt(n, 0);
		off += (size_t)n;
	}
	close(fd);
	return NULL;
}

Test(xsender, pipe_moves_verified_fd_kept)
{
	struct streamgen_buf b = gen(300), w;
	struct session s;
	pthread_t feeder;
	int p[2], rc;

	cr_assert_eq(pipe(p), 0);
	w = b;
	w.cap = (size_t)p[1];
	start(&s, RX_OK, b.len);
	cr_assert_eq(pthread_create(&feeder, NULL, feed_pipe, &w), 0);
	s.o.flags = RVMIG_XSTREAM_F_DIGEST_THREAD;
	rc = rvmig_xstream_send_fd(s.ctx, s.uri, p[0], &s.o, &s.res);
	pthread_join(feeder, NULL);
	stop(&s);
	cr_assert_eq(rc, 0, "%s", s.res.text);
	cr_assert(s.res.verified);
	cr_assert_eq(s.rx.out.len, b.len);
	cr_assert_arr_eq(s.rx.out.buf, b.data, b.len);
	/* The library does not close the caller's fd. */
	cr_assert_neq(fcntl(p[0], F_GETFD), -1);
	close(p[0]);
	streamgen_buf_free(&b);
	memsink_free(&s.rx.out);
}

Test(xsender, verdict_with_another_digest_fails)
{
	struct streamgen_buf b = gen(128);
	struct session s;
	int rc;

	rc = send_file(&s, RX_BAD_DIGEST, &b, 0, 0, 0);
	cr_assert_eq(rc, -RVMIG_EINTEGRITY, "%d %s", rc, s.res.text);
	cr_assert_eq(s.res.status, rc);
	cr_assert(!s.res.verified);
	cr_assert_not_null(strstr(s.res.text, "another xxh128 digest"), "%s", s.res.text);
	cr_assert_not_null(strstr(s.res.text, "127.0.0.1"), "no peer in: %s", s.res.text);
	done(&s, &b);
}

Test(xsender, receiver_failure_is_final)
{
	struct streamgen_buf b = gen(128);
	struct session s;
	int rc;

	rc = send_file(&s, RX_STATUS, &b, RVMIG_XSEND_F_RESUME, 3, 0);
	cr_assert_eq(rc, -ENOSPC, "%d %s", rc, s.res.text);
	cr_assert_not_null(strstr(s.res.text, "receiver failed: no space left for the test"),
			   "%s", s.res.text);
	cr_assert_eq(s.res.retries, 0);
	cr_assert_eq(s.rx.connections, 1);
	done(&s, &b);
}

Test(xsender, no_verdict_hits_the_deadline)
{
	struct streamgen_buf b = gen(64);
	struct session s;
	int rc;

	rc = send_file(&s, RX_SILENT, &b, 0, 0, 300);
	cr_assert_eq(rc, -RVMIG_ETIMEDOUT, "%d %s", rc, s.res.text);
	cr_assert_not_null(strstr(s.res.text, "sent no verdict within 300 ms"), "%s", s.res.text);
	/* Everything arrived; only the answer was missing. */
	cr_assert_eq(s.rx.out.len, b.len);
	done(&s, &b);
}

Test(xsender, dropped_connection_resumes)
{
	struct streamgen_buf b = gen(4096);
	struct session s;
	int rc;

	rc = send_file(&s, RX_DROP_ONCE, &b, RVMIG_XSEND_F_RESUME, 2, 0);
	cr_assert_eq(rc, 0, "%s", s.res.text);
	cr_assert(s.rx.resume_asked);
	cr_assert_eq(s.rx.connections, 2);
	cr_assert_eq(s.res.retries, 1);
	cr_assert_eq(s.nt.retry, 1);
	cr_assert_gt(s.rx.dropped_at, 0);
	cr_assert_lt(s.rx.dropped_at, b.len);
	cr_assert_eq(s.res.resume_offset, s.rx.dropped_at);
	cr_assert_eq(s.nt.resuming, 1);
	cr_assert_not_null(strstr(s.nt.last, "resuming at stream offset"), "%s", s.nt.last);
	cr_assert(s.res.verified);
	cr_assert_eq(s.rx.out.len, b.len);
	cr_assert_arr_eq(s.rx.out.buf, b.data, b.len);
	done(&s, &b);
}

Test(xsender, nobody_listening_retries_then_gives_up)
{
	struct streamgen_buf b = gen(16);
	struct rvmig_xsend_opts o = { .size = sizeof(o), .flags = RVMIG_XSEND_F_RESUME,
				      .retries = 1 };
	struct rvmig_xresult res = { .size = sizeof(res) };
	struct notes nt = { 0 };
	rvmig_listener *l;
	rvmig_ctx *ctx;
	char uri[64];
	int fd = file_fd(&b), rc;

	o.on_note = on_note;
	o.arg = &nt;
	cr_assert_eq(rvmig_ctx_create(NULL, &ctx), 0);
	/* A port that was just free: listen, note it, close. */
	cr_assert_eq(rvmig_listen(ctx, "tcp://127.0.0.1:0", NULL, &l), 0);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", rvmig_listener_port(l));
	rvmig_listener_close(l);
	rc = rvmig_xstream_send_fd(ctx, uri, fd, &o, &res);
	cr_assert_lt(rc, 0);
	cr_assert_eq(res.retries, 1);
	cr_assert_eq(nt.retry, 1);
	cr_assert_eq(nt.gave_up, 1);
	cr_assert_not_null(strstr(nt.last, "giving up after 1 retries"), "%s", nt.last);
	cr_assert_not_null(strstr(res.text, uri), "%s", res.text);
	rvmig_ctx_destroy(ctx);
	close(fd);
	streamgen_buf_free(&b);
}

Test(xsender, usage_errors)
{
	struct rvmig_xsend_opts o = { .size = sizeof(o), .retries = 1 };
	rvmig_xsender *s;
	rvmig_ctx *ctx;
	int p[2];

	cr_assert_eq(rvmig_ctx_create(NULL, &ctx), 0);
	/* retries without resume */
	cr_assert_eq(rvmig_xsender_create(ctx, 0, &o, &s), -EINVAL);
	cr_assert_null(s);
	cr_assert_eq(rvmig_xsender_create(ctx, -1, NULL, &s), -EBADF);
	/* resume of a pipe */
	cr_assert_eq(pipe(p), 0);
	o.retries = 0;
	o.flags = RVMIG_XSEND_F_RESUME;
	cr_assert_eq(rvmig_xsender_create(ctx, p[0], &o, &s), -ESPIPE);
	cr_assert_not_null(s);
	{
		const char *t;

		cr_assert_eq(rvmig_xsender_error(s, &t), -ESPIPE);
		cr_assert_not_null(strstr(t, "resume needs a regular file"), "%s", t);
	}
	cr_assert_eq(rvmig_xsender_send(s, "tcp://127.0.0.1:1"), -ESPIPE);
	rvmig_xsender_destroy(s);
	close(p[0]);
	close(p[1]);
	rvmig_ctx_destroy(ctx);
}

Test(xsender, not_a_xen_stream_is_refused)
{
	struct streamgen_buf b = { 0 };
	struct session s;
	int rc;

	cr_assert_eq(streamgen_append(&b, "this is no Xen stream at all, just text\n", 40), 0);
	rc = send_file(&s, RX_OK, &b, 0, 0, 0);
	cr_assert_eq(rc, -RVMIG_ESTREAM, "%d %s", rc, s.res.text);
	cr_assert_not_null(strstr(s.res.text, "the test input is not a valid Xen save stream"),
			   "%s", s.res.text);
	done(&s, &b);
}

Test(xsender, exec_runs_a_command)
{
	static const char input[] = "the command's stdin, not a Xen stream\n";
	char *argv[] = { "cat", "an argument", NULL };
	struct session s;
	rvmig_xsender *x;
	int p[2], rc;

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], input, sizeof(input) - 1), (ssize_t)sizeof(input) - 1);
	close(p[1]);
	start(&s, RX_EXEC, 4096);
	cr_assert_eq(rvmig_xsender_create(s.ctx, p[0], &s.o, &x), 0);
	rc = rvmig_xsender_exec(x, s.uri, 2, argv);
	rvmig_xsender_result(x, &s.res);
	rvmig_xsender_destroy(x);
	stop(&s);
	cr_assert_eq(rc, 0, "%s", s.res.text);
	cr_assert_eq(s.res.exit_status, RX_EXIT_STATUS);
	cr_assert(s.res.verified);
	cr_assert_str_eq(s.rx.exec_arg, "an argument");
	cr_assert_eq(s.rx.out.len, sizeof(input) - 1);
	cr_assert_arr_eq(s.rx.out.buf, input, sizeof(input) - 1);
	cr_assert_eq(s.nt.out_len, strlen(RX_OUT));
	cr_assert_arr_eq(s.nt.out, RX_OUT, strlen(RX_OUT));
	close(p[0]);
	memsink_free(&s.rx.out);
}
