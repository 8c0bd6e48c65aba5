/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the key in a pre-shared key file
 * (librvmig/proto/keyfile.c, key_parse()): an accepted key is 16..256
 * bytes of the input, never cut, and only line ends follow it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = 0;
	int rc = key_parse(data, size, KEYFILE_KEY_MAX, &len);

	if (len > size || (len && (data[len - 1] == '\n' || data[len - 1] == '\r')))
		abort();
	for (size_t i = len; i < size; i++)
		if (data[i] != '\n' && data[i] != '\r')
			abort();
	if (rc == 0 && (len < KEYFILE_KEY_MIN || len > KEYFILE_KEY_MAX))
		abort();
	if (rc == -EMSGSIZE && len <= KEYFILE_KEY_MAX)
		abort();
	if (rc == -EINVAL && len >= KEYFILE_KEY_MIN)
		abort();
	if (rc && rc != -EINVAL && rc != -EMSGSIZE)
		abort();
	return 0;
}
