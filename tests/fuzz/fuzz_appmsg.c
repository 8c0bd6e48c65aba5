/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the tools' application message decoder
 * (librvmig/xstream/msg.c, rvmig_xmsg_decode()), which reads what a peer sent:
 * a decoded message stays inside the input, the messages whose fields are
 * all carried encode back to the same bytes, and its text escapes
 * (rvmig_text_escape()) to printable ASCII within the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig/common.h>

#include "xstream/msg.h"

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
	struct rvmig_xmsg m;
	const char *why = NULL;
	size_t n = 0;

	if (rvmig_xmsg_decode(data, size, &m, &why)) {
		if (!why)
			abort();
		return 0;
	}
	if (m.data && (m.data < data || m.data + m.len > data + size))
		abort();
	switch (m.tag) {
	case RVMIG_XMSG_ZERO:
		n = rvmig_xmsg_encode_zero(again, sizeof(again), m.n);
		break;
	case RVMIG_XMSG_END:
		n = rvmig_xmsg_encode_end(again, sizeof(again), m.n, m.digest, m.pages, m.zero_pages);
		break;
	case RVMIG_XMSG_RESUME:
		n = rvmig_xmsg_encode_resume(again, sizeof(again), m.offset, m.digest);
		break;
	case RVMIG_XMSG_ABORT:
	case RVMIG_XMSG_VERDICT:
	case RVMIG_XMSG_EXIT:
		check_text(m.data, m.len);
		break;
	default:
		break;
	}
	if (n && (n > size || memcmp(again, data, n)))
		abort();
	(void)rvmig_xmsg_tag_name(m.tag);
	return 0;
}
