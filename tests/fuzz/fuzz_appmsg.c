/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the tools' application message decoder
 * (tools/common/appmsg.c, app_decode()), which reads what a peer sent:
 * a decoded message stays inside the input, the messages whose fields are
 * all carried encode back to the same bytes, and its text escapes
 * (rvmig_text_escape()) to printable ASCII within the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig/common.h>

#include "common/appmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const uint8_t *p, size_t len)
{
	char out[128];
	size_t n = rvmig_text_escape(out, sizeof(out), p, len);

	if (n >= sizeof(out) || strlen(out) != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t again[256];
	struct app_msg m;
	const char *why = NULL;
	size_t n = 0;

	if (app_decode(data, size, &m, &why)) {
		if (!why)
			abort();
		return 0;
	}
	if (m.data && (m.data < data || m.data + m.len > data + size))
		abort();
	switch (m.tag) {
	case APP_ZERO:
		n = app_encode_zero(again, sizeof(again), m.n);
		break;
	case APP_END:
		n = app_encode_end(again, sizeof(again), m.n, m.digest, m.pages, m.zero_pages);
		break;
	case APP_RESUME:
		n = app_encode_resume(again, sizeof(again), m.offset, m.digest);
		break;
	case APP_ABORT:
	case APP_VERDICT:
	case APP_EXIT:
		check_text(m.data, m.len);
		break;
	default:
		break;
	}
	if (n && (n > size || memcmp(again, data, n)))
		abort();
	(void)app_tag_name(m.tag);
	return 0;
}
