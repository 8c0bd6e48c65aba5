/* SPDX-License-Identifier: MIT */
/*
 * The sending pipeline (librvmig/xstream/sendpipe.h, shared by rvmig-send and
 * rvmig-tunnel) tested alone before it moves into the library (issue 18):
 * what a parsed Xen stream becomes on the wire.  A real TCP endpoint pair on
 * 127.0.0.1 (a receiver thread logs every piece: bulk data, CTRL, ZERO);
 * the input is a generated Xen stream in a file read into a ring of two
 * 1 MiB buffers (librvmig/xstream/input.h), so pages straddle buffers.
 * Checked: the pieces tile the stream in order; bulk data is whole page
 * payloads; zero pages go as ZERO runs (zero_min one page) or, with zero_min
 * two pages, a lone zero page after data rides inside the data;
 * CTRL pieces fit a message; a resumed pipe (sendpipe_resume_at) sends
 * nothing below the offset and starts exactly there; the digest covers the
 * whole stream either way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "xstream/msg.h"
#include "xstream/sendpipe.h"
#include "xstream/input.h"
#include "streamgen.h"

enum piece_kind { P_DATA, P_CTRL, P_ZERO };

struct piece {
	enum piece_kind kind;
	uint64_t off, len;
	bool all_zero;
};

struct rx {
	rvmig_listener *l;
	struct piece *p;
	size_t n, cap;
	char err[256];
};

static bool is_zero(const uint8_t *b, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Logs a piece; bulk data comes in transport chunks (slot sized), so
 * adjacent data pieces are merged into one run. */
static void logp(struct rx *rx, enum piece_kind k, uint64_t off, uint64_t len, bool z)
{
	struct piece *last = rx->n ? &rx->p[rx->n - 1] : NULL;

	if (k == P_DATA && last && last->kind == P_DATA && last->off + last->len == off) {
		last->len += len;
		last->all_zero = last->all_zero && z;
		return;
	}
	if (rx->n == rx->cap) {
		rx->cap = rx->cap ? 2 * rx->cap : 1024;
		rx->p = realloc(rx->p, rx->cap * sizeof(*rx->p));
	}
	rx->p[rx->n++] = (struct piece){ k, off, len, z };
}

/* Accepts one endpoint and logs what arrives until END or the peer closes. */
static void *receiver(void *arg)
{
	struct rx *rx = arg;
	rvmig_ep *ep;
	bool end = false;
	int rc = rvmig_accept(rx->l, 20000, &ep);

	if (rc) {
		snprintf(rx->err, sizeof(rx->err), "accept: %s", rvmig_strerror(rc));
		return NULL;
	}
	while (!end && !rx->err[0]) {
		struct rvmig_event ev;

		rc = rvmig_progress(ep, 100);
		if (rc < 0) {
			snprintf(rx->err, sizeof(rx->err), "progress: %s", rvmig_strerror(rc));
			break;
		}
		while (rvmig_event_next(ep, &ev) > 0) {
			struct rvmig_xmsg m;
			const char *why = "";

			if (ev.type == RVMIG_EV_RECV_DATA) {
				logp(rx, P_DATA, ev.stream_off, ev.len, is_zero(ev.data, ev.len));
			} else if (ev.type == RVMIG_EV_RECV_MSG) {
				if (rvmig_xmsg_decode(ev.data, ev.len, &m, &why)) {
					snprintf(rx->err, sizeof(rx->err), "bad message: %s", why);
				} else if (m.tag == RVMIG_XMSG_CTRL) {
					logp(rx, P_CTRL, ev.stream_off, m.len, is_zero(m.data, m.len));
				} else if (m.tag == RVMIG_XMSG_ZERO) {
					logp(rx, P_ZERO, ev.stream_off, m.n, true);
				} else if (m.tag == RVMIG_XMSG_END) {
					end = true;
				}
			} else if (ev.type == RVMIG_EV_PEER_CLOSED) {
				end = true;
			}
			if (ev.type == RVMIG_EV_RECV_DATA || ev.type == RVMIG_EV_RECV_MSG)
				rvmig_recv_release(ep, ev.token);
		}
	}
	rvmig_ep_close(ep);
	return NULL;
}

static void on_event(struct sendpipe *sp, const struct rvmig_event *ev)
{
	(void)sp;
	(void)ev;
}

struct run {
	uint64_t zero_min, resume;
	struct rx rx;
	struct sendpipe sp;
	uint8_t digest[RVMIG_DIGEST_LEN];
};

