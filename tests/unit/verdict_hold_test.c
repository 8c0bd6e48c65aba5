/* SPDX-License-Identifier: MIT */
/*
 * The verdict's hold (rvmig_xrsession_set_hold(), rvmig/xstream.h) through
 * the public API only, over real TCP on loopback: a sender session
 * (rvmig_xsender, as rvmig-save uses it) in this thread, a receiving
 * session with a caller's sink and a hold in another.  The hold is polled
 * only once the whole stream is in the sink and verified; the sender hears
 * success only when it said done, the hold's failure with its status and its
 * reason (escaped) when it failed, -RVMIG_ETIMEDOUT naming the deadline when
 * it did not answer in time; a sender that stops waiting for the verdict
 * ends the hold (the session fails, it must not count as delivered).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "memsink.h"
#include "streamgen.h"

static void ignore_sigpipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}

TestSuite(verdict_hold, .init = ignore_sigpipe);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the receiving side: a sink in memory and a hold ---- */

enum hold_kind {
	HOLD_DONE_AFTER,   /* 1 for `polls` calls, then 0 */
	HOLD_FAIL,         /* -EEXIST with a reason holding control characters */
	HOLD_NEVER,        /* 1 for ever */
};

struct rcv {
	rvmig_ctx *ctx;
	rvmig_listener *l;
	enum hold_kind kind;
	unsigned polls;
	uint32_t hold_ms;
	struct memsink mem;        /* the sink */
	size_t want;               /* the stream's length */
	/* what the hold saw */
	unsigned calls;
	bool early;                /* called before the stream was all there and verified */
	/* the outcome */
	int rc;
	struct rvmig_xresult res;
	double t_end;
};

static int hold(rvmig_xrsession *s, char *why, size_t whylen, void *arg)
{
	struct rcv *r = arg;

	r->calls++;
	if (r->mem.len != r->want || !rvmig_xrecv_done(rvmig_xrsession_xrecv(s)))
		r->early = true;
	switch (r->kind) {
	case HOLD_DONE_AFTER:
		return r->calls > r->polls ? 0 : 1;
	case HOLD_FAIL:
		snprintf(why, whylen, "domain 7 already has the name \x1b[31mguest\nrvmig-save: ok");
		return -EEXIST;
	case HOLD_NEVER:
		return 1;
	}
	return -EINVAL;
}

static void *rcv_main(void *arg)
{
	struct rcv *r = arg;
	struct rvmig_xrecv_sink sink = memsink_sink(&r->mem);
	struct rvmig_xrsession_attr a = { .size = sizeof(a), .sink = &sink,
					  .accept_timeout_ms = 30000 };
	rvmig_xrsession *s;

	r->res.size = sizeof(r->res);
	r->rc = rvmig_xrsession_create(r->ctx, &a, &s);
	if (!r->rc)
		r->rc = rvmig_xrsession_set_hold(s, hold, r, r->hold_ms);
	if (!r->rc)
		r->rc = rvmig_xrsession_run(s, r->l);
	else
		rvmig_listener_close(r->l);
	r->t_end = now();
	if (s)
		rvmig_xrsession_result(s, &r->res);
	rvmig_xrsession_destroy(s);
	return NULL;
}

/* ---- one transfer ---- */

struct run {
	struct streamgen_buf sb;
	struct rcv r;
	int rc;                    /* the sender's */
	struct rvmig_xresult res;  /* the sender's */
	double t_sent;             /* when rvmig_xsender_send() returned */
};

static void transfer(struct run *x, enum hold_kind kind, unsigned polls, uint32_t hold_ms,
		     uint32_t reply_timeout_ms)
{
	struct streamgen_opts o = { .nr_pfns = 2000, .seed = 81, .batch = 256 };
	struct streamgen_expect se = { 0 };
	struct rvmig_xsend_opts so = { .size = sizeof(so), .reply_timeout_ms = reply_timeout_ms,
				       .name = "the test stream" };
	char path[] = "/tmp/rvmig-vhold-XXXXXX", uri[64];
	pthread_t th;
	int fd;

	memset(x, 0, sizeof(*x));
	cr_assert_eq(streamgen_build(&o, &x->sb, &se), 0);
	streamgen_expect_free(&se);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(write(fd, x->sb.data, x->sb.len), (ssize_t)x->sb.len);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);

	cr_assert_eq(rvmig_ctx_create(NULL, &x->r.ctx), 0);
	x->r.kind = kind;
	x->r.polls = polls;
	x->r.hold_ms = hold_ms;
	x->r.want = x->sb.len;
	cr_assert_eq(memsink_init(&x->r.mem, x->sb.len), 0);
	cr_assert_eq(rvmig_listen(x->r.ctx, "tcp://127.0.0.1:0", NULL, &x->r.l), 0);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", rvmig_listener_port(x->r.l));
	cr_assert_eq(pthread_create(&th, NULL, rcv_main, &x->r), 0);

	x->res.size = sizeof(x->res);
	x->rc = rvmig_xstream_send_fd(x->r.ctx, uri, fd, &so, &x->res);
	x->t_sent = now();
	pthread_join(th, NULL);
	close(fd);
}

