/* SPDX-License-Identifier: MIT */
/*
 * gone.h - for the tests that stop a command: whether a process it ran or
 * left behind is gone.  The test process makes itself the subreaper of
 * what its commands leave (prctl(PR_SET_CHILD_SUBREAPER)) so that an
 * orphan's end is seen here, not left a zombie of an init that may not
 * reap.
 */
#ifndef RVMIG_TESTS_POLICY_GONE_H
#define RVMIG_TESTS_POLICY_GONE_H

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

#include "common/cli.h"

/* 1 once process pid is gone (reaped here when it was an orphan of this
 * process's commands), 0 when it still runs after s seconds. */
static inline int gone_within(pid_t pid, double s)
{
	double end = tool_now() + s;

	for (;;) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && kill(pid, 0) < 0 && errno == ESRCH))
			return 1;
		if (tool_now() >= end)
			return 0;
		usleep(20000);
	}
}

#endif
