/* SPDX-License-Identifier: MIT */
/*
 * rvmig/monitor.h - per-domain scheduler accounting: how much of the time a
 * domain ran, sat blocked (waiting for I/O or an event) and sat waiting
 * runnable for a CPU, the metrics XenMon reported, plus CPU time, memory
 * and host figures.  See rvmig_monitor(3).
 *
 * Model (as libxenstat's): a monitor handle is opened on one backend; each
 * rvmig_monitor_sample() reads everything once and returns an opaque,
 * self-contained snapshot, read through accessors, so fields can be added
 * without breaking the ABI.  Figures over an interval (run/blocked/wait
 * time and shares, CPU %, executions per second, pCPU idle share) are
 * computed between this sample and the previous one the monitor kept; the
 * monitor keeps only that one previous sample, so its memory does not grow
 * with the number of samples taken.
 *
 * Backends, chosen by name at open time ("auto": the best one for this
 * host; rvmig_monitor_backends() lists those built in):
 *   "linux"  domains are processes (all their threads) or cgroups (v1 with
 *            the cpu controller, or v2) that the caller names with
 *            rvmig_monitor_watch_pid() / rvmig_monitor_watch_cgroup().
 *            Run and wait time come from /proc/TID/schedstat (exact, ns),
 *            blocked = wall time - run - wait, per thread, summed over the
 *            domain's threads.  Each thread is reported as one "vCPU".
 *   "xen"    in dom0 of a Xen host: every domain of the host with its
 *            vCPUs, no watches needed (libxenctrl: domain list, CPU time,
 *            memory, vCPU state, the pCPUs' idle time; libxenstat: names,
 *            vifs, VBDs).  Run and wait per vCPU come from the
 *            hypervisor's scheduler trace, read in process as XenMon did:
 *            the monitor enables the trace buffers (runstate records only)
 *            when opened and disables them when closed.  Wait is time
 *            runnable plus time credit2 kept the vCPU parked by its cap;
 *            blocked = wall time - run - wait.  Without the trace (it
 *            could not be enabled or mapped: logged) run is libxenctrl's
 *            CPU time and RVMIG_MONITOR_DOM_NOWAIT is set.  libxenctrl
 *            and libxenstat are loaded when the backend is opened
 *            (dlopen), so librvmig itself needs no Xen library.
 *
 * Transfers (any backend: they are the host's): every snapshot also holds
 * the rvmig transfers running on this host, as the processes that run them
 * publish them (rvmig/publish.h, rvmig_publisher(3)): the transfer files in
 * $RVMIG_RUN_DIR when set, else in /run/rvmig and $XDG_RUNTIME_DIR/rvmig.
 * A file is believed only when it parses as the documented format, names
 * a live process by its pid and start time and belongs to root or to that
 * process's user; other files are skipped (logged at debug level), and the
 * file of a process that is gone is removed when this process may.
 *
 * Conventions (rvmig/common.h): calls return 0 or a non-negative value on
 * success and a negative errno on failure; diagnostics go to the logger of
 * the context the monitor was opened with (subsystem "monitor").  A monitor
 * is used by one thread at a time; snapshots are read-only and may be read
 * from any thread, and outlive the monitor that made them.
 *
 * Accessors take the handle they read and never fail: with an index out of
 * range they return NULL (handles) or 0.  Figures over an interval are 0 in
 * a domain's first snapshot (RVMIG_MONITOR_DOM_NEW) and in the first
 * snapshot of a monitor (rvmig_monitor_snap_interval_ns() == 0).
 */
#ifndef RVMIG_MONITOR_H
#define RVMIG_MONITOR_H

#include <stdint.h>

#include <rvmig/common.h>
#include <rvmig/publish.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rvmig_monitor rvmig_monitor;
typedef struct rvmig_monitor_snap rvmig_monitor_snap;
typedef struct rvmig_monitor_dom rvmig_monitor_dom;
typedef struct rvmig_monitor_vcpu rvmig_monitor_vcpu;
typedef struct rvmig_monitor_xfer rvmig_monitor_xfer;

/* ---- monitor ---------------------------------------------------------- */

/* Names of the monitor backends built into this library, NULL-terminated
 * (e.g. {"linux", NULL}).  Static; callable from any thread. */
RVMIG_API const char *const *rvmig_monitor_backends(void);

