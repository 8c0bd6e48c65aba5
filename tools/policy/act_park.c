/* SPDX-License-Identifier: MIT */
/* act_park.c - saves into and restores from this host's store (act_park.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/cli.h"
#include "common/stop.h"
#include "policy/act_park.h"

#define RECV_DEFAULT "rvmig-recv"

int act_park_path(const char *dir, const char *name, char *path, size_t len)
{
	char f[ACT_MIG_NAME_MAX];
	size_t i = 0;
	int dots = 1, n;

	for (; name[i] && i + 1 < sizeof(f); i++) {
		char c = name[i];

		f[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			       c == '.' || c == '_' || c == '-' ? c : '_';
		dots &= c == '.';
	}
	f[i] = '\0';
	if (!i || dots || name[i])
		return name[i] ? -ENAMETOOLONG : -EINVAL;
	n = snprintf(path, len, "%s%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] != '/' ? "/" : "", f,
		     ACT_PARK_EXT);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

struct park_log {
	act_mig_log_fn *log;
	void *arg;
	char what[ACT_PARK_PATH_MAX + 256];
	double t0;
};

__attribute__((format(printf, 3, 4)))
static void say(const struct park_log *l, int verbose, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	act_mig_vsay(l->log, l->arg, l->what, l->t0, verbose, fmt, ap);
	va_end(ap);
}

/* The store's receiver, run in a thread of its own beside rvmig-save. */
struct store_recv {
	const struct act_mig_cfg *cfg;
	const struct act_park_req *req;
	const struct park_log *l;
	double deadline_s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int port;        /* from its listening line; 0: not yet */
	int done, rc;
	char err[1024];
};

static void recv_line(void *arg, int fd, const char *line)
{
	struct store_recv *s = arg;
	const char *p = strstr(line, ACT_PARK_LISTENING);
	char esc[RVMIG_ACT_LINE_MAX * 4 + 1];

	(void)fd;
	if (p) {
		int port = atoi(p + strlen(ACT_PARK_LISTENING));

		pthread_mutex_lock(&s->mu);
		if (!s->port && port > 0 && port <= 65535)
			s->port = port;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	rvmig_text_escape(esc, sizeof(esc), line, strlen(line));
	say(s->l, !p && !strstr(line, "received ") && !strstr(line, "error"), "| store: %s", esc);
}

static void *recv_run(void *arg)
{
	struct store_recv *s = arg;
	char ms[24];
	char *argv[] = { (char *)(s->cfg->recv ? s->cfg->recv : RECV_DEFAULT), "--listen",
			 (char *)s->req->listen, "-o", (char *)s->req->path, "--accept-timeout", ms,
			 s->cfg->key_file ? "--key-file" : NULL, s->cfg->key_file, NULL };
	int rc;

	snprintf(ms, sizeof(ms), "%.0f", s->deadline_s * 1000);
	/* it outlives the save it waits for: rvmig-save has the same deadline */
	rc = act_mig_exec(NULL, argv, (int64_t)(s->deadline_s * 1000) + 30000, NULL, 0, recv_line, s,
			  s->err, sizeof(s->err));
	pthread_mutex_lock(&s->mu);
	s->rc = rc;
	s->done = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Waits for the receiver's port, or its end, until ACT_PARK_LISTEN_S, or a
 * stop request (tool_stop, looked at every RVMIG_ACT_STOP_POLL_MS: the
 * signal may go to another thread). */
static int wait_port(struct store_recv *s)
{
	double end = tool_now() + ACT_PARK_LISTEN_S;
	int port;

	pthread_mutex_lock(&s->mu);
	while (!s->port && !s->done && !tool_stop && tool_now() < end) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += RVMIG_ACT_STOP_POLL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cv, &s->mu, &until);
	}
	port = s->port;
	pthread_mutex_unlock(&s->mu);
	return port;
}

