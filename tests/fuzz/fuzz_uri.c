/* SPDX-License-Identifier: MIT */
/* libFuzzer target: URI parsing (verbs://HOST:PORT, tcp://[v6]:PORT). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[512];
	struct rvmig_uri u;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (uri_parse(s, &u) == 0) {
		if (!u.scheme[0] || strlen(u.port) == 0 || atoi(u.port) > 65535)
			abort();
	}
	return 0;
}
