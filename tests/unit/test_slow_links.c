/* SPDX-License-Identifier: MIT */
/*
 * A connection whose links take long to come up (rdma_cm's address and
 * route resolution under load take seconds each; every link has its own
 * timeout_ms for it) is not failed for "peer silence" at its first turn:
 * the silence is counted from the last link's handshake, not from before the
 * first.  White-box (the static library's link-pause hook, testhooks.h),
 * over real TCP on loopback: three links, 1.2 s apart, with a 2 s peer
 * timeout; both ends must then exchange a message and close cleanly.
 * (Before the fix the client's wait for READY failed with "nothing heard
 * from the peer for 2000 ms" and the receiver's first turn did the same:
 * xen.save_restore_verbs's one failure.)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rvmig.h>

#include "proto/testhooks.h"

#define TIMEOUT_MS 2000
#define PAUSE_MS 1200
#define NLINKS 3

struct server {
	rvmig_listener *l;
	int rc;            /* first error, 0 */
	char why[256];
	bool got_msg;
};

static void *serve(void *arg)
{
	struct server *sv = arg;
	struct rvmig_event ev;
	rvmig_ep *ep = NULL;
	int rc = rvmig_accept(sv->l, 60000, &ep);

	if (rc) {
		sv->rc = rc;
		snprintf(sv->why, sizeof(sv->why), "accept: %s", rvmig_strerror(rc));
		return NULL;
	}
	/* Drives until the client's message and its close (bounded). */
	for (int turns = 0; turns < 300; turns++) {
		rc = rvmig_progress(ep, 100);
		if (rc < 0) {
			sv->rc = rc;
			snprintf(sv->why, sizeof(sv->why), "%s", rvmig_ep_error(ep));
			break;
		}
		while (rvmig_event_next(ep, &ev) == 1) {
			if (ev.type == RVMIG_EV_RECV_MSG) {
				sv->got_msg = ev.len == 5 && !memcmp(ev.data, "hello", 5);
				rvmig_recv_release(ep, ev.token);
			} else if (ev.type == RVMIG_EV_RECV_DATA) {
				rvmig_recv_release(ep, ev.token);
			}
			if (ev.type == RVMIG_EV_PEER_CLOSED)
				turns = 300;
		}
	}
	rvmig_ep_close(ep);
	return NULL;
}

Test(slow_links, silence_counts_from_the_last_link_not_the_first)
{
	struct rvmig_ep_attr a = { .size = sizeof(a), .nlinks = NLINKS, .timeout_ms = TIMEOUT_MS };
	struct server sv = { 0 };
	struct rvmig_event ev;
	rvmig_ctx *ctx;
	rvmig_ep *ep;
	pthread_t th;
	char uri[64];
	bool done = false;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(rvmig_ctx_create(NULL, &ctx), 0);
	cr_assert_eq(rvmig_listen(ctx, "tcp://127.0.0.1:0", &a, &sv.l), 0);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", rvmig_listener_port(sv.l));
	cr_assert_eq(pthread_create(&th, NULL, serve, &sv), 0);

	proto_test_link_pause_ms = PAUSE_MS; /* links up 1.2 s apart: 2.4 s > 2 s */
	rc = rvmig_connect(ctx, uri, &a, &ep);
	proto_test_link_pause_ms = 0;
	cr_assert_eq(rc, 0, "connect with slow links failed: %s", rvmig_strerror(rc));
	cr_assert_eq(rvmig_client_send_msg(ep, "hello", 5, 0, 7), 0);
	for (int turns = 0; turns < 100 && !done; turns++) {
		rc = rvmig_progress(ep, 100);
		cr_assert_geq(rc, 0, "client failed after connecting: %s", rvmig_ep_error(ep));
		while (rvmig_event_next(ep, &ev) == 1)
			if (ev.type == RVMIG_EV_SEND_DONE && ev.cookie == 7)
				done = !ev.status;
	}
	cr_assert(done, "the message was not delivered");
	rvmig_ep_close(ep);
	pthread_join(th, NULL);
	cr_assert_eq(sv.rc, 0, "receiver failed: %s", sv.why);
	cr_assert(sv.got_msg, "the receiver did not get the message");
	rvmig_listener_close(sv.l);
	rvmig_ctx_destroy(ctx);
}
