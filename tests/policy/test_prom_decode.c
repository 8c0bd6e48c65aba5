/* SPDX-License-Identifier: MIT */
/*
 * rvmig-policy's decoder of Prometheus query API answers
 * (tools/policy/prom_decode.c): the three result types as Prometheus 2.42
 * (Debian 12) writes them, its error answers, and hostile answers that must
 * be refused with a reason before anything is stored.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "policy/prom.h"

static const struct prom_limits lim = PROM_LIMITS_DEFAULT;

static int dec(const char *json, struct prom_result *r, char *err)
{
	err[0] = '\0';
	return prom_decode(json, strlen(json), &lim, r, err, 256);
}

Test(prom_decode, vector)
{
	struct prom_result r;
	char err[256];

	cr_assert_eq(dec("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
			 "{\"metric\":{\"__name__\":\"rvmig_host_cpus\",\"instance\":\"10.0.0.1:9101\","
			 "\"job\":\"rvmig-top\"},\"value\":[1733500000.123,\"2\"]},"
			 "{\"metric\":{\"instance\":\"h2\"},\"value\":[1733500000,\"NaN\"]}]}}",
			 &r, err),
		     0, "%s", err);
	cr_assert_eq(r.type, PROM_VECTOR);
	cr_assert_eq(r.nseries, 2);
	cr_assert_str_eq(prom_label(&r.series[0], "instance"), "10.0.0.1:9101");
	cr_assert_str_eq(prom_label(&r.series[0], "__name__"), "rvmig_host_cpus");
	cr_assert_null(prom_label(&r.series[0], "nope"));
	cr_assert_eq(r.series[0].npoints, 1);
	cr_assert_float_eq(r.series[0].points[0].t, 1733500000.123, 1e-3);
	cr_assert_float_eq(r.series[0].points[0].v, 2.0, 1e-12);
	cr_assert(isnan(r.series[1].points[0].v));
	prom_result_free(&r);
}

Test(prom_decode, matrix_scalar_and_empty)
{
	struct prom_result r;
	char err[256];

	cr_assert_eq(dec("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
			 "{\"metric\":{\"domain\":\"vm\\\"1\"},\"values\":[[1,\"0.5\"],[2,\"+Inf\"],"
			 "[3,\"-1e-3\"]]}]},\"warnings\":[\"w\"]}",
			 &r, err),
		     0, "%s", err);
	cr_assert_eq(r.type, PROM_MATRIX);
	cr_assert_eq(r.series[0].npoints, 3);
	cr_assert_str_eq(prom_label(&r.series[0], "domain"), "vm\"1");
	cr_assert(isinf(r.series[0].points[1].v));
	cr_assert_float_eq(r.series[0].points[2].v, -1e-3, 1e-15);
	prom_result_free(&r);

	cr_assert_eq(dec("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[5,\"7\"]}}",
			 &r, err),
		     0, "%s", err);
	cr_assert_eq(r.type, PROM_SCALAR);
	cr_assert_eq(r.nseries, 1);
	cr_assert_float_eq(r.series[0].points[0].v, 7.0, 1e-12);
	prom_result_free(&r);

	cr_assert_eq(dec("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}", &r,
			 err),
		     0);
	cr_assert_eq(r.nseries, 0);
	prom_result_free(&r);
}

Test(prom_decode, server_error_is_reported_escaped)
{
	struct prom_result r;
	char err[256];

	cr_assert_eq(dec("{\"status\":\"error\",\"errorType\":\"bad_data\","
			 "\"error\":\"1:6: parse error: unexpected \\u001b[31m\"}",
			 &r, err),
		     -EREMOTEIO);
	cr_assert(strstr(err, "bad_data: 1:6: parse error"), "%s", err);
	cr_assert_null(strchr(err, 0x1b), "control bytes are escaped: %s", err);
	cr_assert(strstr(err, "\\x1b"), "%s", err);
}

Test(prom_decode, hostile_answers_refused)
{
	static const struct {
		const char *json;
		int rc;
		const char *why;
	} cases[] = {
		{ "", -EPROTO, "cut short" },
		{ "{\"status\":\"success\"", -EPROTO, "cut short" },
		{ "{\"status\":\"success\",\"data\":{}} trailing", -EPROTO, "text after" },
		{ "[1,2]", -EPROTO, "status" },
		{ "{\"status\":\"maybe\"}", -EPROTO, "status maybe" },
		{ "{\"status\":\"success\"}", -EPROTO, "data" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"streams\",\"result\":[]}}", -EPROTO,
		  "resultType streams" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":{}}}", -EPROTO,
		  "result" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"value\":[1,\"1\"]}]}}",
		  -EPROTO, "metric" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
		  "\"value\":[1,1]}]}}",
		  -EPROTO, "value" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
		  "\"value\":[1,\"0x10\"]}]}}",
		  -EPROTO, "value" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
		  "\"value\":[1,\"1e999\"]}]}}",
		  -EPROTO, "value" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
		  "\"value\":[-5,\"1\"]}]}}",
		  -EPROTO, "value" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":"
		  "{\"a\":1},\"value\":[1,\"1\"]}]}}",
		  -EPROTO, "label a" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":"
		  "{\"a\":\"x\\u0000y\"},\"value\":[1,\"1\"]}]}}",
		  -EPROTO, "NUL" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
		  "\"values\":[[1,\"1\"],[2]]}]}}",
		  -EPROTO, "point 1" },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", -EPROTO, "not JSON" },
	};
	struct prom_result r;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(dec(cases[i].json, &r, err), cases[i].rc, "case %zu: %s", i, err);
		cr_assert(strstr(err, cases[i].why), "case %zu: \"%s\" should name %s", i, err,
			  cases[i].why);
		cr_assert_eq(r.nseries, 0, "case %zu: nothing kept", i);
		cr_assert_null(r.series);
	}
}

/* Counts are bounded before anything is stored. */
Test(prom_decode, limits)
{
	struct prom_limits small = { 1 << 20, 2, 3, 2, 8 };
	struct prom_result r;
	char err[256];
	static const char three_series[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
		"{\"metric\":{},\"value\":[1,\"1\"]},{\"metric\":{},\"value\":[1,\"1\"]},"
		"{\"metric\":{},\"value\":[1,\"1\"]}]}}";
	static const char four_points[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
		"\"values\":[[1,\"1\"],[2,\"1\"],[3,\"1\"],[4,\"1\"]]}]}}";
	static const char three_labels[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":"
		"{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"},\"value\":[1,\"1\"]}]}}";
	static const char long_value[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":"
		"{\"a\":\"123456789\"},\"value\":[1,\"1\"]}]}}";

	cr_assert_eq(prom_decode(three_series, strlen(three_series), &small, &r, err, sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "3 series"), "%s", err);
	cr_assert_eq(prom_decode(four_points, strlen(four_points), &small, &r, err, sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "4 points"), "%s", err);
	cr_assert_eq(prom_decode(three_labels, strlen(three_labels), &small, &r, err, sizeof(err)), -E2BIG);
	cr_assert_eq(prom_decode(long_value, strlen(long_value), &small, &r, err, sizeof(err)), -E2BIG);
	small.max_body = 10;
	cr_assert_eq(prom_decode(long_value, strlen(long_value), &small, &r, err, sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "bytes"), "%s", err);
}
