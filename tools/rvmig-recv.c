/* SPDX-License-Identifier: MIT */
/*
 * rvmig-recv - receives one transfer from rvmig-send, rebuilds the exact
 * byte stream at its stream offsets, checks its SHA-256 against the
 * sender's (and, unless --no-verify-stream / --raw, parses it as a Xen save
 * stream), makes it durable under PATH (or writes it to stdout), answers the
 * sender with a verdict and exits 0 only when all of that succeeded.
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

#include "common/appmsg.h"
#include "common/cli.h"
#include "common/progress.h"
#include "common/report.h"
#include "recv/output.h"

enum {
	OPT_LISTEN = OPT_TOOL_FIRST,
	OPT_READY_FILE,
	OPT_NO_VERIFY_STREAM,
	OPT_ACCEPT_TIMEOUT,
};

struct receiver {
	struct tool_opts *o;
	const char *out_path;
	bool verify_stream;
	rvmig_ep *ep;
	struct recv_output out;
	bool out_open;
	rvmig_stream_parser *parser;

	bool hello, raw, done, peer_closed;
	uint64_t expect_size;   /* from HELLO, 0 if unknown */
	uint64_t off;           /* next stream offset expected */
	uint64_t zero_bytes, data_bytes, ctrl_bytes;
	struct app_msg end;
	uint8_t sha[32];
	int err;
	char errtxt[1024];
	struct progress prog;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void fail(struct receiver *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct receiver *r, int err, const char *fmt, ...)
{
	va_list ap;

	if (r->err)
		return;
	r->err = err ? err : -EIO;
	va_start(ap, fmt);
	vsnprintf(r->errtxt, sizeof(r->errtxt), fmt, ap);
	va_end(ap);
}

static const char *peer(const struct receiver *r)
{
	return r->ep ? rvmig_ep_peer(r->ep) : "?";
}

/* Feeds rebuilt bytes to the verifying parser and drains its items. */
static void parse(struct receiver *r, const void *data, size_t len)
{
	struct rvmig_stream_item it = { .size = sizeof(it) };
	int rc;

	if (!r->parser || r->err)
		return;
	rc = rvmig_stream_feed(r->parser, data, len);
	while (rc == 0)
		rc = rvmig_stream_next(r->parser, &it) == 1 ? 0 : -1;
	if (rvmig_stream_error(r->parser)[0])
		fail(r, -RVMIG_ESTREAM, "the received stream is not a valid Xen save stream: %s",
		     rvmig_stream_error(r->parser));
}

static void parse_zeros(struct receiver *r, uint64_t len)
{
	static const uint8_t zeros[64 * 1024];

	while (len && r->parser && !r->err) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);

		parse(r, zeros, n);
		len -= n;
	}
}

static bool at_offset(struct receiver *r, const char *what, uint64_t off)
{
	if (!r->hello) {
		fail(r, -RVMIG_EBADMSG, "%s from %s before its HELLO", what, peer(r));
		return false;
	}
	if (r->done) {
		fail(r, -RVMIG_EBADMSG, "%s from %s after the END", what, peer(r));
		return false;
	}
	if (off != r->off) {
		fail(r, -RVMIG_EBADMSG, "%s from %s for stream offset %llu, expected %llu", what,
		     peer(r), (unsigned long long)off, (unsigned long long)r->off);
		return false;
	}
	return true;
}

static void write_bytes(struct receiver *r, const void *data, size_t len)
{
	int rc = output_write(&r->out, data, len);

	if (rc) {
		fail(r, rc, "cannot write %zu bytes at stream offset %llu to %s: %s", len,
		     (unsigned long long)r->off, r->out.path, strerror(-rc));
		return;
	}
	parse(r, data, len);
	r->off += len;
}

static void on_hello(struct receiver *r, const struct app_msg *m)
{
	char why[512];
	int rc;

	if (r->hello) {
		fail(r, -RVMIG_EBADMSG, "second HELLO from %s", peer(r));
		return;
	}
	r->hello = true;
	r->raw = m->flags & APP_F_RAW;
	r->expect_size = m->flags & APP_F_SIZE ? m->size : 0;
	tool_debug("sender %s: rvmig-send %u.%u.%u, %s input, %s%llu bytes", peer(r),
		   m->tool_version >> 16, (m->tool_version >> 8) & 0xff, m->tool_version & 0xff,
		   r->raw ? "raw" : "Xen stream", r->expect_size ? "" : "size unknown, ",
		   (unsigned long long)r->expect_size);
	progress_set_total(&r->prog, r->expect_size);
	if (r->verify_stream && !r->raw) {
		struct rvmig_stream_attr pa = { .size = sizeof(pa) };

		if ((rc = rvmig_stream_parser_create(&pa, &r->parser))) {
			fail(r, rc, "cannot create the stream parser: %s", rvmig_strerror(rc));
			return;
		}
	}
	rc = output_open(&r->out, r->out_path, why, sizeof(why));
	if (rc) {
		fail(r, rc, "%s", why);
		return;
	}
	r->out_open = true;
}

