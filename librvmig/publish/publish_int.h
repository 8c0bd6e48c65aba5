/* SPDX-License-Identifier: MIT */
/*
 * publish_int.h - what the endpoint code tells a published transfer
 * (internal): an endpoint attached with rvmig_pubxfer_set_endpoint() points
 * back at its transfer (rvmig_ep.pub).
 */
#ifndef RVMIG_PUBLISH_INT_H
#define RVMIG_PUBLISH_INT_H

struct rvmig_pubxfer;

/* rvmig_progress() ran on the transfer's endpoint: the counters are written
 * if the publisher's interval has passed, so a transfer whose stream pauses
 * still shows its last figures within that interval. */
void pubxfer_tick(struct rvmig_pubxfer *x);
/* rvmig_ep_close() of the transfer's endpoint: as set_endpoint(NULL). */
void pubxfer_ep_closed(struct rvmig_pubxfer *x);

#endif
