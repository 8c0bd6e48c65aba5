/* SPDX-License-Identifier: MIT */
/*
 * rvmig/policy.h - the policy model: pure computation, no I/O.  See
 * rvmig_policy(3) (utility, samples, map), rvmig_decider(3),
 * rvmig_verify(3), rvmig_share_predict(3) and rvmig_planner(3).
 *
 *   utility   how much an application's SLA is met, 0..1, from one
 *             observable (a response time against a target, or a CPU
 *             share against a floor): the sigmoid of Menasce & Bennani
 *             (2006).
 *   samples   measurements (configuration, offered load, observed
 *             latency), parsed from CSV text the caller read.
 *   map       a good/bad map over (CPU share, offered load) fitted from
 *             samples: the capacity that meets the SLA at each share, a
 *             boundary band where action is due, and its validation error
 *             on held-out samples.
 *   decider   fed observations over time, proposes actions with hysteresis,
 *             minimum dwell, per-domain and global cool-downs; the chosen
 *             action maximises predicted utility minus cost, and carries
 *             its reason.
 *   verify    whether an action applied had the predicted effect, from the
 *             observations after it: keep it or roll it back.
 *   share     the CPU share a domain can expect from its cap, its vCPU
 *             count and its scheduler weight among the runnable domains on
 *             the same CPUs: what a cap, vCPU or weight action would give.
 *   planner   the pre-copy model of Xen's save / restore / live migration,
 *             k transfers sharing one link, streamed through a queue:
 *             per-VM start, end and downtime, the makespan, the choice of
 *             k and order, and link calibration from measured runs.
 *
 * Conventions (rvmig/common.h): calls return 0 or a count on success and a
 * negative errno on failure; parameter and result structs start with a
 * `size` member the caller sets to sizeof(struct ...).  Nothing here does
 * I/O, keeps global state, starts threads or needs a context; an object is
 * used by one thread at a time.  Calls that can fail on bad input take an
 * optional text buffer (err, errlen) for a message naming what was wrong
 * and where; text from the input in it is escaped (rvmig_text_escape()).
 * Units: times in seconds (double) unless named _ns, CPU shares in CPUs
 * (0.05 = 5 % of one CPU), loads in requests per second, sizes in bytes.
 */
#ifndef RVMIG_POLICY_H
#define RVMIG_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <rvmig/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SLA and utility (rvmig_policy(3)) -------------------------------- */

enum rvmig_sla_kind {
	/* The observable must stay at or below the target (a response time,
	 * ms): U(R) = e^{a(b-R)} / (1 + e^{a(b-R)}). */
	RVMIG_SLA_RESPONSE = 1,
	/* The observable must stay at or above the target (a CPU share
	 * floor, CPUs): U(x) = e^{a(x-b)} / (1 + e^{a(x-b)}). */
	RVMIG_SLA_FLOOR = 2,
};

/* Latency column a response-time SLA reads from samples. */
enum rvmig_metric {
	RVMIG_METRIC_P99 = 0, /* default */
	RVMIG_METRIC_P50 = 1,
	RVMIG_METRIC_MEAN = 2,
};

struct rvmig_sla {
	size_t size;              /* sizeof(struct rvmig_sla) */
	enum rvmig_sla_kind kind; /* default RVMIG_SLA_RESPONSE */
	enum rvmig_metric metric; /* RESPONSE only; default RVMIG_METRIC_P99 */
	double target;            /* b: ms (RESPONSE) or CPUs (FLOOR); required, > 0 */
	/* a: steepness, per unit of the observable; > 0.  Default 4/target:
	 * U falls from 0.88 at 0.5 x target to 0.5 at the target and 0.12 at
	 * 1.5 x target (RESPONSE). */
	double alpha;
};

/*
 * Utility of observing `x` under `sla`, in [0, 1]: 0.5 at the target,
 * towards 1 as the SLA is met with margin, towards 0 as it is missed.
 * x = +inf gives 0 (RESPONSE) or 1 (FLOOR).  NaN for an invalid SLA
 * (kind, a target <= 0 or not finite, alpha < 0 or not finite) or x NaN.
 */
RVMIG_API double rvmig_utility(const struct rvmig_sla *sla, double x);

/* ---- samples (rvmig_policy(3)) ---------------------------------------- */

typedef struct rvmig_samples rvmig_samples;

/* The CSV header, exactly, as the first line that is not a comment. */
#define RVMIG_SAMPLES_HEADER \
	"app,scenario,cpu_share,offered_rps,achieved_rps,p50_ms,p99_ms,mean_ms,errors,duration_s"
#define RVMIG_SAMPLES_MAX_LINE 4096     /* bytes per line, without the newline */
#define RVMIG_SAMPLES_MAX_NAME 64       /* bytes of app and scenario */
#define RVMIG_SAMPLES_MAX_ROWS 100000

/* One measurement.  app and scenario: 1..RVMIG_SAMPLES_MAX_NAME bytes of
 * [A-Za-z0-9._-]; cpu_share, duration_s > 0; offered_rps, achieved_rps and
 * the latencies >= 0; p50 <= p99; all finite.  `line`: the CSV line (1 is
 * the first), 0 for samples added with rvmig_samples_add(). */
