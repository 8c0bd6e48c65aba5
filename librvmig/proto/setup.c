/* SPDX-License-Identifier: MIT */
/*
 * setup.c - endpoint creation: URI to transport, the versioned handshake,
 * grouping of a session's links on the listener, the receiver's ring, and
 * clean shutdown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/uri.h"
#include "proto/ep.h"
#include "proto/testhooks.h"
#include "publish/publish_int.h"

#define MAX_LINKS EP_MAX_LINKS

/*
 * Peers in their handshake.  A session waits here from its first link's
 * hello until it is handed out by rvmig_accept(): while its links come
 * (PEND_LINKS), then, with a psk, while its answer to the CHALLENGE is
 * awaited (PEND_AUTH).  Nothing here ever waits for a peer: the endpoints
 * of PEND_AUTH sessions are in the listener's epoll set and driven without
 * blocking, and each step has its own deadline (auth_timeout_ms).  A
 * refused peer (wrong key, limit reached meanwhile) stays a moment longer
 * (PEND_REFUSING) so that the ERROR telling it why can leave.  These
 * sessions do not count against max_conns; their links are bounded by
 * PENDING_LINKS_MAX.
 */
#define PENDING_LINKS_MAX 64
#define REFUSE_LINGER_MS 500 /* for a refused peer's ERROR to leave */

enum pend_state { PEND_LINKS, PEND_AUTH, PEND_REFUSING };
#define PENDING_POLL_MS 100
#define ACCEPT_BATCH 64 /* link requests handled per round of rvmig_accept() */

struct pending_session {
	struct pending_session *next;
	struct rvmig_ep *ep;
	enum pend_state state;
	uint32_t links_up;
	bool watched;         /* ep fd in the listener's epoll set */
	uint64_t deadline_ns; /* of the current step */
};

/* The live-endpoint count of a listener, shared with the endpoints it
 * accepted (they may outlive it): freed when the listener is closed and the
 * last of them is gone. */
struct conn_count {
	uint32_t live;
	bool lst_open;
};

struct rvmig_listener {
	struct rvmig_ctx *ctx;
	const struct rvmig_tp_ops *tp;
	struct tp_lst *tl;
	struct rvmig_ep_attr attr;
	struct pending_session *pending;
	uint32_t pending_links; /* links of the pending sessions */
	struct conn_count *cc;
	/* rvmig_listener_fd(): the transport's listener fd, the timer and the
	 * fds of PEND_AUTH / PEND_REFUSING endpoints */
	int epfd;
	int timerfd; /* expires at the earliest pending deadline */
	/* The next session's receive ring, allocated and faulted in ahead:
	 * when listening and again whenever rvmig_accept() is about to sleep,
	 * so that filling it (16 MiB: 4-6 ms at load 11-14; bench/README.md,
	 * issue 19) is not between a client's last link and its READY.  NULL:
	 * none ready. */
	uint8_t *spare_ring;
};

/* A REJECT hello carries its reason in `status` (positive RVMIG_E* or
 * errno) and, for RVMIG_ECONNLIMIT, the listener's limit in `caps` (caps
 * means nothing else in a REJECT). */

static void conn_put(struct rvmig_ep *ep)
{
	struct conn_count *cc = ep->conns;

	if (!cc)
		return;
	ep->conns = NULL;
	cc->live--;
	if (!cc->live && !cc->lst_open)
		free(cc);
}

#define ATTR_FIELD(a, f) ((a) && (a)->size >= offsetof(struct rvmig_ep_attr, f) + sizeof((a)->f) \
			  && (a)->f)

