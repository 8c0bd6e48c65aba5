/* xlheader.c — build the xl save-file header (see xlheader.h). */
#include "xlheader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(RVMIG_XL_MAGIC) - 1 == RVMIG_XL_MAGIC_LEN,
	       "xl magic is 32 bytes (without the literal's NUL)");

static void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v)); /* host byte order, as xl writes it */
}

int rvmig_xl_header_build(const char *config, uint32_t config_len,
			  uint8_t **out, size_t *out_len)
{
	if (config_len > RVMIG_XL_CONFIG_MAX || (config_len && !config))
		return -EINVAL;
	uint32_t opt_len = 4 + config_len;
	size_t len = RVMIG_XL_HEADER_LEN + (size_t)opt_len;
	uint8_t *b = calloc(1, len);
	if (!b)
		return -ENOMEM;
	memcpy(b, RVMIG_XL_MAGIC, RVMIG_XL_MAGIC_LEN);
	put_u32(b + 32, RVMIG_XL_BYTEORDER);
	put_u32(b + 36, RVMIG_XL_FLAG_STREAMV2 | (config_len ? RVMIG_XL_FLAG_JSON : 0));
	put_u32(b + 40, 0); /* optional_flags */
	put_u32(b + 44, opt_len);
	put_u32(b + 48, config_len);
	if (config_len)
		memcpy(b + 52, config, config_len);
	*out = b;
	*out_len = len;
	return 0;
}
