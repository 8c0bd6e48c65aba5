/* SPDX-License-Identifier: MIT */
/*
 * xsend.c - the sender of rvmig/xstream.h: its input (input.h), the Xen
 * stream parser and the sending pipeline (sendpipe.h) of one connection.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xstream/msg.h"
#include "xstream/sendpipe.h"
#include "xstream/stats.h"
#include "xstream/xferid.h"
#include "xstream/xsend.h"

/* Default input ring: 6 x 2 MiB.  Its memory is fresh for every transfer,
 * and first touching it is what the sender paid most for on the build host
 * (a VM: the kernel zeroing 32 MiB of 4 x 8 MiB, 22-28 % of the sender's
 * perf samples for a 256 MiB file).  12 MiB still holds the default 8 MiB
 * window plus the buffer being read: 5 of the 6 may wait for completions. */
#define RING_BUFS_DEFAULT 6
#define RING_BUF_SIZE_DEFAULT (2u << 20)
#define PLAIN_CHUNK (1u << 20)
#define ABORT_TRIES 50 /* x 100 ms: how long an ABORT waits for a credit */

struct rvmig_xsend {
	struct send_input in;
	struct sendpipe sp;           /* this connection's; zeroed until attach */
	rvmig_stream_parser *parser;  /* this connection's; NULL for raw input */
	char *path;
	uint32_t flags;               /* RVMIG_XSTREAM_F_* */
	enum rvmig_digest_alg alg;
	uint64_t zero_min;
	const volatile int *stop;
	rvmig_pubxfer *pub;
	void (*on_reply)(rvmig_xsend *s, const void *msg, size_t len, void *arg);
	void (*on_close)(rvmig_xsend *s, void *arg);
	void *arg;
	bool plain;                   /* PLAIN_FALLBACK: no longer parsed ... */
	uint64_t plain_from;          /* ... from this stream offset on */
	bool peer_closed;
	bool digested;
	uint64_t handed;              /* input bytes handed to the pipeline */
	uint8_t digest[RVMIG_DIGEST_LEN]; /* once digested */
	void (*on_progress)(rvmig_xsend *s, uint64_t acked, void *arg);
};

static void on_event(struct sendpipe *p, const struct rvmig_event *ev)
{
	struct rvmig_xsend *s = p->arg;

	if (ev->type == RVMIG_EV_PEER_CLOSED) {
		s->peer_closed = true;
		if (s->on_close)
			s->on_close(s, s->arg);
		return;
	}
	if (s->on_reply)
		s->on_reply(s, ev->data, ev->len, s->arg);
}

static void on_pump(struct sendpipe *p)
{
	struct rvmig_xsend *s = p->arg;

	s->on_progress(s, p->acked, s->arg);
}

/* A sender with no input yet: 0, -EINVAL or -ENOMEM (then *out is set
 * when allocated, its error saying why). */