static void on_end(struct receiver *r, const struct app_msg *m)
{
	char why[512], a[65], b[65];
	int rc;

	if (m->n != r->off) {
		fail(r, -RVMIG_EINTEGRITY, "sender %s says the stream is %llu bytes, %llu arrived",
		     peer(r), (unsigned long long)m->n, (unsigned long long)r->off);
		return;
	}
	r->end = *m;
	r->done = true;
	output_digest(&r->out, r->sha);
	if (memcmp(r->sha, m->sha256, 32)) {
		report_hex(m->sha256, a);
		report_hex(r->sha, b);
		fail(r, -RVMIG_EINTEGRITY,
		     "SHA-256 mismatch over %llu bytes from %s: sender %s, written %s",
		     (unsigned long long)r->off, peer(r), a, b);
		return;
	}
	if (r->parser && rvmig_stream_finish(r->parser) < 0) {
		fail(r, -RVMIG_ESTREAM, "the received stream is not a valid Xen save stream: %s",
		     rvmig_stream_error(r->parser));
		return;
	}
	rc = output_commit(&r->out, why, sizeof(why));
	if (rc)
		fail(r, rc, "%s", why);
}

static void on_msg(struct receiver *r, const struct rvmig_event *ev)
{
	struct app_msg m;
	const char *why;
	int rc = app_decode(ev->data, ev->len, &m, &why);

	if (rc) {
		fail(r, -RVMIG_EBADMSG, "bad message from %s at stream offset %llu: %s", peer(r),
		     (unsigned long long)ev->stream_off, why);
		return;
	}
	switch (m.tag) {
	case APP_HELLO:
		on_hello(r, &m);
		break;
	case APP_CTRL:
		if (at_offset(r, "control bytes", ev->stream_off)) {
			write_bytes(r, m.data, m.len);
			r->ctrl_bytes += m.len;
		}
		break;
	case APP_ZERO:
		if (at_offset(r, "zero run", ev->stream_off)) {
			rc = output_zero(&r->out, m.n);
			if (rc) {
				fail(r, rc, "cannot write %llu zero bytes at stream offset %llu to %s: %s",
				     (unsigned long long)m.n, (unsigned long long)r->off, r->out.path,
				     strerror(-rc));
				break;
			}
			parse_zeros(r, m.n);
			r->off += m.n;
			r->zero_bytes += m.n;
		}
		break;
	case APP_END:
		if (at_offset(r, "END", r->off))
			on_end(r, &m);
		break;
	case APP_ABORT:
		fail(r, m.status ? m.status : -RVMIG_EPEER,
		     "sender %s gave up at stream offset %llu: %.*s", peer(r),
		     (unsigned long long)r->off, (int)m.len, (const char *)m.data);
		break;
	default:
		fail(r, -RVMIG_EBADMSG, "unexpected %s message from %s", app_tag_name(m.tag), peer(r));
	}
}

/* Drives the endpoint and handles its events.  `drain` drops data (after a
 * failure, while waiting for the sender to close). */
static void pump(struct receiver *r, int timeout_ms, bool drain)
{
	struct rvmig_event ev;
	int rc = rvmig_progress(r->ep, timeout_ms);

	while (rvmig_event_next(r->ep, &ev) > 0) {
		switch (ev.type) {
		case RVMIG_EV_RECV_DATA:
			if (!drain && at_offset(r, "data", ev.stream_off)) {
				write_bytes(r, ev.data, ev.len);
				r->data_bytes += ev.len;
			}
			rvmig_recv_release(r->ep, ev.token);
			break;
		case RVMIG_EV_RECV_MSG:
			if (!drain)
				on_msg(r, &ev);
			rvmig_recv_release(r->ep, ev.token);
			break;
		case RVMIG_EV_PEER_CLOSED:
			r->peer_closed = true;
			if (!r->done)
				fail(r, -RVMIG_EPEER,
				     "sender %s closed the connection at stream offset %llu before the end",
				     peer(r), (unsigned long long)r->off);
			break;
		case RVMIG_EV_ERROR:
			rc = ev.status;
			break;
		default:
			break;
		}
	}
	if (rc < 0) {
		if (!r->done)
			fail(r, rc, "connection to sender %s failed at stream offset %llu: %s", peer(r),
			     (unsigned long long)r->off, rvmig_strerror(rc));
		r->peer_closed = true; /* nothing more will come */
	}
	if (stop_signal)
		fail(r, -EINTR, "interrupted by signal %d at stream offset %llu", (int)stop_signal,
		     (unsigned long long)r->off);
	progress_update(&r->prog, r->off);
}

