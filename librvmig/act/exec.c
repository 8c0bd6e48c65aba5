/* SPDX-License-Identifier: MIT */
/* exec.c - one command run to its end under a deadline, or until the
 * caller's stop flag asks (rvmig_act_run(), rvmig_act_exec(), rvmig/act.h):
 * what the Xen actuator's xl calls go through, and the commands of
 * actuators outside the library. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "act/act_int.h"
#include "act/why.h"
#include "core/log.h"

extern char **environ;

struct stream {
	int fd;                          /* 1 or 2 */
	char line[RVMIG_ACT_LINE_MAX];   /* the line being read */
	size_t len;
	int cut;                         /* past RVMIG_ACT_LINE_MAX: the rest dropped */
};

struct run {
	char *out;
	size_t outcap, outlen;
	struct act_why why;              /* stderr: the lines that say why it failed */
	rvmig_act_line_fn *on_line;
	void *arg;
	const volatile int *stop;        /* NULL: none */
};

static int stopped(const volatile int *stop)
{
	return stop && *stop;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void line_end(struct run *r, struct stream *s)
{
	s->line[s->len] = '\0';
	if (s->fd == 2)
		act_why_line(&r->why, s->line, s->len);
	if (r->on_line && (s->len || !s->cut))
		r->on_line(r->arg, s->fd, s->line);
	s->len = 0;
	s->cut = 0;
}

static void feed(struct run *r, struct stream *s, const char *p, size_t n)
{
	if (s->fd == 1 && r->out && r->outlen + 1 < r->outcap) {
		size_t k = n < r->outcap - 1 - r->outlen ? n : r->outcap - 1 - r->outlen;

		memcpy(r->out + r->outlen, p, k);
		r->outlen += k;
		r->out[r->outlen] = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' || p[i] == '\r') {
			if (s->len || p[i] == '\n')
				line_end(r, s);
		} else if (s->len < sizeof(s->line) - 1) {
			s->line[s->len++] = p[i];
		} else {
			s->cut = 1;
		}
	}
}

/* Reads what *fd has; -1 into *fd at EOF or error. */
static void drain(struct run *r, int *fd, struct stream *s)
{
	char buf[4096];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (s->len)
			line_end(r, s);
		close(*fd);
		*fd = -1;
		return;
	}
	if (n > 0)
		feed(r, s, buf, (size_t)n);
}

/* Starts argv with stdin on /dev/null, stdout and stderr on the
 * non-blocking read ends *out, *err; in a process group of its own with
 * `group`.  0 or -errno with why set. */
static int spawn(char *const argv[], int group, pid_t *pid, int *out, int *err, char *why,
		 size_t whylen)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def;
	int rc;

	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		rc = -errno;
		act_err(why, whylen, "pipe: %s", strerror(-rc));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pe[1], STDERR_FILENO);
	/* a caller that ignores SIGPIPE: the command gets the default back */
	posix_spawnattr_init(&at);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&at, &def);
	/* its own group (id: its pid): a stop signals it and its children */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | (group ? POSIX_SPAWN_SETPGROUP : 0));
	rc = -posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc < 0) {
		char name[256];

		rvmig_text_escape(name, sizeof(name), argv[0], strlen(argv[0]));
		act_err(why, whylen, "cannot start %s: %s", name, strerror(-rc));
		goto out;
	}
	*out = po[0];
	*err = pe[0];
	po[0] = pe[0] = -1;
	fcntl(*out, F_SETFL, O_NONBLOCK);
	fcntl(*err, F_SETFL, O_NONBLOCK);
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return rc;
}

/* Waits for pid's exit until deadline, or a stop (stop may be NULL): 1
 * exited (*status: 0..255, or 256 + the signal), 0 not yet, -errno.  At
 * least one look. */
static int reap_until(pid_t pid, int64_t deadline, const volatile int *stop, int *status)
{
	int st;
	pid_t r;

	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline && !stopped(stop)) {
		struct timespec ts = { 0, 20 * 1000000 };

		nanosleep(&ts, NULL);
	}
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 256 + WTERMSIG(st);
	return 1;
}

/* Ends a command that has not exited: SIGTERM (to its process group with
 * `group`), SIGKILL term_ms later, each followed by a bounded reap.  With
 * `group`, what of the group outlives the command gets SIGKILL too.  1
 * reaped, else 0; *killed: SIGKILL was needed. */
static int end_cmd(pid_t pid, int group, int64_t term_ms, int *status, int *killed)
{
	pid_t who = group ? -pid : pid;
	int rc;

	/* SIGTERM first: xl migrate then resumes the domain on the source */
	kill(who, SIGTERM);
	*killed = 0;
	if ((rc = reap_until(pid, now_ms() + term_ms, NULL, status)) <= 0) {
		*killed = 1;
		kill(who, SIGKILL);
		rc = reap_until(pid, now_ms() + RVMIG_ACT_TERM_MS, NULL, status);
	}
	if (group)
		kill(-pid, SIGKILL); /* ESRCH when nothing of it is left */
	return rc > 0;
}

