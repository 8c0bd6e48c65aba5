/* SPDX-License-Identifier: MIT */
/*
 * rvmig-send - sends a Xen checkpoint file or stream (or, with --raw, any
 * bytes) to rvmig-recv and exits 0 only when the receiver has confirmed that
 * it wrote and verified all of it.
 *
 * Pipeline: the input (mmap'ed file or a ring of registered buffers, see
 * send/input.h) is fed to the Xen stream parser; its items go through the
 * shared sending pipeline (pipeline/sendpipe.h): page payloads as zero-copy
 * bulk requests, zero pages as ZERO messages, the rest as CTRL messages.  The END
 * message carries the total length and the digest of every input byte
 * (XXH3-128, or SHA-256 with --digest sha256; see common/hasher.h).
 * See common/appmsg.h for the messages.
 *
 * With --resume (a regular file only) the HELLO carries a transfer id
 * (send/xferid.h); the receiver answers RESUME with the offset it holds
 * durably and the digest of that prefix, which is checked against the
 * file; the parser still runs from byte 0 but only what lies at or after
 * that offset is sent.  A connection failure is retried with back-off
 * (0.5 s doubling up to 8 s, --retries times), each time from the
 * receiver's durable offset.  A receiver's verdict or a data error is
 * final.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/appmsg.h"
#include "common/cli.h"
#include "common/progress.h"
#include "common/report.h"
#include "pipeline/sendpipe.h"
#include "send/input.h"
#include "send/xferid.h"

#define RING_BUFS 4
#define RING_BUF_SIZE (8u << 20)

#define KEY_MAX 256
#define RETRIES_DEFAULT 5

enum {
	OPT_ZERO_MIN = OPT_TOOL_FIRST,
	OPT_KEY_FILE,
	OPT_RESUME,
	OPT_RETRIES,
	OPT_DIGEST,
	OPT_PUBLISH_AS,
};

struct sender {
	struct tool_opts *o;
	struct send_input in;
	struct sendpipe sp;       /* posts, completions, digest */
	rvmig_stream_parser *parser;
	uint64_t zero_min;
	enum hasher_alg alg;      /* --digest */

	bool resume;              /* --resume */
	uint8_t xfer_id[APP_XFER_ID_LEN];
	bool got_resume;          /* RESUME reply of this connection */
	uint64_t resume_off;
	uint8_t resume_sha[32];

	char peer[128];           /* of the last connection (for the report) */
	bool verdict;
	struct app_msg v;
	char vtext[512];
	bool peer_closed;
	struct progress prog;
	rvmig_pubxfer *px;        /* what the monitor sees (rvmig/publish.h) */
};

static volatile int stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* ---- replies ---- */

static void on_event(struct sendpipe *sp, const struct rvmig_event *ev)
{
	struct sender *s = sp->arg;
	struct app_msg m;
	const char *why;

	if (ev->type == RVMIG_EV_PEER_CLOSED) {
		s->peer_closed = true;
		if (!s->verdict && !sp->err)
			sp->link_err = true;
		if (!s->verdict)
			sendpipe_fail(sp, -RVMIG_EPEER,
				      "receiver %s closed the connection without a verdict",
				      rvmig_ep_peer(sp->ep));
		return;
	}
	if (app_decode(ev->data, ev->len, &m, &why)) {
		sendpipe_fail(sp, -RVMIG_EBADMSG, "bad reply from the receiver: %s", why);
		return;
	}
	if (m.tag == APP_RESUME && s->resume && !s->got_resume) {
		s->got_resume = true;
		s->resume_off = m.offset;
		memcpy(s->resume_sha, m.digest, 32);
		return;
	}
	if (m.tag != APP_VERDICT) {
		sendpipe_fail(sp, -RVMIG_EBADMSG, "unexpected %s message from the receiver",
			      app_tag_name(m.tag));
		return;
	}
	s->v = m;
	/* The receiver's words: cut and escaped, never printed raw. */
	rvmig_text_escape(s->vtext, sizeof(s->vtext), m.data, m.len);
	s->v.data = NULL;
	s->verdict = true;
	if (m.status)
		sendpipe_fail(sp, m.status, "receiver failed: %s", s->vtext);
}

