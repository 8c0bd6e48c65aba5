/* SPDX-License-Identifier: MIT */
/*
 * exporter.h - rvmig-top --listen: /metrics over HTTP (libmicrohttpd),
 * served from a cache that the sampling loop replaces on its timer; the
 * request handler never samples.  libmicrohttpd runs its own thread (one,
 * polling); the cache is the only thing it shares, under a mutex.
 */
#ifndef RVMIG_TOOLS_TOP_EXPORTER_H
#define RVMIG_TOOLS_TOP_EXPORTER_H

#include <stddef.h>

struct top_exporter;

/* Listens on "ADDR:PORT" ("[V6ADDR]:PORT" for IPv6; an empty ADDR means
 * all IPv4 addresses).  Returns 0 or -errno (printed). */
int top_exporter_start(const char *spec, struct top_exporter **out);
/* Replaces the cached page (copied). */
int top_exporter_publish(struct top_exporter *e, const char *page, size_t len);
void top_exporter_stop(struct top_exporter *e);

#endif