static void attr_resolve(struct rvmig_ep_attr *d, const struct rvmig_ep_attr *s)
{
	*d = (struct rvmig_ep_attr){
		.size = sizeof(*d), .mode = RVMIG_MODE_PUSH, .nlinks = 4, .slot_size = 1u << 20,
		.nslots = 16, .window = 8u << 20, .max_posted = 4096, .reg_chunk = 4u << 20,
		.reg_cache = 64u << 20, .timeout_ms = 10000,
	};
	if (ATTR_FIELD(s, mode)) d->mode = s->mode;
	if (ATTR_FIELD(s, flags)) d->flags = s->flags;
	if (ATTR_FIELD(s, nlinks)) d->nlinks = s->nlinks;
	if (ATTR_FIELD(s, slot_size)) d->slot_size = s->slot_size;
	if (ATTR_FIELD(s, nslots)) d->nslots = s->nslots;
	if (ATTR_FIELD(s, window)) d->window = s->window;
	if (ATTR_FIELD(s, max_posted)) d->max_posted = s->max_posted;
	if (ATTR_FIELD(s, reg_chunk)) d->reg_chunk = s->reg_chunk;
	if (ATTR_FIELD(s, reg_cache)) d->reg_cache = s->reg_cache;
	if (ATTR_FIELD(s, timeout_ms)) d->timeout_ms = s->timeout_ms;
	if (ATTR_FIELD(s, psk)) {
		d->psk = s->psk;
		d->psk_len = s->psk_len;
	}
	d->max_conns = RVMIG_MAX_CONNS_DEFAULT;
	if (ATTR_FIELD(s, max_conns)) d->max_conns = s->max_conns;
	d->auth_timeout_ms = RVMIG_AUTH_TIMEOUT_DEFAULT;
	if (ATTR_FIELD(s, auth_timeout_ms)) d->auth_timeout_ms = s->auth_timeout_ms;
}

static int attr_check(struct rvmig_ctx *ctx, const struct rvmig_ep_attr *a)
{
	const char *bad = NULL;

	if (a->mode != RVMIG_MODE_PUSH && a->mode != RVMIG_MODE_PULL)
		bad = "mode";
	else if (a->nlinks > MAX_LINKS)
		bad = "nlinks (at most 16)";
	else if (a->slot_size > (64u << 20) || a->slot_size < 4096 || a->slot_size % 4096)
		bad = "slot_size (4 KiB .. 64 MiB, a multiple of 4 KiB)";
	else if (a->nslots > 65536)
		bad = "nslots (at most 65536)";
	else if (a->reg_chunk < a->slot_size)
		bad = "reg_chunk (must be >= slot_size)";
	else if (a->psk && (a->psk_len < 16 || a->psk_len > 256))
		bad = "psk_len (16 .. 256 bytes)";
	if (bad) {
		LOG_ERR(ctx, "proto", "invalid endpoint attribute: %s", bad);
		return -EINVAL;
	}
	return 0;
}

static int transport_for(struct rvmig_ctx *ctx, const char *uri, struct rvmig_uri *u,
			 const struct rvmig_tp_ops **tp)
{
	if (uri_parse(uri, u)) {
		LOG_ERR(ctx, "proto", "bad URI '%s': expected verbs://HOST:PORT or tcp://HOST:PORT",
			uri ? uri : "(null)");
		return -EINVAL;
	}
	*tp = rvmig_tp_find(u->scheme);
	if (!*tp) {
		LOG_ERR(ctx, "proto", "transport '%s' (in '%s') is not built into this library",
			u->scheme, uri);
		return -RVMIG_ENOTRANSPORT;
	}
	return 0;
}

static struct rvmig_ep *ep_new(struct rvmig_ctx *ctx, const struct rvmig_tp_ops *tp,
			       const struct rvmig_ep_attr *attr, uint32_t nlinks, bool receiver)
{
	struct rvmig_ep *ep = calloc(1, sizeof(*ep));

	if (!ep)
		return NULL;
	ep->ctx = ctx;
	ep->tp = tp;
	ep->attr = *attr;
	if (attr->psk) {
		/* Keep our own copy: the caller's buffer may go away. */
		memcpy(ep->psk, attr->psk, attr->psk_len);
		ep->attr.psk = ep->psk;
	}
	ep->mode = attr->mode;
	ep->crc = !receiver && (attr->flags & RVMIG_EP_CHECKSUM);
	ep->nlinks = nlinks;
	ep->is_receiver = receiver;
	ep->max_chunks = EP_MAX_CHUNKS;
	ep->rx_cap = 1024;
	ep->chunks = calloc(ep->max_chunks, sizeof(*ep->chunks));
	ep->reqs = calloc(attr->max_posted, sizeof(*ep->reqs));
	ep->rx = receiver ? calloc(ep->rx_cap, sizeof(*ep->rx)) : NULL;
	if (!ep->chunks || !ep->reqs || (receiver && !ep->rx) || ep_setup_buffers(ep)) {
		ep_free(ep);
		return NULL;
	}
	ep->last_rx_ns = ep->last_tx_ns = ep_now_ns();
	return ep;
}

