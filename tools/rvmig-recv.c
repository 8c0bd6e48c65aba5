/* SPDX-License-Identifier: MIT */
/*
 * rvmig-recv - receives one transfer from rvmig-send, rebuilds the exact
 * byte stream at its stream offsets, checks its digest against the
 * sender's (and, unless --no-verify-stream / --raw, parses it as a Xen save
 * stream), makes it durable under PATH (or writes it to stdout), answers the
 * sender with a verdict and exits 0 only when all of that succeeded.
 *
 * With --resume the partial output has a fixed name and a journal
 * (recv/resume.h); a connection that drops before the END leaves that state
 * durable and the listener waits --resume-wait seconds for the sender to
 * come back (exit 75 if it does not); a later rvmig-recv --resume continues
 * from the journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/cli.h"
#include "common/progress.h"
#include "common/report.h"
#include "recv/output.h"
#include "recv/resume.h"

#define KEY_MAX 256
#define EXIT_TEMPFAIL 75 /* sysexits.h EX_TEMPFAIL: partial + journal kept */
#define RESUME_WAIT_DEFAULT 60

enum {
	OPT_LISTEN = OPT_TOOL_FIRST,
	OPT_READY_FILE,
	OPT_NO_VERIFY_STREAM,
	OPT_ACCEPT_TIMEOUT,
	OPT_KEY_FILE,
	OPT_RESUME,
	OPT_RESUME_WAIT,
	OPT_OUTPUT_MODE,
};

struct receiver {
	struct tool_opts *o;
	const char *out_path;
	bool verify_stream;
	rvmig_ep *ep;
	struct recv_output out;
	bool out_open;
	rvmig_xrecv *rb;          /* ordering, sink, digest, verifying parser */

	bool resume;              /* --resume */
	struct recv_resume rs;
	char peerbuf[128];        /* the current (last) sender */

	/* this connection */
	bool hello;               /* HELLO seen */
	bool dropped;             /* ended before END, state kept for a resume */
	char droptxt[512];

	bool raw, peer_closed;
	uint64_t expect_size;   /* from HELLO, 0 if unknown */
	struct rvmig_xmsg end;
	rvmig_xstats *st;
	struct progress prog;
	rvmig_pubxfer *px;        /* what the monitor sees (rvmig/publish.h) */

