/* SPDX-License-Identifier: MIT */
/*
 * rvmig-recv - receives one transfer from rvmig-send: the options, the
 * progress bar, the report and the exit status around the library's
 * receiving session (rvmig_xrsession, rvmig/xstream.h), which rebuilds the
 * exact byte stream, checks its digest against the sender's (and, unless
 * --no-verify-stream / --raw, parses it as a Xen save stream), makes it
 * durable under PATH (or writes it to stdout), answers the sender with a
 * verdict; with --resume it keeps a partial file and its journal across
 * connections and processes.  Exits 0 only when all of that succeeded, 75
 * when a resumable state was kept.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/cli.h"
#include "common/progress.h"
#include "common/report.h"
#include "common/stop.h"

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

/* The session's messages, as the tool's own: errors and warnings always,
 * information unless -q, details with -v. */
static void log_line(void *arg, enum rvmig_log_level level, const char *subsys, const char *fmt,
		     va_list ap)
{
	char line[2048];

	(void)arg;
	(void)subsys;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (level <= RVMIG_LOG_WARN)
		tool_err("%s", line);
	else if (level == RVMIG_LOG_INFO)
		tool_info("%s", line);
	else
		tool_debug("%s", line);
}

static void on_progress(rvmig_xrsession *s, uint64_t off, uint64_t total, void *arg)
{
	struct progress *p = arg;

	(void)s;
	if (total != p->total)
		progress_set_total(p, total);
	progress_update(p, off);
}

/* --output-mode: octal permission bits, 0..0777. */
static int parse_mode(const char *s, unsigned *mode)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (!n || n > 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -EINVAL;
		v = v * 8 + (unsigned)(s[i] - '0');
	}
	if (v > 0777)
		return -EINVAL;
	*mode = v;
	return 0;
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

