/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the wire decoders (hello and control messages). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[WIRE_CTRL_SIZE];
	struct wire_hello h;

	if (size > sizeof(buf))
		return 0;
	if (size >= sizeof(h)) {
		memcpy(&h, data, sizeof(h));
		wire_hello_dec(&h, size);
	}
	memcpy(buf, data, size);
	if (wire_msg_dec(buf, size) == 0 && buf[0] != MSG_ERROR) {
		/* A message that decodes must re-encode to the same bytes (ERROR is
		 * excluded: decoding terminates its text). */
		wire_msg_enc(buf);
		if (memcmp(buf, data, size))
			abort();
	}
	return 0;
}