static void pump(struct sender *s, int timeout_ms)
{
	sendpipe_pump(&s->sp, timeout_ms);
	progress_update(&s->prog, s->sp.acked);
}

/* The parser's refusal; for input that is no Xen stream at all (its
 * format not recognised) with the way to send it anyway. */
static void stream_refused(struct sender *s, int rc)
{
	bool unknown = rvmig_stream_start_layer(s->parser) == RVMIG_STREAM_LAYER_AUTO;

	sendpipe_fail(&s->sp, rc, "%s is not a valid Xen save stream%s: %s", s->in.name,
		      unknown ? " (--raw sends any bytes)" : "", rvmig_stream_error(s->parser));
}

/* Hands on newly read input bytes: parsed (or raw) into requests. */
static void process(struct sendpipe *sp, uint64_t off, const uint8_t *data, size_t len)
{
	struct sender *s = sp->arg;
	struct rvmig_stream_item it = { .size = sizeof(it) };
	int rc;

	progress_update(&s->prog, sp->acked);
	if (s->o->raw) {
		sendpipe_raw(sp, off, len);
		return;
	}
	rc = rvmig_stream_feed(s->parser, data, len);
	while (rc == 0 && !sp->err && (rc = rvmig_stream_next(s->parser, &it)) == 1) {
		sendpipe_item(sp, &it);
		rc = 0;
	}
	if (rc < 0)
		stream_refused(s, rc);
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmig-send [OPTIONS] PATH|- URI\n"
		"Sends a Xen save image / migration stream (PATH, or stdin for '-') to\n"
		"rvmig-recv listening at URI.  Exits 0 only when the receiver confirmed that\n"
		"it wrote and verified every byte (end-to-end digest).  The input must parse\n"
		"as a Xen save stream unless --raw is given: an xl save file or xl migrate\n"
		"data (xl header), a bare libxl v2 or a bare libxc v2/v3 stream, told apart\n"
		"by its first bytes; after it, nothing or the message xl migrate sends\n"
		"when the stream is through (a captured migration).\n\n"
		"  --digest ALG        end-to-end digest: xxh128 (XXH3-128, default; compare\n"
		"                      with `xxhsum -H2`) or sha256 (compare with sha256sum)\n"
		"  --zero-min-pages N  elide runs of at least N all-zero pages (default 1:\n"
		"                      every zero page); shorter runs inside page data are\n"
		"                      sent with it, saving a message and a request each\n"
		"  --key-file PATH     pre-shared key (16..256 bytes, mode 0600/0400): both\n"
		"                      sides prove they hold it; the receiver needs the same\n"
		"  --resume            (PATH only, not a pipe) continue from what the\n"
		"                      receiver (rvmig-recv --resume) holds durably, and on a\n"
		"                      connection failure reconnect and continue\n"
		"  --retries N         with --resume: reconnect at most N times after\n"
		"                      connection failures, waiting 0.5 s doubling up to 8 s\n"
		"                      (default 5)\n"
		"  --publish-as NAME   the tool's name as the monitor shows the transfer\n"
		"                      (default rvmig-send; rvmig-save gives its own)\n\n%s",
		tool_common_help);
}

