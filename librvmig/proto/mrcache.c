/* SPDX-License-Identifier: MIT */
/*
 * mrcache.c - memory registration: pin-all regions, or on-demand pieces of
 * reg_chunk bytes registered when a chunk first touches them and kept in a
 * cache bounded by reg_cache bytes (least recently used idle pieces are
 * deregistered first).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "core/log.h"
#include "proto/ep.h"

static unsigned tp_access(unsigned access)
{
	unsigned a = TP_ACCESS_LOCAL;

	if (access & RVMIG_MR_REMOTE_READ)
		a |= TP_ACCESS_REMOTE_READ;
	if (access & RVMIG_MR_REMOTE_WRITE)
		a |= TP_ACCESS_REMOTE_WRITE;
	return a;
}

static void memlock_hint(struct rvmig_ep *ep, uint64_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		LOG_ERR(ep->ctx, "proto",
			"registering %llu more bytes (%llu pinned) exceeds RLIMIT_MEMLOCK of %llu bytes: "
			"raise it to at least %llu (ulimit -l %llu, or memlock in limits.conf)",
			(unsigned long long)need, (unsigned long long)ep->pinned_bytes,
			(unsigned long long)rl.rlim_cur,
			(unsigned long long)(ep->pinned_bytes + need),
			(unsigned long long)((ep->pinned_bytes + need + 1023) / 1024));
}

static int piece_reg(struct rvmig_mr *mr, uint32_t i)
{
	struct rvmig_ep *ep = mr->ep;
	struct mr_piece *p = &mr->pieces[i];
	uint64_t off = (uint64_t)i * mr->piece_len;
	uint64_t len = mr->len - off < mr->piece_len ? mr->len - off : mr->piece_len;
	uint64_t t0 = ep_now_ns();
	int rc;

	rc = ep->tp->reg_mr(ep->tep, mr->addr + off, len, tp_access(mr->access), &p->tmr);
	if (rc) {
		if (rc == -RVMIG_EMEMLOCK || rc == -ENOMEM || rc == -EPERM) {
			memlock_hint(ep, len);
			if (rc != -RVMIG_EMEMLOCK)
				rc = -RVMIG_EMEMLOCK;
		}
		return rc;
	}
	p->reg = true;
	ep->pinned_bytes += len;
	ep->stats[RVMIG_STAT_REG_COUNT]++;
	ep->stats[RVMIG_STAT_REG_BYTES] += len;
	ep->stats[RVMIG_STAT_REG_NSEC] += ep_now_ns() - t0;
	return 0;
}

static void piece_dereg(struct rvmig_mr *mr, uint32_t i)
{
	struct rvmig_ep *ep = mr->ep;
	struct mr_piece *p = &mr->pieces[i];

	if (!p->reg)
		return;
	ep->tp->dereg_mr(ep->tep, &p->tmr);
	p->reg = false;
	ep->pinned_bytes -= p->tmr.len;
	ep->stats[RVMIG_STAT_DEREG_COUNT]++;
}

/* Frees cache room by deregistering idle pieces, oldest first. */
static bool evict_for(struct rvmig_ep *ep, uint64_t need)
{
	while (ep->pinned_bytes + need > ep->attr.reg_cache) {
		struct rvmig_mr *vm = NULL;
		uint32_t vi = 0;
		uint64_t best = UINT64_MAX;

		for (struct rvmig_mr *m = ep->mrs; m; m = m->next) {
			if (m->pin_all)
				continue;
			for (uint32_t i = 0; i < m->npieces; i++) {
				struct mr_piece *p = &m->pieces[i];

				if (p->reg && !p->refs && p->lru < best) {
					best = p->lru;
					vm = m;
					vi = i;
				}
			}
		}
		if (!vm)
			return false;
		piece_dereg(vm, vi);
	}
	return true;
}