/*
 * Opens a monitor on backend `backend` (a name from rvmig_monitor_backends(),
 * or NULL / "auto" for the first one that works on this host).  `ctx` gives
 * the logger; it may be NULL (nothing is logged) and must outlive the
 * monitor.  Returns 0, -ENOENT for an unknown backend name,
 * -RVMIG_ENOXEN when "xen" is asked for on a host without a Xen hypervisor,
 * -ENOTSUP when the backend cannot work here for another reason (the log
 * says why, e.g. a kernel without /proc/PID/schedstat, a Xen domain that is
 * not dom0), -ENOMEM.
 */
RVMIG_API int rvmig_monitor_open(rvmig_ctx *ctx, const char *backend, rvmig_monitor **out);
RVMIG_API void rvmig_monitor_close(rvmig_monitor *mon);

/* The name of the backend the monitor uses ("linux", "xen"). */
RVMIG_API const char *rvmig_monitor_backend(const rvmig_monitor *mon);

/*
 * Linux backend: adds a domain to the monitor.  Returns a watch number
 * (>= 0) for rvmig_monitor_unwatch(), or a negative errno.
 *
 * watch_pid: the process `pid` with all its threads (not its children: put
 * them in a cgroup for that).  Domain id: the pid; name: `name`, or the
 * process's comm when NULL.  -ESRCH when no such process.
 *
 * watch_cgroup: the cgroup whose directory is `path` (absolute, in a cgroup
 * v1 hierarchy such as /sys/fs/cgroup/cpu/NAME or a cgroup v2 one such as
 * /sys/fs/cgroup/NAME), all threads in it (not in its child groups).  Domain
 * id: the inode number of the directory (the cgroup id on v2); name: `name`,
 * or the path inside its hierarchy ("/NAME").  -ENOENT when no such
 * directory, -EINVAL when it is not a cgroup.
 *
 * A process that exits or a cgroup that is removed stays in the snapshots
 * with RVMIG_MONITOR_DOM_GONE until unwatched.  -EOPNOTSUPP from backends
 * that list their domains themselves.
 */
RVMIG_API int rvmig_monitor_watch_pid(rvmig_monitor *mon, int pid, const char *name);
RVMIG_API int rvmig_monitor_watch_cgroup(rvmig_monitor *mon, const char *path, const char *name);
/* Removes a watched domain.  -ENOENT for an unknown watch number. */
RVMIG_API int rvmig_monitor_unwatch(rvmig_monitor *mon, int watch);

/*
 * Reads every domain and the host once and returns a new snapshot in *out,
 * with interval figures computed against the previous sample of this
 * monitor.  The caller frees it with rvmig_monitor_snap_free().  A domain
 * whose process or cgroup disappeared is reported with
 * RVMIG_MONITOR_DOM_GONE, not as an error; other read failures return a
 * negative errno (the log names the file) and keep the previous sample.
 */
RVMIG_API int rvmig_monitor_sample(rvmig_monitor *mon, rvmig_monitor_snap **out);
RVMIG_API void rvmig_monitor_snap_free(rvmig_monitor_snap *snap);

/* ---- snapshot and host ------------------------------------------------ */

/* When the sample was taken: CLOCK_REALTIME, ns since the epoch. */
RVMIG_API uint64_t rvmig_monitor_snap_time_ns(const rvmig_monitor_snap *snap);
/* Length of the interval the figures cover (CLOCK_MONOTONIC, ns); 0 for
 * the monitor's first sample. */
RVMIG_API uint64_t rvmig_monitor_snap_interval_ns(const rvmig_monitor_snap *snap);

RVMIG_API unsigned rvmig_monitor_snap_ndomains(const rvmig_monitor_snap *snap);
/* Domain i (0 <= i < ndomains), in watch order; NULL out of range.  Valid as
 * long as the snapshot. */
RVMIG_API const rvmig_monitor_dom *rvmig_monitor_domain(const rvmig_monitor_snap *snap,
							unsigned i);

/* Host: physical CPUs online, memory in bytes (total, free, and available
 * for new work: MemAvailable on Linux). */
RVMIG_API unsigned rvmig_monitor_host_ncpus(const rvmig_monitor_snap *snap);
RVMIG_API uint64_t rvmig_monitor_host_mem_total(const rvmig_monitor_snap *snap);
RVMIG_API uint64_t rvmig_monitor_host_mem_free(const rvmig_monitor_snap *snap);
RVMIG_API uint64_t rvmig_monitor_host_mem_avail(const rvmig_monitor_snap *snap);