static void reply(struct receiver *r)
{
	uint8_t m[4096];
	size_t cap = rvmig_msg_max() < sizeof(m) ? rvmig_msg_max() : sizeof(m);
	size_t n = app_encode_verdict(m, cap, r->err, r->off, r->sha, r->err ? r->errtxt : "ok");

	for (int tries = 0; tries < 100; tries++) {
		int rc = rvmig_reply_msg(r->ep, m, n);

		if (rc != -EAGAIN)
			break;
		if (rvmig_progress(r->ep, 50) < 0)
			break;
	}
}

static int announce(const struct tool_opts *o, const char *ready_file, const char *uri, int port)
{
	char buf[32];
	int fd, n;

	tool_info("listening on port %d (%s)", port, uri);
	if (!ready_file)
		return 0;
	/* A FIFO (opened by the waiting test) or a regular file. */
	fd = open(ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		tool_err("cannot open the ready file %s: %s", ready_file, strerror(errno));
		return -errno;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", port);
	if (write(fd, buf, (size_t)n) != n) {
		tool_err("cannot write the ready file %s: %s", ready_file, strerror(errno));
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmig-recv [OPTIONS] --listen URI -o PATH|-\n"
		"Receives one transfer from rvmig-send.  PATH is written as\n"
		"PATH.rvmig-partial-XXXXXX and renamed to PATH only when complete and its\n"
		"SHA-256 matches the sender's; '-' writes to stdout (for a pipeline).\n"
		"Exits 0 only when the transfer is complete and verified.\n\n"
		"  -l, --listen URI        where to listen (tcp://HOST:PORT, verbs://HOST:PORT;\n"
		"                          port 0 picks a free port)\n"
		"  -o, --output PATH|-     where to write the stream\n"
		"  --ready-file PATH       write the bound port there once listening\n"
		"                          (a FIFO works for waiting on it)\n"
		"  --accept-timeout MS     give up if no sender came (default: wait forever)\n"
		"  --no-verify-stream      do not parse the received Xen stream\n"
		"  --mode push|pull        accept only senders that chose this mode\n\n%s",
		tool_common_help);
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
		{ 0 },
	};
	struct tool_opts o;
	struct receiver r = { .o = &o, .verify_stream = true };
	struct tool_report rep = { .tool = "rvmig-recv" };
	struct rvmig_ep_attr attr;
	rvmig_listener *l = NULL;
	rvmig_stats *lst = NULL;
	rvmig_ctx *ctx = NULL;
	const char *uri = NULL, *ready = NULL;
	int accept_timeout = -1;
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
			printf("rvmig-recv %d.%d.%d\n", RVMIG_VERSION_MAJOR, RVMIG_VERSION_MINOR,
			       RVMIG_VERSION_PATCH);
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
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !uri || !r.out_path) {
		usage(stderr);
		return 2;
	}
	tool_opts_done(&o);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	if (r.out_path[0] == '-' && r.out_path[1] == 0 && isatty(STDOUT_FILENO)) {
		tool_err("refusing to write a binary stream to a terminal");
		return 2;
	}

	if (strcmp(r.out_path, "-")) {
		/* Fail before anyone sends: the directory must take the file. */
		char *d = strdup(r.out_path);

		rc = d && access(dirname(d), W_OK) ? -errno : 0;
		if (rc)
			tool_err("cannot write into the directory of %s: %s", r.out_path, strerror(-rc));
		free(d);
		if (rc)
			goto out;
	}
	if ((rc = tool_ctx_create(&o, &ctx)))
		goto out;
	tool_ep_attr(&o, &attr);
	rc = rvmig_listen(ctx, uri, &attr, &l);
	if (rc) {
		tool_err("cannot listen on %s: %s", uri, rvmig_strerror(rc));
		goto out;
	}
	if ((rc = announce(&o, ready, uri, rvmig_listener_port(l))))
		goto out;
	rc = rvmig_accept(l, accept_timeout, &r.ep);
	if (rc) {
		tool_err("no sender connected on %s: %s", uri, rvmig_strerror(rc));
		goto out;
	}
	rvmig_listener_close(l);
	l = NULL;
	rep.transport = rvmig_ep_transport(r.ep);
	rep.peer = rvmig_ep_peer(r.ep);
	rep.mode = rvmig_ep_mode(r.ep);
	tool_debug("sender %s connected over %s (%s)", rep.peer, rep.transport,
		   tool_mode_name(rep.mode));
	if (o.mode && o.mode != rep.mode)
		fail(&r, -EPROTO, "sender %s chose %s mode, only %s is accepted here", rep.peer,
		     tool_mode_name(rep.mode), tool_mode_name(o.mode));
	t0 = tool_now();
	progress_init(&r.prog, o.verbosity >= 0, 0);
	while (!r.err && !r.done && !r.peer_closed)
		pump(&r, 200, false);
	progress_end(&r.prog);
	rep.seconds = tool_now() - t0;
	if (r.err && r.out_open)
		output_discard(&r.out);
	rvmig_stats_snapshot(r.ep, &lst);
	if (!r.peer_closed) {
		/* Tell the sender, then let it close first so the verdict reaches it. */
		reply(&r);
		deadline = tool_now() + (o.timeout_ms ? o.timeout_ms : 10000) / 1000.0;
		while (!r.peer_closed && tool_now() < deadline) {
			int saved = r.err;

			pump(&r, 200, true);
			if (!saved && r.err && r.done) {
				/* The file is already committed and verified; the sender
				 * vanishing after the verdict does not change that. */
				r.err = 0;
				break;
			}
		}
	}
	rc = r.err;