/* The --stats-json report and the last line of a verified transfer. */
static void report(rvmig_xrsession *s, const struct tool_opts *o, int rc)
{
	struct tool_report rep = { .tool = "rvmig-recv", .status = rc };
	struct rvmig_xresult res = { .size = sizeof(res) };
	rvmig_stream_parser *parser = rvmig_xrecv_parser(rvmig_xrsession_xrecv(s));
	char hex[65], rate[32];

	rvmig_xrsession_result(s, &res);
	rep.transport = res.transport[0] ? res.transport : NULL;
	rep.peer = res.peer[0] ? res.peer : NULL;
	rep.mode = res.mode;
	rep.raw = res.raw;
	rep.links = o->links ? o->links : 4; /* the library default (rvmig_ep_attr.nlinks) */
	rep.bytes = res.bytes;
	rep.zero_pages = res.zero_bytes / RVMIG_STREAM_PAGE_SIZE;
	rep.control_bytes = res.control_bytes;
	rep.data_bytes = res.data_bytes;
	rep.pages = res.pages;
	rep.seconds = res.seconds;
	rep.lib = rvmig_xrsession_ep_stats(s);
	rep.digest_alg = res.digest_alg;
	rep.digest_valid = res.verified;
	memcpy(rep.digest, res.digest, sizeof(rep.digest));
	if (parser)
		report_stream_counts(parser, &rep.records, &rep.pages);
	if (!rc) {
		rvmig_digest_hex(rep.digest_alg, rep.digest, hex);
		progress_rate(rate, sizeof(rate), (double)rep.bytes, rep.seconds);
		if (parser)
			tool_info("received %llu bytes from %s over %s/%s into %s: Xen stream, %llu "
				  "records, %llu pages (%llu zero, elided); %.3f s, %s, %s %s verified",
				  (unsigned long long)rep.bytes, rep.peer, rep.transport,
				  tool_mode_name(rep.mode), rvmig_xrsession_output(s),
				  (unsigned long long)rep.records, (unsigned long long)rep.pages,
				  (unsigned long long)rep.zero_pages, rep.seconds, rate,
				  rvmig_digest_name(rep.digest_alg), hex);
		else
			tool_info("received %llu bytes from %s over %s/%s into %s (%s); %.3f s, %s, "
				  "%s %s verified",
				  (unsigned long long)rep.bytes, rep.peer, rep.transport,
				  tool_mode_name(rep.mode), rvmig_xrsession_output(s),
				  rep.raw ? "raw" : "stream not parsed", rep.seconds, rate,
				  rvmig_digest_name(rep.digest_alg), hex);
	}
	if (o->stats_json)
		report_write_json(o->stats_json, &rep);
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
	struct progress prog;
	struct rvmig_xrsession_attr sa = { .size = sizeof(sa), .stop = &tool_stop,
					   .flags = RVMIG_XSTREAM_F_DIGEST_THREAD,
					   .resume_wait_ms = RESUME_WAIT_DEFAULT * 1000,
					   .logger = { log_line, NULL, RVMIG_LOG_DEBUG },
					   .on_progress = on_progress, .arg = &prog };
	struct rvmig_ep_attr attr;
	rvmig_xrsession *s = NULL;
	rvmig_listener *l = NULL;
	rvmig_ctx *ctx = NULL;
	rvmig_publisher *pub = NULL;
	const char *uri = NULL, *ready = NULL, *key_file = NULL, *text;
	uint8_t key[TOOL_KEY_MAX];
	size_t key_len = sizeof(key);
	bool resume_wait_given = false, ran = false;
	char why[512];
	uint64_t v;
	int c, rc;

	tool_opts_init(&o, "rvmig-recv");
	while ((c = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS "l:o:", lopts, NULL)) != -1) {
		if ((rc = tool_opt(&o, c, optarg, usage)) == TOOL_OPT_TAKEN)
			continue;
		if (rc != TOOL_OPT_MINE)
			return rc;
		switch (c) {
		case 'l':
			uri = optarg;
			break;
		case 'o':
			sa.path = optarg;
			break;
		case OPT_READY_FILE:
			ready = optarg;
			break;
		case OPT_NO_VERIFY_STREAM:
			sa.flags |= RVMIG_XRSESSION_F_NO_VERIFY;
			break;
		case OPT_ACCEPT_TIMEOUT:
			if (tool_parse_u64(optarg, &v) || v > INT32_MAX) {
				tool_err("bad value '%s' for --accept-timeout", optarg);
				return 2;
			}
			sa.accept_timeout_ms = v ? (uint32_t)v : 1; /* 0 there: wait for ever */
			break;
		case OPT_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_RESUME:
			sa.flags |= RVMIG_XRSESSION_F_RESUME;
			break;
		case OPT_RESUME_WAIT:
			if (tool_parse_u64(optarg, &v) || v > INT32_MAX / 1000) {
				tool_err("bad value '%s' for --resume-wait (seconds)", optarg);
				return 2;
			}
			sa.resume_wait_ms = v ? (uint32_t)v * 1000 : 1;
			resume_wait_given = true;
			break;
		case OPT_OUTPUT_MODE:
			if (parse_mode(optarg, &sa.output_mode)) {
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
	if (optind != argc || !uri || !sa.path) {
		usage(stderr);
		return 2;
	}
	if (tool_check_uri("--listen URI", uri))
		return 2;
	if (resume_wait_given && !(sa.flags & RVMIG_XRSESSION_F_RESUME)) {
		tool_err("--resume-wait needs --resume (only a resumable transfer waits for its "
			 "sender to come back)");
		return 2;
	}
	if ((sa.flags & RVMIG_XRSESSION_F_RESUME) && !strcmp(sa.path, "-")) {
		tool_err("--resume needs a file (-o PATH): stdout cannot be taken back");
		return 2;
	}
	if (rvmig_xrsession_check_path(sa.path, sa.flags & RVMIG_XRSESSION_F_RESUME, why,
				       sizeof(why))) {
		tool_err("%s", why);
		return 2;
	}
	if (o.stats_json && !strcmp(o.stats_json, "-") && !strcmp(sa.path, "-")) {
		tool_err("--stats-json - and -o - both mean stdout: the statistics would be mixed "
			 "into the stream; give --stats-json a file");
		return 2;
	}
	tool_opts_done(&o);
	sa.mode = o.mode;
	sa.timeout_ms = o.timeout_ms;
	tool_catch_stop();
	if (!strcmp(sa.path, "-") && isatty(STDOUT_FILENO)) {
		tool_err("refusing to write a binary stream to a terminal");
		return 2;
	}
	if ((rc = tool_ctx_create(&o, &ctx)))
		goto out;
	/* Seen by rvmig-top from here on (waiting for its sender: setup). */
	if (!rvmig_publisher_open(ctx, "rvmig-recv", NULL, &pub))
		rvmig_pubxfer_begin(pub, &sa.pub);
	/* Fails before anyone sends: the directory must take the file, a
	 * device or FIFO must open; the journal's prefix is read again. */
	if ((rc = rvmig_xrsession_create(ctx, &sa, &s)))
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
	progress_init(&prog, o.verbosity >= 0, 0);
	ran = true;
	rc = rvmig_xrsession_run(s, l); /* takes l; says what went wrong */
	l = NULL;
	progress_end(&prog);
out:
	if (rc && !ran && s && rvmig_xrecv_error(rvmig_xrsession_xrecv(s), &text))
		tool_err("%s", text);
	if (!ran)
		rvmig_pubxfer_end(sa.pub, rc ? rc : -ECANCELED);
	if (s)
		report(s, &o, rc);
	explicit_bzero(key, sizeof(key));
	rvmig_listener_close(l);
	if (s && rvmig_xrsession_kept(s))
		tool_err("run rvmig-recv --resume again to continue");
	rc = s && rvmig_xrsession_kept(s) ? EXIT_TEMPFAIL : rc ? 1 : 0;
	rvmig_xrsession_destroy(s);
	rvmig_publisher_close(pub);
	rvmig_ctx_destroy(ctx);
	return rc;
}