/* Physical CPU i (0 <= i < ncpus): its number (cpuN), its idle time since
 * boot in ns (idle + iowait, tick resolution on Linux), the share of the
 * interval it was idle (0..1), and its current frequency in kHz (0 where the
 * host does not expose it). */
RVMIG_API unsigned rvmig_monitor_host_cpu_id(const rvmig_monitor_snap *snap, unsigned i);
RVMIG_API uint64_t rvmig_monitor_host_cpu_idle_ns(const rvmig_monitor_snap *snap, unsigned i);
RVMIG_API double rvmig_monitor_host_cpu_idle_share(const rvmig_monitor_snap *snap, unsigned i);
RVMIG_API uint32_t rvmig_monitor_host_cpu_freq_khz(const rvmig_monitor_snap *snap, unsigned i);

/* ---- domains ---------------------------------------------------------- */

/* State flags of a domain in one snapshot. */
enum {
	/* The process exited (or its pid now names another process), or the
	 * cgroup was removed: no threads, interval figures 0. */
	RVMIG_MONITOR_DOM_GONE = 1u << 0,
	/* First snapshot with this domain: interval figures are 0. */
	RVMIG_MONITOR_DOM_NEW = 1u << 1,
	/* A CPU bandwidth limit can apply: throttled_ns is measured (cgroup
	 * cpu.stat). */
	RVMIG_MONITOR_DOM_THROTTLE = 1u << 2,
	/* pressure_ns is measured (cgroup v2 cpu.pressure). */
	RVMIG_MONITOR_DOM_PRESSURE = 1u << 3,
	/* Waiting time is not measured (Xen without the scheduler trace):
	 * wait_ns is 0, blocked_ns includes the time spent waiting and run
	 * time is the vCPUs' CPU time. */
	RVMIG_MONITOR_DOM_NOWAIT = 1u << 4,
	/* Some of the interval's scheduler trace records were lost (a trace
	 * buffer filled up between samples): run, blocked and wait times are
	 * partial. */
	RVMIG_MONITOR_DOM_INEXACT = 1u << 5,
	/* Xen: paused by the toolstack. */
	RVMIG_MONITOR_DOM_PAUSED = 1u << 6,
	/* Xen: shut down, crashed or being destroyed. */
	RVMIG_MONITOR_DOM_SHUTDOWN = 1u << 7,
};

RVMIG_API uint64_t rvmig_monitor_domain_id(const rvmig_monitor_dom *d);
RVMIG_API const char *rvmig_monitor_domain_name(const rvmig_monitor_dom *d);
RVMIG_API unsigned rvmig_monitor_domain_flags(const rvmig_monitor_dom *d);
/* vCPUs in this snapshot (Linux: the domain's threads). */
RVMIG_API unsigned rvmig_monitor_domain_nvcpus(const rvmig_monitor_dom *d);

/* CPU time consumed, ns, cumulative (cgroups: the group's own counter where
 * one exists, which includes exited threads; processes: counted from the
 * first sample on).  cpu_pct: over the interval, 100 = one CPU busy (may
 * exceed 100 with several threads). */
RVMIG_API uint64_t rvmig_monitor_domain_cpu_ns(const rvmig_monitor_dom *d);
RVMIG_API double rvmig_monitor_domain_cpu_pct(const rvmig_monitor_dom *d);

/* Over the interval, summed over the domain's vCPUs: time running, time
 * blocked (neither running nor runnable) and time waiting runnable for a
 * CPU (including time held back by a CPU bandwidth limit), ns.  The shares
 * are those times over their sum (each 0..1, together 1; all 0 with no
 * vCPU time in the interval). */
RVMIG_API uint64_t rvmig_monitor_domain_run_ns(const rvmig_monitor_dom *d);
RVMIG_API uint64_t rvmig_monitor_domain_blocked_ns(const rvmig_monitor_dom *d);
RVMIG_API uint64_t rvmig_monitor_domain_wait_ns(const rvmig_monitor_dom *d);
RVMIG_API double rvmig_monitor_domain_run_share(const rvmig_monitor_dom *d);
RVMIG_API double rvmig_monitor_domain_blocked_share(const rvmig_monitor_dom *d);
RVMIG_API double rvmig_monitor_domain_wait_share(const rvmig_monitor_dom *d);
/* How often the domain's vCPUs were given a CPU, per second of interval. */
RVMIG_API double rvmig_monitor_domain_execs_per_s(const rvmig_monitor_dom *d);

