/* SPDX-License-Identifier: MIT */
/* act_exec.c - one command run under a deadline (act_exec.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rvmig.h>

#include "policy/act_exec.h"
#include "tunnel/child.h"

#define ERR_KEEP 2048

struct stream {
	int fd;                          /* 1 or 2 */
	char line[ACT_EXEC_LINE_MAX];    /* the line being read */
	size_t len;
	int cut;                         /* past ACT_EXEC_LINE_MAX: the rest dropped */
};

struct run {
	char *out;
	size_t outcap, outlen;
	char first_err[ERR_KEEP];        /* the first non-empty stderr line */
	act_exec_line_fn *on_line;
	void *arg;
};

int64_t act_exec_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void line_end(struct run *r, struct stream *s)
{
	s->line[s->len] = '\0';
	if (s->fd == 2 && !r->first_err[0] && s->len)
		snprintf(r->first_err, sizeof(r->first_err), "%s", s->line);
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

/* Waits for the exit until deadline: 1 exited, 0 not yet, -errno. */
static int reap_until(struct child *c, int64_t deadline, int *status)
{
	int rc;

	while ((rc = child_reap(c, status)) == 0 && act_exec_now_ms() < deadline) {
		struct timespec ts = { 0, 20 * 1000000 };

		nanosleep(&ts, NULL);
	}
	return rc;
}

int act_exec(char *const argv[], int64_t timeout_ms, char *out, size_t outcap,
	     act_exec_line_fn *on_line, void *arg, char *err, size_t errlen)
{
	struct run r = { .out = out, .outcap = out ? outcap : 0, .on_line = on_line, .arg = arg };
	struct stream so = { .fd = 1 }, se = { .fd = 2 };
	struct child c;
	char why[256], eesc[ERR_KEEP * 4 + 1], cmd[256];
	size_t n = 0;
	int64_t deadline = act_exec_now_ms() + timeout_ms;
	int status = -1, rc;

	if (out && outcap)
		out[0] = '\0';
	cmd[0] = '\0';
	for (int i = 0; argv[i] && n < sizeof(cmd) - 1; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "", argv[i]);
	if ((rc = child_spawn(&c, argv, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "%s: %s", cmd, why);
		return rc;
	}
	child_close_stdin(&c);
	while (c.out >= 0 || c.err >= 0) {
		struct pollfd p[2] = { { c.out, POLLIN, 0 }, { c.err, POLLIN, 0 } };
		int64_t left = deadline - act_exec_now_ms();

		if (left <= 0)
			break;
		if (poll(p, 2, left > 1000000 ? 1000000 : (int)left) < 0 && errno != EINTR)
			break;
		if (c.out >= 0 && p[0].revents)
			drain(&r, &c.out, &so);
		if (c.err >= 0 && p[1].revents)
			drain(&r, &c.err, &se);
	}
	rc = reap_until(&c, deadline, &status);
	if (rc <= 0) {
		/* SIGTERM first: xl migrate then resumes the domain on the source */
		if (c.pid > 0)
			kill(c.pid, SIGTERM);
		if (c.pid > 0 && reap_until(&c, act_exec_now_ms() + ACT_EXEC_TERM_MS, &status) <= 0 &&
		    c.pid > 0)
			kill(c.pid, SIGKILL);
		child_kill(&c);
		snprintf(err, errlen, "%s: no exit within %lld ms (killed)", cmd, (long long)timeout_ms);
		return -ETIMEDOUT;
	}
	child_kill(&c); /* closes what is left of the pipes */
	if (status == 0)
		return 0;
	rvmig_text_escape(eesc, sizeof(eesc), r.first_err, strlen(r.first_err));
	snprintf(err, errlen, "%s: exit status %d%s%s", cmd, status, eesc[0] ? ": " : "", eesc);
	return -EIO;
}