static int finish(struct sender *s)
{
	struct sendpipe *sp = &s->sp;
	uint8_t sha[HASHER_SLOT], m[128];
	uint64_t total = s->in.read_total;

	if (s->parser && !sp->err && rvmig_stream_finish(s->parser) < 0)
		stream_refused(s, -RVMIG_ESTREAM);
	sendpipe_flush(sp);
	if (sp->err)
		return sp->err;
	sendpipe_digest(sp, sha);
	sendpipe_msg(sp, m,
		     app_encode_end(m, sizeof(m), total, sha, sp->pages, sp->zero_pages), total);
	while (!sp->err && rvmig_client_pending(sp->ep))
		pump(s, 200);
	while (!sp->err && !s->verdict)
		pump(s, 200);
	if (sp->err)
		return sp->err;
	if (s->v.n != total || memcmp(s->v.digest, sha, 32)) {
		sendpipe_fail(sp, -RVMIG_EINTEGRITY,
			      "receiver reports %llu bytes with another %s digest than sent (%llu bytes)",
			      (unsigned long long)s->v.n, hasher_alg_name(s->alg),
			      (unsigned long long)total);
		return sp->err;
	}
	memcpy(s->v.digest, sha, 32);
	return 0;
}

static void abort_transfer(struct sender *s)
{
	struct sendpipe *sp = &s->sp;
	uint8_t m[1024];
	size_t n;

	if (!sp->ep || sp->err == -RVMIG_EPEER || s->peer_closed)
		return;
	rvmig_client_cancel(sp->ep);
	n = app_encode_abort(m, sp->msg_max < sizeof(m) ? sp->msg_max : sizeof(m), sp->err,
			     sp->errtxt);
	for (int tries = 0; tries < 50; tries++) {
		int rc = rvmig_client_send_msg(sp->ep, m, n, s->in.read_total, UINT64_MAX);

		if (rc != -EAGAIN)
			break;
		if (rvmig_progress(sp->ep, 100) < 0)
			break;
	}
}

/* Errors of rvmig_connect() that another attempt may get past. */
static bool connect_retryable(int rc)
{
	switch (-rc) {
	case ECONNREFUSED: case ECONNRESET: case ECONNABORTED: case ETIMEDOUT:
	case EHOSTUNREACH: case ENETUNREACH: case ENETDOWN: case EHOSTDOWN:
	case EPIPE: case EAGAIN: case EINTR:
	case RVMIG_ETIMEDOUT: case RVMIG_EPEER:
		return true;
	}
	return false;
}

/* Waits for the receiver's RESUME, checks it against the input and makes
 * the pipeline skip what the receiver already holds. */
static void resume_handshake(struct sender *s)
{
	struct sendpipe *sp = &s->sp;
	double deadline = tool_now() + (s->o->timeout_ms ? s->o->timeout_ms : 10000) / 1000.0;
	uint8_t sha[HASHER_SLOT];

	while (!sp->err && !s->got_resume && !s->verdict) {
		if (tool_now() > deadline) {
			sp->link_err = true;
			sendpipe_fail(sp, -RVMIG_ETIMEDOUT,
				      "receiver %s did not answer the resume request within %u ms",
				      rvmig_ep_peer(sp->ep), s->o->timeout_ms ? s->o->timeout_ms : 10000);
			return;
		}
		pump(s, 100);
	}
	if (sp->err || !s->got_resume)
		return;
	if (s->resume_off > s->in.size) {
		sendpipe_fail(sp, -RVMIG_EBADMSG,
			      "receiver %s holds %llu bytes of this transfer, more than the %llu of %s",
			      rvmig_ep_peer(sp->ep), (unsigned long long)s->resume_off,
			      (unsigned long long)s->in.size, s->in.name);
		return;
	}
	if (hasher_digest_buf(s->alg, s->in.size ? s->in.bufs[0].base : (const uint8_t *)"",
			      s->resume_off, sha)) {
		sendpipe_fail(sp, -ENOMEM, "out of memory");
		return;
	}
	if (memcmp(sha, s->resume_sha, 32)) {
		sendpipe_fail(sp, -RVMIG_EINTEGRITY,
			      "receiver %s holds %llu bytes of this transfer that differ from the "
			      "first %llu bytes of %s (was it changed in place?); remove the "
			      "receiver's journal to start over",
			      rvmig_ep_peer(sp->ep), (unsigned long long)s->resume_off,
			      (unsigned long long)s->resume_off, s->in.name);
		return;
	}
	if (s->resume_off)
		tool_info("resuming at stream offset %llu of %llu (held durably by %s)",
			  (unsigned long long)s->resume_off, (unsigned long long)s->in.size,
			  rvmig_ep_peer(sp->ep));
	sendpipe_resume_at(sp, s->resume_off);
}

