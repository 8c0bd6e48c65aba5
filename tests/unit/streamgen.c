/* SPDX-License-Identifier: MIT */
/* streamgen - Xen save stream writer for tests and benchmarks (see streamgen.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamgen.h"

#define PAGE 4096u

void streamgen_buf_free(struct streamgen_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int reserve(struct streamgen_buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *n;

	if (b->len + extra <= b->cap)
		return 0;
	while (cap < b->len + extra)
		cap *= 2;
	n = realloc(b->data, cap);
	if (!n)
		return -ENOMEM;
	b->data = n;
	b->cap = cap;
	return 0;
}

int streamgen_append(struct streamgen_buf *b, const void *data, size_t len)
{
	if (reserve(b, len))
		return -ENOMEM;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

int streamgen_xl_header(struct streamgen_buf *b, uint32_t mandatory_flags,
			uint32_t optional_flags, const char *config, uint32_t config_len)
{
	uint8_t h[RVMIG_XL_HEADER_LEN];
	uint32_t words[4] = { RVMIG_XL_BYTEORDER, mandatory_flags, optional_flags, 4 + config_len };

	memcpy(h, RVMIG_XL_MAGIC, RVMIG_XL_MAGIC_LEN);
	memcpy(h + 32, words, sizeof(words)); /* xl writes host order */
	if (streamgen_append(b, h, sizeof(h)) || streamgen_append(b, &config_len, 4) ||
	    streamgen_append(b, config, config_len))
		return -ENOMEM;
	return 0;
}

int streamgen_libxl_header(struct streamgen_buf *b, uint32_t version, uint32_t options)
{
	uint8_t h[16];

	memcpy(h, "LibxlFmt", 8);
	put_be(h + 8, version, 4);
	put_be(h + 12, options, 4);
	return streamgen_append(b, h, sizeof(h));
}

int streamgen_libxc_header(struct streamgen_buf *b, uint32_t version, uint32_t guest_type,
			   uint16_t page_shift, uint32_t xen_major, uint32_t xen_minor)
{
	uint8_t h[40] = { 0 };

	memset(h, 0xff, 8);
	memcpy(h + 8, "XENF", 4);
	put_be(h + 12, version, 4);
	/* options (LE stream), reserved: zero */
	put_le32(h + 24, guest_type);
	h[28] = (uint8_t)page_shift;
	h[29] = (uint8_t)(page_shift >> 8);
	put_le32(h + 32, xen_major);
	put_le32(h + 36, xen_minor);
	return streamgen_append(b, h, sizeof(h));
}

int streamgen_record(struct streamgen_buf *b, uint32_t type, const void *body, uint32_t len)
{
	static const uint8_t zero[8];
	uint8_t h[8];
	size_t pad = (8 - (len & 7)) & 7;

	put_le32(h, type);
	put_le32(h + 4, len);
	if (streamgen_append(b, h, 8) || streamgen_append(b, body, len) ||
	    streamgen_append(b, zero, pad))
		return -ENOMEM;
	return 0;
}

static bool has_data(uint32_t type)
{
	return type <= 4 || (type >= 9 && type <= 12);
}

int streamgen_page_data(struct streamgen_buf *b, uint32_t count, const uint64_t *entries,
			const uint8_t *pages)
{
	uint32_t ndata = 0;
	uint8_t h[16];

	for (uint32_t i = 0; i < count; i++)
		ndata += has_data((uint32_t)(entries[i] >> 60));
	put_le32(h, 1 /* PAGE_DATA */);
	put_le32(h + 4, 8 + 8 * count + PAGE * ndata);
	put_le32(h + 8, count);
	put_le32(h + 12, 0);
	if (reserve(b, 16 + 8 * (size_t)count + (size_t)PAGE * ndata))
		return -ENOMEM;
	streamgen_append(b, h, 16);
	for (uint32_t i = 0; i < count; i++) {
		uint8_t e[8];

		put_le64(e, entries[i]);
		streamgen_append(b, e, 8);
	}
	return streamgen_append(b, pages, (size_t)PAGE * ndata);
}

/* ---- scenario builder ------------------------------------------------- */

struct gen {
	const struct streamgen_opts *o;
	struct streamgen_buf *b;
	struct streamgen_expect *e;
	uint64_t rng;
	int err;
};

static uint64_t xs(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void fill(uint64_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)xs(s);
}

