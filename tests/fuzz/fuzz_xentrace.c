/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the Xen scheduler trace decoder
 * (librvmig/monitor/xen/trace.c) on arbitrary bytes, both as a xentrace
 * file (xt_apply_file) and as a live buffer's records (xt_decode +
 * xt_apply).  Invariants: a record's size covers its header, TSC and data
 * words; parked time is part of offline time; the vCPU table stays sorted.
 */
#include <stdint.h>
#include <stdlib.h>

#include "monitor/xen/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct xt_state *s)
{
	for (size_t i = 0; i < s->nv; i++) {
		const struct xt_vcpu *v = &s->v[i];

		if (v->parked_cycles > v->cycles[XT_OFFLINE])
			abort();
		if (i && ((uint32_t)s->v[i - 1].dom << 16 | s->v[i - 1].vcpu) >=
				 ((uint32_t)v->dom << 16 | v->vcpu))
			abort();
		if (xt_find(s, v->dom, v->vcpu) != v)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xt_state s = { 0 };
	struct xt_rec r;
	size_t off = 0, n;

	xt_apply_file(&s, data, size);
	check(&s);
	xt_free(&s);
	while ((n = xt_decode(data + off, size - off, &r)) > 0) {
		if (n != 4 + (r.has_tsc ? 8u : 0u) + 4u * r.nextra || n > size - off)
			abort();
		off += n;
		if (xt_apply(&s, &r) < 0)
			break;
	}
	check(&s);
	xt_free(&s);
	return 0;
}
