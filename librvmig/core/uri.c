/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/uri.h"

int uri_parse(const char *s, struct rvmig_uri *u)
{
	const char *sep, *host, *hend, *port;
	size_t n;
	char *end;
	long pv;

	if (!s || !u)
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	sep = strstr(s, "://");
	if (!sep || sep == s || (size_t)(sep - s) >= sizeof(u->scheme))
		return -EINVAL;
	memcpy(u->scheme, s, (size_t)(sep - s));
	host = sep + 3;
	if (*host == '[') {
		hend = strchr(host, ']');
		if (!hend || hend[1] != ':')
			return -EINVAL;
		host++;
		port = hend + 2;
	} else {
		hend = strrchr(host, ':');
		if (!hend || memchr(host, ':', (size_t)(hend - host)))
			return -EINVAL;
		port = hend + 1;
	}
	n = (size_t)(hend - host);
	if (n >= sizeof(u->host))
		return -EINVAL;
	memcpy(u->host, host, n);
	if (!*port || strlen(port) >= sizeof(u->port))
		return -EINVAL;
	pv = strtol(port, &end, 10);
	if (*end || pv < 0 || pv > 65535)
		return -EINVAL;
	strcpy(u->port, port);
	return 0;
}
