/* SPDX-License-Identifier: MIT */
/* interval.c - snapshot building and interval math (pure computation). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/interval.h"

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

void mon_task_interval(const struct mon_task *p, const struct mon_task *c, uint64_t prev_boot_ns,
		       uint64_t cur_boot_ns, uint64_t interval_ns, struct mon_times *t)
{
	uint64_t run, wait, slices, wall;

	if (p) {
		run = sub0(c->run_ns, p->run_ns);
		wait = sub0(c->wait_ns, p->wait_ns);
		slices = sub0(c->slices, p->slices);
		wall = interval_ns;
	} else if (c->start_ns && c->start_ns + MON_START_SLACK_NS >= prev_boot_ns) {
		run = c->run_ns;
		wait = c->wait_ns;
		slices = c->slices;
		wall = sub0(cur_boot_ns, c->start_ns);
		if (wall > interval_ns)
			wall = interval_ns;
	} else {
		return;
	}
	t->run_ns += run;
	t->wait_ns += wait;
	t->slices += slices;
	t->blocked_ns += sub0(wall, run + wait);
}

void mon_times_finish(struct mon_times *t, uint64_t interval_ns)
{
	double sum = (double)t->run_ns + (double)t->wait_ns + (double)t->blocked_ns;

	if (sum > 0) {
		t->run_share = (double)t->run_ns / sum;
		t->wait_share = (double)t->wait_ns / sum;
		t->blocked_share = (double)t->blocked_ns / sum;
	}
	if (interval_ns)
		t->execs_per_s = (double)t->slices * 1e9 / (double)interval_ns;
}

static void build_pcpus(const struct mon_raw *prev, const struct mon_raw *cur,
			struct mon_pcpu *out)
{
	size_t j = 0;

	for (size_t i = 0; i < cur->npcpu; i++) {
		const struct mon_pcpu_raw *c = &cur->pcpu[i];
		uint64_t didle, dtotal;

		out[i].id = c->id;
		out[i].idle_ns = c->idle_ns;
		out[i].freq_khz = c->freq_khz;
		/* Both lists ascend by id: walk prev along. */
		while (prev && j < prev->npcpu && prev->pcpu[j].id < c->id)
			j++;
		if (!prev || j >= prev->npcpu || prev->pcpu[j].id != c->id)
			continue;
		didle = sub0(c->idle_ns, prev->pcpu[j].idle_ns);
		dtotal = sub0(c->total_ns, prev->pcpu[j].total_ns);
		if (dtotal)
			out[i].idle_share = didle >= dtotal ? 1.0 : (double)didle / (double)dtotal;
	}
}

static uint64_t counter_delta(const struct mon_dom_raw *p, const struct mon_dom_raw *c,
			      unsigned flag, uint64_t pv, uint64_t cv)
{
	return p && (p->flags & flag) && (c->flags & flag) ? sub0(cv, pv) : 0;
}

static int build_dom(const struct mon_dom_raw *p, struct mon_dom_raw *c,
		     struct rvmig_monitor_dom *d)
{
	uint64_t interval = p ? sub0(c->mono_ns, p->mono_ns) : 0;
	uint64_t cpu_delta;

	if (p && (c->flags & RVMIG_MONITOR_DOM_GONE)) {
		/* Nothing left to read: the last counters stay. */
		c->group_cpu_ns = p->group_cpu_ns;
		c->throttled_ns = p->throttled_ns;
		c->pressure_ns = p->pressure_ns;
		c->flags |= p->flags & (RVMIG_MONITOR_DOM_THROTTLE | RVMIG_MONITOR_DOM_PRESSURE);
	}
	d->name = strdup(c->name ? c->name : "");
	if (!d->name)
		return -ENOMEM;
	if (c->ntasks) {
		d->vcpu = calloc(c->ntasks, sizeof(*d->vcpu));
		if (!d->vcpu)
			return -ENOMEM;
	}
	d->nvcpu = c->ntasks;
	if (c->nnets) {
		d->nets = malloc(c->nnets * sizeof(*d->nets));
		if (!d->nets)
			return -ENOMEM;
		memcpy(d->nets, c->nets, c->nnets * sizeof(*d->nets));
		d->nnets = c->nnets;
	}
	if (c->ndisks) {
		d->disks = malloc(c->ndisks * sizeof(*d->disks));
		if (!d->disks)
			return -ENOMEM;
		memcpy(d->disks, c->disks, c->ndisks * sizeof(*d->disks));
		d->ndisks = c->ndisks;
	}
	d->id = c->id;
	d->flags = c->flags | (p ? 0 : RVMIG_MONITOR_DOM_NEW);
	d->mem_cur = c->mem_cur;
	d->mem_max = c->mem_max;

