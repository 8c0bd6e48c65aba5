/* SPDX-License-Identifier: MIT */
/*
 * rsession.c - the receiving session (rvmig_xrsession, rvmig/xstream.h):
 * the accept loop (and, resumable, the wait for a sender that went away),
 * HELLO and its RESUME answer, ABORT, END, the caller's hold on the verdict
 * and the VERDICT, on top of the
 * receiver's pump (rvmig_xrecv_progress, rpump.c).  Its output: rsoutput.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "xstream/rsession.h"
#include "xstream/xlog.h"
#include "xstream/xrecv.h"

#define TURN_MS 200       /* longest wait of one turn of the pump */
#define HOLD_TURN_MS 100  /* ... while the verdict is held: the hook's poll */
#define ACCEPT_SLICE_MS 500 /* the stop flag is looked at between slices */
#define REPLY_TRIES 100   /* a reply waits out missing credits this many times ... */
#define REPLY_WAIT_MS 50  /* ... this long each */

void rsession_fail(struct rvmig_xrsession *s, int err, const char *fmt, ...)
{
	va_list ap;
	char t[1024];

	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	rvmig_xrecv_fail(s->rb, err, "%s", t);
}

int rsession_err(const struct rvmig_xrsession *s)
{
	return rvmig_xrecv_error(s->rb, NULL);
}

uint64_t rsession_off(const struct rvmig_xrsession *s)
{
	return rvmig_xrecv_offset(s->rb);
}

static int stop_sig(const struct rvmig_xrsession *s)
{
	return s->a.stop ? *s->a.stop : 0;
}

static const char *mode_name(enum rvmig_mode m)
{
	return m == RVMIG_MODE_PULL ? "pull" : m == RVMIG_MODE_PUSH ? "push" : "?";
}

/* The connection ended before the END: resumable, the state is kept for
 * the sender to come back, otherwise it is a failure. */
