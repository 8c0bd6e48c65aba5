/* SPDX-License-Identifier: MIT */
/*
 * rvmigd - the far end of rvmig-tunnel: the daemon around its sessions.
 * Listens on one URI with a pre-shared key (mutual HMAC at connect, see
 * rvmig_key_load()); each connection is one session (tunnel/session.h: an
 * EXEC that runs only if the allow-list permits it, the tunnel's stdin
 * rebuilt by the library's receiver into the command's stdin, its output
 * and exit status sent back).  Up to --max-sessions connections are served
 * at once from one poll loop; the listener's connection limit
 * (rvmig_ep_attr.max_conns) refuses more inside the handshake, and the loop
 * keeps the listener fd in its poll set so refused tunnels hear it at once.
 * A command that stops reading its stdin holds back only its own session.
 * The daemon keeps listening until SIGINT / SIGTERM.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/cli.h"
#include "common/stop.h"
#include "tunnel/allow.h"
#include "tunnel/session.h"

#define MAX_SESSIONS_DEFAULT 8
#define MAX_SESSIONS_LIMIT 1024

enum {
	OPT_LISTEN = OPT_TOOL_FIRST,
	OPT_KEY_FILE,
	OPT_ALLOW,
	OPT_READY_FILE,
	OPT_ONCE,
	OPT_MAX_SESSIONS,
};

struct daemon {
	rvmig_listener *l;
	const struct allow_list *allow;
	rvmig_publisher *pub;
	struct session **ss;
	unsigned n, max;
	bool once;
};

/* Takes the connection requests that are waiting: new sessions, or refusals
 * (over the limit, wrong key) that the library answers and logs. */
static void take_connections(struct daemon *d)
{
	rvmig_ep *ep;
	struct session *s;
	int rc = rvmig_accept(d->l, 0, &ep);

	if (rc == -ETIMEDOUT)
		return;
	if (rc) {
		tool_err("connection refused: %s", rvmig_strerror(rc));
		return;
	}
	tool_debug("tunnel from %s over %s (%u of at most %u sessions)", rvmig_ep_peer(ep),
		   rvmig_ep_transport(ep), d->n + 1, d->max);
	if (d->n == d->max) {
		/* The listener's limit makes this impossible; never overrun. */
		tool_err("%s: session table full", rvmig_ep_peer(ep));
		rvmig_ep_close(ep);
		return;
	}
	s = session_new(ep, d->allow, d->pub);
	if (s)
		d->ss[d->n++] = s;
	if (d->once) {
		/* Serve this one only: later tunnels are refused by the kernel. */
		rvmig_listener_close(d->l);
		d->l = NULL;
	}
}

/* Gives the heap's free pages back once a burst of peers is over.  Each
 * connecting peer holds about 0.6 MiB until it is dropped or served; freed,
 * that memory stays in the process wherever it is not at the top of the
 * heap (glibc's free() only trims the top).  In the soak (50 hostile
 * clients, 4 tunnels), 30 s after the clients stopped, rvmigd's heap had
 * 250 KiB in use (209 KiB before the load) but 2.6 MiB free and resident;
 * malloc_trim(0) took its anonymous memory from 3492 to 1080 KiB (1492
 * before the load).  Called when the loop found nothing to do for one poll
 * period after a peer came or a session ended. */
