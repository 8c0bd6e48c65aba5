/* SPDX-License-Identifier: MIT */
/* apply_park.c - a plan's saves and restores carried out (apply_park.h). */
#include <errno.h>
#include <string.h>

#include "common/cli.h"
#include "common/stop.h"
#include "policy/apply_mig.h"
#include "policy/apply_park.h"
#include "policy/exec.h"

static const struct act_mig_host *host_line(const struct act_mig_cfg *e, const char *name)
{
	for (size_t i = 0; i < e->nhosts; i++)
		if (!strcmp(e->hosts[i].name, name))
			return &e->hosts[i];
	return NULL;
}

int pol_park_request(const struct pol_config *cfg, const struct pol_decision *d, const char *self,
		     struct act_park_req *req, char *err, size_t errlen)
{
	const struct act_mig_cfg *e = &cfg->mig.exec;
	const int save = d->action.kind == RVMIG_ACT_SAVE;
	const char *what = save ? "save" : "restore";
	const struct act_mig_host *store, *dest;
	char name[ACT_MIG_NAME_MAX], host[256], path[ACT_PARK_PATH_MAX];
	const char *st = cfg->mig.store ? cfg->mig.store : "(none)";
	int rc, n;

	memset(req, 0, sizeof(*req));
	if (!save && d->action.kind != RVMIG_ACT_RESTORE) {
		snprintf(err, errlen, "%s: not a save or restore", d->target.policy);
		return -EINVAL;
	}
	rvmig_text_escape(name, sizeof(name), d->target.name ? d->target.name : "",
			  d->target.name ? strlen(d->target.name) : 0);
	rvmig_text_escape(host, sizeof(host), d->dest ? d->dest : "", d->dest ? strlen(d->dest) : 0);
	if (!cfg->mig.store_dir) {
		snprintf(err, errlen, "%s %s (%s): [migration] store_dir is not set: --apply keeps "
			 "checkpoints only in a directory of this host, and does not %s to or from "
			 "a store on another host (store %s)", what, d->target.policy, name,
			 save ? "save" : "restore", st);
		return -ENOTSUP;
	}
	store = host_line(e, cfg->mig.store);
	if (store && !act_mig_is_local(store->addr)) {
		snprintf(err, errlen, "%s %s (%s): the store %s is at %s, not this host: a store on "
			 "another host is not carried out", what, d->target.policy, name, st,
			 store->addr);
		return -ENOTSUP;
	}
	if ((rc = pol_exec_target(&d->target, &req->target, err, errlen)) < 0)
		return rc;
	if (req->target.kind != RVMIG_ACT_TARGET_XEN) {
		snprintf(err, errlen, "%s %s (%s): Linux has no %s of a cgroup or process; only Xen "
			 "domains are saved and restored", what, d->target.policy, name, what);
		return -ENOTSUP;
	}
	if (!save && strcmp(d->dest, self) &&
	    (!(dest = host_line(e, d->dest)) || !act_mig_is_local(dest->addr))) {
		act_park_path(cfg->mig.store_dir, d->target.name, path, sizeof(path));
		snprintf(err, errlen, "restore %s (%s) on %s: %s is not this host (%s): a restore on "
			 "another host is not carried out; the checkpoint stays at %s",
			 d->target.policy, name, host, host,
			 dest ? "its host line's address is not this host's"
			      : "no [migration] host line for it", path);
		return -ENOTSUP;
	}
	if (!d->target.name || !*d->target.name || strlen(d->target.name) >= sizeof(req->name) ||
	    (rc = act_park_path(cfg->mig.store_dir, d->target.name, req->path,
				sizeof(req->path))) < 0) {
		snprintf(err, errlen, "%s %s: the domain's name \"%s\" names no checkpoint file "
			 "(1..%zu characters, not only dots)", what, d->target.policy, name,
			 sizeof(req->name) - 1);
		return -EINVAL;
	}
	snprintf(req->name, sizeof(req->name), "%s", d->target.name);
	req->op = save ? ACT_MIG_SAVE : ACT_MIG_RESTORE;
	req->predicted_s = d->pred.end_s - d->pred.start_s;
	if (save) {
		const char *a = store ? store->addr : "127.0.0.1";

		n = snprintf(req->listen, sizeof(req->listen), strchr(a, ':') ? "%s://[%s]:0"
									       : "%s://%s:0",
			     e->transport ? e->transport : "tcp", a);
		if (n < 0 || (size_t)n >= sizeof(req->listen)) {
			snprintf(err, errlen, "save %s: the store's address is too long",
				 d->target.policy);
			return -ENAMETOOLONG;
		}
	}
	return 0;
}