int mr_piece_get(struct rvmig_mr *mr, uint64_t off, uint32_t *piece)
{
	struct rvmig_ep *ep = mr->ep;
	uint32_t i = mr->pin_all ? 0 : (uint32_t)(off / mr->piece_len);
	struct mr_piece *p = &mr->pieces[i];

	if (!p->reg) {
		uint64_t len = mr->len - (uint64_t)i * mr->piece_len;

		if (len > mr->piece_len)
			len = mr->piece_len;
		if (!evict_for(ep, len) && ep->pinned_bytes) {
			/* Every cached piece is in flight: wait for completions. */
			return -EAGAIN;
		}
		int rc = piece_reg(mr, i);

		if (rc) {
			ep_fail(ep, rc, "registering %llu bytes of memory", (unsigned long long)len);
			return rc;
		}
	}
	p->refs++;
	p->lru = ++ep->lru_tick;
	*piece = i;
	return 0;
}

void mr_piece_put(struct rvmig_mr *mr, uint32_t piece)
{
	if (piece < mr->npieces && mr->pieces[piece].refs)
		mr->pieces[piece].refs--;
}

uint64_t mr_chunk_limit(const struct rvmig_mr *mr, uint64_t off)
{
	if (mr->pin_all)
		return mr->len - off;
	return mr->piece_len - off % mr->piece_len;
}

int mr_register(struct rvmig_ep *ep, void *addr, size_t len, unsigned access, struct rvmig_mr **out)
{
	struct rvmig_mr *mr;
	int rc;

	if (!ep || !addr || !len || !out)
		return -EINVAL;
	mr = calloc(1, sizeof(*mr));
	if (!mr)
		return -ENOMEM;
	mr->ep = ep;
	mr->addr = addr;
	mr->len = len;
	mr->access = access;
	mr->pin_all = ep->attr.flags & RVMIG_EP_PIN_ALL;
	mr->piece_len = mr->pin_all ? len : ep->attr.reg_chunk;
	mr->npieces = mr->pin_all ? 1 : (uint32_t)((len + mr->piece_len - 1) / mr->piece_len);
	mr->pieces = calloc(mr->npieces, sizeof(*mr->pieces));
	if (!mr->pieces) {
		free(mr);
		return -ENOMEM;
	}
	if (mr->pin_all) {
		rc = piece_reg(mr, 0);
		if (rc) {
			LOG_ERR(ep->ctx, "proto", "cannot pin %zu bytes for %s: %s", len, ep->peer,
				rvmig_strerror(rc));
			free(mr->pieces);
			free(mr);
			return rc;
		}
	}
	mr->next = ep->mrs;
	ep->mrs = mr;
	*out = mr;
	return 0;
}

/* Whether a posted request not yet wholly handed to the transport reads mr. */
static bool mr_queued(const struct rvmig_mr *mr)
{
	const struct rvmig_ep *ep = mr->ep;

	for (uint32_t i = 0; i < ep->q_count; i++) {
		const struct post_item *it = &ep->q[(ep->q_head + i) % ep->q_cap];

		if (it->kind == ITEM_BULK && it->mr == mr)
			return true;
	}
	return false;
}

static void mr_free(struct rvmig_mr *mr)
{
	struct rvmig_ep *ep = mr->ep;

	for (struct rvmig_mr **pp = &ep->mrs; *pp; pp = &(*pp)->next) {
		if (*pp == mr) {
			*pp = mr->next;
			break;
		}
	}
	for (uint32_t i = 0; i < mr->npieces; i++)
		piece_dereg(mr, i);
	free(mr->pieces);
	free(mr);
}

int mr_deregister(struct rvmig_mr *mr)
{
	if (!mr)
		return -EINVAL;
	/* A chunk in flight, or a request still queued, reads it later. */
	if (mr->busy || mr_queued(mr))
		return -EBUSY;
	mr_free(mr);
	return 0;
}

void mr_disown(struct rvmig_mr *mr)
{
	client_cancel_bulk(mr->ep, mr);
	if (mr->busy)
		mr->orphan = true; /* freed by mr_orphan_idle() or mr_release_all() */
	else
		mr_free(mr);
}

void mr_orphan_idle(struct rvmig_mr *mr)
{
	if (mr->orphan && !mr->busy)
		mr_free(mr);
}

void mr_release_all(struct rvmig_ep *ep)
{
	while (ep->mrs)
		mr_free(ep->mrs);
}
