/* SPDX-License-Identifier: MIT */
/* eploop.c - see eploop.h. */
#include <errno.h>

#include "eploop.h"

#define TURN_MS 50

int eploop_reply(rvmig_ep *ep, const void *msg, size_t len)
{
	int rc = -EAGAIN;

	for (int tries = 0; tries < 100 && rc == -EAGAIN; tries++)
		if ((rc = rvmig_reply_msg(ep, msg, len)) == -EAGAIN)
			rvmig_progress(ep, TURN_MS);
	return rc;
}

bool eploop_wait_close(rvmig_ep *ep, int turns)
{
	for (int i = 0; i < turns; i++) {
		struct rvmig_event ev;

		if (rvmig_progress(ep, TURN_MS) < 0)
			return false;
		while (rvmig_event_next(ep, &ev) > 0) {
			if (ev.type == RVMIG_EV_PEER_CLOSED)
				return true;
			if (ev.type == RVMIG_EV_RECV_DATA || ev.type == RVMIG_EV_RECV_MSG)
				rvmig_recv_release(ep, ev.token);
		}
	}
	return false;
}
