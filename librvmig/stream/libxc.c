/* SPDX-License-Identifier: MIT */
/* libxc migration v2/v3 stream: image + domain header, record checks. */
#include <inttypes.h>

#include "stream/format.h"
#include "stream/parser_int.h"

int stream_libxc_hdr_parse(struct rvmig_stream_parser *p, const uint8_t *b)
{
	const uint8_t *d = b + LIBXC_IHDR_SIZE;
	uint64_t marker = get_be64(b);
	uint32_t id = get_be32(b + 8), version = get_be32(b + 12);
	uint16_t options = get_be16(b + 16), res16 = get_be16(b + 18);
	uint32_t res32 = get_be32(b + 20);
	uint32_t type = get_le32(d);
	uint16_t page_shift = get_le16(d + 4), dres = get_le16(d + 6);

	if (marker != LIBXC_MARKER)
		return stream_fail(p, p->u_off, "bad marker 0x%016" PRIx64
			       " (legacy pre-v2 images are not supported)", marker);
	if (id != LIBXC_ID)
		return stream_fail(p, p->u_off + 8, "bad id 0x%08" PRIx32 " (want 0x%08x \"XENF\")",
			       id, LIBXC_ID);
	if (version < 2 || version > 3)
		return stream_fail(p, p->u_off + 12, "unsupported version %" PRIu32 " (want 2 or 3)",
			       version);
	if (options & LIBXC_OPT_BIG_ENDIAN)
		return stream_fail(p, p->u_off + 16, "big-endian streams are not supported");
	if (options & ~LIBXC_OPT_BIG_ENDIAN)
		return stream_fail(p, p->u_off + 16, "reserved option bits set (options 0x%04x)", options);
	if (res16 || res32)
		return stream_fail(p, p->u_off + 18, "reserved image header fields are not zero");
	if (type < RVMIG_GUEST_X86_PV || type > RVMIG_GUEST_ARM)
		return stream_fail(p, p->u_off + LIBXC_IHDR_SIZE, "unknown domain type %" PRIu32, type);
	if (page_shift != 12)
		return stream_fail(p, p->u_off + LIBXC_IHDR_SIZE + 4,
			       "page_shift %u not supported (only 4 KiB pages)", page_shift);
	if (dres)
		return stream_fail(p, p->u_off + LIBXC_IHDR_SIZE + 6,
			       "reserved domain header field is not zero");
	p->s.libxc_version = version;
	p->s.guest_type = type;
	p->s.xen_major = get_le32(d + 8);
	p->s.xen_minor = get_le32(d + 12);
	p->seen_static_end = false;
	p->u_len = LIBXC_IHDR_SIZE + LIBXC_DHDR_SIZE;
	p->u_end = p->u_off + p->u_len;
	return 0;
}

static int want_multiple(struct rvmig_stream_parser *p, uint32_t hdr, uint32_t unit)
{
	int rc = stream_want_min(p, hdr);

	if (rc)
		return rc;
	if ((p->u_len - hdr) % unit && !hdr)
		return stream_fail(p, p->u_off + 4, "length %" PRIu32 " is not a multiple of %" PRIu32,
			       p->u_len, unit);
	if ((p->u_len - hdr) % unit)
		return stream_fail(p, p->u_off + 4, "length %" PRIu32 " is not %" PRIu32
			       " + a multiple of %" PRIu32, p->u_len, hdr, unit);
	return 0;
}

static bool x86(const struct rvmig_stream_parser *p)
{
	return p->s.guest_type != RVMIG_GUEST_ARM;
}

