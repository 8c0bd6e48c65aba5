/* SPDX-License-Identifier: MIT */
/* Internal state of the Xen stream push parser (never installed). */
#ifndef RVMIG_STREAM_PARSER_INT_H
#define RVMIG_STREAM_PARSER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvmig/stream.h>

#include "stream/counts.h"

enum ps_state {
	PS_DETECT,      /* attr.start AUTO: the first 8 octets name the layer */
	PS_XL_HDR,      /* 48-octet xl header */
	PS_XL_OPTLEN,   /* u32 config length at the start of the optional data */
	PS_XL_OPTDATA,  /* rest of the optional data (config), passed through */
	PS_LIBXL_HDR,   /* 16-octet libxl stream header */
	PS_LIBXC_HDR,   /* 24-octet image header + 16-octet domain header */
	PS_REC_HDR,     /* 8-octet record header (layer in p->layer) */
	PS_REC_PREFIX,  /* fixed leading body fields that get validated */
	PS_REC_BODY,    /* opaque body, passed through */
	PS_PFN,         /* PAGE_DATA pfn array, one entry at a time */
	PS_PAGE,        /* PAGE_DATA page payloads */
	PS_REC_PAD,     /* 0..7 octets of zero padding */
	PS_DONE,        /* after the final END: trailer */
};

struct rvmig_stream_parser {
	/* configuration */
	uint32_t flags;
	enum rvmig_stream_layer start;
	uint32_t max_rec_len;
	uint32_t max_optdata_len;
	const rvmig_ctx *ctx;

	/* current input window (not owned) */
	const uint8_t *in;
	size_t in_len, in_pos;
	uint64_t off; /* absolute stream offset of in[in_pos] */

	enum ps_state st;
	enum rvmig_stream_layer layer; /* layer of records being read */
	bool libxc_seen, libxc_done, in_checkpoint, seen_static_end;

	/* accumulator for fields that straddle fed buffers */
	uint8_t acc[64];
	size_t acc_have;
	uint64_t left; /* octets left in the current pass-through region */

	/* current unit: a header or a record */
	enum rvmig_stream_layer u_layer;
	uint32_t u_type; /* RVMIG_STREAM_REC_NONE for headers */
	uint32_t u_len;  /* body length (records) or header length */
	uint64_t u_off;  /* stream offset of the unit start */
	uint64_t u_end;  /* stream offset after the unit incl. padding; UINT64_MAX unknown */
	uint32_t u_prefix; /* PS_REC_PREFIX length */

	/* pending control run: contiguous bytes of the current input window */
	const uint8_t *run;
	size_t run_len;
	uint64_t run_off;

	/* PAGE_DATA record being parsed */
	uint32_t pd_count, pd_idx, pd_ndata, pd_next;
	uint64_t *pd; /* raw pfn entries of the record (type << 60 | pfn) */
	size_t pd_cap;
	uint8_t *pagebuf;
	size_t page_have;

	uint32_t go_have; /* octets of xl migrate's go message after the END */

	struct stream_counts s;
	int err;
	char errbuf[512];
};

/* parser.c: byte access shared by the layer files */
void stream_consume_ctl(struct rvmig_stream_parser *p, size_t n);
int stream_take(struct rvmig_stream_parser *p, size_t n, const uint8_t **out);
void stream_begin_unit(struct rvmig_stream_parser *p, enum rvmig_stream_layer layer,
		   uint32_t type, enum ps_state st);
__attribute__((format(printf, 3, 4)))
int stream_fail(struct rvmig_stream_parser *p, uint64_t at, const char *fmt, ...);
/* The unit's length (the record header's field at +4) is len, or at least
 * len: 0, or stream_fail()'s error naming both. */
int stream_want_len(struct rvmig_stream_parser *p, uint32_t len);
int stream_want_min(struct rvmig_stream_parser *p, uint32_t len);

int stream_body_done(struct rvmig_stream_parser *p);

/* detect.c: PS_DETECT */
int stream_detect_step(struct rvmig_stream_parser *p);

/* go.c: PS_DONE with RVMIG_STREAM_F_ALLOW_XL_GO */
int stream_go_step(struct rvmig_stream_parser *p);
int stream_go_finish(struct rvmig_stream_parser *p);

/* xl_header.c */
int stream_xl_hdr_parse(struct rvmig_stream_parser *p, const uint8_t *b);
int stream_xl_optlen_parse(struct rvmig_stream_parser *p, const uint8_t *b);

/* libxl.c */
int stream_libxl_hdr_parse(struct rvmig_stream_parser *p, const uint8_t *b);
int stream_libxl_rec_check(struct rvmig_stream_parser *p);
void stream_libxl_rec_complete(struct rvmig_stream_parser *p);

/* libxc.c */
int stream_libxc_hdr_parse(struct rvmig_stream_parser *p, const uint8_t *b);
int stream_libxc_rec_check(struct rvmig_stream_parser *p);
int stream_libxc_prefix_check(struct rvmig_stream_parser *p, const uint8_t *b);
void stream_libxc_rec_complete(struct rvmig_stream_parser *p);

/* page_data.c */
int stream_pd_begin(struct rvmig_stream_parser *p, const uint8_t *hdr);
int stream_pd_pfn(struct rvmig_stream_parser *p, const uint8_t *entry);
int stream_pd_page(struct rvmig_stream_parser *p, struct rvmig_stream_item *it);
bool stream_pd_page_is_zero(const uint8_t *page);

#endif
