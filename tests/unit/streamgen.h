/* SPDX-License-Identifier: MIT */
/*
 * streamgen - writes Xen save streams (xl header, libxl v2, libxc v2/v3)
 * from the specifications, independently of the parser, and records what
 * it wrote so tests can compare the parser's counters against it.
 *
 * Low-level writers append one wire structure each; streamgen_build()
 * writes a whole stream for a scenario (PV or HVM guest, every page type,
 * zero pages, live re-sends, VERIFY, checkpoint rounds, unknown optional
 * records).  Page contents are deterministic for (seed, pfn, round): zero
 * pages, sparse pages (zero except the last 8 octets) and random pages;
 * every non-zero page ends with the tag pfn ^ STREAMGEN_TAG (u64 LE).
 *
 * All functions return 0 or -ENOMEM.
 */
#ifndef RVMIG_TESTS_STREAMGEN_H
#define RVMIG_TESTS_STREAMGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvmig/stream.h>

#define STREAMGEN_TAG 0xa5a5a5a5a5a5a5a5ull

struct streamgen_buf {
	uint8_t *data;
	size_t len, cap;
};

void streamgen_buf_free(struct streamgen_buf *b);
int streamgen_append(struct streamgen_buf *b, const void *data, size_t len);

/* xl save header + optional data (u32 config length + config). */
int streamgen_xl_header(struct streamgen_buf *b, uint32_t mandatory_flags,
			uint32_t optional_flags, const char *config, uint32_t config_len);
/* libxl stream header (big-endian fields). */
int streamgen_libxl_header(struct streamgen_buf *b, uint32_t version, uint32_t options);
/* libxc image header (big-endian) + domain header. */
int streamgen_libxc_header(struct streamgen_buf *b, uint32_t version, uint32_t guest_type,
			   uint16_t page_shift, uint32_t xen_major, uint32_t xen_minor);
/* Record header + body + zero padding to 8 octets (libxl and libxc alike). */
int streamgen_record(struct streamgen_buf *b, uint32_t type, const void *body, uint32_t len);
/* PAGE_DATA record: entries are raw pfn entries (type << 60 | pfn);
 * pages holds 4096 octets for each entry whose type carries data. */
int streamgen_page_data(struct streamgen_buf *b, uint32_t count, const uint64_t *entries,
			const uint8_t *pages);

struct streamgen_opts {
	uint32_t guest_type;     /* RVMIG_GUEST_X86_PV (default) or RVMIG_GUEST_X86_HVM */
	uint32_t libxc_version;  /* 2 or 3 (default) */
	uint32_t nr_pfns;        /* guest pages; default 256 */
	uint32_t batch;          /* pfns per PAGE_DATA record; default 64 */
	uint32_t live_rounds;    /* extra rounds re-sending every 3rd pfn */
	uint32_t checkpoints;    /* CHECKPOINT ... CHECKPOINT_END rounds */
	bool verify;             /* VERIFY record, then all pages again */
	bool unknown_optional;   /* unknown optional records in both layers */
	bool no_xl_header;       /* stream starts at the libxl header */
	uint64_t seed;
};

struct streamgen_rec {
	enum rvmig_stream_layer layer;
	uint32_t type;
	uint64_t offset; /* of the record header */
	uint32_t length; /* body length */
};

struct streamgen_expect {
	uint64_t libxl_records[RVMIG_LIBXL_REC_NTYPES], libxl_optional;
	uint64_t libxc_records[RVMIG_LIBXC_REC_NTYPES], libxc_optional;
	uint64_t pfns, pfns_by_type[16], pages, zero_pages;
	uint64_t libxl_offset, libxc_offset; /* offsets of the libxl / libxc headers */
	struct streamgen_rec *recs;          /* every record written, in order */
	size_t nrecs, recs_cap;
};

int streamgen_build(const struct streamgen_opts *o, struct streamgen_buf *out,
		    struct streamgen_expect *exp);
void streamgen_expect_free(struct streamgen_expect *exp);

/* First record of (layer, type) at or after index `from`, or NULL. */
const struct streamgen_rec *streamgen_find(const struct streamgen_expect *exp,
					   enum rvmig_stream_layer layer, uint32_t type, size_t from);

/*
 * Replays a buffer through a parser: feeds it in chunks (fixed size `chunk`,
 * or, if chunk is 0, random sizes 1..max_random from `seed`), rebuilds the
 * stream from the items and checks the item invariants on the way: items
 * contiguous, pages 4096 octets, RVMIG_STREAM_F_ZERO exact, REC_BEGIN /
 * REC_END consistent with rec_offset, exactly one STREAM_END item and only
 * trailer items after it.  With check_pfn_tag, every non-zero
 * page must end with its tag (pages written by streamgen_build).
 */
struct streamgen_replay {
	const struct rvmig_stream_attr *attr; /* NULL: defaults */
	size_t chunk, max_random;
	uint64_t seed;
	bool check_pfn_tag;
	bool finish;                          /* call rvmig_stream_finish() at the end */
	/* results */
	int rc;                               /* 0, or the first error returned */
	char error[512];                      /* rvmig_stream_error() text */
	char violation[256];                  /* first broken invariant, "" if none */
	/* The counters through the snapshot (rvmig_stream_snapshot(3)), and
	 * through the deprecated struct of RVMIG_0.1, which must agree with it
	 * (a disagreement is a violation). */
	rvmig_stream_snap *snap;              /* freed by streamgen_replay_free() */
	struct rvmig_stream_stats stats;
	uint8_t *rebuilt;                     /* concatenated item bytes (malloc) */
	size_t rebuilt_len;
	size_t items, page_items;
	bool seen_end;                        /* an item carried RVMIG_STREAM_F_STREAM_END */
	enum rvmig_stream_layer start_layer;  /* rvmig_stream_start_layer() at the end */
	enum rvmig_stream_layer first_layer;  /* layer of the first item */
};

int streamgen_replay(const void *buf, size_t len, struct streamgen_replay *r);
void streamgen_replay_free(struct streamgen_replay *r);

#endif