static int tp_ep_make(struct rvmig_ep *ep)
{
	struct tp_ep_cfg cfg = {
		.sq_depth = EP_SQ_DEPTH, .rq_depth = EP_CTRL_CREDITS, .max_rd_atomic = 16,
		.timeout_ms = ep->attr.timeout_ms, .link_init = ep_link_init, .link_init_arg = ep,
	};

	return ep->tp->ep_create(ep->ctx, &cfg, &ep->tep);
}

static void hello_fill(struct wire_hello *h, uint8_t kind, const struct rvmig_ep *ep)
{
	memset(h, 0, sizeof(*h));
	h->magic = WIRE_MAGIC;
	h->version = proto_wire_version();
	h->kind = kind;
	h->mode = (uint8_t)ep->mode;
	h->caps = WIRE_CAP_PUSH | WIRE_CAP_PULL | (ep->crc ? WIRE_CAP_CRC : 0);
	h->nlinks = (uint8_t)ep->nlinks;
	h->ctrl_credits = EP_CTRL_CREDITS;
	h->session = ep->session;
	h->timeout_ms = ep->attr.timeout_ms;
}

/* ---- connecting side: the client ---- */

RVMIG_API int rvmig_connect(rvmig_ctx *ctx, const char *uri, const struct rvmig_ep_attr *attr,
			    rvmig_ep **out)
{
	const struct rvmig_tp_ops *tp;
	struct rvmig_ep_attr a;
	struct rvmig_uri u;
	struct rvmig_ep *ep;
	struct cpu_mark cm;
	uint64_t deadline;
	int rc;

	if (!ctx || !out)
		return -EINVAL;
	attr_resolve(&a, attr);
	rc = attr_check(ctx, &a);
	if (!rc)
		rc = transport_for(ctx, uri, &u, &tp);
	if (rc)
		return rc;
	ep = ep_new(ctx, tp, &a, a.nlinks, false);
	if (!ep)
		return -ENOMEM;
	stats_cpu_enter(&cm);
	snprintf(ep->peer, sizeof(ep->peer), "%s", uri);
	if (getrandom(&ep->session, sizeof(ep->session), 0) != sizeof(ep->session))
		ep->session = ep_now_ns();
	rc = tp_ep_make(ep);
	if (!rc) {
		struct wire_hello h;

		hello_fill(&h, HELLO_REQ, ep);
		rc = links_connect(ep, u.host, u.port, uri, &h, (int)a.timeout_ms,
				   proto_link_pause_ms());
	}
	if (!rc)
		snprintf(ep->peer, sizeof(ep->peer), "%s (%s)", uri, tp->peer_name(ep->tep));
	/* The receiver describes its ring in READY before any data moves. */
	deadline = ep_now_ns() + (uint64_t)a.timeout_ms * 1000000ull;
	while (!rc && !ep->ready) {
		rc = ep_drive(ep, 100);
		if (rc > 0)
			rc = 0;
		if (!rc && !ep->ready && ep_now_ns() > deadline) {
			LOG_ERR(ctx, "proto", "%s accepted but sent no READY within %u ms", uri,
				a.timeout_ms);
			rc = -RVMIG_ETIMEDOUT;
		}
	}
	stats_cpu_leave(ep, &cm);
	if (rc < 0) {
		ep_free(ep);
		return rc;
	}
	*out = ep;
	return 0;
}

/* ---- listening side: the receiver ---- */

/* The listener's pollable fd: an epoll set of the transport's listener fd,
 * a timer for the handshake deadlines, and (added later) the endpoints of
 * peers being authenticated. */
static int listener_fds(struct rvmig_listener *l)
{
	struct epoll_event ev = { .events = EPOLLIN };

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->epfd < 0 || l->timerfd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tp->lst_fd(l->tl), &ev) ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->timerfd, &ev)) {
		int rc = -errno;

		LOG_ERR(l->ctx, "proto", "cannot set up the listener's epoll set: %s",
			rvmig_strerror(rc));
		return rc;
	}
	return 0;
}

static size_t ring_bytes(const struct rvmig_ep_attr *a)
{
	return (size_t)a->nslots * a->slot_size;
}

/* Makes the listener's spare ring if it has none and a session could take
 * it (best effort: without one, the session makes its own). */
static void spare_fill(struct rvmig_listener *l)
{
	if (!l->spare_ring && l->cc->live < l->attr.max_conns)
		l->spare_ring = ring_alloc(ring_bytes(&l->attr));
}

