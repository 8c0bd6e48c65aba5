/* SPDX-License-Identifier: MIT */
/*
 * rvmig/stream.h - push parser for Xen save images and migration streams.
 *
 * The parser owns no I/O: the caller feeds bytes in pieces of any size
 * (one byte at a time works) and pulls items out.  The same parser serves
 * files, pipes, sockets, RDMA buffers and fuzzers.
 *
 * What it understands (Xen 4.17 formats, little-endian hosts):
 *   xl header   "Xen saved domain, xl format\n \0 \r", byte-order word
 *               0x01020304 (native order), mandatory flags (JSON, STREAMv2;
 *               any other mandatory bit is rejected, STREAMv2 is required),
 *               optional flags (reported, not interpreted), optional data
 *               (u32 config length + xl config, capped).
 *   libxl v2    header "LibxlFmt", version 2, records END, LIBXC_CONTEXT,
 *               EMULATOR_XENSTORE_DATA, EMULATOR_CONTEXT, CHECKPOINT_END,
 *               CHECKPOINT_STATE; unknown optional (bit 31) records pass.
 *   libxc v2/v3 image + domain header, every record type of Xen 4.17
 *               (END .. X86_MSR_POLICY); unknown optional records pass,
 *               unknown mandatory ones are rejected naming the type.
 *   A stream starts at one of the three (attr.start): the xl header (xl
 *   save files, the data of `xl migrate`), the libxl header (what
 *   libxl_domain_suspend() writes to its fd) or the libxc image header (what
 *   xc_domain_save() writes); RVMIG_STREAM_LAYER_AUTO tells which from the
 *   first 8 octets (rvmig_stream_detect()).  Started at libxl it ends at the
 *   libxl END, started at libxc at the libxc END.
 *   LIBXC_CONTEXT hands the stream to libxc until its END; a libxc
 *   CHECKPOINT record hands it back to libxl until CHECKPOINT_END (Remus /
 *   COLO streams, any number of rounds).  Records are padded to 8 octets
 *   counted from the record start; padding must be zero.  Record bodies are
 *   capped (default and maximum 128 MiB, as Xen's REC_LENGTH_MAX) before
 *   anything is allocated.
 *
 * Items and the byte-exact invariant
 *   Every input byte is reported in exactly one item, in input order, so the
 *   concatenation of all items' [data, data + len) equals the input stream.
 *   A receiver rebuilds the stream from items alone.
 *   - RVMIG_STREAM_ITEM_CONTROL: anything that is not page payload: headers,
 *     record headers, record bodies, the PAGE_DATA header and pfn array,
 *     padding.  A control item never spans two records and never spans two
 *     fed buffers; a record split across feeds comes out as several items.
 *     `data` always points into the buffer the caller fed (zero-copy).
 *   - RVMIG_STREAM_ITEM_PAGE: one 4096-octet page of a PAGE_DATA record,
 *     with its pfn, type and whether it is all zero.  If the page lies
 *     wholly inside the current fed buffer, `data` points into that buffer.
 *     If the page straddles two (or more) fed buffers, the parser assembles
 *     it in one internal 4 KiB buffer and sets RVMIG_STREAM_F_COPIED; it
 *     then never copies more than 4095 octets per feed call.  Callers that
 *     want no copy at all feed the whole stream at once (an mmap()ed file)
 *     or large buffers (RVMIG_STREAM_STAT_PAGES_COPIED tells how often a
 *     copy happened: at most once per feed).
 *   - RVMIG_STREAM_ITEM_TRAILER: bytes after the final END, only with
 *     RVMIG_STREAM_F_ALLOW_TRAILING, or xl migrate's go message with
 *     RVMIG_STREAM_F_ALLOW_XL_GO (otherwise they are an error).
 *
 * Ownership and lifetime
 *   - rvmig_stream_feed() does not copy the buffer: the parser keeps the
 *     pointer.  The buffer must stay valid and unmodified until
 *     rvmig_stream_next() has returned 0 ("fed input used up").  Feeding
 *     again before that returns -EBUSY.
 *   - An item's `data` is valid until the next rvmig_stream_next() call
 *     returns 0 (for pointers into the fed buffer: as long as the caller
 *     keeps that buffer) or, for RVMIG_STREAM_F_COPIED pages, until the
 *     next rvmig_stream_next() call.
 *   - The parser allocates: itself, one 4 KiB page buffer, and the pfn list
 *     of the PAGE_DATA record being parsed (8 octets per pfn, grown as pfns
 *     arrive, so bounded by the record cap; Xen writes at most 1024 pfns
 *     per record, i.e. 8 KiB).
 *   - A parser is used by one thread at a time; it starts no threads and
 *     never prints (errors go to rvmig_stream_error(), and to the logger of
 *     attr->ctx at debug level if one is given).
 *
 * Typical loop (a sender reading a file or pipe):
 *
 *     rvmig_stream_parser *p;
 *     struct rvmig_stream_item it = { .size = sizeof(it) };
 *     rvmig_stream_parser_create(NULL, &p);
 *     while ((n = read(fd, buf, sizeof(buf))) > 0) {
 *         rvmig_stream_feed(p, buf, n);
 *         while ((rc = rvmig_stream_next(p, &it)) == 1)
 *             it.kind == RVMIG_STREAM_ITEM_PAGE ? send_page(&it) : send_control(&it);
 *         if (rc < 0)
 *             die(rvmig_stream_error(p));
 *     }                                  // buf may be reused here
 *     if (rvmig_stream_finish(p) < 0)
 *         die(rvmig_stream_error(p));
 *
 * Errors
 *   After the first error every call returns the same error.
 *   rvmig_stream_error() then gives text that names the layer ("xl header",
 *   "libxl", "libxc"), the record by name and number, and absolute byte
 *   offsets in the input, e.g.
 *     libxc: record PAGE_DATA (0x1) at offset 2727: pfn[5] entry
 *     0x0010000000000005 has reserved bits 52-59 set (field at offset 2783)
 *   Truncation is reported by rvmig_stream_finish() the same way ("stream
 *   truncated: input ends inside ...").
 */
