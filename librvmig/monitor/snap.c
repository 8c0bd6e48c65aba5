/* SPDX-License-Identifier: MIT */
/* snap.c - the snapshot accessors: every public read goes through here. */
#include <stdlib.h>

#include "monitor/snap.h"

RVMIG_API void rvmig_monitor_snap_free(rvmig_monitor_snap *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ndom; i++) {
		free(s->dom[i].name);
		free(s->dom[i].vcpu);
		free(s->dom[i].nets);
		free(s->dom[i].disks);
	}
	free(s->dom);
	free(s->pcpu);
	free(s->xfer);
	free(s);
}

/* ---- snapshot and host ---- */

RVMIG_API uint64_t rvmig_monitor_snap_time_ns(const rvmig_monitor_snap *s)
{
	return s ? s->real_ns : 0;
}

RVMIG_API uint64_t rvmig_monitor_snap_interval_ns(const rvmig_monitor_snap *s)
{
	return s ? s->interval_ns : 0;
}

RVMIG_API unsigned rvmig_monitor_snap_ndomains(const rvmig_monitor_snap *s)
{
	return s ? (unsigned)s->ndom : 0;
}

RVMIG_API const rvmig_monitor_dom *rvmig_monitor_domain(const rvmig_monitor_snap *s, unsigned i)
{
	return s && i < s->ndom ? &s->dom[i] : NULL;
}

RVMIG_API unsigned rvmig_monitor_host_ncpus(const rvmig_monitor_snap *s)
{
	return s ? (unsigned)s->npcpu : 0;
}

RVMIG_API uint64_t rvmig_monitor_host_mem_total(const rvmig_monitor_snap *s)
{
	return s ? s->mem_total : 0;
}

RVMIG_API uint64_t rvmig_monitor_host_mem_free(const rvmig_monitor_snap *s)
{
	return s ? s->mem_free : 0;
}

RVMIG_API uint64_t rvmig_monitor_host_mem_avail(const rvmig_monitor_snap *s)
{
	return s ? s->mem_avail : 0;
}

static const struct mon_pcpu *pcpu(const rvmig_monitor_snap *s, unsigned i)
{
	return s && i < s->npcpu ? &s->pcpu[i] : NULL;
}

RVMIG_API unsigned rvmig_monitor_host_cpu_id(const rvmig_monitor_snap *s, unsigned i)
{
	return pcpu(s, i) ? pcpu(s, i)->id : 0;
}

RVMIG_API uint64_t rvmig_monitor_host_cpu_idle_ns(const rvmig_monitor_snap *s, unsigned i)
{
	return pcpu(s, i) ? pcpu(s, i)->idle_ns : 0;
}

RVMIG_API double rvmig_monitor_host_cpu_idle_share(const rvmig_monitor_snap *s, unsigned i)
{
	return pcpu(s, i) ? pcpu(s, i)->idle_share : 0;
}

RVMIG_API uint32_t rvmig_monitor_host_cpu_freq_khz(const rvmig_monitor_snap *s, unsigned i)
{
	return pcpu(s, i) ? pcpu(s, i)->freq_khz : 0;
}

/* ---- domains ---- */

/* Defines rvmig_monitor_domain_FIELD(): the field, or 0 without a domain. */
#define DOM_GET(type, field, what)                                         \
	RVMIG_API type rvmig_monitor_domain_##field(const rvmig_monitor_dom *d) \
	{                                                                  \
		return d ? (what) : 0;                                     \
	}

DOM_GET(uint64_t, id, d->id)
DOM_GET(const char *, name, d->name)
DOM_GET(unsigned, flags, d->flags)
DOM_GET(unsigned, nvcpus, (unsigned)d->nvcpu)
DOM_GET(uint64_t, cpu_ns, d->cpu_ns)
DOM_GET(double, cpu_pct, d->cpu_pct)
DOM_GET(uint64_t, run_ns, d->t.run_ns)
DOM_GET(uint64_t, blocked_ns, d->t.blocked_ns)
DOM_GET(uint64_t, wait_ns, d->t.wait_ns)
DOM_GET(double, run_share, d->t.run_share)
DOM_GET(double, blocked_share, d->t.blocked_share)
DOM_GET(double, wait_share, d->t.wait_share)
DOM_GET(double, execs_per_s, d->t.execs_per_s)
DOM_GET(uint64_t, throttled_ns, d->throttled_ns)
DOM_GET(uint64_t, pressure_ns, d->pressure_ns)
DOM_GET(uint64_t, mem_cur, d->mem_cur)
DOM_GET(uint64_t, mem_max, d->mem_max)

/* ---- vCPUs ---- */

RVMIG_API const rvmig_monitor_vcpu *rvmig_monitor_domain_vcpu(const rvmig_monitor_dom *d,
							       unsigned i)
{
	return d && i < d->nvcpu ? &d->vcpu[i] : NULL;
}

/* Defines rvmig_monitor_vcpu_FIELD(): the field, or 0 without a vCPU. */
#define VCPU_GET(type, field, what)                                         \
	RVMIG_API type rvmig_monitor_vcpu_##field(const rvmig_monitor_vcpu *v) \
	{                                                                   \
		return v ? (what) : 0;                                      \
	}

