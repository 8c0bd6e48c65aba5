/* SPDX-License-Identifier: MIT */
/*
 * linux.h - the Linux monitor backend's state, shared by its files
 * (internal): linux.c (the ops table, watches), proc.c (threads of a process
 * or a list of TIDs), cgroup.c (v1 and v2 groups), host.c (CPUs, memory).
 */
#ifndef RVMIG_MONITOR_LINUX_H
#define RVMIG_MONITOR_LINUX_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <rvmig/monitor.h>

#include "monitor/backend.h"
#include "monitor/linux/fsread.h"
#include "monitor/linux/keptfd.h"
#include "monitor/linux/parse.h"
#include "monitor/linux/parse_dev.h"

/* Caps on what one sample reads. */
#define LX_IDS_MAX_BYTES (4u << 20)   /* a tasks / cgroup.threads file */
#define LX_SMALL_MAX_BYTES (64u << 10) /* schedstat, stat, status, cpu.stat ... */
#define LX_STAT_MAX_BYTES (1u << 20)  /* /proc/stat (cut after that: cpu lines come first) */
#define LX_CG_DEPTH_MAX 32            /* nested cgroups walked below a watched one */
#define LX_CG_GROUPS_MAX 4096         /* cgroups walked per watched one */
#define LX_NETS_MAX 64                /* interfaces per domain (rvmig_monitor(3)) */
#define LX_DISKS_MAX 64               /* disks per domain */
#define LX_DEVNAMES_MAX 64            /* block device names remembered */
#define LX_NETNS_RECHECK 16           /* samples between namespace look-ups */

/* A watched cgroup, resolved once at watch time. */
struct lx_cgroup {
	char *dir;        /* the group's directory, as watched (realpath) */
	int version;      /* 1 or 2 */
	dev_t dev;
	ino_t ino;        /* to notice a removed and re-created group */
	/* v1: the same group in the cpu, cpuacct and memory hierarchies, when
	 * mounted and present (NULL otherwise; may equal dir). */
	char *cpu_dir, *cpuacct_dir, *mem_dir;
	char *blkio_dir; /* v1: the group in the blkio hierarchy, or NULL */
	/* An O_PATH descriptor of dir when has_dfd: the group's files are
	 * opened relative to it, which spares the kernel a path walk per file
	 * (a third of the sampling cost on the overhead benchmark).  Without
	 * one (descriptors exhausted), by path. */
	int dfd, has_dfd;
};

enum lx_kind { LX_PID = 1, LX_CGROUP };

struct lx_watch {
	uint64_t key;
	enum lx_kind kind;
	char *name;
	uint64_t id;
	int gone;             /* sticky */
	int pid;              /* LX_PID */
	uint64_t start_ticks; /* LX_PID: to tell the process from a later one with its pid */
	struct lx_cgroup cg;  /* LX_CGROUP */
	unsigned told;        /* LX_TOLD_* already logged for this domain */
	/* Its network namespace as last looked up (dev.c): read from task
	 * netns_tid, netns_age samples ago; netns_state LX_NETNS_*. */
	uint64_t netns_tid;
	unsigned netns_age;
	int netns_state;
};

/* A domain's network namespace, as far as interfaces go. */
enum {
	LX_NETNS_UNKNOWN = 0, /* not looked up yet, or the task went away */
	LX_NETNS_HOST,        /* the monitor's own, or not readable: no interfaces */
	LX_NETNS_OWN,         /* another one: its interfaces are the domain's */
};

/* What is logged once per domain rather than at every sample. */
enum {
	LX_TOLD_NETNS = 1u << 0,    /* its network namespace cannot be looked at */
	LX_TOLD_NETS_MORE = 1u << 1, /* more than LX_NETS_MAX interfaces */
	LX_TOLD_DISKS_MORE = 1u << 2,
};

