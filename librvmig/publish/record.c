/* SPDX-License-Identifier: MIT */
/* record.c - the text of a transfer file: writer and validating reader. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig/common.h>
#include <rvmig/publish.h>

#include "publish/record.h"

static const char *const state_names[RVMIG_TRANSFER__NSTATES] = {
	[RVMIG_TRANSFER_SETUP] = "setup",
	[RVMIG_TRANSFER_ACTIVE] = "active",
	[RVMIG_TRANSFER_COMPLETED] = "completed",
	[RVMIG_TRANSFER_FAILED] = "failed",
};

RVMIG_API const char *rvmig_transfer_state_name(int state)
{
	return state >= 0 && state < RVMIG_TRANSFER__NSTATES ? state_names[state] : "?";
}

void xrec_escape(char *out, size_t cap, const char *s)
{
	rvmig_text_escape(out, cap, s, s ? strlen(s) : 0);
}

/* ---- writer ---- */

struct wbuf {
	char *p;
	size_t cap, len;
	bool full;
};

static void put(struct wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct wbuf *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->cap - w->len) {
		w->full = true;
		return;
	}
	w->len += (size_t)n;
}

static void put_u64(struct wbuf *w, const char *key, uint64_t v)
{
	put(w, "%s %" PRIu64 "\n", key, v);
}

/* Strings are escaped by whoever filled the struct; empty ones are left out. */
static void put_str(struct wbuf *w, const char *key, const char *v)
{
	if (v[0])
		put(w, "%s %s\n", key, v);
}

size_t xrec_format(char *buf, size_t cap, const struct xrec_file *f,
		   const struct xrec_transfer *x, size_t n)
{
	struct wbuf w = { buf, cap, 0, cap == 0 };

	put(&w, "%s %d\n", XREC_MAGIC, XREC_VERSION);
	put_u64(&w, "pid", f->pid);
	put_u64(&w, "pid_start", f->pid_start);
	put_str(&w, "tool", f->tool);
	put_u64(&w, "updated_ns", f->updated_ns);
	for (size_t i = 0; i < n; i++) {
		const struct xrec_transfer *t = &x[i];

		put_u64(&w, "transfer", t->id);
		put(&w, "state %s\n", rvmig_transfer_state_name(t->state));
		put_str(&w, "transport", t->transport);
		put_str(&w, "peer", t->peer);
		put_str(&w, "mode", t->mode);
		put_u64(&w, "started_ns", t->started_ns);
		put_u64(&w, "time_elapsed", t->elapsed_ms);
		if (t->total_known) {
			put_u64(&w, "data_total", t->total);
			put_u64(&w, "data_remaining", t->remaining);
		}
		put_u64(&w, "data_processed", t->processed);
		put_u64(&w, "bytes_per_s", t->bytes_per_s);
		put_u64(&w, "pages", t->pages);
		put_u64(&w, "zero_pages", t->zero_pages);
		put_u64(&w, "cpu_ns", t->cpu_ns);
		put_u64(&w, "wire_sent", t->wire_sent);
		put_u64(&w, "wire_recv", t->wire_recv);
	}
	put(&w, "end\n");
	return w.full ? 0 : w.len;
}

/* ---- reader ---- */

enum key_kind { K_U64, K_STR, K_STATE };

/* Where a key's value goes: in the header (H) or the current block (T). */
enum key_id {
	H_PID, H_PID_START, H_TOOL, H_UPDATED,
	T_STATE, T_TRANSPORT, T_PEER, T_MODE, T_STARTED, T_ELAPSED, T_TOTAL, T_REMAINING,
	T_PROCESSED, T_BPS, T_PAGES, T_ZERO, T_CPU, T_WSENT, T_WRECV,
	K__COUNT
};