/* The parser (the pipe's `arg`) turns what was read into items. */
static void feed(struct sendpipe *sp, uint64_t off, const uint8_t *data, size_t len)
{
	rvmig_stream_parser *parser = sp->arg;
	struct rvmig_stream_item it = { .size = sizeof(it) };
	int rc = rvmig_stream_feed(parser, data, len);

	(void)off;
	while (rc == 0 && !sp->err && (rc = rvmig_stream_next(parser, &it)) == 1) {
		sendpipe_item(sp, &it);
		rc = 0;
	}
	cr_assert_geq(rc, 0, "%s", rvmig_stream_error(parser));
}

/* Sends the file at `path` (a Xen stream of `len` bytes) through a sendpipe
 * and logs what arrives in r->rx. */
static void send_file(const char *path, struct run *r)
{
	struct rvmig_stream_attr pa = { .size = sizeof(pa), .start = RVMIG_STREAM_LAYER_AUTO };
	struct send_input in;
	rvmig_stream_parser *parser;
	rvmig_ctx *ctx;
	rvmig_ep *ep;
	pthread_t th;
	char uri[64];
	uint8_t m[128];

	cr_assert_eq(rvmig_ctx_create(NULL, &ctx), 0);
	cr_assert_eq(rvmig_listen(ctx, "tcp://127.0.0.1:0", NULL, &r->rx.l), 0);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", rvmig_listener_port(r->rx.l));
	cr_assert_eq(pthread_create(&th, NULL, receiver, &r->rx), 0);
	cr_assert_eq(rvmig_connect(ctx, uri, NULL, &ep), 0);

	cr_assert_eq(input_open(&in, path, 2, 1 << 20), 0);
	cr_assert(in.file);
	cr_assert_eq(rvmig_stream_parser_create(&pa, &parser), 0);
	cr_assert_eq(sendpipe_init(&r->sp, &in, r->zero_min, RVMIG_DIGEST_XXH128, true, on_event,
				   parser),
		     0);
	sendpipe_attach(&r->sp, ep);
	cr_assert_eq(input_register(&in, ep, RVMIG_MR_LOCAL), 0);
	if (r->resume)
		sendpipe_resume_at(&r->sp, r->resume);
	sendpipe_run(&r->sp, feed);
	cr_assert_eq(r->sp.err, 0, "%s", r->sp.errtxt);
	cr_assert(in.eof);
	cr_assert_eq(in.read_total, in.size);
	cr_assert_eq(rvmig_stream_finish(parser), 0, "%s", rvmig_stream_error(parser));
	sendpipe_flush(&r->sp);
	sendpipe_digest(&r->sp, r->digest);
	sendpipe_msg(&r->sp, m, rvmig_xmsg_encode_end(m, sizeof(m), in.size, r->digest, 0, 0), in.size);
	sendpipe_drain(&r->sp);
	cr_assert_eq(r->sp.err, 0, "%s", r->sp.errtxt);
	pthread_join(th, NULL);
	cr_assert_str_empty(r->rx.err, "%s", r->rx.err);

	rvmig_stream_parser_destroy(parser);
	input_unregister(&in, ep);
	rvmig_ep_close(ep);
	sendpipe_fini(&r->sp);
	input_close(&in);
	rvmig_listener_close(r->rx.l);
	rvmig_ctx_destroy(ctx);
}

static char path[64];
static struct streamgen_buf sb;
static struct streamgen_expect se;