out:
	if (rc && r.err)
		tool_err("%s", r.errtxt);
	if (rc && r.out_open && !r.out.is_stdout)
		tool_err("%s was not written", r.out_path);
	else if (rc && r.out_open)
		tool_err("the %llu bytes written to stdout are incomplete or unverified: discard them",
			 (unsigned long long)r.out.off);
	rep.status = rc;
	rep.raw = r.raw;
	rep.links = o.links ? o.links : 2;
	rep.bytes = r.off;
	rep.zero_pages = r.zero_bytes / RVMIG_STREAM_PAGE_SIZE;
	rep.control_bytes = r.ctrl_bytes;
	rep.data_bytes = r.data_bytes;
	rep.lib = lst;
	rep.pages = r.end.pages;
	if (r.done) {
		memcpy(rep.sha256, r.sha, 32);
		rep.sha_valid = true;
	}
	if (r.parser) {
		struct rvmig_stream_stats st = { .size = sizeof(st) };

		rvmig_stream_get_stats(r.parser, &st);
		rep.pages = st.pages;
		for (unsigned i = 0; i < RVMIG_LIBXL_REC_NTYPES; i++)
			rep.records += st.libxl_records[i];
		for (unsigned i = 0; i < RVMIG_LIBXC_REC_NTYPES; i++)
			rep.records += st.libxc_records[i];
		rep.records += st.libxl_optional_records + st.libxc_optional_records;
	}
	if (!rc) {
		char hex[65];

		report_hex(rep.sha256, hex);
		if (r.parser)
			tool_info("received %llu bytes from %s over %s/%s into %s: Xen stream, %llu "
				  "records, %llu pages (%llu zero, elided); %.3f s, %.3f Gbit/s, "
				  "sha256 %s verified",
				  (unsigned long long)rep.bytes, rep.peer, rep.transport,
				  tool_mode_name(rep.mode), r.out.path, (unsigned long long)rep.records,
				  (unsigned long long)rep.pages, (unsigned long long)rep.zero_pages,
				  rep.seconds, report_gbps(&rep), hex);
		else
			tool_info("received %llu bytes from %s over %s/%s into %s (%s); %.3f s, "
				  "%.3f Gbit/s, sha256 %s verified",
				  (unsigned long long)rep.bytes, rep.peer, rep.transport,
				  tool_mode_name(rep.mode), r.out.path,
				  r.raw ? "raw" : "stream not parsed", rep.seconds, report_gbps(&rep),
				  hex);
	}
	if (o.stats_json)
		report_write_json(o.stats_json, &rep);
	rvmig_stats_free(lst);
	if (r.ep)
		rvmig_ep_close(r.ep);
	rvmig_listener_close(l);
	if (r.out_open)
		output_close(&r.out);
	rvmig_stream_parser_destroy(r.parser);
	rvmig_ctx_destroy(ctx);
	return rc ? 1 : 0;
}
