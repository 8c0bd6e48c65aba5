/* SPDX-License-Identifier: MIT */
/*
 * prom_decode.c - a Prometheus query API answer (JSON) into series (prom.h).
 * Pure: no I/O.  json-c parses with a depth limit; every count and string is
 * checked against struct prom_limits before it is stored.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <rvmig.h>

#include "policy/prom.h"

/* The answer is {status, data: {resultType, result: [...]}}: three levels
 * above a series' labels; anything deeper is not an answer. */
#define PROM_JSON_DEPTH 8

int prom_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A JSON string from the server, escaped for a message. */
static const char *esc(char *buf, size_t cap, struct json_object *s)
{
	if (!s || !json_object_is_type(s, json_type_string)) {
		snprintf(buf, cap, "(none)");
		return buf;
	}
	rvmig_text_escape(buf, cap, json_object_get_string(s), (size_t)json_object_get_string_len(s));
	return buf;
}

static struct json_object *field(struct json_object *o, const char *key, json_type type)
{
	struct json_object *v = NULL;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* A sample's value: Prometheus sends it as a string ("1.5", "NaN", "+Inf",
 * "-Inf", "1e+06"); anything else is refused. */
static int parse_value(struct json_object *s, double *v)
{
	const char *p;
	char *end;
	int len;

	if (!json_object_is_type(s, json_type_string))
		return -EPROTO;
	p = json_object_get_string(s);
	len = json_object_get_string_len(s);
	if (len <= 0 || len > 64 || (int)strlen(p) != len)
		return -EPROTO;
	if (!strcmp(p, "NaN")) {
		*v = NAN;
		return 0;
	}
	if (!strcmp(p, "+Inf") || !strcmp(p, "-Inf")) {
		*v = p[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (strpbrk(p, "xXnNiI")) /* no hex floats, no other spellings of inf/nan */
		return -EPROTO;
	errno = 0;
	*v = strtod(p, &end);
	if (end == p || *end || (errno == ERANGE && isinf(*v)))
		return -EPROTO;
	return 0;
}

/* [unix_time, "value"] */
static int parse_point(struct json_object *a, struct prom_point *pt)
{
	struct json_object *t;

	if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) != 2)
		return -EPROTO;
	t = json_object_array_get_idx(a, 0);
	if (!json_object_is_type(t, json_type_double) && !json_object_is_type(t, json_type_int))
		return -EPROTO;
	pt->t = json_object_get_double(t);
	if (!isfinite(pt->t) || pt->t < 0)
		return -EPROTO;
	return parse_value(json_object_array_get_idx(a, 1), &pt->v);
}

static int parse_labels(struct json_object *m, const struct prom_limits *lim, struct prom_series *s,
			char *err, size_t errlen)
{
	size_t n = (size_t)json_object_object_length(m);
	unsigned i = 0;

	if (n > lim->max_labels)
		return prom_fail(err, errlen, -E2BIG, "a series has %zu labels (at most %u)", n,
			    lim->max_labels);
	s->labels = calloc(n ? n : 1, sizeof(*s->labels));
	if (!s->labels)
		return -ENOMEM;
	json_object_object_foreach(m, key, val)
	{
		size_t klen = strlen(key);
		int vlen;

		if (!json_object_is_type(val, json_type_string))
			return prom_fail(err, errlen, -EPROTO, "label %.64s is not a string", key);
		vlen = json_object_get_string_len(val);
		if (klen == 0 || klen > lim->max_string || (size_t)vlen > lim->max_string)
			return prom_fail(err, errlen, -E2BIG, "a label name or value is longer than %zu bytes",
				    lim->max_string);
		if ((int)strlen(json_object_get_string(val)) != vlen)
			return prom_fail(err, errlen, -EPROTO, "label %.64s holds a NUL byte", key);
		s->labels[i].name = strdup(key);
		s->labels[i].value = strdup(json_object_get_string(val));
		if (!s->labels[i].name || !s->labels[i].value) {
			free(s->labels[i].name);
			free(s->labels[i].value);
			return -ENOMEM;
		}
		s->nlabels = ++i;
	}
	return 0;
}

static int parse_series(struct json_object *o, enum prom_type type, const struct prom_limits *lim,
			struct prom_series *s, char *err, size_t errlen)
{
	struct json_object *m = field(o, "metric", json_type_object), *pts;
	size_t n;
	int rc;

	if (!m)
		return prom_fail(err, errlen, -EPROTO, "a result has no \"metric\" object");
	if ((rc = parse_labels(m, lim, s, err, errlen)) < 0)
		return rc;
	if (type == PROM_VECTOR) {
		s->points = calloc(1, sizeof(*s->points));
		if (!s->points)
			return -ENOMEM;
		if (parse_point(field(o, "value", json_type_array), &s->points[0]) < 0)
			return prom_fail(err, errlen, -EPROTO, "a vector result has no [time, \"value\"]");
		s->npoints = 1;
		return 0;
	}
	pts = field(o, "values", json_type_array);
	if (!pts)
		return prom_fail(err, errlen, -EPROTO, "a matrix result has no \"values\" array");
	n = json_object_array_length(pts);
	if (n > lim->max_points)
		return prom_fail(err, errlen, -E2BIG, "a series has %zu points (at most %zu)", n,
			    lim->max_points);
	s->points = calloc(n ? n : 1, sizeof(*s->points));
	if (!s->points)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (parse_point(json_object_array_get_idx(pts, i), &s->points[i]) < 0)
			return prom_fail(err, errlen, -EPROTO, "point %zu of a series is not [time, \"value\"]",
				    i);
		s->npoints = i + 1;
	}
	return 0;
}