static void note(struct gen *g, enum rvmig_stream_layer layer, uint32_t type, uint32_t len)
{
	struct streamgen_expect *e = g->e;

	if (e->nrecs == e->recs_cap) {
		size_t cap = e->recs_cap ? e->recs_cap * 2 : 64;
		struct streamgen_rec *n = realloc(e->recs, cap * sizeof(*n));

		if (!n) {
			g->err = -ENOMEM;
			return;
		}
		e->recs = n;
		e->recs_cap = cap;
	}
	e->recs[e->nrecs++] = (struct streamgen_rec){ layer, type, g->b->len, len };
	if (layer == RVMIG_STREAM_LAYER_LIBXL) {
		if (type < RVMIG_LIBXL_REC_NTYPES)
			e->libxl_records[type]++;
		else
			e->libxl_optional++;
	} else {
		if (type < RVMIG_LIBXC_REC_NTYPES)
			e->libxc_records[type]++;
		else
			e->libxc_optional++;
	}
}

static void rec(struct gen *g, enum rvmig_stream_layer layer, uint32_t type, const void *body,
		uint32_t len)
{
	if (g->err)
		return;
	note(g, layer, type, len);
	if (!g->err)
		g->err = streamgen_record(g->b, type, body, len);
}

/* record with `len` octets of pseudo-random body after an optional prefix */
static void rec_rand(struct gen *g, enum rvmig_stream_layer layer, uint32_t type,
		     const void *prefix, uint32_t plen, uint32_t len)
{
	uint8_t *body = calloc(1, len ? len : 1);

	if (!body) {
		g->err = -ENOMEM;
		return;
	}
	fill(&g->rng, body, len);
	if (plen)
		memcpy(body, prefix, plen);
	rec(g, layer, type, body, len);
	free(body);
}

static uint32_t page_type(const struct gen *g, uint32_t pfn)
{
	static const uint8_t pt[16] = { 0, 1, 2, 3, 4, 0, 0, 0, 0, 9, 10, 11, 12, 0, 0, 0 };

	switch (pfn % 97) {
	case 5:
		return RVMIG_PAGE_XTAB;
	case 6:
		return RVMIG_PAGE_XALLOC;
	case 7:
		return RVMIG_PAGE_BROKEN;
	}
	if (g->o->guest_type == RVMIG_GUEST_X86_HVM)
		return RVMIG_PAGE_NOTAB;
	return pt[pfn % 16];
}

/* Page content of pfn in round r: zero; sparse (zero but for the tag); or
 * random.  Non-zero pages end with their tag, pfn ^ STREAMGEN_TAG. */
static void page_content(const struct gen *g, uint32_t pfn, uint32_t round, uint8_t *pg)
{
	uint64_t s = g->o->seed ^ ((uint64_t)pfn * 0x9e3779b97f4a7c15ull) ^
		     ((uint64_t)(round + 1) * 0xc2b2ae3d27d4eb4full);

	if ((pfn + round) % 5 == 0) {
		memset(pg, 0, PAGE);
		return;
	}
	if ((pfn + round) % 7 == 3)
		memset(pg, 0, PAGE);
	else
		fill(&s, pg, PAGE);
	put_le64(pg + PAGE - 8, pfn ^ STREAMGEN_TAG);
}

/* Sends the pfns of `list` in PAGE_DATA batches. */
static void send_pages(struct gen *g, const uint32_t *list, uint32_t n, uint32_t round)
{
	uint32_t batch = g->o->batch ? g->o->batch : 64;
	uint64_t *ent = malloc(sizeof(*ent) * batch);
	uint8_t *pages = malloc((size_t)PAGE * batch);

	if (!ent || !pages) {
		g->err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n && !g->err; i += batch) {
		uint32_t cnt = n - i < batch ? n - i : batch, nd = 0;

		for (uint32_t j = 0; j < cnt; j++) {
			uint32_t pfn = list[i + j], t = page_type(g, pfn);

			ent[j] = (uint64_t)t << 60 | pfn;
			g->e->pfns++;
			g->e->pfns_by_type[t]++;
			if (!has_data(t))
				continue;
			page_content(g, pfn, round, pages + (size_t)PAGE * nd);
			if ((pfn + round) % 5 == 0)
				g->e->zero_pages++;
			g->e->pages++;
			nd++;
		}
		note(g, RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA,
		     8 + 8 * cnt + PAGE * nd);
		if (!g->err)
			g->err = streamgen_page_data(g->b, cnt, ent, pages);
	}
out:
	free(ent);
	free(pages);
}

