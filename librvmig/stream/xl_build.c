/* SPDX-License-Identifier: MIT */
/* xl_build.c - writing the xl save header (rvmig_xl_header_build(),
 * rvmig/stream.h); xl_header.c parses it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream/format.h"

_Static_assert(sizeof(RVMIG_XL_MAGIC) - 1 == RVMIG_XL_MAGIC_LEN,
	       "the xl magic is 32 octets (without the literal's NUL)");

static void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v)); /* host order, as xl writes it */
}

int rvmig_xl_header_build(const char *config, uint32_t config_len, uint8_t **out,
			  size_t *out_len)
{
	uint32_t opt_len = 4 + config_len;
	size_t len = RVMIG_XL_HEADER_LEN + (size_t)opt_len;
	uint8_t *b;

	if (!out || !out_len || config_len > RVMIG_XL_CONFIG_MAX || (config_len && !config))
		return -EINVAL;
	b = calloc(1, len);
	if (!b)
		return -ENOMEM;
	memcpy(b, RVMIG_XL_MAGIC, RVMIG_XL_MAGIC_LEN);
	put_u32(b + 32, RVMIG_XL_BYTEORDER);
	put_u32(b + 36, RVMIG_XL_FLAG_STREAMV2 | (config_len ? RVMIG_XL_FLAG_JSON : 0));
	put_u32(b + 40, 0); /* optional flags */
	put_u32(b + 44, opt_len);
	put_u32(b + 48, config_len);
	if (config_len)
		memcpy(b + 52, config, config_len);
	*out = b;
	*out_len = len;
	return 0;
}