VCPU_GET(uint64_t, id, v->id)
VCPU_GET(unsigned, flags, v->flags)
VCPU_GET(unsigned, pcpu, v->pcpu)
VCPU_GET(uint64_t, cpu_ns, v->cpu_ns)
VCPU_GET(uint64_t, run_ns, v->t.run_ns)
VCPU_GET(uint64_t, blocked_ns, v->t.blocked_ns)
VCPU_GET(uint64_t, wait_ns, v->t.wait_ns)
VCPU_GET(double, run_share, v->t.run_share)
VCPU_GET(double, blocked_share, v->t.blocked_share)
VCPU_GET(double, wait_share, v->t.wait_share)
VCPU_GET(double, execs_per_s, v->t.execs_per_s)

/* ---- transfers ---- */

RVMIG_API unsigned rvmig_monitor_snap_ntransfers(const rvmig_monitor_snap *s)
{
	return s ? (unsigned)s->nxfer : 0;
}

RVMIG_API const rvmig_monitor_xfer *rvmig_monitor_transfer(const rvmig_monitor_snap *s,
							       unsigned i)
{
	return s && i < s->nxfer ? &s->xfer[i] : NULL;
}

/* Defines rvmig_monitor_transfer_FIELD(): the field, or 0 without a transfer. */
#define XFER_GET(type, field, what)                                              \
	RVMIG_API type rvmig_monitor_transfer_##field(const rvmig_monitor_xfer *t) \
	{                                                                        \
		return t ? (what) : 0;                                           \
	}

XFER_GET(uint64_t, pid, t->pid)
XFER_GET(uint64_t, id, t->r.id)
XFER_GET(const char *, tool, t->tool)
XFER_GET(const char *, transport, t->r.transport)
XFER_GET(const char *, peer, t->r.peer)
XFER_GET(const char *, mode, t->r.mode)
XFER_GET(int, state, t->r.state)
XFER_GET(unsigned, flags, t->r.total_known ? RVMIG_MONITOR_TRANSFER_SIZE_KNOWN : 0u)
XFER_GET(uint64_t, total_bytes, t->r.total)
XFER_GET(uint64_t, processed_bytes, t->r.processed)
XFER_GET(uint64_t, remaining_bytes, t->r.remaining)
XFER_GET(uint64_t, bytes_per_s, t->r.bytes_per_s)
XFER_GET(uint64_t, pages, t->r.pages)
XFER_GET(uint64_t, zero_pages, t->r.zero_pages)
XFER_GET(uint64_t, cpu_ns, t->r.cpu_ns)
XFER_GET(uint64_t, started_ns, t->r.started_ns)
XFER_GET(uint64_t, elapsed_ns, t->r.elapsed_ms * 1000000)
XFER_GET(uint64_t, updated_ns, t->updated_ns)
XFER_GET(uint64_t, wire_sent_bytes, t->r.wire_sent)
XFER_GET(uint64_t, wire_recv_bytes, t->r.wire_recv)

/* ---- network interfaces and disks ---- */

DOM_GET(unsigned, nnets, (unsigned)d->nnets)
DOM_GET(unsigned, ndisks, (unsigned)d->ndisks)

RVMIG_API const rvmig_monitor_net *rvmig_monitor_domain_net(const rvmig_monitor_dom *d,
							     unsigned i)
{
	return d && i < d->nnets ? &d->nets[i] : NULL;
}

RVMIG_API const rvmig_monitor_disk *rvmig_monitor_domain_disk(const rvmig_monitor_dom *d,
							       unsigned i)
{
	return d && i < d->ndisks ? &d->disks[i] : NULL;
}

/* Defines rvmig_monitor_net_FIELD() and rvmig_monitor_disk_FIELD(). */
#define NET_GET(type, field)                                                \
	RVMIG_API type rvmig_monitor_net_##field(const rvmig_monitor_net *n) \
	{                                                                   \
		return n ? n->field : 0;                                    \
	}
#define DISK_GET(type, field)                                                 \
	RVMIG_API type rvmig_monitor_disk_##field(const rvmig_monitor_disk *k) \
	{                                                                     \
		return k ? k->field : 0;                                      \
	}

NET_GET(unsigned, id)
NET_GET(uint64_t, rx_bytes)
NET_GET(uint64_t, rx_packets)
NET_GET(uint64_t, rx_errors)
NET_GET(uint64_t, rx_drops)
NET_GET(uint64_t, tx_bytes)
NET_GET(uint64_t, tx_packets)
NET_GET(uint64_t, tx_errors)
NET_GET(uint64_t, tx_drops)
DISK_GET(unsigned, dev)
DISK_GET(uint64_t, rd_reqs)
DISK_GET(uint64_t, wr_reqs)
DISK_GET(uint64_t, rd_sectors)
DISK_GET(uint64_t, wr_sectors)
DISK_GET(uint64_t, oo_reqs)
DISK_GET(uint64_t, rd_bytes)
DISK_GET(uint64_t, wr_bytes)

RVMIG_API const char *rvmig_monitor_net_name(const rvmig_monitor_net *n)
{
	return n ? n->name : "";
}

RVMIG_API const char *rvmig_monitor_disk_name(const rvmig_monitor_disk *k)
{
	return k ? k->name : "";
}