static int park_save(const struct act_mig_cfg *cfg, const struct act_park_req *req,
		     struct park_log *l, rvmig_act *act, struct act_mig_result *res, char *err,
		     size_t errlen)
{
	struct store_recv s = { .cfg = cfg, .req = req, .l = l,
				.deadline_s = act_mig_deadline(cfg, req->predicted_s) };
	struct act_mig_req m = { .op = ACT_MIG_SAVE, .target = req->target,
				 .predicted_s = req->predicted_s };
	char uri[sizeof(req->listen) + 16], state[16], e2[512];
	struct stat st;
	pthread_t th;
	long id = -1;
	int rc, port;

	rc = rvmig_act_xen_domain(act, req->name, &id, state, sizeof(state), e2, sizeof(e2));
	if (rc <= 0 || id != req->target.id) {
		if (rc < 0)
			snprintf(err, errlen, "%s", e2);
		else
			snprintf(err, errlen, "domain %s is %s, not xen:%ld as planned: not saved",
				 req->name, rc ? "another id" : "not on this host", req->target.id);
		return rc < 0 ? rc : -ESRCH;
	}
	say(l, 0, "the store's receiver listens at %s (deadline %.0f s)", req->listen, s.deadline_s);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	if ((rc = -pthread_create(&th, NULL, recv_run, &s)) < 0) {
		snprintf(err, errlen, "cannot start the store's receiver: %s", strerror(-rc));
		goto out;
	}
	if (!(port = wait_port(&s)) && tool_stop) {
		/* the receiver stops with the same flag (act_mig_exec()) */
		say(l, 0, "asked to stop (signal %d) before the store's receiver listened: "
			  "rvmig-save not started", (int)tool_stop);
		pthread_join(th, NULL);
		snprintf(err, errlen, "asked to stop (signal %d) before the store's receiver "
			 "listened: not saved, the domain stays here", (int)tool_stop);
		rc = -EINTR;
		goto out;
	}
	if (!port) {
		pthread_join(th, NULL);
		snprintf(err, errlen, "the store's receiver did not listen%s%s", s.done ? ": " : "",
			 s.done ? s.err : " within 60 s");
		rc = s.rc < 0 ? s.rc : -ETIMEDOUT;
		goto out;
	}
	{
		/* "T://ADDR:0" -> "T://ADDR:PORT" */
		size_t n = strlen(req->listen);

		snprintf(uri, sizeof(uri), "%.*s%d", (int)(n - 1), req->listen, port);
	}
	m.uri = uri;
	rc = act_mig_run(cfg, &m, l->log, l->arg, res, err, errlen);
	pthread_mutex_lock(&s.mu);
	port = s.done;
	pthread_mutex_unlock(&s.mu);
	if (rc < 0 && !port && tool_stop)
		say(l, 0, "the save was stopped (signal %d); waiting for the store's receiver, "
			  "stopped too", (int)tool_stop);
	else if (rc < 0 && !port)
		say(l, 0, "the save failed; waiting for the store's receiver to end (it gives up "
			  "%.0f s after it started listening if no sender came)", s.deadline_s);
	pthread_join(th, NULL);
	if (rc == 0 && s.rc < 0) {
		snprintf(err, errlen, "rvmig-save says the store verified the checkpoint, but the "
			 "store's receiver failed: %s", s.err);
		rc = -EIO;
	} else if (rc == 0 && (stat(req->path, &st) < 0 || !S_ISREG(st.st_mode))) {
		snprintf(err, errlen, "the domain was saved and destroyed, but %s is not there",
			 req->path);
		rc = -EIO;
	} else if (rc < 0 && s.rc < 0 && s.err[0]) {
		size_t k = strlen(err);

		snprintf(err + k, errlen > k ? errlen - k : 0, "; the store's receiver: %s", s.err);
	}
	if (rc == 0)
		say(l, 0, "checkpoint kept at %s (%lld bytes)", req->path, (long long)st.st_size);
out:
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
	return rc;
}

