/* SPDX-License-Identifier: MIT */
/*
 * The receiving session (rvmig_xrsession, rvmig_xstream_recv_fd;
 * rvmig/xstream.h) through the public API only, over real TCP on loopback:
 * a sender (rvmig_xsend) in this thread, the session in another.  A
 * generated Xen stream arrives byte-identical in a caller's descriptor and
 * in a caller's sink, with its pages counted; a file output appears under
 * its name only when END's digest matched (a wrong digest leaves no file and
 * no partial, and the sender hears why); a resumable session keeps a journal
 * when the sender goes away, and a second session continues from its
 * durable offset (the RESUME answer) to an identical file and removes the
 * journal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "streamgen.h"

/* A peer that closes first makes a write to its socket raise SIGPIPE, as
 * for any program writing to sockets: the tools ignore it, so does this
 * test. */
static void ignore_sigpipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}

TestSuite(rsession, .init = ignore_sigpipe);

/* ---- the sender: rvmig_xsend over a fresh connection ---- */

struct snd {
	const char *input;        /* file to send */
	uint64_t len;
	bool resume;              /* HELLO with RVMIG_XMSG_F_RESUME, wait for RESUME */
	uint64_t quit_at;         /* go away (no END) once this much is acked; 0: never */
	bool bad_end;             /* END with a wrong digest */
	/* out */
	bool got_resume, verdict;
	uint64_t resume_off;
	uint8_t resume_digest[RVMIG_DIGEST_LEN];
	int status;               /* the receiver's VERDICT */
	char text[256];
};

static void on_reply(rvmig_xsend *s, const void *msg, size_t len, void *arg)
{
	struct snd *x = arg;
	struct rvmig_xmsg m;
	const char *why;

	cr_assert_eq(rvmig_xmsg_decode(msg, len, &m, &why), 0, "%s", why);
	if (m.tag == RVMIG_XMSG_RESUME) {
		x->got_resume = true;
		x->resume_off = m.offset;
		memcpy(x->resume_digest, m.digest, RVMIG_DIGEST_LEN);
		return;
	}
	cr_assert_eq(m.tag, RVMIG_XMSG_VERDICT, "%s", rvmig_xmsg_tag_name(m.tag));
	x->verdict = true;
	x->status = m.status;
	snprintf(x->text, sizeof(x->text), "%.*s", (int)m.len, (const char *)m.data);
	rvmig_xsend_quit(s);
}

static void on_progress(rvmig_xsend *s, uint64_t acked, void *arg)
{
	struct snd *x = arg;

	if (x->quit_at && acked >= x->quit_at)
		rvmig_xsend_quit(s);
}

static void send_one(rvmig_ctx *ctx, int port, struct snd *x)
{
	/* every zero page elided (not the default four-page runs), so the
	 * receiver's counts can be checked against the generator's */
	struct rvmig_xsend_attr a = { .size = sizeof(a), .zero_min = RVMIG_STREAM_PAGE_SIZE,
				      .on_reply = on_reply, .on_progress = on_progress, .arg = x };
	uint8_t m[128], id[RVMIG_XFER_ID_LEN], digest[RVMIG_DIGEST_LEN];
	rvmig_xsend *s;
	rvmig_ep *ep;
	char uri[64];
	int rc;

	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
	cr_assert_eq(rvmig_xsend_create(x->input, &a, &s), 0);
	cr_assert_eq(rvmig_xsend_xfer_id(s, id), 0);
	cr_assert_eq(rvmig_connect(ctx, uri, NULL, &ep), 0);
	cr_assert_eq(rvmig_xsend_attach(s, ep), 0);
	cr_assert_eq(rvmig_xsend_msg(s, m,
				     rvmig_xmsg_encode_hello(m, sizeof(m),
							     RVMIG_XMSG_F_SIZE |
								     (x->resume ? RVMIG_XMSG_F_RESUME : 0),
							     x->len, id),
				     0),
		     0);
	for (int i = 0; x->resume && !x->got_resume && i < 100; i++)
		cr_assert_eq(rvmig_xsend_progress(s, 100), 0);
	if (x->resume) {
		cr_assert(x->got_resume, "no RESUME answer");
		if (x->resume_off) {
			cr_assert_eq(rvmig_xsend_check_prefix(s, x->resume_off, x->resume_digest), 0);
			rvmig_xsend_resume_at(s, x->resume_off);
		}
	}
	rc = rvmig_xsend_run(s);
	cr_assert_eq(rc, 0, "%s", rvmig_xsend_error(s, NULL) ? "send failed" : "");
	if (!x->quit_at && !x->bad_end) {
		cr_assert_eq(rvmig_xsend_end(s, true, NULL), 0);
	} else if (x->bad_end) {
		cr_assert_eq(rvmig_xsend_end(s, false, digest), 0);
		digest[0] ^= 1;
		cr_assert_eq(rvmig_xsend_msg(s, m,
					     rvmig_xmsg_encode_end(m, sizeof(m), x->len, digest, 0, 0),
					     x->len),
			     0);
	}
	for (int i = 0; !x->quit_at && !x->verdict && i < 300; i++)
		if (rvmig_xsend_progress(s, 100))
			break;
	if (x->quit_at) {
		/* stopped as a signal stops rvmig-send: what is in flight is
		 * cancelled (its memory must not be deregistered under it) and
		 * the receiver hears ABORT -EINTR, which keeps its state */
		rvmig_xsend_fail(s, -EINTR, false, "the test stops the sender");
		rvmig_xsend_abort(s);
	}
	rvmig_xsend_detach(s);
	rvmig_ep_close(ep);
	rvmig_xsend_destroy(s);
}

