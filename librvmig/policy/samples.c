/* SPDX-License-Identifier: MIT */
/* samples.c - the set of measurements a map is fitted to: create, add,
 * read back, free; the value rules shared with the CSV parser. */
#include <stdlib.h>

#include "policy/common.h"
#include "policy/samples.h"

int pol_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > RVMIG_SAMPLES_MAX_NAME)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int pol_sample_check(const struct pol_sample *s, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
		int strict;
	} f[] = {
		{ "cpu_share", offsetof(struct pol_sample, cpu_share), 1 },
		{ "offered_rps", offsetof(struct pol_sample, offered_rps), 0 },
		{ "achieved_rps", offsetof(struct pol_sample, achieved_rps), 0 },
		{ "p50_ms", offsetof(struct pol_sample, p50_ms), 0 },
		{ "p99_ms", offsetof(struct pol_sample, p99_ms), 0 },
		{ "mean_ms", offsetof(struct pol_sample, mean_ms), 0 },
		{ "duration_s", offsetof(struct pol_sample, duration_s), 1 },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		double x;

		memcpy(&x, (const char *)s + f[i].off, sizeof(x));
		if (!pol_num_ok(x, 0, f[i].strict))
			return pol_err(err, errlen, -EINVAL, "%s: %g is not a finite number %s 0",
				       f[i].name, x, f[i].strict ? ">" : ">=");
	}
	if (s->p50_ms > s->p99_ms)
		return pol_err(err, errlen, -EINVAL, "p50_ms %g is above p99_ms %g", s->p50_ms,
			       s->p99_ms);
	return 0;
}

int pol_samples_push(struct rvmig_samples *set, const struct pol_sample *s)
{
	if (set->n >= RVMIG_SAMPLES_MAX_ROWS)
		return -E2BIG;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct pol_sample *v = realloc(set->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n] = *s;
	return (int)set->n++;
}

RVMIG_API int rvmig_samples_create(rvmig_samples **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

RVMIG_API void rvmig_samples_free(rvmig_samples *set)
{
	if (!set)
		return;
	free(set->v);
	free(set);
}

RVMIG_API size_t rvmig_samples_count(const rvmig_samples *set)
{
	return set ? set->n : 0;
}

RVMIG_API int rvmig_samples_add(rvmig_samples *set, const struct rvmig_sample *s, char *err,
				size_t errlen)
{
	struct rvmig_sample in;
	struct pol_sample p = { 0 };
	size_t la, ls;
	int rc;

	if (!set || !s || pol_in(&in, sizeof(in), s) < 0)
		return pol_err(err, errlen, -EINVAL, "no sample, or its size is not set");
	la = in.app ? strnlen(in.app, RVMIG_SAMPLES_MAX_NAME + 1) : 0;
	ls = in.scenario ? strnlen(in.scenario, RVMIG_SAMPLES_MAX_NAME + 1) : 0;
	if (!pol_name_ok(in.app ? in.app : "", la))
		return pol_err(err, errlen, -EINVAL,
			       "app: not 1..%d characters of [A-Za-z0-9._-]", RVMIG_SAMPLES_MAX_NAME);
	if (!pol_name_ok(in.scenario ? in.scenario : "", ls))
		return pol_err(err, errlen, -EINVAL,
			       "scenario: not 1..%d characters of [A-Za-z0-9._-]", RVMIG_SAMPLES_MAX_NAME);
	memcpy(p.app, in.app, la);
	memcpy(p.scenario, in.scenario, ls);
	p.cpu_share = in.cpu_share;
	p.offered_rps = in.offered_rps;
	p.achieved_rps = in.achieved_rps;
	p.p50_ms = in.p50_ms;
	p.p99_ms = in.p99_ms;
	p.mean_ms = in.mean_ms;
	p.errors = in.errors;
	p.duration_s = in.duration_s;
	rc = pol_sample_check(&p, err, errlen);
	if (rc < 0)
		return rc;
	rc = pol_samples_push(set, &p);
	if (rc == -E2BIG)
		return pol_err(err, errlen, rc, "more than %d samples", RVMIG_SAMPLES_MAX_ROWS);
	return rc;
}

RVMIG_API int rvmig_samples_get(const rvmig_samples *set, size_t i, struct rvmig_sample *out)
{
	struct rvmig_sample s = { .size = sizeof(s) };
	const struct pol_sample *p;

	if (!set || !out)
		return -EINVAL;
	if (i >= set->n)
		return -ERANGE;
	p = &set->v[i];
	s.app = p->app;
	s.scenario = p->scenario;
	s.cpu_share = p->cpu_share;
	s.offered_rps = p->offered_rps;
	s.achieved_rps = p->achieved_rps;
	s.p50_ms = p->p50_ms;
	s.p99_ms = p->p99_ms;
	s.mean_ms = p->mean_ms;
	s.errors = p->errors;
	s.duration_s = p->duration_s;
	s.line = p->line;
	return pol_out(out, &s, sizeof(s), offsetof(struct rvmig_sample, line));
}
