/* SPDX-License-Identifier: MIT */
/* act.c - the actuator handle (rvmig/act.h): its backends, targets, and
 * apply / read back / undo over the backends' get and set. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/act_int.h"
#include "core/log.h"

#define SUB "act"

struct rvmig_act_change {
	const struct act_ops *ops;
	struct rvmig_act_target target;
	enum rvmig_action_kind kind;
	char where[RVMIG_ACT_PATH_MAX]; /* the file or domain, for messages */
	struct rvmig_act_setting old;   /* before the action */
	struct rvmig_act_setting now;   /* read back after it */
};

/* The backends by name, in the order "auto" tries them. */
static const struct {
	const char *name;
	const struct act_ops *ops;
} backends[] = {
	{ "linux", &act_linux_ops },
	{ "xen", &act_xen_ops },
};

RVMIG_API int rvmig_act_open(rvmig_ctx *ctx, const char *backend, rvmig_act **out)
{
	rvmig_act *act;
	size_t n = 0;

	if (!backend || !out)
		return -EINVAL;
	if (!(act = calloc(1, sizeof(*act))))
		return -ENOMEM;
	act->ctx = ctx;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(backend, "auto") || !strcmp(backend, backends[i].name))
			act->ops[n++] = backends[i].ops;
	if (!n) {
		char esc[64];

		rvmig_text_escape(esc, sizeof(esc), backend, strlen(backend));
		LOG_ERR(ctx, SUB, "no actuator backend called \"%s\" (linux, xen, auto)", esc);
		free(act);
		return -EINVAL;
	}
	act->ncpus = sysconf(_SC_NPROCESSORS_CONF);
	*out = act;
	return 0;
}

RVMIG_API void rvmig_act_close(rvmig_act *act)
{
	free(act);
}