/* Per-connection state back to the start (input and options stay). */
static int attempt_reset(struct sender *s)
{
	int rc;

	rvmig_stream_parser_destroy(s->parser);
	s->parser = NULL;
	sendpipe_fini(&s->sp);
	s->got_resume = s->verdict = s->peer_closed = false;
	if (!s->o->raw) {
		struct rvmig_stream_attr pa = { .size = sizeof(pa), .start = RVMIG_STREAM_LAYER_AUTO,
						.flags = RVMIG_STREAM_F_ALLOW_XL_GO };

		if ((rc = rvmig_stream_parser_create(&pa, &s->parser))) {
			tool_err("cannot create the stream parser: %s", rvmig_strerror(rc));
			return rc;
		}
	}
	if ((rc = sendpipe_init(&s->sp, &s->in, s->zero_min, s->alg, on_event, s))) {
		tool_err("out of memory");
		return rc;
	}
	s->sp.stop = &stop_signal;
	s->sp.pub = s->px;
	return 0;
}

/* One connection: connect, HELLO (and RESUME), the stream, END, the
 * verdict.  Returns 0 or an error (printed unless it is in sp.errtxt);
 * *retry says whether another attempt may help. */
static int attempt(struct sender *s, rvmig_ctx *ctx, const char *uri,
		   const struct rvmig_ep_attr *attr, struct tool_report *rep, bool *retry)
{
	uint8_t m[128];
	uint32_t flags;
	int rc;

	*retry = false;
	if ((rc = attempt_reset(s)))
		return rc;
	rc = rvmig_connect(ctx, uri, attr, &s->sp.ep);
	if (rc) {
		if (rc == -RVMIG_EAUTH)
			tool_err("cannot connect to %s: authentication failed (the receiver refused "
				 "our key or could not prove it holds it; both sides need the same "
				 "--key-file)",
				 uri);
		else
			tool_err("cannot connect to %s: %s", uri, rvmig_strerror(rc));
		s->sp.ep = NULL;
		*retry = connect_retryable(rc);
		return rc;
	}
	rep->transport = rvmig_ep_transport(s->sp.ep);
	snprintf(s->peer, sizeof(s->peer), "%s", rvmig_ep_peer(s->sp.ep));
	rep->peer = s->peer;
	rep->mode = rvmig_ep_mode(s->sp.ep);
	rvmig_pubxfer_set_endpoint(s->px, s->sp.ep);
	tool_debug("connected to %s over %s (%s), input %s%s", rep->peer, rep->transport,
		   tool_mode_name(rep->mode), s->in.name,
		   s->in.mapped ? " (mapped)" : " (pipe ring)");
	rc = input_register(&s->in, s->sp.ep,
			    rep->mode == RVMIG_MODE_PULL ? RVMIG_MR_REMOTE_READ : RVMIG_MR_LOCAL);
	if (rc)
		return rc;
	flags = (s->o->raw ? APP_F_RAW : 0) | (s->in.size_known ? APP_F_SIZE : 0) |
		(s->resume ? APP_F_RESUME : 0) | (s->alg == HASHER_SHA256 ? APP_F_SHA256 : 0);
	sendpipe_msg(&s->sp, m,
		     app_encode_hello(m, sizeof(m), flags, s->in.size_known ? s->in.size : 0,
				      s->xfer_id),
		     0);
	if (s->resume)
		resume_handshake(s);
	if (!s->sp.err) {
		if (s->in.mapped)
			sendpipe_run_mapped(&s->sp, process);
		else
			sendpipe_run_pipe(&s->sp, process);
	}
	rc = finish(s);
	*retry = rc && s->sp.link_err && !s->verdict && !stop_signal;
	if (rc && !*retry)
		abort_transfer(s);
	return rc;
}

