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
 * message carries the total length and the SHA-256 of every input byte.
 * See common/appmsg.h for the messages.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/appmsg.h"
#include "common/cli.h"
#include "common/progress.h"
#include "common/report.h"
#include "pipeline/sendpipe.h"
#include "send/input.h"

#define RING_BUFS 4
#define RING_BUF_SIZE (8u << 20)

enum { OPT_ZERO_MIN = OPT_TOOL_FIRST };

struct sender {
	struct tool_opts *o;
	struct send_input in;
	struct sendpipe sp;       /* posts, completions, SHA-256 */
	rvmig_stream_parser *parser;

	bool verdict;
	struct app_msg v;
	char vtext[512];
	bool peer_closed;
	struct progress prog;
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
	if (m.tag != APP_VERDICT) {
		sendpipe_fail(sp, -RVMIG_EBADMSG, "unexpected %s message from the receiver",
			      app_tag_name(m.tag));
		return;
	}
	s->v = m;
	snprintf(s->vtext, sizeof(s->vtext), "%.*s", (int)m.len, (const char *)m.data);
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
		sendpipe_fail(sp, rc, "%s is not a valid Xen save stream: %s", s->in.name,
			      rvmig_stream_error(s->parser));
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmig-send [OPTIONS] PATH|- URI\n"
		"Sends a Xen save image / migration stream (PATH, or stdin for '-') to\n"
		"rvmig-recv listening at URI.  Exits 0 only when the receiver confirmed that\n"
		"it wrote and verified every byte (SHA-256).  The input must parse as a Xen\n"
		"save stream (xl header, libxl, libxc) unless --raw is given.\n\n"
		"  --zero-min-pages N  elide runs of at least N all-zero pages (default 1:\n"
		"                      every zero page); shorter runs inside page data are\n"
		"                      sent with it, saving a message and a request each\n\n%s",
		tool_common_help);
}

