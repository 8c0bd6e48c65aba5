/* SPDX-License-Identifier: MIT */
/*
 * Wire constants of the three nested Xen save formats (written from
 * docs/specs/libxl-migration-stream.pandoc, libxc-migration-stream.pandoc
 * revision 3 and xl's save header).  Sizes are of the on-wire layouts.
 */
#ifndef RVMIG_STREAM_FORMAT_H
#define RVMIG_STREAM_FORMAT_H

#include <stdint.h>
#include <string.h>

#include <rvmig/stream.h>

/* xl save header: RVMIG_XL_MAGIC .. RVMIG_XL_CONFIG_MAX (rvmig/stream.h) */
#define XLHDR_MFLAG_ALL (RVMIG_XL_FLAG_JSON | RVMIG_XL_FLAG_STREAMV2)

/* libxl stream header (big-endian): ident u64, version u32, options u32 */
#define LIBXL_HDR_SIZE 16u
#define LIBXL_IDENT UINT64_C(0x4c6962786c466d74) /* "LibxlFmt" */
#define LIBXL_VERSION 2u
#define LIBXL_OPT_BIG_ENDIAN (1u << 0)
#define LIBXL_OPT_LEGACY (1u << 1)

/* libxc image header (big-endian): marker u64, id u32, version u32,
 * options u16, reserved u16 + u32; then the domain header (stream order):
 * type u32, page_shift u16, reserved u16, xen_major u32, xen_minor u32. */
#define LIBXC_IHDR_SIZE 24u
#define LIBXC_DHDR_SIZE 16u
#define LIBXC_MARKER UINT64_C(0xffffffffffffffff)
#define LIBXC_ID 0x58454e46u /* "XENF" */
#define LIBXC_OPT_BIG_ENDIAN (1u << 0)

/* Record header shared by libxl and libxc: type u32, length u32. */
#define REC_HDR_SIZE 8u
#define REC_ALIGN 8u

/* PAGE_DATA: count u32, reserved u32, pfn u64[count], data */
#define PAGE_DATA_HDR_SIZE 8u
#define PFN_MASK UINT64_C(0x000fffffffffffff)
#define PFN_RESERVED_MASK UINT64_C(0x0ff0000000000000)
#define PFN_TYPE_SHIFT 60

/* fixed body sizes */
#define LIBXC_PV_INFO_SIZE 8u
#define LIBXC_TSC_INFO_SIZE 24u
#define LIBXC_VCPU_HDR_SIZE 8u
#define LIBXC_P2M_HDR_SIZE 8u
#define LIBXC_HVM_PARAMS_HDR_SIZE 8u
#define LIBXC_HVM_PARAM_SIZE 16u
#define LIBXC_CPUID_LEAF_SIZE 24u /* xen_cpuid_leaf_t */
#define LIBXC_MSR_ENTRY_SIZE 16u  /* xen_msr_entry_t */
#define LIBXL_EMULATOR_HDR_SIZE 8u
#define LIBXL_CHECKPOINT_STATE_SIZE 4u

static inline uint32_t get_le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *b)
{
	return (uint64_t)get_le32(b) | (uint64_t)get_le32(b + 4) << 32;
}

static inline uint16_t get_le16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t get_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static inline uint64_t get_be64(const uint8_t *b)
{
	return (uint64_t)get_be32(b) << 32 | get_be32(b + 4);
}

static inline uint16_t get_be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* xl writes its header words in the saving host's byte order. */
static inline uint32_t get_ne32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

static inline uint64_t rec_padded(uint32_t len)
{
	return ((uint64_t)len + REC_ALIGN - 1) & ~(uint64_t)(REC_ALIGN - 1);
}

#endif
