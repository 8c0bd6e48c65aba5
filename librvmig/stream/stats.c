/* SPDX-License-Identifier: MIT */
/* stats.c - the parser's counters: the snapshot and its accessors
 * (RVMIG_0.13), and the RVMIG_0.1 struct they replace. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream/parser_int.h"

_Static_assert(RVMIG_LIBXL_REC_NTYPES >= RVMIG_STREAM_STATS_V1_LIBXL_TYPES &&
		       RVMIG_LIBXC_REC_NTYPES >= RVMIG_STREAM_STATS_V1_LIBXC_TYPES,
	       "record types are never removed");

RVMIG_API int rvmig_stream_snap_create(rvmig_stream_snap **out)
{
	if (!out)
		return -EINVAL;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

RVMIG_API void rvmig_stream_snap_destroy(rvmig_stream_snap *s)
{
	free(s);
}

RVMIG_API int rvmig_stream_snapshot(const rvmig_stream_parser *p, rvmig_stream_snap *s)
{
	if (!p || !s)
		return -EINVAL;
	s->c = p->s;
	return 0;
}

static uint64_t records(const struct stream_counts *c)
{
	uint64_t n = c->libxl_optional_records + c->libxc_optional_records;

	for (unsigned i = 0; i < RVMIG_LIBXL_REC_NTYPES; i++)
		n += c->libxl_records[i];
	for (unsigned i = 0; i < RVMIG_LIBXC_REC_NTYPES; i++)
		n += c->libxc_records[i];
	return n;
}

RVMIG_API uint64_t rvmig_stream_snap_get(const rvmig_stream_snap *s, enum rvmig_stream_stat which)
{
	const struct stream_counts *c;

	if (!s)
		return 0;
	c = &s->c;
	switch (which) {
	case RVMIG_STREAM_STAT_BYTES: return c->bytes;
	case RVMIG_STREAM_STAT_CONTROL_BYTES: return c->control_bytes;
	case RVMIG_STREAM_STAT_PAGE_BYTES: return c->page_bytes;
	case RVMIG_STREAM_STAT_TRAILER_BYTES: return c->trailer_bytes;
	case RVMIG_STREAM_STAT_PAGES: return c->pages;
	case RVMIG_STREAM_STAT_ZERO_PAGES: return c->zero_pages;
	case RVMIG_STREAM_STAT_PAGES_COPIED: return c->pages_copied;
	case RVMIG_STREAM_STAT_PFNS: return c->pfns;
	case RVMIG_STREAM_STAT_RECORDS: return records(c);
	case RVMIG_STREAM_STAT_LIBXL_OPTIONAL_RECORDS: return c->libxl_optional_records;
	case RVMIG_STREAM_STAT_LIBXC_OPTIONAL_RECORDS: return c->libxc_optional_records;
	case RVMIG_STREAM_STAT_XL_MANDATORY_FLAGS: return c->xl_mandatory_flags;
	case RVMIG_STREAM_STAT_XL_OPTIONAL_FLAGS: return c->xl_optional_flags;
	case RVMIG_STREAM_STAT_XL_CONFIG_LEN: return c->xl_config_len;
	case RVMIG_STREAM_STAT_LIBXC_VERSION: return c->libxc_version;
	case RVMIG_STREAM_STAT_GUEST_TYPE: return c->guest_type;
	case RVMIG_STREAM_STAT_XEN_MAJOR: return c->xen_major;
	case RVMIG_STREAM_STAT_XEN_MINOR: return c->xen_minor;
	case RVMIG_STREAM_STAT_DONE: return c->done;
	case RVMIG_STREAM_STAT_NTYPES: break;
	}
	return 0;
}

RVMIG_API uint64_t rvmig_stream_snap_records(const rvmig_stream_snap *s,
					     enum rvmig_stream_layer layer, uint32_t type)
{
	if (!s)
		return 0;
	if (layer == RVMIG_STREAM_LAYER_LIBXL && type < RVMIG_LIBXL_REC_NTYPES)
		return s->c.libxl_records[type];
	if (layer == RVMIG_STREAM_LAYER_LIBXC && type < RVMIG_LIBXC_REC_NTYPES)
		return s->c.libxc_records[type];
	return 0;
}

RVMIG_API uint64_t rvmig_stream_snap_pfns(const rvmig_stream_snap *s, uint32_t type)
{
	return s && type < 16 ? s->c.pfns_by_type[type] : 0;
}

RVMIG_API int rvmig_stream_get_stats(const rvmig_stream_parser *p, struct rvmig_stream_stats *st)
{
	const struct stream_counts *c;
	struct rvmig_stream_stats tmp;
	size_t n;

	if (!p || !st || st->size < sizeof(st->size))
		return -EINVAL;
	c = &p->s;
	memset(&tmp, 0, sizeof(tmp));
	tmp.size = st->size;
	tmp.bytes = c->bytes;
	tmp.control_bytes = c->control_bytes;
	tmp.page_bytes = c->page_bytes;
	tmp.pages = c->pages;
	tmp.zero_pages = c->zero_pages;
	tmp.pages_copied = c->pages_copied;
	tmp.pfns = c->pfns;
	memcpy(tmp.pfns_by_type, c->pfns_by_type, sizeof(tmp.pfns_by_type));
	memcpy(tmp.libxl_records, c->libxl_records, sizeof(tmp.libxl_records));
	tmp.libxl_optional_records = c->libxl_optional_records;
	memcpy(tmp.libxc_records, c->libxc_records, sizeof(tmp.libxc_records));
	tmp.libxc_optional_records = c->libxc_optional_records;
	tmp.trailer_bytes = c->trailer_bytes;
	tmp.xl_mandatory_flags = c->xl_mandatory_flags;
	tmp.xl_optional_flags = c->xl_optional_flags;
	tmp.xl_config_len = c->xl_config_len;
	tmp.libxc_version = c->libxc_version;
	tmp.guest_type = c->guest_type;
	tmp.xen_major = c->xen_major;
	tmp.xen_minor = c->xen_minor;
	tmp.done = c->done;
	n = st->size < sizeof(tmp) ? st->size : sizeof(tmp);
	memcpy(st, &tmp, n);
	return 0;
}
