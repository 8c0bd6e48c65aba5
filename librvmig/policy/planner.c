/* SPDX-License-Identifier: MIT */
/*
 * planner.c - the parallel-migration planner: a fluid event simulation of
 * a queue of save / restore / live-migration transfers sharing one link.
 *
 * Pre-copy (live migration), as Xen 4.17's libxenguest does it
 * (tools/libs/guest/xg_sr_save.c: send_memory_live() and
 * simple_precopy_policy(), SPP_MAX_ITERATIONS 5, SPP_TARGET_DIRTY_COUNT
 * 50): round 0 sends all memory M while the guest runs; the pages the
 * guest dirtied meanwhile, V = min(M, D * round time), are sent in the
 * next round, and so on.  After each round the policy stops once 5 live
 * rounds are done; otherwise the dirty count is read, and when it is
 * below 50 pages those pages still go in one more live round, after
 * which it stops.  Then the guest is suspended and the pages dirtied
 * during the last live round are sent: that stop-and-copy plus
 * stop_overhead_s (the link's and the transfer's own) is the downtime.
 * With a fixed rate R and lambda = D/R the rounds carry M * lambda^i, so the data sent is
 * M (1 - lambda^(n+1)) / (1 - lambda) for n live rounds after the first;
 * lambda >= 1 never converges and is cut by the 5-round rule with every
 * round a full M.  Save and restore send M once; the domain is stopped
 * throughout.
 *
 * Sharing: the n transfers that are sending split the link's effective
 * bandwidth B / (1 + contention (n - 1)) equally, each at most
 * per_transfer_cap; the rates change whenever one starts sending or
 * finishes, so the simulation steps from event to event (round ends,
 * overheads over) with exact fluid progress between them.  A transfer
 * takes a concurrency slot from its start (its overhead first: the
 * link's and its own, the toolstack's fixed work) to its
 * end, and the next one in the queue starts the moment a slot frees: a
 * stream, not waves.
 */
#include <math.h>
#include <stdlib.h>

#include "policy/common.h"
#include "policy/plan.h"

#define DEF_MAX_ITERATIONS 5 /* SPP_MAX_ITERATIONS, xg_sr_save.c */
#define DEF_DIRTY_THRESHOLD 50 /* SPP_TARGET_DIRTY_COUNT, pages */
#define DEF_PAGE_SIZE 4096
#define DEF_MAX_CONCURRENT 8

enum { W_WAIT, W_OVERHEAD, W_SEND, W_DONE };

struct run {
	const struct rvmig_transfer *t;
	int state;
	double ready;        /* W_OVERHEAD: when it starts sending */
	double remaining;    /* W_SEND: bytes left in this round */
	double round_start;
	unsigned round;      /* 0-based */
	int last_live;       /* this live round is the last one */
	int stop;            /* this round is the stop-and-copy */
};

static int link_norm(const struct rvmig_link *in, struct rvmig_link *l)
{
	if (!in || pol_in(l, sizeof(*l), in) < 0)
		return -EINVAL;
	if (!pol_num_ok(l->bandwidth, 0, 1) || !pol_num_ok(l->per_transfer_cap, 0, 0) ||
	    !pol_num_ok(l->overhead_s, 0, 0) || !pol_num_ok(l->stop_overhead_s, 0, 0) ||
	    !pol_num_ok(l->max_downtime_s, 0, 0) || !pol_num_ok(l->contention, 0, 0) ||
	    l->contention > PLAN_MAX_CONTENTION)
		return -EINVAL;
	if (l->per_transfer_cap == 0 || l->per_transfer_cap > l->bandwidth)
		l->per_transfer_cap = l->bandwidth;
	l->max_iterations = l->max_iterations ? l->max_iterations : DEF_MAX_ITERATIONS;
	l->dirty_threshold = l->dirty_threshold ? l->dirty_threshold : DEF_DIRTY_THRESHOLD;
	l->page_size = l->page_size ? l->page_size : DEF_PAGE_SIZE;
	l->max_concurrent = l->max_concurrent ? l->max_concurrent : DEF_MAX_CONCURRENT;
	if (l->max_concurrent > PLAN_MAX_CONCURRENT || l->max_iterations > 1000)
		return -EINVAL;
	return 0;
}

RVMIG_API int rvmig_planner_create(const struct rvmig_link *link, rvmig_planner **out)
{
	struct rvmig_link l;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	rc = link_norm(link, &l);
	if (rc < 0)
		return rc;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->link = l;
	return 0;
}

RVMIG_API void rvmig_planner_destroy(rvmig_planner *pl)
{
	if (!pl)
		return;
	free(pl->t);
	free(pl);
}