struct rvmig_sample {
	size_t size;              /* sizeof(struct rvmig_sample) */
	const char *app;
	const char *scenario;
	double cpu_share;         /* CPU cap, CPUs; uncapped runs: the host's CPUs */
	/* Offered (paced) request rate; 0: a closed-loop run (the client
	 * sends as fast as the server answers), which measures throughput
	 * and is left out of the map. */
	double offered_rps;
	double achieved_rps;      /* measured throughput */
	double p50_ms, p99_ms, mean_ms;
	uint64_t errors;          /* failed requests */
	double duration_s;
	unsigned line;
};

/* An empty set.  -ENOMEM. */
RVMIG_API int rvmig_samples_create(rvmig_samples **out);
/*
 * Parses CSV text (`len` bytes at `text`, not NUL-terminated) into a new
 * set: '#' comment lines and empty lines anywhere, then the header line
 * RVMIG_SAMPLES_HEADER, then one row per measurement; lines end in "\n"
 * (a "\r" before it is dropped).  Numbers are decimal (digits, optional
 * '.', fraction and exponent); nan, inf, hex, signs on counts, empty
 * fields, quotes, extra or missing columns are refused.  Returns the
 * number of rows, -EINVAL with err naming the line, column and field
 * ("line 7, column 4 (offered_rps): \"1e999\" is not a finite number"),
 * -E2BIG past RVMIG_SAMPLES_MAX_ROWS rows or a line past
 * RVMIG_SAMPLES_MAX_LINE bytes, -ENOMEM.  Nothing is returned on error.
 */
RVMIG_API int rvmig_samples_parse(const void *text, size_t len, rvmig_samples **out,
				  char *err, size_t errlen);
/* Adds a copy of *s (its strings copied), validated as a parsed row.
 * Returns the index, -EINVAL (err says why), -E2BIG, -ENOMEM. */
RVMIG_API int rvmig_samples_add(rvmig_samples *set, const struct rvmig_sample *s,
				char *err, size_t errlen);
RVMIG_API void rvmig_samples_free(rvmig_samples *set);
RVMIG_API size_t rvmig_samples_count(const rvmig_samples *set);
/* Fills *out (up to out->size) with sample i; its strings belong to the
 * set.  -ERANGE for i out of range, -EINVAL for a too-small out->size. */
RVMIG_API int rvmig_samples_get(const rvmig_samples *set, size_t i, struct rvmig_sample *out);

/* ---- good/bad map (rvmig_policy(3)) ----------------------------------- */

typedef struct rvmig_map rvmig_map;

/* How rvmig_map_fit() places the boundary (rvmig_map_attr.fit). */
enum rvmig_map_fit_kind {
	/* One cut on the load per CPU, offered / share, over the samples of
	 * all shares together: capacity(share) = c1 * share.  Default. */
	RVMIG_MAP_FIT_UTILISATION = 0,
	/* A cut per share, then capacity(share) = c0 + c1 * share through
	 * those cuts (the model before RVMIG_MAP_FIT_UTILISATION). */
	RVMIG_MAP_FIT_PER_SHARE = 1,
};

struct rvmig_map_attr {
	size_t size;              /* sizeof(struct rvmig_map_attr) */
	/* Which samples: app and scenario equal to these; NULL: any (but a
	 * map must not mix apps: -EINVAL when the selection holds two).
	 * Closed-loop samples (offered_rps 0) are never selected. */
	const char *app;
	const char *scenario;
	/* The SLA that makes a sample good: kind RVMIG_SLA_RESPONSE, its
	 * metric column <= target.  Required. */
	struct rvmig_sla sla;
	/* A sample is also bad when it did not keep up, achieved_rps <
	 * min_achieved * offered_rps (default 0.60: a load generator paced
	 * by think time delivers offered * think / (think + response time +
	 * its timer's slack) before the server saturates: in bench/policy's
	 * sweep of 2026-12-06, 0.72-0.94 at loads under half the capacity
	 * that met the SLA, a third of all such points under 0.80), or more
	 * than max_error_share of its requests failed, errors / (achieved_rps
	 * * duration_s) (default 0.01). */
	double min_achieved;
	double max_error_share;
	/* Half-width of the boundary band, relative to capacity (default
	 * 0.10): a point is BOUNDARY when load/capacity(share) is within
	 * [1 - band, 1 + band]. */
	double band;
	/* Only samples at CPU shares up to this (0: all).  For a sweep whose
	 * load generator, not the server, saturates above some share (in
	 * bench/policy, one wrk thread tops out near 13-25 k req/s from 0.8
	 * CPU up, so the boundary stops growing there). */
	double max_share;
	/* How the boundary is fitted (enum rvmig_map_fit_kind; default
	 * RVMIG_MAP_FIT_UTILISATION). */
	int fit;
};

enum rvmig_map_class {
	RVMIG_MAP_GOOD = 1,
	RVMIG_MAP_BOUNDARY = 2,
	RVMIG_MAP_BAD = 3,
};

