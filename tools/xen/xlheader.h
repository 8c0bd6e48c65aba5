/* xlheader.h — the header `xl save` puts in front of a libxl stream.
 *
 * An xl save file is: this 48-byte header, then optional_data_len bytes of
 * optional data (a uint32 length + the domain's libxl JSON configuration
 * including its trailing NUL), then the libxl/libxc stream that
 * libxl_domain_suspend() writes.  All uint32 fields are in host byte order;
 * byteorder holds 0x01020304 so a reader can tell.  `xl restore` and
 * `xl migrate-receive` reject unknown mandatory flags.
 */
#ifndef RVMIG_TOOLS_XEN_XLHEADER_H
#define RVMIG_TOOLS_XEN_XLHEADER_H

#include <stddef.h>
#include <stdint.h>

#define RVMIG_XL_MAGIC "Xen saved domain, xl format\n \0 \r"
#define RVMIG_XL_MAGIC_LEN 32
#define RVMIG_XL_BYTEORDER 0x01020304u
#define RVMIG_XL_FLAG_JSON (1u << 0)     /* optional data holds JSON config */
#define RVMIG_XL_FLAG_STREAMV2 (1u << 1) /* libxc stream format version 2 */
#define RVMIG_XL_HEADER_LEN 48

/* Upper bound on the configuration carried (xl itself has none; a JSON
 * config of a few KiB is usual). */
#define RVMIG_XL_CONFIG_MAX (16u << 20)

/* Build the header + optional data for `config_len` bytes of JSON config
 * (including its NUL; 0 for none) into a buffer from malloc().  On success
 * returns 0 and sets *out / *out_len; -EINVAL if config_len is too large,
 * -ENOMEM. */
int rvmig_xl_header_build(const char *config, uint32_t config_len,
			  uint8_t **out, size_t *out_len);

#endif
