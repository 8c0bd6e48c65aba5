/* SPDX-License-Identifier: MIT */
/* raw.c - allocation and lookup helpers for raw samples. */
#include <stdlib.h>
#include <string.h>

#include "monitor/raw.h"

void mon_raw_free(struct mon_raw *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ndom; i++) {
		free(r->dom[i].name);
		free(r->dom[i].tasks);
		free(r->dom[i].nets);
		free(r->dom[i].disks);
	}
	free(r->dom);
	free(r->pcpu);
	memset(r, 0, sizeof(*r));
}

struct mon_dom_raw *mon_raw_add_dom(struct mon_raw *r)
{
	struct mon_dom_raw *d = realloc(r->dom, (r->ndom + 1) * sizeof(*d));

	if (!d)
		return NULL;
	r->dom = d;
	d = &r->dom[r->ndom++];
	memset(d, 0, sizeof(*d));
	d->group_cpu_ns = MON_NO_COUNTER;
	return d;
}

const struct mon_dom_raw *mon_raw_find_dom(const struct mon_raw *r, uint64_t key)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->ndom; i++)
		if (r->dom[i].key == key)
			return &r->dom[i];
	return NULL;
}

const struct mon_task *mon_dom_find_task(const struct mon_dom_raw *d, uint64_t tid)
{
	size_t lo = 0, hi = d ? d->ntasks : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->tasks[mid].tid == tid)
			return &d->tasks[mid];
		if (d->tasks[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int task_cmp(const void *a, const void *b)
{
	const struct mon_task *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

void mon_dom_sort_tasks(struct mon_dom_raw *d)
{
	size_t n = 0;

	if (d->ntasks < 2)
		return;
	qsort(d->tasks, d->ntasks, sizeof(d->tasks[0]), task_cmp);
	for (size_t i = 0; i < d->ntasks; i++)
		if (n == 0 || d->tasks[i].tid != d->tasks[n - 1].tid)
			d->tasks[n++] = d->tasks[i];
	d->ntasks = n;
}