static void make_stream(void)
{
	struct streamgen_opts o = { .nr_pfns = 3000, .seed = 31, .batch = 512, .live_rounds = 1 };
	FILE *f;
	int fd;

	cr_assert_eq(streamgen_build(&o, &sb, &se), 0);
	snprintf(path, sizeof(path), "/tmp/rvmig-sendpipe-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "wb");
	cr_assert_eq(fwrite(sb.data, 1, sb.len, f), sb.len);
	cr_assert_eq(fclose(f), 0);
}

static void drop_stream(void)
{
	unlink(path);
	streamgen_expect_free(&se);
	streamgen_buf_free(&sb);
}

TestSuite(sendpipe, .init = make_stream, .fini = drop_stream, .timeout = 120);

/* The pieces tile [from, sb.len) in order. */
static void check_tiling(const struct rx *rx, uint64_t from)
{
	uint64_t at = from;

	cr_assert_gt(rx->n, 0);
	for (size_t i = 0; i < rx->n; i++) {
		cr_assert_eq(rx->p[i].off, at, "piece %zu (kind %d) at %llu, expected %llu", i,
			     rx->p[i].kind, (unsigned long long)rx->p[i].off, (unsigned long long)at);
		cr_assert_gt(rx->p[i].len, 0);
		at += rx->p[i].len;
	}
	cr_assert_eq(at, sb.len);
}

Test(sendpipe, pages_zero_copy_zero_runs_elided)
{
	struct run r = { .zero_min = RVMIG_STREAM_PAGE_SIZE };
	uint64_t zero = 0, data = 0;
	uint8_t d[RVMIG_DIGEST_LEN];

	send_file(path, &r);
	check_tiling(&r.rx, 0);
	for (size_t i = 0; i < r.rx.n; i++) {
		const struct piece *p = &r.rx.p[i];

		switch (p->kind) {
		case P_DATA:
			cr_assert_eq(p->len % RVMIG_STREAM_PAGE_SIZE, 0, "data run of %llu bytes",
				     (unsigned long long)p->len);
			/* zero_min one page: no whole zero page inside data */
			for (uint64_t o = 0; o < p->len; o += RVMIG_STREAM_PAGE_SIZE)
				cr_assert(!is_zero(sb.data + p->off + o, RVMIG_STREAM_PAGE_SIZE),
					  "zero page at %llu sent as data",
					  (unsigned long long)(p->off + o));
			data += p->len;
			break;
		case P_ZERO:
			cr_assert_eq(p->len % RVMIG_STREAM_PAGE_SIZE, 0);
			cr_assert(is_zero(sb.data + p->off, p->len));
			zero += p->len;
			break;
		case P_CTRL:
			cr_assert_leq(p->len, rvmig_msg_max() - RVMIG_XMSG_HDR_LEN);
			break;
		}
	}
	cr_assert_eq(zero / RVMIG_STREAM_PAGE_SIZE, se.zero_pages);
	cr_assert_eq((data + zero) / RVMIG_STREAM_PAGE_SIZE, se.pages);
	cr_assert_eq(r.sp.zero_pages, se.zero_pages);
	cr_assert_eq(r.sp.pages, se.pages);
	cr_assert_eq(rvmig_digest_buf(RVMIG_DIGEST_XXH128, sb.data, sb.len, d), 0);
	cr_assert_arr_eq(r.digest, d, 32);
	free(r.rx.p);
}

Test(sendpipe, zero_min_two_pages_keeps_lone_zero_pages_in_data)
{
	struct run one = { .zero_min = RVMIG_STREAM_PAGE_SIZE };
	struct run two = { .zero_min = 2 * RVMIG_STREAM_PAGE_SIZE };
	size_t zero_in_data = 0;

	send_file(path, &one);
	send_file(path, &two);
	check_tiling(&two.rx, 0);
	for (size_t i = 0; i < two.rx.n; i++) {
		const struct piece *p = &two.rx.p[i];

		/* a shorter zero run is elided only where it does not follow
		 * data (first pages of a record) */
		if (p->kind == P_ZERO && p->len < 2 * RVMIG_STREAM_PAGE_SIZE)
			cr_assert(i && two.rx.p[i - 1].kind == P_CTRL,
				  "a one-page ZERO run after data at %llu", (unsigned long long)p->off);
		if (p->kind == P_DATA)
			for (uint64_t o = 0; o < p->len; o += RVMIG_STREAM_PAGE_SIZE)
				zero_in_data += is_zero(sb.data + p->off + o, RVMIG_STREAM_PAGE_SIZE);
	}
	cr_assert_gt(zero_in_data, 0, "the stream has no lone zero page (nothing tested)");
	cr_assert_lt(two.sp.zero_pages, one.sp.zero_pages);
	cr_assert_eq(two.sp.zero_pages + zero_in_data, one.sp.zero_pages);
	cr_assert_arr_eq(one.digest, two.digest, 32);
	free(one.rx.p);
	free(two.rx.p);
}

Test(sendpipe, resume_sends_from_the_offset_on)
{
	struct run full = { .zero_min = RVMIG_STREAM_PAGE_SIZE };
	uint64_t offs[3];

	send_file(path, &full);
	/* inside a CTRL piece, inside a data piece, and just past the middle */
	offs[0] = full.rx.p[0].len / 2;
	offs[2] = sb.len / 2 + 1;
	offs[1] = 0;
	for (size_t i = 0; i < full.rx.n && !offs[1]; i++)
		if (full.rx.p[i].kind == P_DATA && full.rx.p[i].len > 4096)
			offs[1] = full.rx.p[i].off + 4096 + 100;
	cr_assert_neq(offs[1], 0);
	for (int k = 0; k < 3; k++) {
		struct run r = { .zero_min = RVMIG_STREAM_PAGE_SIZE, .resume = offs[k] };

		send_file(path, &r);
		check_tiling(&r.rx, offs[k]);
		cr_assert_arr_eq(r.digest, full.digest, 32, "the digest covers the skipped prefix");
		free(r.rx.p);
	}
	free(full.rx.p);
}
