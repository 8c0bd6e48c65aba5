/* SPDX-License-Identifier: MIT */
/*
 * The tool message codec (include/rvmig/xstream.h), pinned byte for byte:
 * these layouts are the wire format rvmig-send / rvmig-recv / rvmig-tunnel /
 * rvmigd 0.1 speak (format version 2), which must not change when the code
 * moves into the library (issue 18).  Also: every message decodes back to
 * what was encoded, truncation and foreign versions are refused, encoders
 * refuse buffers that are too small.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig/common.h>

#include "xstream/msg.h"

static uint8_t digest[32];

static void init_digest(void)
{
	for (int i = 0; i < 32; i++)
		digest[i] = (uint8_t)(0xa0 + i);
}

TestSuite(appmsg, .init = init_digest);

static void decode_ok(const uint8_t *b, size_t n, struct rvmig_xmsg *m)
{
	const char *why = "";

	cr_assert_eq(rvmig_xmsg_decode(b, n, m, &why), 0, "%s", why);
}

Test(appmsg, hello_layout)
{
	uint8_t b[128], id[RVMIG_XFER_ID_LEN];
	uint32_t v = rvmig_xmsg_tool_version();
	const uint8_t want[18] = { RVMIG_XMSG_HELLO, 2, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), 0,
				   RVMIG_XMSG_F_RAW | RVMIG_XMSG_F_SIZE | RVMIG_XMSG_F_SHA256, 0, 0, 0,
				   0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };
	struct rvmig_xmsg m;
	size_t n;

	cr_assert_eq(v, (uint32_t)RVMIG_VERSION_MAJOR << 16 | RVMIG_VERSION_MINOR << 8 | RVMIG_VERSION_PATCH);
	n = rvmig_xmsg_encode_hello(b, sizeof(b), RVMIG_XMSG_F_RAW | RVMIG_XMSG_F_SIZE | RVMIG_XMSG_F_SHA256,
			     0x0102030405060708ull, NULL);
	cr_assert_eq(n, sizeof(want));
	cr_assert_arr_eq(b, want, sizeof(want));
	decode_ok(b, n, &m);
	cr_assert_eq(m.tag, RVMIG_XMSG_HELLO);
	cr_assert_eq(m.flags, RVMIG_XMSG_F_RAW | RVMIG_XMSG_F_SIZE | RVMIG_XMSG_F_SHA256);
	cr_assert_eq(m.input_size, 0x0102030405060708ull);
	cr_assert_eq(m.tool_version, v);
	cr_assert_eq(rvmig_xmsg_digest_alg(m.flags), RVMIG_DIGEST_SHA256);
	cr_assert_eq(rvmig_xmsg_digest_alg(RVMIG_XMSG_F_RAW), RVMIG_DIGEST_XXH128);

	/* with RVMIG_XMSG_F_RESUME the 32-octet transfer id follows */
	memset(id, 0x5c, sizeof(id));
	n = rvmig_xmsg_encode_hello(b, sizeof(b), RVMIG_XMSG_F_RESUME, 7, id);
	cr_assert_eq(n, 18 + RVMIG_XFER_ID_LEN);
	cr_assert_eq(b[6], RVMIG_XMSG_F_RESUME);
	cr_assert_arr_eq(b + 18, id, RVMIG_XFER_ID_LEN);
	decode_ok(b, n, &m);
	cr_assert_arr_eq(m.xfer_id, id, RVMIG_XFER_ID_LEN);
	/* ... and a HELLO that asks to resume without one is refused */
	{
		const char *why = "";

		cr_assert_eq(rvmig_xmsg_decode(b, 18 + RVMIG_XFER_ID_LEN - 1, &m, &why), -EBADMSG);
		cr_assert(strstr(why, "transfer id"), "%s", why);
	}
	cr_assert_eq(rvmig_xmsg_encode_hello(b, 18 + RVMIG_XFER_ID_LEN - 1, RVMIG_XMSG_F_RESUME, 7, id), 0);
	cr_assert_eq(rvmig_xmsg_encode_hello(b, 17, 0, 7, NULL), 0);
}

