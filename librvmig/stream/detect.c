/* SPDX-License-Identifier: MIT */
/* Which of the three Xen formats a stream starts with, from its first octets. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "stream/format.h"
#include "stream/parser_int.h"

/* The first RVMIG_STREAM_DETECT_LEN octets of each layer's header. */
static const struct {
	enum rvmig_stream_layer layer;
	uint8_t sig[RVMIG_STREAM_DETECT_LEN];
} signatures[] = {
	{ RVMIG_STREAM_LAYER_XL, { 'X', 'e', 'n', ' ', 's', 'a', 'v', 'e' } },
	{ RVMIG_STREAM_LAYER_LIBXL, { 'L', 'i', 'b', 'x', 'l', 'F', 'm', 't' } },
	{ RVMIG_STREAM_LAYER_LIBXC, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
};

RVMIG_API int rvmig_stream_detect(const void *buf, size_t len, enum rvmig_stream_layer *layer)
{
	const uint8_t *b = buf;
	size_t n = len < RVMIG_STREAM_DETECT_LEN ? len : RVMIG_STREAM_DETECT_LEN;

	if ((!buf && len) || !layer)
		return -EINVAL;
	if (!n)
		return 0; /* the empty prefix begins every format */
	for (size_t i = 0; i < sizeof(signatures) / sizeof(signatures[0]); i++) {
		if (memcmp(b, signatures[i].sig, n))
			continue;
		if (n < RVMIG_STREAM_DETECT_LEN)
			return 0;
		*layer = signatures[i].layer;
		return 1;
	}
	return -RVMIG_ESTREAM;
}

int stream_detect_step(struct rvmig_stream_parser *p)
{
	size_t have = p->acc_have, k = RVMIG_STREAM_DETECT_LEN - have;
	enum rvmig_stream_layer layer = RVMIG_STREAM_LAYER_AUTO;
	char hex[3 * RVMIG_STREAM_DETECT_LEN + 1] = "";
	int rc;

	/* The octets are reported in items as usual; acc keeps them (at most
	 * 8, across feeds) for the header parser of the detected layer. */
	if (k > p->in_len - p->in_pos)
		k = p->in_len - p->in_pos;
	memcpy(p->acc + have, p->in + p->in_pos, k);
	stream_consume_ctl(p, k);
	have += k;
	p->acc_have = have;
	rc = rvmig_stream_detect(p->acc, have, &layer);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		for (size_t i = 0; i < have; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", p->acc[i]);
		hex[3 * have - 1] = 0;
		return stream_fail(p, p->u_off,
				   "not a Xen save stream: its first octets (%s) start neither an xl "
				   "header (\"Xen saved domain, xl format\"), a libxl v2 stream "
				   "(\"LibxlFmt\") nor a libxc v2/v3 image (marker ff ff ff ff ff ff ff ff)",
				   hex);
	}
	p->start = layer;
	stream_begin_unit(p, layer, RVMIG_STREAM_REC_NONE,
			  layer == RVMIG_STREAM_LAYER_XL ? PS_XL_HDR
			  : layer == RVMIG_STREAM_LAYER_LIBXL ? PS_LIBXL_HDR : PS_LIBXC_HDR);
	/* The header began with the octets just compared; its parser goes on
	 * from them in acc (stream_take() appends). */
	p->u_off = p->off - have;
	p->acc_have = have;
	return 0;
}
