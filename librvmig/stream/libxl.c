/* SPDX-License-Identifier: MIT */
/* libxl migration v2 stream: header, record checks, layer hand-over. */
#include <inttypes.h>

#include "stream/format.h"
#include "stream/parser_int.h"

int stream_libxl_hdr_parse(struct rvmig_stream_parser *p, const uint8_t *b)
{
	uint64_t ident = get_be64(b);
	uint32_t version = get_be32(b + 8), options = get_be32(b + 12);

	if (ident != LIBXL_IDENT)
		return stream_fail(p, p->u_off, "bad ident 0x%016" PRIx64 " (want \"LibxlFmt\")", ident);
	if (version != LIBXL_VERSION)
		return stream_fail(p, p->u_off + 8, "unsupported version %" PRIu32 " (want %u)",
			       version, LIBXL_VERSION);
	if (options & LIBXL_OPT_BIG_ENDIAN)
		return stream_fail(p, p->u_off + 12, "big-endian streams are not supported");
	if (options & ~(LIBXL_OPT_BIG_ENDIAN | LIBXL_OPT_LEGACY))
		return stream_fail(p, p->u_off + 12, "reserved option bits set (options 0x%08" PRIx32 ")",
			       options);
	p->u_len = LIBXL_HDR_SIZE;
	p->u_end = p->u_off + LIBXL_HDR_SIZE;
	return 0;
}

int stream_libxl_rec_check(struct rvmig_stream_parser *p)
{
	uint32_t t = p->u_type;

	if (t >= RVMIG_LIBXL_REC_NTYPES) {
		if (!(t & RVMIG_STREAM_REC_OPTIONAL))
			return stream_fail(p, p->u_off, "unknown mandatory record type");
		p->s.libxl_optional_records++;
		return 0;
	}
	p->s.libxl_records[t]++;
	switch (t) {
	case RVMIG_LIBXL_REC_END:
		return stream_want_len(p, 0);
	case RVMIG_LIBXL_REC_LIBXC_CONTEXT:
		if (p->libxc_seen)
			return stream_fail(p, p->u_off, "second LIBXC_CONTEXT record in the stream");
		return stream_want_len(p, 0);
	case RVMIG_LIBXL_REC_EMULATOR_XENSTORE_DATA:
	case RVMIG_LIBXL_REC_EMULATOR_CONTEXT:
		return stream_want_min(p, LIBXL_EMULATOR_HDR_SIZE);
	case RVMIG_LIBXL_REC_CHECKPOINT_END:
		if (!p->in_checkpoint)
			return stream_fail(p, p->u_off, "CHECKPOINT_END without a preceding libxc CHECKPOINT");
		return stream_want_len(p, 0);
	case RVMIG_LIBXL_REC_CHECKPOINT_STATE:
		return stream_want_min(p, LIBXL_CHECKPOINT_STATE_SIZE);
	}
	return 0;
}

void stream_libxl_rec_complete(struct rvmig_stream_parser *p)
{
	switch (p->u_type) {
	case RVMIG_LIBXL_REC_END:
		p->st = PS_DONE;
		return;
	case RVMIG_LIBXL_REC_LIBXC_CONTEXT:
		p->libxc_seen = true;
		stream_begin_unit(p, RVMIG_STREAM_LAYER_LIBXC, RVMIG_STREAM_REC_NONE, PS_LIBXC_HDR);
		return;
	case RVMIG_LIBXL_REC_CHECKPOINT_END:
		/* the libxc stream resumes with the next checkpoint's records */
		p->in_checkpoint = false;
		p->layer = RVMIG_STREAM_LAYER_LIBXC;
		break;
	}
	stream_begin_unit(p, p->layer, RVMIG_STREAM_REC_NONE, PS_REC_HDR);
}
