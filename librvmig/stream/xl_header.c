/* SPDX-License-Identifier: MIT */
/* xl save header: magic, byte-order word, flags, optional data (config). */
#include <inttypes.h>
#include <string.h>

#include "stream/format.h"
#include "stream/parser_int.h"

int stream_xl_hdr_parse(struct rvmig_stream_parser *p, const uint8_t *b)
{
	uint32_t order = get_ne32(b + 32), mflags = get_ne32(b + 36);
	uint32_t oflags = get_ne32(b + 40), optlen = get_ne32(b + 44);
	uint32_t bad;

	if (memcmp(b, RVMIG_XL_MAGIC, RVMIG_XL_MAGIC_LEN))
		return stream_fail(p, p->u_off, "bad magic (not \"Xen saved domain, xl format\")");
	if (order != RVMIG_XL_BYTEORDER) {
		if (order == 0x04030201u)
			return stream_fail(p, p->u_off + 32,
				       "byte-order word 0x%08" PRIx32 ": saved on a host of the other "
				       "byte order, not supported", order);
		return stream_fail(p, p->u_off + 32, "bad byte-order word 0x%08" PRIx32 " (want 0x%08x)",
			       order, RVMIG_XL_BYTEORDER);
	}
	bad = mflags & ~XLHDR_MFLAG_ALL;
	if (bad)
		return stream_fail(p, p->u_off + 36, "unknown mandatory flag(s) 0x%" PRIx32
			       " (mandatory_flags 0x%" PRIx32 ")", bad, mflags);
	if (!(mflags & RVMIG_XL_FLAG_STREAMV2))
		return stream_fail(p, p->u_off + 36, "mandatory_flags 0x%" PRIx32 " lack STREAMv2: "
			       "legacy (pre migration v2) streams are not supported", mflags);
	if (optlen > p->max_optdata_len)
		return stream_fail(p, p->u_off + 44, "optional data length %" PRIu32
			       " exceeds the cap of %" PRIu32, optlen, p->max_optdata_len);
	if (optlen && optlen < 4)
		return stream_fail(p, p->u_off + 44, "optional data length %" PRIu32
			       " cannot hold the 4-octet config length", optlen);
	p->s.xl_mandatory_flags = mflags;
	p->s.xl_optional_flags = oflags;
	p->u_len = RVMIG_XL_HEADER_LEN + optlen;
	p->u_end = p->u_off + RVMIG_XL_HEADER_LEN + optlen;
	p->left = optlen;
	return 0;
}

int stream_xl_optlen_parse(struct rvmig_stream_parser *p, const uint8_t *b)
{
	uint32_t cfglen = get_ne32(b);

	if (cfglen > p->left - 4)
		return stream_fail(p, p->off - 4, "config length %" PRIu32
			       " exceeds the %" PRIu64 " octets of optional data after it",
			       cfglen, p->left - 4);
	p->s.xl_config_len = cfglen;
	p->left -= 4;
	return 0;
}
