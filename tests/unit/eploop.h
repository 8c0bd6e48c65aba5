/* SPDX-License-Identifier: MIT */
/*
 * eploop - endpoint turns that the stream API tests' receivers make by
 * hand after the stream: a reply that waits out back-pressure, and the
 * wait for the sender to close.  Each is bounded (turns of 50 ms).
 */
#ifndef RVMIG_TESTS_EPLOOP_H
#define RVMIG_TESTS_EPLOOP_H

#include <stdbool.h>
#include <stddef.h>

#include <rvmig.h>

/* rvmig_reply_msg(), tried again after a turn while it says -EAGAIN (100
 * times at most); its last result. */
int eploop_reply(rvmig_ep *ep, const void *msg, size_t len);
/* Turns ep up to `turns` times, releasing whatever arrives, until the peer
 * closes (returns true) or the endpoint fails or the turns run out. */
bool eploop_wait_close(rvmig_ep *ep, int turns);

#endif