static void send_round(struct gen *g, uint32_t round, uint32_t mod, uint32_t rem)
{
	uint32_t *list = malloc(sizeof(*list) * (g->o->nr_pfns ? g->o->nr_pfns : 1)), n = 0;

	if (!list) {
		g->err = -ENOMEM;
		return;
	}
	for (uint32_t pfn = 0; pfn < g->o->nr_pfns; pfn++)
		if (pfn % mod == rem)
			list[n++] = pfn;
	send_pages(g, list, n, round);
	free(list);
}

static void vcpu_state(struct gen *g)
{
	const enum rvmig_stream_layer xc = RVMIG_STREAM_LAYER_LIBXC;
	uint8_t tsc[24] = { 0 };

	put_le32(tsc, 0);        /* mode */
	put_le32(tsc + 4, 2500000); /* khz */
	put_le64(tsc + 8, 123456789);
	rec(g, xc, RVMIG_LIBXC_REC_X86_TSC_INFO, tsc, sizeof(tsc));
	if (g->o->guest_type == RVMIG_GUEST_X86_HVM) {
		uint8_t params[8 + 3 * 16] = { 3 };

		for (int i = 0; i < 3; i++) {
			put_le64(params + 8 + 16 * i, 10 + i);
			put_le64(params + 16 + 16 * i, xs(&g->rng));
		}
		rec(g, xc, RVMIG_LIBXC_REC_HVM_PARAMS, params, sizeof(params));
		rec_rand(g, xc, RVMIG_LIBXC_REC_HVM_CONTEXT, NULL, 0, 301);
		return;
	}
	rec_rand(g, xc, RVMIG_LIBXC_REC_SHARED_INFO, NULL, 0, PAGE);
	for (uint32_t v = 0; v < 2; v++) {
		uint8_t vh[8] = { 0 };

		put_le32(vh, v);
		rec_rand(g, xc, RVMIG_LIBXC_REC_X86_PV_VCPU_BASIC, vh, 8, 8 + 5168);
		rec_rand(g, xc, RVMIG_LIBXC_REC_X86_PV_VCPU_EXTENDED, vh, 8, 8 + 64);
		rec_rand(g, xc, RVMIG_LIBXC_REC_X86_PV_VCPU_XSAVE, vh, 8, 8 + 843);
		rec_rand(g, xc, RVMIG_LIBXC_REC_X86_PV_VCPU_MSRS, vh, 8, 8 + 32);
	}
}

static void emulator_records(struct gen *g)
{
	static const char xs_data[] = "physmap/1/start_addr\0f0000000\0physmap/1/size\0800000";
	uint8_t hdr[8] = { 0 };

	if (g->o->guest_type != RVMIG_GUEST_X86_HVM)
		return;
	put_le32(hdr, 2); /* qemu upstream */
	{
		uint8_t body[8 + sizeof(xs_data)];

		memcpy(body, hdr, 8);
		memcpy(body + 8, xs_data, sizeof(xs_data));
		rec(g, RVMIG_STREAM_LAYER_LIBXL, RVMIG_LIBXL_REC_EMULATOR_XENSTORE_DATA, body,
		    sizeof(body));
	}
	rec_rand(g, RVMIG_STREAM_LAYER_LIBXL, RVMIG_LIBXL_REC_EMULATOR_CONTEXT, hdr, 8, 8 + 1001);
}

