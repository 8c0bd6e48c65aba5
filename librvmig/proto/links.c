/* SPDX-License-Identifier: MIT */
/*
 * links.c - the client's links: every handshake in flight at once when the
 * transport can (connect_links), otherwise one link after the other; each
 * reply checked the same way, and a failure named by link and peer.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "proto/ep.h"

/* Link i's outcome: the transport's rc (< 0: failed) and the peer's reply
 * to our hello `tmpl`.  0, or the error, logged. */
static int link_outcome(struct rvmig_ep *ep, const char *uri, const struct wire_hello *tmpl,
			uint32_t i, int rc, struct wire_hello *r, size_t rlen)
{
	if (rc == -ECONNREFUSED && !wire_hello_dec(r, rlen) && r->kind == HELLO_REJECT) {
		rc = r->status > 0 ? -r->status : -ECONNREFUSED;
		if (rc == -RVMIG_ECONNLIMIT)
			LOG_ERR(ep->ctx, "proto", "%s refused the connection: %s (limit %u)", uri,
				rvmig_strerror(rc), r->caps);
		else if (rc == -RVMIG_EPROTO_VERSION)
			LOG_ERR(ep->ctx, "proto", "%s refused the connection: %s (peer speaks version "
				"%u, we %u)", uri, rvmig_strerror(rc), r->version, tmpl->version);
		else
			LOG_ERR(ep->ctx, "proto", "%s refused link %u: %s", uri, i, rvmig_strerror(rc));
		return rc;
	}
	if (rc < 0) {
		LOG_ERR(ep->ctx, "proto", "connecting link %u to %s failed: %s", i, uri,
			rvmig_strerror(rc));
		return rc;
	}
	rc = wire_hello_dec(r, rlen);
	if (!rc && (r->kind != HELLO_ACCEPT || r->session != ep->session))
		rc = -RVMIG_EBADMSG;
	if (rc)
		LOG_ERR(ep->ctx, "proto", "bad handshake reply from %s (link %u)", uri, i);
	return rc;
}

static void hello_for(struct wire_hello *h, const struct wire_hello *tmpl, uint32_t i)
{
	*h = *tmpl;
	h->link_idx = (uint8_t)i;
	wire_hello_enc(h);
}

static int links_one_by_one(struct rvmig_ep *ep, const char *host, const char *port,
			    const char *uri, const struct wire_hello *tmpl, int timeout_ms,
			    uint32_t pause_ms)
{
	for (uint32_t i = 0; i < ep->nlinks; i++) {
		struct wire_hello h, r;
		size_t rlen = sizeof(r);
		int rc;

		hello_for(&h, tmpl, i);
		memset(&r, 0, sizeof(r));
		rc = ep->tp->connect_link(ep->tep, host, port, &h, sizeof(h), &r, &rlen, timeout_ms);
		rc = link_outcome(ep, uri, tmpl, i, rc, &r, rlen);
		if (rc)
			return rc;
		/* The peer answered: its silence is counted from here, not from
		 * before the links, which may take a timeout each. */
		ep->last_rx_ns = ep->last_tx_ns = ep_now_ns();
		if (pause_ms && i + 1 < ep->nlinks)
			nanosleep(&(struct timespec){ .tv_sec = pause_ms / 1000,
						      .tv_nsec = (long)(pause_ms % 1000) * 1000000L },
				  NULL);
	}
	return 0;
}

static int links_at_once(struct rvmig_ep *ep, const char *host, const char *port,
			 const char *uri, const struct wire_hello *tmpl, int timeout_ms)
{
	struct wire_hello h[EP_MAX_LINKS], r[EP_MAX_LINKS];
	size_t rlen[EP_MAX_LINKS];
	uint32_t bad = 0;
	int rc;

	for (uint32_t i = 0; i < ep->nlinks; i++)
		hello_for(&h[i], tmpl, i);
	memset(r, 0, sizeof(r));
	rc = ep->tp->connect_links(ep->tep, host, port, ep->nlinks, h, sizeof(h[0]), r,
				   sizeof(r[0]), rlen, timeout_ms, &bad);
	if (rc < 0) {
		if (bad >= ep->nlinks)
			bad = 0;
		return link_outcome(ep, uri, tmpl, bad, rc, &r[bad], rlen[bad]);
	}
	for (uint32_t i = 0; i < ep->nlinks; i++) {
		rc = link_outcome(ep, uri, tmpl, i, 0, &r[i], rlen[i]);
		if (rc)
			return rc;
	}
	ep->last_rx_ns = ep->last_tx_ns = ep_now_ns(); /* the peer answered */
	return 0;
}

int links_connect(struct rvmig_ep *ep, const char *host, const char *port, const char *uri,
		  const struct wire_hello *tmpl, int timeout_ms, uint32_t pause_ms)
{
	if (ep->nlinks > EP_MAX_LINKS)
		return -EINVAL;
	if (ep->tp->connect_links && !pause_ms)
		return links_at_once(ep, host, port, uri, tmpl, timeout_ms);
	return links_one_by_one(ep, host, port, uri, tmpl, timeout_ms, pause_ms);
}
