/* SPDX-License-Identifier: MIT */
/*
 * rvmig-send - sends a Xen checkpoint file or stream (or, with --raw, any
 * bytes) to rvmig-recv and exits 0 only when the receiver has confirmed that
 * it wrote and verified all of it.
 *
 * The library's sender session (rvmig_xsender(3)) does the transfer and
 * its protocol: HELLO, RESUME, the stream (page payloads zero-copy, zero
 * pages as ZERO messages, the rest as CTRL messages), END with the digest
 * of every input byte (XXH3-128, or SHA-256 with --digest sha256), the
 * verdict, and with --resume the retries (0.5 s doubling up to 8 s,
 * --retries times), each from the receiver's durable offset.  This program
 * parses the options, draws the progress bar and prints the report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/cli.h"
#include "common/progress.h"
#include "common/report.h"
#include "common/stop.h"

#define RETRIES_DEFAULT 5

/* --zero-min-pages defaults to the library's RVMIG_XSEND_ZERO_MIN_DEFAULT. */

enum {
	OPT_ZERO_MIN = OPT_TOOL_FIRST,
	OPT_KEY_FILE,
	OPT_RESUME,
	OPT_RETRIES,
	OPT_DIGEST,
	OPT_PUBLISH_AS,
};

static void on_note(rvmig_xsender *s, enum rvmig_xsend_note n, const char *text, void *arg)
{
	(void)s;
	(void)arg;
	if (n == RVMIG_XSEND_NOTE_CONNECTED)
		tool_debug("%s", text);
	else if (n == RVMIG_XSEND_NOTE_RESUMING)
		tool_info("%s", text);
	else
		tool_err("%s", text);
}

static void on_progress(rvmig_xsender *s, uint64_t acked, void *arg)
{
	(void)s;
	progress_update(arg, acked);
}

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


