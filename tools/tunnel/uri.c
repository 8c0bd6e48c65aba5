/* SPDX-License-Identifier: MIT */
/* uri.c - HOST -> URI by template (see uri.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tunnel/uri.h"

int tunnel_uri(const char *tmpl, const char *host, char *out, size_t cap)
{
	bool v6 = strchr(host, ':') && host[0] != '[';
	size_t n = 0;

	for (const char *t = tmpl; *t; t++) {
		char piece[300];
		int l;

		if (*t != '%') {
			piece[0] = *t;
			l = 1;
		} else if (t[1] == '%') {
			piece[0] = '%';
			l = 1;
			t++;
		} else if (t[1] == 'h') {
			l = snprintf(piece, sizeof(piece), v6 ? "[%s]" : "%s", host);
			if (l < 0 || (size_t)l >= sizeof(piece))
				return -ENAMETOOLONG;
			t++;
		} else {
			return -EINVAL;
		}
		if (n + (size_t)l >= cap)
			return -ENAMETOOLONG;
		memcpy(out + n, piece, (size_t)l);
		n += (size_t)l;
	}
	out[n] = 0;
	return 0;
}

int tunnel_uri_tcp(const char *uri, char *out, size_t cap)
{
	if (strncmp(uri, "verbs://", 8))
		return -EINVAL;
	if (snprintf(out, cap, "tcp://%s", uri + 8) >= (int)cap)
		return -ENAMETOOLONG;
	return 0;
}
