/* SPDX-License-Identifier: MIT */
/*
 * xrecv.h - the receiver of rvmig/xstream.h inside the library: the rebuild
 * (rebuild.h) with its own copies of the names it prints, the attr's pump
 * callbacks and the state of its event pump (rpump.c).
 */
#ifndef RVMIG_XSTREAM_XRECV_H
#define RVMIG_XSTREAM_XRECV_H

#include <rvmig/xstream.h>

#include "xstream/rebuild.h"

#define XRECV_NAME_MAX 256

struct rvmig_xrecv {
	struct rebuild rb;
	struct rvmig_xrecv_attr attr; /* sink and peer point at the copies below */
	char peer[XRECV_NAME_MAX];
	char sink_name[XRECV_NAME_MAX];
	uint64_t end_pages, end_zero_pages; /* what a matching END said */

	/* the pump (rpump.c) */
	rvmig_ep *ep;                 /* attached endpoint, not owned */
	bool drain;                   /* release every event unseen */
	/* Event buffers held until the digest has passed them
	 * (RVMIG_XSTREAM_F_DEFER_RELEASE): a ring of (token, stream offset
	 * after it). */
	struct xrecv_held { uint64_t token, end; } *held;
	size_t held_head, held_n, held_cap;
};

#endif