/*
 * Fits the map.  For each CPU share in the selection, the boundary point
 * is the cut between two consecutive loads that misclassifies the fewest
 * of its samples (good below, bad above; the lowest such cut on a tie),
 * placed at the geometric mean of those two loads; a share where no cut
 * beats calling all its samples good or all bad has none (on clean data:
 * between the largest good load below the first bad one and that one).
 *
 * RVMIG_MAP_FIT_UTILISATION (default): the same cut, made once on the load
 * per CPU (offered / share) of the samples of all shares together, is
 * c1, and capacity(share) = c1 * share (c0 = 0).  With k the server's
 * capacity per CPU this is a cut on utilisation offered / (k * share) at
 * c1 / k: one threshold fitted to every sample, where a cut per share
 * rests on the few samples of its share and a noisy one (a light-load p99
 * spike, repetitions that disagree, a doubling grid of loads) pulls the
 * line through them (bench/policy/README.md: one share held out at a
 * time, 32.1 % of the nginx sweep's samples misclassified per share
 * against 25.0 % pooled, where repetitions that disagree force 17.9 %).
 * -EDOM when no cut beats calling every sample good or every one bad.
 *
 * RVMIG_MAP_FIT_PER_SHARE: capacity(share) = c0 + c1 * share is fitted to
 * the boundary points by least squares on relative error (one point:
 * c0 = 0).  -EDOM when no share has a boundary or the capacity does not
 * grow with share.
 *
 * Why linear: capacity of a CPU-bound server grows in proportion to its
 * CPU (nginx in the issue: 2.3 k req/s at 0.05 CPU, 4.3 k at 0.1, 8.9 k at
 * 0.2, 16.5 k at 0.4, 34.7 k at 0.8: 41-46 k req/s per CPU).  The boundary
 * points are kept either way (rvmig_map_boundary()).
 * Returns 0, -EINVAL (bad attr), -EDOM, -ENOMEM; err says why.
 */
RVMIG_API int rvmig_map_fit(const rvmig_samples *set, const struct rvmig_map_attr *attr,
			    rvmig_map **out, char *err, size_t errlen);
RVMIG_API void rvmig_map_free(rvmig_map *map);
/* capacity(share) = c0 + c1 * share, req/s; never below 0. */
RVMIG_API double rvmig_map_capacity(const rvmig_map *map, double share);
/* The smallest share whose capacity is `load`: (load - c0) / c1, >= 0. */
RVMIG_API double rvmig_map_share_needed(const rvmig_map *map, double load);
RVMIG_API enum rvmig_map_class rvmig_map_classify(const rvmig_map *map, double share, double load);
/* The coefficients (each pointer may be NULL) and the number of per-share
 * boundary points (those RVMIG_MAP_FIT_PER_SHARE fits the line to). */
RVMIG_API unsigned rvmig_map_coef(const rvmig_map *map, double *c0, double *c1);
/* Boundary point i (0 <= i < the count above): its share and capacity.
 * -ERANGE out of range. */
RVMIG_API int rvmig_map_boundary(const rvmig_map *map, unsigned i, double *share, double *capacity);

struct rvmig_map_error {
	size_t size;              /* sizeof(struct rvmig_map_error) */
	unsigned samples;         /* samples judged (those the attr selects) */
	unsigned misclassified;   /* predicted good (load <= capacity) but bad, or the reverse */
	double misclass_rate;     /* misclassified / samples */
	unsigned boundaries;      /* held-out boundary points compared */
	double cap_err_mean;      /* mean |predicted - measured| / measured capacity */
	double cap_err_max;
	/* The data's own ceiling.  repeated: judged samples at a (share,
	 * offered load) point measured more than once (repetitions);
	 * floor_misclassified: the fewest of them any map, whatever its
	 * shape, must misclassify: at each such point the samples of the
	 * minority verdict (two repetitions that disagree: one). */
	unsigned repeated;
	unsigned floor_misclassified;
};

/* Judges `map` on `set` (samples it was not fitted to), selected and
 * classified as by the map's own attr, and the floor of any map on them.
 * -EINVAL. */
RVMIG_API int rvmig_map_evaluate(const rvmig_map *map, const rvmig_samples *set,
				 struct rvmig_map_error *out);
/*
 * k-fold cross-validation over CPU shares: the distinct shares of the
 * selection, in increasing order, go to fold i % k; each fold is held out
 * in turn, the map fitted to the others and judged on it; the figures are
 * summed (rates and means over all held-out samples / points; the floor
 * over all samples).  k >= 2;
 * k larger than the number of shares is leave-one-share-out.  -EINVAL,
 * -EDOM when a fold leaves no boundary to fit (err says which), -ENOMEM.
 */
RVMIG_API int rvmig_map_crossval(const rvmig_samples *set, const struct rvmig_map_attr *attr,
				 unsigned k, struct rvmig_map_error *out, char *err, size_t errlen);

/* ---- decider (rvmig_decider(3)) --------------------------------------- */

typedef struct rvmig_decider rvmig_decider;

