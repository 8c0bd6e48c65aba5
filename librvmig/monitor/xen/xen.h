/* SPDX-License-Identifier: MIT */
/*
 * xen.h - the Xen monitor backend's state, shared by its files (internal):
 * xen.c (the ops table, one sample), xenlib.c (loading libxenctrl and
 * libxenstat at run time), stat.c (names, vifs and VBDs from libxenstat).
 *
 * librvmig links no Xen library: the backend's calls go through the
 * function pointers of struct xen_lib, resolved with dlopen()/dlsym() from
 * the sonames the build found (RVMIG_XENCTRL_SONAME, RVMIG_XENSTAT_SONAME)
 * when the backend is probed or opened.  libxenctrl's ABI is tied to the
 * Xen release (its soname carries it), so a library of another release is
 * not loaded: the backend then says which soname it wanted.
 */
#ifndef RVMIG_MONITOR_XEN_H
#define RVMIG_MONITOR_XEN_H

#include <stdint.h>

#define XC_WANT_COMPAT_MAP_FOREIGN_API 1
#include <xenctrl.h>
#include <xenstat.h>

#include <rvmig/monitor.h>

#include "monitor/backend.h"
#include "monitor/xen/trace.h"

/* The libxenctrl and libxenstat calls the backend makes. */
#define XEN_XC_FUNCS(X)              \
	X(xc_interface_open)         \
	X(xc_interface_close)        \
	X(xc_domain_getinfolist)     \
	X(xc_vcpu_getinfo)           \
	X(xc_physinfo)               \
	X(xc_getcpuinfo)             \
	X(xc_tbuf_enable)            \
	X(xc_tbuf_disable)           \
	X(xc_tbuf_set_evt_mask)      \
	X(xc_map_foreign_range)      \
	X(xc_map_foreign_pages)
#define XEN_XS_FUNCS(X)              \
	X(xenstat_init)              \
	X(xenstat_uninit)            \
	X(xenstat_get_node)          \
	X(xenstat_free_node)         \
	X(xenstat_node_domain)       \
	X(xenstat_domain_name)       \
	X(xenstat_domain_num_networks) \
	X(xenstat_domain_network)    \
	X(xenstat_network_id)        \
	X(xenstat_network_rbytes)    \
	X(xenstat_network_rpackets)  \
	X(xenstat_network_rerrs)     \
	X(xenstat_network_rdrop)     \
	X(xenstat_network_tbytes)    \
	X(xenstat_network_tpackets)  \
	X(xenstat_network_terrs)     \
	X(xenstat_network_tdrop)     \
	X(xenstat_domain_num_vbds)   \
	X(xenstat_domain_vbd)        \
	X(xenstat_vbd_dev)           \
	X(xenstat_vbd_oo_reqs)       \
	X(xenstat_vbd_rd_reqs)       \
	X(xenstat_vbd_wr_reqs)       \
	X(xenstat_vbd_rd_sects)      \
	X(xenstat_vbd_wr_sects)

struct xen_lib {
	void *xc_dl, *xs_dl;
#define XEN_FN_PTR(f) __typeof__(&f) f;
	XEN_XC_FUNCS(XEN_FN_PTR)
	XEN_XS_FUNCS(XEN_FN_PTR)
#undef XEN_FN_PTR
};

/* libxenctrl's messages, passed to the context's logger. */
struct xen_logger {
	xentoollog_logger vtable;
	struct rvmig_ctx *ctx;
};

/* The hypervisor's trace buffers, mapped (tbuf.c). */
struct xen_tbuf {
	int on;                  /* enabled and mapped: figures come from it */
	void *tinfo;             /* struct t_info, read-only */
	size_t tinfo_bytes;
	unsigned ncpu;
	void **buf;              /* per pCPU: struct t_buf then data; NULL: none */
	size_t buf_bytes, data_bytes;
	unsigned char *window;   /* one pCPU's unread bytes, linear */
	struct xt_rec *recs;     /* one sample's records, all pCPUs */
	size_t nrecs, recs_cap;
	struct xt_state st;      /* per-vCPU cumulative times */
	uint64_t lost_seen;      /* st.lost at the previous sample */
	uint64_t bytes;          /* consumed since enabled */
};

struct mon_backend {
	struct rvmig_ctx *ctx;
	struct xen_lib lib;
	struct xen_logger log;
	xc_interface *xch;
	xenstat_handle *xsh;     /* NULL when libxenstat could not start */
	int xenstat_warned;      /* a failed xenstat_get_node was logged */
	uint32_t cpu_khz;
	xc_domaininfo_t *info;   /* the domain list, reused */
	size_t info_cap;
	xc_cpuinfo_t *cpuinfo;   /* per-pCPU idle time, reused */
	size_t cpuinfo_cap;
	struct xen_tbuf tb;
};

/* xenlib.c */
/* Loads libxenctrl and libxenstat and resolves every call; -ENOTSUP when
 * that fails, with the reason in `why` (which library or symbol, and the
 * loader's message). */
int xen_lib_load(struct xen_lib *lib, char *why, size_t len);
void xen_lib_unload(struct xen_lib *lib);
/* A xentoollog logger that hands libxenctrl's messages to ctx's logger
 * (errors as warnings, the rest at debug level). */
void xen_logger_init(struct xen_logger *l, struct rvmig_ctx *ctx);

/* tbuf.c */
/* Enables the scheduler trace (runstate records only) and maps the
 * buffers; on failure logs why and leaves tb->on 0 (figures then come
 * from libxenctrl alone, RVMIG_MONITOR_DOM_NOWAIT). */
void xen_tbuf_open(struct mon_backend *b);
/* Disables the trace (if this backend enabled it) and unmaps. */
void xen_tbuf_close(struct mon_backend *b);
/* Consumes every pCPU's new records into b->tb.st.  Returns 1 when records
 * were lost since the previous call, 0, or a negative errno. */
int xen_tbuf_consume(struct mon_backend *b);

/* stat.c */
/* Reads names, vifs and VBDs of every domain in r (once per sample).  A
 * domain libxenstat does not know keeps the name "domN" and no devices. */
int xen_sample_stat(struct mon_backend *b, struct mon_raw *r);

#endif
