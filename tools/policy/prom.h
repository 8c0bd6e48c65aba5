/* SPDX-License-Identifier: MIT */
/*
 * prom.h - rvmig-policy's client of a Prometheus server's HTTP query API
 * (GET /api/v1/query and /api/v1/query_range): how the policy sees many
 * hosts, each running an rvmig-top exporter that one Prometheus scrapes.
 *
 * prom_decode() is pure (JSON text in, series out, no I/O) so that unit
 * tests and a fuzzer drive it; prom_query*() fetch with libcurl under a
 * deadline and a cap on the body, then decode.  Everything from the server
 * is bounded before it is stored (struct prom_limits) and every string from
 * it is escaped before it is printed.
 */
#ifndef RVMIG_TOOLS_PROM_H
#define RVMIG_TOOLS_PROM_H

#include <stddef.h>

struct prom_label {
	char *name, *value;
};

struct prom_point {
	double t; /* Unix time, s */
	double v; /* may be NaN or +-Inf, as Prometheus sends them */
};

struct prom_series {
	struct prom_label *labels; /* the metric's labels, incl. __name__ when present */
	unsigned nlabels;
	struct prom_point *points; /* one for a vector, a range for a matrix */
	size_t npoints;
};

enum prom_type { PROM_VECTOR = 1, PROM_MATRIX, PROM_SCALAR };

struct prom_result {
	enum prom_type type;
	struct prom_series *series; /* a scalar: one series without labels */
	size_t nseries;
};

struct prom_limits {
	size_t max_body;     /* bytes of one answer */
	size_t max_series;   /* series in one answer */
	size_t max_points;   /* points in one series */
	unsigned max_labels; /* labels of one series */
	size_t max_string;   /* bytes of one label name or value */
};

/* Prometheus's own cap is 11000 points per series in a range query. */
#define PROM_LIMITS_DEFAULT { 64u << 20, 100000, 11000, 64, 4096 }

/*
 * Decodes a query API answer (`len` bytes of JSON).  Returns 0 with *out
 * filled, or a negative errno with a one-line reason in err (escaped):
 * -EPROTO for JSON that is not a query answer (naming the field), -EREMOTEIO
 * for {"status":"error"} (with Prometheus's errorType and error), -E2BIG
 * past a limit (naming it).  *out is empty on failure.
 */
int prom_decode(const char *body, size_t len, const struct prom_limits *lim,
		struct prom_result *out, char *err, size_t errlen);
void prom_result_free(struct prom_result *r);
/* Writes a reason into err (when there is room) and returns rc. */
__attribute__((format(printf, 4, 5)))
int prom_fail(char *err, size_t errlen, int rc, const char *fmt, ...);
/* The value of label `name` in s, or NULL. */
const char *prom_label(const struct prom_series *s, const char *name);

typedef struct prom_client prom_client;

/*
 * base_url: http://HOST:PORT[/PREFIX] (https too); timeout_ms bounds each
 * request as a whole (connect included).  Returns 0 or a negative errno with
 * err set.
 */
int prom_open(const char *base_url, long timeout_ms, const struct prom_limits *lim,
	      prom_client **out, char *err, size_t errlen);
void prom_close(prom_client *c);
/* An instant query at `at` (Unix time; 0: the server's now). */
int prom_query(prom_client *c, const char *promql, double at, struct prom_result *out,
	       char *err, size_t errlen);
/* A range query over [start, end] every `step` seconds. */
int prom_query_range(prom_client *c, const char *promql, double start, double end,
		     double step, struct prom_result *out, char *err, size_t errlen);

#endif
