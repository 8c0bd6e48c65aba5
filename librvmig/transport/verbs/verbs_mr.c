/* SPDX-License-Identifier: MIT */
/*
 * verbs_mr.c - memory registration on the endpoint's PD.
 *
 * Registration before the first link is allowed when the host has exactly
 * one RDMA device (the endpoint is then bound to it and later links must
 * resolve to it); with several devices the first link must come first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/log.h"
#include "transport/verbs/verbs.h"

static int vb_bind_only_device(struct tp_ep *ep)
{
	struct ibv_context **devs;
	int n = 0, rc;

	devs = rdma_get_devices(&n);
	if (!devs || n == 0) {
		LOG_ERR(ep->ctx, VB_SUB, "no RDMA device found (rdma link show; modprobe rdma_rxe?)");
		rc = -ENODEV;
	} else if (n > 1) {
		LOG_ERR(ep->ctx, VB_SUB, "%d RDMA devices: connect the first link before "
			"registering memory so the device is known", n);
		rc = -EINVAL;
	} else {
		rc = vb_ep_bind_device(ep, devs[0]);
	}
	if (devs)
		rdma_free_devices(devs);
	return rc;
}

static int vb_memlock_err(struct tp_ep *ep, void *addr, size_t len, int e)
{
	struct rlimit rl;

	if ((e == ENOMEM || e == EPERM || e == EAGAIN) && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY) {
		LOG_ERR(ep->ctx, VB_SUB,
			"cannot register %zu bytes at %p: %s; RLIMIT_MEMLOCK is %llu bytes and "
			"this endpoint needs at least %zu (%zu already registered); raise "
			"`ulimit -l` (or LimitMEMLOCK= in the service unit)", len, addr,
			strerror(e), (unsigned long long)rl.rlim_cur, ep->mr_bytes + len,
			ep->mr_bytes);
		return -RVMIG_EMEMLOCK;
	}
	LOG_ERR(ep->ctx, VB_SUB, "ibv_reg_mr(%zu bytes at %p): %s", len, addr, strerror(e));
	return -e;
}

int vb_reg_mr(struct tp_ep *ep, void *addr, size_t len, unsigned access, struct tp_mr *out)
{
	int flags = 0;
	struct vb_mr *m;
	int rc;

	if (!addr || !len || !out ||
	    (access & ~(unsigned)(TP_ACCESS_REMOTE_READ | TP_ACCESS_REMOTE_WRITE |
				  TP_ACCESS_LOCAL_WRITE)))
		return -EINVAL;
	/* Local write only where the HCA writes: a source region may be a
	 * read-only mapping (an mmap'ed checkpoint file). */
	if (access & (TP_ACCESS_LOCAL_WRITE | TP_ACCESS_REMOTE_WRITE))
		flags |= IBV_ACCESS_LOCAL_WRITE;
	if (!ep->pd) {
		rc = vb_bind_only_device(ep);
		if (rc)
			return rc;
	}
	if (access & TP_ACCESS_REMOTE_READ)
		flags |= IBV_ACCESS_REMOTE_READ;
	if (access & TP_ACCESS_REMOTE_WRITE)
		flags |= IBV_ACCESS_REMOTE_WRITE;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->mr = ibv_reg_mr(ep->pd, addr, len, flags);
	if (!m->mr) {
		rc = vb_memlock_err(ep, addr, len, errno);
		free(m);
		return rc;
	}
	m->next = ep->mrs;
	if (ep->mrs)
		ep->mrs->prev = m;
	ep->mrs = m;
	ep->mr_bytes += len;
	out->addr = addr;
	out->len = len;
	out->lkey = m->mr->lkey;
	out->rkey = m->mr->rkey;
	out->priv = m;
	return 0;
}

static void vb_mr_unlink(struct tp_ep *ep, struct vb_mr *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		ep->mrs = m->next;
	if (m->next)
		m->next->prev = m->prev;
	ep->mr_bytes -= m->mr->length;
}

int vb_dereg_mr(struct tp_ep *ep, struct tp_mr *mr)
{
	struct vb_mr *m;
	int rc;

	if (!mr || !mr->priv)
		return -EINVAL;
	m = mr->priv;
	vb_mr_unlink(ep, m);
	rc = ibv_dereg_mr(m->mr);
	if (rc)
		LOG_ERR(ep->ctx, VB_SUB, "ibv_dereg_mr(%zu bytes at %p): %s", mr->len, mr->addr,
			strerror(rc));
	free(m);
	mr->priv = NULL;
	return rc ? -rc : 0;
}

void vb_mr_release_all(struct tp_ep *ep)
{
	while (ep->mrs) {
		struct vb_mr *m = ep->mrs;

		LOG_WARN(ep->ctx, VB_SUB, "region of %zu bytes at %p still registered at "
			 "endpoint destruction; released", m->mr->length, m->mr->addr);
		vb_mr_unlink(ep, m);
		ibv_dereg_mr(m->mr);
		free(m);
	}
}