static void heap_trim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static void run(struct daemon *d)
{
	struct pollfd *pf = calloc(1 + (size_t)d->max * SESSION_POLLFDS, sizeof(*pf));
	bool freed = false; /* peers or sessions went since the last trim */

	if (!pf) {
		tool_err("out of memory");
		return;
	}
	while (!tool_stop && (d->l || d->n)) {
		int k = 0, wait = 200, ready;

		pf[k++] = (struct pollfd){ .fd = d->l ? rvmig_listener_fd(d->l) : -1, .events = POLLIN };
		for (unsigned i = 0; i < d->n; i++) {
			k += session_pollfds(d->ss[i], pf + k);
			if (session_busy(d->ss[i]))
				wait = 0;
		}
		ready = poll(pf, (nfds_t)k, wait);
		if (ready < 0 && errno != EINTR)
			break;
		if (!ready && wait && freed) {
			heap_trim();
			freed = false;
		}
		if (d->l && (pf[0].revents & POLLIN)) {
			take_connections(d);
			freed = true;
		}
		for (unsigned i = 0; i < d->n;) {
			if (session_step(d->ss[i])) {
				i++;
				continue;
			}
			session_free(d->ss[i]);
			d->ss[i] = d->ss[--d->n];
			freed = true;
		}
	}
	while (d->n)
		session_free(d->ss[--d->n]);
	free(pf);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmigd [OPTIONS] --listen URI --key-file PATH [--allow CMD]...\n"
		"Runs commands for rvmig-tunnel: each connection that proves it holds the\n"
		"pre-shared key names one command, which runs if the allow-list permits it,\n"
		"with the tunnel's stdin as its stdin and its stdout, stderr and exit status\n"
		"sent back.  Serves up to --max-sessions connections at once and refuses\n"
		"more (the tunnel reports \"too many connections\"); keeps listening.\n\n"
		"  -l, --listen URI      tcp://HOST:PORT or verbs://HOST:PORT (rvmig-tunnel's\n"
		"                        default port is 7471)\n"
		"  --key-file PATH       pre-shared key (16..256 bytes, mode 0600 or 0400)\n"
		"  --allow CMD           allow commands whose argv starts with CMD's words\n"
		"                        (options after the first word are skipped); repeat\n"
		"                        for more; default: '" ALLOW_DEFAULT "'\n"
		"  --ready-file PATH     write the bound port there once listening\n"
		"  --max-sessions N      connections served at once (1..%d, default %d)\n"
		"  --auth-timeout MS     a connecting tunnel must open each link and prove it\n"
		"                        holds the key within MS (default 5000); until then\n"
		"                        it holds no session\n"
		"  --once                serve one connection, then exit\n\n%s",
		MAX_SESSIONS_LIMIT, MAX_SESSIONS_DEFAULT,
		tool_common_help);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "key-file", required_argument, NULL, OPT_KEY_FILE },
		{ "allow", required_argument, NULL, OPT_ALLOW },
		{ "ready-file", required_argument, NULL, OPT_READY_FILE },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
		TOOL_AUTH_TIMEOUT_LONGOPT,
		{ 0 },
	};
	struct allow_list allow = { 0 };
	struct tool_opts o;
	struct rvmig_ep_attr attr;
	rvmig_listener *l = NULL;
	rvmig_ctx *ctx = NULL;
	const char *uri = NULL, *key_file = NULL, *ready = NULL;
	uint8_t key[TOOL_KEY_MAX];
	size_t key_len = sizeof(key);
	struct daemon d = { .max = MAX_SESSIONS_DEFAULT };
	int c, rc;

	tool_opts_init(&o, "rvmigd");
	while ((c = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS "l:", lopts, NULL)) != -1) {
		if ((rc = tool_opt(&o, c, optarg, usage)) == TOOL_OPT_TAKEN)
			continue;
		if (rc != TOOL_OPT_MINE)
			return rc;
		switch (c) {
		case 'l':
			uri = optarg;
			break;
		case OPT_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_ALLOW:
			if (allow_add(&allow, optarg)) {
				tool_err("bad --allow '%s'", optarg);
				return 2;
			}
			break;
		case OPT_READY_FILE:
			ready = optarg;
			break;
		case OPT_ONCE:
			d.once = true;
			break;
		case OPT_MAX_SESSIONS: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 1 || v > MAX_SESSIONS_LIMIT) {
				tool_err("bad --max-sessions '%s' (1..%d)", optarg, MAX_SESSIONS_LIMIT);
				return 2;
			}
			d.max = (unsigned)v;
			break;
		}
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !uri || !key_file) {
		usage(stderr);
		return 2;
	}
	if (tool_check_uri("--listen URI", uri))
		return 2;
	if (!allow.n && allow_add(&allow, ALLOW_DEFAULT))
		return 1;
	tool_opts_done(&o);
	tool_catch_stop();

	if ((rc = tool_ctx_create(&o, &ctx)))
		goto out;
	rc = tool_tunnel_attr(&o, ctx, key_file, key, &key_len, &attr);
	if (rc)
		goto out;
	attr.max_conns = d.once ? 1 : d.max;
	rc = rvmig_listen(ctx, uri, &attr, &l);
	if (rc) {
		tool_err("cannot listen on %s: %s", uri, rvmig_strerror(rc));
		goto out;
	}
	if ((rc = tool_announce(ready, uri, rvmig_listener_port(l))))
		goto out;
	d.l = l;
	d.allow = &allow;
	rvmig_publisher_open(ctx, "rvmigd", NULL, &d.pub);
	d.ss = calloc(d.max, sizeof(*d.ss));
	if (!d.ss) {
		rc = -ENOMEM;
		goto out;
	}
	run(&d);
	l = d.l; /* closed by run() with --once */
	free(d.ss);
	rc = 0;
out:
	explicit_bzero(key, sizeof(key));
	rvmig_publisher_close(d.pub);
	rvmig_listener_close(l);
	rvmig_ctx_destroy(ctx);
	allow_free(&allow);
	return rc ? 1 : 0;
}