#ifndef RVMIG_STREAM_H
#define RVMIG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvmig/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rvmig_stream_parser rvmig_stream_parser;

#define RVMIG_STREAM_PAGE_SIZE 4096u
#define RVMIG_STREAM_REC_LENGTH_MAX (128u << 20)

/* Which format the first fed byte belongs to. */
enum rvmig_stream_layer {
	RVMIG_STREAM_LAYER_XL = 0,    /* xl save header (files, xl migrate pipes); default */
	RVMIG_STREAM_LAYER_LIBXL = 1, /* libxl v2 stream header */
	RVMIG_STREAM_LAYER_LIBXC = 2, /* bare libxc image header; ends at libxc END */
	RVMIG_STREAM_LAYER_NONE = 3,  /* trailer bytes after the stream */
	/* attr.start only: the parser tells the layer from the first
	 * RVMIG_STREAM_DETECT_LEN octets (rvmig_stream_detect()) and refuses
	 * anything else.  Items of those octets that arrive before the layer is
	 * known (fed in pieces shorter than that) carry this layer. */
	RVMIG_STREAM_LAYER_AUTO = 4,
};

/* Octets rvmig_stream_detect() needs to name a layer. */
#define RVMIG_STREAM_DETECT_LEN 8u

/* attr.flags */
enum {
	/* Bytes after the final END are reported as RVMIG_STREAM_ITEM_TRAILER
	 * items instead of failing with -RVMIG_ESTREAM. */
	RVMIG_STREAM_F_ALLOW_TRAILING = 1u << 0,
	/* After the final END, exactly the message `xl migrate` sends on its
	 * data pipe once the stream is through, "domain is yours, you are
	 * cleared to unpause" and its NUL (RVMIG_STREAM_XL_GO_LEN octets), is
	 * reported as RVMIG_STREAM_ITEM_TRAILER items; any other trailing byte
	 * is refused (naming its offset) and input that ends inside the
	 * message is truncated.  Without the message the stream ends at its
	 * END as usual.  (RVMIG_STREAM_F_ALLOW_TRAILING, if also set, takes
	 * any bytes.) */
	RVMIG_STREAM_F_ALLOW_XL_GO = 1u << 1,
};