	/* Event buffers held until the digest worker has passed them
	 * (RVMIG_XSTREAM_F_DEFER_RELEASE): a ring of (token, stream offset
	 * after it). */
	struct held { uint64_t token, end; } *held;
	size_t held_head, held_n, held_cap;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

#define fail(r, ...) rvmig_xrecv_fail((r)->rb, __VA_ARGS__)

/* The receiver's first error (0: none). */
static int rerr(const struct receiver *r)
{
	return rvmig_xrecv_error(r->rb, NULL);
}

/* The next stream offset expected (= bytes delivered). */
static uint64_t roff(const struct receiver *r)
{
	return rvmig_xrecv_offset(r->rb);
}

static const char *peer(const struct receiver *r)
{
	return r->ep ? rvmig_ep_peer(r->ep) : "?";
}

/* The connection ended before the END: with --resume the state is kept for
 * the sender to come back, otherwise it is a failure. */
static void drop(struct receiver *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void drop(struct receiver *r, int err, const char *fmt, ...)
{
	va_list ap;
	char t[512];

	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	if (!r->resume) {
		fail(r, err, "%s", t);
		return;
	}
	if (!r->dropped && !rerr(r))
		snprintf(r->droptxt, sizeof(r->droptxt), "%s", t);
	r->dropped = true;
}

/* Refuses a transfer of known size that cannot fit (see rvmig-recv(1)):
 * the need is the bytes still to come; zero pages become holes, but how
 * many there are is not known before they come, so they are counted. */
static void check_space(struct receiver *r)
{
	uint64_t need, avail;
	char *d;
	int rc;

	if (!r->expect_size || r->out.stream || roff(r) >= r->expect_size)
		return;
	need = r->expect_size - roff(r);
	if ((rc = output_free_space(&r->out, &avail))) {
		fail(r, rc, "cannot check the free space for %s: %s", r->out_path, strerror(-rc));
		return;
	}
	if (need <= avail)
		return;
	d = strdup(r->out_path);
	fail(r, -ENOSPC, "not enough space for %s: needs %llu bytes, %llu free on %s",
	     r->out_path, (unsigned long long)need, (unsigned long long)avail,
	     d ? dirname(d) : "its filesystem");
	free(d);
}

static void reply_resume(struct receiver *r)
{
	uint8_t m[64], sha[32];
	size_t n;

	if (rvmig_xrecv_peek_digest(r->rb, sha)) {
		fail(r, -ENOMEM, "out of memory");
		return;
	}
	n = rvmig_xmsg_encode_resume(m, sizeof(m), roff(r), sha);
	for (int tries = 0; tries < 100; tries++) {
		int rc = rvmig_reply_msg(r->ep, m, n);

		if (rc != -EAGAIN) {
			if (rc)
				drop(r, rc, "cannot answer sender %s: %s", peer(r), tool_ep_why(r->ep, rc));
			return;
		}
		if (rvmig_progress(r->ep, 50) < 0)
			break;
	}
	drop(r, -RVMIG_EPEER, "cannot answer sender %s (no credit)", peer(r));
}

static int sink_write(void *arg, const void *data, size_t len)
{
	return output_write(arg, data, len);
}

static int sink_zero(void *arg, uint64_t len)
{
	return output_zero(arg, len);
}

/* The reader of -o - (or of a FIFO) has taken nothing for `ms`: the
 * connection is kept alive meanwhile; a signal or --timeout ends the wait
 * (recv/output.h). */
static int output_stalled(void *arg, uint64_t ms)
{
	struct receiver *r = arg;
	uint32_t limit = r->o->timeout_ms ? r->o->timeout_ms : 10000;

	if (stop_signal) {
		fail(r, -EINTR, "interrupted by signal %d at stream offset %llu while %s took "
		     "nothing", (int)stop_signal, (unsigned long long)roff(r), r->out.path);
		return -EINTR;
	}
	if (ms >= limit) {
		fail(r, -ETIMEDOUT, "%s took nothing for %llu ms (--timeout %u) at stream offset "
		     "%llu", r->out.path, (unsigned long long)ms, limit,
		     (unsigned long long)roff(r));
		return -ETIMEDOUT;
	}
	if (r->ep)
		rvmig_progress(r->ep, 0);
	return 0;
}

static void on_hello(struct receiver *r, const struct rvmig_xmsg *m)
{
	enum rvmig_digest_alg alg = rvmig_xmsg_digest_alg(m->flags);
	char why[512];
	int rc;

	if (r->hello) {
		fail(r, -RVMIG_EBADMSG, "second HELLO from %s", peer(r));
		return;
	}
	r->hello = true;
	r->raw = m->flags & RVMIG_XMSG_F_RAW;
	/* Nothing may go past the announced size.  (A resumed transfer's
	 * next connection begins again: that is no error.) */
	rvmig_xrecv_begin(r->rb, r->raw,
			  m->flags & RVMIG_XMSG_F_SIZE ? m->input_size : RVMIG_XRECV_NO_LIMIT);
	r->expect_size = m->flags & RVMIG_XMSG_F_SIZE ? m->input_size : 0;
	rvmig_pubxfer_set_total(r->px, m->flags & RVMIG_XMSG_F_SIZE ? m->input_size
								 : RVMIG_PUBXFER_SIZE_UNKNOWN);
	tool_debug("sender %s: rvmig-send %u.%u.%u, %s input, %s%llu bytes", peer(r),
		   m->tool_version >> 16, (m->tool_version >> 8) & 0xff, m->tool_version & 0xff,
		   r->raw ? "raw" : "Xen stream", r->expect_size ? "" : "size unknown, ",
		   (unsigned long long)r->expect_size);
	progress_set_total(&r->prog, r->expect_size);
	if (r->resume && (rc = resume_hello(&r->rs, m, &r->out, r->rb, why, sizeof(why)))) {
		fail(r, rc, "%s", why);
		return;
	}
	/* Nothing was delivered before the HELLO: the digest can still change
	 * (with --resume, resume_hello() did that). */
	if (!r->resume && !rerr(r) && rvmig_xrecv_digest_alg(r->rb) != alg &&
	    (rc = rvmig_xrecv_reset(r->rb, alg))) {
		fail(r, rc, "out of memory");
		return;
	}
	if (r->verify_stream && !r->raw) {
		if ((rc = rvmig_xrecv_verify(r->rb))) {
			fail(r, rc, "cannot create the stream parser: %s", rvmig_strerror(rc));
			return;
		}
	}
	if (!r->out_open) {
		rc = output_open(&r->out, why, sizeof(why));
		if (rc) {
			fail(r, rc, "%s", why);
			return;
		}
		r->out_open = true;
	}
	check_space(r);
	if (!rerr(r) && roff(r))
		tool_info("sender %s continues its transfer at stream offset %llu", peer(r),
			  (unsigned long long)roff(r));
	if (!rerr(r) && (m->flags & RVMIG_XMSG_F_RESUME))
		reply_resume(r);
}

static void on_end(struct receiver *r, const struct rvmig_xmsg *m)
{
	char why[512];
	int rc;

	r->end = *m;
	if (rvmig_xrecv_finish_stream(r->rb))
		return;
	rc = output_commit(&r->out, why, sizeof(why));
	if (rc)
		fail(r, rc, "%s", why);
	else if (r->resume && (rc = resume_done(&r->rs, why, sizeof(why))))
		tool_err("%s was written, but: %s", r->out_path, why);
}

static void on_msg(struct receiver *r, const struct rvmig_event *ev)
{
	struct rvmig_xmsg m;
	const char *why;
	char text[256];
	int rc = rvmig_xmsg_decode(ev->data, ev->len, &m, &why);

	if (rc) {
		fail(r, -RVMIG_EBADMSG, "bad message from %s at stream offset %llu: %s", peer(r),
		     (unsigned long long)ev->stream_off, why);
		return;
	}
	if (m.tag == RVMIG_XMSG_ABORT) /* the sender's words: cut and escaped, never raw */
		rvmig_text_escape(text, sizeof(text), m.data, m.len);
	if (m.tag == RVMIG_XMSG_HELLO) {
		on_hello(r, &m);
	} else if (m.tag == RVMIG_XMSG_ABORT && m.status == -EINTR) {
		/* The sender was stopped, not refused: what came is good. */
		drop(r, m.status, "sender %s gave up at stream offset %llu: %s", peer(r),
		     (unsigned long long)roff(r), text);
	} else if (m.tag == RVMIG_XMSG_ABORT) {
		fail(r, m.status ? m.status : -RVMIG_EPEER,
		     "sender %s gave up at stream offset %llu: %s", peer(r),
		     (unsigned long long)roff(r), text);
	} else if (rvmig_xrecv_msg(r->rb, &m, ev->stream_off)) {
		if (m.tag == RVMIG_XMSG_END && rvmig_xrecv_done(r->rb) && !rerr(r))
			on_end(r, &m);
	} else {
		fail(r, -RVMIG_EBADMSG, "unexpected %s message from %s", rvmig_xmsg_tag_name(m.tag), peer(r));
	}
}

/* Keeps an event's buffer until the bytes before the receiver's offset are
 * hashed. */
static void hold(struct receiver *r, uint64_t token)
{
	if (r->held_n == r->held_cap) {
		size_t ncap = r->held_cap ? r->held_cap * 2 : 64;
		struct held *n = malloc(ncap * sizeof(*n));

		if (!n) { /* cannot defer: wait for the hasher instead */
			rvmig_xrecv_wait_hashed(r->rb, roff(r));
			rvmig_recv_release(r->ep, token);
			return;
		}
		for (size_t i = 0; i < r->held_n; i++)
			n[i] = r->held[(r->held_head + i) % r->held_cap];
		free(r->held);
		r->held = n;
		r->held_head = 0;
		r->held_cap = ncap;
	}
	r->held[(r->held_head + r->held_n) % r->held_cap] = (struct held){ token, roff(r) };
	r->held_n++;
}

/* Releases the held buffers that are hashed; with `all`, waits for all. */
static void release_hashed(struct receiver *r, bool all)
{
	if (all && r->held_n)
		rvmig_xrecv_wait_hashed(r->rb, roff(r));
	uint64_t hashed = rvmig_xrecv_hashed(r->rb);

	while (r->held_n && (all || r->held[r->held_head].end <= hashed)) {
		rvmig_recv_release(r->ep, r->held[r->held_head].token);
		r->held_head = (r->held_head + 1) % r->held_cap;
		r->held_n--;
	}
}

/* Drives the endpoint and handles its events.  `drain` drops data (after a
 * failure, while waiting for the sender to close). */
static void pump(struct receiver *r, int timeout_ms, bool drain)
{
	struct rvmig_event ev;
	/* With buffers held for the hasher, do not sleep on the network: when
	 * nothing arrives, wait for the hasher and hand the oldest back.  Nor
	 * while a zero run is being written: one step of it per turn, and no
	 * further event until it is done. */
	bool busy = rvmig_xrecv_busy(r->rb) && !drain;
	int rc = rvmig_progress(r->ep, r->held_n || busy ? 0 : timeout_ms);
	int got = 0;

	if (busy)
		rvmig_xrecv_step(r->rb);
	while ((drain || !rvmig_xrecv_busy(r->rb)) && rvmig_event_next(r->ep, &ev) > 0) {
		got++;
		switch (ev.type) {
		case RVMIG_EV_RECV_DATA:
			if (!drain)
				rvmig_xrecv_data(r->rb, ev.stream_off, ev.data, ev.len);
			if (drain)
				rvmig_recv_release(r->ep, ev.token);
			else
				hold(r, ev.token);
			break;
		case RVMIG_EV_RECV_MSG:
			if (!drain)
				on_msg(r, &ev);
			if (drain)
				rvmig_recv_release(r->ep, ev.token);
			else
				hold(r, ev.token);
			break;
		case RVMIG_EV_PEER_CLOSED:
			r->peer_closed = true;
			if (!rvmig_xrecv_done(r->rb))
				drop(r, -RVMIG_EPEER,
				     "sender %s closed the connection at stream offset %llu before the end",
				     peer(r), (unsigned long long)roff(r));
			break;
		case RVMIG_EV_ERROR:
			rc = ev.status;
			break;
		default:
			break;
		}
	}
	if (r->held_n && !got)
		rvmig_xrecv_wait_hashed(r->rb, r->held[r->held_head].end);
	release_hashed(r, drain);
	if (rc < 0) {
		if (!rvmig_xrecv_done(r->rb))
			drop(r, rc, "connection to sender %s failed at stream offset %llu: %s", peer(r),
			     (unsigned long long)roff(r), tool_ep_why(r->ep, rc));
		r->peer_closed = true; /* nothing more will come */
	}
	if (stop_signal)
		fail(r, -EINTR, "interrupted by signal %d at stream offset %llu", (int)stop_signal,
		     (unsigned long long)roff(r));
	if (r->resume && r->hello && !rerr(r) && !rvmig_xrecv_done(r->rb)) {
		char why[512];

		rc = resume_maybe_checkpoint(&r->rs, &r->out, r->rb, why, sizeof(why));
		if (rc)
			fail(r, rc, "%s", why);
	}
	progress_update(&r->prog, roff(r));
}

static void reply(struct receiver *r)
{
	uint8_t m[4096], digest[RVMIG_DIGEST_LEN];
	size_t cap = rvmig_msg_max() < sizeof(m) ? rvmig_msg_max() : sizeof(m);
	const char *text;
	int err = rvmig_xrecv_error(r->rb, &text);
	size_t n;

	rvmig_xrecv_digest(r->rb, false, digest); /* zeros before an END */
	n = rvmig_xmsg_encode_verdict(m, cap, err, roff(r), digest, err ? text : "ok");

	for (int tries = 0; tries < 100; tries++) {
		int rc = rvmig_reply_msg(r->ep, m, n);

		if (rc != -EAGAIN)
			break;
		if (rvmig_progress(r->ep, 50) < 0)
			break;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmig-recv [OPTIONS] --listen URI -o PATH|-\n"
		"Receives one transfer from rvmig-send.  PATH is written as\n"
		"PATH.rvmig-partial-XXXXXX (with --resume: PATH.rvmig-partial and the journal\n"
		"PATH.rvmig-journal) and renamed to PATH only when complete and its\n"
		"digest (XXH3-128, or SHA-256 if the sender chose it) matches the sender's;\n"
		"'-' writes to stdout (for a pipeline).\n"
		"Exits 0 only when the transfer is complete and verified; 75 when, with\n"
		"--resume, the sender went away and did not come back (state kept).\n\n"
		"  -l, --listen URI        where to listen (tcp://HOST:PORT, verbs://HOST:PORT;\n"
		"                          port 0 picks a free port)\n"
		"  -o, --output PATH|-     where to write the stream (an existing FIFO or\n"
		"                          device is written in place)\n"
		"  --output-mode OCTAL     permissions of a new PATH (default 0600; an\n"
		"                          existing PATH keeps its own)\n"
		"  --ready-file PATH       write the bound port there once listening\n"
		"                          (a FIFO works for waiting on it)\n"
		"  --accept-timeout MS     give up if no sender came (default: wait forever)\n"
		"  --auth-timeout MS       a connecting sender must open each link and, with\n"
		"                          --key-file, prove it holds the key within MS\n"
		"                          (default 5000)\n"
		"  --no-verify-stream      do not parse the received Xen stream\n"
		"  --mode push|pull        accept only senders that chose this mode\n"
		"  --key-file PATH         pre-shared key (16..256 bytes, mode 0600/0400):\n"
		"                          senders that cannot prove they hold it are refused\n"
		"  --resume                keep PATH.rvmig-partial and a journal of its durable\n"
		"                          length; continue a transfer found there; when the\n"
		"                          sender goes away, wait for it to come back\n"
		"  --resume-wait SEC       with --resume: how long to wait (default 60)\n\n%s",
		tool_common_help);
}

/* Waits up to timeout_ms (-1: forever) for a sender, in slices so that
 * SIGINT/SIGTERM end the wait (-EINTR).  A sender that fails
 * authentication is refused (the library's warning names it) and the wait
 * goes on. */
static int accept_sender(struct receiver *r, rvmig_listener *l, const char *uri, int timeout_ms)
{
	double end = tool_now() + (timeout_ms < 0 ? 0 : timeout_ms / 1000.0);

	for (;;) {
		int left = timeout_ms < 0 ? 500 : (int)((end - tool_now()) * 1000);
		int rc;

		if (stop_signal)
			return -EINTR;
		if (left < 0)
			left = 0;
		rc = rvmig_accept(l, left < 500 ? left : 500, &r->ep);
		if (rc == -RVMIG_EAUTH) {
			tool_err("refused a sender on %s: authentication failed (it has no key or "
				 "another key than --key-file); still waiting",
				 uri);
			continue;
		}
		if ((rc == -ETIMEDOUT || rc == -RVMIG_ETIMEDOUT) &&
		    (timeout_ms < 0 || tool_now() < end))
			continue;
		return rc;
	}
}

/* One sender, from accept to its END (or its failure / drop). */
static void serve(struct receiver *r, struct tool_opts *o, struct tool_report *rep)
{
	rep->transport = rvmig_ep_transport(r->ep);
	snprintf(r->peerbuf, sizeof(r->peerbuf), "%s", rvmig_ep_peer(r->ep));
	rep->peer = r->peerbuf;
	rep->mode = rvmig_ep_mode(r->ep);
	rvmig_xrecv_set_peer(r->rb, r->peerbuf);
	rvmig_pubxfer_set_endpoint(r->px, r->ep);
	r->hello = r->dropped = r->peer_closed = false;
	tool_debug("sender %s connected over %s (%s)", rep->peer, rep->transport,
		   tool_mode_name(rep->mode));
	if (o->mode && o->mode != rep->mode)
		fail(r, -EPROTO, "sender %s chose %s mode, only %s is accepted here", rep->peer,
		     tool_mode_name(rep->mode), tool_mode_name(o->mode));
	while (!rerr(r) && !rvmig_xrecv_done(r->rb) && !r->peer_closed && !r->dropped)
		pump(r, 200, false);
	release_hashed(r, true); /* nothing is held past this sender */
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "ready-file", required_argument, NULL, OPT_READY_FILE },
		{ "no-verify-stream", no_argument, NULL, OPT_NO_VERIFY_STREAM },
		{ "accept-timeout", required_argument, NULL, OPT_ACCEPT_TIMEOUT },
		TOOL_AUTH_TIMEOUT_LONGOPT,
		{ "key-file", required_argument, NULL, OPT_KEY_FILE },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "resume-wait", required_argument, NULL, OPT_RESUME_WAIT },
		{ "output-mode", required_argument, NULL, OPT_OUTPUT_MODE },
		{ 0 },
	};
	struct tool_opts o;
	struct receiver r = { .o = &o, .verify_stream = true };
	struct tool_report rep = { .tool = "rvmig-recv" };
	struct rvmig_ep_attr attr;
	rvmig_listener *l = NULL;
	rvmig_stats *lst = NULL;
	rvmig_ctx *ctx = NULL;
	rvmig_publisher *pub = NULL;
	const char *uri = NULL, *ready = NULL, *key_file = NULL;
	uint8_t key[KEY_MAX];
	size_t key_len = sizeof(key);
	int accept_timeout = -1, resume_wait = RESUME_WAIT_DEFAULT;
	unsigned out_mode = OUTPUT_MODE_DEFAULT;
	bool tempfail = false, first = true, resume_wait_given = false, late = false;
	rvmig_stream_parser *parser;
	const char *text;
	char why[512];
	double t0 = 0, deadline;
	int c, rc;

	tool_opts_init(&o, "rvmig-recv");
	while ((c = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS "l:o:", lopts, NULL)) != -1) {
		rc = tool_opt(&o, c, optarg);
		if (rc < 0)
			return 2;
		if (rc)
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			tool_print_version(&o);
			return 0;
		case 'l':
			uri = optarg;
			break;
		case 'o':
			r.out_path = optarg;
			break;
		case OPT_READY_FILE:
			ready = optarg;
			break;
		case OPT_NO_VERIFY_STREAM:
			r.verify_stream = false;
			break;
		case OPT_ACCEPT_TIMEOUT: {
			uint64_t v;

			if (tool_parse_u64(optarg, &v) || v > INT32_MAX) {
				tool_err("bad value '%s' for --accept-timeout", optarg);
				return 2;
			}
			accept_timeout = (int)v;
			break;
		}
		case OPT_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_RESUME:
			r.resume = true;
			break;
		case OPT_RESUME_WAIT: {
			uint64_t v;

			if (tool_parse_u64(optarg, &v) || v > INT32_MAX / 1000) {
				tool_err("bad value '%s' for --resume-wait (seconds)", optarg);
				return 2;
			}
			resume_wait = (int)v;
			resume_wait_given = true;
			break;
		}
		case OPT_OUTPUT_MODE:
			if (output_parse_mode(optarg, &out_mode)) {
				tool_err("bad value '%s' for --output-mode (octal permissions, 0 to 0777)",
					 optarg);
				return 2;
			}
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !uri || !r.out_path) {
		usage(stderr);
		return 2;
	}
	if (tool_check_uri("--listen URI", uri))
		return 2;
	if (resume_wait_given && !r.resume) {
		tool_err("--resume-wait needs --resume (only a resumable transfer waits for its "
			 "sender to come back)");
		return 2;
	}
	if (r.resume && !strcmp(r.out_path, "-")) {
		tool_err("--resume needs a file (-o PATH): stdout cannot be taken back");
		return 2;
	}
	if (output_check(r.out_path, r.resume, why, sizeof(why))) {
		tool_err("%s", why);
		return 2;
	}
	if (o.stats_json && !strcmp(o.stats_json, "-") && !strcmp(r.out_path, "-")) {
		tool_err("--stats-json - and -o - both mean stdout: the statistics would be mixed "
			 "into the stream; give --stats-json a file");
		return 2;
	}
	tool_opts_done(&o);
	{
		struct rvmig_xrecv_sink sink = { sink_write, sink_zero, &r.out,
						 strcmp(r.out_path, "-") ? r.out_path : "stdout" };
		/* pump() holds buffers for the hasher */
		struct rvmig_xrecv_attr xa = { .size = sizeof(xa), .sink = &sink,
					       .flags = RVMIG_XSTREAM_F_DIGEST_THREAD |
							RVMIG_XSTREAM_F_DEFER_RELEASE };

		if (rvmig_xrecv_create(&xa, &r.rb) || rvmig_xstats_create(&r.st)) {
			tool_err("out of memory");
			rvmig_xrecv_destroy(r.rb);
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	if (r.out_path[0] == '-' && r.out_path[1] == 0 && isatty(STDOUT_FILENO)) {
		tool_err("refusing to write a binary stream to a terminal");
		return 2;
	}

	/* Fail before anyone sends: the directory must take the file, a
	 * device or FIFO must open. */
	if ((rc = output_init(&r.out, r.out_path, out_mode, why, sizeof(why)))) {
		tool_err("%s", why);
		goto out;
	}
	r.out.stall = output_stalled;
	r.out.stall_arg = &r;
	if (r.resume) {
		/* The journal's prefix is read again before listening. */
		rc = resume_open(&r.rs, r.out_path, r.verify_stream, &r.out, r.rb, why, sizeof(why));
		r.out_open = r.out.fd >= 0;
		if (rc) {
			tool_err("%s", why);
			goto out;
		}
	}
	if ((rc = tool_ctx_create(&o, &ctx)))
		goto out;
	tool_ep_attr(&o, &attr);
	if (key_file && (rc = tool_key_attr(ctx, key_file, key, &key_len, &attr)))
		goto out;
	rc = rvmig_listen(ctx, uri, &attr, &l);
	if (rc) {
		tool_err("cannot listen on %s: %s", uri, rvmig_strerror(rc));
		goto out;
	}
	if ((rc = tool_announce(ready, uri, rvmig_listener_port(l))))
		goto out;
	/* Seen by rvmig-top from here on (waiting for its sender: setup). */
	if (!rvmig_publisher_open(ctx, "rvmig-recv", NULL, &pub) && !rvmig_pubxfer_begin(pub, &r.px))
		rvmig_xrecv_set_pub(r.rb, r.px);
	progress_init(&r.prog, o.verbosity >= 0, 0);
	for (;;) {
		rc = accept_sender(&r, l, uri, first ? accept_timeout : resume_wait * 1000);
		if (rc && first) {
			tool_err("no sender connected on %s: %s", uri, rvmig_strerror(rc));
			goto out;
		}
		if (rc) {
			tempfail = true;
			if (stop_signal)
				tool_err("interrupted by signal %d while waiting for the sender to "
					 "come back", (int)stop_signal);
			else
				tool_err("no sender came back within %d s on port %d (%s)", resume_wait,
					 rvmig_listener_port(l), rvmig_strerror(rc));
			break;
		}
		if (first) {
			t0 = tool_now();
			if (!r.resume) {
				rvmig_listener_close(l);
				l = NULL;
			}
		}
		first = false;
		serve(&r, &o, &rep);
		if (!r.dropped || rerr(&r))
			break;
		/* --resume: the sender went away before the END. */
		rc = resume_checkpoint(&r.rs, &r.out, r.rb, why, sizeof(why));
		if (rc) {
			fail(&r, rc, "%s", why);
			break;
		}
		tool_err("%s; %llu bytes of %s are durable in %s, waiting up to %d s for the "
			 "sender to come back",
			 r.droptxt, (unsigned long long)roff(&r), r.out_path, r.out.tmp, resume_wait);
		rvmig_ep_close(r.ep);
		r.ep = NULL;
	}
	progress_end(&r.prog);
	rep.seconds = t0 ? tool_now() - t0 : 0;
	if (r.resume && rerr(&r) == -EINTR && r.out_open) {
		/* Stopped by a signal: what arrived is good; keep it. */
		rc = resume_checkpoint(&r.rs, &r.out, r.rb, why, sizeof(why));
		if (rc)
			tool_err("%s", why);
		else
			tempfail = true;
	}
	if (rerr(&r) && r.out_open && !tempfail) {
		output_discard(&r.out);
		if (r.resume && resume_done(&r.rs, why, sizeof(why)))
			tool_err("%s", why);
	}
	if (r.ep)
		rvmig_stats_snapshot(r.ep, &lst);
	if (r.ep && !r.peer_closed) {
		/* Tell the sender, then let it close first so the verdict reaches it. */
		reply(&r);
		deadline = tool_now() + (o.timeout_ms ? o.timeout_ms : 10000) / 1000.0;
		while (!r.peer_closed && tool_now() < deadline) {
			int saved = rerr(&r);

			pump(&r, 200, true);
			if (!saved && rerr(&r) && rvmig_xrecv_done(r.rb)) {
				/* The file is already committed and verified; the sender
				 * vanishing after the verdict does not change that. */
				late = true;
				break;
			}
		}
	}
	rc = rerr(&r) && !late ? rerr(&r) : tempfail ? -RVMIG_EPEER : 0;
out:
	if (rc && rvmig_xrecv_error(r.rb, &text))
		tool_err("%s", text);
	if (tempfail)
		tool_err("%s was not written yet: %llu bytes kept in %s (journal %s); run "
			 "rvmig-recv --resume again to continue",
			 r.out_path, (unsigned long long)roff(&r), r.out.tmp, r.rs.jpath);
	else if (rc && r.out_open && !r.out.stream)
		tool_err("%s was not written", r.out_path);
	else if (rc && r.out_open)
		tool_err("the %llu bytes written to %s are incomplete or unverified: discard them",
			 (unsigned long long)r.out.off, r.out.path);
	parser = rvmig_xrecv_parser(r.rb);
	rep.status = rc;
	rvmig_pubxfer_end(r.px, rc ? rc : tempfail ? -RVMIG_EPEER : 0);
	rep.raw = r.raw;
	rep.links = o.links ? o.links : 4; /* the library default (rvmig_ep_attr.nlinks) */
	rvmig_xrecv_stats(r.rb, r.st);
	rep.bytes = rvmig_xstats_get(r.st, RVMIG_XSTAT_BYTES);
	rep.zero_pages = rvmig_xstats_get(r.st, RVMIG_XSTAT_ZERO_BYTES) / RVMIG_STREAM_PAGE_SIZE;
	rep.control_bytes = rvmig_xstats_get(r.st, RVMIG_XSTAT_CONTROL_BYTES);
	rep.data_bytes = rvmig_xstats_get(r.st, RVMIG_XSTAT_DATA_BYTES);
	rep.lib = lst;
	rep.pages = r.end.pages;
	rep.digest_alg = rvmig_xrecv_digest_alg(r.rb);
	if (rvmig_xrecv_done(r.rb)) {
		rvmig_xrecv_digest(r.rb, false, rep.digest);
		rep.digest_valid = true;
	}
	if (parser)
		report_stream_counts(parser, &rep.records, &rep.pages);
	if (!rc) {
		char hex[65], rate[32];

		rvmig_digest_hex(rep.digest_alg, rep.digest, hex);
		progress_rate(rate, sizeof(rate), (double)rep.bytes, rep.seconds);
		if (parser)
			tool_info("received %llu bytes from %s over %s/%s into %s: Xen stream, %llu "
				  "records, %llu pages (%llu zero, elided); %.3f s, %s, %s %s verified",
				  (unsigned long long)rep.bytes, rep.peer, rep.transport,
				  tool_mode_name(rep.mode), r.out.path, (unsigned long long)rep.records,
				  (unsigned long long)rep.pages, (unsigned long long)rep.zero_pages,
				  rep.seconds, rate, rvmig_digest_name(rep.digest_alg), hex);
		else
			tool_info("received %llu bytes from %s over %s/%s into %s (%s); %.3f s, %s, "
				  "%s %s verified",
				  (unsigned long long)rep.bytes, rep.peer, rep.transport,
				  tool_mode_name(rep.mode), r.out.path,
				  r.raw ? "raw" : "stream not parsed", rep.seconds, rate,
				  rvmig_digest_name(rep.digest_alg), hex);
	}
	if (o.stats_json)
		report_write_json(o.stats_json, &rep);
	rvmig_stats_free(lst);
	if (r.ep)
		rvmig_ep_close(r.ep);
	rvmig_listener_close(l);
	output_close(&r.out); /* output_init() came before any goto out */
	rvmig_xrecv_destroy(r.rb);
	rvmig_xstats_destroy(r.st);
	free(r.held);
	resume_fini(&r.rs);
	rvmig_publisher_close(pub);
	rvmig_ctx_destroy(ctx);
	return tempfail ? EXIT_TEMPFAIL : rc ? 1 : 0;
}
