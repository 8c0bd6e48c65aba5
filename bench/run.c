/* SPDX-License-Identifier: MIT */
/*
 * run.c - the client (source) and server (receiver) loops of the rvmig
 * benchmarks and their in-band BEGIN / END / REPORT exchange (harness.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"

#define MiB (1024ull * 1024ull)

/* Cookie spaces: timed requests use their index, the rest carry a tag. */
#define CK_WARM (1ull << 62)
#define CK_CTL (1ull << 63)

static rvmig_ctx *new_ctx(const struct bench_opts *o)
{
	struct rvmig_ctx_attr a = { .size = sizeof(a),
				    .logger = { .fn = rvmig_log_stderr,
						.max_level = (enum rvmig_log_level)o->log_level } };
	rvmig_ctx *ctx = NULL;
	int rc = rvmig_ctx_create(&a, &ctx);

	if (rc) {
		fprintf(stderr, "rvmig-bench: rvmig_ctx_create: %s\n", rvmig_strerror(rc));
		return NULL;
	}
	return ctx;
}

static void ep_attr(const struct bench_opts *o, struct rvmig_ep_attr *a)
{
	*a = (struct rvmig_ep_attr){
		.size = sizeof(*a),
		.mode = o->mode,
		.flags = o->pin_all ? RVMIG_EP_PIN_ALL : 0,
		.nlinks = o->qps,
		.slot_size = o->slot_size,
		.nslots = o->nslots,
		.window = o->window,
		.max_posted = o->max_posted,
		.timeout_ms = o->timeout_ms,
	};
}

/* Verbs registration pins memory: lift RLIMIT_MEMLOCK when allowed (root),
 * otherwise leave it and let rvmig_mr_reg() say how much is needed. */
static void raise_memlock(void)
{
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };

	(void)setrlimit(RLIMIT_MEMLOCK, &r);
}

/* ================================ client ================================ */

struct client {
	const struct bench_opts *o;
	rvmig_ep *ep;
	rvmig_mr *mr;
	uint8_t *buf;
	uint64_t buf_len;
	uint64_t stream_off;
	uint64_t *t_post, *lat;  /* per timed request */
	uint64_t done, warm_done, ctl_done, t_last;
	uint64_t progress_calls, progress_empty;
	int error;
	const char *error_what;
	bool have_report;
	struct bench_report report;
};

static void client_fail(struct client *c, int err, const char *what)
{
	if (!c->error) {
		c->error = err;
		c->error_what = what;
	}
}

static void client_event(struct client *c, const struct rvmig_event *ev, uint64_t now)
{
	switch (ev->type) {
	case RVMIG_EV_SEND_DONE:
		if (ev->status)
			client_fail(c, ev->status, "a request completed with an error");
		if (ev->cookie & CK_CTL) {
			c->ctl_done++;
		} else if (ev->cookie & CK_WARM) {
			c->warm_done++;
		} else {
			c->lat[ev->cookie] = now - c->t_post[ev->cookie];
			c->done++;
			c->t_last = now;
		}
		break;
	case RVMIG_EV_RECV_MSG:
		if (ev->len != sizeof(c->report)) {
			client_fail(c, -RVMIG_EBADMSG, "the server's report has the wrong size");
		} else {
			memcpy(&c->report, ev->data, sizeof(c->report));
			if (c->report.magic != BENCH_MAGIC ||
			    c->report.version != BENCH_WIRE_VERSION ||
			    c->report.nstats != RVMIG_STAT__COUNT)
				client_fail(c, -RVMIG_EBADMSG,
					    "the server's report is from another rvmig-bench");
			else
				c->have_report = true;
		}
		rvmig_recv_release(c->ep, ev->token);
		break;
	case RVMIG_EV_RECV_DATA:
		rvmig_recv_release(c->ep, ev->token);
		break;
	case RVMIG_EV_PEER_CLOSED:
		client_fail(c, -RVMIG_EPEER, "the server closed the connection early");
		break;
	case RVMIG_EV_ERROR:
		client_fail(c, ev->status ? ev->status : -RVMIG_EPEER, "the endpoint failed");
		break;
	}
}