#define RVMIG_STREAM_XL_GO_MSG "domain is yours, you are cleared to unpause"
#define RVMIG_STREAM_XL_GO_LEN 44u /* the message and its NUL */

struct rvmig_stream_attr {
	size_t size;                 /* sizeof(struct rvmig_stream_attr) */
	uint32_t flags;              /* RVMIG_STREAM_F_*; default 0 */
	/* Layer of the first byte: XL (the default), LIBXL, LIBXC, or AUTO to
	 * detect which of the three from the input (rvmig_stream_detect()). */
	enum rvmig_stream_layer start;
	/* Largest record body accepted (libxl and libxc records); default and
	 * upper bound RVMIG_STREAM_REC_LENGTH_MAX. */
	uint32_t max_record_len;
	/* Largest xl optional data (config) accepted; default 16 MiB. */
	uint32_t max_xl_optdata_len;
	rvmig_ctx *ctx;              /* logger only; may be NULL */
};

/* libxl record types */
enum {
	RVMIG_LIBXL_REC_END = 0x0,
	RVMIG_LIBXL_REC_LIBXC_CONTEXT = 0x1,
	RVMIG_LIBXL_REC_EMULATOR_XENSTORE_DATA = 0x2,
	RVMIG_LIBXL_REC_EMULATOR_CONTEXT = 0x3,
	RVMIG_LIBXL_REC_CHECKPOINT_END = 0x4,
	RVMIG_LIBXL_REC_CHECKPOINT_STATE = 0x5,
	RVMIG_LIBXL_REC_NTYPES = 0x6,
};

/* libxc record types */
enum {
	RVMIG_LIBXC_REC_END = 0x00,
	RVMIG_LIBXC_REC_PAGE_DATA = 0x01,
	RVMIG_LIBXC_REC_X86_PV_INFO = 0x02,
	RVMIG_LIBXC_REC_X86_PV_P2M_FRAMES = 0x03,
	RVMIG_LIBXC_REC_X86_PV_VCPU_BASIC = 0x04,
	RVMIG_LIBXC_REC_X86_PV_VCPU_EXTENDED = 0x05,
	RVMIG_LIBXC_REC_X86_PV_VCPU_XSAVE = 0x06,
	RVMIG_LIBXC_REC_SHARED_INFO = 0x07,
	RVMIG_LIBXC_REC_X86_TSC_INFO = 0x08,
	RVMIG_LIBXC_REC_HVM_CONTEXT = 0x09,
	RVMIG_LIBXC_REC_HVM_PARAMS = 0x0a,
	RVMIG_LIBXC_REC_TOOLSTACK = 0x0b,
	RVMIG_LIBXC_REC_X86_PV_VCPU_MSRS = 0x0c,
	RVMIG_LIBXC_REC_VERIFY = 0x0d,
	RVMIG_LIBXC_REC_CHECKPOINT = 0x0e,
	RVMIG_LIBXC_REC_CHECKPOINT_DIRTY_PFN_LIST = 0x0f,
	RVMIG_LIBXC_REC_STATIC_DATA_END = 0x10,
	RVMIG_LIBXC_REC_X86_CPUID_POLICY = 0x11,
	RVMIG_LIBXC_REC_X86_MSR_POLICY = 0x12,
	RVMIG_LIBXC_REC_NTYPES = 0x13,
};

