/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the rvmig-recv resume journal parser
 * (librvmig/xstream/journal.c, journal_parse()). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xstream/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], again[JOURNAL_MAX];
	struct recv_journal j;
	int n;

	if (journal_parse(data, size, &j, why, sizeof(why)))
		return 0;
	/* A journal that is accepted is exactly what the writer writes. */
	n = journal_format(again, sizeof(again), &j);
	if (n < 0 || (size_t)n != size || memcmp(again, data, size))
		abort();
	return 0;
}