RVMIG_API int rvmig_listen(rvmig_ctx *ctx, const char *uri, const struct rvmig_ep_attr *attr,
			   rvmig_listener **out)
{
	struct rvmig_listener *l;
	struct rvmig_uri u;
	int rc;

	if (!ctx || !out)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->ctx = ctx;
	l->cc = calloc(1, sizeof(*l->cc));
	if (!l->cc) {
		free(l);
		return -ENOMEM;
	}
	l->cc->lst_open = true;
	l->epfd = l->timerfd = -1;
	attr_resolve(&l->attr, attr);
	rc = attr_check(ctx, &l->attr);
	if (!rc)
		rc = transport_for(ctx, uri, &u, &l->tp);
	if (!rc)
		spare_fill(l); /* before anyone can connect */
	if (!rc)
		rc = l->tp->listen(ctx, u.host, u.port, &l->tl);
	if (!rc && l->tp->lst_set_wait)
		/* A hello is the first step of a handshake: same deadline. */
		l->tp->lst_set_wait(l->tl, l->attr.auth_timeout_ms > INT32_MAX
						   ? INT32_MAX : (int)l->attr.auth_timeout_ms);
	if (!rc)
		rc = listener_fds(l);
	if (rc) {
		if (l->tl)
			l->tp->lst_close(l->tl);
		if (l->epfd >= 0)
			close(l->epfd);
		if (l->timerfd >= 0)
			close(l->timerfd);
		free(l->spare_ring);
		free(l->cc);
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

RVMIG_API int rvmig_listener_port(rvmig_listener *l)
{
	return l ? l->tp->lst_port(l->tl) : -EINVAL;
}

RVMIG_API int rvmig_listener_fd(rvmig_listener *l)
{
	return l ? l->epfd : -EINVAL;
}

RVMIG_API uint32_t rvmig_listener_conns(const rvmig_listener *l)
{
	return l ? l->cc->live : 0;
}

/* The handshake is complete: the ring is registered (the first memory the
 * peer can reach) and described in READY.  `ring`: memory made for it
 * ahead (the listener's spare, now the endpoint's), or NULL. */
static int receiver_ready(struct rvmig_ep *ep, uint8_t *ring)
{
	size_t bytes = (size_t)ep->nslots * ep->slot_size;
	struct wire_ready m = { .h.type = MSG_READY };
	int rc;

	ep->ring = ring ? ring : ring_alloc(bytes);
	ep->free_slots = malloc(sizeof(uint32_t) * ep->nslots);
	if (!ep->ring || !ep->free_slots)
		return -ENOMEM;
	rc = ep->tp->reg_mr(ep->tep, ep->ring, bytes,
			    ep->mode == RVMIG_MODE_PUSH ? TP_ACCESS_REMOTE_WRITE : TP_ACCESS_LOCAL_WRITE,
			    &ep->ring_mr);
	if (rc) {
		LOG_ERR(ep->ctx, "proto", "cannot register the %zu-byte receive ring: %s", bytes,
			rvmig_strerror(rc));
		return rc;
	}
	ep->ring_mr_ok = true;
	ep->stats[RVMIG_STAT_REG_COUNT]++;
	ep->stats[RVMIG_STAT_REG_BYTES] += bytes;
	for (uint32_t i = 0; i < ep->nslots; i++)
		ep->free_slots[i] = ep->nslots - 1 - i;
	ep->nfree_slots = ep->mode == RVMIG_MODE_PULL ? ep->nslots : 0;
	m.ring_addr = (uintptr_t)ep->ring;
	m.ring_rkey = ep->ring_mr.rkey;
	m.nslots = ep->nslots;
	m.slot_size = ep->slot_size;
	m.max_announce = ep->nslots * 2;
	if (ep->attr.psk) {
		m.flags |= READY_AUTHENTICATED;
		auth_server_proof(ep, m.proof);
	}
	ep->ready = true;
	rc = ep_send_ctrl(ep, 0, &m, sizeof(m), false);
	return rc < 0 ? rc : 0;
}

static bool sends_idle(struct rvmig_ep *ep)
{
	for (uint32_t i = 0; i < ep->nlinks; i++)
		if (ep->links[i].sq_used)
			return false;
	return true;
}

static uint64_t ms_ns(uint32_t ms)
{
	return (uint64_t)ms * 1000000ull;
}

static void reject(struct rvmig_listener *l, struct tp_req *req, int status, uint16_t version)
{
	struct wire_hello r;

	memset(&r, 0, sizeof(r));
	r.magic = WIRE_MAGIC;
	r.version = version;
	r.kind = HELLO_REJECT;
	r.status = status;
	if (status == RVMIG_ECONNLIMIT)
		r.caps = l->attr.max_conns;
	wire_hello_enc(&r);
	l->tp->lst_reject(req, &r, sizeof(r));
}

/* ---- peers in their handshake ---- */

/* Adds the session's endpoint to the listener's epoll set (once). */
static int pending_watch(struct rvmig_listener *l, struct pending_session *s)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (s->watched)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, s->ep->tp->ep_fd(s->ep->tep), &ev))
		return -errno;
	s->watched = true;
	return 0;
}