static int exec_cmd(rvmig_act *act, char *const argv[], const struct rvmig_act_exec_attr *a,
		    char *err, size_t errlen)
{
	struct run r = { .out = a->out, .outcap = a->out ? a->outcap : 0, .on_line = a->on_line,
			 .arg = a->arg, .stop = a->stop };
	struct stream so = { .fd = 1 }, se = { .fd = 2 };
	char why[256], eesc[(ACT_WHY_LAST + 2) * ACT_WHY_LINE * 4 + 64], cmd[256], how[96];
	size_t n = 0;
	int64_t deadline = now_ms() + a->timeout_ms, term_ms = a->term_ms > 0 ? a->term_ms
									    : RVMIG_ACT_TERM_MS;
	int status = -1, rc, fo = -1, fe = -1, sig, killed, gone;
	pid_t pid = -1;

	if (!argv || !argv[0])
		return -EINVAL;
	if (a->out && a->outcap)
		a->out[0] = '\0';
	cmd[0] = '\0';
	for (int i = 0; argv[i] && n < sizeof(cmd) - 1; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "", argv[i]);
	if (stopped(a->stop)) {
		act_err(err, errlen, "%s: not started: asked to stop (signal %d)", cmd, *a->stop);
		return -EINTR;
	}
	rvmig_text_escape(eesc, sizeof(eesc), cmd, strlen(cmd));
	LOG_DBG(act ? act->ctx : NULL, "act", "run %s (deadline %lld ms%s)", eesc,
		(long long)a->timeout_ms, a->stop ? ", stop flag" : "");
	if ((rc = spawn(argv, a->stop != NULL, &pid, &fo, &fe, why, sizeof(why))) < 0) {
		act_err(err, errlen, "%s: %s", cmd, why);
		return rc;
	}
	while (fo >= 0 || fe >= 0) {
		struct pollfd p[2] = { { fo, POLLIN, 0 }, { fe, POLLIN, 0 } };
		int64_t left = deadline - now_ms();

		if (left <= 0 || stopped(r.stop))
			break;
		if (r.stop && left > RVMIG_ACT_STOP_POLL_MS)
			left = RVMIG_ACT_STOP_POLL_MS;
		if (poll(p, 2, left > 1000000 ? 1000000 : (int)left) < 0 && errno != EINTR)
			break;
		if (fo >= 0 && p[0].revents)
			drain(&r, &fo, &so);
		if (fe >= 0 && p[1].revents)
			drain(&r, &fe, &se);
	}
	if (fo >= 0)
		close(fo);
	if (fe >= 0)
		close(fe);
	/* exited by itself before a stop was seen: as it exited */
	rc = reap_until(pid, stopped(r.stop) ? 0 : deadline, r.stop, &status);
	if (rc <= 0) {
		sig = stopped(r.stop) ? *r.stop : 0;
		gone = end_cmd(pid, r.stop != NULL, term_ms, &status, &killed);
		act_why_text(&r.why, eesc, sizeof(eesc));
		snprintf(how, sizeof(how), "%s%s", killed ? ", SIGKILL after the grace" : "",
			 gone ? "" : "; still there after SIGKILL, not reaped");
		if (sig) {
			act_err(err, errlen, "%s: stopped (signal %d): SIGTERM to its process group%s%s%s",
				cmd, sig, how, eesc[0] ? "; its stderr: " : "", eesc);
			return -EINTR;
		}
		act_err(err, errlen, "%s: no exit within %lld ms (killed%s)%s%s", cmd,
			(long long)a->timeout_ms, how, eesc[0] ? "; its stderr: " : "", eesc);
		return -ETIMEDOUT;
	}
	if (status == 0)
		return 0;
	act_why_text(&r.why, eesc, sizeof(eesc));
	act_err(err, errlen, "%s: exit status %d%s%s", cmd, status, eesc[0] ? ": " : "", eesc);
	return -EIO;
}

RVMIG_API int rvmig_act_run(rvmig_act *act, char *const argv[], int64_t timeout_ms, char *out,
			    size_t outcap, rvmig_act_line_fn *on_line, void *arg, char *err,
			    size_t errlen)
{
	struct rvmig_act_exec_attr a = { .size = sizeof(a), .timeout_ms = timeout_ms, .out = out,
					 .outcap = outcap, .on_line = on_line, .arg = arg };

	return exec_cmd(act, argv, &a, err, errlen);
}

RVMIG_API int rvmig_act_exec(rvmig_act *act, char *const argv[],
			     const struct rvmig_act_exec_attr *attr, char *err, size_t errlen)
{
	struct rvmig_act_exec_attr a = { 0 };

	if (!attr || attr->size < offsetof(struct rvmig_act_exec_attr, out)) {
		act_err(err, errlen, "rvmig_act_exec: no attr, or one whose size (%zu) misses its "
			"timeout_ms", attr ? attr->size : (size_t)0);
		return -EINVAL;
	}
	memcpy(&a, attr, attr->size < sizeof(a) ? attr->size : sizeof(a));
	if (a.timeout_ms <= 0) {
		act_err(err, errlen, "rvmig_act_exec: timeout_ms %lld is not > 0",
			(long long)a.timeout_ms);
		return -EINVAL;
	}
	return exec_cmd(act, argv, &a, err, errlen);
}