/* A block device's kernel name, as /sys/dev/block gave it. */
struct lx_devname {
	uint32_t dev;
	char name[MON_DEV_NAME_MAX];
};

struct mon_backend {
	struct rvmig_ctx *ctx;
	struct lx_watch *w;
	size_t nw;
	uint64_t tick_ns;     /* one USER_HZ clock tick */
	uint64_t page_size;   /* bytes, for /proc/PID/statm */
	struct mon_buf buf;   /* file text, reused */
	struct mon_buf ids;   /* a tasks list, reused */
	struct kept_fds kept; /* per-domain files kept open (keptfd.h) */
	/* The monitor's own network namespace, as /proc/self/ns/net reads
	 * ("net:[INODE]"), when own_netns: domains in it get no interfaces. */
	int own_netns;
	char netns[64];
	struct rvmig_monitor_net nets[LX_NETS_MAX];    /* parsed, then copied */
	struct rvmig_monitor_disk disks[LX_DISKS_MAX];
	struct lx_devname names[LX_DEVNAMES_MAX];
	size_t nnames;
};

uint64_t lx_clock_ns(clockid_t clk);

/* proc.c */
/* Appends the task `tid` to d, reading `dir`/schedstat (dir: /proc/PID/task/TID
 * or /proc/TID) and, if the task is not in `prev`, its start time.  A task
 * that went away meanwhile is left out (0). */
int lx_add_task(struct mon_backend *b, struct mon_dom_raw *d, const struct mon_dom_raw *prev,
		uint64_t tid, const char *dir);
/* The watched domain went away (said once, with why): d is marked gone and
 * holds no tasks nor memory. */
void lx_mark_gone(struct mon_backend *b, struct lx_watch *w, struct mon_dom_raw *d,
		  const char *why);
/* Fills d for a watched process: its threads, resident memory. */
int lx_sample_pid(struct mon_backend *b, struct lx_watch *w, const struct mon_dom_raw *prev,
		  struct mon_dom_raw *d);
/* The process's comm (for a default name) and its start time. */
int lx_pid_identity(struct mon_backend *b, int pid, char **comm, uint64_t *start_ticks);
/* Sum of the resident sets of the processes listed in `dir`/cgroup.procs
 * (bytes). */
int lx_procs_rss(struct mon_backend *b, const char *dir, uint64_t *rss);
/* The resident set of the process task `tid` belongs to (bytes); 0 when the
 * task went away meanwhile. */
int lx_task_rss(struct mon_backend *b, uint64_t tid, uint64_t *rss);

/* cgroup.c */
int lx_cgroup_resolve(struct mon_backend *b, const char *path, struct lx_cgroup *cg,
		      char **rel);
void lx_cgroup_clear(struct lx_cgroup *cg);
int lx_sample_cgroup(struct mon_backend *b, struct lx_watch *w, const struct mon_dom_raw *prev,
		     struct mon_dom_raw *d);

/* cgroup.c: an optional file of the group's (dir: cg->dir or one of its
 * v1 siblings), read into b->buf with mon_read's `flags`; absent or
 * switched off gives -ENOENT quietly, other failures are logged. */
long lx_cg_read_opt(struct mon_backend *b, const struct lx_cgroup *cg, const char *dir,
		    const char *file, unsigned flags);

/* dev.c */
/* Where the monitor's own network namespace is (at open). */
void lx_netns_init(struct mon_backend *b);
/* d's network interfaces: those of the namespace task `tid` is in, when it
 * is not the monitor's own. */
int lx_sample_nets(struct mon_backend *b, struct lx_watch *w, struct mon_dom_raw *d,
		   uint64_t tid);
/* d's disks, for a watched cgroup (io.stat, or v1 blkio). */
int lx_sample_disks(struct mon_backend *b, struct lx_watch *w, struct mon_dom_raw *d);

/* host.c */
int lx_sample_host(struct mon_backend *b, struct mon_raw *r);

#endif