/* The checkpoint's directory entry gone for good.  0 or -errno. */
static int remove_ckpt(const char *path)
{
	char dir[ACT_PARK_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (unlink(path) < 0)
		return -errno;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

static int park_restore(const struct act_mig_cfg *cfg, const struct act_park_req *req,
			struct park_log *l, rvmig_act *act, struct act_mig_result *res, char *err,
			size_t errlen)
{
	struct act_mig_req m = { .op = ACT_MIG_RESTORE, .path = req->path, .name = req->name,
				 .predicted_s = req->predicted_s };
	char state[16], e2[512];
	long id = -1;
	size_t k;
	int rc;

	rc = rvmig_act_xen_domain(act, req->name, &id, state, sizeof(state), e2, sizeof(e2));
	if (rc != 0) {
		if (rc < 0)
			snprintf(err, errlen, "%s; the checkpoint stays at %s", e2, req->path);
		else
			snprintf(err, errlen, "a domain %s is here already (id %ld): not restored; "
				 "the checkpoint stays at %s", req->name, id, req->path);
		return rc < 0 ? rc : -EEXIST;
	}
	if ((rc = act_mig_run(cfg, &m, l->log, l->arg, res, err, errlen)) < 0) {
		k = strlen(err);
		snprintf(err + k, errlen > k ? errlen - k : 0, "; the checkpoint stays at %s",
			 req->path);
		return rc;
	}
	if ((rc = remove_ckpt(req->path)) < 0)
		say(l, 0, "restored, but the checkpoint could not be removed: %s: %s", req->path,
		    strerror(-rc));
	else
		say(l, 0, "domain %s runs (id %ld): checkpoint %s removed", req->name, res->new_domid,
		    req->path);
	return 0;
}

int act_park_run(const struct act_mig_cfg *cfg, const struct act_park_req *req, act_mig_log_fn *log,
		 void *log_arg, struct act_mig_result *res, char *err, size_t errlen)
{
	struct park_log l = { .log = log, .arg = log_arg, .t0 = tool_now() };
	struct stat st;
	rvmig_act *act;
	int rc;

	memset(res, 0, sizeof(*res));
	res->old_domid = res->new_domid = -1;
	res->downtime_s = -1;
	res->deadline_s = act_mig_deadline(cfg, req->predicted_s);
	snprintf(res->name, sizeof(res->name), "%s", req->name);
	if (req->op != ACT_MIG_SAVE && req->op != ACT_MIG_RESTORE) {
		snprintf(err, errlen, "the store saves and restores; operation %d is neither",
			 (int)req->op);
		return -EINVAL;
	}
	if (req->op == ACT_MIG_SAVE) {
		snprintf(l.what, sizeof(l.what), "save xen:%ld (%s) -> store %s", req->target.id,
			 req->name, req->path);
		if (lstat(req->path, &st) == 0) {
			snprintf(err, errlen, "the store already holds a checkpoint %s: a saved domain "
				 "is not overwritten (restore it or move it away first)", req->path);
			return -EEXIST;
		}
		if (errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "the store: %s: %s", req->path, strerror(-rc));
			return rc;
		}
	} else {
		snprintf(l.what, sizeof(l.what), "restore %s <- store %s", req->name, req->path);
		rc = stat(req->path, &st) < 0 ? errno : 0;
		if (rc || !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "no checkpoint of %s in the store: %s: %s", req->name,
				 req->path, rc ? strerror(rc) : "not a regular file");
			return -ENOENT;
		}
	}
	if ((rc = act_mig_cfg_check(cfg, err, errlen)) < 0)
		return rc;
	if ((rc = rvmig_act_open(NULL, "xen", &act)) < 0) {
		snprintf(err, errlen, "actuators: %s", rvmig_strerror(rc));
		return rc;
	}
	rc = req->op == ACT_MIG_SAVE ? park_save(cfg, req, &l, act, res, err, errlen)
				     : park_restore(cfg, req, &l, act, res, err, errlen);
	rvmig_act_close(act);
	return rc;
}