struct rvmig_decider_attr {
	size_t size;              /* sizeof(struct rvmig_decider_attr) */
	/* Hysteresis on utility: a domain whose utility falls below
	 * act_below (default 0.3) is VIOLATING at once, and stays so until its
	 * utility has stayed above release_above (default 0.7) for
	 * min_dwell_ns; then it is SATISFIED.  Otherwise a domain above
	 * release_above is SATISFIED, one between the thresholds in HOLD.
	 * 0 < act_below < release_above < 1. */
	double act_below;
	double release_above;
	/* A domain must have been VIOLATING (or SATISFIED) without a break
	 * for min_dwell_ns before an action is taken for it (default 30 s;
	 * 1 for practically none). */
	uint64_t min_dwell_ns;
	/* After an action: none for the same domain for domain_cooldown_ns
	 * (default 120 s), none at all for global_cooldown_ns (default 10 s). */
	uint64_t domain_cooldown_ns;
	uint64_t global_cooldown_ns;
	/* Cost of an action in utility units: its own cost plus
	 * cost_per_downtime_s per second of downtime (default 1.0) plus
	 * cost_per_duration_s per second it takes (default 0.001).
	 * Negative values are taken as 0. */
	double cost_per_downtime_s;
	double cost_per_duration_s;
};

/* A domain the decider watches. */
struct rvmig_policy_domain {
	size_t size;              /* sizeof(struct rvmig_policy_domain) */
	uint64_t id;
	const char *name;         /* copied; NULL: "" */
	struct rvmig_sla sla;
	/* Capacity model (rvmig_map_coef()), req/s = c0 + c1 * share; used
	 * for RESPONSE SLAs to predict the response time at another share.
	 * c1 = 0: unknown, actions predict no change. */
	double cap_c0, cap_c1;
	double share;             /* CPU share now, CPUs, > 0 */
};

enum rvmig_action_kind {
	RVMIG_ACT_NONE = 0,
	RVMIG_ACT_CREDIT_WEIGHT = 1,  /* Xen credit/credit2 weight: value */
	RVMIG_ACT_CREDIT_CAP = 2,     /* Xen cap, % of one CPU: value */
	RVMIG_ACT_VCPUS = 3,          /* vCPU count: value */
	RVMIG_ACT_PIN = 4,            /* vCPU pinning: arg (a CPU list) */
	RVMIG_ACT_CPUFREQ = 5,        /* cpufreq governor: arg */
	RVMIG_ACT_SAVE = 6,           /* save to a checkpoint: arg (path) */
	RVMIG_ACT_RESTORE = 7,        /* restore from a checkpoint: arg */
	RVMIG_ACT_MIGRATE = 8,        /* live migration: arg (destination) */
	RVMIG_ACT_CG_CPU_MAX = 9,     /* cgroup cpu.max / cfs quota, CPUs x 1e6: value */
	RVMIG_ACT_CG_CPU_WEIGHT = 10, /* cgroup cpu.weight / cpu.shares: value */
	RVMIG_ACT_CG_CPUSET = 11,     /* cgroup cpuset.cpus: arg */
	RVMIG_ACT_NKINDS
};

/* A candidate action, described by its effect on the domain's share. */
struct rvmig_action {
	size_t size;              /* sizeof(struct rvmig_action) */
	enum rvmig_action_kind kind;
	uint64_t domain;          /* the domain it acts on */
	double share;             /* the domain's CPU share after it, CPUs, > 0 */
	int64_t value;            /* kind-specific number (see the kinds) */
	const char *arg;          /* kind-specific text; not copied */
	double cost;              /* own cost, utility units; < 0: a saving (resources freed) */
	double duration_s;        /* how long it takes (planner); >= 0 */
	double downtime_s;        /* how long the domain stops (planner); >= 0 */
};

/* Why an action was chosen.  A RAISE acts on a VIOLATING domain, a
 * RELEASE on a SATISFIED one (an action with negative cost that keeps the
 * predicted utility above release_above). */
enum rvmig_decision_why {
	RVMIG_WHY_RAISE = 1,
	RVMIG_WHY_RELEASE = 2,
};

struct rvmig_reason {
	enum rvmig_decision_why why;
	enum rvmig_sla_kind sla_kind;
	const char *metric;       /* "p99_ms", "p50_ms", "mean_ms", "cpu_share"; static */
	double observed;          /* the last observed value of the metric */
	double target;            /* the SLA target */
	double load;              /* the load predicted for: the highest observed since state_since_ns, req/s */
	double threshold;         /* the utility threshold crossed (act_below or release_above) */
	double utility_before;    /* utility of the observation */
	double predicted;         /* predicted value of the metric after the action */
	double utility_after;     /* predicted utility after the action */
	double cost;              /* total cost (own + downtime + duration) */
	uint64_t state_since_ns;  /* since when the domain is in its state */
};

struct rvmig_decision {
	size_t size;              /* sizeof(struct rvmig_decision) */
	uint64_t domain;
	struct rvmig_action action; /* copy of the chosen candidate (arg not copied) */
	struct rvmig_reason reason;
};

enum rvmig_domain_state {
	RVMIG_DOM_UNKNOWN = 0,    /* nothing observed yet */
	RVMIG_DOM_VIOLATING = 1,
	RVMIG_DOM_HOLD = 2,       /* between the thresholds and not VIOLATING */
	RVMIG_DOM_SATISFIED = 3,
};