static void drop(struct rvmig_xrsession *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void drop(struct rvmig_xrsession *s, int err, const char *fmt, ...)
{
	va_list ap;
	char t[512];

	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	if (!s->resume) {
		rsession_fail(s, err, "%s", t);
		return;
	}
	if (!s->dropped && !rsession_err(s))
		snprintf(s->droptxt, sizeof(s->droptxt), "%s", t);
	s->dropped = true;
}

/* Sends a reply, waiting out missing control credits (bounded). */
static int reply(struct rvmig_xrsession *s, const void *m, size_t n)
{
	int rc = -EAGAIN;

	for (int tries = 0; tries < REPLY_TRIES && rc == -EAGAIN; tries++) {
		rc = rvmig_reply_msg(s->ep, m, n);
		if (rc == -EAGAIN && rvmig_progress(s->ep, REPLY_WAIT_MS) < 0)
			break;
	}
	return rc;
}

static void reply_resume(struct rvmig_xrsession *s)
{
	uint8_t m[64], digest[RVMIG_DIGEST_LEN];
	int rc;

	if (rvmig_xrecv_peek_digest(s->rb, digest)) {
		rsession_fail(s, -ENOMEM, "out of memory");
		return;
	}
	rc = reply(s, m, rvmig_xmsg_encode_resume(m, sizeof(m), rsession_off(s), digest));
	if (rc == -EAGAIN)
		drop(s, -RVMIG_EPEER, "cannot answer sender %s (no credit)", s->peer);
	else if (rc)
		drop(s, rc, "cannot answer sender %s: %s", s->peer, xstream_ep_why(s->ep, rc));
}

static void on_hello(struct rvmig_xrsession *s, const struct rvmig_xmsg *m)
{
	enum rvmig_digest_alg alg = rvmig_xmsg_digest_alg(m->flags);
	bool sized = m->flags & RVMIG_XMSG_F_SIZE;
	char why[512];
	int rc;

	if (s->hello) {
		rsession_fail(s, -RVMIG_EBADMSG, "second HELLO from %s", s->peer);
		return;
	}
	s->hello = true;
	s->raw = m->flags & RVMIG_XMSG_F_RAW;
	/* Nothing may go past the announced size.  (A resumed transfer's
	 * next connection begins again: that is no error.) */
	rvmig_xrecv_begin(s->rb, s->raw, sized ? m->input_size : RVMIG_XRECV_NO_LIMIT);
	s->expect_size = sized ? m->input_size : 0;
	s->peer_version = m->tool_version;
	rvmig_pubxfer_set_total(s->a.pub, sized ? m->input_size : RVMIG_PUBXFER_SIZE_UNKNOWN);
	xlog(&s->log, RVMIG_LOG_DEBUG, "sender %s: rvmig-send %u.%u.%u, %s input, %s%llu bytes",
	     s->peer, m->tool_version >> 16, (m->tool_version >> 8) & 0xff, m->tool_version & 0xff,
	     s->raw ? "raw" : "Xen stream", s->expect_size ? "" : "size unknown, ",
	     (unsigned long long)s->expect_size);
	if (s->resume && (rc = resume_hello(&s->rs, m, &s->out, s->rb, why, sizeof(why)))) {
		rsession_fail(s, rc, "%s", why);
		return;
	}
	/* Nothing was delivered before the HELLO: the digest can still change
	 * (resumable, resume_hello() did that). */
	if (!s->resume && !rsession_err(s) && rvmig_xrecv_digest_alg(s->rb) != alg &&
	    (rc = rvmig_xrecv_reset(s->rb, alg))) {
		rsession_fail(s, rc, "out of memory");
		return;
	}
	if (s->verify_stream && !s->raw && (rc = rvmig_xrecv_verify(s->rb))) {
		rsession_fail(s, rc, "cannot create the stream parser: %s", rvmig_strerror(rc));
		return;
	}
	rsession_output_open(s);
	if (rsession_err(s))
		return;
	rsession_check_space(s);
	s->resume_off = rsession_off(s);
	if (!rsession_err(s) && rsession_off(s))
		xlog(&s->log, RVMIG_LOG_INFO, "sender %s continues its transfer at stream offset %llu",
		     s->peer, (unsigned long long)rsession_off(s));
	if (!rsession_err(s) && (m->flags & RVMIG_XMSG_F_RESUME))
		reply_resume(s);
}

/* The messages the receiver does not take itself (rvmig_xrecv_attr.on_msg). */
static void on_msg(rvmig_xrecv *rb, const struct rvmig_xmsg *m, uint64_t off, void *arg)
{
	struct rvmig_xrsession *s = arg;
	char text[256];

	(void)rb;
	(void)off;
	if (m->tag == RVMIG_XMSG_HELLO) {
		on_hello(s, m);
		return;
	}
	if (m->tag != RVMIG_XMSG_ABORT) {
		rsession_fail(s, -RVMIG_EBADMSG, "unexpected %s message from %s",
			      rvmig_xmsg_tag_name(m->tag), s->peer);
		return;
	}
	rvmig_text_escape(text, sizeof(text), m->data, m->len); /* the sender's words */
	if (m->status == -EINTR) /* the sender was stopped, not refused: what came is good */
		drop(s, m->status, "sender %s gave up at stream offset %llu: %s", s->peer,
		     (unsigned long long)rsession_off(s), text);
	else
		rsession_fail(s, m->status ? m->status : -RVMIG_EPEER,
			      "sender %s gave up at stream offset %llu: %s", s->peer,
			      (unsigned long long)rsession_off(s), text);
}

static void on_close(rvmig_xrecv *rb, void *arg)
{
	struct rvmig_xrsession *s = arg;

	s->peer_closed = true;
	if (!rvmig_xrecv_done(rb))
		drop(s, -RVMIG_EPEER, "sender %s closed the connection at stream offset %llu before "
		     "the end", s->peer, (unsigned long long)rsession_off(s));
}

/* One turn: the pump, then what follows from it. */
static void turn(struct rvmig_xrsession *s, int timeout_ms)
{
	int rc = rvmig_xrecv_progress(s->rb, timeout_ms);

	if (rc < 0) {
		if (!rvmig_xrecv_done(s->rb))
			drop(s, rc, "connection to sender %s failed at stream offset %llu: %s", s->peer,
			     (unsigned long long)rsession_off(s), xstream_ep_why(s->ep, rc));
		s->peer_closed = true; /* nothing more will come */
	}
	if (rvmig_xrecv_done(s->rb) && !s->ended && !rsession_err(s)) {
		s->ended = true;
		if (!rvmig_xrecv_finish_stream(s->rb))
			rsession_commit(s);
	}
	if (stop_sig(s))
		rsession_fail(s, -EINTR, "interrupted by signal %d at stream offset %llu", stop_sig(s),
			      (unsigned long long)rsession_off(s));
	if (s->resume && s->hello && !rsession_err(s) && !rvmig_xrecv_done(s->rb)) {
		char why[512];

		rc = resume_maybe_checkpoint(&s->rs, &s->out, s->rb, why, sizeof(why));
		if (rc)
			rsession_fail(s, rc, "%s", why);
	}
	if (s->a.on_progress)
		s->a.on_progress(s, rsession_off(s), s->expect_size, s->a.arg);
}

/* One sender, from accept to its END (or its failure / drop). */
static void serve(struct rvmig_xrsession *s)
{
	snprintf(s->transport, sizeof(s->transport), "%s", rvmig_ep_transport(s->ep));
	snprintf(s->peer, sizeof(s->peer), "%s", rvmig_ep_peer(s->ep));
	s->mode = rvmig_ep_mode(s->ep);
	rvmig_xrecv_set_peer(s->rb, s->peer);
	rvmig_pubxfer_set_endpoint(s->a.pub, s->ep);
	s->hello = s->dropped = s->peer_closed = false;
	s->conns++;
	xlog(&s->log, RVMIG_LOG_DEBUG, "sender %s connected over %s (%s)", s->peer, s->transport,
	     mode_name(s->mode));
	if (s->a.mode && s->a.mode != s->mode)
		rsession_fail(s, -EPROTO, "sender %s chose %s mode, only %s is accepted here", s->peer,
			      mode_name(s->mode), mode_name(s->a.mode));
	rvmig_xrecv_attach(s->rb, s->ep);
	while (!rsession_err(s) && !rvmig_xrecv_done(s->rb) && !s->peer_closed && !s->dropped)
		turn(s, TURN_MS);
	rvmig_xrecv_detach(s->rb); /* nothing is held past this sender */
}

/* Waits up to timeout_ms (0: for ever) for a sender, in slices so that the
 * stop flag ends the wait (-EINTR).  A sender that fails authentication is
 * refused (the library's warning names it) and the wait goes on. */
static int accept_sender(struct rvmig_xrsession *s, rvmig_listener *l, uint32_t timeout_ms)
{
	double end = xstream_now() + timeout_ms / 1000.0;

	for (;;) {
		int left = timeout_ms ? (int)((end - xstream_now()) * 1000) : ACCEPT_SLICE_MS;
		int rc;

		if (stop_sig(s))
			return -EINTR;
		if (left < 0)
			left = 0;
		rc = rvmig_accept(l, left < ACCEPT_SLICE_MS ? left : ACCEPT_SLICE_MS, &s->ep);
		if (rc == -RVMIG_EAUTH) {
			xlog(&s->log, RVMIG_LOG_ERROR, "refused a sender on port %d: authentication "
			     "failed (it has no key or another key); still waiting",
			     rvmig_listener_port(l));
			continue;
		}
		if ((rc == -ETIMEDOUT || rc == -RVMIG_ETIMEDOUT) &&
		    (!timeout_ms || xstream_now() < end))
			continue;
		return rc;
	}
}

/*
 * The stream is complete and verified: the caller's consumer finishes with
 * it before the verdict (rvmig_xrsession_set_hold()), polled on each turn
 * while the connection is driven, within its deadline.  A failure becomes
 * the session's error, and so the verdict's status and text.  A sender that
 * goes away meanwhile heard no verdict and keeps its source: that fails the
 * session too, however the consumer did.
 */
static void hold(struct rvmig_xrsession *s)
{
	double deadline = xstream_now() + s->hold_ms / 1000.0;
	char why[512];
	int rc;

	xlog(&s->log, RVMIG_LOG_DEBUG, "stream from %s verified; the verdict waits for %s to be "
	     "consumed (up to %u ms)", s->peer, rvmig_xrsession_output(s), s->hold_ms);
	s->held = true;
	rvmig_xrecv_attach(s->rb, s->ep);
	for (;;) {
		why[0] = 0;
		rc = s->hold_fn(s, why, sizeof(why), s->hold_arg);
		if (rc < 0) {
			rsession_fail(s, rc, "%s", why[0] ? why : rvmig_strerror(rc));
			break;
		}
		if (rc == 0)
			break;
		if (xstream_now() >= deadline) {
			rsession_fail(s, -RVMIG_ETIMEDOUT, "the stream from %s arrived verified, but %s "
				      "was not consumed within %u ms (the verdict's hold deadline)",
				      s->peer, rvmig_xrsession_output(s), s->hold_ms);
			break;
		}
		turn(s, HOLD_TURN_MS);
		if (rsession_err(s) || s->peer_closed)
			break;
	}
	if (!rsession_err(s) && s->peer_closed)
		rsession_fail(s, -RVMIG_EPEER, "sender %s went away while the verdict was held: it "
			      "heard no verdict (and keeps its source)", s->peer);
	rvmig_xrecv_detach(s->rb);
}

/* Tells the sender, then lets it close first so the verdict reaches it. */
static void verdict(struct rvmig_xrsession *s)
{
	uint8_t m[4096], digest[RVMIG_DIGEST_LEN];
	size_t cap = rvmig_msg_max() < sizeof(m) ? rvmig_msg_max() : sizeof(m);
	const char *text;
	int err = rvmig_xrecv_error(s->rb, &text);
	double deadline;
	bool late = false;

	rvmig_xrecv_digest(s->rb, false, digest); /* zeros before an END */
	reply(s, m, rvmig_xmsg_encode_verdict(m, cap, err, rsession_off(s), digest,
					      err ? text : "ok"));
	deadline = xstream_now() + s->a.timeout_ms / 1000.0;
	rvmig_xrecv_set_drain(s->rb, true);
	rvmig_xrecv_attach(s->rb, s->ep);
	while (!s->peer_closed && xstream_now() < deadline) {
		int saved = rsession_err(s);

		turn(s, TURN_MS);
		if (!saved && rsession_err(s) && rvmig_xrecv_done(s->rb)) {
			/* The file is already committed and verified; the sender
			 * vanishing after the verdict does not change that. */
			late = true;
			break;
		}
	}
	s->status = late ? 0 : rsession_err(s);
	rvmig_xrecv_detach(s->rb);
	rvmig_xrecv_set_drain(s->rb, false);
}

/* What the user is told at the end, besides the error itself. */
static void log_outcome(struct rvmig_xrsession *s)
{
	const char *text;
	const char *name = rvmig_xrsession_output(s);

	if (!s->status)
		return;
	if (rvmig_xrecv_error(s->rb, &text))
		xlog(&s->log, RVMIG_LOG_ERROR, "%s", text);
	if (s->kept)
		xlog(&s->log, RVMIG_LOG_ERROR, "%s was not written yet: %llu bytes kept in %s (journal "
		     "%s); a resumable session on the same path continues it", name,
		     (unsigned long long)rsession_off(s), s->out.tmp, s->rs.jpath);
	else if (s->out_open && s->held && !s->out.stream)
		xlog(&s->log, RVMIG_LOG_ERROR, "%s holds the whole stream, verified; the transfer "
		     "failed after it (the sender was told why)", name);
	else if (s->out_open && s->held)
		xlog(&s->log, RVMIG_LOG_ERROR, "all %llu bytes went to %s, verified; the transfer "
		     "failed after them (the sender was told why)", (unsigned long long)s->out.off,
		     name);
	else if (s->out_open && !s->out.stream)
		xlog(&s->log, RVMIG_LOG_ERROR, "%s was not written", name);
	else if (s->out_open)
		xlog(&s->log, RVMIG_LOG_ERROR, "the %llu bytes written to %s are incomplete or "
		     "unverified: discard them", (unsigned long long)s->out.off, name);
}

int rvmig_xrsession_run(rvmig_xrsession *s, rvmig_listener *l)
{
	bool first = true;
	char why[512];
	int rc;

	for (;;) {
		rc = accept_sender(s, l, first ? s->a.accept_timeout_ms : s->a.resume_wait_ms);
		if (rc && first) {
			rsession_fail(s, rc, "no sender connected on port %d: %s", rvmig_listener_port(l),
				      rvmig_strerror(rc));
			break;
		}
		if (rc) {
			s->kept = true;
			if (stop_sig(s))
				rsession_fail(s, -RVMIG_EPEER, "interrupted by signal %d while waiting for "
					      "the sender to come back", stop_sig(s));
			else
				rsession_fail(s, -RVMIG_EPEER, "no sender came back within %u s on port "
					      "%d (%s)", s->a.resume_wait_ms / 1000,
					      rvmig_listener_port(l), rvmig_strerror(rc));
			break;
		}
		if (first) {
			s->t0 = xstream_now();
			if (!s->resume) { /* later senders are refused by the kernel */
				rvmig_listener_close(l);
				l = NULL;
			}
		}
		first = false;
		serve(s);
		if (!s->dropped || rsession_err(s))
			break;
		/* Resumable: the sender went away before the END. */
		rc = resume_checkpoint(&s->rs, &s->out, s->rb, why, sizeof(why));
		if (rc) {
			rsession_fail(s, rc, "%s", why);
			break;
		}
		xlog(&s->log, RVMIG_LOG_ERROR, "%s; %llu bytes of %s are durable in %s, waiting up to "
		     "%u s for the sender to come back", s->droptxt, (unsigned long long)rsession_off(s),
		     s->out.path, s->out.tmp, s->a.resume_wait_ms / 1000);
		rvmig_stats_free(s->lst);
		s->lst = NULL;
		rvmig_stats_snapshot(s->ep, &s->lst);
		rvmig_ep_close(s->ep);
		s->ep = NULL;
	}
	rvmig_listener_close(l);
	s->t1 = xstream_now();
	if (!first) /* no sender, nothing changed: a resumable state stays as it was */
		rsession_output_end(s);
	s->status = rsession_err(s);
	if (s->ep) {
		rvmig_stats_free(s->lst);
		s->lst = NULL;
		rvmig_stats_snapshot(s->ep, &s->lst);
		if (s->hold_fn && !rsession_err(s) && rvmig_xrecv_done(s->rb) && !s->peer_closed) {
			hold(s);
			s->status = rsession_err(s);
		}
		if (!s->peer_closed)
			verdict(s);
	}
	log_outcome(s);
	rvmig_pubxfer_end(s->a.pub, s->status);
	return s->status;
}

int rvmig_xrsession_create(rvmig_ctx *ctx, const struct rvmig_xrsession_attr *attr,
			   rvmig_xrsession **out)
{
	struct rvmig_xrsession *s;
	struct rvmig_xrecv_sink sink;
	struct rvmig_xrecv_attr xa;
	unsigned targets;
	char why[512];
	int rc;

	*out = NULL;
	if (!attr || attr->size < sizeof(*attr))
		return -EINVAL;
	targets = !!attr->path + !!(attr->flags & RVMIG_XRSESSION_F_FD) + !!attr->sink;
	if (targets != 1 || (attr->sink && !attr->sink->write) ||
	    ((attr->flags & RVMIG_XRSESSION_F_FD) && attr->fd < 0) ||
	    ((attr->flags & RVMIG_XRSESSION_F_RESUME) && !attr->path))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctx = ctx;
	s->a = *attr;
	s->a.size = sizeof(s->a);
	if (!s->a.timeout_ms)
		s->a.timeout_ms = RSESSION_TIMEOUT_MS;
	if (!s->a.resume_wait_ms)
		s->a.resume_wait_ms = RSESSION_RESUME_WAIT_MS;
	if (!s->a.output_mode)
		s->a.output_mode = RSESSION_OUTPUT_MODE;
	s->log = attr->logger.fn ? attr->logger : ctx ? ctx->logger : (struct rvmig_logger){ 0 };
	s->resume = attr->flags & RVMIG_XRSESSION_F_RESUME;
	s->verify_stream = !(attr->flags & RVMIG_XRSESSION_F_NO_VERIFY);
	s->to_sink = attr->sink;
	if (attr->sink)
		s->sink = *attr->sink;
	sink = rsession_sink(s);
	xa = (struct rvmig_xrecv_attr){
		.size = sizeof(xa),
		/* the pump holds buffers for the digest */
		.flags = (attr->flags & RVMIG_XSTREAM_F_DIGEST_THREAD) | RVMIG_XSTREAM_F_DEFER_RELEASE,
		.sink = &sink,
		.on_msg = on_msg,
		.on_close = on_close,
		.arg = s,
	};
	if ((rc = rvmig_xrecv_create(&xa, &s->rb))) {
		free(s);
		return rc;
	}
	rvmig_xrecv_set_pub(s->rb, s->a.pub);
	*out = s;
	if ((rc = rsession_output_init(s, why, sizeof(why))))
		rsession_fail(s, rc, "%s", why);
	s->status = rc;
	return rc;
}

void rvmig_xrsession_destroy(rvmig_xrsession *s)
{
	if (!s)
		return;
	if (s->ep) {
		rvmig_xrecv_detach(s->rb);
		rvmig_ep_close(s->ep);
	}
	rsession_output_fini(s);
	rvmig_stats_free(s->lst);
	rvmig_xrecv_destroy(s->rb);
	free(s);
}

int rvmig_xrsession_set_hold(rvmig_xrsession *s, rvmig_xrsession_hold_fn fn, void *arg,
			     uint32_t timeout_ms)
{
	if (!s)
		return -EINVAL;
	s->hold_fn = fn;
	s->hold_arg = arg;
	s->hold_ms = timeout_ms ? timeout_ms : RSESSION_HOLD_MS;
	return 0;
}

bool rvmig_xrsession_kept(const rvmig_xrsession *s)
{
	return s->kept;
}

rvmig_xrecv *rvmig_xrsession_xrecv(const rvmig_xrsession *s)
{
	return s->rb;
}

const rvmig_stats *rvmig_xrsession_ep_stats(const rvmig_xrsession *s)
{
	return s->lst;
}

const char *rvmig_xrsession_output(const rvmig_xrsession *s)
{
	if (s->to_sink)
		return s->sink.name ? s->sink.name : "the output";
	return s->out_init ? s->out.path : s->a.path ? s->a.path : "the output descriptor";
}

int rvmig_xrsession_check_path(const char *path, bool resume, char *why, size_t whylen)
{
	return output_check(path, resume, why, whylen);
}