static void libxc_stream(struct gen *g)
{
	const enum rvmig_stream_layer xc = RVMIG_STREAM_LAYER_LIBXC;
	const struct streamgen_opts *o = g->o;
	bool pv = o->guest_type != RVMIG_GUEST_X86_HVM;
	uint32_t version = o->libxc_version ? o->libxc_version : 3;

	g->e->libxc_offset = g->b->len;
	if (!g->err)
		g->err = streamgen_libxc_header(g->b, version, pv ? RVMIG_GUEST_X86_PV
								  : RVMIG_GUEST_X86_HVM, 12, 4, 17);
	if (pv) {
		uint8_t info[8] = { 8, 4 };

		rec(g, xc, RVMIG_LIBXC_REC_X86_PV_INFO, info, sizeof(info));
	}
	if (version >= 3) {
		rec_rand(g, xc, RVMIG_LIBXC_REC_X86_CPUID_POLICY, NULL, 0, 24 * 5);
		rec_rand(g, xc, RVMIG_LIBXC_REC_X86_MSR_POLICY, NULL, 0, 16 * 2);
		rec(g, xc, RVMIG_LIBXC_REC_STATIC_DATA_END, NULL, 0);
	}
	if (o->unknown_optional)
		rec_rand(g, xc, 0x80000042u, NULL, 0, 5);
	if (pv) {
		uint32_t frames = (o->nr_pfns + 511) / 512;
		uint8_t *p2m = calloc(1, 8 + 8 * (size_t)frames);

		if (!p2m) {
			g->err = -ENOMEM;
			return;
		}
		put_le32(p2m + 4, o->nr_pfns ? o->nr_pfns - 1 : 0);
		for (uint32_t i = 0; i < frames; i++)
			put_le64(p2m + 8 + 8 * i, 0x1000 + i);
		rec(g, xc, RVMIG_LIBXC_REC_X86_PV_P2M_FRAMES, p2m, 8 + 8 * frames);
		free(p2m);
	} else {
		rec_rand(g, xc, RVMIG_LIBXC_REC_TOOLSTACK, NULL, 0, 11);
	}

	send_round(g, 0, 1, 0);
	for (uint32_t r = 1; r <= o->live_rounds; r++)
		send_round(g, r, 3, r % 3);
	vcpu_state(g);
	if (o->verify) {
		rec(g, xc, RVMIG_LIBXC_REC_VERIFY, NULL, 0);
		/* every pfn again with the content of its last round */
		for (uint32_t rem = 0; rem < 3; rem++) {
			uint32_t last = 0;

			for (uint32_t r = 1; r <= o->live_rounds; r++)
				if (r % 3 == rem)
					last = r;
			send_round(g, last, 3, rem);
		}
	}
	for (uint32_t c = 1; c <= o->checkpoints; c++) {
		uint8_t dirty[16], state[8] = { 0 };

		put_le64(dirty, c);
		put_le64(dirty + 8, c + 7);
		/* back-channel records, written here so every type is parsed */
		rec(g, xc, RVMIG_LIBXC_REC_CHECKPOINT_DIRTY_PFN_LIST, dirty, sizeof(dirty));
		rec(g, xc, RVMIG_LIBXC_REC_CHECKPOINT, NULL, 0);
		emulator_records(g);
		put_le32(state, c % 4);
		rec(g, RVMIG_STREAM_LAYER_LIBXL, RVMIG_LIBXL_REC_CHECKPOINT_STATE, state, 4);
		rec(g, RVMIG_STREAM_LAYER_LIBXL, RVMIG_LIBXL_REC_CHECKPOINT_END, NULL, 0);
		send_round(g, 100 + c, 7, c % 7);
		vcpu_state(g);
	}
	rec(g, xc, RVMIG_LIBXC_REC_END, NULL, 0);
}

int streamgen_build(const struct streamgen_opts *o, struct streamgen_buf *out,
		    struct streamgen_expect *exp)
{
	struct streamgen_opts d = *o;
	struct gen g = { &d, out, exp, o->seed ^ 0x5bd1e995u, 0 };
	const enum rvmig_stream_layer xl = RVMIG_STREAM_LAYER_LIBXL;

	memset(exp, 0, sizeof(*exp));
	if (!d.guest_type)
		d.guest_type = RVMIG_GUEST_X86_PV;
	if (!d.nr_pfns)
		d.nr_pfns = 256;
	if (!d.no_xl_header) {
		char cfg[160];
		int n = snprintf(cfg, sizeof(cfg),
				 "{\n    \"c_info\": {\n        \"type\": \"%s\",\n"
				 "        \"name\": \"streamgen\"\n    }\n}\n",
				 d.guest_type == RVMIG_GUEST_X86_HVM ? "hvm" : "pv");

		g.err = streamgen_xl_header(out, 3, 0, cfg, (uint32_t)n);
	}
	exp->libxl_offset = out->len;
	if (!g.err)
		g.err = streamgen_libxl_header(out, 2, 0);
	if (d.unknown_optional)
		rec_rand(&g, xl, 0x80000123u, NULL, 0, 13);
	rec(&g, xl, RVMIG_LIBXL_REC_LIBXC_CONTEXT, NULL, 0);
	libxc_stream(&g);
	emulator_records(&g);
	if (d.unknown_optional)
		rec_rand(&g, xl, 0xfffffff0u, NULL, 0, 8);
	rec(&g, xl, RVMIG_LIBXL_REC_END, NULL, 0);
	return g.err;
}

void streamgen_expect_free(struct streamgen_expect *exp)
{
	free(exp->recs);
	exp->recs = NULL;
	exp->nrecs = exp->recs_cap = 0;
}

