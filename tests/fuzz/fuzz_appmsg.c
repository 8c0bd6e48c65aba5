/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the tools' application message decoder
 * (librvmig/xstream/msg.c, rvmig_xmsg_decode()), which reads what a peer sent:
 * a decoded message stays inside the input, every kind of message encodes
 * back to the same bytes (but for our own tool version, which the encoders
 * write, and texts with a NUL, which they cannot carry), every decoded tag
 * has a name, and a text escapes (rvmig_text_escape()) to printable ASCII
 * within the buffer. */
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

/* The tag set this target covers: a new tag must get its round trip below. */
_Static_assert(RVMIG_XMSG_RESUME == 11, "a new message tag: add its round trip to fuzz_appmsg.c");

/* The message re-encoded from what was decoded must be the input's first n
 * octets, except `skip` octets at `skip_at` (our tool version, which the
 * encoders write themselves). */
static void same(const uint8_t *again, size_t n, const uint8_t *data, size_t size, size_t skip_at,
		 size_t skip)
{
	if (!n || n > size || memcmp(again, data, skip_at) ||
	    memcmp(again + skip_at + skip, data + skip_at + skip, n - skip_at - skip))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[70000];
	struct rvmig_xmsg m;
	const char *why = NULL;
	char text[70000];
	char *argv[64];
	size_t n = 0, skip_at = 0, skip = 0;
	int argc = 0;

	if (rvmig_xmsg_decode(data, size, &m, &why)) {
		if (!why)
			abort();
		return 0;
	}
	if (m.data && (m.data < data || m.data + m.len > data + size))
		abort();
	/* texts as the encoders take them: NUL-terminated, so only a text
	 * without a NUL comes back the same */
	if (m.data && m.len < sizeof(text) && !memchr(m.data, 0, m.len)) {
		memcpy(text, m.data, m.len);
		text[m.len] = 0;
	} else {
		text[0] = 0;
	}
	switch (m.tag) {
	case RVMIG_XMSG_HELLO:
		n = rvmig_xmsg_encode_hello(again, sizeof(again), m.flags, m.input_size, m.xfer_id);
		skip_at = RVMIG_XMSG_HDR_LEN;
		skip = 4;
		break;
	case RVMIG_XMSG_CTRL:
	case RVMIG_XMSG_OUT:
	case RVMIG_XMSG_ERR:
		n = rvmig_xmsg_encode_payload_hdr(again, sizeof(again), m.tag);
		if (n != RVMIG_XMSG_HDR_LEN || n + m.len > sizeof(again))
			abort();
		memcpy(again + n, m.data, m.len);
		n += m.len;
		break;
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
		check_text(m.data, m.len);
		if (text[0] || !m.len)
			n = rvmig_xmsg_encode_abort(again, sizeof(again), m.status, text);
		break;
	case RVMIG_XMSG_VERDICT:
	case RVMIG_XMSG_EXIT:
		check_text(m.data, m.len);
		if (text[0] || !m.len)
			n = (m.tag == RVMIG_XMSG_VERDICT ? rvmig_xmsg_encode_verdict
							 : rvmig_xmsg_encode_exit)(
				again, sizeof(again), m.status, m.n, m.digest, text);
		skip_at = RVMIG_XMSG_HDR_LEN + 4;
		skip = 4;
		break;
	case RVMIG_XMSG_EXEC:
		/* NUL-terminated arguments: split them and encode them again */
		for (size_t i = 0, a = 0; i < m.len && argc < 64; i++)
			if (!m.data[i]) {
				argv[argc++] = (char *)m.data + a;
				a = i + 1;
			}
		if (argc < 64 && m.len && !m.data[m.len - 1])
			n = rvmig_xmsg_encode_exec(again, sizeof(again), argc, argv);
		break;
	}
	if (n)
		same(again, n, data, size, skip_at, skip);
	if (!strcmp(rvmig_xmsg_tag_name(m.tag), "?"))
		abort();
	return 0;
}
