/* SPDX-License-Identifier: MIT */
/*
 * mon_state.h - the state rvmig-policy decides on, from this host's
 * monitor (rvmig_monitor(3)) as it runs: one host, named as given, with its
 * CPUs; per domain its CPU, run / blocked / waiting shares and memory over
 * the interval since the previous sample.  The linux backend watches the
 * cgroups and processes given (kind "cgroup", named by the path given, id
 * the directory's inode; kind "process", named by its comm, id the pid);
 * the xen backend lists every domain itself (kind "domain", id the domid).
 */
#ifndef RVMIG_TOOLS_POLICY_MON_STATE_H
#define RVMIG_TOOLS_POLICY_MON_STATE_H

#include <stddef.h>

#include "policy/observe.h"

#define POL_MON_MAX_WATCH 256

typedef struct pol_mon pol_mon;

/* backend "linux" or "xen"; watch: "cgroup:PATH" or "pid:N" specs (linux
 * only).  Takes a first sample (no rates yet).  0 or -errno with err set. */
int pol_mon_open(const char *backend, const char *host, const char *const *watch, size_t n,
		 pol_mon **out, char *err, size_t errlen);
/* Samples once: *st (free with pol_state_free()) at Unix time now.
 * 0 or -errno with err set. */
int pol_mon_state(pol_mon *m, struct pol_state *st, char *err, size_t errlen);
void pol_mon_close(pol_mon *m);

#endif
