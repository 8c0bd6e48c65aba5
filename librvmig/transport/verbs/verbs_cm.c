/* SPDX-License-Identifier: MIT */
/*
 * verbs_cm.c - the active side of rdma_cm: connect_link (resolve address
 * and route, create the QP, connect with the hello as private data, wait for
 * ESTABLISHED or REJECTED) and the helpers the listener shares.
 *
 * Connection setup runs on a private event channel so it can block with a
 * timeout without eating events of the endpoint's other links; once
 * established the id is migrated onto the endpoint's channel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "transport/verbs/verbs.h"

/* IB CM reject reasons as reported in a REJECTED event's status. */
#define VB_REJ_INVALID_SERVICE_ID 8
#define VB_REJ_CONSUMER_DEFINED 28

int vb_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

void vb_addr_name(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s->sin_port));
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s->sin6_port));
	} else {
		snprintf(buf, len, "(unknown address)");
	}
}

/*
 * Waits for the next event of `id` on `ch` (non-blocking channel).  Returns 0
 * with *out set when it is `want`, 1 with *out set for any other event of the
 * id (the caller acks it), -ETIMEDOUT or another -errno.  Events of other ids
 * are acked and dropped (private channels carry one id).
 */
int vb_cm_wait(struct rvmig_ctx *ctx, struct rdma_event_channel *ch, struct rdma_cm_id *id,
	       int timeout_ms, enum rdma_cm_event_type want, struct rdma_cm_event **out)
{
	int64_t deadline = tp_now_ms() + timeout_ms;
	struct rdma_cm_event *ev;

	for (;;) {
		struct pollfd pfd = { .fd = ch->fd, .events = POLLIN };
		int64_t left;

		if (!rdma_get_cm_event(ch, &ev)) {
			if (ev->id != id) {
				LOG_DBG(ctx, VB_SUB, "stray rdma_cm event %s dropped",
					rdma_event_str(ev->event));
				rdma_ack_cm_event(ev);
				continue;
			}
			*out = ev;
			return ev->event == want ? 0 : 1;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		left = deadline - tp_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
}

/* Maps an unexpected setup event to an errno value. */
int vb_cm_status_err(const struct rdma_cm_event *ev)
{
	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_ERROR:
		return -EHOSTUNREACH;
	case RDMA_CM_EVENT_ROUTE_ERROR:
		return -ENETUNREACH;
	case RDMA_CM_EVENT_UNREACHABLE:
		return ev->status == -ETIMEDOUT ? -ETIMEDOUT : -EHOSTUNREACH;
	case RDMA_CM_EVENT_REJECTED:
		return -ECONNREFUSED;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		return -ENODEV;
	default:
		return -ECONNABORTED;
	}
}

/* Copies length-prefixed reply/reject private data out; returns its length. */
static size_t vb_reply_copy(const struct rdma_conn_param *p, void *reply, size_t cap)
{
	const uint8_t *d = p->private_data;
	size_t n;

	if (!d || p->private_data_len < VB_REPLY_HDR)
		return 0;
	n = d[0];
	if (n > (size_t)p->private_data_len - VB_REPLY_HDR)
		n = (size_t)p->private_data_len - VB_REPLY_HDR;
	if (n > cap)
		n = cap;
	memcpy(reply, d + VB_REPLY_HDR, n);
	return n;
}

/* Moves a freshly connected id from its setup channel onto the endpoint. */
int vb_link_attach(struct tp_ep *ep, struct rdma_cm_id *id, uint32_t max_inline, uint32_t tag)
{
	int rc;

	if (rdma_migrate_id(id, ep->cm_ch)) {
		rc = -errno;
		LOG_ERR(ep->ctx, VB_SUB, "rdma_migrate_id: %s", strerror(-rc));
		return rc;
	}
	rc = vb_ep_add_link(ep, id, max_inline, tag);
	if (rc < 0)
		LOG_ERR(ep->ctx, VB_SUB, "adding a link: %s", strerror(-rc));
	return rc;
}

static int vb_left(int64_t deadline)
{
	int64_t l = deadline - tp_now_ms();

	return l > 0 ? (int)l : 1;
}

static int vb_step(struct tp_ep *ep, struct rdma_event_channel *ch, struct rdma_cm_id *id,
		   int64_t deadline, enum rdma_cm_event_type want, const char *what,
		   const char *name)
{
	struct rdma_cm_event *ev;
	int rc = vb_cm_wait(ep->ctx, ch, id, vb_left(deadline), want, &ev);

	if (rc == 0) {
		rdma_ack_cm_event(ev);
		return 0;
	}
	if (rc == 1) {
		LOG_ERR(ep->ctx, VB_SUB, "%s of %s failed: %s (status %d)", what, name,
			rdma_event_str(ev->event), ev->status);
		rc = vb_cm_status_err(ev);
		rdma_ack_cm_event(ev);
		return rc;
	}
	LOG_ERR(ep->ctx, VB_SUB, "%s of %s: %s", what, name,
		rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
	return rc;
}

int vb_connect_link(struct tp_ep *ep, const char *host, const char *port, const void *hello,
		    size_t hello_len, void *reply, size_t *reply_len, int timeout_ms)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct rdma_event_channel *ch = NULL;
	struct rdma_cm_id *id = NULL;
	struct addrinfo *ai = NULL;
	struct rdma_conn_param param;
	struct rdma_cm_event *ev;
	uint32_t max_inline = 0, tag = 0;
	char name[VB_NAME_MAX];
	size_t cap = reply_len ? *reply_len : 0;
	int64_t deadline;
	int rc;

	if (!host || !port || hello_len > TP_HELLO_MAX || (hello_len && !hello))
		return -EINVAL;
	if (reply_len)
		*reply_len = 0;
	if (cap > TP_HELLO_MAX)
		cap = TP_HELLO_MAX;
	if (timeout_ms <= 0)
		timeout_ms = (int)ep->cfg.timeout_ms;
	deadline = tp_now_ms() + timeout_ms;
	snprintf(name, sizeof(name), "%s:%s", host, port);

	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		LOG_ERR(ep->ctx, VB_SUB, "cannot resolve %s: %s", name, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	ch = rdma_create_event_channel();
	if (!ch) {
		rc = -errno;
		LOG_ERR(ep->ctx, VB_SUB, "rdma_create_event_channel: %s (is rdma_ucm loaded?)",
			strerror(-rc));
		goto out;
	}
	rc = vb_nonblock(ch->fd);
	if (rc)
		goto out;
	if (rdma_create_id(ch, &id, NULL, RDMA_PS_TCP)) {
		rc = -errno;
		LOG_ERR(ep->ctx, VB_SUB, "rdma_create_id: %s", strerror(-rc));
		goto out;
	}
	if (rdma_resolve_addr(id, NULL, ai->ai_addr, vb_left(deadline))) {
		rc = -errno;
		LOG_ERR(ep->ctx, VB_SUB, "rdma_resolve_addr(%s): %s (no RDMA device with a route "
			"to it?)", name, strerror(-rc));
		goto out;
	}
	rc = vb_step(ep, ch, id, deadline, RDMA_CM_EVENT_ADDR_RESOLVED, "address resolution",
		     name);
	if (rc)
		goto out;
	vb_set_ack_timeout(ep, id, name);
	if (rdma_resolve_route(id, vb_left(deadline))) {
		rc = -errno;
		LOG_ERR(ep->ctx, VB_SUB, "rdma_resolve_route(%s): %s", name, strerror(-rc));
		goto out;
	}
	rc = vb_step(ep, ch, id, deadline, RDMA_CM_EVENT_ROUTE_RESOLVED, "route resolution", name);
	if (rc)
		goto out;
	rc = vb_ep_bind_device(ep, id->verbs);
	if (rc)
		goto out;
	rc = vb_qp_create(ep, id, &max_inline, &tag);
	if (rc)
		goto out;

	vb_conn_param(ep, &param, NULL);
	param.private_data = hello;
	param.private_data_len = (uint8_t)hello_len;
	if (rdma_connect(id, &param)) {
		rc = -errno;
		LOG_ERR(ep->ctx, VB_SUB, "rdma_connect(%s): %s", name, strerror(-rc));
		goto out;
	}
	rc = vb_cm_wait(ep->ctx, ch, id, vb_left(deadline), RDMA_CM_EVENT_ESTABLISHED, &ev);
	if (rc == 0) {
		size_t n = vb_reply_copy(&ev->param.conn, reply, cap);

		if (reply_len)
			*reply_len = n;
		rdma_ack_cm_event(ev);
		rc = vb_link_attach(ep, id, max_inline, tag);
		if (rc >= 0) {
			LOG_DBG(ep->ctx, VB_SUB, "link %d connected to %s on %s (inline %u)", rc,
				name, ibv_get_device_name(ep->verbs->device), max_inline);
			id = NULL; /* owned by the endpoint now */
		}
	} else if (rc == 1 && ev->event == RDMA_CM_EVENT_REJECTED) {
		if (ev->status == VB_REJ_CONSUMER_DEFINED) {
			size_t n = vb_reply_copy(&ev->param.conn, reply, cap);

			if (reply_len)
				*reply_len = n;
			LOG_INFO(ep->ctx, VB_SUB, "%s refused the link (%zu bytes of reason)", name,
				 n);
		} else if (ev->status == VB_REJ_INVALID_SERVICE_ID) {
			LOG_ERR(ep->ctx, VB_SUB, "nobody listens on %s (rdma_cm reject: invalid "
				"service id)", name);
		} else {
			LOG_ERR(ep->ctx, VB_SUB, "connection to %s rejected by the CM (reason %d)",
				name, ev->status);
		}
		rdma_ack_cm_event(ev);
		rc = -ECONNREFUSED;
	} else if (rc == 1) {
		LOG_ERR(ep->ctx, VB_SUB, "connection to %s failed: %s (status %d)", name,
			rdma_event_str(ev->event), ev->status);
		rc = vb_cm_status_err(ev);
		rdma_ack_cm_event(ev);
	} else {
		LOG_ERR(ep->ctx, VB_SUB, "connection to %s: %s", name,
			rc == -ETIMEDOUT ? "no answer within the timeout" : strerror(-rc));
	}
out:
	if (id) {
		ep->npre = 0; /* link_init's RECVs went with the QP */
		if (id->qp)
			rdma_destroy_qp(id);
		rdma_destroy_id(id);
	}
	if (ch)
		rdma_destroy_event_channel(ch);
	if (ai)
		freeaddrinfo(ai);
	return rc;
}