#define RVMIG_STREAM_REC_OPTIONAL 0x80000000u
/* rec_type of items that are not part of a record (headers, trailer) */
#define RVMIG_STREAM_REC_NONE 0xffffffffu

/* Page types: bits 63-60 of a PAGE_DATA pfn entry (XEN_DOMCTL_PFINFO_*). */
enum {
	RVMIG_PAGE_NOTAB = 0x0,
	RVMIG_PAGE_L1TAB = 0x1,
	RVMIG_PAGE_L2TAB = 0x2,
	RVMIG_PAGE_L3TAB = 0x3,
	RVMIG_PAGE_L4TAB = 0x4,
	RVMIG_PAGE_L1TAB_PIN = 0x9,
	RVMIG_PAGE_L2TAB_PIN = 0xa,
	RVMIG_PAGE_L3TAB_PIN = 0xb,
	RVMIG_PAGE_L4TAB_PIN = 0xc,
	RVMIG_PAGE_BROKEN = 0xd, /* no page data in the stream */
	RVMIG_PAGE_XALLOC = 0xe, /* no page data in the stream */
	RVMIG_PAGE_XTAB = 0xf,   /* no page data in the stream */
};

/* Guest types of the libxc domain header. */
enum {
	RVMIG_GUEST_X86_PV = 1,
	RVMIG_GUEST_X86_HVM = 2,
	RVMIG_GUEST_X86_PVH = 3,
	RVMIG_GUEST_ARM = 4,
};

enum rvmig_stream_item_kind {
	RVMIG_STREAM_ITEM_CONTROL = 1,
	RVMIG_STREAM_ITEM_PAGE = 2,
	RVMIG_STREAM_ITEM_TRAILER = 3,
};

/* item.flags */
enum {
	RVMIG_STREAM_F_REC_BEGIN = 1u << 0,  /* item holds the first byte of its record/header */
	RVMIG_STREAM_F_REC_END = 1u << 1,    /* item holds the last byte (incl. padding) */
	RVMIG_STREAM_F_COPIED = 1u << 2,     /* page assembled in the parser's buffer */
	RVMIG_STREAM_F_ZERO = 1u << 3,       /* page is all zero */
	RVMIG_STREAM_F_STREAM_END = 1u << 4, /* last byte of the whole stream (final END) */
};

/* Filled by rvmig_stream_next().  The caller sets `size` to
 * sizeof(struct rvmig_stream_item) once; the library fills the fields that
 * fit in `size` and leaves `size` alone, so the struct can grow. */
struct rvmig_stream_item {
	size_t size;
	enum rvmig_stream_item_kind kind;
	enum rvmig_stream_layer layer; /* layer the bytes belong to */
	uint32_t flags;                /* RVMIG_STREAM_F_* */
	/* Record type; RVMIG_STREAM_REC_NONE for headers, for the trailer and
	 * for the first bytes of a record header split across feeds (the rest
	 * of that record carries the type). */
	uint32_t rec_type;
	uint64_t rec_offset;           /* stream offset of the record (or header) start */
	/* Record body length without the 8-octet record header and padding;
	 * for headers the header length (xl: 48 + optional data); 0 while
	 * unknown (split record header). */
	uint32_t rec_length;
	uint64_t offset;               /* stream offset of data[0] */
	const void *data;
	size_t len;
	/* pages only */
	uint64_t pfn;
	uint32_t page_type;            /* RVMIG_PAGE_* */
	uint32_t page_index;           /* index of this pfn in the record's pfn array */
};

/*
 * Deprecated: the counters as a struct (RVMIG_0.1), kept for programs built
 * against it.  Its record arrays stay at the record types of RVMIG_0.1 (6
 * libxl, 19 libxc: RVMIG_STREAM_STATS_V1_*), so the fields after them never
 * move; record types added later are counted only in the snapshot below
 * (rvmig_stream_snapshot(), rvmig_stream_snap_records()).  New code reads
 * that snapshot.
 */