/* One rvmig_progress() round plus its events.  Returns the first error. */
static int client_pump(struct client *c, int timeout_ms)
{
	struct rvmig_event ev;
	uint64_t now;
	int rc = rvmig_progress(c->ep, c->o->busy_poll ? 0 : timeout_ms);

	now = bench_now_ns();
	c->progress_calls++;
	if (rc == 0)
		c->progress_empty++;
	while (rvmig_event_next(c->ep, &ev) > 0)
		client_event(c, &ev, now);
	if (rc < 0)
		client_fail(c, rc, "rvmig_progress");
	return c->error;
}

static int client_ctl(struct client *c, uint32_t type, uint64_t size, uint64_t iters)
{
	struct bench_ctl m = { .magic = BENCH_MAGIC, .version = BENCH_WIRE_VERSION,
			       .type = type, .size = size, .iters = iters };
	int rc;

	while ((rc = rvmig_client_send_msg(c->ep, &m, sizeof(m), c->stream_off, CK_CTL | type)) ==
	       -EAGAIN)
		if (client_pump(c, 100))
			return c->error;
	if (rc)
		client_fail(c, rc, "rvmig_client_send_msg");
	else
		c->stream_off += sizeof(m);
	return c->error;
}

/* Posts request `i` of `size` bytes; the buffer is walked round-robin. */
static int client_post(struct client *c, uint64_t size, uint64_t i, uint64_t cookie)
{
	uint64_t span = c->buf_len / size * size;
	uint64_t off = (i * size) % span;
	int rc = rvmig_client_post(c->ep, c->mr, off, size, c->stream_off, cookie);

	if (!rc)
		c->stream_off += size;
	return rc;
}

static uint32_t auto_depth(const struct bench_opts *o, uint64_t size)
{
	uint64_t window = o->window ? o->window : 8 * MiB; /* the library default */
	uint64_t maxp = o->max_posted ? o->max_posted : 4096;
	uint64_t d = o->depth ? o->depth : 2 * window / size;

	if (!o->depth && d < 4)
		d = 4;
	return (uint32_t)(d > maxp ? maxp : d);
}

static uint64_t iters_for(const struct bench_opts *o, uint64_t size)
{
	if (o->total)
		return o->total / size ? o->total / size : 1;
	return o->iters;
}

static int client_size(struct client *c, uint64_t size, struct bench_result *r)
{
	const struct bench_opts *o = c->o;
	uint64_t iters = iters_for(o, size), depth = auto_depth(o, size);
	uint64_t posted = 0, t0;
	struct bench_cpu_mark m0, m1;
	struct bench_libstats s0, s1;
	int rc;

	/* Warm-up: connection, registration cache and slots, untimed. */
	c->warm_done = 0;
	for (uint64_t w = 0; w < o->warmup || c->warm_done < o->warmup;) {
		while (w < o->warmup && w - c->warm_done < depth) {
			rc = client_post(c, size, w, CK_WARM | w);
			if (rc == -EAGAIN)
				break;
			if (rc) {
				client_fail(c, rc, "rvmig_client_post (warm-up)");
				return c->error;
			}
			w++;
		}
		if (c->warm_done < o->warmup && client_pump(c, c->o->wait_ms))
			return c->error;
	}

	c->done = 0;
	c->have_report = false;
	if (client_ctl(c, BENCH_CTL_BEGIN, size, iters))
		return c->error;
	if ((rc = bench_libstats_take(c->ep, &s0))) {
		client_fail(c, rc, "rvmig_stats_snapshot");
		return c->error;
	}
	bench_cpu_mark(&m0);
	c->progress_calls = c->progress_empty = 0;
	t0 = bench_now_ns();
	c->t_last = t0;
	while (c->done < iters) {
		while (posted < iters && posted - c->done < depth) {
			uint64_t t = bench_now_ns();

			rc = client_post(c, size, posted, posted);
			if (rc == -EAGAIN)
				break;
			if (rc) {
				client_fail(c, rc, "rvmig_client_post");
				return c->error;
			}
			c->t_post[posted++] = t;
		}
		if (client_pump(c, c->o->wait_ms))
			return c->error;
	}
	bench_cpu_mark(&m1);
	r->progress_calls = c->progress_calls;
	r->progress_empty = c->progress_empty;
	if ((rc = bench_libstats_take(c->ep, &s1))) {
		client_fail(c, rc, "rvmig_stats_snapshot");
		return c->error;
	}
	if (client_ctl(c, BENCH_CTL_END, size, iters))
		return c->error;
	while (!c->have_report)
		if (client_pump(c, c->o->wait_ms))
			return c->error;

	r->size = size;
	r->iters = iters;
	r->bytes = size * iters;
	r->seconds = (double)(c->t_last - t0) / 1e9;
	if (r->seconds <= 0)
		r->seconds = 1e-9;
	r->gbit_s = (double)r->bytes * 8 / r->seconds / 1e9;
	r->msg_s = (double)iters / r->seconds;
	r->lat_p50_us = (double)bench_percentile(c->lat, iters, 50) / 1e3;
	r->lat_p99_us = (double)bench_percentile(c->lat, iters, 99) / 1e3;
	r->lat_max_us = (double)c->lat[iters - 1] / 1e3; /* sorted by bench_percentile */
	bench_cpu_delta(&m0, &m1, &r->cpu_client);
	bench_libstats_delta(&s0, &s1, &r->stats_client);
	r->have_server = true;
	r->server = c->report;
	if (c->report.status) {
		client_fail(c, c->report.status, "the server reported an error");
		return c->error;
	}
	if (c->report.bytes != r->bytes) {
		fprintf(stderr, "rvmig-bench: size %llu: the server received %llu bytes, "
				"the client sent %llu\n", (unsigned long long)size,
			(unsigned long long)c->report.bytes, (unsigned long long)r->bytes);
		client_fail(c, -RVMIG_EINTEGRITY, "byte count mismatch");
		return c->error;
	}
	return 0;
}

