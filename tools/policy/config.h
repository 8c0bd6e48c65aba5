/* SPDX-License-Identifier: MIT */
/*
 * config.h - rvmig-policy's policy file (--policy FILE): which domains it
 * decides on, their SLA and where its observable comes from, their capacity
 * model, the actions allowed with their bounds, the decider's settings and
 * the migration link.  The format is in rvmig-policy(1), POLICY FILE.
 *
 * Why in the tool and not in librvmig: the file names paths, PromQL and
 * Prometheus instances, and matches domains by the names the monitor and the
 * exporter give them: the command line's concerns.  The model it configures
 * (SLA, map, decider, planner) is the library's, and the file maps onto its
 * structs one to one.
 *
 * pol_config_parse() is pure (text in, struct out) so tests and a fuzzer
 * drive it; pol_config_load() reads the file and what it names (a samples
 * CSV to fit a capacity from, or to observe a response time in).
 */
#ifndef RVMIG_TOOLS_POLICY_CONFIG_H
#define RVMIG_TOOLS_POLICY_CONFIG_H

#include <stdarg.h>
#include <stddef.h>

#include <rvmig.h>

#include "policy/act_migrate.h"

#define POL_CONFIG_MAX_BYTES (1u << 20)
#define POL_CONFIG_MAX_LINE 4096
#define POL_CONFIG_MAX_DOMAINS 256
#define POL_CONFIG_MAX_NAME 64
#define POL_GRID_MAX 1000 /* points of one action's range */

enum pol_obs_src {
	POL_OBS_MONITOR = 1, /* the CPU the monitor saw (cpu SLAs) */
	POL_OBS_SAMPLES = 2, /* rows of a samples CSV a probe appends to */
	POL_OBS_PROMQL = 3,  /* an expression on the --prometheus server */
};

/* An actuator's range: values min, min + step, ... <= max. */
struct pol_range {
	int set;
	double min, max, step;
};

struct pol_domain_cfg {
	char name[POL_CONFIG_MAX_NAME + 1]; /* [domain NAME] */
	unsigned line;                      /* of its section header */
	char *host;                         /* instance / trace host to match; NULL: any */
	int match_id;                       /* match on the id rather than the name */
	char *match;                        /* fnmatch(3) pattern on the name, or an id */
	struct rvmig_sla sla;
	enum pol_obs_src obs;
	char *obs_path, *obs_app;           /* POL_OBS_SAMPLES */
	char *promql;                       /* POL_OBS_PROMQL */
	double share;                       /* CPU share granted now, CPUs; 0: the host's CPUs */
	int cap_fit;                        /* capacity fitted from a samples CSV */
	char *fit_path, *fit_app, *fit_scenario;
	double fit_max_share;
	double c0, c1;                      /* capacity model (given, or after the fit) */
	struct pol_range cpu_max;           /* cgroup cpu.max, CPUs */
	struct pol_range credit_cap;        /* Xen credit cap, % of a CPU */
	struct pol_range vcpus;             /* vCPU count (Xen) / cpuset CPUs (Linux), integers */
	struct pol_range weight;            /* scheduler weight: credit (Xen) or cpu.weight (v2 units) */
	double vcpus_now, weight_now;       /* their settings now (0: unknown / the default);
					     * live runs read them instead */
	int migrate;
	int save;                           /* may be saved to the store and restored later */
	double memory, dirty_rate;          /* bytes, bytes/s; 0: the [migration] defaults */
	rvmig_samples *obs_set;             /* POL_OBS_SAMPLES, after pol_config_load() */
};

struct pol_migration_cfg {
	double overload;          /* a host is overloaded above demand / CPUs (default 1.0) */
	double fill;              /* relieve sources and fill destinations to this (default 0.9) */
	struct rvmig_link link;   /* bandwidth 0: no migration is planned */
	/* calibrate = PATH TRANSPORT: bandwidth and overhead fitted
	 * (rvmig_link_calibrate()) to the measured runs of an rvmig-eval
	 * parallel.csv, by pol_config_load() */
	char *calib_path, *calib_transport;
	unsigned calib_runs;      /* runs fitted */
	double calib_rel_err;     /* the worst |predicted - measured| / measured */
	/* runs = PATH (exec.runs): the toolstack's fixed cost of each kind
	 * (index: enum rvmig_transfer_kind) fitted by rvmig_xfer_fit() to the
	 * runs of exec.transport recorded there, by pol_config_load() */
	struct rvmig_xfer_model toolstack[4];
	double memory;            /* default memory of a domain, bytes (default 1 GiB) */
	char *store;              /* store = NAME: the host saves go to; NULL: no saves */
	/* store_dir = PATH: the store is this host, its checkpoints kept in
	 * PATH (act_park.h); NULL: --apply carries out no save or restore */
	char *store_dir;
	double dirty_rate;        /* default dirty rate, bytes/s (default 0) */
	/* how --apply executes a migration: transport, port, tunnel,
	 * rvmig_save, rvmig_recv, key_file, host NAME ADDRESS, deadline_* */
	struct act_mig_cfg exec;
};

