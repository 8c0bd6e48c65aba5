/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the transfer-file parser the monitor runs on whatever
 * is in the run directory (librvmig/publish/record.c).  The input is the
 * file, exactly as long as it is (ASan sees any read past it).  Invariants:
 * what is accepted has bounded, terminated, printable strings and at most
 * XREC_MAX_TRANSFERS transfers, and formats back into text that parses to
 * the same figures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "publish/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xrec_file f, g;
	const char *why;
	unsigned line;
	char *buf;
	size_t cap, len;

	if (xrec_parse((const char *)data, size, &f, &why, &line))
		return 0;
	if (f.n > XREC_MAX_TRANSFERS || (f.n && !f.x))
		abort();
	check_str(f.tool, XREC_TOOL_MAX);
	for (size_t i = 0; i < f.n; i++) {
		check_str(f.x[i].peer, XREC_PEER_MAX);
		check_str(f.x[i].transport, XREC_TRANSPORT_MAX);
		check_str(f.x[i].mode, XREC_MODE_MAX);
		if (f.x[i].state < 0 || f.x[i].state > 3)
			abort();
	}
	cap = 512 + f.n * XREC_BLOCK_MAX;
	buf = malloc(cap);
	if (!buf)
		abort();
	len = xrec_format(buf, cap, &f, f.x, f.n);
	if (!len || xrec_parse(buf, len, &g, &why, &line))
		abort();
	if (g.n != f.n || g.pid != f.pid || strcmp(g.tool, f.tool))
		abort();
	for (size_t i = 0; i < f.n; i++)
		if (g.x[i].processed != f.x[i].processed || strcmp(g.x[i].peer, f.x[i].peer))
			abort();
	xrec_file_free(&g);
	xrec_file_free(&f);
	free(buf);
	return 0;
}