static int finish(struct sender *s)
{
	struct sendpipe *sp = &s->sp;
	uint8_t sha[32], m[128];
	uint64_t total = s->in.read_total;

	if (s->parser && !sp->err && rvmig_stream_finish(s->parser) < 0)
		sendpipe_fail(sp, -RVMIG_ESTREAM, "%s is not a valid Xen save stream: %s",
			      s->in.name, rvmig_stream_error(s->parser));
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
	if (s->v.n != total || memcmp(s->v.sha256, sha, 32)) {
		sendpipe_fail(sp, -RVMIG_EINTEGRITY,
			      "receiver reports %llu bytes with another SHA-256 than sent (%llu bytes)",
			      (unsigned long long)s->v.n, (unsigned long long)total);
		return sp->err;
	}
	memcpy(s->v.sha256, sha, 32);
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

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "zero-min-pages", required_argument, NULL, OPT_ZERO_MIN },
		{ 0 },
	};
	struct tool_opts o;
	struct sender s = { .o = &o };
	uint64_t zero_min = RVMIG_STREAM_PAGE_SIZE;
	struct tool_report rep = { .tool = "rvmig-send" };
	struct rvmig_ep_attr attr;
	rvmig_stats *lst = NULL;
	rvmig_ctx *ctx = NULL;
	const char *path, *uri;
	double t0 = 0;
	int c, rc;

	tool_opts_init(&o, "rvmig-send");
	while ((c = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS, lopts, NULL)) != -1) {
		rc = tool_opt(&o, c, optarg);
		if (rc < 0)
			return 2;
		if (rc)
			continue;
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == OPT_ZERO_MIN) {
			uint64_t v;

			if (tool_parse_u64(optarg, &v) || !v || v > (1u << 20)) {
				tool_err("bad value '%s' for --zero-min-pages", optarg);
				return 2;
			}
			zero_min = v * RVMIG_STREAM_PAGE_SIZE;
			continue;
		}
		if (c == OPT_VERSION) {
			printf("rvmig-send %d.%d.%d\n", RVMIG_VERSION_MAJOR, RVMIG_VERSION_MINOR,
			       RVMIG_VERSION_PATCH);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	path = argv[optind];
	uri = argv[optind + 1];
	tool_opts_done(&o);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);

	if ((rc = input_open(&s.in, path, RING_BUFS, RING_BUF_SIZE)))
		goto out;
	if (!o.raw) {
		struct rvmig_stream_attr pa = { .size = sizeof(pa) };

		if ((rc = rvmig_stream_parser_create(&pa, &s.parser))) {
			tool_err("cannot create the stream parser: %s", rvmig_strerror(rc));
			goto out;
		}
	}
	if ((rc = sendpipe_init(&s.sp, &s.in, zero_min, on_event, &s))) {
		tool_err("out of memory");
		goto out;
	}
	s.sp.stop = &stop_signal;
	if ((rc = tool_ctx_create(&o, &ctx)))
		goto out;
	tool_ep_attr(&o, &attr);
	rc = rvmig_connect(ctx, uri, &attr, &s.sp.ep);
	if (rc) {
		tool_err("cannot connect to %s: %s", uri, rvmig_strerror(rc));
		goto out;
	}
	rep.transport = rvmig_ep_transport(s.sp.ep);
	rep.peer = rvmig_ep_peer(s.sp.ep);
	rep.mode = rvmig_ep_mode(s.sp.ep);
	tool_debug("connected to %s over %s (%s), input %s%s", rep.peer, rep.transport,
		   tool_mode_name(rep.mode), s.in.name, s.in.mapped ? " (mapped)" : " (pipe ring)");
	rc = input_register(&s.in, s.sp.ep,
			    rep.mode == RVMIG_MODE_PULL ? RVMIG_MR_REMOTE_READ : RVMIG_MR_LOCAL);
	if (rc)
		goto out;
	t0 = tool_now();
	progress_init(&s.prog, o.verbosity >= 0, s.in.size_known ? s.in.size : 0);
	{
		uint8_t m[64];

		sendpipe_msg(&s.sp, m,
			     app_encode_hello(m, sizeof(m),
					      (o.raw ? APP_F_RAW : 0) |
						      (s.in.size_known ? APP_F_SIZE : 0),
					      s.in.size_known ? s.in.size : 0),
			     0);
	}
	if (s.in.mapped)
		sendpipe_run_mapped(&s.sp, process);
	else
		sendpipe_run_pipe(&s.sp, process);
	rc = finish(&s);
	progress_end(&s.prog);
	rep.seconds = tool_now() - t0;
	if (rc)
		abort_transfer(&s);
	rvmig_stats_snapshot(s.sp.ep, &lst);
out:
	if (rc && s.sp.err)
		tool_err("%s", s.sp.errtxt);
	rep.status = rc;
	rep.raw = o.raw;
	rep.links = o.links ? o.links : 2;
	rep.bytes = s.in.read_total;
	rep.pages = s.sp.pages;
	rep.zero_pages = s.sp.zero_pages;
	rep.control_bytes = s.sp.control_bytes;
	rep.data_bytes = s.sp.data_bytes;
	rep.lib = lst;
	if (!rc) {
		memcpy(rep.sha256, s.v.sha256, 32);
		rep.sha_valid = true;
	}
	if (s.parser) {
		struct rvmig_stream_stats st = { .size = sizeof(st) };

		rvmig_stream_get_stats(s.parser, &st);
		rep.records = report_stream_records(&st);
	}
	if (!rc) {
		char hex[65];

		report_hex(rep.sha256, hex);
		tool_info("sent %llu bytes (%llu pages, %llu zero pages elided) to %s over %s/%s in "
			  "%.3f s, %.3f Gbit/s; receiver verified sha256 %s",
			  (unsigned long long)rep.bytes, (unsigned long long)rep.pages,
			  (unsigned long long)rep.zero_pages, rep.peer, rep.transport,
			  tool_mode_name(rep.mode), rep.seconds, report_gbps(&rep), hex);
	}
	if (o.stats_json)
		report_write_json(o.stats_json, &rep);
	rvmig_stats_free(lst);
	input_unregister(&s.in);
	if (s.sp.ep)
		rvmig_ep_close(s.sp.ep);
	input_close(&s.in);
	rvmig_stream_parser_destroy(s.parser);
	sendpipe_fini(&s.sp);
	rvmig_ctx_destroy(ctx);
	return rc ? 1 : 0;
}