struct pol_config {
	char *path;                       /* as given */
	struct rvmig_decider_attr dec;    /* zero fields: the library's defaults */
	double cpu_price;                 /* utility per CPU granted (default 0.05) */
	unsigned max_actions;             /* decisions per evaluation (default 1) */
	double samples_max_age;           /* seconds a samples row stays current (default 60) */
	struct pol_migration_cfg mig;
	struct pol_domain_cfg *doms;
	size_t ndoms;
};

/*
 * Parses policy text (`len` bytes, `path` names it in messages).  Paths in
 * it are taken relative to the directory of `path`.  Returns 0, or -EINVAL
 * / -E2BIG / -ENOMEM with err naming file:line and what is wrong; *out is
 * empty on failure.
 */
int pol_config_parse(const char *text, size_t len, const char *path, struct pol_config *out,
		     char *err, size_t errlen);
/* Reads and parses `path` (at most POL_CONFIG_MAX_BYTES), then reads the
 * samples files it names: fits the capacity models, keeps the observation
 * sets.  0 or a negative errno with err set. */
int pol_config_load(const char *path, struct pol_config *out, char *err, size_t errlen);
void pol_config_free(struct pol_config *c);

/* "FILE:LINE: message" (FILE escaped; no ":LINE" for line 0) into err;
 * returns rc.  What the policy file's and the trace's parsers say. */
__attribute__((format(printf, 6, 0)))
int pol_vfail_at(char *err, size_t errlen, int rc, const char *file, unsigned line,
		 const char *fmt, va_list ap);

#define POL_CALIB_MAX_RUNS 1000

/*
 * The runs of `transport` with status ok in an rvmig-eval parallel.csv
 * (columns n, transport, bytes_each, makespan_s and status, found by the
 * header's names; others ignored): into k, bytes and makespan (max rows
 * each).  Returns how many, or -EINVAL / -E2BIG with err naming the line.
 * Pure.
 */
int pol_calib_parse(const char *text, size_t len, const char *name, const char *transport,
		    unsigned *k, double *bytes, double *makespan, size_t max, char *err,
		    size_t errlen);

/*
 * rvmig-policy's runs file ([migration] runs = PATH): one row per
 * migration, save or restore --apply carried out, appended as it ends.
 * Columns (POL_RUNS_HEADER): the wall time, the kind (migrate, save,
 * restore), the transport, the domain's name (characters outside
 * [A-Za-z0-9._-] as '_'), its memory and dirty rate as planned, the
 * predicted and measured time, the predicted and measured downtime (-1:
 * not measured), and ok or failed.
 */
#define POL_RUNS_HEADER                                                                   \
	"time,kind,transport,domain,mem_bytes,dirty_rate,predicted_s,measured_s,"         \
	"predicted_downtime_s,downtime_s,status"
#define POL_RUNS_MAX 10000

/* The ok runs of `transport` in a runs file (columns found by the
 * header's names, others ignored) into out (max rows).  Returns how many,
 * or -EINVAL / -E2BIG with err naming the line.  Pure. */
int pol_runs_parse(const char *text, size_t len, const char *name, const char *transport,
		   struct rvmig_xfer_run *out, size_t max, char *err, size_t errlen);
/* "migrate", "save", "restore"; "?" otherwise. */
const char *pol_run_kind_name(enum rvmig_transfer_kind kind);

struct pol_run_rec {
	double t;                            /* wall time at the end */
	enum rvmig_transfer_kind kind;
	const char *transport, *domain;
	double mem_bytes, dirty_rate;
	double predicted_s, measured_s;
	double predicted_downtime_s, downtime_s; /* -1: not measured */
	int ok;
};

/* Appends one row to the runs file at `path` (created 0644 with the
 * header when missing or empty; never through a symbolic link).  0 or a
 * negative errno with err naming the file. */
int pol_runs_append(const char *path, const struct pol_run_rec *r, char *err, size_t errlen);

/* Reads a whole regular file of at most `max` bytes into a NUL-terminated
 * buffer.  0 or a negative errno with err naming the file. */
int pol_read_file(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen);

#endif