Test(appmsg, zero_end_resume_layouts)
{
	uint8_t b[128];
	struct rvmig_xmsg m;
	size_t n;

	n = rvmig_xmsg_encode_zero(b, sizeof(b), 0x1000);
	cr_assert_eq(n, 10);
	cr_assert_arr_eq(b, ((uint8_t[]){ RVMIG_XMSG_ZERO, 2, 0, 0x10, 0, 0, 0, 0, 0, 0 }), 10);
	decode_ok(b, n, &m);
	cr_assert_eq(m.n, 0x1000);

	n = rvmig_xmsg_encode_end(b, sizeof(b), 0x11223344, digest, 5, 3);
	cr_assert_eq(n, 58);
	cr_assert_arr_eq(b, ((uint8_t[]){ RVMIG_XMSG_END, 2, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0 }), 10);
	cr_assert_arr_eq(b + 10, digest, 32);
	cr_assert_arr_eq(b + 42, ((uint8_t[]){ 5, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0 }), 16);
	decode_ok(b, n, &m);
	cr_assert(m.tag == RVMIG_XMSG_END && m.n == 0x11223344 && m.pages == 5 && m.zero_pages == 3);
	cr_assert_arr_eq(m.digest, digest, 32);

	n = rvmig_xmsg_encode_resume(b, sizeof(b), 4096, digest);
	cr_assert_eq(n, 42);
	cr_assert_arr_eq(b, ((uint8_t[]){ RVMIG_XMSG_RESUME, 2, 0, 0x10, 0, 0, 0, 0, 0, 0 }), 10);
	decode_ok(b, n, &m);
	cr_assert(m.tag == RVMIG_XMSG_RESUME && m.offset == 4096);
	cr_assert_arr_eq(m.digest, digest, 32);
	cr_assert_eq(rvmig_xmsg_encode_end(b, 57, 1, digest, 0, 0), 0);
}

Test(appmsg, verdict_abort_exit_carry_text)
{
	uint8_t b[128];
	struct rvmig_xmsg m;
	size_t n;

	n = rvmig_xmsg_encode_verdict(b, sizeof(b), -ENOSPC, 99, digest, "disk full");
	cr_assert_eq(n, 2 + 48 + 9);
	cr_assert_arr_eq(b, ((uint8_t[]){ RVMIG_XMSG_VERDICT, 2, 0xe4, 0xff, 0xff, 0xff }), 6);
	decode_ok(b, n, &m);
	cr_assert(m.tag == RVMIG_XMSG_VERDICT && m.status == -ENOSPC && m.n == 99);
	cr_assert_eq(m.tool_version, rvmig_xmsg_tool_version());
	cr_assert_eq(m.len, 9);
	cr_assert_arr_eq(m.data, "disk full", 9);

	/* a text that does not fit is cut, the message still goes */
	n = rvmig_xmsg_encode_abort(b, 20, -EINTR, "interrupted by signal 15 at offset 12345");
	cr_assert_eq(n, 20);
	decode_ok(b, n, &m);
	cr_assert(m.tag == RVMIG_XMSG_ABORT && m.status == -EINTR && m.len == 14);
	cr_assert_arr_eq(m.data, "interrupted by", 14);

	n = rvmig_xmsg_encode_exit(b, sizeof(b), 256 + 9, 5, digest, NULL);
	cr_assert_eq(n, 50);
	decode_ok(b, n, &m);
	cr_assert(m.tag == RVMIG_XMSG_EXIT && m.status == 265 && m.len == 0);
}

