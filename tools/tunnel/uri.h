/* SPDX-License-Identifier: MIT */
/*
 * uri.h - how rvmig-tunnel turns the ssh-style HOST argument into an rvmig
 * URI: a template in which %h stands for HOST (an IPv6 literal is put in
 * brackets) and %% for '%'; a template without %h names a fixed address.  Template: --uri-template, else
 * $RVMIG_TUNNEL_URI, else TUNNEL_URI_DEFAULT.
 */
#ifndef RVMIG_TOOLS_TUNNEL_URI_H
#define RVMIG_TOOLS_TUNNEL_URI_H

#include <stddef.h>

#define TUNNEL_PORT_DEFAULT 7471
#define TUNNEL_URI_DEFAULT "verbs://%h:7471"

/* Returns 0, -EINVAL (unknown %-escape) or -ENAMETOOLONG. */
int tunnel_uri(const char *tmpl, const char *host, char *out, size_t cap);
/* "verbs://..." -> "tcp://..." in place; -EINVAL if not a verbs URI. */
int tunnel_uri_tcp(const char *uri, char *out, size_t cap);

#endif
