/* SPDX-License-Identifier: MIT */
/*
 * rvmig-send - sends a Xen checkpoint file or stream (or, with --raw, any
 * bytes) to rvmig-recv and exits 0 only when the receiver has confirmed that
 * it wrote and verified all of it.
 *
 * Pipeline: the input (mmap'ed file or a ring of registered buffers, see
 * send/input.h) is fed to the Xen stream parser; page payloads are posted
 * as zero-copy bulk requests straight from the input memory, runs of
 * adjacent pages coalesced into one request; all-zero pages are replaced by
 * a ZERO message; everything else goes as ordered CTRL messages.  The END
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
#include "send/input.h"

#define RING_BUFS 4
#define RING_BUF_SIZE (8u << 20)
#define RUN_MAX (4u << 20)       /* largest coalesced bulk request */
#define LOOKAHEAD (32ull << 20)  /* parse at most this far past acknowledged data */

enum { OPT_ZERO_MIN = OPT_TOOL_FIRST };

enum pending_kind { P_NONE, P_CTRL, P_DATA, P_ZERO };

struct inflight {
	uint64_t end; /* stream offset after the request */
	bool done;
};

struct sender {
	struct tool_opts *o;
	rvmig_ep *ep;
	struct send_input in;
	EVP_MD_CTX *sha;
	rvmig_stream_parser *parser;
	size_t msg_max;

	/* the item being coalesced */
	enum pending_kind pk;
	uint64_t p_off, p_len;
	struct in_seg p_seg;
	uint8_t *msg;           /* CTRL message being filled: header + payload */
	size_t msg_hdr;

	/* requests in flight, by sequence number (= cookie) */
	struct inflight *fl;
	uint64_t fl_cap, seq_head, seq_next;
	uint64_t acked;         /* every request ending at or before this completed */

	/* results */
	uint64_t zero_min;      /* shortest zero run elided, bytes (--zero-min-pages) */
	uint64_t ztail;         /* zero bytes at the end of the pending data run */
	uint64_t pages, zero_pages, control_bytes, data_bytes;
	bool verdict;
	struct app_msg v;
	char vtext[512];
	bool peer_closed;
	int err;                /* first fatal error */
	char errtxt[1024];
	struct progress prog;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void fail(struct sender *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct sender *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->err)
		return;
	s->err = err ? err : -EIO;
	va_start(ap, fmt);
	vsnprintf(s->errtxt, sizeof(s->errtxt), fmt, ap);
	va_end(ap);
}

/* ---- completions and replies ---- */

static void on_done(struct sender *s, const struct rvmig_event *ev)
{
	uint64_t seq = ev->cookie;

	if (ev->status) {
		fail(s, ev->status, "transfer to %s failed after %llu acknowledged bytes: %s",
		     rvmig_ep_peer(s->ep), (unsigned long long)s->acked, rvmig_strerror(ev->status));
		return;
	}
	if (seq < s->seq_head || seq >= s->seq_next)
		return;
	s->fl[seq & (s->fl_cap - 1)].done = true;
	while (s->seq_head < s->seq_next && s->fl[s->seq_head & (s->fl_cap - 1)].done) {
		s->acked = s->fl[s->seq_head & (s->fl_cap - 1)].end;
		s->seq_head++;
	}
}

static void on_reply(struct sender *s, const struct rvmig_event *ev)
{
	struct app_msg m;
	const char *why;
	int rc = app_decode(ev->data, ev->len, &m, &why);

	if (rc) {
		fail(s, -RVMIG_EBADMSG, "bad reply from the receiver: %s", why);
		return;
	}
	if (m.tag != APP_VERDICT) {
		fail(s, -RVMIG_EBADMSG, "unexpected %s message from the receiver", app_tag_name(m.tag));
		return;
	}
	s->v = m;
	snprintf(s->vtext, sizeof(s->vtext), "%.*s", (int)m.len, (const char *)m.data);
	s->v.data = NULL;
	s->verdict = true;
	if (m.status)
		fail(s, m.status, "receiver failed: %s", s->vtext);
}

