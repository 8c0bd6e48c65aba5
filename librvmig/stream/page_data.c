/* SPDX-License-Identifier: MIT */
/*
 * PAGE_DATA records: count, reserved, pfn array (type in bits 63-60,
 * reserved bits 59-52, pfn in 51-0), then one 4096-octet page for each pfn
 * whose type carries data.  Pages are reported as separate items.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/format.h"
#include "stream/parser_int.h"

RVMIG_API bool rvmig_stream_page_has_data(uint32_t type)
{
	switch (type) {
	case RVMIG_PAGE_NOTAB:
	case RVMIG_PAGE_L1TAB:
	case RVMIG_PAGE_L2TAB:
	case RVMIG_PAGE_L3TAB:
	case RVMIG_PAGE_L4TAB:
	case RVMIG_PAGE_L1TAB_PIN:
	case RVMIG_PAGE_L2TAB_PIN:
	case RVMIG_PAGE_L3TAB_PIN:
	case RVMIG_PAGE_L4TAB_PIN:
		return true;
	}
	return false;
}

static bool known_type(uint32_t type)
{
	return rvmig_stream_page_has_data(type) || type == RVMIG_PAGE_BROKEN ||
	       type == RVMIG_PAGE_XALLOC || type == RVMIG_PAGE_XTAB;
}

bool stream_pd_page_is_zero(const uint8_t *page)
{
	for (size_t blk = 0; blk < RVMIG_STREAM_PAGE_SIZE; blk += 256) {
		uint64_t acc = 0, w;

		for (size_t i = 0; i < 256; i += 8) {
			memcpy(&w, page + blk + i, sizeof(w));
			acc |= w;
		}
		if (acc)
			return false;
	}
	return true;
}

int stream_pd_begin(struct rvmig_stream_parser *p, const uint8_t *hdr)
{
	uint32_t count = get_le32(hdr), res = get_le32(hdr + 4);
	uint64_t at = p->off - PAGE_DATA_HDR_SIZE;

	if (!count)
		return stream_fail(p, at, "count is 0 (must be at least 1)");
	if (res)
		return stream_fail(p, at + 4, "reserved field is 0x%08" PRIx32 ", not zero", res);
	if ((uint64_t)PAGE_DATA_HDR_SIZE + (uint64_t)count * 8 > p->u_len)
		return stream_fail(p, at, "length %" PRIu32 " too short for %" PRIu32 " pfns",
			       p->u_len, count);
	p->pd_count = count;
	p->pd_idx = 0;
	p->pd_ndata = 0;
	p->pd_next = 0;
	p->page_have = 0;
	p->st = PS_PFN;
	return 0;
}

static int pd_store(struct rvmig_stream_parser *p, uint64_t v)
{
	if (p->pd_idx >= p->pd_cap) {
		size_t cap = p->pd_cap ? p->pd_cap * 2 : 1024;
		uint64_t *n;

		if (cap > p->pd_count)
			cap = p->pd_count;
		n = realloc(p->pd, cap * sizeof(*n));
		if (!n) {
			p->err = -ENOMEM;
			snprintf(p->errbuf, sizeof(p->errbuf), "out of memory for %zu pfns", cap);
			return p->err;
		}
		p->pd = n;
		p->pd_cap = cap;
	}
	p->pd[p->pd_idx++] = v;
	return 0;
}

static uint32_t next_data(const struct rvmig_stream_parser *p, uint32_t from)
{
	while (from < p->pd_count && !rvmig_stream_page_has_data((uint32_t)(p->pd[from] >> PFN_TYPE_SHIFT)))
		from++;
	return from;
}

int stream_pd_pfn(struct rvmig_stream_parser *p, const uint8_t *entry)
{
	uint64_t v = get_le64(entry), at = p->off - 8, expect;
	uint32_t type = (uint32_t)(v >> PFN_TYPE_SHIFT);
	uint32_t i = p->pd_idx;
	int rc;

	if (v & PFN_RESERVED_MASK)
		return stream_fail(p, at, "pfn[%" PRIu32 "] entry 0x%016" PRIx64
			       " has reserved bits 52-59 set", i, v);
	if (!known_type(type))
		return stream_fail(p, at, "pfn[%" PRIu32 "] 0x%" PRIx64 " has unknown page type %#" PRIx32,
			       i, v & PFN_MASK, type);
	rc = pd_store(p, v);
	if (rc)
		return rc;
	p->s.pfns++;
	p->s.pfns_by_type[type]++;
	if (rvmig_stream_page_has_data(type))
		p->pd_ndata++;
	if (p->pd_idx < p->pd_count)
		return 0;

	expect = PAGE_DATA_HDR_SIZE + (uint64_t)p->pd_count * 8 +
		 (uint64_t)p->pd_ndata * RVMIG_STREAM_PAGE_SIZE;
	if (expect != p->u_len)
		return stream_fail(p, p->u_off + 4, "length %" PRIu32 " inconsistent with %" PRIu32
			       " pfns of which %" PRIu32 " carry data (expected %" PRIu64 ")",
			       p->u_len, p->pd_count, p->pd_ndata, expect);
	if (!p->pd_ndata) {
		p->st = PS_REC_BODY;
		p->left = 0;
		return 0;
	}
	p->pd_next = next_data(p, 0);
	p->st = PS_PAGE;
	return 0;
}

int stream_pd_page(struct rvmig_stream_parser *p, struct rvmig_stream_item *it)
{
	size_t avail = p->in_len - p->in_pos;
	const uint8_t *data;
	uint32_t flags = 0;
	uint64_t v = p->pd[p->pd_next];

	if (!p->page_have && avail >= RVMIG_STREAM_PAGE_SIZE) {
		data = p->in + p->in_pos;
		p->in_pos += RVMIG_STREAM_PAGE_SIZE;
		p->off += RVMIG_STREAM_PAGE_SIZE;
	} else {
		size_t k = RVMIG_STREAM_PAGE_SIZE - p->page_have;

		if (k > avail)
			k = avail;
		memcpy(p->pagebuf + p->page_have, p->in + p->in_pos, k);
		p->page_have += k;
		p->in_pos += k;
		p->off += k;
		if (p->page_have < RVMIG_STREAM_PAGE_SIZE)
			return 0;
		p->page_have = 0;
		data = p->pagebuf;
		flags |= RVMIG_STREAM_F_COPIED;
		p->s.pages_copied++;
	}
	if (stream_pd_page_is_zero(data)) {
		flags |= RVMIG_STREAM_F_ZERO;
		p->s.zero_pages++;
	}
	if (p->off == p->u_end)
		flags |= RVMIG_STREAM_F_REC_END;
	memset(it, 0, sizeof(*it));
	it->kind = RVMIG_STREAM_ITEM_PAGE;
	it->layer = RVMIG_STREAM_LAYER_LIBXC;
	it->flags = flags;
	it->rec_type = RVMIG_LIBXC_REC_PAGE_DATA;
	it->rec_offset = p->u_off;
	it->rec_length = p->u_len;
	it->offset = p->off - RVMIG_STREAM_PAGE_SIZE;
	it->data = data;
	it->len = RVMIG_STREAM_PAGE_SIZE;
	it->pfn = v & PFN_MASK;
	it->page_type = (uint32_t)(v >> PFN_TYPE_SHIFT);
	it->page_index = p->pd_next;
	p->s.pages++;
	p->s.page_bytes += RVMIG_STREAM_PAGE_SIZE;
	p->s.bytes += RVMIG_STREAM_PAGE_SIZE;

	p->pd_next = next_data(p, p->pd_next + 1);
	if (p->pd_next >= p->pd_count)
		stream_body_done(p);
	return 1;
}