#define RVMIG_STREAM_STATS_V1_LIBXL_TYPES 6
#define RVMIG_STREAM_STATS_V1_LIBXC_TYPES 19
struct rvmig_stream_stats {
	size_t size;               /* caller sets sizeof(struct rvmig_stream_stats) */
	uint64_t bytes;            /* input bytes reported in items so far */
	uint64_t control_bytes;
	uint64_t page_bytes;
	uint64_t pages;            /* page payloads (4 KiB each) */
	uint64_t zero_pages;       /* ... of which all zero */
	uint64_t pages_copied;     /* ... of which straddled feeds (assembled) */
	uint64_t pfns;             /* pfn entries, with and without data */
	uint64_t pfns_by_type[16]; /* pfn entries by RVMIG_PAGE_* type */
	uint64_t libxl_records[RVMIG_STREAM_STATS_V1_LIBXL_TYPES];
	uint64_t libxl_optional_records;
	uint64_t libxc_records[RVMIG_STREAM_STATS_V1_LIBXC_TYPES];
	uint64_t libxc_optional_records;
	uint64_t trailer_bytes;
	uint32_t xl_mandatory_flags;
	uint32_t xl_optional_flags;
	uint32_t xl_config_len;
	uint32_t libxc_version;    /* 0 until the libxc header was parsed */
	uint32_t guest_type;       /* RVMIG_GUEST_* */
	uint32_t xen_major, xen_minor;
	bool done;                 /* final END seen */
};

/*
 * The counters as a snapshot read with accessors (RVMIG_0.13,
 * rvmig_stream_snapshot(3)): counters and record types can be added
 * without changing the ABI.  A snapshot is created once, filled by
 * rvmig_stream_snapshot() as often as wanted (no allocation per fill) and
 * read with rvmig_stream_snap_get() and the per-type accessors.  It holds
 * copies: it stays valid after the parser is destroyed.
 */
typedef struct rvmig_stream_snap rvmig_stream_snap;

enum rvmig_stream_stat {
	RVMIG_STREAM_STAT_BYTES,          /* input bytes reported in items so far */
	RVMIG_STREAM_STAT_CONTROL_BYTES,  /* ... in control items */
	RVMIG_STREAM_STAT_PAGE_BYTES,     /* ... in page items */
	RVMIG_STREAM_STAT_TRAILER_BYTES,  /* ... in trailer items */
	RVMIG_STREAM_STAT_PAGES,          /* page payloads (4 KiB each) */
	RVMIG_STREAM_STAT_ZERO_PAGES,     /* ... of which all zero */
	RVMIG_STREAM_STAT_PAGES_COPIED,   /* ... of which straddled feeds (assembled) */
	RVMIG_STREAM_STAT_PFNS,           /* pfn entries, with and without data */
	RVMIG_STREAM_STAT_RECORDS,        /* records of both layers, optional ones included */
	RVMIG_STREAM_STAT_LIBXL_OPTIONAL_RECORDS, /* unknown optional libxl records */
	RVMIG_STREAM_STAT_LIBXC_OPTIONAL_RECORDS, /* unknown optional libxc records */
	RVMIG_STREAM_STAT_XL_MANDATORY_FLAGS,     /* of the xl header */
	RVMIG_STREAM_STAT_XL_OPTIONAL_FLAGS,
	RVMIG_STREAM_STAT_XL_CONFIG_LEN,
	RVMIG_STREAM_STAT_LIBXC_VERSION,  /* 0 until the libxc header was parsed */
	RVMIG_STREAM_STAT_GUEST_TYPE,     /* RVMIG_GUEST_* */
	RVMIG_STREAM_STAT_XEN_MAJOR,
	RVMIG_STREAM_STAT_XEN_MINOR,
	RVMIG_STREAM_STAT_DONE,           /* 1 once the final END was parsed */
	RVMIG_STREAM_STAT_NTYPES,         /* not a counter: how many there are */
};