RVMIG_API int rvmig_planner_add(rvmig_planner *pl, const struct rvmig_transfer *t)
{
	struct rvmig_transfer x;

	if (!pl || !t || pol_in(&x, sizeof(x), t) < 0)
		return -EINVAL;
	if (x.kind < RVMIG_XFER_MIGRATE || x.kind > RVMIG_XFER_RESTORE ||
	    !pol_num_ok(x.mem_bytes, 0, 1) || !pol_num_ok(x.dirty_rate, 0, 0) ||
	    !pol_num_ok(x.overhead_s, 0, 0) || !pol_num_ok(x.stop_overhead_s, 0, 0))
		return -EINVAL;
	if (pl->n >= PLAN_MAX_TRANSFERS)
		return -E2BIG;
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 16;
		struct rvmig_transfer *v = realloc(pl->t, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pl->t = v;
		pl->cap = cap;
	}
	pl->t[pl->n] = x;
	return (int)pl->n++;
}

/* Round `r` of run `w` ended at `now`: the entry's figures, and the next
 * round or the end.  Returns 1 when the transfer is done. */
static int round_end(const struct rvmig_link *l, struct run *w, struct rvmig_plan_entry *e,
		     double now)
{
	double dur = now - w->round_start, v;
	unsigned done;

	if (w->t->kind != RVMIG_XFER_MIGRATE || w->stop) {
		e->end_s = now;
		e->rounds = w->round + 1;
		e->downtime_s = w->t->kind == RVMIG_XFER_MIGRATE
				? dur + l->stop_overhead_s + w->t->stop_overhead_s
				: now - e->start_s;
		return 1;
	}
	done = w->round + 1;
	v = fmin(w->t->mem_bytes, w->t->dirty_rate * dur);
	/* Nothing dirtied: nothing left to send live either. */
	if (w->last_live || done >= l->max_iterations || v == 0)
		w->stop = 1;
	else if (v < (double)l->dirty_threshold * l->page_size)
		w->last_live = 1;
	w->round++;
	w->remaining = v;
	w->round_start = now;
	e->bytes += v;
	return 0;
}

/* Sends nothing once a round is this close to its end (rounding). */
static int round_over(const struct run *w)
{
	return w->remaining <= 1e-9 * w->t->mem_bytes;
}

/* Simulates transfers idx[0..n) in that order, k at a time; fills e[] (in
 * the order of pl->t).  Returns the makespan. */
static double simulate(const struct rvmig_planner *pl, const size_t *idx, size_t n, unsigned k,
		       struct run *w, size_t *act, struct rvmig_plan_entry *e)
{
	const struct rvmig_link *l = &pl->link;
	size_t next = 0, nact = 0, ndone = 0;
	double now = 0;

	for (size_t q = 0; q < n; q++) {
		w[q] = (struct run){ .t = &pl->t[idx[q]], .state = W_WAIT };
		e[idx[q]] = (struct rvmig_plan_entry){
			.size = sizeof(e[0]), .id = pl->t[idx[q]].id, .kind = pl->t[idx[q]].kind,
			.position = (unsigned)q,
		};
	}
	while (ndone < n) {
		unsigned nsend = 0;
		double rate, dt = INFINITY;
		int changed = 1;

		/* Everything due now, until nothing changes (zero-byte rounds
		 * end at once; a freed slot starts the next in the queue). */
		while (changed) {
			changed = 0;
			while (nact < k && next < n) {
				struct run *r = &w[next];

				r->state = W_OVERHEAD;
				r->ready = now + l->overhead_s + r->t->overhead_s;
				e[idx[next]].start_s = now;
				act[nact++] = next++;
				changed = 1;
			}
			for (size_t a = 0; a < nact; a++) {
				struct run *r = &w[act[a]];
				struct rvmig_plan_entry *en = &e[idx[act[a]]];

				if (r->state == W_OVERHEAD && r->ready <= now) {
					r->state = W_SEND;
					r->remaining = r->t->mem_bytes;
					r->round_start = now;
					en->bytes = r->t->mem_bytes;
					changed = 1;
				}
				if (r->state == W_SEND && round_over(r) && round_end(l, r, en, now)) {
					r->state = W_DONE;
					ndone++;
					act[a--] = act[--nact];
					changed = 1;
				}
			}
		}
		if (ndone == n)
			break;
		for (size_t a = 0; a < nact; a++)
			nsend += w[act[a]].state == W_SEND;
		rate = nsend ? fmin(l->per_transfer_cap,
				    l->bandwidth / (nsend * (1 + l->contention * (nsend - 1)))) : 0;
		for (size_t a = 0; a < nact; a++) {
			const struct run *r = &w[act[a]];

			if (r->state == W_OVERHEAD)
				dt = fmin(dt, r->ready - now);
			else if (r->state == W_SEND)
				dt = fmin(dt, r->remaining / rate);
		}
		for (size_t a = 0; a < nact; a++) {
			struct run *r = &w[act[a]];

			if (r->state == W_SEND)
				r->remaining = fmax(0, r->remaining - rate * dt);
			if (r->state == W_OVERHEAD && r->ready - now <= dt)
				r->ready = now + dt; /* exactly now after the step */
		}
		now += dt;
	}
	return now;
}

struct order_key {
	double solo;
	size_t i;
};