int pol_apply_park(const struct pol_config *cfg, const struct pol_decision *d, const char *self,
		   const struct pol_apply_out *out)
{
	const int save = d->action.kind == RVMIG_ACT_SAVE;
	const char *what = save ? "save" : "restore";
	struct act_park_req req;
	struct act_mig_result res;
	struct pol_apply_out o = *out; /* the executor's log */
	char err[2048], host[256];
	int rc;

	rvmig_text_escape(host, sizeof(host), d->dest ? d->dest : "", d->dest ? strlen(d->dest) : 0);
	if ((rc = pol_park_request(cfg, d, self, &req, err, sizeof(err))) < 0) {
		fprintf(out->f, "t=%.1f %s %s: refused: %s\n", pol_apply_t(out), what, d->target.policy, err);
		fflush(out->f);
		return rc;
	}
	fprintf(out->f, "t=%.1f %s %s (xen:%s %s) %s %s: planned gain %+.3f (cost %.4f), predicted "
		"%.1f s\n", pol_apply_t(out), what, d->target.policy, d->target.id, req.name,
		save ? "to the store" : "on", host, d->gain, d->action.cost, req.predicted_s);
	rc = act_park_run(&cfg->mig.exec, &req, pol_apply_log, &o, &res, err, sizeof(err));
	if (cfg->mig.exec.runs && res.measured_s > 0)
		pol_apply_record(&cfg->mig.exec, save ? RVMIG_XFER_SAVE : RVMIG_XFER_RESTORE, d,
				 req.predicted_s, d->pred.downtime_s, &res, rc == 0, out);
	if (rc < 0) {
		fprintf(out->f, "t=%.1f %s %s: failed after %.1f s (deadline %.0f s): %s\n", pol_apply_t(out),
			what, d->target.policy, res.measured_s, res.deadline_s, err);
		fflush(out->f);
		return rc;
	}
	if (save)
		fprintf(out->f, "t=%.1f save %s (xen:%ld %s) -> store %s: done in %.1f s (predicted "
			"%.1f s); gone from this host, checkpoint %s: checked %.1f s after rvmig-save "
			"exited\n", pol_apply_t(out), d->target.policy, res.old_domid, res.name, host,
			res.measured_s, req.predicted_s, req.path, pol_apply_checked(&res));
	else
		fprintf(out->f, "t=%.1f restore %s (%s) on %s: done in %.1f s (predicted %.1f s); "
			"running on this host as domain %ld: checked %.1f s after xl restore exited\n",
			pol_apply_t(out), d->target.policy, res.name, host, res.measured_s,
			req.predicted_s, res.new_domid, pol_apply_checked(&res));
	fflush(out->f);
	return 0;
}

int pol_apply_plan_parking(const struct pol_config *cfg, const struct pol_plan *p,
			   const struct pol_apply_out *out)
{
	int n = 0, left = 0, rc = 0;

	for (size_t i = 0; i < p->nd; i++) {
		const struct pol_decision *d = &p->d[i];

		if (!d->due || (d->action.kind != RVMIG_ACT_SAVE && d->action.kind != RVMIG_ACT_RESTORE))
			continue;
		if (rc < 0) {
			left++;
		} else if (tool_stop) {
			rc = -EINTR;
			left++;
		} else if ((rc = pol_apply_park(cfg, d, d->target.host, out)) == 0) {
			n++;
		}
	}
	if (rc == -EINTR && tool_stop) {
		fprintf(out->f, "t=%.1f stop (signal %d): %d of the plan's saves and restores done; "
			"the other %d not started\n", pol_apply_t(out), (int)tool_stop, n, left);
		fflush(out->f);
	}
	return rc < 0 ? rc : n;
}
