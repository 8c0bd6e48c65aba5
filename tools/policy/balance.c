/* SPDX-License-Identifier: MIT */
/* balance.c - moves off overloaded hosts (balance.h). */
#include <stdlib.h>

#include "policy/balance.h"

int pol_host_overloaded(const struct bal_host *h, double overload)
{
	return h->cpus > 0 && h->demand > overload * h->cpus;
}

/* The host other than src with the most room under fill that takes
 * `demand` whole, or nh. */
static size_t dest_for(const struct bal_host *h, size_t nh, size_t src, double demand, double fill)
{
	size_t best = nh;
	double room = 0;

	for (size_t i = 0; i < nh; i++) {
		double r = fill * h[i].cpus - h[i].demand;

		if (i != src && h[i].cpus > 0 && r >= demand && (best == nh || r > room)) {
			best = i;
			room = r;
		}
	}
	return best;
}

size_t pol_balance(struct bal_host *h, size_t nh, const struct bal_dom *d, size_t nd,
		   double overload, double fill, struct bal_move *out, size_t max,
		   const char **why)
{
	size_t n = 0;
	char *moved = calloc(nd ? nd : 1, 1);

	for (size_t s = 0; why && s < nh; s++)
		why[s] = NULL;
	if (!moved)
		return 0;
	for (size_t s = 0; s < nh; s++) {
		int over = h[s].may_shed && pol_host_overloaded(&h[s], overload);
		int any_movable = 0, any_move = 0, any_urgent = 0;

		while (n < max) {
			int shed = over && h[s].demand > fill * h[s].cpus;
			size_t pick = nd, dst = nh;

			/* the largest movable domain that some host takes: any
			 * while the host sheds, else the urgent ones */
			for (size_t i = 0; i < nd; i++) {
				size_t to;

				if (d[i].host != s || !d[i].movable || moved[i] || d[i].demand <= 0 ||
				    !(shed || d[i].urgent))
					continue;
				any_movable = 1;
				any_urgent |= d[i].urgent;
				to = dest_for(h, nh, s, d[i].demand, fill);
				if (to < nh && (pick == nd || d[i].demand > d[pick].demand)) {
					pick = i;
					dst = to;
				}
			}
			if (pick == nd)
				break;
			moved[pick] = 1;
			any_move = 1;
			out[n] = (struct bal_move){ .dom = pick, .src = s, .dst = dst,
						    .urgent = !shed,
						    .src_before = h[s].demand,
						    .dst_before = h[dst].demand };
			h[s].demand -= d[pick].demand;
			h[dst].demand += d[pick].demand;
			out[n].src_after = h[s].demand;
			out[n].dst_after = h[dst].demand;
			n++;
		}
		if (!any_move && why && (over || any_urgent))
			why[s] = any_movable ? "no host with headroom" : "no movable domain";
	}
	free(moved);
	return n;
}