/* Drives the endpoint once (waiting up to timeout_ms) and handles events. */
static void pump(struct sender *s, int timeout_ms)
{
	struct rvmig_event ev;
	int rc = rvmig_progress(s->ep, timeout_ms);

	while (rvmig_event_next(s->ep, &ev) > 0) {
		switch (ev.type) {
		case RVMIG_EV_SEND_DONE:
			on_done(s, &ev);
			break;
		case RVMIG_EV_RECV_MSG:
			on_reply(s, &ev);
			rvmig_recv_release(s->ep, ev.token);
			break;
		case RVMIG_EV_PEER_CLOSED:
			s->peer_closed = true;
			if (!s->verdict)
				fail(s, -RVMIG_EPEER, "receiver %s closed the connection without a verdict",
				     rvmig_ep_peer(s->ep));
			break;
		case RVMIG_EV_ERROR:
			rc = ev.status;
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		fail(s, rc, "connection to %s failed after %llu acknowledged bytes: %s",
		     rvmig_ep_peer(s->ep), (unsigned long long)s->acked, rvmig_strerror(rc));
	if (stop_signal)
		fail(s, -EINTR, "interrupted by signal %d", (int)stop_signal);
	input_release(&s->in, s->acked);
	progress_update(&s->prog, s->acked);
}

/* ---- posting ---- */

static int track(struct sender *s, uint64_t end, uint64_t *seq)
{
	if (s->seq_next - s->seq_head == s->fl_cap) {
		uint64_t ncap = s->fl_cap ? s->fl_cap * 2 : 8192;
		struct inflight *n = calloc(ncap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (uint64_t q = s->seq_head; q < s->seq_next; q++)
			n[q & (ncap - 1)] = s->fl[q & (s->fl_cap - 1)];
		free(s->fl);
		s->fl = n;
		s->fl_cap = ncap;
	}
	*seq = s->seq_next;
	s->fl[*seq & (s->fl_cap - 1)] = (struct inflight){ .end = end };
	return 0;
}

/* Posts a message or bulk request, waiting out back-pressure. */
static void post(struct sender *s, enum pending_kind k, const void *msg, size_t len,
		 const struct in_seg *seg, uint64_t off, uint64_t end)
{
	uint64_t seq;
	int rc;

	if (s->err)
		return;
	if ((rc = track(s, end, &seq))) {
		fail(s, rc, "out of memory");
		return;
	}
	for (;;) {
		if (k == P_DATA)
			rc = rvmig_client_post(s->ep, s->in.bufs[seg->buf].mr, seg->off, seg->len, off,
					       seq);
		else
			rc = rvmig_client_send_msg(s->ep, msg, len, off, seq);
		if (rc != -EAGAIN)
			break;
		pump(s, 100);
		if (s->err)
			return;
	}
	if (rc) {
		fail(s, rc, "cannot post stream offset %llu: %s", (unsigned long long)off,
		     rvmig_strerror(rc));
		return;
	}
	s->seq_next++;
}

static void flush(struct sender *s)
{
	uint8_t z[32];

	switch (s->pk) {
	case P_NONE:
		return;
	case P_CTRL:
		post(s, P_CTRL, s->msg, s->msg_hdr + s->p_len, NULL, s->p_off, s->p_off + s->p_len);
		s->control_bytes += s->p_len;
		break;
	case P_DATA:
		post(s, P_DATA, NULL, 0, &s->p_seg, s->p_off, s->p_off + s->p_len);
		s->data_bytes += s->p_len;
		break;
	case P_ZERO:
		s->zero_pages += s->p_len / RVMIG_STREAM_PAGE_SIZE;
		post(s, P_ZERO, z, app_encode_zero(z, sizeof(z), s->p_len), NULL, s->p_off,
		     s->p_off + s->p_len);
		break;
	}
	s->pk = P_NONE;
	s->ztail = 0;
}

static bool extends(const struct sender *s, enum pending_kind k, uint64_t off)
{
	return s->pk == k && s->p_off + s->p_len == off;
}

static void add_ctrl(struct sender *s, uint64_t off, const uint8_t *data, size_t len)
{
	size_t room = s->msg_max - s->msg_hdr;

	while (len && !s->err) {
		size_t n;

		if (!extends(s, P_CTRL, off) || s->p_len == room) {
			flush(s);
			s->pk = P_CTRL;
			s->p_off = off;
			s->p_len = 0;
		}
		n = room - s->p_len < len ? room - s->p_len : len;
		memcpy(s->msg + s->msg_hdr + s->p_len, data, n);
		s->p_len += n;
		off += n;
		data += n;
		len -= n;
	}
}

static void add_zero(struct sender *s, uint64_t off, uint64_t len)
{
	if (!extends(s, P_ZERO, off)) {
		flush(s);
		s->pk = P_ZERO;
		s->p_off = off;
		s->p_len = 0;
	}
	s->p_len += len;
}

static void add_data(struct sender *s, uint64_t off, uint64_t len)
{
	struct in_seg seg[2];
	int n = input_locate(&s->in, off, len, seg);

	if (!n) {
		fail(s, -EFAULT, "stream offset %llu is not in the input buffers (internal error)",
		     (unsigned long long)off);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (extends(s, P_DATA, off) && s->p_seg.buf == seg[i].buf &&
		    s->p_seg.off + s->p_seg.len == seg[i].off && s->p_len + seg[i].len <= RUN_MAX) {
			s->p_len += seg[i].len;
			s->p_seg.len += seg[i].len;
		} else {
			flush(s);
			s->pk = P_DATA;
			s->p_off = off;
			s->p_len = seg[i].len;
			s->p_seg = seg[i];
		}
		off += seg[i].len;
	}
}

/*
 * A zero page that follows data is appended to the data run while the run's
 * zero tail is shorter than --zero-min-pages; once it is that long, the tail
 * is cut off the run and elided.  (Default 1: every zero page is elided.)
 */
static void zero_page(struct sender *s, uint64_t off, uint64_t len)
{
	if (s->zero_min <= len || !extends(s, P_DATA, off)) {
		add_zero(s, off, len);
		return;
	}
	add_data(s, off, len);
	s->ztail = s->ztail + len < s->p_len ? s->ztail + len : s->p_len;
	if (s->ztail < s->zero_min)
		return;
	if (s->ztail == s->p_len) {
		s->pk = P_ZERO;
	} else {
		uint64_t z = s->ztail, end = s->p_off + s->p_len;

		s->p_len -= z;
		s->p_seg.len -= (size_t)z;
		flush(s);
		s->pk = P_ZERO;
		s->p_off = end - z;
		s->p_len = z;
	}
	s->ztail = 0;
}

static void handle_item(struct sender *s, const struct rvmig_stream_item *it)
{
	EVP_DigestUpdate(s->sha, it->data, it->len);
	if (it->kind == RVMIG_STREAM_ITEM_PAGE) {
		s->pages++;
		if (it->flags & RVMIG_STREAM_F_ZERO) {
			zero_page(s, it->offset, it->len);
		} else {
			add_data(s, it->offset, it->len);
			s->ztail = 0;
		}
	} else {
		add_ctrl(s, it->offset, it->data, it->len);
	}
	/* Keep a mapped file from being parsed (touched) far ahead of what the
	 * transport has finished with: bounds the resident set. */
	while (s->in.mapped && !s->err && it->offset > s->acked + LOOKAHEAD)
		pump(s, 100);
}

/* Hands on the bytes [b->fed, b->filled) of the current buffer. */
static void process(struct sender *s)
{
	struct in_buf *b = &s->in.bufs[s->in.cur];
	uint64_t off = b->stream_base + b->fed;
	size_t len = b->filled - b->fed;

	if (!len)
		return;
	b->fed = b->filled;
	if (s->o->raw) {
		while (len && !s->err) {
			size_t n = len < RUN_MAX ? len : RUN_MAX;

			while (s->in.mapped && !s->err && off > s->acked + LOOKAHEAD)
				pump(s, 100);
			EVP_DigestUpdate(s->sha, b->base + (off - b->stream_base), n);
			add_data(s, off, n);
			flush(s);
			off += n;
			len -= n;
		}
		return;
	}
	{
		struct rvmig_stream_item it = { .size = sizeof(it) };
		int rc = rvmig_stream_feed(s->parser, b->base + (off - b->stream_base), len);

		while (rc == 0 && !s->err && (rc = rvmig_stream_next(s->parser, &it)) == 1) {
			handle_item(s, &it);
			rc = 0;
		}
		if (rc < 0)
			fail(s, rc, "%s is not a valid Xen save stream: %s", s->in.name,
			     rvmig_stream_error(s->parser));
	}
}

/* Reads a pipe into the ring, handing on data as it comes. */
static void run_pipe(struct sender *s)
{
	while (!s->err) {
		struct in_buf *b = &s->in.bufs[s->in.cur];
		struct pollfd pf[2] = { { .fd = s->in.fd, .events = POLLIN },
					{ .fd = rvmig_ep_fd(s->ep), .events = POLLIN } };
		ssize_t n;

		if (s->in.eof) {
			process(s);
			break;
		}
		if (b->filled == b->cap) {
			process(s);
			while (!s->err && !input_next_buf(&s->in, s->acked)) {
				flush(s); /* a run may still point into the buffer */
				pump(s, 100);
			}
			continue;
		}
		if (poll(pf, 2, b->fed < b->filled ? 0 : 100) < 0 && errno != EINTR) {
			fail(s, -errno, "poll: %s", strerror(errno));
			break;
		}
		if (pf[0].revents) {
			n = input_read(&s->in);
			if (n < 0 && n != -EAGAIN)
				fail(s, (int)n, "cannot read %s: %s", s->in.name, strerror((int)-n));
		} else {
			/* Input idle: hand on what we have. */
			process(s);
			flush(s);
		}
		pump(s, 0);
	}
}

static void run_mapped(struct sender *s)
{
	struct in_buf *b = &s->in.bufs[0];

	b->fed = 0;
	process(s);
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
	uint8_t sha[32], m[128];
	unsigned int hl = 32;
	uint64_t total = s->in.read_total;

	if (s->parser && !s->err && rvmig_stream_finish(s->parser) < 0)
		fail(s, -RVMIG_ESTREAM, "%s is not a valid Xen save stream: %s", s->in.name,
		     rvmig_stream_error(s->parser));
	flush(s);
	if (s->err)
		return s->err;
	EVP_DigestFinal_ex(s->sha, sha, &hl);
	post(s, P_CTRL, m, app_encode_end(m, sizeof(m), total, sha, s->pages, s->zero_pages), NULL,
	     total, total);
	while (!s->err && rvmig_client_pending(s->ep))
		pump(s, 200);
	while (!s->err && !s->verdict)
		pump(s, 200);
	if (s->err)
		return s->err;
	if (s->v.n != total || memcmp(s->v.sha256, sha, 32)) {
		fail(s, -RVMIG_EINTEGRITY, "receiver reports %llu bytes with another SHA-256 than sent (%llu bytes)",
		     (unsigned long long)s->v.n, (unsigned long long)total);
		return s->err;
	}
	memcpy(s->v.sha256, sha, 32);
	return 0;
}

static void abort_transfer(struct sender *s)
{
	uint8_t m[1024];
	size_t n;

	if (!s->ep || s->err == -RVMIG_EPEER || s->peer_closed)
		return;
	rvmig_client_cancel(s->ep);
	n = app_encode_abort(m, s->msg_max < sizeof(m) ? s->msg_max : sizeof(m), s->err, s->errtxt);
	for (int tries = 0; tries < 50; tries++) {
		int rc = rvmig_client_send_msg(s->ep, m, n, s->in.read_total, UINT64_MAX);

		if (rc != -EAGAIN)
			break;
		if (rvmig_progress(s->ep, 100) < 0)
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
	struct sender s = { .o = &o, .zero_min = RVMIG_STREAM_PAGE_SIZE };
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
			s.zero_min = v * RVMIG_STREAM_PAGE_SIZE;
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
	s.sha = EVP_MD_CTX_new();
	s.msg_max = rvmig_msg_max();
	s.msg = malloc(s.msg_max);
	if (!s.sha || !s.msg || !EVP_DigestInit_ex(s.sha, EVP_sha256(), NULL)) {
		rc = -ENOMEM;
		tool_err("out of memory");
		goto out;
	}
	s.msg_hdr = app_encode_ctrl_hdr(s.msg, s.msg_max);
	if ((rc = tool_ctx_create(&o, &ctx)))
		goto out;
	tool_ep_attr(&o, &attr);
	rc = rvmig_connect(ctx, uri, &attr, &s.ep);
	if (rc) {
		tool_err("cannot connect to %s: %s", uri, rvmig_strerror(rc));
		goto out;
	}
	rep.transport = rvmig_ep_transport(s.ep);
	rep.peer = rvmig_ep_peer(s.ep);
	rep.mode = rvmig_ep_mode(s.ep);
	tool_debug("connected to %s over %s (%s), input %s%s", rep.peer, rep.transport,
		   tool_mode_name(rep.mode), s.in.name, s.in.mapped ? " (mapped)" : " (pipe ring)");
	rc = input_register(&s.in, s.ep,
			    rep.mode == RVMIG_MODE_PULL ? RVMIG_MR_REMOTE_READ : RVMIG_MR_LOCAL);
	if (rc)
		goto out;
	t0 = tool_now();
	progress_init(&s.prog, o.verbosity >= 0, s.in.size_known ? s.in.size : 0);
	{
		uint8_t m[64];

		post(&s, P_CTRL, m,
		     app_encode_hello(m, sizeof(m),
				      (o.raw ? APP_F_RAW : 0) | (s.in.size_known ? APP_F_SIZE : 0),
				      s.in.size_known ? s.in.size : 0),
		     NULL, 0, 0);
	}
	if (s.in.mapped)
		run_mapped(&s);
	else
		run_pipe(&s);
	rc = finish(&s);
	progress_end(&s.prog);
	rep.seconds = tool_now() - t0;
	if (rc)
		abort_transfer(&s);
	rvmig_stats_snapshot(s.ep, &lst);
out:
	if (rc && s.err)
		tool_err("%s", s.errtxt);
	rep.status = rc;
	rep.raw = o.raw;
	rep.links = o.links ? o.links : 2;
	rep.bytes = s.in.read_total;
	rep.pages = s.pages;
	rep.zero_pages = s.zero_pages;
	rep.control_bytes = s.control_bytes;
	rep.data_bytes = s.data_bytes;
	rep.lib = lst;
	if (!rc) {
		memcpy(rep.sha256, s.v.sha256, 32);
		rep.sha_valid = true;
	}
	if (s.parser) {
		struct rvmig_stream_stats st = { .size = sizeof(st) };

		rvmig_stream_get_stats(s.parser, &st);
		for (unsigned i = 0; i < RVMIG_LIBXL_REC_NTYPES; i++)
			rep.records += st.libxl_records[i];
		for (unsigned i = 0; i < RVMIG_LIBXC_REC_NTYPES; i++)
			rep.records += st.libxc_records[i];
		rep.records += st.libxl_optional_records + st.libxc_optional_records;
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
	if (s.ep)
		rvmig_ep_close(s.ep);
	input_close(&s.in);
	rvmig_stream_parser_destroy(s.parser);
	EVP_MD_CTX_free(s.sha);
	free(s.msg);
	free(s.fl);
	rvmig_ctx_destroy(ctx);
	return rc ? 1 : 0;
}
