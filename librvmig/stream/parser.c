/* SPDX-License-Identifier: MIT */
/*
 * Push parser core: input window, control runs, unit (header / record)
 * boundaries, the state loop, errors and counters.  The format specific
 * checks live in xl_header.c, libxl.c, libxc.c and page_data.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "stream/format.h"
#include "stream/parser_int.h"

#define ATTR_HAS(a, f) ((a)->size >= offsetof(struct rvmig_stream_attr, f) + sizeof((a)->f))

RVMIG_API int rvmig_stream_parser_create(const struct rvmig_stream_attr *attr,
					 rvmig_stream_parser **out)
{
	struct rvmig_stream_parser *p;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (attr && attr->size < offsetof(struct rvmig_stream_attr, flags))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->start = RVMIG_STREAM_LAYER_XL;
	p->max_rec_len = RVMIG_STREAM_REC_LENGTH_MAX;
	p->max_optdata_len = RVMIG_XL_CONFIG_MAX;
	if (attr) {
		if (ATTR_HAS(attr, flags))
			p->flags = attr->flags;
		if (ATTR_HAS(attr, start))
			p->start = attr->start;
		if (ATTR_HAS(attr, max_record_len) && attr->max_record_len)
			p->max_rec_len = attr->max_record_len;
		if (ATTR_HAS(attr, max_xl_optdata_len) && attr->max_xl_optdata_len)
			p->max_optdata_len = attr->max_xl_optdata_len;
		if (ATTR_HAS(attr, ctx))
			p->ctx = attr->ctx;
	}
	if ((p->start > RVMIG_STREAM_LAYER_LIBXC && p->start != RVMIG_STREAM_LAYER_AUTO) ||
	    p->max_rec_len > RVMIG_STREAM_REC_LENGTH_MAX ||
	    (p->flags & ~(uint32_t)(RVMIG_STREAM_F_ALLOW_TRAILING | RVMIG_STREAM_F_ALLOW_XL_GO))) {
		free(p);
		return -EINVAL;
	}
	p->pagebuf = malloc(RVMIG_STREAM_PAGE_SIZE);
	if (!p->pagebuf) {
		free(p);
		return -ENOMEM;
	}
	switch (p->start) {
	case RVMIG_STREAM_LAYER_XL:
		stream_begin_unit(p, RVMIG_STREAM_LAYER_XL, RVMIG_STREAM_REC_NONE, PS_XL_HDR);
		break;
	case RVMIG_STREAM_LAYER_LIBXL:
		stream_begin_unit(p, RVMIG_STREAM_LAYER_LIBXL, RVMIG_STREAM_REC_NONE, PS_LIBXL_HDR);
		break;
	case RVMIG_STREAM_LAYER_AUTO:
		stream_begin_unit(p, RVMIG_STREAM_LAYER_AUTO, RVMIG_STREAM_REC_NONE, PS_DETECT);
		break;
	default:
		stream_begin_unit(p, RVMIG_STREAM_LAYER_LIBXC, RVMIG_STREAM_REC_NONE, PS_LIBXC_HDR);
		break;
	}
	*out = p;
	return 0;
}

RVMIG_API void rvmig_stream_parser_destroy(rvmig_stream_parser *p)
{
	if (!p)
		return;
	free(p->pd);
	free(p->pagebuf);
	free(p);
}

RVMIG_API int rvmig_stream_feed(rvmig_stream_parser *p, const void *buf, size_t len)
{
	if (!p || (!buf && len))
		return -EINVAL;
	if (p->err)
		return p->err;
	if (p->in_pos < p->in_len || p->run_len)
		return -EBUSY;
	p->in = buf;
	p->in_len = len;
	p->in_pos = 0;
	return 0;
}

/* Name of the unit for messages: "record PAGE_DATA (0x1)", "stream header". */
static void unit_desc(const struct rvmig_stream_parser *p, char *buf, size_t sz)
{
	if (p->st == PS_REC_HDR) {
		snprintf(buf, sz, "record header");
		return;
	}
	if (p->st >= PS_REC_PREFIX && p->st <= PS_REC_PAD) {
		snprintf(buf, sz, "record %s (0x%" PRIx32 ")",
			 rvmig_stream_rec_name(p->u_layer, p->u_type), p->u_type);
		return;
	}
	switch (p->u_layer) {
	case RVMIG_STREAM_LAYER_AUTO:
		snprintf(buf, sz, "start of the stream");
		break;
	case RVMIG_STREAM_LAYER_XL:
		snprintf(buf, sz, "save header");
		break;
	case RVMIG_STREAM_LAYER_LIBXL:
		snprintf(buf, sz, "stream header");
		break;
	case RVMIG_STREAM_LAYER_LIBXC:
		snprintf(buf, sz, "image/domain header");
		break;
	default:
		snprintf(buf, sz, "data");
		break;
	}
}