/* Why a domain got no action at the last decide call. */
enum rvmig_hold {
	RVMIG_HOLD_NONE = 0,      /* it got one */
	RVMIG_HOLD_NO_DATA = 1,
	RVMIG_HOLD_IN_BAND = 2,   /* between the thresholds: nothing is due */
	RVMIG_HOLD_DWELL = 3,
	RVMIG_HOLD_DOMAIN_COOLDOWN = 4,
	RVMIG_HOLD_GLOBAL_COOLDOWN = 5,
	RVMIG_HOLD_NO_BENEFIT = 6, /* no candidate predicted utility - cost above doing nothing */
	RVMIG_HOLD_NO_CANDIDATE = 7, /* no candidate action for this domain */
	RVMIG_HOLD_LIMIT = 8,     /* due, but `max` decisions were already written */
};

struct rvmig_domain_status {
	size_t size;              /* sizeof(struct rvmig_domain_status) */
	enum rvmig_domain_state state;
	enum rvmig_hold hold;
	double utility;           /* of the last observation; NaN before one */
	double observed, load, share;
	uint64_t state_since_ns;
	uint64_t last_action_ns;  /* 0: never */
};

/* attr may be NULL (defaults).  -EINVAL (thresholds out of order), -ENOMEM. */
RVMIG_API int rvmig_decider_create(const struct rvmig_decider_attr *attr, rvmig_decider **out);
RVMIG_API void rvmig_decider_destroy(rvmig_decider *dec);
/* Adds a domain, or replaces the SLA, capacity model and share of one
 * with the same id.  -EINVAL (invalid SLA or share), -ENOMEM. */
RVMIG_API int rvmig_decider_set_domain(rvmig_decider *dec, const struct rvmig_policy_domain *d);
/*
 * An observation of domain `id` at `now_ns` (any monotonic clock, never
 * decreasing): its SLA observable (ms for RESPONSE, CPUs for FLOOR), the
 * offered load (req/s; 0 if unknown) and its CPU share now.  Updates the
 * domain's utility and hysteresis state.  -ENOENT (unknown domain),
 * -EINVAL (a value NaN, negative or infinite, share <= 0, time going
 * back).
 */
RVMIG_API int rvmig_decider_observe(rvmig_decider *dec, uint64_t now_ns, uint64_t id,
				    double observed, double load, double share);
/*
 * Decides at `now_ns` among the `n` candidate actions (each for one
 * domain; several per domain are usual: the steps up and down of each
 * actuator).  For each domain, in the order they were added, whose state
 * calls for action and whose dwell and cool-downs are over: the candidate
 * with the greatest predicted utility minus cost, if that beats doing
 * nothing (the utility now).  Writes at most `max` decisions to `out`
 * (each out[i].size set by the caller) and returns how many; a decision
 * counts as taken: it starts the cool-downs and sets the domain's share to
 * the action's (the next observation says what really happened).  With a
 * global cool-down at most one decision is returned per call.  Every
 * domain's hold reason is kept for rvmig_decider_status().  -EINVAL (a
 * candidate for no known domain, share <= 0, NaN, a too-small size).
 */
RVMIG_API int rvmig_decider_decide(rvmig_decider *dec, uint64_t now_ns,
				   const struct rvmig_action *cand, size_t n,
				   struct rvmig_decision *out, size_t max);
/* Domain `id`'s state.  -ENOENT, -EINVAL. */
RVMIG_API int rvmig_decider_status(const rvmig_decider *dec, uint64_t id,
				   struct rvmig_domain_status *out);
/* Names: "credit-weight", ... (kinds), "in-band", ... (holds), "violating",
 * ... (states), "raise" / "release"; static, never NULL ("?" for an unknown
 * value). */
RVMIG_API const char *rvmig_action_kind_name(enum rvmig_action_kind kind);
RVMIG_API const char *rvmig_hold_name(enum rvmig_hold hold);
RVMIG_API const char *rvmig_domain_state_name(enum rvmig_domain_state state);
RVMIG_API const char *rvmig_why_name(enum rvmig_decision_why why);

/* ---- verifying an applied action (rvmig_verify(3)) -------------------- */

enum rvmig_verdict {
	RVMIG_VERDICT_PENDING = 0, /* fewer than min_samples observations yet */
	RVMIG_VERDICT_KEEP = 1,    /* as predicted, or within noise of it */
	RVMIG_VERDICT_UNDO = 2,    /* the opposite of predicted: roll it back */
};

/* An action taken and what was predicted of it (its rvmig_reason). */
struct rvmig_verify_attr {
	size_t size;              /* sizeof(struct rvmig_verify_attr) */
	struct rvmig_sla sla;     /* the domain's SLA; required */
	double before;            /* the observable when it was taken (reason.observed), >= 0 */
	double predicted;         /* the observable predicted after it (reason.predicted), >= 0 */
	/* Observations needed for a verdict (default 3; at most
	 * RVMIG_VERIFY_MAX_SAMPLES). */
	unsigned min_samples;
	/* Relative change of the observable taken as noise (default 0.10)
	 * and change of utility taken as noise (default 0.05); >= 0. */
	double noise;
	double utility_noise;
};

