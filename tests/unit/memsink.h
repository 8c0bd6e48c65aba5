/* SPDX-License-Identifier: MIT */
/*
 * memsink - a receiver's byte sink (struct rvmig_xrecv_sink) into one
 * bounded memory buffer: the rebuilt stream the tests compare.  A write
 * or zero run past `cap` fails with -ENOSPC and stores nothing.
 */
#ifndef RVMIG_TESTS_MEMSINK_H
#define RVMIG_TESTS_MEMSINK_H

#include <stddef.h>
#include <stdint.h>

#include <rvmig/xstream.h>

struct memsink {
	uint8_t *buf;
	size_t len, cap;
};

/* A buffer of cap bytes (0 or -ENOMEM); memsink_free() frees it. */
int memsink_init(struct memsink *m, size_t cap);
void memsink_free(struct memsink *m);
/* The sink callbacks (arg: the struct memsink). */
int memsink_write(void *arg, const void *data, size_t len);
int memsink_zero(void *arg, uint64_t len);
/* A sink named "the test buffer" writing into m. */
struct rvmig_xrecv_sink memsink_sink(struct memsink *m);

#endif