/* Over the interval, ns: time the domain's CPU bandwidth limit held it
 * back (RVMIG_MONITOR_DOM_THROTTLE), and time at least one of its threads
 * was stalled waiting for a CPU (RVMIG_MONITOR_DOM_PRESSURE, PSI "some");
 * 0 when not measured. */
RVMIG_API uint64_t rvmig_monitor_domain_throttled_ns(const rvmig_monitor_dom *d);
RVMIG_API uint64_t rvmig_monitor_domain_pressure_ns(const rvmig_monitor_dom *d);

/* Memory in bytes: in use now (processes: resident set; cgroups: the
 * memory controller's usage, else the sum of its processes' resident sets)
 * and the most it may use (UINT64_MAX when unlimited). */
RVMIG_API uint64_t rvmig_monitor_domain_mem_cur(const rvmig_monitor_dom *d);
RVMIG_API uint64_t rvmig_monitor_domain_mem_max(const rvmig_monitor_dom *d);

/* ---- network interfaces and disks ------------------------------------- */

/*
 * Network interfaces and disks of a domain in this snapshot.  Counters are
 * cumulative (since the device was created, or since the group first did
 * I/O on the disk); the difference between two snapshots over their time
 * difference gives a rate.  Valid as long as the snapshot.
 *
 * Xen (libxenstat): the domain's vifs as dom0 sees them, and its virtual
 * block devices.
 *
 * Linux: the interfaces of the domain's network namespace, from
 * /proc/PID/net/dev (a cgroup: the namespace of one of its threads), "lo"
 * left out, at most 64.  Only a domain in a network namespace other than
 * the monitoring process's own has interfaces: a process that shares the
 * host's namespace would otherwise show the host's interfaces, traffic it
 * did not make; such a domain (and one whose namespace cannot be looked at:
 * another user's process) has none; the namespace is looked up again every
 * 16 samples (and when the thread it was read from is gone).  Disks: a cgroup's block devices, from
 * io.stat (v2, where the io controller is enabled for the group) or the
 * blkio controller's blkio.throttle.io_service_bytes and io_serviced (v1,
 * the same group in the blkio hierarchy; recent kernels count there only
 * I/O to devices on which the group has a blkio.throttle limit), at most
 * 64, the group's subtree included.  A watched process has no disks:
 * /proc/PID/io counts its storage bytes for all devices together and no
 * requests, which these calls cannot report honestly; put it in a cgroup.
 */
typedef struct rvmig_monitor_net rvmig_monitor_net;
typedef struct rvmig_monitor_disk rvmig_monitor_disk;
RVMIG_API unsigned rvmig_monitor_domain_nnets(const rvmig_monitor_dom *d);
RVMIG_API const rvmig_monitor_net *rvmig_monitor_domain_net(const rvmig_monitor_dom *d,
							     unsigned i);
/* The interface's device number (Xen: the vif's ID in vifDOMID.ID; Linux:
 * its position in /proc/PID/net/dev, lo counted, which may change as
 * interfaces come and go: tell them apart by name) and its counters, from
 * the domain's side: rx is what the domain received. */
RVMIG_API unsigned rvmig_monitor_net_id(const rvmig_monitor_net *n);
RVMIG_API uint64_t rvmig_monitor_net_rx_bytes(const rvmig_monitor_net *n);
RVMIG_API uint64_t rvmig_monitor_net_rx_packets(const rvmig_monitor_net *n);
RVMIG_API uint64_t rvmig_monitor_net_rx_errors(const rvmig_monitor_net *n);
RVMIG_API uint64_t rvmig_monitor_net_rx_drops(const rvmig_monitor_net *n);
RVMIG_API uint64_t rvmig_monitor_net_tx_bytes(const rvmig_monitor_net *n);
RVMIG_API uint64_t rvmig_monitor_net_tx_packets(const rvmig_monitor_net *n);
RVMIG_API uint64_t rvmig_monitor_net_tx_errors(const rvmig_monitor_net *n);
RVMIG_API uint64_t rvmig_monitor_net_tx_drops(const rvmig_monitor_net *n);
/* The interface's name (Xen: "vifDOMID.ID", dom0's name for it; Linux: its
 * name inside the domain's namespace, e.g. "eth0"), escaped as
 * rvmig_text_escape() does; "" for a NULL handle.  Since RVMIG_0.10. */
