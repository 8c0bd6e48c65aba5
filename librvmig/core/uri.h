/* SPDX-License-Identifier: MIT */
#ifndef RVMIG_CORE_URI_H
#define RVMIG_CORE_URI_H

#include <stddef.h>

struct rvmig_uri {
	char scheme[16];
	char host[256];
	char port[8];
};

/* Parses "scheme://host:port" ("[v6addr]:port" for IPv6).  0 or -EINVAL. */
int uri_parse(const char *s, struct rvmig_uri *u);

#endif