/* Creates a parser.  attr may be NULL for defaults.  -EINVAL, -ENOMEM. */
RVMIG_API int rvmig_stream_parser_create(const struct rvmig_stream_attr *attr,
					 rvmig_stream_parser **out);
RVMIG_API void rvmig_stream_parser_destroy(rvmig_stream_parser *p);

/*
 * Hands the parser the next `len` input bytes (not copied, see above).
 * Returns 0, -EBUSY if the previous buffer was not used up yet, -EINVAL,
 * or the parser's earlier error.
 */
RVMIG_API int rvmig_stream_feed(rvmig_stream_parser *p, const void *buf, size_t len);

/*
 * Gets the next item.  Returns 1 and fills *it, 0 when the fed input is
 * used up (feed more, or call rvmig_stream_finish() at end of input), or
 * -RVMIG_ESTREAM (malformed stream, see rvmig_stream_error()) / -ENOMEM.
 * -EINVAL if it->size is too small to hold the fields up to `len`.
 */
RVMIG_API int rvmig_stream_next(rvmig_stream_parser *p, struct rvmig_stream_item *it);

/*
 * Declares end of input.  Returns 0 if the stream ended with its final END
 * record, else -RVMIG_ESTREAM with a "truncated" message naming where.
 * Call it after rvmig_stream_next() returned 0.
 */
RVMIG_API int rvmig_stream_finish(rvmig_stream_parser *p);

/*
 * Which Xen format a stream starts with, from its first `len` octets (pure:
 * no state, no I/O; the parser with attr.start RVMIG_STREAM_LAYER_AUTO does
 * the same):
 *   "Xen save"                 (the start of xl's magic)     -> RVMIG_STREAM_LAYER_XL
 *   "LibxlFmt"                 (libxl v2 stream header)      -> RVMIG_STREAM_LAYER_LIBXL
 *   ff ff ff ff ff ff ff ff    (libxc v2/v3 image marker)    -> RVMIG_STREAM_LAYER_LIBXC
 * Only these first RVMIG_STREAM_DETECT_LEN octets are compared; the rest of
 * the header (version, flags, ...) is checked by the parser of that layer.
 * Returns 1 and sets *layer when the first RVMIG_STREAM_DETECT_LEN octets
 * name a layer; 0 when `len` is shorter than that and the octets so far still
 * begin one of the three (call again with more); -RVMIG_ESTREAM as soon as
 * they begin none (not a Xen save stream, or a legacy pre-v2 one);
 * -EINVAL if buf (with len > 0) or layer is NULL.  buf is only read during
 * the call.
 */
RVMIG_API int rvmig_stream_detect(const void *buf, size_t len, enum rvmig_stream_layer *layer);

/*
 * The layer the stream started with: attr.start, or with
 * RVMIG_STREAM_LAYER_AUTO the detected one (RVMIG_STREAM_LAYER_AUTO until
 * enough octets were fed, and after a stream that was refused as none of the
 * three: that tells a caller the input is not a Xen stream at all).
 */
RVMIG_API enum rvmig_stream_layer rvmig_stream_start_layer(const rvmig_stream_parser *p);

/* true once the final END record has been parsed. */
RVMIG_API bool rvmig_stream_done(const rvmig_stream_parser *p);

/* Text of the first error, "" if none.  Owned by the parser. */
RVMIG_API const char *rvmig_stream_error(const rvmig_stream_parser *p);

/* Deprecated (read a rvmig_stream_snap instead): fills st up to st->size
 * with the RVMIG_0.1 layout.  Returns 0 or -EINVAL. */
RVMIG_API int rvmig_stream_get_stats(const rvmig_stream_parser *p, struct rvmig_stream_stats *st);