static int xsend_new(const char *name, const struct rvmig_xsend_attr *attr, rvmig_xsend **out)
{
	struct rvmig_xsend *s;

	*out = NULL;
	if (!name || !attr || attr->size < sizeof(*attr) ||
	    (attr->zero_min % RVMIG_STREAM_PAGE_SIZE) ||
	    (attr->digest != RVMIG_DIGEST_XXH128 && attr->digest != RVMIG_DIGEST_SHA256))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->in.fd = -1;
	s->flags = attr->flags;
	s->alg = attr->digest;
	s->zero_min = attr->zero_min ? attr->zero_min : RVMIG_XSEND_ZERO_MIN_DEFAULT;
	s->stop = attr->stop;
	s->on_reply = attr->on_reply;
	s->on_close = attr->on_close;
	s->on_progress = attr->on_progress;
	s->arg = attr->arg;
	s->path = strdup(name);
	*out = s;
	if (!s->path) {
		sendpipe_fail(&s->sp, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static unsigned ring_bufs(const struct rvmig_xsend_attr *attr)
{
	return attr->ring_bufs ? attr->ring_bufs : RING_BUFS_DEFAULT;
}

static size_t ring_buf_size(const struct rvmig_xsend_attr *attr)
{
	return attr->ring_buf_size ? attr->ring_buf_size : RING_BUF_SIZE_DEFAULT;
}

int rvmig_xsend_create(const char *path, const struct rvmig_xsend_attr *attr, rvmig_xsend **out)
{
	int rc = xsend_new(path, attr, out);

	if (rc)
		return rc;
	rc = input_open(&(*out)->in, (*out)->path, ring_bufs(attr), ring_buf_size(attr));
	if (rc)
		sendpipe_fail(&(*out)->sp, rc, "%s", (*out)->in.why);
	return rc;
}

int rvmig_xsend_create_fed(const char *name, const struct rvmig_xsend_attr *attr,
			   rvmig_xsend **out)
{
	int rc = xsend_new(name ? name : "memory", attr, out);

	if (rc)
		return rc;
	rc = input_open_fed(&(*out)->in, (*out)->path);
	if (rc)
		sendpipe_fail(&(*out)->sp, rc, "out of memory");
	return rc;
}

int xsend_create_fd(int fd, const char *name, const struct rvmig_xsend_attr *attr,
		    rvmig_xsend **out)
{
	int rc = fd < 0 ? -EBADF : xsend_new(name, attr, out);

	if (rc)
		return rc;
	rc = input_open_fd(&(*out)->in, fd, (*out)->path, ring_bufs(attr), ring_buf_size(attr));
	if (rc)
		sendpipe_fail(&(*out)->sp, rc, "%s", (*out)->in.why);
	return rc;
}

void xsend_add_flags(rvmig_xsend *s, uint32_t flags)
{
	s->flags |= flags;
}

static void connection_end(struct rvmig_xsend *s)
{
	rvmig_stream_parser_destroy(s->parser);
	s->parser = NULL;
	sendpipe_fini(&s->sp);
}

void rvmig_xsend_destroy(rvmig_xsend *s)
{
	if (!s)
		return;
	connection_end(s); /* its digest worker may still read the input */
	input_close(&s->in);
	free(s->path);
	free(s);
}

void rvmig_xsend_set_pub(rvmig_xsend *s, rvmig_pubxfer *px)
{
	s->pub = px;
	s->sp.pub = px;
}

const char *rvmig_xsend_input_name(const rvmig_xsend *s)
{
	return s->in.name ? s->in.name : s->path;
}

int rvmig_xsend_input_size(const rvmig_xsend *s, uint64_t *size)
{
	if (!s->in.size_known)
		return 0;
	*size = s->in.size;
	return 1;
}

bool rvmig_xsend_input_mapped(const rvmig_xsend *s)
{
	return s->in.file;
}

int rvmig_xsend_xfer_id(const rvmig_xsend *s, uint8_t id[RVMIG_XFER_ID_LEN])
{
	return xfer_id_make(s->in.fd, s->path, s->flags & RVMIG_XSTREAM_F_RAW, id);
}

int rvmig_xsend_attach(rvmig_xsend *s, rvmig_ep *ep)
{
	bool fallback = s->flags & RVMIG_XSTREAM_F_PLAIN_FALLBACK;
	int rc;

	connection_end(s);
	s->plain = s->peer_closed = s->digested = false;
	s->handed = 0;
	if ((rc = sendpipe_init(&s->sp, &s->in, s->zero_min, s->alg,
				s->flags & RVMIG_XSTREAM_F_DIGEST_THREAD, on_event, s))) {
		sendpipe_fail(&s->sp, rc, "out of memory");
		return rc;
	}
	s->sp.stop = s->stop;
	s->sp.pub = s->pub;
	if (s->on_progress)
		s->sp.on_pump = on_pump;
	if (!(s->flags & RVMIG_XSTREAM_F_RAW)) {
		/* A tunnel carries xl's whole conversation: an xl header first,
		 * anything after the stream.  A checkpoint is any of the three
		 * layers, then nothing or xl migrate's go message. */
		struct rvmig_stream_attr pa = {
			.size = sizeof(pa),
			.start = fallback ? RVMIG_STREAM_LAYER_XL : RVMIG_STREAM_LAYER_AUTO,
			.flags = fallback ? RVMIG_STREAM_F_ALLOW_TRAILING : RVMIG_STREAM_F_ALLOW_XL_GO,
		};

		if ((rc = rvmig_stream_parser_create(&pa, &s->parser))) {
			sendpipe_fail(&s->sp, rc, "cannot create the stream parser: %s",
				      rvmig_strerror(rc));
			return rc;
		}
	}
	sendpipe_attach(&s->sp, ep);
	input_rewind(&s->in);
	rc = input_register(&s->in, ep,
			    rvmig_ep_mode(ep) == RVMIG_MODE_PULL ? RVMIG_MR_REMOTE_READ
								 : RVMIG_MR_LOCAL);
	if (rc)
		sendpipe_fail(&s->sp, rc, "%s", s->in.why);
	return rc;
}

void rvmig_xsend_detach(rvmig_xsend *s)
{
	input_unregister(&s->in, s->sp.ep);
	s->sp.ep = NULL;
}

int rvmig_xsend_msg(rvmig_xsend *s, const void *msg, size_t len, uint64_t off)
{
	sendpipe_msg(&s->sp, msg, len, off);
	return s->sp.err;
}

int rvmig_xsend_check_prefix(const rvmig_xsend *s, uint64_t off,
			     const uint8_t digest[RVMIG_DIGEST_LEN])
{
	uint8_t sha[RVMIG_DIGEST_LEN];
	int rc = input_digest_prefix(&s->in, s->alg, off, sha);

	if (rc)
		return rc;
	return memcmp(sha, digest, RVMIG_DIGEST_LEN) ? -RVMIG_EINTEGRITY : 0;
}

void rvmig_xsend_resume_at(rvmig_xsend *s, uint64_t off)
{
	sendpipe_resume_at(&s->sp, off);
}

/* The parser's refusal, saying whether the input's start is a Xen format
 * at all. */
static void refused(struct rvmig_xsend *s, int rc)
{
	bool unknown = rvmig_stream_start_layer(s->parser) == RVMIG_STREAM_LAYER_AUTO;

	sendpipe_fail(&s->sp, rc, "%s is not a valid Xen save stream%s: %s", s->in.name,
		      unknown ? " (its start is no Xen format)" : "",
		      rvmig_stream_error(s->parser));
}

/* PLAIN_FALLBACK: from `from` on, the input goes as plain CTRL messages. */
static void go_plain(struct rvmig_xsend *s, uint64_t from, uint64_t to)
{
	struct in_seg seg[2];

	if (!s->plain)
		s->plain_from = from;
	s->plain = true;
	while (from < to && !s->sp.err) {
		uint64_t n = to - from < PLAIN_CHUNK ? to - from : PLAIN_CHUNK;
		int ns = input_locate(&s->in, from, (size_t)n, seg);

		if (!ns) {
			sendpipe_fail(&s->sp, -EFAULT, "input offset %llu no longer in memory",
				      (unsigned long long)from);
			return;
		}
		for (int i = 0; i < ns; i++) {
			sendpipe_bytes(&s->sp, from, s->in.bufs[seg[i].buf].base + seg[i].off,
				       seg[i].len);
			from += seg[i].len;
		}
	}
	s->handed = to;
}

/* Newly read input bytes: parsed (or raw, or plain) into requests. */
static void process(struct sendpipe *sp, uint64_t off, const uint8_t *data, size_t len)
{
	struct rvmig_xsend *s = sp->arg;
	struct rvmig_stream_item it = { .size = sizeof(it) };
	int rc;

	if (s->flags & RVMIG_XSTREAM_F_RAW) {
		sendpipe_raw(sp, off, len);
		s->handed = off + len;
		return;
	}
	if (s->plain) {
		sendpipe_bytes(sp, off, data, len);
		s->handed = off + len;
		return;
	}
	rc = rvmig_stream_feed(s->parser, data, len);
	while (rc == 0 && !sp->err && (rc = rvmig_stream_next(s->parser, &it)) == 1) {
		sendpipe_item(sp, &it);
		s->handed = it.offset + it.len;
		rc = 0;
	}
	if (rc >= 0)
		return;
	if (!(s->flags & RVMIG_XSTREAM_F_PLAIN_FALLBACK))
		refused(s, rc);
	else if (!sp->err)
		go_plain(s, s->handed, off + len);
}

int rvmig_xsend_feed_mr(rvmig_xsend *s, rvmig_mr *mr, uint64_t offset, size_t len)
{
	struct in_buf *b;
	int rc;

	if (!s->in.fed)
		return rvmig_xsend_fail(s, -EINVAL, false,
					"%s: memory is handed only to a sender made by "
					"rvmig_xsend_create_fed()", s->in.name);
	if (!s->sp.ep)
		return rvmig_xsend_fail(s, -ENOTCONN, false, "%s: not attached to an endpoint",
					s->in.name);
	if (s->sp.err)
		return s->sp.err;
	if (!mr || (rc = input_feed(&s->in, s->sp.ep, mr, offset, len)))
		return rvmig_xsend_fail(s, mr ? rc : -EINVAL, false, "%s: %s", s->in.name,
					mr ? s->in.why : "no memory region");
	b = &s->in.bufs[s->in.cur];
	b->fed = b->filled;
	if (len)
		sendpipe_hand(&s->sp, process, b->stream_base, b->base, len);
	sendpipe_flush(&s->sp); /* nothing of it waits for the next piece */
	sendpipe_pump(&s->sp, 0);
	return s->sp.err;
}

uint64_t rvmig_xsend_reusable(rvmig_xsend *s)
{
	return s->sp.sha ? sendpipe_reusable(&s->sp) : 0;
}

int rvmig_xsend_run(rvmig_xsend *s)
{
	if (s->in.fed)
		return rvmig_xsend_fail(s, -EINVAL, false,
					"%s: a fed sender is given its input with "
					"rvmig_xsend_feed_mr(), not run", s->in.name);
	if (!s->sp.ep) {
		sendpipe_fail(&s->sp, -ENOTCONN, "%s: not attached to an endpoint", s->in.name);
		return s->sp.err;
	}
	sendpipe_run(&s->sp, process);
	return s->sp.err;
}

void rvmig_xsend_quit(rvmig_xsend *s)
{
	s->sp.quit = true;
}

int rvmig_xsend_end(rvmig_xsend *s, bool send_end, uint8_t digest[RVMIG_DIGEST_LEN])
{
	struct sendpipe *sp = &s->sp;
	uint64_t total = s->in.read_total;
	uint8_t m[128];

	if (send_end && !sp->err && s->parser && !s->plain) {
		if (!(s->flags & RVMIG_XSTREAM_F_PLAIN_FALLBACK)) {
			if (rvmig_stream_finish(s->parser) < 0)
				refused(s, -RVMIG_ESTREAM);
		} else if (s->handed != total) {
			go_plain(s, s->handed, total); /* the parser held bytes back */
		}
	}
	sendpipe_flush(sp);
	if (!s->digested)
		sendpipe_digest(sp, s->digest);
	s->digested = true;
	if (digest)
		memcpy(digest, s->digest, RVMIG_DIGEST_LEN);
	if (send_end && !sp->err)
		sendpipe_msg(sp, m,
			     rvmig_xmsg_encode_end(m, sizeof(m), total, s->digest, sp->pages,
						   sp->zero_pages),
			     total);
	return sp->err;
}

int rvmig_xsend_progress(rvmig_xsend *s, int timeout_ms)
{
	if (s->sp.ep)
		sendpipe_pump(&s->sp, timeout_ms);
	return s->sp.err;
}

bool rvmig_xsend_pending(const rvmig_xsend *s)
{
	return s->sp.ep && rvmig_client_pending(s->sp.ep);
}

void rvmig_xsend_abort(rvmig_xsend *s)
{
	struct sendpipe *sp = &s->sp;
	uint8_t m[1024];
	size_t n;

	if (!sp->ep || sp->err == -RVMIG_EPEER || s->peer_closed)
		return;
	rvmig_client_cancel(sp->ep);
	n = rvmig_xmsg_encode_abort(m, sp->msg_max < sizeof(m) ? sp->msg_max : sizeof(m), sp->err,
				    sp->errtxt);
	for (int tries = 0; tries < ABORT_TRIES; tries++) {
		int rc = rvmig_client_send_msg(sp->ep, m, n, s->in.read_total, UINT64_MAX);

		if (rc != -EAGAIN)
			break;
		if (rvmig_progress(sp->ep, 100) < 0)
			break;
	}
}

int rvmig_xsend_fail(rvmig_xsend *s, int err, bool link, const char *fmt, ...)
{
	va_list ap;
	char t[sizeof(s->sp.errtxt)];

	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	if (link && !s->sp.err)
		s->sp.link_err = true;
	sendpipe_fail(&s->sp, err, "%s", t);
	return err;
}

int rvmig_xsend_error(const rvmig_xsend *s, const char **text)
{
	if (text)
		*text = s->sp.errtxt;
	return s->sp.err;
}

bool rvmig_xsend_link_failed(const rvmig_xsend *s)
{
	return s->sp.err && s->sp.link_err;
}

void rvmig_xsend_stats(const rvmig_xsend *s, rvmig_xstats *st)
{
	xstats_clear(st);
	xstats_set(st, RVMIG_XSTAT_BYTES, s->in.read_total);
	xstats_set(st, RVMIG_XSTAT_ACKED, s->sp.acked);
	xstats_set(st, RVMIG_XSTAT_HANDED, s->handed);
	xstats_set(st, RVMIG_XSTAT_PAGES, s->sp.pages);
	xstats_set(st, RVMIG_XSTAT_ZERO_PAGES, s->sp.zero_pages);
	xstats_set(st, RVMIG_XSTAT_CONTROL_BYTES, s->sp.control_bytes);
	xstats_set(st, RVMIG_XSTAT_DATA_BYTES, s->sp.data_bytes);
	xstats_set(st, RVMIG_XSTAT_ZERO_BYTES, s->sp.zero_pages * RVMIG_STREAM_PAGE_SIZE);
	xstats_set(st, RVMIG_XSTAT_PLAIN_OFFSET, s->plain ? s->plain_from : UINT64_MAX);
	xstats_set(st, RVMIG_XSTAT_PAGE_COPY_BYTES, s->sp.page_copy_bytes);
}

rvmig_stream_parser *rvmig_xsend_parser(const rvmig_xsend *s)
{
	return s->parser;
}
