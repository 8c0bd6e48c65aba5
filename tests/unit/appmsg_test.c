/* SPDX-License-Identifier: MIT */
/*
 * The tool message codec (tools/common/appmsg.h), pinned byte for byte:
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

#include "common/appmsg.h"

static uint8_t digest[32];

static void init_digest(void)
{
	for (int i = 0; i < 32; i++)
		digest[i] = (uint8_t)(0xa0 + i);
}

TestSuite(appmsg, .init = init_digest);

static void decode_ok(const uint8_t *b, size_t n, struct app_msg *m)
{
	const char *why = "";

	cr_assert_eq(app_decode(b, n, m, &why), 0, "%s", why);
}

Test(appmsg, hello_layout)
{
	uint8_t b[128], id[APP_XFER_ID_LEN];
	uint32_t v = app_tool_version();
	const uint8_t want[18] = { APP_HELLO, 2, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), 0,
				   APP_F_RAW | APP_F_SIZE | APP_F_SHA256, 0, 0, 0,
				   0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };
	struct app_msg m;
	size_t n;

	cr_assert_eq(v, (uint32_t)RVMIG_VERSION_MAJOR << 16 | RVMIG_VERSION_MINOR << 8 | RVMIG_VERSION_PATCH);
	n = app_encode_hello(b, sizeof(b), APP_F_RAW | APP_F_SIZE | APP_F_SHA256,
			     0x0102030405060708ull, NULL);
	cr_assert_eq(n, sizeof(want));
	cr_assert_arr_eq(b, want, sizeof(want));
	decode_ok(b, n, &m);
	cr_assert_eq(m.tag, APP_HELLO);
	cr_assert_eq(m.flags, APP_F_RAW | APP_F_SIZE | APP_F_SHA256);
	cr_assert_eq(m.size, 0x0102030405060708ull);
	cr_assert_eq(m.tool_version, v);
	cr_assert_eq(app_flags_digest(m.flags), HASHER_SHA256);
	cr_assert_eq(app_flags_digest(APP_F_RAW), HASHER_XXH128);

	/* with APP_F_RESUME the 32-octet transfer id follows */
	memset(id, 0x5c, sizeof(id));
	n = app_encode_hello(b, sizeof(b), APP_F_RESUME, 7, id);
	cr_assert_eq(n, 18 + APP_XFER_ID_LEN);
	cr_assert_eq(b[6], APP_F_RESUME);
	cr_assert_arr_eq(b + 18, id, APP_XFER_ID_LEN);
	decode_ok(b, n, &m);
	cr_assert_arr_eq(m.xfer_id, id, APP_XFER_ID_LEN);
	/* ... and a HELLO that asks to resume without one is refused */
	{
		const char *why = "";

		cr_assert_eq(app_decode(b, 18 + APP_XFER_ID_LEN - 1, &m, &why), -EBADMSG);
		cr_assert(strstr(why, "transfer id"), "%s", why);
	}
	cr_assert_eq(app_encode_hello(b, 18 + APP_XFER_ID_LEN - 1, APP_F_RESUME, 7, id), 0);
	cr_assert_eq(app_encode_hello(b, 17, 0, 7, NULL), 0);
}

Test(appmsg, zero_end_resume_layouts)
{
	uint8_t b[128];
	struct app_msg m;
	size_t n;

	n = app_encode_zero(b, sizeof(b), 0x1000);
	cr_assert_eq(n, 10);
	cr_assert_arr_eq(b, ((uint8_t[]){ APP_ZERO, 2, 0, 0x10, 0, 0, 0, 0, 0, 0 }), 10);
	decode_ok(b, n, &m);
	cr_assert_eq(m.n, 0x1000);

	n = app_encode_end(b, sizeof(b), 0x11223344, digest, 5, 3);
	cr_assert_eq(n, 58);
	cr_assert_arr_eq(b, ((uint8_t[]){ APP_END, 2, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0 }), 10);
	cr_assert_arr_eq(b + 10, digest, 32);
	cr_assert_arr_eq(b + 42, ((uint8_t[]){ 5, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0 }), 16);
	decode_ok(b, n, &m);
	cr_assert(m.tag == APP_END && m.n == 0x11223344 && m.pages == 5 && m.zero_pages == 3);
	cr_assert_arr_eq(m.digest, digest, 32);

	n = app_encode_resume(b, sizeof(b), 4096, digest);
	cr_assert_eq(n, 42);
	cr_assert_arr_eq(b, ((uint8_t[]){ APP_RESUME, 2, 0, 0x10, 0, 0, 0, 0, 0, 0 }), 10);
	decode_ok(b, n, &m);
	cr_assert(m.tag == APP_RESUME && m.offset == 4096);
	cr_assert_arr_eq(m.digest, digest, 32);
	cr_assert_eq(app_encode_end(b, 57, 1, digest, 0, 0), 0);
}

