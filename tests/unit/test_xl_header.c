/* SPDX-License-Identifier: MIT */
/*
 * rvmig_xl_header_build() (rvmig/stream.h): the header it writes in front
 * of a bare libxl stream is what the parser reads as an xl save file (the
 * layout xl itself writes, with and without a config), byte for byte, and
 * streamgen's independent writer produces the same octets; bad lengths are
 * refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "streamgen.h"

static void parses_as_xl(const char *config, uint32_t config_len)
{
	struct streamgen_opts o = { .nr_pfns = 32, .no_xl_header = true, .seed = 3 };
	struct streamgen_buf libxl = { 0 }, whole = { 0 }, ref = { 0 };
	struct streamgen_expect e;
	struct streamgen_replay r = { .chunk = 7, .finish = true };
	uint8_t *hdr;
	size_t len;

	cr_assert_eq(rvmig_xl_header_build(config, config_len, &hdr, &len), 0);
	cr_assert_eq(len, RVMIG_XL_HEADER_LEN + 4 + config_len);
	/* the same octets as the test's own writer, from the format alone */
	cr_assert_eq(streamgen_xl_header(&ref, RVMIG_XL_FLAG_STREAMV2 |
						       (config_len ? RVMIG_XL_FLAG_JSON : 0),
					 0, config, config_len), 0);
	cr_assert_eq(ref.len, len);
	cr_assert_arr_eq(ref.data, hdr, len);
	cr_assert_eq(streamgen_build(&o, &libxl, &e), 0);
	cr_assert_eq(streamgen_append(&whole, hdr, len), 0);
	cr_assert_eq(streamgen_append(&whole, libxl.data, libxl.len), 0);
	cr_assert_eq(streamgen_replay(whole.data, whole.len, &r), 0, "%s", r.error);
	cr_assert_str_empty(r.violation, "%s", r.violation);
	cr_assert_eq(r.start_layer, RVMIG_STREAM_LAYER_XL);
	cr_assert(r.seen_end);
	cr_assert_eq(r.rebuilt_len, whole.len);
	cr_assert_eq(r.page_items, e.pages);
	free(hdr);
	streamgen_replay_free(&r);
	streamgen_expect_free(&e);
	streamgen_buf_free(&libxl);
	streamgen_buf_free(&whole);
	streamgen_buf_free(&ref);
}

Test(xl_header, with_config)
{
	static const char json[] = "{\"c_info\": {\"name\": \"guest\"}}";

	parses_as_xl(json, sizeof(json));
}

Test(xl_header, without_config)
{
	parses_as_xl(NULL, 0);
}

Test(xl_header, bad_lengths)
{
	uint8_t *hdr = NULL;
	size_t len = 0;

	cr_assert_eq(rvmig_xl_header_build(NULL, 5, &hdr, &len), -EINVAL);
	cr_assert_eq(rvmig_xl_header_build("x", RVMIG_XL_CONFIG_MAX + 1, &hdr, &len), -EINVAL);
	cr_assert_eq(rvmig_xl_header_build("x", 2, NULL, &len), -EINVAL);
	cr_assert_null(hdr);
}