int bench_client(const struct bench_opts *o, const char *uri, struct bench_result *res,
		 unsigned *nres)
{
	struct client c = { .o = o };
	struct rvmig_ep_attr a;
	rvmig_ctx *ctx;
	uint64_t max_size = 0, max_iters = 0;
	int rc;

	*nres = 0;
	for (unsigned i = 0; i < o->nsizes; i++) {
		if (o->sizes[i] > max_size)
			max_size = o->sizes[i];
		if (iters_for(o, o->sizes[i]) > max_iters)
			max_iters = iters_for(o, o->sizes[i]);
	}
	c.buf_len = o->buf_size ? o->buf_size : (max_size > 16 * MiB ? max_size : 16 * MiB);
	if (c.buf_len < max_size) {
		fprintf(stderr, "rvmig-bench: --buf %llu is smaller than the largest size %llu\n",
			(unsigned long long)c.buf_len, (unsigned long long)max_size);
		return -EINVAL;
	}
	c.buf_len = (c.buf_len + 4095) & ~4095ull;
	c.buf = aligned_alloc(4096, c.buf_len);
	c.t_post = calloc(max_iters, sizeof(uint64_t));
	c.lat = calloc(max_iters, sizeof(uint64_t));
	ctx = new_ctx(o);
	if (!c.buf || !c.t_post || !c.lat || !ctx) {
		fprintf(stderr, "rvmig-bench: out of memory (buffer %llu bytes, %llu iterations)\n",
			(unsigned long long)c.buf_len, (unsigned long long)max_iters);
		rc = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < c.buf_len; i++) /* fault every page in, not all zero */
		c.buf[i] = (uint8_t)(i * 131 + 7);
	raise_memlock();
	ep_attr(o, &a);
	if (!o->json)
		bench_print_header(stdout, o, "client", uri);
	rc = rvmig_connect(ctx, uri, &a, &c.ep);
	if (rc) {
		fprintf(stderr, "rvmig-bench: connect to %s: %s\n", uri, rvmig_strerror(rc));
		goto out;
	}
	rc = rvmig_mr_reg(c.ep, c.buf, c.buf_len,
			  o->mode == RVMIG_MODE_PULL ? RVMIG_MR_REMOTE_READ : RVMIG_MR_LOCAL, &c.mr);
	if (rc) {
		fprintf(stderr, "rvmig-bench: rvmig_mr_reg(%llu bytes): %s\n",
			(unsigned long long)c.buf_len, rvmig_strerror(rc));
		goto out;
	}
	for (unsigned i = 0; i < o->nsizes; i++) {
		rc = client_size(&c, o->sizes[i], &res[i]);
		if (rc) {
			fprintf(stderr, "rvmig-bench: size %llu over %s (%s): %s: %s\n",
				(unsigned long long)o->sizes[i], uri,
				o->mode == RVMIG_MODE_PULL ? "pull" : "push",
				c.error_what ? c.error_what : "failed", rvmig_strerror(rc));
			break;
		}
		if (!o->json) {
			bench_print_row(stdout, &res[i]);
			fflush(stdout);
		}
		(*nres)++;
	}
	/* Everything posted has completed; the control messages too. */
	while (!rc && rvmig_client_pending(c.ep))
		if ((rc = client_pump(&c, 1000)))
			fprintf(stderr, "rvmig-bench: draining: %s\n", rvmig_strerror(rc));
out:
	if (c.mr && !rc) {
		int drc = rvmig_mr_dereg(c.mr);

		if (drc)
			fprintf(stderr, "rvmig-bench: rvmig_mr_dereg: %s\n", rvmig_strerror(drc));
	}
	if (c.ep)
		rvmig_ep_close(c.ep);
	if (ctx)
		rvmig_ctx_destroy(ctx);
	free(c.buf);
	free(c.t_post);
	free(c.lat);
	return rc;
}

