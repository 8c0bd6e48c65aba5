/* SPDX-License-Identifier: MIT */
/*
 * rvmig-send - sends a Xen checkpoint file or stream (or, with --raw, any
 * bytes) to rvmig-recv and exits 0 only when the receiver has confirmed that
 * it wrote and verified all of it.
 *
 The library's sender (rvmig/xstream.h) does the transfer: the input
 * (mmap'ed file or a ring of registered buffers) is parsed as a Xen stream;
 * page payloads go as zero-copy bulk requests, zero pages as ZERO messages,
 * the rest as CTRL messages.  The END message carries the total length and
 * the digest of every input byte (XXH3-128, or SHA-256 with --digest
 * sha256).  This program adds the session: HELLO, RESUME, the verdict,
 * retries, the report.
 *
 * With --resume (a regular file only) the HELLO carries a transfer id
 * (rvmig_xsend_xfer_id()); the receiver answers RESUME with the offset it holds
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

#include "common/cli.h"
#include "common/progress.h"
#include "common/report.h"

#define KEY_MAX 256
#define RETRIES_DEFAULT 5

/* Default --zero-min-pages: against 1 (every zero page elided) it halved
 * the receiver's CPU per GiB of a Xen stream with 20 % zero pages (1.87 ->
 * 1.04 s/GiB; syscalls/MiB 82/221 -> 20/14) and cut the sender's by a
 * third, 16 was no better (bench/results/native-2026-12-07). */
#define ZERO_MIN_PAGES 4

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
	rvmig_xsend *xs;          /* input, parser, posts, digest (rvmig/xstream.h) */
	rvmig_ep *ep;             /* this connection */
	bool attached;            /* xs has this connection's state (and error) */
	enum rvmig_digest_alg alg; /* --digest */

	bool resume;              /* --resume */
	uint8_t xfer_id[RVMIG_XFER_ID_LEN];
	bool got_resume;          /* RESUME reply of this connection */
	uint64_t resume_off;
	uint8_t resume_sha[RVMIG_DIGEST_LEN];

	char peer[128];           /* of the last connection (for the report) */
	bool verdict;
	struct rvmig_xmsg v;
	char vtext[512];
	struct progress prog;
	rvmig_pubxfer *px;        /* what the monitor sees (rvmig/publish.h) */
	rvmig_xstats *st;         /* the statistics snapshot main reports from */
};

static volatile int stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int xs_err(const struct sender *s)
{
	return rvmig_xsend_error(s->xs, NULL);
}

static uint64_t xs_stat(const struct sender *s, enum rvmig_xstat which)
{
	rvmig_xsend_stats(s->xs, s->st);
	return rvmig_xstats_get(s->st, which);
}

/* ---- replies ---- */

static void on_close(rvmig_xsend *xs, void *arg)
{
	struct sender *s = arg;

	if (!s->verdict)
		rvmig_xsend_fail(xs, -RVMIG_EPEER, true,
				 "receiver %s closed the connection without a verdict",
				 rvmig_ep_peer(s->ep));
}

static void on_reply(rvmig_xsend *xs, const void *msg, size_t len, void *arg)
{
	struct sender *s = arg;
	struct rvmig_xmsg m;
	const char *why;

	if (rvmig_xmsg_decode(msg, len, &m, &why)) {
		rvmig_xsend_fail(xs, -RVMIG_EBADMSG, false, "bad reply from the receiver: %s", why);
		return;
	}
	if (m.tag == RVMIG_XMSG_RESUME && s->resume && !s->got_resume) {
		s->got_resume = true;
		s->resume_off = m.offset;
		memcpy(s->resume_sha, m.digest, RVMIG_DIGEST_LEN);
		return;
	}
	if (m.tag != RVMIG_XMSG_VERDICT) {
		rvmig_xsend_fail(xs, -RVMIG_EBADMSG, false, "unexpected %s message from the receiver",
				 rvmig_xmsg_tag_name(m.tag));
		return;
	}
	s->v = m;
	/* The receiver's words: cut and escaped, never printed raw. */
	rvmig_text_escape(s->vtext, sizeof(s->vtext), m.data, m.len);
	s->v.data = NULL;
	s->verdict = true;
	if (m.status)
		rvmig_xsend_fail(xs, m.status, false, "receiver failed: %s", s->vtext);
}

