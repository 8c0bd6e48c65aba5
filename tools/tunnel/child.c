/* SPDX-License-Identifier: MIT */
/* child.c - spawning and reaping the tunnel's command (see child.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rvmig.h>

#include "tunnel/child.h"

extern char **environ;

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int child_spawn(struct child *c, char *const argv[], char *why, size_t whylen)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def;
	int rc;

	c->pid = -1;
	c->in = c->out = c->err = -1;
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
		rc = -errno;
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pout[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, perr[1], STDERR_FILENO);
	/* The daemon ignores SIGPIPE; the command gets the default back. */
	posix_spawnattr_init(&at);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&c->pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		char name[256]; /* the tunnel's word: escaped */

		rvmig_text_escape(name, sizeof(name), argv[0], strlen(argv[0]));
		snprintf(why, whylen, "cannot start %s: %s", name, strerror(rc));
		rc = -rc;
		goto fail;
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	c->in = pin[1];
	c->out = pout[0];
	c->err = perr[0];
	fcntl(c->in, F_SETFL, O_NONBLOCK);
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	fcntl(c->err, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		close_fd(&pin[i]);
		close_fd(&pout[i]);
		close_fd(&perr[i]);
	}
	return rc;
}

void child_close_stdin(struct child *c)
{
	close_fd(&c->in);
}

int child_reap(struct child *c, int *status)
{
	int st;
	pid_t r;

	if (c->pid <= 0)
		return -ECHILD;
	r = waitpid(c->pid, &st, WNOHANG);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	c->pid = -1;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 256 + WTERMSIG(st);
	return 1;
}

void child_kill(struct child *c)
{
	close_fd(&c->in);
	close_fd(&c->out);
	close_fd(&c->err);
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		waitpid(c->pid, NULL, 0);
		c->pid = -1;
	}
}