const struct streamgen_rec *streamgen_find(const struct streamgen_expect *exp,
					   enum rvmig_stream_layer layer, uint32_t type, size_t from)
{
	for (size_t i = from; i < exp->nrecs; i++)
		if (exp->recs[i].layer == layer && exp->recs[i].type == type)
			return &exp->recs[i];
	return NULL;
}

/* ---- replay through the parser --------------------------------------- */

static void violate(struct streamgen_replay *r, const char *msg, uint64_t off)
{
	if (!r->violation[0])
		snprintf(r->violation, sizeof(r->violation), "%s (item at offset %llu)", msg,
			 (unsigned long long)off);
}

/* The snapshot's counters against the deprecated struct's. */
static void check_snap(struct streamgen_replay *r)
{
	const struct rvmig_stream_stats *st = &r->stats;
	const rvmig_stream_snap *sn = r->snap;
	const struct {
		enum rvmig_stream_stat which;
		uint64_t v;
	} same[] = {
		{ RVMIG_STREAM_STAT_BYTES, st->bytes },
		{ RVMIG_STREAM_STAT_CONTROL_BYTES, st->control_bytes },
		{ RVMIG_STREAM_STAT_PAGE_BYTES, st->page_bytes },
		{ RVMIG_STREAM_STAT_TRAILER_BYTES, st->trailer_bytes },
		{ RVMIG_STREAM_STAT_PAGES, st->pages },
		{ RVMIG_STREAM_STAT_ZERO_PAGES, st->zero_pages },
		{ RVMIG_STREAM_STAT_PAGES_COPIED, st->pages_copied },
		{ RVMIG_STREAM_STAT_PFNS, st->pfns },
		{ RVMIG_STREAM_STAT_LIBXL_OPTIONAL_RECORDS, st->libxl_optional_records },
		{ RVMIG_STREAM_STAT_LIBXC_OPTIONAL_RECORDS, st->libxc_optional_records },
		{ RVMIG_STREAM_STAT_XL_MANDATORY_FLAGS, st->xl_mandatory_flags },
		{ RVMIG_STREAM_STAT_XL_OPTIONAL_FLAGS, st->xl_optional_flags },
		{ RVMIG_STREAM_STAT_XL_CONFIG_LEN, st->xl_config_len },
		{ RVMIG_STREAM_STAT_LIBXC_VERSION, st->libxc_version },
		{ RVMIG_STREAM_STAT_GUEST_TYPE, st->guest_type },
		{ RVMIG_STREAM_STAT_XEN_MAJOR, st->xen_major },
		{ RVMIG_STREAM_STAT_XEN_MINOR, st->xen_minor },
		{ RVMIG_STREAM_STAT_DONE, st->done },
	};
	uint64_t records = st->libxl_optional_records + st->libxc_optional_records;

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (rvmig_stream_snap_get(sn, same[i].which) != same[i].v)
			violate(r, "a snapshot counter differs from rvmig_stream_get_stats()'s", 0);
	for (uint32_t t = 0; t < 16; t++)
		if (rvmig_stream_snap_pfns(sn, t) != st->pfns_by_type[t])
			violate(r, "snapshot pfns by type differ from rvmig_stream_get_stats()'s", 0);
	for (uint32_t t = 0; t < RVMIG_STREAM_STATS_V1_LIBXL_TYPES; t++) {
		records += st->libxl_records[t];
		if (rvmig_stream_snap_records(sn, RVMIG_STREAM_LAYER_LIBXL, t) != st->libxl_records[t])
			violate(r, "snapshot libxl records differ from rvmig_stream_get_stats()'s", 0);
	}
	for (uint32_t t = 0; t < RVMIG_STREAM_STATS_V1_LIBXC_TYPES; t++) {
		records += st->libxc_records[t];
		if (rvmig_stream_snap_records(sn, RVMIG_STREAM_LAYER_LIBXC, t) != st->libxc_records[t])
			violate(r, "snapshot libxc records differ from rvmig_stream_get_stats()'s", 0);
	}
	if (rvmig_stream_snap_get(sn, RVMIG_STREAM_STAT_RECORDS) != records)
		violate(r, "snapshot RECORDS is not the sum of the records by type", 0);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void check_item(struct streamgen_replay *r, const struct rvmig_stream_item *it)
{
	uint64_t end = it->rec_offset + 8 + (((uint64_t)it->rec_length + 7) & ~7ull);

	if (it->offset != r->rebuilt_len)
		violate(r, "item offset is not contiguous", it->offset);
	if (!it->data || !it->len)
		violate(r, "item without data", it->offset);
	if (!!(it->flags & RVMIG_STREAM_F_REC_BEGIN) != (it->offset == it->rec_offset))
		violate(r, "REC_BEGIN flag inconsistent with rec_offset", it->offset);
	if (it->kind == RVMIG_STREAM_ITEM_PAGE) {
		uint64_t tag;

		if (it->len != PAGE)
			violate(r, "page item is not 4096 octets", it->offset);
		if (!!(it->flags & RVMIG_STREAM_F_ZERO) != all_zero(it->data, it->len))
			violate(r, "ZERO flag wrong", it->offset);
		if (!has_data(it->page_type))
			violate(r, "page item for a type without data", it->offset);
		if (r->check_pfn_tag && !(it->flags & RVMIG_STREAM_F_ZERO)) {
			memcpy(&tag, (const uint8_t *)it->data + PAGE - 8, 8);
			if (tag != (it->pfn ^ STREAMGEN_TAG))
				violate(r, "page content does not belong to its pfn", it->offset);
		}
	}
	if (r->seen_end && it->kind != RVMIG_STREAM_ITEM_TRAILER)
		violate(r, "stream item after the STREAM_END item", it->offset);
	if (it->flags & RVMIG_STREAM_F_STREAM_END) {
		if (r->seen_end)
			violate(r, "second STREAM_END item", it->offset);
		r->seen_end = true;
	}
	if (it->rec_type != RVMIG_STREAM_REC_NONE && it->kind != RVMIG_STREAM_ITEM_TRAILER &&
	    !!(it->flags & RVMIG_STREAM_F_REC_END) != (it->offset + it->len == end))
		violate(r, "REC_END flag inconsistent with the record's end", it->offset);
}

int streamgen_replay(const void *buf, size_t len, struct streamgen_replay *r)
{
	rvmig_stream_parser *p;
	struct rvmig_stream_item it = { .size = sizeof(it) };
	uint64_t rng = r->seed ? r->seed : 1;
	size_t pos = 0;
	int rc;

	r->rc = 0;
	r->seen_end = false;
	r->error[0] = r->violation[0] = 0;
	r->items = r->page_items = r->rebuilt_len = 0;
	r->rebuilt = malloc(len ? len : 1);
	if (!r->rebuilt)
		return -ENOMEM;
	rc = rvmig_stream_parser_create(r->attr, &p);
	if (rc)
		return rc;
	while (pos < len && !r->rc) {
		size_t n = r->chunk ? r->chunk : 1 + (size_t)(xs(&rng) % (r->max_random ? r->max_random : 1));

		if (n > len - pos)
			n = len - pos;
		rc = rvmig_stream_feed(p, (const uint8_t *)buf + pos, n);
		if (rc) {
			r->rc = rc;
			break;
		}
		pos += n;
		while ((rc = rvmig_stream_next(p, &it)) == 1) {
			check_item(r, &it);
			if (!r->items)
				r->first_layer = it.layer;
			if (r->rebuilt_len + it.len > len) {
				violate(r, "items hold more bytes than were fed", it.offset);
				break;
			}
			memcpy(r->rebuilt + r->rebuilt_len, it.data, it.len);
			r->rebuilt_len += it.len;
			r->items++;
			r->page_items += it.kind == RVMIG_STREAM_ITEM_PAGE;
		}
		if (rc < 0)
			r->rc = rc;
	}
	if (!r->rc && r->finish)
		r->rc = rvmig_stream_finish(p);
	if (rvmig_stream_done(p) && !r->seen_end)
		violate(r, "stream done but no item had STREAM_END", r->rebuilt_len);
	snprintf(r->error, sizeof(r->error), "%s", rvmig_stream_error(p));
	r->start_layer = rvmig_stream_start_layer(p);
	r->stats.size = sizeof(r->stats);
	rvmig_stream_get_stats(p, &r->stats);
	if (rvmig_stream_snap_create(&r->snap) || rvmig_stream_snapshot(p, r->snap))
		violate(r, "no counter snapshot", r->rebuilt_len);
	else
		check_snap(r);
	rvmig_stream_parser_destroy(p);
	return 0;
}

void streamgen_replay_free(struct streamgen_replay *r)
{
	free(r->rebuilt);
	r->rebuilt = NULL;
	rvmig_stream_snap_destroy(r->snap);
	r->snap = NULL;
}