static const struct {
	const char *name;
	enum key_kind kind;
	size_t max; /* strings: bound of the escaped text */
} keys[K__COUNT] = {
	[H_PID] = { "pid", K_U64, 0 },
	[H_PID_START] = { "pid_start", K_U64, 0 },
	[H_TOOL] = { "tool", K_STR, XREC_TOOL_MAX },
	[H_UPDATED] = { "updated_ns", K_U64, 0 },
	[T_STATE] = { "state", K_STATE, 0 },
	[T_TRANSPORT] = { "transport", K_STR, XREC_TRANSPORT_MAX },
	[T_PEER] = { "peer", K_STR, XREC_PEER_MAX },
	[T_MODE] = { "mode", K_STR, XREC_MODE_MAX },
	[T_STARTED] = { "started_ns", K_U64, 0 },
	[T_ELAPSED] = { "time_elapsed", K_U64, 0 },
	[T_TOTAL] = { "data_total", K_U64, 0 },
	[T_REMAINING] = { "data_remaining", K_U64, 0 },
	[T_PROCESSED] = { "data_processed", K_U64, 0 },
	[T_BPS] = { "bytes_per_s", K_U64, 0 },
	[T_PAGES] = { "pages", K_U64, 0 },
	[T_ZERO] = { "zero_pages", K_U64, 0 },
	[T_CPU] = { "cpu_ns", K_U64, 0 },
	[T_WSENT] = { "wire_sent", K_U64, 0 },
	[T_WRECV] = { "wire_recv", K_U64, 0 },
};

struct parser {
	struct xrec_file *f;
	struct xrec_transfer *t; /* the current block, NULL in the header */
	uint32_t seen;           /* keys seen in the header or the current block */
	const char **why;
	size_t cap;
};

static int parse_u64(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0 || n > 20)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		d = (unsigned)(v[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* An escaped string as rvmig_text_escape() writes them. */
static bool valid_escaped(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] != '\\')
			continue;
		if (i + 1 >= n)
			return false;
		switch (v[i + 1]) {
		case '\\': case 'n': case 'r': case 't':
			i++;
			break;
		case 'x':
			if (i + 3 >= n || !is_hex(v[i + 2]) || !is_hex(v[i + 3]))
				return false;
			i += 3;
			break;
		default:
			return false;
		}
	}
	return true;
}

static int fail(struct parser *p, const char *why, int err)
{
	*p->why = why;
	return err;
}

static int new_block(struct parser *p, const char *v, size_t n)
{
	struct xrec_file *f = p->f;
	uint64_t id;

	if (parse_u64(v, n, &id))
		return fail(p, "transfer: not a number", -EINVAL);
	if (!p->t && (!(p->seen & (1u << H_PID)) || !(p->seen & (1u << H_PID_START)) ||
		      !(p->seen & (1u << H_TOOL))))
		return fail(p, "pid, pid_start or tool missing before the first transfer", -EINVAL);
	if (p->t && !(p->seen & (1u << T_STATE)))
		return fail(p, "a transfer without a state", -EINVAL);
	if (f->n == XREC_MAX_TRANSFERS)
		return fail(p, "too many transfers", -EFBIG);
	if (f->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		struct xrec_transfer *x = realloc(f->x, cap * sizeof(*x));

		if (!x)
			return fail(p, "out of memory", -ENOMEM);
		f->x = x;
		p->cap = cap;
	}
	p->t = &f->x[f->n++];
	memset(p->t, 0, sizeof(*p->t));
	p->t->id = id;
	p->seen = 0;
	return 0;
}

static int set_value(struct parser *p, enum key_id k, const char *v, size_t n)
{
	struct xrec_transfer *t = p->t;
	uint64_t u = 0;
	char *s = NULL;

	if (p->seen & (1u << k))
		return fail(p, "a key given twice", -EINVAL);
	p->seen |= 1u << k;
	switch (keys[k].kind) {
	case K_U64: {
		int rc = parse_u64(v, n, &u);

		if (rc)
			return fail(p, rc == -ERANGE ? "number out of range" : "not a number", rc);
		break;
	}
	case K_STR: /* the writer leaves empty strings out */
		if (n == 0)
			return fail(p, "empty string", -EINVAL);
		if (n > keys[k].max)
			return fail(p, "string too long", -EINVAL);
		if (!valid_escaped(v, n))
			return fail(p, "bad escape in a string", -EINVAL);
		break;
	case K_STATE:
		for (int i = 0; i < RVMIG_TRANSFER__NSTATES; i++) {
			if (strlen(state_names[i]) == n && !memcmp(state_names[i], v, n)) {
				t->state = i;
				return 0;
			}
		}
		return fail(p, "unknown state", -EINVAL);
	}
	switch (k) {
	case H_PID: p->f->pid = u; break;
	case H_PID_START: p->f->pid_start = u; break;
	case H_TOOL: s = p->f->tool; break;
	case H_UPDATED: p->f->updated_ns = u; break;
	case T_TRANSPORT: s = t->transport; break;
	case T_PEER: s = t->peer; break;
	case T_MODE: s = t->mode; break;
	case T_STARTED: t->started_ns = u; break;
	case T_ELAPSED: t->elapsed_ms = u; break;
	case T_TOTAL: t->total = u; t->total_known = true; break;
	case T_REMAINING: t->remaining = u; break;
	case T_PROCESSED: t->processed = u; break;
	case T_BPS: t->bytes_per_s = u; break;
	case T_PAGES: t->pages = u; break;
	case T_ZERO: t->zero_pages = u; break;
	case T_CPU: t->cpu_ns = u; break;
	case T_WSENT: t->wire_sent = u; break;
	case T_WRECV: t->wire_recv = u; break;
	default: break;
	}
	if (s) {
		memcpy(s, v, n);
		s[n] = 0;
	}
	return 0;
}

