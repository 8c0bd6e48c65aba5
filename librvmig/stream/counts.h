/* SPDX-License-Identifier: MIT */
/* counts.h - the parser's counters (never installed): what a
 * rvmig_stream_snap holds, and what rvmig_stream_get_stats() converts into
 * the RVMIG_0.1 struct (stats.c). */
#ifndef RVMIG_STREAM_COUNTS_H
#define RVMIG_STREAM_COUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include <rvmig/stream.h>

struct stream_counts {
	uint64_t bytes, control_bytes, page_bytes, trailer_bytes;
	uint64_t pages, zero_pages, pages_copied, pfns;
	uint64_t pfns_by_type[16]; /* by RVMIG_PAGE_* (4 bits) */
	uint64_t libxl_records[RVMIG_LIBXL_REC_NTYPES];
	uint64_t libxl_optional_records;
	uint64_t libxc_records[RVMIG_LIBXC_REC_NTYPES];
	uint64_t libxc_optional_records;
	uint32_t xl_mandatory_flags, xl_optional_flags, xl_config_len;
	uint32_t libxc_version, guest_type, xen_major, xen_minor;
	bool done;
};

struct rvmig_stream_snap {
	struct stream_counts c;
};

#endif
