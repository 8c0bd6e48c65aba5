/* SPDX-License-Identifier: MIT */
/* The good/bad map's internals shared by its fit (map.c) and its
 * validation (validate.c). */
#ifndef RVMIG_POLICY_MAP_H
#define RVMIG_POLICY_MAP_H

#include <rvmig/policy.h>

#include "policy/samples.h"

/* A map_attr checked, defaults filled, names copied. */
struct pol_map_cfg {
	struct rvmig_sla sla;
	double min_achieved, max_error_share, band;
	double max_share; /* 0: no limit */
	int fit;          /* enum rvmig_map_fit_kind */
	char app[RVMIG_SAMPLES_MAX_NAME + 1];      /* "" : any */
	char scenario[RVMIG_SAMPLES_MAX_NAME + 1]; /* "" : any */
};

/* A boundary point: the capacity measured at one share. */
struct pol_point {
	double share, cap;
};

struct rvmig_map {
	struct pol_map_cfg cfg;
	double c0, c1;
	unsigned npoints;
	struct pol_point *points;
};

int pol_map_cfg(const struct rvmig_map_attr *attr, struct pol_map_cfg *cfg, char *err,
		size_t errlen);
/* true when the cfg selects sample s / judges it good (meets the SLA). */
int pol_map_selects(const struct pol_map_cfg *cfg, const struct pol_sample *s);
int pol_map_good(const struct pol_map_cfg *cfg, const struct pol_sample *s);
/* A selected sample: its share, offered load and verdict. */
struct pol_sel {
	double share, load;
	int good;
};

/* What the selection holds at one CPU share. */
struct pol_share {
	double share;
	int has_boundary; /* a cut beats calling all good or all bad: cap is it */
	double cap;
};

/*
 * The distinct shares of the samples cfg selects, ascending, each with its
 * boundary (rvmig_map_fit()'s rule), into *out (malloc'ed; the caller
 * frees); with sel not NULL also the selection, sorted by share and load,
 * into *sel and its length into *nsel (malloc'ed).  Returns the number of
 * shares, -EINVAL (two apps selected: err says which), -ENOMEM.
 */
int pol_map_scan(const struct pol_map_cfg *cfg, const struct rvmig_samples *set,
		 struct pol_share **out, struct pol_sel **sel, size_t *nsel, char *err,
		 size_t errlen);
/* Index of `share` in the scan (n entries), -1 when absent. */
int pol_map_share_index(const struct pol_share *sh, int n, double share);
/*
 * Fits m's capacity model (m->cfg.fit) to the selection v[0..nv) and its
 * shares sh[0..nsh) from pol_map_scan(), leaving out the shares whose
 * hold[i] is set (hold NULL: none): m->points (room for nsh) gets the
 * boundary points of the others, m->c0 and m->c1 the line.  -EDOM (err
 * says why), -ENOMEM.
 */
int pol_map_model(struct rvmig_map *m, const struct pol_sel *v, size_t nv,
		  const struct pol_share *sh, int nsh, const unsigned char *hold, char *err,
		  size_t errlen);
/* Judges map on the samples of `set` it selects whose share has index
 * i in the scan `sh` (n entries) with keep == NULL or keep[i] set, adding
 * to the counts of *e and to *cap_err_sum; the rates are the caller's. */
void pol_map_judge(const struct rvmig_map *map, const struct rvmig_samples *set,
		   const struct pol_share *sh, int n, const unsigned char *keep,
		   struct rvmig_map_error *e, double *cap_err_sum);
/* Adds the data's floor over the selection v[0..nv) (pol_map_scan's
 * order) to e->repeated and e->floor_misclassified. */
void pol_map_floor(const struct pol_sel *v, size_t nv, struct rvmig_map_error *e);

#endif