/* Takes the session off the list and returns its endpoint. */
static struct rvmig_ep *pending_unlink(struct rvmig_listener *l, struct pending_session *s)
{
	struct rvmig_ep *ep = s->ep;

	for (struct pending_session **pp = &l->pending; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->watched)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, ep->tp->ep_fd(ep->tep), NULL);
	l->pending_links -= s->links_up;
	free(s);
	return ep;
}

/* Drops the session without waiting for its peer. */
static void pending_drop(struct rvmig_listener *l, struct pending_session *s)
{
	struct rvmig_ep *ep = pending_unlink(l, s);

	ep->no_linger = true;
	ep_free(ep);
}

/* Tells the peer why it is refused; the session is dropped once the ERROR
 * has left (pending_progress) or REFUSE_LINGER_MS passed. */
static void pending_refuse(struct rvmig_listener *l, struct pending_session *s, int code,
			   const char *text)
{
	struct wire_error m = { .h.type = MSG_ERROR, .code = code };

	snprintf(m.text, sizeof(m.text), "%s", text);
	if (s->ep->error || ep_send_ctrl(s->ep, 0, &m, sizeof(m), true) < 0 ||
	    pending_watch(l, s)) {
		pending_drop(l, s);
		return;
	}
	s->state = PEND_REFUSING;
	s->deadline_ns = ep_now_ns() + ms_ns(REFUSE_LINGER_MS);
}

/* The handshake is complete: the endpoint takes a place and gets its ring
 * (the first memory the peer can reach: with a psk, registered only now
 * that the client's proof checked out).  Returns it, or NULL when it was
 * refused. */
static struct rvmig_ep *pending_complete(struct rvmig_listener *l, struct pending_session *s)
{
	struct rvmig_ep *ep = s->ep;
	uint8_t *ring = NULL;

	if (l->cc->live >= l->attr.max_conns) {
		char text[64];

		log_refusal(l->ctx, "proto", "refusing %s (session %016llx): too many connections "
			    "(limit %u)", ep->peer, (unsigned long long)ep->session, l->attr.max_conns);
		snprintf(text, sizeof(text), "too many connections (limit %u)", l->attr.max_conns);
		pending_refuse(l, s, RVMIG_ECONNLIMIT, text);
		return NULL;
	}
	/* The endpoint's ring size is the listener's (accept_one); the spare
	 * is the endpoint's from here, freed with it. */
	if (ring_bytes(&ep->attr) == ring_bytes(&l->attr)) {
		ring = l->spare_ring;
		l->spare_ring = NULL;
	}
	if (receiver_ready(ep, ring)) {
		pending_drop(l, s);
		return NULL;
	}
	pending_unlink(l, s);
	ep->quiet_fail = false; /* its failures are its user's to hear of now */
	ep->conns = l->cc;
	l->cc->live++;
	return ep;
}

/* Drives the endpoints of peers being authenticated or refused, never
 * waiting.  Returns an endpoint whose handshake is complete, or NULL. */
static struct rvmig_ep *pending_progress(struct rvmig_listener *l)
{
	for (struct pending_session *s = l->pending, *n; s; s = n) {
		struct rvmig_ep *ep = s->ep;

		n = s->next;
		if (s->state == PEND_LINKS)
			continue;
		ep_drive(ep, 0);
		if (!ep->error) {
			/* What comes after this makes the listener fd readable. */
			ep->tp->arm(ep->tep);
			ep_drive(ep, 0);
		}
		if (s->state == PEND_REFUSING) {
			if (ep->error || sends_idle(ep))
				pending_drop(l, s);
			continue;
		}
		if (ep->error) {
			log_refusal(l->ctx, "auth", "refusing client %s: %s (%s)", ep->peer,
				    rvmig_strerror(ep->error), ep->errmsg);
			pending_drop(l, s);
		} else if (ep->auth_state < 0) {
			log_refusal(l->ctx, "auth", "refusing client %s: %s", ep->peer,
				    rvmig_strerror(-RVMIG_EAUTH));
			pending_refuse(l, s, RVMIG_EAUTH, "authentication failed");
		} else if (ep->auth_state == 2) {
			ep = pending_complete(l, s);
			if (ep)
				return ep;
		}
	}
	return NULL;
}