Test(appmsg, payload_messages)
{
	char *argv[] = { "xl", "migrate-receive", "" };
	uint8_t b[64];
	struct rvmig_xmsg m;
	size_t n;

	n = app_encode_ctrl_hdr(b, sizeof(b));
	cr_assert_eq(n, RVMIG_XMSG_HDR_LEN);
	memcpy(b + n, "LibxlFmt", 8);
	decode_ok(b, n + 8, &m);
	cr_assert(m.tag == RVMIG_XMSG_CTRL && m.len == 8 && !memcmp(m.data, "LibxlFmt", 8));

	n = rvmig_xmsg_encode_exec(b, sizeof(b), 3, argv);
	cr_assert_eq(n, 2 + 3 + 16 + 1);
	cr_assert_arr_eq(b, "\x07\x02xl\0migrate-receive\0\0", n);
	decode_ok(b, n, &m);
	cr_assert(m.tag == RVMIG_XMSG_EXEC && m.len == 20);
	cr_assert_eq(rvmig_xmsg_encode_exec(b, 21, 3, argv), 0, "an argv that does not fit is refused whole");

	for (enum rvmig_xmsg_tag t = RVMIG_XMSG_OUT; t <= RVMIG_XMSG_ERR; t++) {
		n = rvmig_xmsg_encode_payload_hdr(b, sizeof(b), t);
		decode_ok(b, n, &m);
		cr_assert(m.tag == t && m.len == 0);
	}
}

Test(appmsg, refusals)
{
	static const size_t fixed[] = { [RVMIG_XMSG_HELLO] = 16, [RVMIG_XMSG_ZERO] = 8, [RVMIG_XMSG_END] = 56,
					[RVMIG_XMSG_ABORT] = 4, [RVMIG_XMSG_VERDICT] = 48, [RVMIG_XMSG_EXIT] = 48,
					[RVMIG_XMSG_RESUME] = 40 };
	uint8_t b[80] = { 0 };
	struct rvmig_xmsg m;
	const char *why;

	why = "";
	cr_assert_eq(rvmig_xmsg_decode(b, 1, &m, &why), -EBADMSG);
	cr_assert(strstr(why, "shorter than its header"), "%s", why);
	/* format version 1 (SHA-256 always) is refused, not misread */
	b[0] = RVMIG_XMSG_END;
	b[1] = 1;
	cr_assert_eq(rvmig_xmsg_decode(b, 58, &m, &why), -EPROTO);
	cr_assert(strstr(why, "version"), "%s", why);
	b[1] = 2;
	for (int t = 0; t < 256; t++) {
		if (t >= RVMIG_XMSG_HELLO && t <= RVMIG_XMSG_RESUME)
			continue;
		b[0] = (uint8_t)t;
		why = "";
		cr_assert_eq(rvmig_xmsg_decode(b, sizeof(b), &m, &why), -EBADMSG, "tag %d", t);
		cr_assert(strstr(why, "unknown message tag"), "%s", why);
	}
	/* every message one octet short of its fixed fields */
	for (int t = RVMIG_XMSG_HELLO; t <= RVMIG_XMSG_RESUME; t++) {
		if (t >= (int)(sizeof(fixed) / sizeof(fixed[0])) || !fixed[t])
			continue;
		b[0] = (uint8_t)t;
		why = "";
		cr_assert_eq(rvmig_xmsg_decode(b, RVMIG_XMSG_HDR_LEN + fixed[t] - 1, &m, &why), -EBADMSG, "%s",
			     rvmig_xmsg_tag_name(t));
		cr_assert(strstr(why, "truncated"), "%s: %s", rvmig_xmsg_tag_name(t), why);
		cr_assert_eq(rvmig_xmsg_decode(b, RVMIG_XMSG_HDR_LEN + fixed[t], &m, &why), 0, "%s", rvmig_xmsg_tag_name(t));
	}
	cr_assert_str_eq(rvmig_xmsg_tag_name(RVMIG_XMSG_RESUME), "RESUME");
	cr_assert_str_eq(rvmig_xmsg_tag_name((enum rvmig_xmsg_tag)12), "?");
	cr_assert_str_eq(rvmig_xmsg_tag_name((enum rvmig_xmsg_tag)0), "?");
}