int stream_libxc_rec_check(struct rvmig_stream_parser *p)
{
	uint32_t t = p->u_type;

	if (t >= RVMIG_LIBXC_REC_NTYPES) {
		if (!(t & RVMIG_STREAM_REC_OPTIONAL))
			return stream_fail(p, p->u_off, "unknown mandatory record type");
		p->s.libxc_optional_records++;
		return 0;
	}
	p->s.libxc_records[t]++;
	switch (t) {
	case RVMIG_LIBXC_REC_END:
	case RVMIG_LIBXC_REC_VERIFY:
	case RVMIG_LIBXC_REC_CHECKPOINT:
		return stream_want_len(p, 0);
	case RVMIG_LIBXC_REC_STATIC_DATA_END:
		if (p->seen_static_end)
			return stream_fail(p, p->u_off, "second STATIC_DATA_END record");
		p->seen_static_end = true;
		return stream_want_len(p, 0);
	case RVMIG_LIBXC_REC_PAGE_DATA:
		/* v3 x86 restore insists on STATIC_DATA_END before memory;
		 * v2 streams imply it at the first PAGE_DATA */
		if (p->s.libxc_version >= 3 && x86(p) && !p->seen_static_end)
			return stream_fail(p, p->u_off, "PAGE_DATA before STATIC_DATA_END in a v3 stream");
		p->seen_static_end = true;
		p->u_prefix = PAGE_DATA_HDR_SIZE;
		return stream_want_min(p, PAGE_DATA_HDR_SIZE);
	case RVMIG_LIBXC_REC_X86_PV_INFO:
		return stream_want_len(p, LIBXC_PV_INFO_SIZE);
	case RVMIG_LIBXC_REC_X86_PV_P2M_FRAMES:
		return want_multiple(p, LIBXC_P2M_HDR_SIZE, 8);
	case RVMIG_LIBXC_REC_X86_PV_VCPU_BASIC:
	case RVMIG_LIBXC_REC_X86_PV_VCPU_EXTENDED:
	case RVMIG_LIBXC_REC_X86_PV_VCPU_XSAVE:
	case RVMIG_LIBXC_REC_X86_PV_VCPU_MSRS:
		return stream_want_min(p, LIBXC_VCPU_HDR_SIZE);
	case RVMIG_LIBXC_REC_SHARED_INFO:
		return stream_want_len(p, RVMIG_STREAM_PAGE_SIZE);
	case RVMIG_LIBXC_REC_X86_TSC_INFO:
		return stream_want_len(p, LIBXC_TSC_INFO_SIZE);
	case RVMIG_LIBXC_REC_HVM_PARAMS:
		p->u_prefix = LIBXC_HVM_PARAMS_HDR_SIZE;
		return want_multiple(p, LIBXC_HVM_PARAMS_HDR_SIZE, LIBXC_HVM_PARAM_SIZE);
	case RVMIG_LIBXC_REC_CHECKPOINT_DIRTY_PFN_LIST:
		return want_multiple(p, 0, 8);
	case RVMIG_LIBXC_REC_X86_CPUID_POLICY:
		return want_multiple(p, 0, LIBXC_CPUID_LEAF_SIZE);
	case RVMIG_LIBXC_REC_X86_MSR_POLICY:
		return want_multiple(p, 0, LIBXC_MSR_ENTRY_SIZE);
	}
	/* HVM_CONTEXT, TOOLSTACK: opaque blobs */
	return 0;
}

int stream_libxc_prefix_check(struct rvmig_stream_parser *p, const uint8_t *b)
{
	uint32_t count;

	if (p->u_type == RVMIG_LIBXC_REC_PAGE_DATA)
		return stream_pd_begin(p, b);
	/* HVM_PARAMS */
	count = get_le32(b);
	if ((uint64_t)LIBXC_HVM_PARAMS_HDR_SIZE + (uint64_t)count * LIBXC_HVM_PARAM_SIZE != p->u_len)
		return stream_fail(p, p->off - 8, "count %" PRIu32 " does not match length %" PRIu32,
			       count, p->u_len);
	p->st = PS_REC_BODY;
	p->left = p->u_len - LIBXC_HVM_PARAMS_HDR_SIZE;
	return 0;
}

void stream_libxc_rec_complete(struct rvmig_stream_parser *p)
{
	bool embedded = p->start != RVMIG_STREAM_LAYER_LIBXC;

	switch (p->u_type) {
	case RVMIG_LIBXC_REC_END:
		if (!embedded) {
			p->st = PS_DONE;
			return;
		}
		p->libxc_done = true;
		p->layer = RVMIG_STREAM_LAYER_LIBXL;
		break;
	case RVMIG_LIBXC_REC_CHECKPOINT:
		/* libxl writes its checkpoint records, then CHECKPOINT_END */
		if (embedded) {
			p->in_checkpoint = true;
			p->layer = RVMIG_STREAM_LAYER_LIBXL;
		}
		break;
	}
	stream_begin_unit(p, p->layer, RVMIG_STREAM_REC_NONE, PS_REC_HDR);
}