int stream_fail(struct rvmig_stream_parser *p, uint64_t at, const char *fmt, ...)
{
	char what[96], detail[320];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	unit_desc(p, what, sizeof(what));
	n = snprintf(p->errbuf, sizeof(p->errbuf), "%s: %s at offset %" PRIu64 ": %s",
		     rvmig_stream_layer_name(p->u_layer), what, p->u_off, detail);
	if (at != p->u_off && n > 0 && (size_t)n < sizeof(p->errbuf))
		snprintf(p->errbuf + n, sizeof(p->errbuf) - (size_t)n,
			 " (field at offset %" PRIu64 ")", at);
	p->err = -RVMIG_ESTREAM;
	LOG_DBG(p->ctx, "stream", "%s", p->errbuf);
	return p->err;
}

int stream_want_len(struct rvmig_stream_parser *p, uint32_t len)
{
	if (p->u_len != len)
		return stream_fail(p, p->u_off + 4, "length %" PRIu32 ", must be %" PRIu32, p->u_len, len);
	return 0;
}

int stream_want_min(struct rvmig_stream_parser *p, uint32_t len)
{
	if (p->u_len < len)
		return stream_fail(p, p->u_off + 4, "length %" PRIu32 " below the minimum %" PRIu32,
			       p->u_len, len);
	return 0;
}

void stream_begin_unit(struct rvmig_stream_parser *p, enum rvmig_stream_layer layer, uint32_t type,
		   enum ps_state st)
{
	p->u_layer = layer;
	p->u_type = type;
	p->u_len = 0;
	p->u_off = p->off;
	p->u_end = UINT64_MAX;
	p->u_prefix = 0;
	p->acc_have = 0;
	p->st = st;
}

/* Marks n input bytes at in_pos as control bytes of the current run. */
void stream_consume_ctl(struct rvmig_stream_parser *p, size_t n)
{
	if (!p->run_len) {
		p->run = p->in + p->in_pos;
		p->run_off = p->off;
	}
	p->run_len += n;
	p->in_pos += n;
	p->off += n;
}

int stream_take(struct rvmig_stream_parser *p, size_t n, const uint8_t **out)
{
	size_t avail = p->in_len - p->in_pos, k;

	if (!p->acc_have && avail >= n) {
		*out = p->in + p->in_pos;
		stream_consume_ctl(p, n);
		return 1;
	}
	k = n - p->acc_have;
	if (k > avail)
		k = avail;
	memcpy(p->acc + p->acc_have, p->in + p->in_pos, k);
	stream_consume_ctl(p, k);
	p->acc_have += k;
	if (p->acc_have < n)
		return 0;
	p->acc_have = 0;
	*out = p->acc;
	return 1;
}

/* Passes up to p->left bytes through as control; true when left reaches 0. */
static bool pass(struct rvmig_stream_parser *p)
{
	size_t avail = p->in_len - p->in_pos;
	size_t k = p->left < avail ? (size_t)p->left : avail;

	stream_consume_ctl(p, k);
	p->left -= k;
	return p->left == 0;
}

static void emit_run(struct rvmig_stream_parser *p, struct rvmig_stream_item *it)
{
	memset(it, 0, sizeof(*it));
	it->kind = p->u_layer == RVMIG_STREAM_LAYER_NONE ? RVMIG_STREAM_ITEM_TRAILER
							 : RVMIG_STREAM_ITEM_CONTROL;
	it->layer = p->u_layer;
	it->rec_type = p->st == PS_REC_HDR ? RVMIG_STREAM_REC_NONE : p->u_type;
	it->rec_offset = p->u_off;
	it->rec_length = p->u_len;
	it->offset = p->run_off;
	it->data = p->run;
	it->len = p->run_len;
	if (p->run_off == p->u_off)
		it->flags |= RVMIG_STREAM_F_REC_BEGIN;
	if (p->run_off + p->run_len == p->u_end)
		it->flags |= RVMIG_STREAM_F_REC_END;
	p->s.bytes += p->run_len;
	if (it->kind == RVMIG_STREAM_ITEM_TRAILER)
		p->s.trailer_bytes += p->run_len;
	else
		p->s.control_bytes += p->run_len;
	p->run_len = 0;
	p->run = NULL;
}

/*
 * The last byte of the current unit was consumed: flush the control run
 * (returns 1 with *it filled if there was one) and move to the next unit.
 */
