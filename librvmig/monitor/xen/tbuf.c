/* SPDX-License-Identifier: MIT */
/*
 * tbuf.c - the hypervisor's scheduler trace consumed in process, as
 * xenbaked did for XenMon: the per-pCPU trace buffers are mapped from Xen
 * and read at each sample, records merged by TSC into per-vCPU runstate
 * times (trace.c).
 *
 * Facts (Xen 4.17 public/trace.h, tools/xentrace/xentrace.c):
 * xc_tbuf_enable() gives the frame and size of struct t_info, which holds
 * the pages per buffer (tbuf_size) and, per pCPU, the offset in 32-bit
 * words of that buffer's frame list (0: no buffer).  Each buffer starts
 * with struct t_buf {cons, prod}, both counting modulo twice the data size;
 * Xen writes records at prod, the consumer moves cons on once it has read
 * them.  A record can straddle the end of the data area.  When a buffer is
 * full Xen drops records and later writes TRC_LOST_RECORDS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/log.h"
#include "monitor/xen/xen.h"

#define TB_PAGE 4096u
/* Pages per pCPU buffer when this backend enables the trace (xentrace's
 * default is 32): runstate records only, 16 bytes each; at 1 s samples a
 * pCPU could write 64 K of them before one is lost. */
#define TB_PAGES 256u
/* Runstate changes and continue-running (TRC_SCHED_MIN). */
#define TB_EVT_MASK 0x00021000u

struct tb_head {
	uint32_t cons, prod;
};

struct tb_info {
	uint16_t tbuf_size;
	uint16_t mfn_offset[];
};

void xen_tbuf_close(struct mon_backend *b)
{
	struct xen_tbuf *t = &b->tb;

	if (t->on && b->lib.xc_tbuf_disable(b->xch) < 0)
		LOG_WARN(b->ctx, "monitor", "xen: xc_tbuf_disable: %s", strerror(errno));
	for (unsigned i = 0; t->buf && i < t->ncpu; i++)
		if (t->buf[i])
			munmap(t->buf[i], t->buf_bytes);
	if (t->tinfo)
		munmap(t->tinfo, t->tinfo_bytes);
	free(t->buf);
	free(t->window);
	free(t->recs);
	xt_free(&t->st);
	memset(t, 0, sizeof(*t));
}

static int tb_fail(struct mon_backend *b, const char *what)
{
	LOG_WARN(b->ctx, "monitor",
		 "xen: no scheduler trace (%s: %s): waiting time not measured, run time from"
		 " libxenctrl", what, strerror(errno));
	xen_tbuf_close(b);
	return -1;
}

