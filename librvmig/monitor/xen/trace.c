/* SPDX-License-Identifier: MIT */
/* trace.c - Xen scheduler trace records to per-vCPU runstate times (trace.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/xen/trace.h"

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t xt_decode(const void *buf, size_t len, struct xt_rec *r)
{
	const unsigned char *p = buf;
	uint32_t h;
	size_t size;

	if (len < 4)
		return 0;
	h = le32(p);
	memset(r, 0, sizeof(*r));
	r->event = h & 0x0fffffffu;
	r->nextra = (h >> 28) & 7u;
	r->has_tsc = (int)(h >> 31);
	size = 4 + (r->has_tsc ? 8u : 0u) + 4u * r->nextra;
	if (len < size)
		return 0;
	p += 4;
	if (r->has_tsc) {
		r->tsc = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
		p += 8;
	}
	for (unsigned i = 0; i < r->nextra; i++)
		r->extra[i] = le32(p + 4 * i);
	return size;
}

uint64_t xt_cycles_ns(uint64_t cycles, uint32_t cpu_khz)
{
	if (!cpu_khz)
		return 0;
	/* cycles * 1e6 / khz without overflow for any 64-bit count. */
	return cycles / cpu_khz * 1000000u + cycles % cpu_khz * 1000000u / cpu_khz;
}

static int vcpu_cmp(uint16_t d1, uint16_t v1, uint16_t d2, uint16_t v2)
{
	uint32_t a = (uint32_t)d1 << 16 | v1, b = (uint32_t)d2 << 16 | v2;

	return a < b ? -1 : a > b;
}

/* The vCPU's slot (binary search), or where it goes; *found says which. */
static size_t vcpu_pos(const struct xt_state *s, uint16_t dom, uint16_t vcpu, int *found)
{
	size_t lo = 0, hi = s->nv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = vcpu_cmp(s->v[mid].dom, s->v[mid].vcpu, dom, vcpu);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

const struct xt_vcpu *xt_find(const struct xt_state *s, uint16_t dom, uint16_t vcpu)
{
	int found;
	size_t i = vcpu_pos(s, dom, vcpu, &found);

	return found ? &s->v[i] : NULL;
}

static struct xt_vcpu *vcpu_get(struct xt_state *s, uint16_t dom, uint16_t vcpu)
{
	int found;
	size_t i = vcpu_pos(s, dom, vcpu, &found);

	if (found)
		return &s->v[i];
	if (s->nv == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct xt_vcpu *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	memmove(&s->v[i + 1], &s->v[i], (s->nv - i) * sizeof(s->v[0]));
	s->nv++;
	memset(&s->v[i], 0, sizeof(s->v[i]));
	s->v[i].dom = dom;
	s->v[i].vcpu = vcpu;
	return &s->v[i];
}

int xt_apply(struct xt_state *s, const struct xt_rec *r)
{
	struct xt_vcpu *v;
	unsigned from, to;

	if (r->event == XT_EV_LOST_RECORDS) {
		/* Changes are missing: no vCPU's next change can be joined to
		 * its last one. */
		s->lost++;
		for (size_t i = 0; i < s->nv; i++)
			s->v[i].known = 0;
		return 0;
	}
	if (r->event == XT_EV_CONTINUE_RUNNING && r->has_tsc && r->nextra >= 1) {
		v = vcpu_get(s, (uint16_t)(r->extra[0] >> 16), (uint16_t)(r->extra[0] & 0xffffu));
		if (!v)
			return -ENOMEM;
		if (v->known && r->tsc < v->last_tsc) {
			s->backwards++;
			return 0;
		}
		if (v->known && v->state == XT_RUNNING)
			v->cycles[XT_RUNNING] += r->tsc - v->last_tsc;
		else if (v->known)
			s->mismatch++;
		v->state = XT_RUNNING;
		v->last_tsc = r->tsc;
		v->known = 1;
		if (r->tsc > s->max_tsc)
			s->max_tsc = r->tsc;
		return 0;
	}
	if ((r->event & ~XT_RUNSTATE_MASK) != XT_EV_RUNSTATE_CHANGE || !r->has_tsc || r->nextra < 1)
		return 0;
	if (r->tsc > s->max_tsc)
		s->max_tsc = r->tsc;
	from = (r->event >> 8) & 3u;
	to = (r->event >> 4) & 3u;
	v = vcpu_get(s, (uint16_t)(r->extra[0] >> 16), (uint16_t)(r->extra[0] & 0xffffu));
	if (!v)
		return -ENOMEM;
	s->records++;
	if (v->known) {
		if (r->tsc < v->last_tsc) {
			s->backwards++;
			return 0;
		}
		if (v->state != from)
			s->mismatch++;
		v->cycles[from] += r->tsc - v->last_tsc;
		if (from == XT_OFFLINE && to == XT_RUNNING)
			v->parked_cycles += r->tsc - v->last_tsc;
	}
	if (to == XT_RUNNING)
		v->runs++;
	v->state = (uint8_t)to;
	v->last_tsc = r->tsc;
	v->known = 1;
	return 0;
}

static int rec_tsc_cmp(const void *a, const void *b)
{
	const struct xt_rec *x = a, *y = b;

	return x->tsc < y->tsc ? -1 : x->tsc > y->tsc;
}

int xt_apply_batch(struct xt_state *s, struct xt_rec *recs, size_t n)
{
	/* qsort is not stable; records of one pCPU are in TSC order already
	 * and equal TSCs on two pCPUs are for two different vCPUs in
	 * practice, so order among equals does not change the sums. */
	if (n == 0)
		return 0; /* recs may be NULL: qsort must not see it */
	qsort(recs, n, sizeof(recs[0]), rec_tsc_cmp);
	for (size_t i = 0; i < n; i++) {
		int rc = xt_apply(s, &recs[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void xt_free(struct xt_state *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

long xt_apply_file(struct xt_state *s, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	struct xt_rec *recs = NULL, r;
	size_t n = 0, cap = 0, off = 0;
	long rc;

	while (off < len) {
		size_t sz = xt_decode(p + off, len - off, &r);

		if (!sz) {
			rc = -EINVAL; /* a record cut by the end of the file */
			goto out;
		}
		off += sz;
		if (r.event == XT_EV_CPU_CHANGE) {
			if (r.nextra < 2 || r.extra[1] > len - off) {
				rc = -EINVAL;
				goto out;
			}
			continue; /* the chunk's records follow */
		}
		if (n == cap) {
			size_t c = cap ? 2 * cap : 1024;
			struct xt_rec *q;

			if (c > SIZE_MAX / sizeof(*q)) {
				rc = -ENOMEM;
				goto out;
			}
			q = realloc(recs, c * sizeof(*q));
			if (!q) {
				rc = -ENOMEM;
				goto out;
			}
			recs = q;
			cap = c;
		}
		recs[n++] = r;
	}
	rc = xt_apply_batch(s, recs, n);
	if (rc == 0)
		rc = (long)n;
out:
	free(recs);
	return rc;
}