RVMIG_API const char *rvmig_monitor_net_name(const rvmig_monitor_net *n);

RVMIG_API unsigned rvmig_monitor_domain_ndisks(const rvmig_monitor_dom *d);
RVMIG_API const rvmig_monitor_disk *rvmig_monitor_domain_disk(const rvmig_monitor_dom *d,
							       unsigned i);
/* The disk's device number (Xen: the virtual device, e.g. 51712 = xvda;
 * Linux: makedev(MAJOR, MINOR), which major() and minor() of
 * <sys/sysmacros.h> take apart), read and write requests (Linux: the I/Os
 * the group submitted) and 512-byte sectors (Linux: bytes / 512, rounded
 * down), and
 * requests that found the backend's queue full (Xen; 0 on Linux). */
RVMIG_API unsigned rvmig_monitor_disk_dev(const rvmig_monitor_disk *k);
RVMIG_API uint64_t rvmig_monitor_disk_rd_reqs(const rvmig_monitor_disk *k);
RVMIG_API uint64_t rvmig_monitor_disk_wr_reqs(const rvmig_monitor_disk *k);
RVMIG_API uint64_t rvmig_monitor_disk_rd_sectors(const rvmig_monitor_disk *k);
RVMIG_API uint64_t rvmig_monitor_disk_wr_sectors(const rvmig_monitor_disk *k);
RVMIG_API uint64_t rvmig_monitor_disk_oo_reqs(const rvmig_monitor_disk *k);
/* Bytes read and written (Xen: sectors * 512; Linux: the kernel's byte
 * counters) and the disk's name (Xen: "xvdX" from the virtual device
 * number, else the number in decimal; Linux: the block device's kernel
 * name from /sys/dev/block, e.g. "vda", else "MAJOR:MINOR"), escaped as
 * rvmig_text_escape() does; "" for a NULL handle.  Since RVMIG_0.10. */
RVMIG_API uint64_t rvmig_monitor_disk_rd_bytes(const rvmig_monitor_disk *k);
RVMIG_API uint64_t rvmig_monitor_disk_wr_bytes(const rvmig_monitor_disk *k);
RVMIG_API const char *rvmig_monitor_disk_name(const rvmig_monitor_disk *k);

/* ---- vCPUs ------------------------------------------------------------ */

/* vCPU i of a domain (0 <= i < nvcpus), NULL out of range.  Linux: one per
 * thread, id = its TID, in ascending TID order. */
RVMIG_API const rvmig_monitor_vcpu *rvmig_monitor_domain_vcpu(const rvmig_monitor_dom *d,
							       unsigned i);
RVMIG_API uint64_t rvmig_monitor_vcpu_id(const rvmig_monitor_vcpu *v);
/* State of a vCPU when sampled (Xen; 0 from the linux backend). */
enum {
	RVMIG_MONITOR_VCPU_ONLINE = 1u << 0,
	RVMIG_MONITOR_VCPU_RUNNING = 1u << 1,
	RVMIG_MONITOR_VCPU_BLOCKED = 1u << 2,
};
RVMIG_API unsigned rvmig_monitor_vcpu_flags(const rvmig_monitor_vcpu *v);
/* The physical CPU it runs or last ran on (Xen); 0 from the linux backend. */
RVMIG_API unsigned rvmig_monitor_vcpu_pcpu(const rvmig_monitor_vcpu *v);
/* Cumulative CPU time of this vCPU, ns. */
RVMIG_API uint64_t rvmig_monitor_vcpu_cpu_ns(const rvmig_monitor_vcpu *v);
/* As the domain figures, for this vCPU alone. */
RVMIG_API uint64_t rvmig_monitor_vcpu_run_ns(const rvmig_monitor_vcpu *v);
RVMIG_API uint64_t rvmig_monitor_vcpu_blocked_ns(const rvmig_monitor_vcpu *v);
RVMIG_API uint64_t rvmig_monitor_vcpu_wait_ns(const rvmig_monitor_vcpu *v);
RVMIG_API double rvmig_monitor_vcpu_run_share(const rvmig_monitor_vcpu *v);
RVMIG_API double rvmig_monitor_vcpu_blocked_share(const rvmig_monitor_vcpu *v);
RVMIG_API double rvmig_monitor_vcpu_wait_share(const rvmig_monitor_vcpu *v);
RVMIG_API double rvmig_monitor_vcpu_execs_per_s(const rvmig_monitor_vcpu *v);