/* Ends this connection (its registrations first). */
static void attempt_close(struct sender *s)
{
	input_unregister(&s->in);
	if (s->sp.ep)
		rvmig_ep_close(s->sp.ep);
	s->sp.ep = NULL;
}

/* 0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s, ... before retry n (1-based); false if a
 * signal came meanwhile. */
static bool backoff(unsigned n)
{
	double d = 0.5;
	struct timespec ts;

	for (unsigned i = 1; i < n && d < 8; i++)
		d *= 2;
	if (d > 8)
		d = 8;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (!stop_signal && nanosleep(&ts, &ts) && errno == EINTR)
		;
	return !stop_signal;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "zero-min-pages", required_argument, NULL, OPT_ZERO_MIN },
		{ "key-file", required_argument, NULL, OPT_KEY_FILE },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "digest", required_argument, NULL, OPT_DIGEST },
		{ "publish-as", required_argument, NULL, OPT_PUBLISH_AS },
		{ 0 },
	};
	struct tool_opts o;
	struct sender s = { .o = &o, .zero_min = RVMIG_STREAM_PAGE_SIZE };
	struct tool_report rep = { .tool = "rvmig-send" };
	struct rvmig_ep_attr attr;
	rvmig_stats *lst = NULL;
	rvmig_ctx *ctx = NULL;
	rvmig_publisher *pub = NULL;
	const char *path, *uri, *key_file = NULL, *publish_as = "rvmig-send";
	uint8_t key[KEY_MAX];
	size_t key_len = sizeof(key);
	uint64_t retries = RETRIES_DEFAULT;
	bool retries_given = false, retry = false;
	unsigned tries = 0;
	double t0 = 0;
	int c, rc;

	tool_opts_init(&o, "rvmig-send");
	while ((c = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS, lopts, NULL)) != -1) {
		rc = tool_opt(&o, c, optarg);
		if (rc < 0)
			return 2;
		if (rc)
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case OPT_ZERO_MIN: {
			uint64_t v;

			if (tool_parse_u64(optarg, &v) || !v || v > (1u << 20)) {
				tool_err("bad value '%s' for --zero-min-pages", optarg);
				return 2;
			}
			s.zero_min = v * RVMIG_STREAM_PAGE_SIZE;
			break;
		}
		case OPT_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_RESUME:
			s.resume = true;
			break;
		case OPT_RETRIES:
			if (tool_parse_u64(optarg, &retries) || retries > 1000) {
				tool_err("bad value '%s' for --retries (0..1000)", optarg);
				return 2;
			}
			retries_given = true;
			break;
		case OPT_DIGEST:
			if (hasher_alg_parse(optarg, &s.alg)) {
				tool_err("bad value '%s' for --digest (xxh128 or sha256)", optarg);
				return 2;
			}
			break;
		case OPT_PUBLISH_AS:
			publish_as = optarg;
			break;
		case OPT_VERSION:
			tool_print_version(&o);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	if (retries_given && !s.resume) {
		tool_err("--retries needs --resume (only a resumed transfer can be retried)");
		return 2;
	}
	path = argv[optind];
	uri = argv[optind + 1];
	if (tool_check_uri("URI", uri))
		return 2;
	tool_opts_done(&o);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);

	if ((rc = input_open(&s.in, path, RING_BUFS, RING_BUF_SIZE)))
		goto out;
	if (s.resume && !s.in.mapped) {
		tool_err("--resume needs a regular file as input, not %s (a pipe cannot be read "
			 "again from the start)",
			 s.in.name);
		rc = 2;
		goto out;
	}
	if (s.resume && (rc = xfer_id_make(s.in.fd, path, o.raw, s.xfer_id))) {
		tool_err("cannot stat %s: %s", s.in.name, strerror(-rc));
		goto out;
	}
	if ((rc = tool_ctx_create(&o, &ctx)))
		goto out;
	/* Seen by rvmig-top from here on; never a reason to fail. */
	if (!rvmig_publisher_open(ctx, publish_as, NULL, &pub) && !rvmig_pubxfer_begin(pub, &s.px))
		rvmig_pubxfer_set_total(s.px, s.in.size_known ? s.in.size : RVMIG_PUBXFER_SIZE_UNKNOWN);
	tool_ep_attr(&o, &attr);
	if (key_file && (rc = tool_key_attr(ctx, key_file, key, &key_len, &attr)))
		goto out;
	t0 = tool_now();
	progress_init(&s.prog, o.verbosity >= 0, s.in.size_known ? s.in.size : 0);
	for (;;) {
		rc = attempt(&s, ctx, uri, &attr, &rep, &retry);
		if (!rc || !retry || !s.resume || tries >= retries) {
			if (rc && retry && s.resume)
				tool_err("giving up after %u retries", tries);
			break;
		}
		tries++;
		tool_err("%s; retry %u of %llu", s.sp.err ? s.sp.errtxt : "connection failed", tries,
			 (unsigned long long)retries);
		attempt_close(&s);
		if (!backoff(tries)) {
			tool_err("interrupted by signal %d while waiting to retry", (int)stop_signal);
			break;
		}
	}
	progress_end(&s.prog);
	rep.seconds = tool_now() - t0;
	if (s.sp.ep)
		rvmig_stats_snapshot(s.sp.ep, &lst);