/* ================================ server ================================ */

static int write_ready_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", port);
	if (fclose(f) || rename(tmp, path)) {
		int e = -errno;

		unlink(tmp);
		return e;
	}
	return 0;
}

struct server {
	const struct bench_opts *o;
	rvmig_ep *ep;
	bool in_phase, closed;
	uint64_t size, iters;
	struct bench_cpu_mark m0;
	struct bench_libstats s0;
	struct bench_report rep;
	int error;
	bool quiet;
};

static int server_reply(struct server *s)
{
	int rc;

	/* Progress to get a control credit; events wait in the queue meanwhile. */
	while ((rc = rvmig_reply_msg(s->ep, &s->rep, sizeof(s->rep))) == -EAGAIN) {
		int prc = rvmig_progress(s->ep, 100);

		if (prc < 0)
			return prc;
	}
	return rc;
}

static int server_ctl(struct server *s, const struct rvmig_event *ev)
{
	struct bench_ctl m;
	struct bench_cpu_mark m1;
	struct bench_libstats s1;
	int rc;

	if (ev->len != sizeof(m)) {
		fprintf(stderr, "rvmig-bench: server: unexpected %llu-byte message\n",
			(unsigned long long)ev->len);
		return -RVMIG_EBADMSG;
	}
	memcpy(&m, ev->data, sizeof(m));
	if (m.magic != BENCH_MAGIC || m.version != BENCH_WIRE_VERSION) {
		fprintf(stderr, "rvmig-bench: server: the client is another rvmig-bench version\n");
		return -RVMIG_EBADMSG;
	}
	switch (m.type) {
	case BENCH_CTL_BEGIN:
		s->size = m.size;
		s->iters = m.iters;
		s->rep = (struct bench_report){ .magic = BENCH_MAGIC, .version = BENCH_WIRE_VERSION,
						.nstats = RVMIG_STAT__COUNT };
		s->rep.status = bench_libstats_take(s->ep, &s->s0);
		bench_cpu_mark(&s->m0);
		s->in_phase = true;
		return 0;
	case BENCH_CTL_END:
		bench_cpu_mark(&m1);
		if (!s->in_phase)
			return -RVMIG_EBADMSG;
		s->in_phase = false;
		rc = bench_libstats_take(s->ep, &s1);
		if (rc && !s->rep.status)
			s->rep.status = rc;
		bench_cpu_delta(&s->m0, &m1, &s->rep.cpu);
		bench_libstats_delta(&s->s0, &s1, &s->rep.stats);
		if (!s->quiet) {
			bench_print_server_row(stdout, s->size, s->iters, &s->rep);
			fflush(stdout);
		}
		return server_reply(s);
	default:
		return -RVMIG_EBADMSG;
	}
}