static int parse_line(struct parser *p, const char *l, size_t n)
{
	size_t kl = 0;
	const char *v;
	size_t vn;

	while (kl < n && ((l[kl] >= 'a' && l[kl] <= 'z') || (l[kl] >= '0' && l[kl] <= '9') ||
			  l[kl] == '_'))
		kl++;
	if (kl == 0 || kl > 32 || kl == n || l[kl] != ' ')
		return fail(p, "not a KEY VALUE line", -EINVAL);
	v = l + kl + 1;
	vn = n - kl - 1;
	if (vn > XREC_VALUE_MAX)
		return fail(p, "value too long", -EINVAL);
	for (size_t i = 0; i < vn; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return fail(p, "a byte that is not printable ASCII", -EINVAL);
	if (kl == 8 && !memcmp(l, "transfer", 8))
		return new_block(p, v, vn);
	for (int k = 0; k < K__COUNT; k++) {
		bool header_key = k < T_STATE;

		if (strlen(keys[k].name) != kl || memcmp(keys[k].name, l, kl))
			continue;
		if (header_key != !p->t)
			return fail(p, header_key ? "a process key inside a transfer"
						  : "a transfer key before any transfer",
				    -EINVAL);
		return set_value(p, (enum key_id)k, v, vn);
	}
	return 0; /* unknown key: skipped */
}

int xrec_parse(const char *s, size_t len, struct xrec_file *f, const char **why, unsigned *line)
{
	static const char head[] = XREC_MAGIC " 1\n";
	struct parser p = { .f = f, .why = why };
	size_t off;
	bool ended = false;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	*why = "";
	*line = 0;
	if (len > XREC_FILE_MAX) {
		*why = "file too large";
		return -EFBIG;
	}
	*line = 1;
	if (len < sizeof(head) - 1 || memcmp(s, head, sizeof(head) - 1)) {
		*why = "not an rvmig-transfers 1 file";
		return -EINVAL;
	}
	off = sizeof(head) - 1;
	while (off < len) {
		const char *l = s + off;
		const char *nl = memchr(l, '\n', len - off);
		size_t n;

		++*line;
		if (!nl) {
			rc = fail(&p, "last line not ended", -EINVAL);
			break;
		}
		n = (size_t)(nl - l);
		off += n + 1;
		if (ended) {
			rc = fail(&p, "text after end", -EINVAL);
			break;
		}
		if (n == 3 && !memcmp(l, "end", 3)) {
			ended = true;
			continue;
		}
		if ((rc = parse_line(&p, l, n)))
			break;
	}
	if (!rc)
		*line = 0; /* what follows is about the whole file */
	if (!rc && !ended)
		rc = fail(&p, "no end line", -EINVAL);
	if (!rc && p.t && !(p.seen & (1u << T_STATE)))
		rc = fail(&p, "a transfer without a state", -EINVAL);
	if (!rc && !f->n && !((p.seen & (1u << H_PID)) && (p.seen & (1u << H_PID_START)) &&
			      (p.seen & (1u << H_TOOL))))
		rc = fail(&p, "pid, pid_start or tool missing", -EINVAL);
	if (!rc) {
		for (size_t i = 0; i < f->n; i++) {
			struct xrec_transfer *t = &f->x[i];

			if (t->total_known && t->remaining > t->total) {
				rc = fail(&p, "data_remaining above data_total", -EINVAL);
				break;
			}
			if (!t->total_known && t->remaining) {
				rc = fail(&p, "data_remaining without data_total", -EINVAL);
				break;
			}
			if (t->zero_pages > t->pages) {
				rc = fail(&p, "more zero pages than pages", -EINVAL);
				break;
			}
		}
	}
	if (rc)
		xrec_file_free(f);
	return rc;
}

void xrec_file_free(struct xrec_file *f)
{
	free(f->x);
	f->x = NULL;
	f->n = 0;
}