/* ---- the receiving session in its own thread ---- */

struct rcv {
	rvmig_ctx *ctx;
	rvmig_listener *l;
	struct rvmig_xrsession_attr a;
	int rc;
	bool kept;
	struct rvmig_xresult res;
};

static void *rcv_main(void *arg)
{
	struct rcv *r = arg;
	rvmig_xrsession *s;

	r->res.size = sizeof(r->res);
	r->rc = rvmig_xrsession_create(r->ctx, &r->a, &s);
	if (!r->rc)
		r->rc = rvmig_xrsession_run(s, r->l);
	else
		rvmig_listener_close(r->l);
	if (s) {
		r->kept = rvmig_xrsession_kept(s);
		rvmig_xrsession_result(s, &r->res);
	}
	rvmig_xrsession_destroy(s);
	return NULL;
}

/* Runs a session with `a` against one sender. */
static void session_run(rvmig_ctx *ctx, const struct rvmig_xrsession_attr *a, struct snd *x,
			struct rcv *r)
{
	pthread_t th;

	*r = (struct rcv){ .ctx = ctx, .a = *a };
	cr_assert_eq(rvmig_listen(ctx, "tcp://127.0.0.1:0", NULL, &r->l), 0);
	int port = rvmig_listener_port(r->l);

	cr_assert_eq(pthread_create(&th, NULL, rcv_main, r), 0);
	send_one(ctx, port, x);
	pthread_join(th, NULL);
}

/* ---- helpers ---- */

static struct streamgen_buf gen(struct streamgen_expect *se, uint64_t seed)
{
	struct streamgen_opts o = { .nr_pfns = 3000, .seed = seed, .batch = 512 };
	struct streamgen_buf sb = { 0 };