#define RVMIG_VERIFY_MAX_SAMPLES 4096

struct rvmig_verify_result {
	size_t size;              /* sizeof(struct rvmig_verify_result) */
	enum rvmig_verdict verdict;
	double observed;          /* median of the observations after the action */
	double reference;         /* what it is judged against (see rvmig_verify()) */
	double utility_before, utility_predicted, utility_after; /* of before, predicted, observed */
	int metric_worse;         /* the observable moved the wrong way beyond noise */
	int utility_fell;         /* utility fell beyond noise */
};

/*
 * Judges an applied action from the `n` observations of its domain's SLA
 * observable since it was taken (ms for RESPONSE, CPUs for FLOOR).  The
 * reference is the worse of `before` and `predicted` under the SLA: for an
 * action predicted to help (a raise) the state it was taken in, for one
 * predicted to cost a little (a release) the prediction.  With fewer than
 * min_samples observations the verdict is PENDING; otherwise, with m their
 * median, UNDO when m is worse than the reference by more than `noise`
 * (RESPONSE: m > ref x (1 + noise); FLOOR: m < ref x (1 - noise)) or its
 * utility is below that of the reference by more than utility_noise, else
 * KEEP.  Pure: the caller watches the samples, decides how long the window
 * is and rolls back.  -EINVAL (an invalid SLA or attr, an observation NaN,
 * negative or infinite), -E2BIG (n > RVMIG_VERIFY_MAX_SAMPLES).
 */
RVMIG_API int rvmig_verify(const struct rvmig_verify_attr *attr, const double *after, size_t n,
			   struct rvmig_verify_result *out);
/* "pending", "keep", "undo"; static, never NULL ("?" otherwise). */
RVMIG_API const char *rvmig_verdict_name(enum rvmig_verdict v);

/* ---- the share a domain can expect (rvmig_share_predict(3)) ----------- */

/* A domain on a pool of CPUs it shares with other runnable domains, and
 * its three CPU controls. */
struct rvmig_share_attr {
	size_t size;              /* sizeof(struct rvmig_share_attr) */
	double cpus;              /* CPUs of the pool the domains share, > 0 */
	double cap;               /* the domain's cap, CPUs; 0: none */
	double vcpus;             /* its vCPUs (Linux: CPUs it may run on); 0: no bound */
	double weight;            /* its scheduler weight, > 0 */
	double demand;            /* CPUs it would use unhindered, >= 0 */
	/* The other runnable domains on the same CPUs, together: the sum of
	 * their weights (0: none) and of their demands, CPUs. */
	double others_weight;
	double others_demand;
};

/*
 * The CPU share (CPUs) the domain can expect: the least of its cap, its
 * vCPUs, the pool's CPUs and what a work-conserving proportional-share
 * scheduler (Xen credit / credit2, Linux CFS) gives it against the others:
 * when the demands fit in the pool, no contention and the weight does not
 * matter; else its weighted part cpus x weight / (weight + others_weight),
 * raised by whatever the others leave of theirs unused (two-party water
 * filling).  The share is an entitlement (what it may use), not a
 * prediction of its use: a domain demanding less uses less.  Pure.  0, or
 * -EINVAL (a NaN, a negative value, cpus or weight <= 0, a too-small size).
 */
RVMIG_API int rvmig_share_predict(const struct rvmig_share_attr *attr, double *share);

/* ---- parallel-migration planner (rvmig_planner(3)) -------------------- */

typedef struct rvmig_planner rvmig_planner;
typedef struct rvmig_plan rvmig_plan;

/* The link the transfers share and the rules they follow. */
struct rvmig_link {
	size_t size;              /* sizeof(struct rvmig_link) */
	double bandwidth;         /* B, bytes/s of the link; required, > 0 */
	double per_transfer_cap;  /* bytes/s one transfer can reach; 0: B */
	/* Fixed time of each transfer besides its bytes (connection, domain
	 * create / suspend / resume), spent before its first byte in its
	 * concurrency slot, without using the link (default 0). */
	double overhead_s;
	/* Extra downtime of a migration besides its last copy (suspend,
	 * device state, resume on the other side; default 0). */
	double stop_overhead_s;
	/* Pre-copy stop rule: at most max_iterations live rounds (default
	 * 5), or stop once fewer than dirty_threshold pages (default 50) of
	 * page_size bytes (default 4096) are dirty, as Xen 4.17 does. */
	unsigned max_iterations;
	unsigned dirty_threshold;
	unsigned page_size;
	/* Concurrency cap (default 8, at most 256) and downtime SLA of every
	 * migration in seconds (0: none) that rvmig_planner_choose() keeps to. */
	unsigned max_concurrent;
	double max_downtime_s;
	/* Contention c (default 0, at most 100): n transfers sending at once
	 * share an effective bandwidth B / (1 + c (n - 1)) -- what each added
	 * stream costs the others (per-stream CPU, interrupts, scheduling of
	 * the processes at both ends).  Added in RVMIG_0.13: a caller built
	 * against an older struct has a smaller size and gets 0. */
	double contention;
};