/* The summary line and --stats-json from the session's outcome. */
static void report(rvmig_xsender *xs, const struct tool_opts *o, const struct rvmig_xresult *res,
		   double seconds)
{
	struct tool_report rep = { .tool = "rvmig-send", .raw = o->raw, .seconds = seconds,
				   /* the library default (rvmig_ep_attr.nlinks) */
				   .links = o->links ? o->links : 4 };

	report_from_sender(&rep, xs, res);
	if (!res->status) {
		char hex[65], pages[96] = "", rate[32];

		rvmig_digest_hex(res->digest_alg, rep.digest, hex);
		if (res->resume_offset || res->retries)
			tool_info("resumed at stream offset %llu (%u retries): %llu bytes sent in the "
				  "last connection",
				  (unsigned long long)res->resume_offset, res->retries,
				  (unsigned long long)(rep.bytes - res->resume_offset));
		/* --raw bytes have no pages to count. */
		if (!o->raw)
			snprintf(pages, sizeof(pages), " (%llu pages, %llu zero pages elided)",
				 (unsigned long long)rep.pages, (unsigned long long)rep.zero_pages);
		tool_info("sent %llu bytes%s to %s over %s/%s in %.3f s, %s; receiver verified %s %s",
			  (unsigned long long)rep.bytes, pages, rep.peer, rep.transport,
			  tool_mode_name(rep.mode), rep.seconds,
			  progress_rate(rate, sizeof(rate), (double)rep.bytes, rep.seconds),
			  rvmig_digest_name(res->digest_alg), hex);
	}
	if (o->stats_json)
		report_write_json(o->stats_json, &rep);
	report_free_lib(&rep);
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
	struct progress prog;
	struct rvmig_ep_attr attr;
	struct rvmig_xsend_opts xo = { .size = sizeof(xo), .flags = RVMIG_XSTREAM_F_DIGEST_THREAD,
				       .stop = &tool_stop, .on_note = on_note,
				       .on_progress = on_progress, .arg = &prog };
	struct rvmig_xresult res = { .size = sizeof(res) };
	rvmig_xsender *xs = NULL;
	rvmig_ctx *ctx = NULL;
	rvmig_publisher *pub = NULL;
	const char *path, *uri, *key_file = NULL, *publish_as = "rvmig-send";
	uint8_t key[TOOL_KEY_MAX];
	size_t key_len = sizeof(key);
	uint64_t retries = RETRIES_DEFAULT, size = 0;
	bool resume = false, retries_given = false;
	double t0 = tool_now();
	int c, rc, fd = -1;

	tool_opts_init(&o, "rvmig-send");
	while ((c = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS, lopts, NULL)) != -1) {
		if ((rc = tool_opt(&o, c, optarg, usage)) == TOOL_OPT_TAKEN)
			continue;
		if (rc != TOOL_OPT_MINE)
			return rc;
		switch (c) {
		case OPT_ZERO_MIN: {
			uint64_t v;

			if (tool_parse_u64(optarg, &v) || !v || v > (1u << 20)) {
				tool_err("bad value '%s' for --zero-min-pages", optarg);
				return 2;
			}
			xo.zero_min = v * RVMIG_STREAM_PAGE_SIZE;
			break;
		}
		case OPT_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_RESUME:
			resume = true;
			break;
		case OPT_RETRIES:
			if (tool_parse_u64(optarg, &retries) || retries > 1000) {
				tool_err("bad value '%s' for --retries (0..1000)", optarg);
				return 2;
			}
			retries_given = true;
			break;
		case OPT_DIGEST:
			if (rvmig_digest_parse(optarg, &xo.digest)) {
				tool_err("bad value '%s' for --digest (xxh128 or sha256)", optarg);
				return 2;
			}
			break;
		case OPT_PUBLISH_AS:
			publish_as = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	if (retries_given && !resume) {
		tool_err("--retries needs --resume (only a resumed transfer can be retried)");
		return 2;
	}
	path = argv[optind];
	uri = argv[optind + 1];
	if (tool_check_uri("URI", uri))
		return 2;
	tool_opts_done(&o);
	tool_catch_stop();

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		tool_err("cannot open %s: %s", path, strerror(errno));
		return 1;
	}
	xo.name = strcmp(path, "-") ? path : "stdin";
	xo.flags |= (o.raw ? RVMIG_XSTREAM_F_RAW : 0) | (resume ? RVMIG_XSEND_F_RESUME : 0);
	xo.retries = resume ? (unsigned)retries : 0;
	if ((rc = tool_ctx_create(&o, &ctx)))
		goto out;
	tool_ep_attr(&o, &attr);
	if (key_file && (rc = tool_key_attr(ctx, key_file, key, &key_len, &attr)))
		goto out;
	xo.ep_attr = &attr;
	/* Seen by rvmig-top from here on; never a reason to fail. */
	if (!rvmig_publisher_open(ctx, publish_as, NULL, &pub))
		rvmig_pubxfer_begin(pub, &xo.pub);
	rc = rvmig_xsender_create(ctx, fd, &xo, &xs);
	if (rc) {
		const char *text = NULL;

		if (xs)
			rvmig_xsender_error(xs, &text);
		tool_err("%s", text ? text : rvmig_strerror(rc));
		if (rc == -ESPIPE)
			rc = 2; /* --resume of a pipe: a usage error */
		goto out;
	}
	rvmig_xsend_input_size(rvmig_xsender_xsend(xs), &size);
	progress_init(&prog, o.verbosity >= 0, size);
	t0 = tool_now();
	rc = rvmig_xsender_send(xs, uri);
	progress_end(&prog);
	rvmig_xsender_result(xs, &res);
	if (rc) {
		rvmig_xsend *x = rvmig_xsender_xsend(xs);

		tool_err("%s", res.text);
		if (rvmig_xsend_parser(x) &&
		    rvmig_stream_start_layer(rvmig_xsend_parser(x)) == RVMIG_STREAM_LAYER_AUTO)
			tool_err("--raw sends any bytes");
	}
out:
	res.status = rc;
	/* Ended for the monitor before the report: --stats-json may be a FIFO
	 * that blocks until read (xen.rvmig_tcp holds the tool there). */
	rvmig_pubxfer_end(xo.pub, rc == 2 ? -EINVAL : rc);
	report(xs, &o, &res, tool_now() - t0);
	rvmig_xsender_destroy(xs);
	explicit_bzero(key, sizeof(key));
	rvmig_publisher_close(pub);
	rvmig_ctx_destroy(ctx);
	if (fd > STDERR_FILENO)
		close(fd);
	return rc == 2 ? 2 : rc ? 1 : 0;
}