void xen_tbuf_open(struct mon_backend *b)
{
	struct xen_tbuf *t = &b->tb;
	const struct tb_info *ti;
	xc_physinfo_t pi = { 0 };
	unsigned long mfn = 0, size = 0;

	memset(t, 0, sizeof(*t));
	if (b->lib.xc_physinfo(b->xch, &pi) < 0) {
		tb_fail(b, "xc_physinfo");
		return;
	}
	if (b->lib.xc_tbuf_set_evt_mask(b->xch, TB_EVT_MASK) < 0) {
		tb_fail(b, "xc_tbuf_set_evt_mask");
		return;
	}
	if (b->lib.xc_tbuf_enable(b->xch, TB_PAGES, &mfn, &size) < 0) {
		tb_fail(b, "xc_tbuf_enable");
		return;
	}
	t->on = 1; /* from here on, close disables it again */
	t->tinfo_bytes = size;
	t->tinfo = b->lib.xc_map_foreign_range(b->xch, DOMID_XEN, (int)size, PROT_READ, mfn);
	if (!t->tinfo) {
		tb_fail(b, "mapping t_info");
		return;
	}
	ti = t->tinfo;
	if (!ti->tbuf_size) {
		errno = EINVAL;
		tb_fail(b, "t_info says 0 pages per buffer");
		return;
	}
	t->ncpu = pi.max_cpu_id + 1;
	t->buf_bytes = (size_t)ti->tbuf_size * TB_PAGE;
	t->data_bytes = t->buf_bytes - sizeof(struct tb_head);
	t->buf = calloc(t->ncpu, sizeof(*t->buf));
	t->window = malloc(t->data_bytes);
	if (!t->buf || !t->window) {
		errno = ENOMEM;
		tb_fail(b, "allocating");
		return;
	}
	for (unsigned i = 0; i < t->ncpu; i++) {
		xen_pfn_t *pfns;
		const uint32_t *list;

		/* offsets beyond the mapped t_info cannot be followed */
		if (sizeof(*ti) + (i + 1) * sizeof(uint16_t) > t->tinfo_bytes || !ti->mfn_offset[i])
			continue;
		if (((size_t)ti->mfn_offset[i] + ti->tbuf_size) * 4 > t->tinfo_bytes) {
			errno = EINVAL;
			tb_fail(b, "t_info's frame list runs past it");
			return;
		}
		list = (const uint32_t *)t->tinfo + ti->mfn_offset[i];
		pfns = calloc(ti->tbuf_size, sizeof(*pfns));
		if (!pfns) {
			errno = ENOMEM;
			tb_fail(b, "allocating");
			return;
		}
		for (unsigned j = 0; j < ti->tbuf_size; j++)
			pfns[j] = list[j];
		t->buf[i] = b->lib.xc_map_foreign_pages(b->xch, DOMID_XEN, PROT_READ | PROT_WRITE,
							 pfns, ti->tbuf_size);
		free(pfns);
		if (!t->buf[i]) {
			tb_fail(b, "mapping a pCPU's buffer");
			return;
		}
		/* what was there before this monitor is not ours to count */
		((struct tb_head *)t->buf[i])->cons = ((struct tb_head *)t->buf[i])->prod;
	}
	LOG_INFO(b->ctx, "monitor",
		 "xen: scheduler trace on: %u pCPUs, %zu KiB each, event mask 0x%x", t->ncpu,
		 t->buf_bytes / 1024, TB_EVT_MASK);
}

static int push_recs(struct xen_tbuf *t, const unsigned char *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		struct xt_rec r;
		size_t sz = xt_decode(p + off, len - off, &r);

		if (!sz)
			break; /* cannot happen: Xen moves prod by whole records */
		off += sz;
		if (t->nrecs == t->recs_cap) {
			size_t c = t->recs_cap ? 2 * t->recs_cap : 4096;
			struct xt_rec *q = realloc(t->recs, c * sizeof(*q));

			if (!q)
				return -ENOMEM;
			t->recs = q;
			t->recs_cap = c;
		}
		t->recs[t->nrecs++] = r;
	}
	return 0;
}

int xen_tbuf_consume(struct mon_backend *b)
{
	struct xen_tbuf *t = &b->tb;
	int rc;

	if (!t->on)
		return 0;
	t->nrecs = 0;
	for (unsigned i = 0; i < t->ncpu; i++) {
		volatile struct tb_head *h = t->buf[i];
		const unsigned char *data;
		uint32_t cons, prod;
		size_t win, start, first;

		if (!h)
			continue;
		cons = h->cons;
		prod = h->prod;
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* prod, then the records */
		if (cons == prod || cons >= 2 * t->data_bytes || prod >= 2 * t->data_bytes)
			continue;
		win = prod > cons ? prod - cons : prod + 2 * t->data_bytes - cons;
		if (win > t->data_bytes)
			win = t->data_bytes;
		data = (const unsigned char *)t->buf[i] + sizeof(struct tb_head);
		start = cons % t->data_bytes;
		first = win < t->data_bytes - start ? win : t->data_bytes - start;
		memcpy(t->window, data + start, first);
		memcpy(t->window + first, data, win - first);
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* read, then free the space */
		h->cons = prod;
		t->bytes += win;
		if ((rc = push_recs(t, t->window, win)) < 0)
			return rc;
	}
	if ((rc = xt_apply_batch(&t->st, t->recs, t->nrecs)) < 0)
		return rc;
	rc = t->st.lost != t->lost_seen;
	t->lost_seen = t->st.lost;
	return rc;
}
