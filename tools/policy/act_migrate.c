/* SPDX-License-Identifier: MIT */
/*
 * act_migrate.c - the migration / save / restore executor (act_migrate.h):
 * xl migrate through rvmig-tunnel, rvmig-save, rvmig-recv + xl restore, each
 * run by rvmig_act_exec() (rvmig_act(3)) under a deadline derived from the planner's
 * prediction and stopped with the tool, its lines timestamped as they
 * arrive, the outcome checked with xl.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/cli.h"
#include "common/stop.h"
#include "policy/act_migrate.h"

#define TUNNEL_DEFAULT "rvmig-tunnel"
#define SAVE_DEFAULT "rvmig-save"
#define RECV_DEFAULT "rvmig-recv"

/* What xl -vvv migrate prints at the moments that bound the downtime: the
 * source libxl (DEBUG level) once the guest acknowledged the suspend, and
 * the destination's xl migrate-receive once it unpaused the domain (xl
 * 4.17 spells it "successsfully", so the common prefix is matched). */
#define LINE_SUSPENDED "guest has suspended"
#define LINE_STARTED "migration target: Domain started"
#define LINE_DONE "Migration successful"

/* 1..ACT_MIG_WORD_MAX-1 characters, each alphanumeric or in `extra`. */
static int word_of(const char *s, const char *extra)
{
	if (!*s || strlen(s) >= ACT_MIG_WORD_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr(extra, *s)))
			return 0;
	return 1;
}

/* A word that xl's `sh -c` takes literally. */
static int shell_safe(const char *s)
{
	return word_of(s, "._/:%+=,@-");
}

/* An address: a DNS name, IPv4 or IPv6 literal; not an option. */
static int addr_ok(const char *s)
{
	return *s != '-' && word_of(s, ".:-");
}

static const char *or_default(const char *s, const char *def)
{
	return s ? s : def;
}

static const char *shown(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(s);

	rvmig_text_escape(buf, cap, s, n > 64 ? 64 : n);
	return buf;
}