static int cmp_key(const void *a, const void *b)
{
	const struct order_key *x = a, *y = b;

	if (x->solo != y->solo)
		return x->solo < y->solo ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* The queue for `order`: transfer indices into idx. */
static int make_order(const struct rvmig_planner *pl, enum rvmig_plan_order order, size_t *idx,
		      struct run *w, size_t *act, struct rvmig_plan_entry *e)
{
	struct order_key *key;

	for (size_t i = 0; i < pl->n; i++)
		idx[i] = i;
	if (order == RVMIG_ORDER_GIVEN)
		return 0;
	key = malloc(pl->n * sizeof(*key));
	if (!key)
		return -ENOMEM;
	for (size_t i = 0; i < pl->n; i++) {
		key[i].i = i;
		key[i].solo = simulate(pl, &i, 1, 1, w, act, e);
		if (order == RVMIG_ORDER_LONGEST)
			key[i].solo = -key[i].solo; /* ties keep the given order */
	}
	qsort(key, pl->n, sizeof(*key), cmp_key);
	for (size_t i = 0; i < pl->n; i++)
		idx[i] = key[i].i;
	free(key);
	return 0;
}

struct scratch {
	size_t *idx, *act;
	struct run *w;
	struct rvmig_plan_entry *e; /* make_order()'s solo runs */
};

/* Simulates the queue already in s->idx (made for `order`) with k slots. */
static int plan_one(const struct rvmig_planner *pl, unsigned k, enum rvmig_plan_order order,
		    struct scratch *s, struct rvmig_plan **out)
{
	struct rvmig_plan *p;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->e = calloc(pl->n, sizeof(*p->e));
	if (!p->e) {
		free(p);
		return -ENOMEM;
	}
	p->n = pl->n;
	p->k = k;
	p->order = order;
	p->makespan = simulate(pl, s->idx, pl->n, k, s->w, s->act, p->e);
	for (size_t i = 0; i < pl->n; i++)
		if (p->e[i].kind == RVMIG_XFER_MIGRATE)
			p->max_downtime = fmax(p->max_downtime, p->e[i].downtime_s);
	p->meets_sla = pl->link.max_downtime_s == 0 || p->max_downtime <= pl->link.max_downtime_s;
	*out = p;
	return 0;
}

static int scratch_get(const struct rvmig_planner *pl, struct scratch *s)
{
	s->idx = malloc(pl->n * sizeof(*s->idx));
	s->act = malloc(pl->n * sizeof(*s->act));
	s->w = malloc(pl->n * sizeof(*s->w));
	s->e = malloc(pl->n * sizeof(*s->e));
	return s->idx && s->act && s->w && s->e ? 0 : -ENOMEM;
}

static void scratch_put(struct scratch *s)
{
	free(s->idx);
	free(s->act);
	free(s->w);
	free(s->e);
}

RVMIG_API int rvmig_planner_simulate(const rvmig_planner *pl, unsigned k,
				     enum rvmig_plan_order order, rvmig_plan **out)
{
	struct scratch s;
	int rc;

	if (!pl || !out || k == 0 || pl->n == 0 || (unsigned)order > RVMIG_ORDER_LONGEST)
		return -EINVAL;
	*out = NULL;
	rc = scratch_get(pl, &s);
	if (rc == 0)
		rc = make_order(pl, order, s.idx, s.w, s.act, s.e);
	if (rc == 0)
		rc = plan_one(pl, k, order, &s, out);
	scratch_put(&s);
	return rc;
}

/* true when plan a is better than b (see rvmig_planner_choose()). */
static int better(const struct rvmig_plan *a, const struct rvmig_plan *b)
{
	double tol = 1e-9 * fmax(a->makespan, b->makespan);

	if (a->meets_sla != b->meets_sla)
		return a->meets_sla;
	if (!a->meets_sla && a->max_downtime != b->max_downtime)
		return a->max_downtime < b->max_downtime;
	if (fabs(a->makespan - b->makespan) > tol)
		return a->makespan < b->makespan;
	return a->k < b->k;
}

RVMIG_API int rvmig_planner_choose(const rvmig_planner *pl, rvmig_plan **out)
{
	struct rvmig_plan *best = NULL;
	unsigned kmax;
	struct scratch s;
	int rc = 0;

	if (!pl || !out || pl->n == 0)
		return -EINVAL;
	*out = NULL;
	kmax = pl->link.max_concurrent < pl->n ? pl->link.max_concurrent : (unsigned)pl->n;
	rc = scratch_get(pl, &s);
	for (int o = RVMIG_ORDER_GIVEN; rc == 0 && o <= RVMIG_ORDER_LONGEST; o++) {
		rc = make_order(pl, (enum rvmig_plan_order)o, s.idx, s.w, s.act, s.e);
		for (unsigned k = 1; rc == 0 && k <= kmax; k++) {
			struct rvmig_plan *p;

			rc = plan_one(pl, k, (enum rvmig_plan_order)o, &s, &p);
			if (rc < 0)
				break;
			if (!best || better(p, best)) {
				rvmig_plan_free(best);
				best = p;
			} else {
				rvmig_plan_free(p);
			}
		}
	}
	scratch_put(&s);
	if (rc < 0) {
		rvmig_plan_free(best);
		return rc;
	}
	*out = best;
	return 0;
}