/* A snapshot to fill (all zero until filled): 0 or -ENOMEM (*out NULL). */
RVMIG_API int rvmig_stream_snap_create(rvmig_stream_snap **out);
RVMIG_API void rvmig_stream_snap_destroy(rvmig_stream_snap *s);
/* Copies the parser's counters into s: 0, or -EINVAL if either is NULL. */
RVMIG_API int rvmig_stream_snapshot(const rvmig_stream_parser *p, rvmig_stream_snap *s);
/* A counter of the last fill; 0 for a NULL snapshot and for a value at or
 * past RVMIG_STREAM_STAT_NTYPES (one of a newer header). */
RVMIG_API uint64_t rvmig_stream_snap_get(const rvmig_stream_snap *s, enum rvmig_stream_stat which);
/* Records of `type` in `layer` (RVMIG_STREAM_LAYER_LIBXL or _LIBXC) that
 * this library knows by name (unknown optional ones are counted by
 * RVMIG_STREAM_STAT_*_OPTIONAL_RECORDS); 0 for any other layer or type. */
RVMIG_API uint64_t rvmig_stream_snap_records(const rvmig_stream_snap *s,
					     enum rvmig_stream_layer layer, uint32_t type);
/* pfn entries of page type `type` (RVMIG_PAGE_*, 0..15); 0 above 15. */
RVMIG_API uint64_t rvmig_stream_snap_pfns(const rvmig_stream_snap *s, uint32_t type);

/* Names: record type of a layer ("PAGE_DATA", "unknown optional", ...),
 * layer ("xl header", "libxl", "libxc", "input" for AUTO), page type ("NOTAB", "XTAB", ...).
 * Never NULL, static strings. */
RVMIG_API const char *rvmig_stream_rec_name(enum rvmig_stream_layer layer, uint32_t type);
RVMIG_API const char *rvmig_stream_layer_name(enum rvmig_stream_layer layer);
RVMIG_API const char *rvmig_stream_page_type_name(uint32_t type);

/* true for page types that carry 4096 octets of data in PAGE_DATA. */
RVMIG_API bool rvmig_stream_page_has_data(uint32_t type);

/* ---- writing an xl save header -------------------------------------- */

/*
 * The header `xl save` puts in front of a libxl stream, for a program that
 * writes one itself (libxl_domain_suspend() into a file or an rvmig
 * transfer, then `xl restore`): RVMIG_XL_HEADER_LEN octets (the magic, then
 * byteorder, mandatory flags, optional flags and optional data length as
 * u32 in the host's order), then the optional data: a u32 config length and
 * the domain's libxl JSON configuration including its NUL.  The parser
 * reads the same layout (RVMIG_STREAM_LAYER_XL).
 */
#define RVMIG_XL_MAGIC "Xen saved domain, xl format\n \0 \r"
#define RVMIG_XL_MAGIC_LEN 32
#define RVMIG_XL_HEADER_LEN 48
#define RVMIG_XL_BYTEORDER 0x01020304u
#define RVMIG_XL_FLAG_JSON (1u << 0)     /* the optional data holds the JSON config */
#define RVMIG_XL_FLAG_STREAMV2 (1u << 1) /* a libxl v2 stream follows */
/* The longest config carried (xl has no limit; a few KiB is usual); also
 * the parser's default cap on optional data. */
#define RVMIG_XL_CONFIG_MAX (16u << 20)

/*
 * Builds the header and optional data for `config_len` octets of JSON
 * config (its NUL included; 0 for none) into a buffer from malloc() that
 * the caller frees: 0 with *out and *out_len set, -EINVAL (config_len over
 * RVMIG_XL_CONFIG_MAX, or config NULL with a length) or -ENOMEM.
 */
RVMIG_API int rvmig_xl_header_build(const char *config, uint32_t config_len, uint8_t **out,
				    size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* RVMIG_STREAM_H */