int act_mig_cfg_check(const struct act_mig_cfg *cfg, char *err, size_t errlen)
{
	const struct { const char *key, *val; } words[] = {
		{ "tunnel", cfg->tunnel }, { "rvmig_save", cfg->save },
		{ "rvmig_recv", cfg->recv }, { "key_file", cfg->key_file },
	};
	char b[300];

	if (cfg->transport && strcmp(cfg->transport, "tcp") && strcmp(cfg->transport, "verbs")) {
		snprintf(err, errlen, "transport: \"%s\" is not tcp or verbs",
			 shown(b, sizeof(b), cfg->transport));
		return -EINVAL;
	}
	if (cfg->port > 65535) {
		snprintf(err, errlen, "port: %u is not 1..65535", cfg->port);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (words[i].val && (!shell_safe(words[i].val) || words[i].val[0] == '-')) {
			snprintf(err, errlen,
				 "%s: \"%s\" is not a path of 1..%d characters from "
				 "A-Z a-z 0-9 . _ / : %% + = , @ - (xl runs it through sh -c)",
				 words[i].key, shown(b, sizeof(b), words[i].val), ACT_MIG_WORD_MAX - 1);
			return -EINVAL;
		}
	if ((cfg->margin && cfg->margin < 1) || cfg->min_s < 0 || cfg->max_s < 0 ||
	    (cfg->min_s && cfg->max_s && cfg->min_s > cfg->max_s)) {
		snprintf(err, errlen, "deadline: needs margin >= 1 and 0 < min <= max (margin %g, "
			 "min %g s, max %g s)", cfg->margin, cfg->min_s, cfg->max_s);
		return -EINVAL;
	}
	if (cfg->tries > ACT_MIG_TRIES_MAX) {
		snprintf(err, errlen, "tries: %u is not 1..%d", cfg->tries, ACT_MIG_TRIES_MAX);
		return -EINVAL;
	}
	if (cfg->nhosts > ACT_MIG_HOSTS_MAX) {
		snprintf(err, errlen, "host: more than %d hosts", ACT_MIG_HOSTS_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < cfg->nhosts; i++) {
		const struct act_mig_host *h = &cfg->hosts[i];

		if (!h->name || !*h->name || !h->addr || !addr_ok(h->addr)) {
			snprintf(err, errlen, "host %s: \"%s\" is not an address (a DNS name, IPv4 or "
				 "IPv6 literal)", shown(b, sizeof(b), h->name ? h->name : ""),
				 h->addr ? shown(b + 150, 150, h->addr) : "");
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(cfg->hosts[j].name, h->name)) {
				snprintf(err, errlen, "host %s: given twice", shown(b, sizeof(b), h->name));
				return -EINVAL;
			}
	}
	return 0;
}

double act_mig_deadline(const struct act_mig_cfg *cfg, double predicted_s)
{
	double margin = cfg->margin ? cfg->margin : ACT_MIG_MARGIN_DEFAULT;
	double lo = cfg->min_s ? cfg->min_s : ACT_MIG_MIN_S_DEFAULT;
	double hi = cfg->max_s ? cfg->max_s : ACT_MIG_MAX_S_DEFAULT;

	if (lo > hi)
		lo = hi;
	if (!(predicted_s > 0) || !isfinite(predicted_s))
		return hi;
	return fmin(hi, fmax(lo, predicted_s * margin));
}

int act_mig_tunnel_cmd(const struct act_mig_cfg *cfg, const char *dest, char *cmd, size_t cmdlen,
		       const char **addr, char *err, size_t errlen)
{
	const struct act_mig_host *h = NULL;
	char b[300];
	int n;

	for (size_t i = 0; i < cfg->nhosts && !h; i++)
		if (!strcmp(cfg->hosts[i].name, dest))
			h = &cfg->hosts[i];
	if (!h) {
		size_t k = (size_t)snprintf(err, errlen, "destination host \"%s\" has no address: "
					    "[migration] host lines name", shown(b, sizeof(b), dest));

		for (size_t i = 0; i < cfg->nhosts && k < errlen; i++)
			k += (size_t)snprintf(err + k, errlen - k, "%s %s", i ? "," : "",
					      shown(b, sizeof(b), cfg->hosts[i].name));
		if (!cfg->nhosts && k < errlen)
			snprintf(err + k, errlen - k, " none");
		return -ENOENT;
	}
	n = snprintf(cmd, cmdlen, "%s -v --uri-template %s://%%h:%u%s%s",
		     or_default(cfg->tunnel, TUNNEL_DEFAULT), or_default(cfg->transport, "tcp"),
		     cfg->port ? cfg->port : ACT_MIG_PORT_DEFAULT, cfg->key_file ? " --key-file " : "",
		     cfg->key_file ? cfg->key_file : "");
	if (n < 0 || (size_t)n >= cmdlen) {
		snprintf(err, errlen, "the rvmig-tunnel command is longer than %zu bytes", cmdlen);
		return -ENAMETOOLONG;
	}
	*addr = h->addr;
	return 0;
}

void act_mig_cfg_free(struct act_mig_cfg *cfg)
{
	free(cfg->transport);
	free(cfg->tunnel);
	free(cfg->save);
	free(cfg->recv);
	free(cfg->key_file);
	free(cfg->runs);
	for (size_t i = 0; i < cfg->nhosts; i++) {
		free(cfg->hosts[i].name);
		free(cfg->hosts[i].addr);
	}
	free(cfg->hosts);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- running ---- */

struct exec_ctx {
	rvmig_act *act;   /* the actuators' command runner and xl list */
	act_mig_log_fn *log;
	void *log_arg;
	char what[512];   /* "migrate xen:3 (name) -> host2 (10.0.0.2)", escaped */
	double t0;        /* tool_now() */
	double t_susp, t_up;
	struct act_mig_result *res;
	int done;         /* LINE_DONE seen */
};

void act_mig_vsay(act_mig_log_fn *log, void *arg, const char *what, double t0, int verbose,
		  const char *fmt, va_list ap)
{
	char msg[5120], line[sizeof(msg) + 4400];

	if (!log)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(line, sizeof(line), "%s: +%.1fs %s", what, tool_now() - t0, msg);
	log(arg, verbose, line);
}

__attribute__((format(printf, 3, 4)))
static void say(struct exec_ctx *x, int verbose, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	act_mig_vsay(x->log, x->log_arg, x->what, x->t0, verbose, fmt, ap);
	va_end(ap);
}

int act_mig_exec(rvmig_act *act, char *const argv[], int64_t timeout_ms, char *out, size_t outcap,
		 rvmig_act_line_fn *on_line, void *arg, char *err, size_t errlen)
{
	struct rvmig_act_exec_attr a = { .size = sizeof(a), .timeout_ms = timeout_ms, .out = out,
					 .outcap = outcap, .on_line = on_line, .arg = arg,
					 .stop = &tool_stop };

	return rvmig_act_exec(act, argv, &a, err, errlen);
}

/* The command(s) exited 0: their time measured, and said, before the
 * outcome is checked. */
static void exited(struct exec_ctx *x, const char *cmd)
{
	x->res->exited_t = tool_now();
	x->res->measured_s = x->res->exited_t - x->t0;
	say(x, 0, "%s exited 0; checking the outcome", cmd);
}

/* A line of xl migrate / rvmig-save / rvmig-recv. */
static void on_line(void *arg, int fd, const char *line)
{
	static const char *const milestones[] = {
		"Ready to receive", "Transfer complete", "Giving target permission",
		LINE_STARTED, LINE_DONE, "Savefile contains", "Restore successful", "verified",
	};
	struct exec_ctx *x = arg;
	char esc[RVMIG_ACT_LINE_MAX * 4 + 1];
	int milestone = 0;

	(void)fd;
	if (strstr(line, LINE_SUSPENDED) && !x->t_susp) {
		x->t_susp = tool_now();
		milestone = 1;
	}
	if (strstr(line, LINE_STARTED) && !x->t_up)
		x->t_up = tool_now();
	if (strstr(line, LINE_DONE))
		x->done = 1;
	for (size_t i = 0; i < sizeof(milestones) / sizeof(milestones[0]) && !milestone; i++)
		milestone = strstr(line, milestones[i]) != NULL;
	rvmig_text_escape(esc, sizeof(esc), line, strlen(line));
	say(x, !milestone, "| %s", esc);
}

/* The domain's name, from `xl domname ID`. */
static int domname(rvmig_act *act, long domid, char *name, size_t len, char *err, size_t errlen)
{
	char d[24], *argv[] = { "xl", "domname", d, NULL }, out[512];
	int rc;

	snprintf(d, sizeof(d), "%ld", domid);
	if ((rc = act_mig_exec(act, argv, RVMIG_ACT_XL_DEADLINE_MS, out, sizeof(out), NULL, NULL, err,
			       errlen)) < 0)
		return rc == -EIO ? -ESRCH : rc;
	out[strcspn(out, "\n")] = '\0';
	if (!*out || strlen(out) >= len || !shell_safe(out)) {
		snprintf(err, errlen, "Xen domain %ld: its name is empty, longer than %zu bytes or "
			 "holds characters other than A-Z a-z 0-9 . _ / : %% + = , @ -", domid, len - 1);
		return -EINVAL;
	}
	snprintf(name, len, "%s", out);
	return 0;
}

/* Same address, IPv4 or IPv6. */
static int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return a->sa_family == AF_INET6 &&
	       !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

int act_mig_is_local(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct ifaddrs *ifs = NULL;
	int local = 0;

	if (getaddrinfo(addr, NULL, &hints, &ai) != 0)
		return 0;
	if (getifaddrs(&ifs) == 0)
		for (const struct addrinfo *a = ai; a && !local; a = a->ai_next) {
			local = (a->ai_family == AF_INET &&
				 (ntohl(((struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr) >> 24) == 127) ||
				(a->ai_family == AF_INET6 &&
				 IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr));
			for (const struct ifaddrs *i = ifs; i && !local; i = i->ifa_next)
				local = i->ifa_addr && same_addr(i->ifa_addr, a->ai_addr);
		}
	freeifaddrs(ifs);
	freeaddrinfo(ai);
	return local;
}

/* A state xl prints for a domain that runs: none of paused, shutdown,
 * crashed, dying. */
static int state_runs(const char *st)
{
	return !strpbrk(st, "pscd");
}

/* After a try of xl migrate that exited non-zero: 1 when it left the
 * source as it was (act_migrate.h: tried again), else 0 with why set. */
static int source_intact(struct exec_ctx *x, const struct act_mig_req *req,
			 const struct act_mig_result *res, char *why, size_t whylen)
{
	char state[16], e2[512], copy[ACT_MIG_NAME_MAX + 16];
	long id = -1;
	int rc = rvmig_act_xen_domain(x->act, res->name, &id, state, sizeof(state), e2, sizeof(e2));

	if (rc < 0) {
		snprintf(why, whylen, "%s", e2);
		return 0;
	}
	if (!rc || id != req->target.id || !state_runs(state)) {
		snprintf(why, whylen, "domain %s %s", res->name,
			 !rc ? "is gone from here (or renamed)"
			 : id != req->target.id ? "has another id here"
						: "is paused, suspended, crashed or dying here");
		return 0;
	}
	snprintf(copy, sizeof(copy), "%s--incoming", res->name);
	if ((rc = rvmig_act_xen_domain(x->act, copy, &id, state, sizeof(state), e2, sizeof(e2))) != 0) {
		snprintf(why, whylen, "%s", rc < 0 ? e2 : "a copy of it, --incoming, is left here");
		return 0;
	}
	return 1;
}

static int run_migrate(const struct act_mig_cfg *cfg, const struct act_mig_req *req,
		       struct exec_ctx *x, struct act_mig_result *res, char *err, size_t errlen)
{
	char cmd[4 * ACT_MIG_WORD_MAX], d[24], state[16], e2[512];
	unsigned tries = cfg->tries ? cfg->tries : ACT_MIG_TRIES_DEFAULT;
	const char *addr;
	long id;
	int rc;

	if (!req->dest) {
		snprintf(err, errlen, "migrate: no destination host");
		return -EINVAL;
	}
	if ((rc = act_mig_tunnel_cmd(cfg, req->dest, cmd, sizeof(cmd), &addr, err, errlen)) < 0)
		return rc;
	snprintf(res->addr, sizeof(res->addr), "%s", addr);
	snprintf(d, sizeof(d), "%ld", req->target.id);
	snprintf(x->what, sizeof(x->what), "migrate xen:%ld (%s) -> %.64s (%s)", req->target.id,
		 res->name, req->dest, addr);
	say(x, 0, "over %s, predicted %.1f s, downtime %.3f s; deadline %.0f s; xl migrate -s \"%s\" %s %s",
	    or_default(cfg->transport, "tcp"), req->predicted_s, req->predicted_downtime_s,
	    res->deadline_s, cmd, d, addr);
	for (res->tries = 1;; res->tries++) {
		char *argv[] = { "xl", "-vvv", "migrate", "-s", cmd, d, (char *)addr, NULL };

		x->t_susp = x->t_up = 0;
		x->done = 0;
		rc = act_mig_exec(x->act, argv, (int64_t)(res->deadline_s * 1000), NULL, 0, on_line,
				  x, err, errlen);
		if (rc == -EINTR) {
			size_t k = strlen(err);

			/* where the stop left the domain */
			if (source_intact(x, req, res, e2, sizeof(e2)))
				snprintf(e2, sizeof(e2), "domain %s still runs here as domain %ld, no "
					 "copy left", res->name, req->target.id);
			snprintf(err + k, errlen > k ? errlen - k : 0, "; after the stop: %s", e2);
		}
		if (rc != -EIO || res->tries >= tries)
			break;
		if (!source_intact(x, req, res, e2, sizeof(e2))) {
			say(x, 0, "try %u of %u failed; not tried again: %s", res->tries, tries, e2);
			break;
		}
		say(x, 0, "try %u of %u failed: %s", res->tries, tries, err);
		say(x, 0, "the domain still runs here as domain %ld, no copy left: trying again in "
		    "%.0f s", req->target.id, ACT_MIG_RETRY_WAIT_S);
		if (tool_stop_wait(ACT_MIG_RETRY_WAIT_S)) {
			size_t k = strlen(err);

			say(x, 0, "asked to stop (signal %d): not tried again", (int)tool_stop);
			snprintf(err + k, errlen > k ? errlen - k : 0,
				 "; not tried again: asked to stop (signal %d)", (int)tool_stop);
			break;
		}
		x->t0 = tool_now();
	}
	res->measured_s = tool_now() - x->t0;
	if (x->t_susp > 0 && x->t_up > 0 && x->t_up >= x->t_susp)
		res->downtime_s = x->t_up - x->t_susp;
	if (rc < 0)
		return rc;
	exited(x, "xl migrate");
	if (!(x->t_up > 0) || !x->done) {
		snprintf(err, errlen, "xl migrate %s %s exited 0 but did not report %s",
			 d, addr, !(x->t_up > 0) ? "the domain started on the destination" : "success");
		return -EIO;
	}
	res->local = act_mig_is_local(addr);
	rc = rvmig_act_xen_domain(x->act, res->name, &id, state, sizeof(state), e2, sizeof(e2));
	if (rc < 0) {
		snprintf(err, errlen, "after the migration: %s", e2);
		return rc;
	}
	if (res->local) {
		if (!rc || id == req->target.id || !state_runs(state)) {
			snprintf(err, errlen, "after the migration to this host: domain %s %s", res->name,
				 !rc ? "is gone"
				 : id == req->target.id ? "still has its old id"
							: "is not running (paused, shut down, crashed or dying)");
			return -EIO;
		}
		res->new_domid = id;
	} else if (rc) {
		snprintf(err, errlen, "after the migration to %s: domain %s is still here (id %ld)", addr,
			 res->name, id);
		return -EIO;
	}
	return 0;
}

static int run_save(const struct act_mig_cfg *cfg, const struct act_mig_req *req,
		    struct exec_ctx *x, struct act_mig_result *res, char *err, size_t errlen)
{
	char d[24], state[16], e2[512];
	long id;
	int rc;

	if (!req->uri || !shell_safe(req->uri) || req->uri[0] == '-') {
		snprintf(err, errlen, "save: no receiver URI, or one with characters other than "
			 "A-Z a-z 0-9 . _ / : %% + = , @ -");
		return -EINVAL;
	}
	snprintf(d, sizeof(d), "%ld", req->target.id);
	snprintf(x->what, sizeof(x->what), "save xen:%ld (%s) -> %.200s", req->target.id, res->name,
		 req->uri);
	say(x, 0, "predicted %.1f s; deadline %.0f s", req->predicted_s, res->deadline_s);
	{
		char *argv[] = { (char *)or_default(cfg->save, SAVE_DEFAULT), "-v", d, (char *)req->uri,
				 cfg->key_file ? "--key-file" : NULL, cfg->key_file, NULL };

		rc = act_mig_exec(x->act, argv, (int64_t)(res->deadline_s * 1000), NULL, 0, on_line,
				  x, err, errlen);
	}
	res->measured_s = tool_now() - x->t0;
	if (rc < 0)
		return rc;
	exited(x, "rvmig-save");
	/* by its id: a restore of the checkpoint on this host may already
	 * have started a domain of the same name (with another id) */
	id = req->target.id;
	if ((rc = rvmig_act_xen_domain(x->act, NULL, &id, state, sizeof(state), e2, sizeof(e2))) != 0) {
		snprintf(err, errlen, "after the save: %s",
			 rc < 0 ? e2 : "the domain is still here (same id)");
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

static int run_restore(const struct act_mig_cfg *cfg, const struct act_mig_req *req,
		       struct exec_ctx *x, struct act_mig_result *res, char *err, size_t errlen)
{
	char state[16], e2[512];
	int64_t left;
	long id;
	int rc = 0;

	if ((req->uri && (!shell_safe(req->uri) || req->uri[0] == '-')) || !req->path ||
	    !*req->path || req->path[0] == '-' || !req->name || !shell_safe(req->name)) {
		snprintf(err, errlen, "restore: needs a URI to listen on (or none), a checkpoint path "
			 "and the domain's name (A-Z a-z 0-9 . _ / : %% + = , @ -)");
		return -EINVAL;
	}
	snprintf(res->name, sizeof(res->name), "%s", req->name);
	snprintf(x->what, sizeof(x->what), "restore %s <- %.200s", req->name,
		 req->uri ? req->uri : req->path);
	say(x, 0, "predicted %.1f s; deadline %.0f s; checkpoint %s %.200s", req->predicted_s,
	    res->deadline_s, req->uri ? "into" : "from", req->path);
	if (req->uri) {
		char *argv[] = { (char *)or_default(cfg->recv, RECV_DEFAULT), "--listen",
				 (char *)req->uri, "-o", (char *)req->path,
				 cfg->key_file ? "--key-file" : NULL, cfg->key_file, NULL };

		rc = act_mig_exec(x->act, argv, (int64_t)(res->deadline_s * 1000), NULL, 0, on_line,
				  x, err, errlen);
	}
	left = (int64_t)((res->deadline_s - (tool_now() - x->t0)) * 1000);
	if (rc == 0 && left <= 0) {
		snprintf(err, errlen, "restore: the checkpoint arrived at the deadline");
		rc = -ETIMEDOUT;
	}
	if (rc == 0) {
		char *argv[] = { "xl", "restore", (char *)req->path, NULL };

		say(x, 0, "%sxl restore %.200s", req->uri ? "checkpoint received; " : "", req->path);
		rc = act_mig_exec(x->act, argv, left, NULL, 0, on_line, x, err, errlen);
	}
	res->measured_s = tool_now() - x->t0;
	if (rc < 0)
		return rc;
	exited(x, "xl restore");
	rc = rvmig_act_xen_domain(x->act, req->name, &id, state, sizeof(state), e2, sizeof(e2));
	if (rc <= 0 || !state_runs(state)) {
		snprintf(err, errlen, "after xl restore: %s", rc < 0 ? e2 : !rc ? "no such domain"
							  : "the domain is not running");
		return rc < 0 ? rc : -EIO;
	}
	res->new_domid = id;
	return 0;
}

/* A migration or save: of a Xen domain only. */
static int run_domain(const struct act_mig_cfg *cfg, const struct act_mig_req *req,
		      struct exec_ctx *x, struct act_mig_result *res, char *err, size_t errlen)
{
	static const char *const ops[] = { "?", "migrate", "save", "restore" };
	char tname[RVMIG_ACT_PATH_MAX + 16];
	int rc;

	if (req->target.kind != RVMIG_ACT_TARGET_XEN) {
		snprintf(err, errlen, "%s %s: Linux has no %s of a cgroup or process; only Xen domains "
			 "(xen:DOMID) are %s", ops[req->op],
			 rvmig_act_target_name(&req->target, tname, sizeof(tname)), ops[req->op],
			 req->op == ACT_MIG_MIGRATE ? "migrated" : "saved");
		return -ENOTSUP;
	}
	res->old_domid = req->target.id;
	if ((rc = domname(x->act, req->target.id, res->name, sizeof(res->name), err, errlen)) < 0)
		return rc;
	return req->op == ACT_MIG_MIGRATE ? run_migrate(cfg, req, x, res, err, errlen)
					  : run_save(cfg, req, x, res, err, errlen);
}

int act_mig_run(const struct act_mig_cfg *cfg, const struct act_mig_req *req, act_mig_log_fn *log,
		void *log_arg, struct act_mig_result *res, char *err, size_t errlen)
{
	struct exec_ctx x = { .log = log, .log_arg = log_arg, .t0 = tool_now(), .res = res };
	int rc;

	memset(res, 0, sizeof(*res));
	res->old_domid = res->new_domid = -1;
	res->downtime_s = -1;
	if (req->op < ACT_MIG_MIGRATE || req->op > ACT_MIG_RESTORE) {
		snprintf(err, errlen, "no executor for operation %d", (int)req->op);
		return -ENOTSUP;
	}
	if ((rc = act_mig_cfg_check(cfg, err, errlen)) < 0)
		return rc;
	res->deadline_s = act_mig_deadline(cfg, req->predicted_s);
	if ((rc = rvmig_act_open(NULL, "xen", &x.act)) < 0) {
		snprintf(err, errlen, "actuators: %s", rvmig_strerror(rc));
		return rc;
	}
	if (req->op == ACT_MIG_RESTORE)
		rc = run_restore(cfg, req, &x, res, err, errlen);
	else
		rc = run_domain(cfg, req, &x, res, err, errlen);
	rvmig_act_close(x.act);
	return rc;
}
