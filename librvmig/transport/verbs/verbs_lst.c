/* SPDX-License-Identifier: MIT */
/*
 * verbs_lst.c - the passive side of rdma_cm: listen, wait for
 * CONNECT_REQUEST (the hello is its private data), accept onto an endpoint's
 * PD/CQ with the reply as private data, or reject with a reason.
 *
 * Requests not yet accepted live on the listener's event channel.  Accepting
 * moves the id to a private channel (to wait for ESTABLISHED without eating
 * other requests), then onto the endpoint's channel.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "transport/verbs/verbs.h"

#define VB_BACKLOG 64

static void vb_req_unlink(struct tp_req *r)
{
	if (!r->prev && r->lst->reqs != r)
		return; /* not on the list */
	if (r->prev)
		r->prev->next = r->next;
	else
		r->lst->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

int vb_listen(struct rvmig_ctx *ctx, const char *host, const char *port, struct tp_lst **out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *ai = NULL;
	struct tp_lst *l;
	int rc;

	if (!out)
		return -EINVAL;
	if (host && (!*host || !strcmp(host, "*")))
		host = NULL;
	if (!host)
		hints.ai_family = AF_INET;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->ctx = ctx;
	snprintf(l->name, sizeof(l->name), "%s:%s", host ? host : "*", port ? port : "0");
	rc = getaddrinfo(host, port ? port : "0", &hints, &ai);
	if (rc) {
		LOG_ERR(ctx, VB_SUB, "cannot resolve listen address %s: %s", l->name,
			gai_strerror(rc));
		free(l);
		return -EADDRNOTAVAIL;
	}
	l->ch = rdma_create_event_channel();
	if (!l->ch) {
		rc = -errno;
		LOG_ERR(ctx, VB_SUB, "rdma_create_event_channel: %s (is rdma_ucm loaded?)",
			strerror(-rc));
		goto fail;
	}
	rc = vb_nonblock(l->ch->fd);
	if (rc)
		goto fail;
	if (rdma_create_id(l->ch, &l->id, l, RDMA_PS_TCP)) {
		rc = -errno;
		LOG_ERR(ctx, VB_SUB, "rdma_create_id: %s", strerror(-rc));
		goto fail;
	}
	if (rdma_bind_addr(l->id, ai->ai_addr)) {
		rc = -errno;
		LOG_ERR(ctx, VB_SUB, "rdma_bind_addr(%s): %s", l->name, strerror(-rc));
		goto fail;
	}
	if (rdma_listen(l->id, VB_BACKLOG)) {
		rc = -errno;
		LOG_ERR(ctx, VB_SUB, "rdma_listen(%s): %s", l->name, strerror(-rc));
		goto fail;
	}
	l->port = ntohs(rdma_get_src_port(l->id));
	snprintf(l->name, sizeof(l->name), "%s:%d", host ? host : "*", l->port);
	LOG_DBG(ctx, VB_SUB, "listening on %s", l->name);
	freeaddrinfo(ai);
	*out = l;
	return 0;
fail:
	freeaddrinfo(ai);
	vb_lst_close(l);
	return rc;
}

int vb_lst_port(struct tp_lst *l)
{
	return l->port;
}

int vb_lst_fd(struct tp_lst *l)
{
	return l->ch->fd;
}

int vb_lst_wait(struct tp_lst *l, int timeout_ms, struct tp_req **req, void *hello,
		size_t *hello_len)
{
	int64_t deadline = tp_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	struct rdma_cm_event *ev;
	struct tp_req *r;
	size_t n;

	for (;;) {
		struct pollfd pfd = { .fd = l->ch->fd, .events = POLLIN };
		int64_t left;

		if (rdma_get_cm_event(l->ch, &ev)) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			/* timeout_ms < 0: wait for ever, as transport.h says. */
			left = timeout_ms < 0 ? -1 : deadline - tp_now_ms();
			if (timeout_ms >= 0 && left <= 0)
				return -ETIMEDOUT;
			if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST)
			break;
		if (ev->event == RDMA_CM_EVENT_DEVICE_REMOVAL && ev->id == l->id) {
			LOG_ERR(l->ctx, VB_SUB, "listener %s: RDMA device removed", l->name);
			rdma_ack_cm_event(ev);
			return -ENODEV;
		}
		/* e.g. a requester that gave up before we accepted it */
		LOG_DBG(l->ctx, VB_SUB, "listener %s: rdma_cm event %s (status %d) ignored",
			l->name, rdma_event_str(ev->event), ev->status);
		rdma_ack_cm_event(ev);
	}

	r = calloc(1, sizeof(*r));
	if (!r) {
		rdma_reject(ev->id, NULL, 0);
		rdma_destroy_id(ev->id);
		rdma_ack_cm_event(ev);
		return -ENOMEM;
	}
	r->lst = l;
	r->id = ev->id;
	r->id->context = NULL;
	r->peer_param = ev->param.conn;
	r->peer_param.private_data = NULL; /* freed with the event */
	vb_addr_name(rdma_get_peer_addr(r->id), r->peer, sizeof(r->peer));
	n = ev->param.conn.private_data_len;
	if (n > TP_HELLO_MAX)
		n = TP_HELLO_MAX;
	if (hello && n)
		memcpy(hello, ev->param.conn.private_data, n);
	if (hello_len)
		*hello_len = n;
	rdma_ack_cm_event(ev);
	r->next = l->reqs;
	if (l->reqs)
		l->reqs->prev = r;
	l->reqs = r;
	LOG_DBG(l->ctx, VB_SUB, "listener %s: link request from %s", l->name, r->peer);
	*req = r;
	return 0;
}