/* Drops the sessions whose current step took longer than allowed. */
static void pending_expire(struct rvmig_listener *l)
{
	uint64_t now = ep_now_ns();

	for (struct pending_session *s = l->pending, *n; s; s = n) {
		struct rvmig_ep *ep = s->ep;

		n = s->next;
		if (now < s->deadline_ns)
			continue;
		if (s->state == PEND_LINKS) {
			log_refusal(l->ctx, "proto", "dropping session %016llx from %s: only %u of %u "
				    "links came (each must come within %u ms)",
				    (unsigned long long)ep->session, ep->peer, s->links_up, ep->nlinks,
				    l->attr.auth_timeout_ms);
		} else if (s->state == PEND_AUTH) {
			struct wire_error m = { .h.type = MSG_ERROR, .code = RVMIG_EAUTH };

			log_refusal(l->ctx, "auth", "refusing client %s: no answer to the challenge "
				    "within %u ms", ep->peer, l->attr.auth_timeout_ms);
			snprintf(m.text, sizeof(m.text), "no answer to the challenge within %u ms",
				 l->attr.auth_timeout_ms);
			if (!ep->error)
				ep_send_ctrl(ep, 0, &m, sizeof(m), true); /* best effort */
		}
		pending_drop(l, s);
	}
}

/* At most PENDING_LINKS_MAX links are kept for peers in their handshake:
 * the one (other than `keep`) nearest to its deadline, i.e. idle the
 * longest since its last step, makes room.  Clients that are setting up
 * their links advance every round trip; peers that stopped are the ones
 * that go. */
static void pending_make_room(struct rvmig_listener *l, const struct pending_session *keep)
{
	while (l->pending_links >= PENDING_LINKS_MAX) {
		struct pending_session *old = NULL;

		for (struct pending_session *s = l->pending; s; s = s->next)
			if (s != keep && (!old || s->deadline_ns < old->deadline_ns))
				old = s;
		if (!old)
			return;
		log_refusal(l->ctx, "proto", "dropping %s (session %016llx): idle in its handshake "
			    "while %u links of peers in their handshake are kept (at most %u)",
			    old->ep->peer, (unsigned long long)old->ep->session, l->pending_links,
			    PENDING_LINKS_MAX);
		pending_drop(l, old);
	}
}

/* The timer fd expires at the earliest deadline of the pending sessions
 * and of the transport's peers whose request is not whole yet (TCP hellos),
 * disarmed when there is none; setting it clears a past expiry.  Without
 * the transport's deadlines, a peer that sent half a hello and stopped was
 * only dropped when something else woke a server polling the listener fd. */
