/* SPDX-License-Identifier: MIT */
/*
 * gen_stream - writes a Xen save stream (xl header, libxl v2, libxc v3, x86
 * PV, PAGE_DATA records with zero, sparse and random pages) made by
 * tests/unit/streamgen, for the end-to-end tests of rvmig-send/rvmig-recv.
 *
 *   gen_stream OUT MIB [SEED] [--corrupt]
 *
 * MIB is the guest size (pages: MIB * 256).  With --corrupt, the pfn[0]
 * entry of the PAGE_DATA record in the middle of the stream gets reserved
 * bits set; the record's offset is printed on stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamgen.h"

int main(int argc, char **argv)
{
	struct streamgen_opts o = { .guest_type = RVMIG_GUEST_X86_PV, .libxc_version = 3,
				    .batch = 1024 };
	struct streamgen_buf b = { 0 };
	struct streamgen_expect e;
	bool corrupt = argc > 4 && !strcmp(argv[4], "--corrupt");
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: gen_stream OUT MIB [SEED] [--corrupt]\n");
		return 2;
	}
	o.nr_pfns = (uint32_t)strtoul(argv[2], NULL, 0) * 256;
	o.seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
	if (streamgen_build(&o, &b, &e)) {
		fprintf(stderr, "gen_stream: out of memory\n");
		return 1;
	}
	if (corrupt) {
		const struct streamgen_rec *r, *mid = NULL;
		size_t n = 0, from = 0;

		/* count the PAGE_DATA records, then take the middle one */
		while ((r = streamgen_find(&e, RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA,
					   from))) {
			from = (size_t)(r - e.recs) + 1;
			n++;
		}
		from = 0;
		for (size_t k = 0; k <= n / 2 && n; k++) {
			mid = streamgen_find(&e, RVMIG_STREAM_LAYER_LIBXC, RVMIG_LIBXC_REC_PAGE_DATA,
					     from);
			from = (size_t)(mid - e.recs) + 1;
		}
		if (!mid) {
			fprintf(stderr, "gen_stream: no PAGE_DATA record to corrupt\n");
			return 1;
		}
		/* record header (8) + count, reserved (8): pfn[0]; byte 6 holds bits 48-55 */
		b.data[mid->offset + 16 + 6] |= 0xf0;
		printf("%llu\n", (unsigned long long)mid->offset);
	}
	f = fopen(argv[1], "wb");
	if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f)) {
		fprintf(stderr, "gen_stream: cannot write %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fprintf(stderr, "gen_stream: %s: %zu bytes, %llu pages (%llu zero)\n", argv[1], b.len,
		(unsigned long long)e.pages, (unsigned long long)e.zero_pages);
	streamgen_expect_free(&e);
	streamgen_buf_free(&b);
	return 0;
}