static int finish_unit(struct rvmig_stream_parser *p, struct rvmig_stream_item *it)
{
	int had = 0;

	if (p->run_len) {
		emit_run(p, it);
		had = 1;
	}
	if (p->st == PS_XL_HDR || p->st == PS_XL_OPTLEN || p->st == PS_XL_OPTDATA) {
		stream_begin_unit(p, RVMIG_STREAM_LAYER_LIBXL, RVMIG_STREAM_REC_NONE, PS_LIBXL_HDR);
	} else if (p->st == PS_LIBXL_HDR) {
		p->layer = RVMIG_STREAM_LAYER_LIBXL;
		stream_begin_unit(p, p->layer, RVMIG_STREAM_REC_NONE, PS_REC_HDR);
	} else if (p->st == PS_LIBXC_HDR) {
		p->layer = RVMIG_STREAM_LAYER_LIBXC;
		stream_begin_unit(p, p->layer, RVMIG_STREAM_REC_NONE, PS_REC_HDR);
	} else if (p->u_layer == RVMIG_STREAM_LAYER_LIBXL) {
		stream_libxl_rec_complete(p);
	} else {
		stream_libxc_rec_complete(p);
	}
	if (p->st == PS_DONE) {
		p->s.done = true;
		if (had)
			it->flags |= RVMIG_STREAM_F_STREAM_END;
		stream_begin_unit(p, RVMIG_STREAM_LAYER_NONE, RVMIG_STREAM_REC_NONE, PS_DONE);
	}
	return had;
}

/* Body done: padding next (or the unit is complete). */
static int to_pad(struct rvmig_stream_parser *p, struct rvmig_stream_item *it)
{
	p->left = p->u_end - p->off;
	if (!p->left)
		return finish_unit(p, it);
	p->st = PS_REC_PAD;
	return 0;
}

int stream_body_done(struct rvmig_stream_parser *p)
{
	struct rvmig_stream_item dummy;

	/* only called after a page item, when the run is empty */
	return to_pad(p, &dummy);
}

static int step_rec_hdr(struct rvmig_stream_parser *p, struct rvmig_stream_item *it)
{
	const uint8_t *b;
	int rc;

	if (!stream_take(p, REC_HDR_SIZE, &b))
		return 0;
	p->u_type = get_le32(b);
	p->u_len = get_le32(b + 4);
	p->u_end = p->u_off + REC_HDR_SIZE + rec_padded(p->u_len);
	p->u_prefix = 0;
	p->st = PS_REC_BODY; /* from here on the unit is "record TYPE" */
	if (p->u_len > p->max_rec_len)
		return stream_fail(p, p->u_off + 4, "length %" PRIu32 " exceeds the cap of %" PRIu32,
			       p->u_len, p->max_rec_len);
	rc = p->layer == RVMIG_STREAM_LAYER_LIBXL ? stream_libxl_rec_check(p) : stream_libxc_rec_check(p);
	if (rc < 0)
		return rc;
	if (p->u_prefix) {
		p->st = PS_REC_PREFIX;
		return 0;
	}
	p->left = p->u_len;
	if (!p->left)
		return to_pad(p, it);
	return 0;
}

static int step(struct rvmig_stream_parser *p, struct rvmig_stream_item *it)
{
	const uint8_t *b;
	int rc;

	switch (p->st) {
	case PS_DETECT:
		return stream_detect_step(p);
	case PS_XL_HDR:
		if (!stream_take(p, RVMIG_XL_HEADER_LEN, &b))
			return 0;
		rc = stream_xl_hdr_parse(p, b);
		if (rc < 0)
			return rc;
		if (!p->left)
			return finish_unit(p, it);
		p->st = PS_XL_OPTLEN;
		return 0;
	case PS_XL_OPTLEN:
		if (!stream_take(p, 4, &b))
			return 0;
		rc = stream_xl_optlen_parse(p, b);
		if (rc < 0)
			return rc;
		p->st = PS_XL_OPTDATA;
		if (!p->left)
			return finish_unit(p, it);
		return 0;
	case PS_XL_OPTDATA:
		if (pass(p))
			return finish_unit(p, it);
		return 0;
	case PS_LIBXL_HDR:
		if (!stream_take(p, LIBXL_HDR_SIZE, &b))
			return 0;
		rc = stream_libxl_hdr_parse(p, b);
		return rc < 0 ? rc : finish_unit(p, it);
	case PS_LIBXC_HDR:
		if (!stream_take(p, LIBXC_IHDR_SIZE + LIBXC_DHDR_SIZE, &b))
			return 0;
		rc = stream_libxc_hdr_parse(p, b);
		return rc < 0 ? rc : finish_unit(p, it);
	case PS_REC_HDR:
		return step_rec_hdr(p, it);
	case PS_REC_PREFIX:
		if (!stream_take(p, p->u_prefix, &b))
			return 0;
		rc = stream_libxc_prefix_check(p, b);
		if (rc < 0)
			return rc;
		if (p->st == PS_REC_BODY && !p->left)
			return to_pad(p, it);
		return 0;
	case PS_REC_BODY:
		if (pass(p))
			return to_pad(p, it);
		return 0;
	case PS_PFN:
		if (!stream_take(p, 8, &b))
			return 0;
		rc = stream_pd_pfn(p, b);
		if (rc < 0)
			return rc;
		if (p->st == PS_REC_BODY) /* no data pages */
			return to_pad(p, it);
		return 0;
	case PS_PAGE:
		if (p->run_len) {
			emit_run(p, it);
			return 1;
		}
		return stream_pd_page(p, it);
	case PS_REC_PAD:
		if (!stream_take(p, (size_t)p->left, &b))
			return 0;
		for (size_t i = 0; i < p->left; i++)
			if (b[i])
				return stream_fail(p, p->off - p->left + i,
					       "padding octet %zu is %#x, not zero", i, b[i]);
		return finish_unit(p, it);
	case PS_DONE:
		if (p->flags & RVMIG_STREAM_F_ALLOW_TRAILING) {
			stream_consume_ctl(p, p->in_len - p->in_pos);
			return 0;
		}
		if (p->flags & RVMIG_STREAM_F_ALLOW_XL_GO)
			return stream_go_step(p);
		return stream_fail(p, p->off, "%zu byte(s) of trailing data after the final END record",
				   p->in_len - p->in_pos);
	}
	return stream_fail(p, p->off, "internal error: bad parser state %d", (int)p->st);
}