/* ---- transfers -------------------------------------------------------- */

/* Transfers in this snapshot, ordered by pid, then by number. */
RVMIG_API unsigned rvmig_monitor_snap_ntransfers(const rvmig_monitor_snap *snap);
/* Transfer i (0 <= i < ntransfers), NULL out of range.  Valid as long as
 * the snapshot. */
RVMIG_API const rvmig_monitor_xfer *rvmig_monitor_transfer(const rvmig_monitor_snap *snap,
							       unsigned i);

enum {
	/* The transfer's size is known: total and remaining bytes are set. */
	RVMIG_MONITOR_TRANSFER_SIZE_KNOWN = 1u << 0,
};

/* The process and the transfer's number within it (rvmig_pubxfer_id()). */
RVMIG_API uint64_t rvmig_monitor_transfer_pid(const rvmig_monitor_xfer *t);
RVMIG_API uint64_t rvmig_monitor_transfer_id(const rvmig_monitor_xfer *t);
/* Strings as published, escaped as rvmig_text_escape() does (printable
 * ASCII only), "" when not known: the tool ("rvmig-send"), the transport
 * ("tcp", "verbs"), the peer's address, the mode ("push", "pull"). */
RVMIG_API const char *rvmig_monitor_transfer_tool(const rvmig_monitor_xfer *t);
RVMIG_API const char *rvmig_monitor_transfer_transport(const rvmig_monitor_xfer *t);
RVMIG_API const char *rvmig_monitor_transfer_peer(const rvmig_monitor_xfer *t);
RVMIG_API const char *rvmig_monitor_transfer_mode(const rvmig_monitor_xfer *t);
/* enum rvmig_transfer_state; rvmig_transfer_state_name() names it. */
RVMIG_API int rvmig_monitor_transfer_state(const rvmig_monitor_xfer *t);
RVMIG_API unsigned rvmig_monitor_transfer_flags(const rvmig_monitor_xfer *t);
/* Bytes of the stream (libvirt's data_total / data_processed /
 * data_remaining): the whole, what was processed (sent and acknowledged,
 * or received and delivered), what is left; total and remaining 0 without
 * RVMIG_MONITOR_TRANSFER_SIZE_KNOWN. */
RVMIG_API uint64_t rvmig_monitor_transfer_total_bytes(const rvmig_monitor_xfer *t);
RVMIG_API uint64_t rvmig_monitor_transfer_processed_bytes(const rvmig_monitor_xfer *t);
RVMIG_API uint64_t rvmig_monitor_transfer_remaining_bytes(const rvmig_monitor_xfer *t);
/* Processed bytes per second over the last second the publisher measured
 * (once ended: over the whole transfer). */
RVMIG_API uint64_t rvmig_monitor_transfer_bytes_per_s(const rvmig_monitor_xfer *t);
/* Page payloads processed, and all-zero pages among them (elided). */
RVMIG_API uint64_t rvmig_monitor_transfer_pages(const rvmig_monitor_xfer *t);
RVMIG_API uint64_t rvmig_monitor_transfer_zero_pages(const rvmig_monitor_xfer *t);
/* CPU time of the publishing process since the transfer began, ns (for a
 * process that runs several transfers at once, such as rvmigd, they share
 * it). */
RVMIG_API uint64_t rvmig_monitor_transfer_cpu_ns(const rvmig_monitor_xfer *t);
/* When it began (CLOCK_REALTIME, ns since the epoch), how long it has run
 * (libvirt's time_elapsed; until it ended), and when the publisher last
 * wrote these figures (CLOCK_REALTIME, ns). */
RVMIG_API uint64_t rvmig_monitor_transfer_started_ns(const rvmig_monitor_xfer *t);
RVMIG_API uint64_t rvmig_monitor_transfer_elapsed_ns(const rvmig_monitor_xfer *t);
RVMIG_API uint64_t rvmig_monitor_transfer_updated_ns(const rvmig_monitor_xfer *t);
/* The endpoint's payload counters (rvmig_stats: bytes_sent, bytes_recv):
 * what went over the wire, without the elided zero pages. */
RVMIG_API uint64_t rvmig_monitor_transfer_wire_sent_bytes(const rvmig_monitor_xfer *t);
RVMIG_API uint64_t rvmig_monitor_transfer_wire_recv_bytes(const rvmig_monitor_xfer *t);

#ifdef __cplusplus
}
#endif
#endif /* RVMIG_MONITOR_H */