	cr_assert_eq(streamgen_build(&o, &sb, se), 0);
	cr_assert_gt(se->zero_pages, 0);
	return sb;
}

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/rvmig-rsession-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void write_at(const char *p, const void *data, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static uint8_t *read_all(const char *p, size_t *len)
{
	struct stat st;
	uint8_t *b;
	int fd = open(p, O_RDONLY);

	cr_assert_geq(fd, 0, "cannot open %s", p);
	cr_assert_eq(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	cr_assert_not_null(b);
	cr_assert_eq(pread(fd, b, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

/* Names in `dir` other than `keep` (the input). */
static int others(const char *keep)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, keep))
			n++;
	closedir(d);
	return n;
}

static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* ---- one-shot into a descriptor ---- */

struct oneshot {
	rvmig_ctx *ctx;
	int fd, port_pipe[2];
	int rc;
	struct rvmig_xresult res;
};

static void on_listening(int port, void *arg)
{
	struct oneshot *o = arg;

	cr_assert_eq(write(o->port_pipe[1], &port, sizeof(port)), (ssize_t)sizeof(port));
}

static void *oneshot_main(void *arg)
{
	struct oneshot *o = arg;
	struct rvmig_xrecv_opts opts = { .size = sizeof(opts), .accept_timeout_ms = 30000,
					 .on_listening = on_listening, .arg = o };

	o->res.size = sizeof(o->res);
	o->rc = rvmig_xstream_recv_fd(o->ctx, "tcp://127.0.0.1:0", o->fd, &opts, &o->res);
	return NULL;
}

Test(rsession, recv_fd_rebuilds_a_xen_stream_into_a_descriptor)
{
	struct streamgen_expect se = { 0 };
	struct streamgen_buf sb = gen(&se, 51);
	struct oneshot o = { 0 };
	struct snd x = { 0 };
	uint8_t want[RVMIG_DIGEST_LEN], *got;
	char in[128], out[128];
	pthread_t th;
	size_t n;
	int port;

	make_dir();
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	write_at(in, sb.data, sb.len);
	cr_assert_eq(rvmig_ctx_create(NULL, &o.ctx), 0);
	o.fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(o.fd, 0);
	cr_assert_eq(pipe(o.port_pipe), 0);
	cr_assert_eq(pthread_create(&th, NULL, oneshot_main, &o), 0);
	cr_assert_eq(read(o.port_pipe[0], &port, sizeof(port)), (ssize_t)sizeof(port));
	x = (struct snd){ .input = in, .len = sb.len };
	send_one(o.ctx, port, &x);
	pthread_join(th, NULL);
	cr_assert_eq(o.rc, 0, "%s", o.res.text);
	cr_assert(x.verdict);
	cr_assert_eq(x.status, 0, "%s", x.text);
	cr_assert_eq(o.res.status, 0);
	cr_assert_eq(o.res.bytes, sb.len);
	cr_assert_eq(o.res.pages, se.pages);
	cr_assert_eq(o.res.zero_pages, se.zero_pages);
	cr_assert_eq(o.res.zero_bytes, se.zero_pages * RVMIG_STREAM_PAGE_SIZE);
	cr_assert_eq(o.res.control_bytes + o.res.data_bytes + o.res.zero_bytes, sb.len);
	cr_assert_str_eq(o.res.transport, "tcp");
	cr_assert(o.res.verified);
	cr_assert_eq(rvmig_digest_buf(RVMIG_DIGEST_XXH128, sb.data, sb.len, want), 0);
	cr_assert_eq(memcmp(o.res.digest, want, RVMIG_DIGEST_LEN), 0);
	/* the caller's descriptor is still open and its own */
	cr_assert_eq(fcntl(o.fd, F_GETFD) >= 0, true);
	close(o.fd);
	got = read_all(out, &n);
	cr_assert_eq(n, sb.len);
	cr_assert_eq(memcmp(got, sb.data, n), 0, "rebuilt stream differs");
	free(got);
	rvmig_ctx_destroy(o.ctx);
	remove_dir();
	streamgen_buf_free(&sb);
	streamgen_expect_free(&se);
}

/* ---- a caller's sink ---- */

struct mem {
	uint8_t *b;
	size_t len, cap;
};

static int mem_write(void *arg, const void *data, size_t len)
{
	struct mem *m = arg;

	if (m->len + len > m->cap)
		return -ENOSPC;
	memcpy(m->b + m->len, data, len);
	m->len += len;
	return 0;
}

Test(rsession, sink_gets_the_stream_in_order_zeros_through_write)
{
	struct streamgen_expect se = { 0 };
	struct streamgen_buf sb = gen(&se, 52);
	struct mem mem = { .cap = sb.len };
	struct rvmig_xrecv_sink sink = { mem_write, NULL, &mem, "the test buffer" };
	struct rvmig_xrsession_attr a = { .size = sizeof(a), .sink = &sink,
					  .accept_timeout_ms = 30000 };
	struct snd x;
	struct rcv r;
	rvmig_ctx *ctx;
	char in[128];

	mem.b = malloc(mem.cap);
	cr_assert_not_null(mem.b);
	make_dir();
	snprintf(in, sizeof(in), "%s/in", dir);
	write_at(in, sb.data, sb.len);
	cr_assert_eq(rvmig_ctx_create(NULL, &ctx), 0);
	x = (struct snd){ .input = in, .len = sb.len };
	session_run(ctx, &a, &x, &r);
	cr_assert_eq(r.rc, 0, "%s", r.res.text);
	cr_assert_eq(x.status, 0, "%s", x.text);
	cr_assert_eq(mem.len, sb.len);
	cr_assert_eq(memcmp(mem.b, sb.data, sb.len), 0);
	cr_assert_eq(r.res.pages, se.pages);
	free(mem.b);
	rvmig_ctx_destroy(ctx);
	remove_dir();
	streamgen_buf_free(&sb);
	streamgen_expect_free(&se);
}

/* ---- a file output ---- */

Test(rsession, file_appears_only_when_the_digest_matched)
{
	struct streamgen_expect se = { 0 };
	struct streamgen_buf sb = gen(&se, 53);
	struct rvmig_xrsession_attr a = { .size = sizeof(a), .accept_timeout_ms = 30000 };
	struct snd x;
	struct rcv r;
	struct stat st;
	rvmig_ctx *ctx;
	char in[128], out[128];
	uint8_t *got;
	size_t n;

	make_dir();
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(out, sizeof(out), "%s/out.xl", dir);
	write_at(in, sb.data, sb.len);
	a.path = out;
	cr_assert_eq(rvmig_ctx_create(NULL, &ctx), 0);

	/* a wrong END digest: refused, nothing under PATH, no partial */
	x = (struct snd){ .input = in, .len = sb.len, .bad_end = true };
	session_run(ctx, &a, &x, &r);
	cr_assert_eq(r.rc, -RVMIG_EINTEGRITY, "%d %s", r.rc, r.res.text);
	cr_assert_eq(r.res.status, -RVMIG_EINTEGRITY);
	cr_assert(!r.res.verified);
	cr_assert(!r.kept);
	cr_assert(x.verdict);
	cr_assert_eq(x.status, -RVMIG_EINTEGRITY, "%s", x.text);
	cr_assert_neq(stat(out, &st), 0);
	cr_assert_eq(others("in"), 0, "a file was left in %s", dir);

	/* the same input with its own digest: PATH, 0600, identical */
	x = (struct snd){ .input = in, .len = sb.len };
	session_run(ctx, &a, &x, &r);
	cr_assert_eq(r.rc, 0, "%s", r.res.text);
	cr_assert_eq(x.status, 0, "%s", x.text);
	cr_assert_eq(stat(out, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	got = read_all(out, &n);
	cr_assert_eq(n, sb.len);
	cr_assert_eq(memcmp(got, sb.data, n), 0);
	free(got);
	cr_assert_eq(others("in"), 1); /* out.xl only */
	rvmig_ctx_destroy(ctx);
	remove_dir();
	streamgen_buf_free(&sb);
	streamgen_expect_free(&se);
}

/* ---- resume: journal, RESUME offset, continuation ---- */

Test(rsession, resume_continues_from_the_journaled_offset)
{
	struct streamgen_expect se = { 0 };
	struct streamgen_buf sb = gen(&se, 54);
	struct rvmig_xrsession_attr a = { .size = sizeof(a), .accept_timeout_ms = 30000,
					  .flags = RVMIG_XRSESSION_F_RESUME,
					  .resume_wait_ms = 300 };
	struct snd x;
	struct rcv r;
	struct stat st;
	rvmig_ctx *ctx;
	char in[128], out[128], journal[160], partial[160];
	uint64_t kept;
	uint8_t *got, d[RVMIG_DIGEST_LEN];
	size_t n;

	make_dir();
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(out, sizeof(out), "%s/out.xl", dir);
	snprintf(journal, sizeof(journal), "%s.rvmig-journal", out);
	snprintf(partial, sizeof(partial), "%s.rvmig-partial", out);
	write_at(in, sb.data, sb.len);
	a.path = out;
	cr_assert_eq(rvmig_ctx_create(NULL, &ctx), 0);

	/* The sender goes away half-way: the state is kept. */
	x = (struct snd){ .input = in, .len = sb.len, .resume = true, .quit_at = sb.len / 2 };
	session_run(ctx, &a, &x, &r);
	cr_assert(x.got_resume);
	cr_assert_eq(x.resume_off, 0);
	cr_assert(r.kept, "%d %s", r.rc, r.res.text);
	cr_assert_eq(r.rc, -RVMIG_EPEER, "%d %s", r.rc, r.res.text);
	kept = r.res.bytes;
	cr_assert_gt(kept, 0);
	cr_assert_lt(kept, sb.len);
	cr_assert_eq(stat(journal, &st), 0);
	cr_assert_eq(stat(partial, &st), 0);
	cr_assert_eq((uint64_t)st.st_size, kept);
	cr_assert_neq(stat(out, &st), 0);

	/* A session that no sender comes to leaves that state alone. */
	{
		struct rvmig_xrsession_attr b = a;
		rvmig_xrsession *s;
		rvmig_listener *l;

		b.accept_timeout_ms = 200;
		cr_assert_eq(rvmig_xrsession_create(ctx, &b, &s), 0);
		cr_assert_eq(rvmig_listen(ctx, "tcp://127.0.0.1:0", NULL, &l), 0);
		cr_assert_neq(rvmig_xrsession_run(s, l), 0);
		rvmig_xrsession_destroy(s);
		cr_assert_eq(stat(journal, &st), 0, "the journal went");
		cr_assert_eq(stat(partial, &st), 0, "the partial went");
		cr_assert_eq((uint64_t)st.st_size, kept);
	}

	/* A new session reads the prefix back; the sender continues there. */
	x = (struct snd){ .input = in, .len = sb.len, .resume = true };
	session_run(ctx, &a, &x, &r);
	cr_assert_eq(r.rc, 0, "%s", r.res.text);
	cr_assert_eq(x.resume_off, kept);
	cr_assert_eq(r.res.resume_offset, kept);
	cr_assert_eq(r.res.peer_bytes, sb.len);
	cr_assert_eq(rvmig_digest_buf(RVMIG_DIGEST_XXH128, sb.data, kept, d), 0);
	cr_assert_eq(memcmp(x.resume_digest, d, RVMIG_DIGEST_LEN), 0);
	cr_assert_eq(x.status, 0, "%s", x.text);
	/* only what lay past the offset went over the wire */
	cr_assert_leq(r.res.control_bytes + r.res.data_bytes + r.res.zero_bytes, sb.len - kept);
	got = read_all(out, &n);
	cr_assert_eq(n, sb.len);
	cr_assert_eq(memcmp(got, sb.data, n), 0);
	free(got);
	cr_assert_neq(stat(journal, &st), 0, "the journal stayed");
	cr_assert_neq(stat(partial, &st), 0, "the partial stayed");
	rvmig_ctx_destroy(ctx);
	remove_dir();
	streamgen_buf_free(&sb);
	streamgen_expect_free(&se);
}

Test(rsession, bad_attrs_are_refused)
{
	struct rvmig_xrecv_sink sink = { mem_write, NULL, NULL, "x" };
	struct rvmig_xrsession_attr a = { .size = sizeof(a) };
	rvmig_xrsession *s;
	char why[256];

	cr_assert_eq(rvmig_xrsession_create(NULL, &a, &s), -EINVAL); /* no output */
	cr_assert_null(s);
	a.path = "/tmp/x";
	a.sink = &sink;
	cr_assert_eq(rvmig_xrsession_create(NULL, &a, &s), -EINVAL); /* two outputs */
	a.path = NULL;
	a.flags = RVMIG_XRSESSION_F_RESUME;
	cr_assert_eq(rvmig_xrsession_create(NULL, &a, &s), -EINVAL); /* resume needs a path */
	cr_assert_eq(rvmig_xrsession_check_path("", false, why, sizeof(why)), -EINVAL);
	cr_assert_eq(rvmig_xrsession_check_path("/tmp/", false, why, sizeof(why)), -EINVAL);
	cr_assert_eq(rvmig_xrsession_check_path("/tmp", false, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "directory"), "%s", why);
	cr_assert_eq(rvmig_xrsession_check_path("/dev/null", true, why, sizeof(why)), -EINVAL);
	cr_assert_eq(rvmig_xrsession_check_path("/tmp/new-file-of-rsession-test", true, why,
						sizeof(why)),
		     0);
}