out:
	if (rc && s.sp.err)
		tool_err("%s", s.sp.errtxt);
	rep.status = rc;
	rvmig_pubxfer_progress(s.px, rc ? s.sp.acked : s.in.read_total, s.sp.pages, s.sp.zero_pages);
	rvmig_pubxfer_end(s.px, rc);
	rep.raw = o.raw;
	rep.links = o.links ? o.links : 4; /* the library default (rvmig_ep_attr.nlinks) */
	rep.bytes = s.in.read_total;
	rep.pages = s.sp.pages;
	rep.zero_pages = s.sp.zero_pages;
	rep.control_bytes = s.sp.control_bytes;
	rep.data_bytes = s.sp.data_bytes;
	rep.lib = lst;
	rep.digest_alg = s.alg;
	if (!rc) {
		memcpy(rep.digest, s.v.digest, 32);
		rep.digest_valid = true;
	}
	if (s.parser) {
		struct rvmig_stream_stats st = { .size = sizeof(st) };

		rvmig_stream_get_stats(s.parser, &st);
		rep.records = report_stream_records(&st);
	}
	if (!rc) {
		char hex[65], pages[96] = "", rate[32];

		report_digest_hex(s.alg, rep.digest, hex);
		if (s.resume_off || tries)
			tool_info("resumed at stream offset %llu (%u retries): %llu bytes sent in the "
				  "last connection",
				  (unsigned long long)s.resume_off, tries,
				  (unsigned long long)(rep.bytes - s.resume_off));
		/* --raw bytes have no pages to count. */
		if (!o.raw)
			snprintf(pages, sizeof(pages), " (%llu pages, %llu zero pages elided)",
				 (unsigned long long)rep.pages, (unsigned long long)rep.zero_pages);
		tool_info("sent %llu bytes%s to %s over %s/%s in %.3f s, %s; receiver verified %s %s",
			  (unsigned long long)rep.bytes, pages, rep.peer, rep.transport,
			  tool_mode_name(rep.mode), rep.seconds,
			  progress_rate(rate, sizeof(rate), (double)rep.bytes, rep.seconds),
			  hasher_alg_name(s.alg), hex);
	}
	if (o.stats_json)
		report_write_json(o.stats_json, &rep);
	rvmig_stats_free(lst);
	attempt_close(&s);
	sendpipe_fini(&s.sp); /* its hasher may still read the input */
	input_close(&s.in);
	rvmig_stream_parser_destroy(s.parser);
	rvmig_publisher_close(pub);
	rvmig_ctx_destroy(ctx);
	return rc == 2 ? 2 : rc ? 1 : 0;
}