	c->task_cpu_ns = p ? p->task_cpu_ns : 0;
	for (size_t i = 0; i < c->ntasks; i++) {
		const struct mon_task *ct = &c->tasks[i];
		struct rvmig_monitor_vcpu *v = &d->vcpu[i];

		v->id = ct->tid;
		v->cpu_ns = ct->cpu_ns ? ct->cpu_ns : ct->run_ns;
		v->flags = ct->flags;
		v->pcpu = ct->pcpu;
		if (!p) {
			c->task_cpu_ns += ct->run_ns; /* the baseline */
			continue;
		}
		mon_task_interval(mon_dom_find_task(p, ct->tid), ct, p->boot_ns, c->boot_ns,
				  interval, &v->t);
		mon_times_finish(&v->t, interval);
		d->t.run_ns += v->t.run_ns;
		d->t.wait_ns += v->t.wait_ns;
		d->t.blocked_ns += v->t.blocked_ns;
		d->t.slices += v->t.slices;
	}
	mon_times_finish(&d->t, interval);
	c->task_cpu_ns += d->t.run_ns;

	if (c->group_cpu_ns != MON_NO_COUNTER) {
		d->cpu_ns = c->group_cpu_ns;
		cpu_delta = p && p->group_cpu_ns != MON_NO_COUNTER ?
				    sub0(c->group_cpu_ns, p->group_cpu_ns) : d->t.run_ns;
	} else {
		d->cpu_ns = c->task_cpu_ns;
		cpu_delta = d->t.run_ns;
	}
	if (interval)
		d->cpu_pct = (double)cpu_delta * 100.0 / (double)interval;
	d->throttled_ns = counter_delta(p, c, RVMIG_MONITOR_DOM_THROTTLE, p ? p->throttled_ns : 0,
					c->throttled_ns);
	d->pressure_ns = counter_delta(p, c, RVMIG_MONITOR_DOM_PRESSURE, p ? p->pressure_ns : 0,
				       c->pressure_ns);
	return 0;
}

int mon_snap_build(const struct mon_raw *prev, struct mon_raw *cur, rvmig_monitor_snap **out)
{
	struct rvmig_monitor_snap *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->real_ns = cur->real_ns;
	s->interval_ns = prev ? sub0(cur->mono_ns, prev->mono_ns) : 0;
	s->mem_total = cur->mem_total;
	s->mem_free = cur->mem_free;
	s->mem_avail = cur->mem_avail;
	if (cur->npcpu) {
		s->pcpu = calloc(cur->npcpu, sizeof(*s->pcpu));
		if (!s->pcpu)
			goto nomem;
		s->npcpu = cur->npcpu;
		build_pcpus(prev, cur, s->pcpu);
	}
	if (cur->ndom) {
		s->dom = calloc(cur->ndom, sizeof(*s->dom));
		if (!s->dom)
			goto nomem;
		s->ndom = cur->ndom;
	}
	for (size_t i = 0; i < cur->ndom; i++)
		if (build_dom(mon_raw_find_dom(prev, cur->dom[i].key), &cur->dom[i], &s->dom[i]))
			goto nomem;
	*out = s;
	return 0;
nomem:
	rvmig_monitor_snap_free(s);
	return -ENOMEM;
}