static int parse_id(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

RVMIG_API int rvmig_act_target_parse(const char *spec, struct rvmig_act_target *t, char *err,
				     size_t errlen)
{
	char esc[96];

	if (!spec || !t)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	if (!strncmp(spec, "cgroup:", 7)) {
		t->kind = RVMIG_ACT_TARGET_CGROUP;
		if (spec[7] != '/' || strlen(spec + 7) >= sizeof(t->path)) {
			rvmig_text_escape(esc, sizeof(esc), spec, strlen(spec));
			act_err(err, errlen, "target %s: the cgroup must be an absolute path", esc);
			return -EINVAL;
		}
		strcpy(t->path, spec + 7);
		return 0;
	}
	if (!strncmp(spec, "pid:", 4)) {
		t->kind = RVMIG_ACT_TARGET_PID;
		if (parse_id(spec + 4, 4194304, &t->id) == 0 && t->id > 0)
			return 0;
	} else if (!strncmp(spec, "xen:", 4)) {
		t->kind = RVMIG_ACT_TARGET_XEN;
		/* DOMID_FIRST_RESERVED is 0x7ff0 */
		if (parse_id(spec + 4, 0x7fef, &t->id) == 0)
			return 0;
	}
	rvmig_text_escape(esc, sizeof(esc), spec, strlen(spec));
	act_err(err, errlen, "target %s: not cgroup:PATH, pid:N (N > 0) or xen:DOMID (0..32751)", esc);
	return -EINVAL;
}

RVMIG_API const char *rvmig_act_target_name(const struct rvmig_act_target *t, char *buf, size_t len)
{
	char esc[RVMIG_ACT_PATH_MAX];

	switch (t->kind) {
	case RVMIG_ACT_TARGET_CGROUP:
		rvmig_text_escape(esc, sizeof(esc), t->path, strnlen(t->path, sizeof(t->path)));
		snprintf(buf, len, "cgroup:%s", esc);
		break;
	case RVMIG_ACT_TARGET_PID: snprintf(buf, len, "pid:%ld", t->id); break;
	case RVMIG_ACT_TARGET_XEN: snprintf(buf, len, "xen:%ld", t->id); break;
	default: snprintf(buf, len, "?"); break;
	}
	return buf;
}

/* This handle's backend for target t and kind k, or NULL with err set. */
static const struct act_ops *backend_for(const rvmig_act *act, const struct rvmig_act_target *t,
					 enum rvmig_action_kind k, char *err, size_t errlen)
{
	char name[RVMIG_ACT_PATH_MAX + 16];

	for (size_t i = 0; i < sizeof(act->ops) / sizeof(act->ops[0]); i++)
		if (act->ops[i] && act->ops[i]->handles(t->kind, k))
			return act->ops[i];
	act_err(err, errlen, "%s: no actuator for %s actions on it",
		rvmig_act_target_name(t, name, sizeof(name)), rvmig_action_kind_name(k));
	return NULL;
}

RVMIG_API int rvmig_act_read(rvmig_act *act, const struct rvmig_act_target *t,
			     enum rvmig_action_kind k, struct rvmig_act_setting *out, char *where,
			     size_t wherelen, char *err, size_t errlen)
{
	const struct act_ops *ops;
	char w[RVMIG_ACT_PATH_MAX], e[512];

	if (!act || !t || !out)
		return -EINVAL;
	ACT_ERRBUF(err, errlen, e);
	if (!(ops = backend_for(act, t, k, err, errlen)))
		return -ENOTSUP;
	memset(out, 0, sizeof(*out));
	if (!where || !wherelen) {
		where = w;
		wherelen = sizeof(w);
	}
	return ops->get(act, t, k, out, where, wherelen, err, errlen);
}

/* Writes `want` and reads it back into *got. */
static int write_check(rvmig_act *act, const struct act_ops *ops, const struct rvmig_act_target *t,
		       enum rvmig_action_kind k, const struct rvmig_act_setting *want,
		       struct rvmig_act_setting *got, char *err, size_t errlen)
{
	char where[RVMIG_ACT_PATH_MAX], a[RVMIG_ACT_ARG_MAX * 4 + 32], b[RVMIG_ACT_ARG_MAX * 4 + 32];
	int rc;

	if ((rc = ops->set(act, t, k, want, err, errlen)) < 0)
		return rc;
	memset(got, 0, sizeof(*got));
	if ((rc = ops->get(act, t, k, got, where, sizeof(where), err, errlen)) < 0)
		return rc;
	if (act_same(k, want, got))
		return 0;
	act_err(err, errlen, "%s: wrote %s, read back %s", where, rvmig_act_format(k, want, a, sizeof(a)),
		rvmig_act_format(k, got, b, sizeof(b)));
	return -EIO;
}

/* "KIND TARGET (WHERE): A -> B" at info level. */
static void log_change(rvmig_act *act, const char *what, const struct rvmig_act_change *u,
		       const struct rvmig_act_setting *from, const struct rvmig_act_setting *to)
{
	char name[RVMIG_ACT_PATH_MAX + 16], a[RVMIG_ACT_ARG_MAX * 4 + 32], b[RVMIG_ACT_ARG_MAX * 4 + 32];

	LOG_INFO(act->ctx, SUB, "%s %s %s (%s): %s -> %s", what, rvmig_action_kind_name(u->kind),
		 rvmig_act_target_name(&u->target, name, sizeof(name)), u->where,
		 rvmig_act_format(u->kind, from, a, sizeof(a)), rvmig_act_format(u->kind, to, b, sizeof(b)));
}

RVMIG_API int rvmig_act_apply(rvmig_act *act, const struct rvmig_act_target *t,
			      const struct rvmig_action *a, rvmig_act_change **undo, char *err,
			      size_t errlen)
{
	struct rvmig_act_setting want = { 0 };
	struct rvmig_act_change *u;
	char why[512], e[512];
	int rc;

	if (!act || !t || !a || !undo)
		return -EINVAL;
	ACT_ERRBUF(err, errlen, e);
	*undo = NULL;
	want.value = a->value;
	if (a->arg)
		snprintf(want.arg, sizeof(want.arg), "%s", a->arg);
	if ((rc = act_check(a->kind, &want, act->ncpus, err, errlen)) < 0)
		return rc;
	if (!(u = calloc(1, sizeof(*u)))) {
		act_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = rvmig_act_read(act, t, a->kind, &u->old, u->where, sizeof(u->where), err, errlen);
	if (rc < 0) {
		free(u);
		return rc;
	}
	u->ops = backend_for(act, t, a->kind, NULL, 0);
	u->target = *t;
	u->kind = a->kind;
	rc = write_check(act, u->ops, t, a->kind, &want, &u->now, err, errlen);
	if (rc < 0) {
		if (u->ops->set(act, t, a->kind, &u->old, why, sizeof(why)) < 0) {
			size_t n = strlen(err);

			snprintf(err + n, errlen - n, "; putting the old setting back failed too: %s", why);
		}
		free(u);
		return rc;
	}
	log_change(act, "applied", u, &u->old, &u->now);
	*undo = u;
	return 0;
}

RVMIG_API int rvmig_act_undo(rvmig_act *act, const rvmig_act_change *undo, char *err, size_t errlen)
{
	struct rvmig_act_setting back;
	char e[512];
	int rc;

	ACT_ERRBUF(err, errlen, e);
	if (!act || !undo) {
		snprintf(err, errlen, "nothing to undo");
		return -EINVAL;
	}
	rc = write_check(act, undo->ops, &undo->target, undo->kind, &undo->old, &back, err, errlen);
	if (rc == 0)
		log_change(act, "undone", undo, &undo->now, &back);
	return rc;
}

RVMIG_API void rvmig_act_change_free(rvmig_act_change *undo)
{
	free(undo);
}

RVMIG_API enum rvmig_action_kind rvmig_act_change_kind(const rvmig_act_change *undo)
{
	return undo->kind;
}

RVMIG_API const struct rvmig_act_target *rvmig_act_change_target(const rvmig_act_change *undo)
{
	return &undo->target;
}

RVMIG_API const char *rvmig_act_change_where(const rvmig_act_change *undo)
{
	return undo->where;
}

RVMIG_API const struct rvmig_act_setting *rvmig_act_change_old(const rvmig_act_change *undo)
{
	return &undo->old;
}

RVMIG_API const struct rvmig_act_setting *rvmig_act_change_now(const rvmig_act_change *undo)
{
	return &undo->now;
}
