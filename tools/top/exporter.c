/* SPDX-License-Identifier: MIT */
/*
 * exporter.c - rvmig-top --listen (exporter.h), over libmicrohttpd.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "common/cli.h"
#include "top/exporter.h"

#define MAX_CONNECTIONS 16       /* scrapers are few */
#define CONNECTION_TIMEOUT_S 10  /* idle connections are closed after this */
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct top_exporter {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	char *page;      /* the cached /metrics page, NULL before the first */
	size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body,
			     size_t len, const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_GET);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **state)
{
	static const char not_found[] = "not found: only /metrics is served\n";
	static const char not_allowed[] = "only GET is allowed\n";
	static const char not_yet[] = "no sample yet\n";
	struct top_exporter *e = cls;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1,
			     "text/plain");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed,
			     sizeof(not_allowed) - 1, "text/plain");
	/* A GET has no body; a client that sends one gets its bytes ignored. */
	if (*state == NULL) {
		*state = e;
		return MHD_YES;
	}
	*upload_data_size = 0;
	pthread_mutex_lock(&e->lock);
	if (e->page)
		ret = reply(conn, MHD_HTTP_OK, e->page, e->len, CONTENT_TYPE);
	else
		ret = reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, not_yet, sizeof(not_yet) - 1,
			    "text/plain");
	pthread_mutex_unlock(&e->lock);
	return ret;
}

static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen)
{
	const char *colon = strrchr(spec, ':');
	const char *h = spec;
	char host[256];
	size_t hl;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	int rc;

	if (!colon || !colon[1])
		goto bad;
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (!hl)
		hints.ai_family = AF_INET;
	rc = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &ai);
	if (rc) {
		tool_err("--listen %s: %s", spec, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
bad:
	tool_err("--listen %s: not ADDR:PORT", spec);
	return -EINVAL;
}

int top_exporter_start(const char *spec, struct top_exporter **out)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct top_exporter *e;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int rc = parse_listen(spec, &ss, &sslen);

	if (rc)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	pthread_mutex_init(&e->lock, NULL);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The port comes from the address given (MHD_OPTION_SOCK_ADDR). */
	e->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, e,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(MAX_CONNECTIONS / 2),
				MHD_OPTION_END);
	if (!e->d) {
		rc = errno ? -errno : -EADDRNOTAVAIL;
		tool_err("cannot listen on %s: %s", spec, strerror(-rc));
		pthread_mutex_destroy(&e->lock);
		free(e);
		return rc;
	}
	(void)sslen;
	*out = e;
	return 0;
}

int top_exporter_publish(struct top_exporter *e, const char *page, size_t len)
{
	char *copy = malloc(len ? len : 1);
	char *old;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, page, len);
	pthread_mutex_lock(&e->lock);
	old = e->page;
	e->page = copy;
	e->len = len;
	pthread_mutex_unlock(&e->lock);
	free(old);
	return 0;
}

void top_exporter_stop(struct top_exporter *e)
{
	if (!e)
		return;
	MHD_stop_daemon(e->d);
	pthread_mutex_destroy(&e->lock);
	free(e->page);
	free(e);
}