Test(appmsg, verdict_abort_exit_carry_text)
{
	uint8_t b[128];
	struct app_msg m;
	size_t n;

	n = app_encode_verdict(b, sizeof(b), -ENOSPC, 99, digest, "disk full");
	cr_assert_eq(n, 2 + 48 + 9);
	cr_assert_arr_eq(b, ((uint8_t[]){ APP_VERDICT, 2, 0xe4, 0xff, 0xff, 0xff }), 6);
	decode_ok(b, n, &m);
	cr_assert(m.tag == APP_VERDICT && m.status == -ENOSPC && m.n == 99);
	cr_assert_eq(m.tool_version, app_tool_version());
	cr_assert_eq(m.len, 9);
	cr_assert_arr_eq(m.data, "disk full", 9);

	/* a text that does not fit is cut, the message still goes */
	n = app_encode_abort(b, 20, -EINTR, "interrupted by signal 15 at offset 12345");
	cr_assert_eq(n, 20);
	decode_ok(b, n, &m);
	cr_assert(m.tag == APP_ABORT && m.status == -EINTR && m.len == 14);
	cr_assert_arr_eq(m.data, "interrupted by", 14);

	n = app_encode_exit(b, sizeof(b), 256 + 9, 5, digest, NULL);
	cr_assert_eq(n, 50);
	decode_ok(b, n, &m);
	cr_assert(m.tag == APP_EXIT && m.status == 265 && m.len == 0);
}

Test(appmsg, payload_messages)
{
	char *argv[] = { "xl", "migrate-receive", "" };
	uint8_t b[64];
	struct app_msg m;
	size_t n;

	n = app_encode_ctrl_hdr(b, sizeof(b));
	cr_assert_eq(n, APP_HDR_LEN);
	memcpy(b + n, "LibxlFmt", 8);
	decode_ok(b, n + 8, &m);
	cr_assert(m.tag == APP_CTRL && m.len == 8 && !memcmp(m.data, "LibxlFmt", 8));

	n = app_encode_exec(b, sizeof(b), 3, argv);
	cr_assert_eq(n, 2 + 3 + 16 + 1);
	cr_assert_arr_eq(b, "\x07\x02xl\0migrate-receive\0\0", n);
	decode_ok(b, n, &m);
	cr_assert(m.tag == APP_EXEC && m.len == 20);
	cr_assert_eq(app_encode_exec(b, 21, 3, argv), 0, "an argv that does not fit is refused whole");

	for (enum app_tag t = APP_OUT; t <= APP_ERR; t++) {
		n = app_encode_payload_hdr(b, sizeof(b), t);
		decode_ok(b, n, &m);
		cr_assert(m.tag == t && m.len == 0);
	}
}

Test(appmsg, refusals)
{
	static const size_t fixed[] = { [APP_HELLO] = 16, [APP_ZERO] = 8, [APP_END] = 56,
					[APP_ABORT] = 4, [APP_VERDICT] = 48, [APP_EXIT] = 48,
					[APP_RESUME] = 40 };
	uint8_t b[80] = { 0 };
	struct app_msg m;
	const char *why;

	why = "";
	cr_assert_eq(app_decode(b, 1, &m, &why), -EBADMSG);
	cr_assert(strstr(why, "shorter than its header"), "%s", why);
	/* format version 1 (SHA-256 always) is refused, not misread */
	b[0] = APP_END;
	b[1] = 1;
	cr_assert_eq(app_decode(b, 58, &m, &why), -EPROTO);
	cr_assert(strstr(why, "version"), "%s", why);
	b[1] = 2;
	for (int t = 0; t < 256; t++) {
		if (t >= APP_HELLO && t <= APP_RESUME)
			continue;
		b[0] = (uint8_t)t;
		why = "";
		cr_assert_eq(app_decode(b, sizeof(b), &m, &why), -EBADMSG, "tag %d", t);
		cr_assert(strstr(why, "unknown message tag"), "%s", why);
	}
	/* every message one octet short of its fixed fields */
	for (int t = APP_HELLO; t <= APP_RESUME; t++) {
		if (t >= (int)(sizeof(fixed) / sizeof(fixed[0])) || !fixed[t])
			continue;
		b[0] = (uint8_t)t;
		why = "";
		cr_assert_eq(app_decode(b, APP_HDR_LEN + fixed[t] - 1, &m, &why), -EBADMSG, "%s",
			     app_tag_name(t));
		cr_assert(strstr(why, "truncated"), "%s: %s", app_tag_name(t), why);
		cr_assert_eq(app_decode(b, APP_HDR_LEN + fixed[t], &m, &why), 0, "%s", app_tag_name(t));
	}
	cr_assert_str_eq(app_tag_name(APP_RESUME), "RESUME");
	cr_assert_str_eq(app_tag_name((enum app_tag)12), "?");
	cr_assert_str_eq(app_tag_name((enum app_tag)0), "?");
}