static void run_free(struct run *x)
{
	rvmig_ctx_destroy(x->r.ctx);
	memsink_free(&x->r.mem);
	streamgen_buf_free(&x->sb);
}

Test(verdict_hold, success_only_once_the_hold_said_done)
{
	struct run x;

	transfer(&x, HOLD_DONE_AFTER, 4, 0, 0);
	cr_assert_eq(x.r.rc, 0, "receiver: %s", x.r.res.text);
	cr_assert_eq(x.rc, 0, "sender: %s", x.res.text);
	cr_assert(x.res.verified);
	cr_assert_eq(x.r.calls, 5, "the hold was polled %u times", x.r.calls);
	cr_assert(!x.r.early, "the hold was called before the stream was all there");
	cr_assert_eq(x.r.mem.len, x.sb.len);
	cr_assert_arr_eq(x.r.mem.buf, x.sb.data, x.sb.len);
	run_free(&x);
}

Test(verdict_hold, a_failing_hold_fails_the_sender_with_its_reason)
{
	struct run x;

	transfer(&x, HOLD_FAIL, 0, 0, 0);
	cr_assert(!x.r.early);
	cr_assert_eq(x.r.calls, 1);
	/* the whole stream arrived and was verified ... */
	cr_assert_eq(x.r.mem.len, x.sb.len);
	cr_assert(x.r.res.verified);
	/* ... but neither side counts it as delivered */
	cr_assert_eq(x.r.rc, -EEXIST, "receiver: %d %s", x.r.rc, x.r.res.text);
	cr_assert_not_null(strstr(x.r.res.text, "already has the name"), "%s", x.r.res.text);
	cr_assert_eq(x.rc, -EEXIST, "sender: %d %s", x.rc, x.res.text);
	cr_assert(!x.res.verified);
	cr_assert_not_null(strstr(x.res.text, "receiver failed: domain 7 already has the name"),
			   "%s", x.res.text);
	/* the peer's words arrive escaped: no raw control character */
	cr_assert_null(strchr(x.res.text, '\x1b'), "%s", x.res.text);
	cr_assert_null(strchr(x.res.text, '\n'), "%s", x.res.text);
	cr_assert_not_null(strstr(x.res.text, "\\x1b[31mguest\\nrvmig-save: ok"), "%s",
			   x.res.text);
	run_free(&x);
}

Test(verdict_hold, a_hold_past_its_deadline_fails_naming_it)
{
	struct run x;

	transfer(&x, HOLD_NEVER, 0, 400, 0);
	cr_assert_geq(x.r.calls, 2);
	cr_assert_eq(x.r.rc, -RVMIG_ETIMEDOUT, "receiver: %d %s", x.r.rc, x.r.res.text);
	cr_assert_eq(x.rc, -RVMIG_ETIMEDOUT, "sender: %d %s", x.rc, x.res.text);
	cr_assert_not_null(strstr(x.res.text, "was not consumed within 400 ms"), "%s", x.res.text);
	cr_assert_not_null(strstr(x.res.text, "hold deadline"), "%s", x.res.text);
	run_free(&x);
}

Test(verdict_hold, a_sender_that_stops_waiting_ends_the_hold)
{
	struct run x;

	/* The sender waits 500 ms for its verdict; the hold would allow 60 s
	 * but says "not yet" for ever: the session ends when the sender goes
	 * (it heard no verdict and keeps its source), long before that. */
	transfer(&x, HOLD_NEVER, 0, 60000, 500);
	cr_assert_eq(x.rc, -RVMIG_ETIMEDOUT, "sender: %d %s", x.rc, x.res.text);
	cr_assert_not_null(strstr(x.res.text, "no verdict within 500 ms"), "%s", x.res.text);
	cr_assert_neq(x.r.rc, 0, "the receiver counted a transfer whose sender gave up");
	cr_assert_not_null(strstr(x.r.res.text, "sender"), "%s", x.r.res.text);
	cr_assert_lt(x.r.t_end - x.t_sent, 30.0, "the hold outlived its sender by %.1f s",
		     x.r.t_end - x.t_sent);
	run_free(&x);
}
