/* SPDX-License-Identifier: MIT */
/* memsink.c - see memsink.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memsink.h"

int memsink_init(struct memsink *m, size_t cap)
{
	m->len = 0;
	m->cap = cap;
	m->buf = malloc(cap ? cap : 1);
	return m->buf ? 0 : -ENOMEM;
}

void memsink_free(struct memsink *m)
{
	free(m->buf);
	m->buf = NULL;
	m->len = m->cap = 0;
}

int memsink_write(void *arg, const void *data, size_t len)
{
	struct memsink *m = arg;

	if (len > m->cap - m->len)
		return -ENOSPC;
	memcpy(m->buf + m->len, data, len);
	m->len += len;
	return 0;
}

int memsink_zero(void *arg, uint64_t len)
{
	struct memsink *m = arg;

	if (len > m->cap - m->len)
		return -ENOSPC;
	memset(m->buf + m->len, 0, (size_t)len);
	m->len += (size_t)len;
	return 0;
}

struct rvmig_xrecv_sink memsink_sink(struct memsink *m)
{
	return (struct rvmig_xrecv_sink){ memsink_write, memsink_zero, m, "the test buffer" };
}