static int server_event(struct server *s, const struct rvmig_event *ev)
{
	int rc = 0;

	switch (ev->type) {
	case RVMIG_EV_RECV_DATA:
		if (s->in_phase) {
			s->rep.bytes += ev->len;
			s->rep.msgs++;
		}
		return rvmig_recv_release(s->ep, ev->token);
	case RVMIG_EV_RECV_MSG:
		/* Release first: the reply may need the credit back. */
		{
			struct rvmig_event copy = *ev;
			uint8_t b[sizeof(struct bench_ctl)];

			if (ev->len == sizeof(b)) {
				memcpy(b, ev->data, sizeof(b));
				copy.data = b;
			}
			rc = rvmig_recv_release(s->ep, ev->token);
			if (!rc)
				rc = server_ctl(s, &copy);
		}
		return rc;
	case RVMIG_EV_PEER_CLOSED:
		s->closed = true;
		return 0;
	case RVMIG_EV_ERROR:
		return ev->status ? ev->status : -RVMIG_EPEER;
	case RVMIG_EV_SEND_DONE:
		return ev->status;
	}
	return 0;
}

int bench_server(const struct bench_opts *o, const char *uri, int port_fd, bool quiet)
{
	struct server s = { .o = o, .quiet = quiet || o->json };
	struct rvmig_ep_attr a;
	rvmig_listener *l = NULL;
	rvmig_ctx *ctx = new_ctx(o);
	int rc, port;

	if (!ctx)
		return -ENOMEM;
	raise_memlock();
	ep_attr(o, &a);
	rc = rvmig_listen(ctx, uri, &a, &l);
	if (rc) {
		fprintf(stderr, "rvmig-bench: listen on %s: %s\n", uri, rvmig_strerror(rc));
		goto out;
	}
	port = rvmig_listener_port(l);
	if (!s.quiet) {
		bench_print_header(stdout, o, "server", uri);
		printf("# listening on port %d\n", port);
		fflush(stdout);
	}
	if (o->ready_file && (rc = write_ready_file(o->ready_file, port))) {
		fprintf(stderr, "rvmig-bench: --ready-file %s: %s\n", o->ready_file,
			rvmig_strerror(rc));
		goto out;
	}
	if (port_fd >= 0) {
		if (write(port_fd, &port, sizeof(port)) != (ssize_t)sizeof(port)) {
			rc = -EPIPE;
			goto out;
		}
		close(port_fd);
		port_fd = -1;
	}
	rc = rvmig_accept(l, o->accept_timeout_ms, &s.ep);
	if (rc) {
		fprintf(stderr, "rvmig-bench: accept on %s: %s\n", uri, rvmig_strerror(rc));
		goto out;
	}
	if (!s.quiet) {
		printf("# client %s connected (%s, %s)\n", rvmig_ep_peer(s.ep),
		       rvmig_ep_transport(s.ep),
		       rvmig_ep_mode(s.ep) == RVMIG_MODE_PULL ? "pull" : "push");
		fflush(stdout);
	}
	while (!s.closed) {
		struct rvmig_event ev;

		rc = rvmig_progress(s.ep, o->busy_poll ? 0 : o->wait_ms);
		if (s.in_phase) {
			s.rep.progress_calls++;
			s.rep.progress_empty += rc == 0;
		}
		if (rc < 0) {
			fprintf(stderr, "rvmig-bench: server: rvmig_progress: %s\n",
				rvmig_strerror(rc));
			break;
		}
		rc = 0;
		while (!rc && rvmig_event_next(s.ep, &ev) > 0)
			rc = server_event(&s, &ev);
		if (rc) {
			fprintf(stderr, "rvmig-bench: server: %s\n", rvmig_strerror(rc));
			break;
		}
	}
out:
	if (port_fd >= 0)
		close(port_fd);
	if (s.ep)
		rvmig_ep_close(s.ep);
	if (l)
		rvmig_listener_close(l);
	rvmig_ctx_destroy(ctx);
	return rc;
}
