/* SPDX-License-Identifier: MIT */
/*
 * publish_int.h - what the endpoint code tells a published transfer
 * (internal): an endpoint attached with rvmig_pubxfer_set_endpoint() points
 * back at its transfer (rvmig_ep.pub).
 */
#ifndef RVMIG_PUBLISH_INT_H
#define RVMIG_PUBLISH_INT_H

struct rvmig_pubxfer;

/* rvmig_progress() ran on the transfer's endpoint: its counters are stored
 * for the publisher's thread, which writes them when its interval has
 * passed, so a transfer whose stream pauses still shows its last figures
 * (and a rate that falls) within that interval.  No lock, no system call. */
void pubxfer_tick(struct rvmig_pubxfer *x);
/* rvmig_ep_close() of the transfer's endpoint: as set_endpoint(NULL). */
void pubxfer_ep_closed(struct rvmig_pubxfer *x);

/* Waits until what the calls so far changed or fed is in the file (the
 * tests' readiness signal; the tools never wait for the file).  0, or
 * -ETIMEDOUT after timeout_ms. */
struct rvmig_publisher;
int pub_settle(struct rvmig_publisher *p, int timeout_ms);

#endif