enum rvmig_transfer_kind {
	RVMIG_XFER_MIGRATE = 1,   /* live: pre-copy rounds, then a stop-and-copy */
	RVMIG_XFER_SAVE = 2,      /* the domain is paused, its memory sent once */
	RVMIG_XFER_RESTORE = 3,   /* a checkpoint sent back once; the domain runs at the end */
};

struct rvmig_transfer {
	size_t size;              /* sizeof(struct rvmig_transfer) */
	enum rvmig_transfer_kind kind;
	uint64_t id;
	double mem_bytes;         /* M, > 0 */
	double dirty_rate;        /* D, bytes/s the guest dirties (MIGRATE); >= 0 */
	/* Added in RVMIG_0.14 (a caller built against the older struct has a
	 * smaller size and gets 0): this transfer's own fixed time besides
	 * the link's overhead_s -- the toolstack's work for it (building the
	 * receiving domain, device setup, suspend and resume), as
	 * rvmig_xfer_fit() measures it -- spent in its slot before its first
	 * byte without using the link; and its own downtime besides the
	 * link's stop_overhead_s (MIGRATE).  >= 0, finite. */
	double overhead_s;
	double stop_overhead_s;
};

enum rvmig_plan_order {
	RVMIG_ORDER_GIVEN = 0,    /* as added */
	RVMIG_ORDER_SHORTEST = 1, /* shortest predicted transfer first */
	RVMIG_ORDER_LONGEST = 2,  /* longest first (LPT) */
};

/* Per-transfer prediction in a plan. */
struct rvmig_plan_entry {
	size_t size;              /* sizeof(struct rvmig_plan_entry) */
	uint64_t id;
	enum rvmig_transfer_kind kind;
	unsigned position;        /* place in the queue, 0 first */
	double start_s, end_s;    /* from the plan's start */
	double downtime_s;        /* MIGRATE: last copy + stop_overhead_s; SAVE/RESTORE: end - start */
	double bytes;             /* sent in all */
	unsigned rounds;          /* MIGRATE: live rounds + the stop-and-copy; else 1 */
};

/* A planner for one link.  -EINVAL (bad link), -ENOMEM. */
RVMIG_API int rvmig_planner_create(const struct rvmig_link *link, rvmig_planner **out);
RVMIG_API void rvmig_planner_destroy(rvmig_planner *pl);
/* Adds a transfer.  Returns its index, -EINVAL, -E2BIG (past 4096), -ENOMEM. */
RVMIG_API int rvmig_planner_add(rvmig_planner *pl, const struct rvmig_transfer *t);
/*
 * Simulates the queue in `order` with at most k transfers at once: a
 * transfer starts as soon as a slot is free (a stream, not waves), the n
 * transfers sending share the link's effective bandwidth
 * B / (1 + contention (n - 1)) equally (each at most per_transfer_cap),
 * and the rates change whenever one starts sending or ends.  -EINVAL
 * (k == 0, no transfers), -ENOMEM.
 */
RVMIG_API int rvmig_planner_simulate(const rvmig_planner *pl, unsigned k,
				     enum rvmig_plan_order order, rvmig_plan **out);
/*
 * Chooses k (1 .. max_concurrent) and order for the least makespan with
 * every migration's downtime within max_downtime_s (ties: smaller k).  If
 * no choice meets the SLA, returns the one with the least worst downtime
 * and rvmig_plan_meets_sla() says so.  -EINVAL, -ENOMEM.
 */
RVMIG_API int rvmig_planner_choose(const rvmig_planner *pl, rvmig_plan **out);
RVMIG_API void rvmig_plan_free(rvmig_plan *plan);
RVMIG_API double rvmig_plan_makespan(const rvmig_plan *plan);
/* The longest downtime of a migration in the plan; 0 without migrations. */
RVMIG_API double rvmig_plan_max_downtime(const rvmig_plan *plan);
RVMIG_API unsigned rvmig_plan_concurrency(const rvmig_plan *plan);
RVMIG_API enum rvmig_plan_order rvmig_plan_order(const rvmig_plan *plan);
/* 1 when every migration's downtime is within the link's max_downtime_s. */
RVMIG_API int rvmig_plan_meets_sla(const rvmig_plan *plan);
RVMIG_API size_t rvmig_plan_count(const rvmig_plan *plan);
/* Entry i, in the order transfers were added.  -ERANGE, -EINVAL. */
RVMIG_API int rvmig_plan_entry(const rvmig_plan *plan, size_t i, struct rvmig_plan_entry *out);
/* "given", "shortest-first", "longest-first"; static, never NULL. */
RVMIG_API const char *rvmig_plan_order_name(enum rvmig_plan_order order);

/*
 * Calibrates a link from n measured runs, run i being k[i] transfers of
 * bytes[i] each started together, all done after makespan_s[i]:
 * rvmig_link_fit() with RVMIG_LINK_OVERHEAD | RVMIG_LINK_CONTENTION, which
 * stores bandwidth, overhead_s and (when link->size covers it) contention
 * into *link; per_transfer_cap and the rest stay untouched.  Before
 * RVMIG_0.13's contention term (and for a caller whose struct ends before
 * it) the model is overhead + k * bytes / bandwidth.  rel_err, errors: as
 * rvmig_link_fit().
 */
