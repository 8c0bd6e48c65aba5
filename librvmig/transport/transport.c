/* SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "transport/transport.h"

/* Every transport the library knows, in one explicit list. */
const struct rvmig_tp_ops *const rvmig_tp_table[] = {
	&rvmig_tp_tcp,
#ifdef RVMIG_HAVE_VERBS
	&rvmig_tp_verbs,
#endif
	NULL,
};

int64_t tp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const struct rvmig_tp_ops *rvmig_tp_find(const char *scheme)
{
	for (size_t i = 0; rvmig_tp_table[i]; i++)
		if (!strcmp(rvmig_tp_table[i]->name, scheme))
			return rvmig_tp_table[i];
	return NULL;
}

RVMIG_API const char *const *rvmig_transports(void)
{
	static const char *names[sizeof(rvmig_tp_table) / sizeof(rvmig_tp_table[0])];

	for (size_t i = 0; rvmig_tp_table[i]; i++)
		names[i] = rvmig_tp_table[i]->name;
	return names;
}
