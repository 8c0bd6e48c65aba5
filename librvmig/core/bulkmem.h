/* SPDX-License-Identifier: MIT */
#ifndef RVMIG_CORE_BULKMEM_H
#define RVMIG_CORE_BULKMEM_H

#include <stddef.h>

/*
 * Memory for bulk data that is written once per transfer and reused (the
 * receive ring): page-aligned; from 2 MiB on, 2 MiB-aligned, rounded up to
 * whole 2 MiB and advised for transparent huge pages (MADV_HUGEPAGE; a
 * kernel without them, or with them off, gives small pages as before).
 * The first touch of each small page is a page fault, several microseconds
 * each under a hypervisor that shadows page tables: a 16 MiB ring took
 * 48 ms of faults in 4 KiB pages and ~1.3 ms in huge pages on the build
 * host.  Free with free().  NULL when out of memory.
 */
void *bulkmem_alloc(size_t len);

#endif
