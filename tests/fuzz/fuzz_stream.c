/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the Xen save-stream push parser.  The input is fed in
 * pieces whose sizes come from the input itself; whatever the parser
 * accepts must come back out byte for byte (concatenated items == input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rvmig/stream.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum rvmig_stream_layer starts[4] = {
		RVMIG_STREAM_LAYER_XL, RVMIG_STREAM_LAYER_LIBXL, RVMIG_STREAM_LAYER_LIBXC,
		RVMIG_STREAM_LAYER_AUTO,
	};
	struct rvmig_stream_attr attr = { .size = sizeof(attr) };
	rvmig_stream_parser *p;
	size_t off = 0, out = 0;
	uint8_t step;
	int rc = 0;

	if (size < 2)
		return 0;
	/* First byte: start layer (bits 0-1: xl, libxl, libxc, detected),
	 * go-message flag (bit 6), trailer flag (bit 7); second: chunking; the
	 * rest is the stream. */
	attr.start = starts[data[0] & 3];
	attr.flags = (data[0] & 0x80 ? RVMIG_STREAM_F_ALLOW_TRAILING : 0) |
		     (data[0] & 0x40 ? RVMIG_STREAM_F_ALLOW_XL_GO : 0);
	step = (uint8_t)(data[1] | 1);
	data += 2;
	size -= 2;
	if (rvmig_stream_parser_create(&attr, &p))
		return 0;
	while (off < size && rc >= 0) {
		size_t n = size - off < step ? size - off : step;
		struct rvmig_stream_item it = { .size = sizeof(it) };

		if (rvmig_stream_feed(p, data + off, n) < 0)
			break;
		while ((rc = rvmig_stream_next(p, &it)) == 1) {
			/* The byte-exact invariant. */
			if (it.offset != out || out + it.len > size ||
			    memcmp(it.data, data + out, it.len))
				abort();
			out += it.len;
		}
		off += n;
		step = (uint8_t)(step * 33 + 7) | 1;
	}
	if (rc >= 0)
		rvmig_stream_finish(p);
	/* Detection alone agrees with the parser's. */
	if (attr.start == RVMIG_STREAM_LAYER_AUTO &&
	    rvmig_stream_start_layer(p) != RVMIG_STREAM_LAYER_AUTO) {
		enum rvmig_stream_layer l;

		if (rvmig_stream_detect(data, size, &l) != 1 || l != rvmig_stream_start_layer(p))
			abort();
	}
	(void)rvmig_stream_error(p);
	rvmig_stream_parser_destroy(p);
	return 0;
}