static void on_progress(rvmig_xsend *xs, uint64_t acked, void *arg)
{
	struct sender *s = arg;

	(void)xs;
	progress_update(&s->prog, acked);
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
		"  --zero-min-pages N  elide runs of at least N all-zero pages (default 4;\n"
		"                      1: every zero page); shorter runs inside page data\n"
		"                      are sent with it, saving a message and a request each\n"
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

static void pump(struct sender *s, int timeout_ms)
{
	rvmig_xsend_progress(s->xs, timeout_ms);
}

/* END, then the receiver's verdict on it. */
static int finish(struct sender *s)
{
	uint8_t sha[RVMIG_DIGEST_LEN];
	uint64_t total;
	int rc = rvmig_xsend_end(s->xs, true, sha);

	if (rc)
		return rc;
	while (!xs_err(s) && rvmig_xsend_pending(s->xs))
		pump(s, 200);
	while (!xs_err(s) && !s->verdict)
		pump(s, 200);
	if ((rc = xs_err(s)))
		return rc;
	total = xs_stat(s, RVMIG_XSTAT_BYTES);
	if (s->v.n != total || memcmp(s->v.digest, sha, RVMIG_DIGEST_LEN))
		return rvmig_xsend_fail(
			s->xs, -RVMIG_EINTEGRITY, false,
			"receiver reports %llu bytes with another %s digest than sent (%llu bytes)",
			(unsigned long long)s->v.n, rvmig_digest_name(s->alg), (unsigned long long)total);
	memcpy(s->v.digest, sha, RVMIG_DIGEST_LEN);
	return 0;
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
 * the sender skip what the receiver already holds. */
static void resume_handshake(struct sender *s)
{
	uint32_t ms = s->o->timeout_ms ? s->o->timeout_ms : 10000;
	double deadline = tool_now() + ms / 1000.0;
	const char *name = rvmig_xsend_input_name(s->xs);
	uint64_t size = 0;
	int rc;

	while (!xs_err(s) && !s->got_resume && !s->verdict) {
		if (tool_now() > deadline) {
			rvmig_xsend_fail(s->xs, -RVMIG_ETIMEDOUT, true,
					 "receiver %s did not answer the resume request within %u ms",
					 rvmig_ep_peer(s->ep), ms);
			return;
		}
		pump(s, 100);
	}
	if (xs_err(s) || !s->got_resume)
		return;
	rvmig_xsend_input_size(s->xs, &size);
	rc = rvmig_xsend_check_prefix(s->xs, s->resume_off, s->resume_sha);
	if (rc == -ERANGE) {
		rvmig_xsend_fail(s->xs, -RVMIG_EBADMSG, false,
				 "receiver %s holds %llu bytes of this transfer, more than the %llu of %s",
				 rvmig_ep_peer(s->ep), (unsigned long long)s->resume_off,
				 (unsigned long long)size, name);
		return;
	}
	if (rc == -RVMIG_EINTEGRITY) {
		rvmig_xsend_fail(s->xs, rc, false,
				 "receiver %s holds %llu bytes of this transfer that differ from the "
				 "first %llu bytes of %s (was it changed in place?); remove the "
				 "receiver's journal to start over",
				 rvmig_ep_peer(s->ep), (unsigned long long)s->resume_off,
				 (unsigned long long)s->resume_off, name);
		return;
	}
	if (rc) {
		rvmig_xsend_fail(s->xs, rc, false, "cannot check the receiver's %llu bytes: %s",
				 (unsigned long long)s->resume_off, rvmig_strerror(rc));
		return;
	}
	if (s->resume_off)
		tool_info("resuming at stream offset %llu of %llu (held durably by %s)",
			  (unsigned long long)s->resume_off, (unsigned long long)size,
			  rvmig_ep_peer(s->ep));
	rvmig_xsend_resume_at(s->xs, s->resume_off);
}

/* One connection: connect, HELLO (and RESUME), the stream, END, the
 * verdict.  Returns 0 or an error (printed unless the sender holds it);
 * *retry says whether another attempt may help. */
static int attempt(struct sender *s, rvmig_ctx *ctx, const char *uri,
		   const struct rvmig_ep_attr *attr, struct tool_report *rep, bool *retry)
{
	uint8_t m[128];
	uint64_t size = 0;
	bool size_known = rvmig_xsend_input_size(s->xs, &size);
	uint32_t flags;
	int rc;

	*retry = false;
	s->got_resume = s->verdict = s->attached = false;
	rc = rvmig_connect(ctx, uri, attr, &s->ep);
	if (rc) {
		if (rc == -RVMIG_EAUTH)
			tool_err("cannot connect to %s: authentication failed (the receiver refused "
				 "our key or could not prove it holds it; both sides need the same "
				 "--key-file)",
				 uri);
		else
			tool_err("cannot connect to %s: %s", uri, rvmig_strerror(rc));
		s->ep = NULL;
		*retry = connect_retryable(rc);
		return rc;
	}
	rep->transport = rvmig_ep_transport(s->ep);
	snprintf(s->peer, sizeof(s->peer), "%s", rvmig_ep_peer(s->ep));
	rep->peer = s->peer;
	rep->mode = rvmig_ep_mode(s->ep);
	rvmig_pubxfer_set_endpoint(s->px, s->ep);
	tool_debug("connected to %s over %s (%s), input %s%s", rep->peer, rep->transport,
		   tool_mode_name(rep->mode), rvmig_xsend_input_name(s->xs),
		   rvmig_xsend_input_mapped(s->xs) ? " (mapped)" : " (pipe ring)");
	s->attached = true;
	if ((rc = rvmig_xsend_attach(s->xs, s->ep)))
		return rc;
	flags = (s->o->raw ? RVMIG_XMSG_F_RAW : 0) | (size_known ? RVMIG_XMSG_F_SIZE : 0) |
		(s->resume ? RVMIG_XMSG_F_RESUME : 0) |
		(s->alg == RVMIG_DIGEST_SHA256 ? RVMIG_XMSG_F_SHA256 : 0);
	rvmig_xsend_msg(s->xs, m,
			rvmig_xmsg_encode_hello(m, sizeof(m), flags, size_known ? size : 0,
						s->xfer_id),
			0);
	if (s->resume)
		resume_handshake(s);
	if (!xs_err(s))
		rvmig_xsend_run(s->xs);
	rc = finish(s);
	*retry = rc && rvmig_xsend_link_failed(s->xs) && !s->verdict && !stop_signal;
	if (rc && !*retry)
		rvmig_xsend_abort(s->xs);
	return rc;
}

/* Ends this connection (its registrations first). */
static void attempt_close(struct sender *s)
{
	if (s->xs)
		rvmig_xsend_detach(s->xs);
	if (s->ep)
		rvmig_ep_close(s->ep);
	s->ep = NULL;
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
	struct sender s = { .o = &o };
	struct rvmig_xsend_attr xa = { .size = sizeof(xa), .flags = RVMIG_XSTREAM_F_DIGEST_THREAD,
					.zero_min = ZERO_MIN_PAGES * RVMIG_STREAM_PAGE_SIZE,
					.stop = &stop_signal, .on_reply = on_reply,
					.on_close = on_close, .on_progress = on_progress, .arg = &s };
	rvmig_xstats *st = NULL;
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
	uint64_t size = 0;
	bool size_known = false;
	const char *text;
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
			xa.zero_min = v * RVMIG_STREAM_PAGE_SIZE;
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
			if (rvmig_digest_parse(optarg, &s.alg)) {
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

	xa.digest = s.alg;
	xa.flags |= o.raw ? RVMIG_XSTREAM_F_RAW : 0;
	if ((rc = rvmig_xstats_create(&st))) {
		tool_err("out of memory");
		goto out;
	}
	s.st = st;
	if ((rc = rvmig_xsend_create(path, &xa, &s.xs))) {
		if (!s.xs)
			tool_err("cannot set up the sender: %s", rvmig_strerror(rc));
		s.attached = s.xs != NULL; /* its error says why */
		goto out;
	}
	size_known = rvmig_xsend_input_size(s.xs, &size);
	if (s.resume && !rvmig_xsend_input_mapped(s.xs)) {
		tool_err("--resume needs a regular file as input, not %s (a pipe cannot be read "
			 "again from the start)",
			 rvmig_xsend_input_name(s.xs));
		rc = 2;
		goto out;
	}
	if (s.resume && (rc = rvmig_xsend_xfer_id(s.xs, s.xfer_id))) {
		tool_err("cannot stat %s: %s", rvmig_xsend_input_name(s.xs), strerror(-rc));
		goto out;
	}
	if ((rc = tool_ctx_create(&o, &ctx)))
		goto out;
	/* Seen by rvmig-top from here on; never a reason to fail. */
	if (!rvmig_publisher_open(ctx, publish_as, NULL, &pub) && !rvmig_pubxfer_begin(pub, &s.px))
		rvmig_pubxfer_set_total(s.px, size_known ? size : RVMIG_PUBXFER_SIZE_UNKNOWN);
	rvmig_xsend_set_pub(s.xs, s.px);
	tool_ep_attr(&o, &attr);
	if (key_file && (rc = tool_key_attr(ctx, key_file, key, &key_len, &attr)))
		goto out;
	t0 = tool_now();
	progress_init(&s.prog, o.verbosity >= 0, size_known ? size : 0);
	for (;;) {
		rc = attempt(&s, ctx, uri, &attr, &rep, &retry);
		if (!rc || !retry || !s.resume || tries >= retries) {
			if (rc && retry && s.resume)
				tool_err("giving up after %u retries", tries);
			break;
		}
		tries++;
		tool_err("%s; retry %u of %llu",
			 s.attached && rvmig_xsend_error(s.xs, &text) ? text : "connection failed", tries,
			 (unsigned long long)retries);
		attempt_close(&s);
		if (!backoff(tries)) {
			tool_err("interrupted by signal %d while waiting to retry", (int)stop_signal);
			break;
		}
	}
	progress_end(&s.prog);
	rep.seconds = tool_now() - t0;
	if (s.ep)
		rvmig_stats_snapshot(s.ep, &lst);
out:
	if (rc && s.attached && rvmig_xsend_error(s.xs, &text)) {
		tool_err("%s", text);
		if (rvmig_xsend_parser(s.xs) &&
		    rvmig_stream_start_layer(rvmig_xsend_parser(s.xs)) == RVMIG_STREAM_LAYER_AUTO)
			tool_err("--raw sends any bytes");
	}
	rep.status = rc;
	if (s.xs && st)
		rvmig_xsend_stats(s.xs, st);
	rvmig_pubxfer_progress(s.px,
			       rvmig_xstats_get(st, rc ? RVMIG_XSTAT_ACKED : RVMIG_XSTAT_BYTES),
			       rvmig_xstats_get(st, RVMIG_XSTAT_PAGES),
			       rvmig_xstats_get(st, RVMIG_XSTAT_ZERO_PAGES));
	rvmig_pubxfer_end(s.px, rc);
	rep.raw = o.raw;
	rep.links = o.links ? o.links : 4; /* the library default (rvmig_ep_attr.nlinks) */
	rep.bytes = rvmig_xstats_get(st, RVMIG_XSTAT_BYTES);
	rep.pages = rvmig_xstats_get(st, RVMIG_XSTAT_PAGES);
	rep.zero_pages = rvmig_xstats_get(st, RVMIG_XSTAT_ZERO_PAGES);
	rep.control_bytes = rvmig_xstats_get(st, RVMIG_XSTAT_CONTROL_BYTES);
	rep.data_bytes = rvmig_xstats_get(st, RVMIG_XSTAT_DATA_BYTES);
	rep.lib = lst;
	rep.digest_alg = s.alg;
	if (!rc) {
		memcpy(rep.digest, s.v.digest, RVMIG_DIGEST_LEN);
		rep.digest_valid = true;
	}
	if (s.xs && rvmig_xsend_parser(s.xs))
		report_stream_counts(rvmig_xsend_parser(s.xs), &rep.records, NULL);
	if (!rc) {
		char hex[65], pages[96] = "", rate[32];

		rvmig_digest_hex(s.alg, rep.digest, hex);
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
			  rvmig_digest_name(s.alg), hex);
	}
	if (o.stats_json)
		report_write_json(o.stats_json, &rep);
	rvmig_stats_free(lst);
	attempt_close(&s);
	rvmig_xsend_destroy(s.xs);
	rvmig_xstats_destroy(st);
	rvmig_publisher_close(pub);
	rvmig_ctx_destroy(ctx);
	return rc == 2 ? 2 : rc ? 1 : 0;
}
