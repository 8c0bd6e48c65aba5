/* SPDX-License-Identifier: MIT */
/* stop.c - SIGINT / SIGTERM ask a tool to stop (stop.h). */
#include "stop.h"

volatile sig_atomic_t tool_stop;

static void on_signal(int sig)
{
	tool_stop = sig;
}

void tool_catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
