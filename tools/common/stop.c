/* SPDX-License-Identifier: MIT */
/*
 * stop.c - SIGINT / SIGTERM ask a tool to stop (stop.h).  Besides the
 * flag, the handler writes a byte to a pipe that is never drained: its
 * read end stays readable from the first request on, so a wait that polls
 * it cannot miss a signal that came between its look at the flag and its
 * poll(), nor one delivered to another thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "stop.h"

volatile sig_atomic_t tool_stop;

static int stop_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int e = errno;

	tool_stop = sig;
	if (stop_pipe[1] >= 0) {
		ssize_t n = write(stop_pipe[1], "", 1);

		(void)n; /* a full pipe is readable already */
	}
	errno = e;
}

void tool_catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (stop_pipe[0] < 0 && pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		stop_pipe[0] = stop_pipe[1] = -1; /* then waits are sleeps cut by EINTR */
	sigemptyset(&sa.sa_mask);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int tool_stop_wait(double s)
{
	double end = tool_now() + (s > 0 ? s : 0);

	for (;;) {
		double left = end - tool_now();

		if (tool_stop)
			return 1;
		if (left <= 0)
			return 0;
		if (stop_pipe[0] >= 0) {
			struct pollfd p = { .fd = stop_pipe[0], .events = POLLIN };

			poll(&p, 1, left * 1000 >= INT_MAX - 1 ? INT_MAX : (int)(left * 1000) + 1);
		} else {
			struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
}