static void timer_arm(struct rvmig_listener *l)
{
	struct itimerspec its = { 0 };
	uint64_t next = log_refusal_flush(l->ctx, false); /* the summary of refusals held back */

	if (!next)
		next = UINT64_MAX;
	if (l->tp->lst_deadline) {
		int64_t t = l->tp->lst_deadline(l->tl);

		if (t != INT64_MAX && (uint64_t)(t < 0 ? 0 : t) * 1000000ull < next)
			next = (uint64_t)(t < 0 ? 0 : t) * 1000000ull;
	}
	for (struct pending_session *s = l->pending; s; s = s->next) {
		if (s->deadline_ns < next)
			next = s->deadline_ns;
		/* Peers exchanging messages are also polled every
		 * PENDING_POLL_MS: a transport's completion notification can
		 * be missed (seen over verbs in the Xen VM: rvmigd, waking
		 * only on the listener fd, dropped a client whose answer to
		 * the challenge had arrived), and polling costs nothing while
		 * no peer is in its handshake. */
		if (s->state != PEND_LINKS && ep_now_ns() + ms_ns(PENDING_POLL_MS) < next)
			next = ep_now_ns() + ms_ns(PENDING_POLL_MS);
	}
	if (next != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(next / 1000000000ull);
		its.it_value.tv_nsec = (long)(next % 1000000000ull);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Handles one link request.  Sets *done to an endpoint whose handshake is
 * complete (a listener without a psk, last link).  Returns 0 or an error. */
static int accept_one(struct rvmig_listener *l, struct tp_req *req, struct wire_hello *h,
		      size_t hlen, struct rvmig_ep **done)
{
	struct pending_session *s;
	struct wire_hello r;
	int li;

	if (wire_hello_dec(h, hlen) || h->kind != HELLO_REQ) {
		log_refusal(l->ctx, "proto", "refusing a link: malformed hello (%zu bytes)", hlen);
		reject(l, req, RVMIG_EBADMSG, proto_wire_version());
		return 0;
	}
	if (h->version != proto_wire_version()) {
		log_refusal(l->ctx, "proto", "refusing a peer speaking protocol version %u (we speak "
			    "%u)", h->version, proto_wire_version());
		reject(l, req, RVMIG_EPROTO_VERSION, proto_wire_version());
		return 0;
	}
	if ((h->mode != RVMIG_MODE_PUSH && h->mode != RVMIG_MODE_PULL) || !h->nlinks ||
	    h->nlinks > MAX_LINKS || h->link_idx >= h->nlinks ||
	    h->ctrl_credits != EP_CTRL_CREDITS) {
		log_refusal(l->ctx, "proto", "refusing a link: mode %u, link %u of %u, %u credits",
			    h->mode, h->link_idx, h->nlinks, h->ctrl_credits);
		reject(l, req, EINVAL, proto_wire_version());
		return 0;
	}
	for (s = l->pending; s && s->ep->session != h->session; s = s->next)
		;
	if (s && (s->state != PEND_LINKS || h->nlinks != s->ep->nlinks)) {
		log_refusal(l->ctx, "proto", "refusing link %u of %u of session %016llx: %s",
			    h->link_idx, h->nlinks, (unsigned long long)h->session,
			    s->state != PEND_LINKS ? "all its links are up"
						   : "it announced another count");
		reject(l, req, EINVAL, proto_wire_version());
		return 0;
	}
	if (!s && l->cc->live >= l->attr.max_conns) {
		log_refusal(l->ctx, "proto", "refusing a peer (session %016llx): too many "
			    "connections (limit %u)", (unsigned long long)h->session,
			    l->attr.max_conns);
		reject(l, req, RVMIG_ECONNLIMIT, proto_wire_version());
		return 0;
	}
	pending_make_room(l, s);
	if (!s) {
		struct rvmig_ep_attr a = l->attr;
		int rc;

		a.mode = h->mode;
		if (h->timeout_ms && h->timeout_ms < a.timeout_ms)
			a.timeout_ms = h->timeout_ms;
		s = calloc(1, sizeof(*s));
		if (!s) {
			reject(l, req, ENOMEM, proto_wire_version());
			return -ENOMEM;
		}
		s->ep = ep_new(l->ctx, l->tp, &a, h->nlinks, true);
		if (s->ep)
			s->ep->quiet_fail = true; /* refusals are logged here */
		rc = s->ep ? tp_ep_make(s->ep) : -ENOMEM;
		if (rc) {
			if (s->ep)
				ep_free(s->ep);
			free(s);
			reject(l, req, -rc, proto_wire_version());
			return rc;
		}
		s->ep->session = h->session;
		s->ep->crc = h->caps & WIRE_CAP_CRC;
		s->ep->nslots = a.nslots;
		s->ep->slot_size = a.slot_size;
		s->state = PEND_LINKS;
		s->next = l->pending;
		l->pending = s;
	}
	hello_fill(&r, HELLO_ACCEPT, s->ep);
	r.link_idx = h->link_idx;
	wire_hello_enc(&r);
	li = l->tp->lst_accept(req, s->ep->tep, &r, sizeof(r));
	if (li < 0) {
		log_refusal(l->ctx, "proto", "accepting link %u of session %016llx failed: %s",
			    h->link_idx, (unsigned long long)h->session, rvmig_strerror(li));
		pending_drop(l, s);
		return 0;
	}
	s->links_up++;
	l->pending_links++;
	s->ep->last_rx_ns = s->ep->last_tx_ns = ep_now_ns(); /* heard from the peer */
	s->deadline_ns = ep_now_ns() + ms_ns(l->attr.auth_timeout_ms);
	snprintf(s->ep->peer, sizeof(s->ep->peer), "%s", l->tp->peer_name(s->ep->tep));
	if (s->links_up < s->ep->nlinks)
		return 0;
	if (!s->ep->attr.psk) {
		*done = pending_complete(l, s);
		return 0;
	}
	/* All links are up: challenge the client.  Its answer is awaited with
	 * the listener's other work (pending_progress), never here. */
	s->ep->auth_state = 1;
	li = auth_challenge(s->ep);
	if (!li)
		li = pending_watch(l, s);
	if (li) {
		log_refusal(l->ctx, "auth", "cannot challenge client %s: %s", s->ep->peer,
			    rvmig_strerror(li));
		pending_drop(l, s);
		return 0;
	}
	s->state = PEND_AUTH;
	return 0;
}

RVMIG_API int rvmig_accept(rvmig_listener *l, int timeout_ms, rvmig_ep **out)
{
	uint64_t deadline = ep_now_ns() + ms_ns(timeout_ms < 0 ? 0 : (uint32_t)timeout_ms);
	int rc;

	if (!l || !out)
		return -EINVAL;
	for (;;) {
		uint8_t hello[TP_HELLO_MAX];
		size_t hlen;
		struct epoll_event evs[8];
		struct rvmig_ep *ep = NULL;
		struct tp_req *req;
		uint64_t ticks, now;
		ssize_t n;
		int wait;

		n = read(l->timerfd, &ticks, sizeof(ticks)); /* clears a past expiry */
		(void)n;
		pending_expire(l);
		ep = pending_progress(l);
		if (ep) {
			*out = ep;
			rc = 0;
			break;
		}
		/* The hellos already waiting, up to ACCEPT_BATCH of them.  One
		 * per call left the others a round of the caller's loop each:
		 * in the soak, under 50 hostile clients on a loaded host, the
		 * transport's set of 64 waiting peers overflowed and links of
		 * legitimate tunnels were dropped with their hello unread. */
		for (unsigned k = 0;;) {
			hlen = sizeof(hello);
			rc = l->tp->lst_wait(l->tl, 0, &req, hello, &hlen);
			if (rc)
				break;
			rc = accept_one(l, req, (struct wire_hello *)hello, hlen, &ep);
			if (rc || ep || ++k == ACCEPT_BATCH)
				break;
		}
		if (ep) {
			*out = ep;
			break;
		}
		if (rc && rc != -ETIMEDOUT && rc != -EAGAIN)
			break;
		now = ep_now_ns();
		if (timeout_ms >= 0 && now >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		if (!rc)
			continue; /* a whole batch was handled: more may be waiting */
		/* Sleep until a request, a message from a peer in its handshake
		 * or a deadline (ours and the transport's: timer_arm); at most
		 * 1 s. */
		wait = 1000;
		if (timeout_ms >= 0 && (deadline - now) / 1000000 < 1000)
			wait = (int)((deadline - now + 999999) / 1000000);
		spare_fill(l); /* while there is nothing else to do */
		timer_arm(l);
		if (epoll_wait(l->epfd, evs, 8, wait) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
	}
	timer_arm(l);
	return rc;
}

RVMIG_API void rvmig_listener_close(rvmig_listener *l)
{
	if (!l)
		return;
	while (l->pending)
		pending_drop(l, l->pending);
	l->tp->lst_close(l->tl);
	log_refusal_flush(l->ctx, true);
	close(l->epfd);
	close(l->timerfd);
	free(l->spare_ring);
	l->cc->lst_open = false;
	if (!l->cc->live)
		free(l->cc);
	free(l);
}

/* ---- shutdown ---- */

RVMIG_API void rvmig_ep_close(rvmig_ep *ep)
{
	uint64_t deadline;

	if (!ep)
		return;
	if (ep->pub)
		pubxfer_ep_closed(ep->pub);
	deadline = ep_now_ns() + (uint64_t)ep->attr.timeout_ms * 1000000ull;
	if (!ep->error && !ep->bye_sent) {
		if (ep->is_receiver) {
			ep->want_bye = true; /* makes recv_run send our BYE */
		} else if (ep->ready) {
			struct rvmig_event ev;

			if (!client_bye(ep))
				while (!ep->error && !ep->bye_recv && ep_now_ns() < deadline) {
					ep_drive(ep, 100);
					while (rvmig_event_next(ep, &ev) > 0)
						;
				}
		}
	}
	/* Let queued control messages (our BYE) leave before the links go. */
	while (!ep->error && ep_now_ns() < deadline &&
	       ((ep->want_bye && !ep->bye_sent) || !sends_idle(ep)))
		ep_drive(ep, 10);
	conn_put(ep);
	ep_free(ep);
}