static void vb_req_free(struct tp_req *r)
{
	vb_req_unlink(r);
	if (r->id) {
		if (r->id->qp)
			rdma_destroy_qp(r->id);
		rdma_destroy_id(r->id);
	}
	free(r);
}

int vb_lst_accept(struct tp_req *req, struct tp_ep *ep, const void *reply, size_t reply_len)
{
	struct tp_lst *l = req->lst;
	uint8_t pdata[VB_REPLY_HDR + TP_HELLO_MAX];
	struct rdma_event_channel *ch = NULL;
	struct rdma_conn_param param;
	struct rdma_cm_event *ev;
	uint32_t max_inline = 0, tag = 0;
	int rc;

	if (reply_len > TP_HELLO_MAX || (reply_len && !reply)) {
		rc = -EINVAL;
		goto out;
	}
	rc = vb_ep_bind_device(ep, req->id->verbs);
	if (rc)
		goto out;
	ch = rdma_create_event_channel();
	if (!ch) {
		rc = -errno;
		goto out;
	}
	rc = vb_nonblock(ch->fd);
	if (rc)
		goto out;
	vb_req_unlink(req);
	if (rdma_migrate_id(req->id, ch)) {
		rc = -errno;
		LOG_ERR(l->ctx, VB_SUB, "rdma_migrate_id: %s", strerror(-rc));
		goto out;
	}
	vb_set_ack_timeout(ep, req->id, req->peer);
	rc = vb_qp_create(ep, req->id, &max_inline, &tag);
	if (rc)
		goto out;
	vb_conn_param(ep, &param, &req->peer_param);
	pdata[0] = (uint8_t)reply_len;
	if (reply_len)
		memcpy(pdata + VB_REPLY_HDR, reply, reply_len);
	param.private_data = pdata;
	param.private_data_len = (uint8_t)(VB_REPLY_HDR + reply_len);
	if (rdma_accept(req->id, &param)) {
		rc = -errno;
		LOG_ERR(l->ctx, VB_SUB, "rdma_accept(%s): %s", req->peer, strerror(-rc));
		goto out;
	}
	rc = vb_cm_wait(l->ctx, ch, req->id, (int)ep->cfg.timeout_ms, RDMA_CM_EVENT_ESTABLISHED,
			&ev);
	if (rc == 1) {
		LOG_ERR(l->ctx, VB_SUB, "accepting %s failed: %s (status %d)", req->peer,
			rdma_event_str(ev->event), ev->status);
		rc = vb_cm_status_err(ev);
		rdma_ack_cm_event(ev);
		goto out;
	} else if (rc < 0) {
		LOG_ERR(l->ctx, VB_SUB, "accepting %s: %s", req->peer,
			rc == -ETIMEDOUT ? "no RTU within the timeout" : strerror(-rc));
		goto out;
	}
	rdma_ack_cm_event(ev);
	rc = vb_link_attach(ep, req->id, max_inline, tag);
	if (rc >= 0) {
		LOG_DBG(l->ctx, VB_SUB, "link %d accepted from %s (inline %u)", rc, req->peer,
			max_inline);
		req->id = NULL;
	}
out:
	if (req->id)
		ep->npre = 0; /* link_init's RECVs went with the QP */
	vb_req_free(req);
	if (ch)
		rdma_destroy_event_channel(ch);
	return rc;
}

void vb_lst_reject(struct tp_req *req, const void *reply, size_t reply_len)
{
	uint8_t pdata[VB_REPLY_HDR + TP_HELLO_MAX];

	if (reply_len > TP_HELLO_MAX || !reply)
		reply_len = 0;
	pdata[0] = (uint8_t)reply_len;
	if (reply_len)
		memcpy(pdata + VB_REPLY_HDR, reply, reply_len);
	if (rdma_reject(req->id, pdata, (uint8_t)(VB_REPLY_HDR + reply_len)))
		LOG_WARN(req->lst->ctx, VB_SUB, "rdma_reject(%s): %s", req->peer, strerror(errno));
	vb_req_free(req);
}

/* Requests still pending are rejected (without a reason) and freed. */
void vb_lst_close(struct tp_lst *l)
{
	if (!l)
		return;
	while (l->reqs)
		vb_req_free(l->reqs);
	if (l->id)
		rdma_destroy_id(l->id);
	if (l->ch)
		rdma_destroy_event_channel(l->ch);
	free(l);
}
