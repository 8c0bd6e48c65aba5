/* SPDX-License-Identifier: MIT */
/* backends.c - every monitor backend the library knows, in one explicit list. */
#include <stddef.h>
#include <string.h>

#include <rvmig/monitor.h>

#include "monitor/backend.h"

/* In order of preference for "auto": on a Xen host's dom0 the domains are
 * Xen's; anywhere else xen's probe fails and linux is chosen. */
const struct mon_backend_ops *const mon_backend_table[] = {
#ifdef RVMIG_HAVE_XENMON
	&mon_backend_xen,
#endif
	&mon_backend_linux,
	NULL,
};

const struct mon_backend_ops *mon_backend_find(const char *name)
{
	for (size_t i = 0; mon_backend_table[i]; i++)
		if (!strcmp(mon_backend_table[i]->name, name))
			return mon_backend_table[i];
	return NULL;
}

RVMIG_API const char *const *rvmig_monitor_backends(void)
{
	static const char *names[sizeof(mon_backend_table) / sizeof(mon_backend_table[0])];

	for (size_t i = 0; mon_backend_table[i]; i++)
		names[i] = mon_backend_table[i]->name;
	return names;
}