static int next_item(struct rvmig_stream_parser *p, struct rvmig_stream_item *it)
{
	int rc;

	for (;;) {
		if (p->in_pos == p->in_len) {
			if (p->run_len) {
				emit_run(p, it);
				return 1;
			}
			p->in = NULL;
			p->in_len = p->in_pos = 0;
			return 0;
		}
		rc = step(p, it);
		if (rc)
			return rc;
	}
}

RVMIG_API int rvmig_stream_next(rvmig_stream_parser *p, struct rvmig_stream_item *it)
{
	struct rvmig_stream_item tmp;
	size_t size;
	int rc;

	if (!p || !it || it->size < offsetof(struct rvmig_stream_item, len) + sizeof(it->len))
		return -EINVAL;
	if (p->err)
		return p->err;
	rc = next_item(p, &tmp);
	if (rc == 1) {
		/* fill what the caller's (possibly older, smaller) struct holds */
		size = it->size < sizeof(tmp) ? it->size : sizeof(tmp);
		tmp.size = it->size;
		memcpy(it, &tmp, size);
	}
	return rc;
}

static const char *state_part(const struct rvmig_stream_parser *p)
{
	switch (p->st) {
	case PS_DETECT: return "the first 8 octets, which name the format";
	case PS_XL_HDR: return "the fixed header";
	case PS_XL_OPTLEN: return "the optional data length";
	case PS_XL_OPTDATA: return "the optional data (config)";
	case PS_LIBXL_HDR: return "the stream header";
	case PS_LIBXC_HDR: return "the image/domain header";
	case PS_REC_HDR: return "the record header";
	case PS_REC_PREFIX: return "the record's fixed fields";
	case PS_REC_BODY: return "the record body";
	case PS_PFN: return "the pfn array";
	case PS_PAGE: return "a page payload";
	case PS_REC_PAD: return "the record padding";
	case PS_DONE: return "nothing";
	}
	return "?";
}

RVMIG_API int rvmig_stream_finish(rvmig_stream_parser *p)
{
	if (!p)
		return -EINVAL;
	if (p->err)
		return p->err;
	if (p->in_pos < p->in_len || p->run_len)
		return -EBUSY;
	if (p->st == PS_DONE)
		return stream_go_finish(p);
	if (p->st == PS_PAGE)
		return stream_fail(p, p->off,
			       "stream truncated: input ends inside the page payload of pfn %#" PRIx64
			       " (%zu of %u octets)",
			       p->pd[p->pd_next] & PFN_MASK, p->page_have, RVMIG_STREAM_PAGE_SIZE);
	if (p->u_end != UINT64_MAX)
		return stream_fail(p, p->off,
			       "stream truncated: input ends inside %s (%" PRIu64
			       " more octet(s) of the record needed)",
			       state_part(p), p->u_end - p->off);
	return stream_fail(p, p->off, "stream truncated: input ends inside %s", state_part(p));
}

RVMIG_API enum rvmig_stream_layer rvmig_stream_start_layer(const rvmig_stream_parser *p)
{
	return p ? p->start : RVMIG_STREAM_LAYER_AUTO;
}

RVMIG_API bool rvmig_stream_done(const rvmig_stream_parser *p)
{
	return p && p->s.done;
}

RVMIG_API const char *rvmig_stream_error(const rvmig_stream_parser *p)
{
	return p ? p->errbuf : "";
}
