/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: rvmig-policy's decoder of Prometheus query API answers
 * (tools/policy/prom_decode.c).  Invariants: a refusal leaves nothing kept
 * and says why; an accepted answer respects every limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct prom_limits lim = { 1 << 16, 64, 64, 8, 64 };
	struct prom_result r;
	char err[256];
	int rc;

	err[0] = '\0';
	rc = prom_decode((const char *)data, size, &lim, &r, err, sizeof(err));
	if (rc < 0) {
		if (r.nseries || r.series || !err[0])
			abort();
		return 0;
	}
	if (r.nseries > lim.max_series || (r.type != PROM_VECTOR && r.type != PROM_MATRIX &&
					   r.type != PROM_SCALAR))
		abort();
	for (size_t i = 0; i < r.nseries; i++) {
		const struct prom_series *s = &r.series[i];

		if (s->nlabels > lim.max_labels || s->npoints > lim.max_points ||
		    (r.type != PROM_MATRIX && s->npoints != 1))
			abort();
		for (unsigned j = 0; j < s->nlabels; j++)
			if (strlen(s->labels[j].name) > lim.max_string ||
			    strlen(s->labels[j].value) > lim.max_string)
				abort();
	}
	prom_result_free(&r);
	return 0;
}