static int parse_data(struct json_object *data, const struct prom_limits *lim,
		      struct prom_result *out, char *err, size_t errlen)
{
	struct json_object *rt = field(data, "resultType", json_type_string), *res;
	const char *type = rt ? json_object_get_string(rt) : "";
	size_t n;

	if (!strcmp(type, "vector"))
		out->type = PROM_VECTOR;
	else if (!strcmp(type, "matrix"))
		out->type = PROM_MATRIX;
	else if (!strcmp(type, "scalar"))
		out->type = PROM_SCALAR;
	else {
		char b[80];

		return prom_fail(err, errlen, -EPROTO, "resultType %s is not vector, matrix or scalar",
			    esc(b, sizeof(b), rt));
	}
	if (out->type == PROM_SCALAR) {
		out->series = calloc(1, sizeof(*out->series));
		if (!out->series)
			return -ENOMEM;
		out->nseries = 1;
		out->series[0].points = calloc(1, sizeof(struct prom_point));
		if (!out->series[0].points)
			return -ENOMEM;
		if (parse_point(field(data, "result", json_type_array), &out->series[0].points[0]) < 0)
			return prom_fail(err, errlen, -EPROTO, "a scalar result is not [time, \"value\"]");
		out->series[0].npoints = 1;
		return 0;
	}
	res = field(data, "result", json_type_array);
	if (!res)
		return prom_fail(err, errlen, -EPROTO, "no \"result\" array");
	n = json_object_array_length(res);
	if (n > lim->max_series)
		return prom_fail(err, errlen, -E2BIG, "%zu series (at most %zu)", n, lim->max_series);
	out->series = calloc(n ? n : 1, sizeof(*out->series));
	if (!out->series)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = parse_series(json_object_array_get_idx(res, i), out->type, lim, &out->series[i],
				      err, errlen);

		out->nseries = i + 1;
		if (rc < 0)
			return rc;
	}
	return 0;
}

int prom_decode(const char *body, size_t len, const struct prom_limits *lim,
		struct prom_result *out, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *root, *st, *data;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > lim->max_body || len > INT_MAX)
		return prom_fail(err, errlen, -E2BIG, "answer of %zu bytes (at most %zu)", len, lim->max_body);
	tok = json_tokener_new_ex(PROM_JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, body, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		enum json_tokener_error e = json_tokener_get_error(tok);
		size_t at = json_tokener_get_parse_end(tok);

		json_object_put(root);
		json_tokener_free(tok);
		return prom_fail(err, errlen, -EPROTO, "not JSON at byte %zu: %s", at,
			    e == json_tokener_success ? "text after the answer"
			    : e == json_tokener_continue ? "the answer is cut short"
							  : json_tokener_error_desc(e));
	}
	json_tokener_free(tok);
	st = field(root, "status", json_type_string);
	if (st && !strcmp(json_object_get_string(st), "error")) {
		char t[80], m[512];

		rc = prom_fail(err, errlen, -EREMOTEIO, "%s: %s",
			  esc(t, sizeof(t), field(root, "errorType", json_type_string)),
			  esc(m, sizeof(m), field(root, "error", json_type_string)));
	} else if (!st || strcmp(json_object_get_string(st), "success")) {
		char s[80];

		rc = prom_fail(err, errlen, -EPROTO, "status %s is not success or error", esc(s, sizeof(s), st));
	} else if (!(data = field(root, "data", json_type_object))) {
		rc = prom_fail(err, errlen, -EPROTO, "no \"data\" object");
	} else {
		rc = parse_data(data, lim, out, err, errlen);
	}
	json_object_put(root);
	if (rc < 0) {
		if (rc == -ENOMEM)
			prom_fail(err, errlen, rc, "out of memory");
		prom_result_free(out);
	}
	return rc;
}

void prom_result_free(struct prom_result *r)
{
	for (size_t i = 0; i < r->nseries; i++) {
		struct prom_series *s = &r->series[i];

		for (unsigned j = 0; j < s->nlabels; j++) {
			free(s->labels[j].name);
			free(s->labels[j].value);
		}
		free(s->labels);
		free(s->points);
	}
	free(r->series);
	memset(r, 0, sizeof(*r));
}

const char *prom_label(const struct prom_series *s, const char *name)
{
	for (unsigned i = 0; i < s->nlabels; i++)
		if (!strcmp(s->labels[i].name, name))
			return s->labels[i].value;
	return NULL;
}
