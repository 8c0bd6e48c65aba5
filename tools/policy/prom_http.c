/* SPDX-License-Identifier: MIT */
/*
 * prom_http.c - fetching query API answers with libcurl (prom.h): one
 * handle per client, a deadline per request, the body capped as it
 * arrives, no redirects, http and https only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <rvmig.h>

#include "policy/prom.h"

struct prom_client {
	CURL *curl;
	char *base;           /* without a trailing '/' */
	long timeout_ms;
	struct prom_limits lim;
};

struct body {
	char *p;
	size_t len, cap, max;
	int too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (n > b->max - b->len) {
		b->too_big = 1;
		return 0; /* makes curl fail the transfer: CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

int prom_open(const char *base_url, long timeout_ms, const struct prom_limits *lim,
	      prom_client **out, char *err, size_t errlen)
{
	static const struct prom_limits def = PROM_LIMITS_DEFAULT;
	prom_client *c;
	size_t n;

	*out = NULL;
	if (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8)) {
		char b[160];

		rvmig_text_escape(b, sizeof(b), base_url, strlen(base_url));
		return prom_fail(err, errlen, -EINVAL, "%s: not an http:// or https:// URL", b);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return prom_fail(err, errlen, -EIO, "libcurl did not initialise");
	c = calloc(1, sizeof(*c));
	if (!c || !(c->base = strdup(base_url)) || !(c->curl = curl_easy_init())) {
		prom_close(c);
		return prom_fail(err, errlen, -ENOMEM, "out of memory");
	}
	n = strlen(c->base);
	while (n > 0 && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	c->lim = lim ? *lim : def;
	*out = c;
	return 0;
}

void prom_close(prom_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->base);
	free(c);
}

/* GET base + path + "?" + form (already escaped); decodes the answer. */
static int get(prom_client *c, const char *path, const char *form, struct prom_result *out,
	       char *err, size_t errlen)
{
	struct body b = { .max = c->lim.max_body };
	char *url, curl_err[CURL_ERROR_SIZE] = "", ebase[160];
	long code = 0;
	CURLcode cc;
	int rc;

	memset(out, 0, sizeof(*out));
	rvmig_text_escape(ebase, sizeof(ebase), c->base, strlen(c->base));
	if (asprintf(&url, "%s%s?%s", c->base, path, form) < 0)
		return prom_fail(err, errlen, -ENOMEM, "out of memory");
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "rvmig-policy");
	cc = curl_easy_perform(c->curl);
	free(url);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (b.too_big) {
		rc = prom_fail(err, errlen, -E2BIG, "prometheus %s: answer larger than %zu bytes", ebase,
			  c->lim.max_body);
	} else if (cc != CURLE_OK) {
		rc = prom_fail(err, errlen, cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO,
			  "prometheus %s: %s", ebase, curl_err[0] ? curl_err : curl_easy_strerror(cc));
	} else {
		char why[600];

		/* 400/422/503 carry {"status":"error", ...}: decode says why. */
		rc = prom_decode(b.p ? b.p : "", b.len, &c->lim, out, why, sizeof(why));
		if (rc < 0 && code != 200)
			rc = prom_fail(err, errlen, rc == -EREMOTEIO ? rc : -EIO,
				  "prometheus %s%s: HTTP %ld: %s", ebase, path, code, why);
		else if (rc < 0)
			rc = prom_fail(err, errlen, rc, "prometheus %s%s: %s", ebase, path, why);
		else if (code != 200) {
			prom_result_free(out);
			rc = prom_fail(err, errlen, -EIO, "prometheus %s%s: HTTP %ld", ebase, path, code);
		}
	}
	free(b.p);
	return rc;
}

/* "query=<escaped>" plus the rest, or NULL. */
static char *form_query(prom_client *c, const char *promql, const char *rest)
{
	char *q = curl_easy_escape(c->curl, promql, 0), *form = NULL;

	if (!q)
		return NULL;
	if (asprintf(&form, "query=%s%s", q, rest) < 0)
		form = NULL;
	curl_free(q);
	return form;
}

int prom_query(prom_client *c, const char *promql, double at, struct prom_result *out,
	       char *err, size_t errlen)
{
	char rest[64] = "", *form;
	int rc;

	if (at > 0)
		snprintf(rest, sizeof(rest), "&time=%.3f", at);
	if (!(form = form_query(c, promql, rest)))
		return prom_fail(err, errlen, -ENOMEM, "out of memory");
	rc = get(c, "/api/v1/query", form, out, err, errlen);
	free(form);
	return rc;
}

int prom_query_range(prom_client *c, const char *promql, double start, double end,
		     double step, struct prom_result *out, char *err, size_t errlen)
{
	char rest[128], *form;
	int rc;

	if (!(step > 0) || !(end >= start) || (end - start) / step > (double)c->lim.max_points)
		return prom_fail(err, errlen, -EINVAL,
			    "range %.3f..%.3f step %.3f: more than %zu points or not a range", start,
			    end, step, c->lim.max_points);
	snprintf(rest, sizeof(rest), "&start=%.3f&end=%.3f&step=%.3f", start, end, step);
	if (!(form = form_query(c, promql, rest)))
		return prom_fail(err, errlen, -ENOMEM, "out of memory");
	rc = get(c, "/api/v1/query_range", form, out, err, errlen);
	free(form);
	return rc;
}