RVMIG_API int rvmig_link_calibrate(const unsigned *k, const double *bytes,
				   const double *makespan_s, size_t n,
				   struct rvmig_link *link, double *rel_err);

/* Terms rvmig_link_fit() fits besides the bandwidth (a bit mask). */
enum rvmig_link_term {
	RVMIG_LINK_OVERHEAD = 1u << 0,   /* overhead_s */
	RVMIG_LINK_CAP = 1u << 1,        /* per_transfer_cap */
	RVMIG_LINK_CONTENTION = 1u << 2, /* contention */
	RVMIG_LINK_ALL = 7u,
};

/*
 * Fits a link to n measured runs (at most 65536), run i being k[i]
 * transfers of bytes[i] each started together and all done after
 * makespan_s[i].  In the planner's model such a run takes
 *   overhead + bytes / min(cap, B / (k (1 + c (k - 1))))
 * (each of the k gets an equal share of the effective bandwidth, at most
 * the per-transfer cap).  The fit minimises the sum of squared relative
 * errors over the runs.  Terms not in `terms` are 0 in the model; c is
 * fitted only from 3 or more distinct k, a cap only where the runs at it
 * show it by themselves -- 2 or more distinct k taking the same time apart
 * from the overhead (a plateau), or transfers of 2 or more sizes (the line
 * overhead + bytes / cap; one point of one k cannot show it) -- with 2 or
 * more distinct k above it;
 * a term whose field lies beyond link->size is not fitted.  Stores
 * bandwidth and each term in `terms` (0 when not shown by the runs) into
 * *link, the rest untouched.  When rel_err is not NULL it gets the largest
 * |predicted - measured| / measured over the runs.  Pure; O(n log n + 250
 * n) time, O(n) memory.  -EINVAL (n < 2, a k of 0, values <= 0 or not
 * finite, unknown terms), -E2BIG (n > 65536), -EDOM (with the overhead:
 * all runs move the same k * bytes; or no fit with a positive bandwidth),
 * -ENOMEM.
 */
RVMIG_API int rvmig_link_fit(const unsigned *k, const double *bytes, const double *makespan_s,
			     size_t n, unsigned terms, struct rvmig_link *link, double *rel_err);

/* ---- the toolstack's fixed cost, from measured runs (rvmig_xfer_fit(3)) */

/* A save, restore or live migration as it was measured. */
struct rvmig_xfer_run {
	size_t size;              /* sizeof(struct rvmig_xfer_run) */
	enum rvmig_transfer_kind kind;
	double mem_bytes;         /* M, > 0 */
	double dirty_rate;        /* D, bytes/s (MIGRATE); >= 0 */
	double measured_s;        /* start to end, > 0 */
	double downtime_s;        /* MIGRATE: measured downtime, > 0; <= 0: not measured */
};

/* The fixed cost of one kind of transfer, fitted by rvmig_xfer_fit(). */
struct rvmig_xfer_model {
	size_t size;              /* sizeof(struct rvmig_xfer_model) */
	unsigned runs;            /* runs of the kind fitted; 0: none (all below 0) */
	/* The fixed time (rvmig_transfer.overhead_s) and how much of the
	 * runs' time the link accounted for (the mean over them). */
	double overhead_s;
	double transfer_s;
	double rel_err;           /* worst |predicted - measured| / measured after the fit */
	unsigned downtime_runs;   /* MIGRATE runs with a measured downtime */
	double stop_overhead_s;   /* rvmig_transfer.stop_overhead_s */
	double downtime_rel_err;  /* worst, as rel_err, of the downtime */
};

/*
 * Fits the fixed cost of `kind` transfers to the runs of that kind among
 * the n measured ones (others are skipped): each run alone on `link` (as
 * rvmig_planner_simulate() with k = 1 predicts it, with the link's
 * overhead_s and stop_overhead_s) is the part the link accounts for, a_i;
 * the model is measured_i = a_i + overhead, and the overhead minimises the
 * sum of the squared relative errors (the weighted mean of measured_i -
 * a_i, weights 1 / measured_i^2), at least 0.  The same for a migration's
 * downtime over the runs that measured one: downtime_i = last copy_i +
 * stop_overhead_s + stop overhead.  Runs of one size cannot tell a slower
 * link from a fixed cost: the overhead then absorbs whatever the link
 * model gets wrong for that size, so it predicts guests of that size (the
 * measured use: the same guests migrated again where the runs were made).
 * Pure.  Returns the runs fitted (0: none of the kind; the model all 0),
 * -EINVAL (a bad link, kind or run), -E2BIG (n > 65536), -ENOMEM.
 */
RVMIG_API int rvmig_xfer_fit(const struct rvmig_link *link, enum rvmig_transfer_kind kind,
			     const struct rvmig_xfer_run *runs, size_t n,
			     struct rvmig_xfer_model *out);

#ifdef __cplusplus
}
#endif
#endif /* RVMIG_POLICY_H */
