/* SPDX-License-Identifier: MIT */
/*
 * rvmig-restore - receives a domain's checkpoint from rvmig-save (or any
 * rvmig-send of an xl save stream) straight into
 * libxl_domain_create_restore(): no file on this host.
 *
 * The library's receiving session (rvmig/xstream.h) writes the rebuilt
 * stream into a pipe; a thread of this tool reads the xl header from its
 * other end, takes the domain's configuration from it and hands the rest to
 * libxl (restore.h), which builds the domain paused as NAME--incoming.
 * Once the stream is complete and its digest matches the sender's, the
 * session holds its verdict (rvmig_xrsession_set_hold()) until libxl has
 * restored the domain and it is renamed to NAME and unpaused: only then
 * does the sender hear success (and rvmig-save destroy the source); any
 * failure before is the verdict's, so the source runs on.
 *
 * Exit status: 0 restored and running (or paused with --paused); 1 failure
 * (nothing left behind: a half-restored domain is destroyed); 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/cli.h"
#include "common/progress.h"
#include "common/stop.h"
#include "restore.h"
#include "xentool.h"

/* Default --timeout for the pipe to libxl: libxl stops reading while it
 * builds the domain (memory, the save helper) before the pages, and under
 * load that took more than the library's 10 s (xen.save_restore_verbs,
 * host load 14: nothing read for 10.1 s at stream offset 10943). */
#define LIBXL_STALL_MS 60000

enum {
	OPT_LISTEN = OPT_TOOL_FIRST,
	OPT_READY_FILE,
	OPT_ACCEPT_TIMEOUT,
	OPT_KEY_FILE,
	OPT_NAME,
};

static void on_progress(rvmig_xrsession *s, uint64_t off, uint64_t total, void *arg)
{
	struct progress *p = arg;

	(void)s;
	if (total)
		progress_set_total(p, total);
	progress_update(p, off);
}

/* What the verdict's hold needs: the libxl thread, its job, --paused. */
struct hold {
	struct xentool_pipe *pipe;
	struct restore_job *job;
	bool paused;
};

/* The verdict's hold (rvmig_xrsession_set_hold()): the stream arrived
 * verified; success once libxl built the domain and it has its name and
 * runs.  1: libxl is still at it. */
static int hold(rvmig_xrsession *s, char *why, size_t whylen, void *arg)
{
	struct hold *h = arg;
	int rc;

	(void)s;
	if (!xentool_pipe_done(h->pipe, &rc))
		return 1;
	if (rc) {
		snprintf(why, whylen, "the stream arrived verified, but the restore failed: %s",
			 h->job->why);
		return rc;
	}
	if ((rc = restore_finish(h->job, h->paused))) {
		snprintf(why, whylen, "%s", h->job->why);
		return rc;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmig-restore [OPTIONS] --listen URI\n"
		"Receives one domain checkpoint (an xl save stream, as rvmig-save sends it)\n"
		"from a sender at URI and restores it with libxl as it arrives, like\n"
		"`xl restore` but with no file on this host.  The domain is built paused as\n"
		"NAME--incoming, renamed to NAME and unpaused once the whole stream arrived\n"
		"with the sender's digest and libxl restored it, and only then is the sender\n"
		"told (rvmig-save destroys the source then); on any failure it is destroyed\n"
		"and the sender told why.  Must run as root in a Xen dom0.\n\n"
		"  -l, --listen URI        where to listen (tcp://HOST:PORT, verbs://HOST:PORT;\n"
		"                          port 0 picks a free port)\n"
		"  --ready-file PATH       write the bound port there once listening\n"
		"  --accept-timeout MS     give up if no sender came (default: wait forever)\n"
		"  --auth-timeout MS       a connecting sender must open each link and, with\n"
		"                          --key-file, prove it holds the key within MS\n"
		"  --key-file PATH         pre-shared key (16..256 bytes, mode 0600/0400):\n"
		"                          senders that cannot prove they hold it are refused\n"
		"  --name NAME             the restored domain's name (default: the one in the\n"
		"                          checkpoint's configuration)\n"
		"  -p, --paused            leave the restored domain paused\n\n%s",
		tool_common_help);
}

struct restore_cli {
	const char *uri, *ready, *key_file, *name;
	uint32_t accept_timeout_ms;
	bool paused;
};

/* Options; returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct tool_opts *o, struct restore_cli *c)
{
	static const struct option lopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "ready-file", required_argument, NULL, OPT_READY_FILE },
		{ "accept-timeout", required_argument, NULL, OPT_ACCEPT_TIMEOUT },
		TOOL_AUTH_TIMEOUT_LONGOPT,
		{ "key-file", required_argument, NULL, OPT_KEY_FILE },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "paused", no_argument, NULL, 'p' },
		{ 0 },
	};
	int ch, rc;

	tool_opts_init(o, "rvmig-restore");
	while ((ch = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS "l:p", lopts, NULL)) != -1) {
		if ((rc = tool_opt(o, ch, optarg, usage)) == TOOL_OPT_TAKEN)
			continue;
		if (rc != TOOL_OPT_MINE)
			return rc;
		switch (ch) {
		case 'l': c->uri = optarg; break;
		case OPT_READY_FILE: c->ready = optarg; break;
		case OPT_KEY_FILE: c->key_file = optarg; break;
		case 'p': c->paused = true; break;
		case OPT_NAME:
			if (!*optarg || strlen(optarg) >= RESTORE_NAME_MAX) {
				tool_err("bad value for --name (1 to %d characters)", RESTORE_NAME_MAX - 1);
				return 2;
			}
			c->name = optarg;
			break;
		case OPT_ACCEPT_TIMEOUT: {
			double v;

			if (tool_num_opt("--accept-timeout", optarg, 0, INT32_MAX, &v))
				return 2;
			c->accept_timeout_ms = (uint32_t)v;
			break;
		}
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !c->uri) {
		usage(stderr);
		return 2;
	}
	if (o->raw) {
		tool_err("--raw: rvmig-restore takes only Xen save streams");
		return 2;
	}
	if (tool_check_uri("--listen URI", c->uri))
		return 2;
	tool_opts_done(o);
	return -1;
}

/* Receives into the pipe to the restore thread, the verdict held until the
 * domain is restored (*h): 0 or the error, the outcome in *res. */
static int receive(struct tool_opts *o, const struct restore_cli *c, rvmig_ctx *ctx,
		   struct hold *h, struct progress *prog, struct rvmig_xresult *res)
{
	struct rvmig_xrsession_attr sa = {
		.size = sizeof(sa), .flags = RVMIG_XRSESSION_F_FD | RVMIG_XSTREAM_F_DIGEST_THREAD,
		.fd = h->pipe->fd, .timeout_ms = o->timeout_ms ? o->timeout_ms : LIBXL_STALL_MS,
		.accept_timeout_ms = c->accept_timeout_ms, .mode = o->mode, .stop = &tool_stop,
		.on_progress = on_progress, .arg = prog,
	};
	struct rvmig_ep_attr attr;
	rvmig_publisher *pub = NULL;
	rvmig_xrsession *s = NULL;
	rvmig_listener *l = NULL;
	uint8_t key[TOOL_KEY_MAX];
	size_t key_len = sizeof(key);
	bool ran = false;
	int rc;

	tool_ep_attr(o, &attr);
	if (c->key_file && (rc = tool_key_attr(ctx, c->key_file, key, &key_len, &attr)))
		return rc;
	/* Seen by rvmig-top from here on (waiting for its sender: setup);
	 * never a reason to fail. */
	if (!rvmig_publisher_open(ctx, "rvmig-restore", NULL, &pub))
		rvmig_pubxfer_begin(pub, &sa.pub);
	if ((rc = rvmig_xrsession_create(ctx, &sa, &s)) ||
	    (rc = rvmig_xrsession_set_hold(s, hold, h, 0)))
		goto out;
	if ((rc = rvmig_listen(ctx, c->uri, &attr, &l))) {
		tool_err("cannot listen on %s: %s", c->uri, rvmig_strerror(rc));
		goto out;
	}
	if ((rc = tool_announce(c->ready, c->uri, rvmig_listener_port(l)))) {
		rvmig_listener_close(l);
		goto out;
	}
	ran = true;
	rc = rvmig_xrsession_run(s, l); /* takes l; ends the transfer for the monitor */
out:
	if (!ran)
		rvmig_pubxfer_end(sa.pub, rc ? rc : -ECANCELED);
	if (s)
		rvmig_xrsession_result(s, res);
	rvmig_xrsession_destroy(s);
	rvmig_publisher_close(pub);
	explicit_bzero(key, sizeof(key));
	return rc;
}

int main(int argc, char **argv)
{
	struct tool_opts o;
	struct restore_cli c = { 0 };
	struct rvmig_xresult res = { .size = sizeof(res) };
	struct restore_job job = { .domid = XENTOOL_NO_DOMID, .fd = -1 };
	struct xentool_pipe pipe = { .fd = -1 };
	struct hold h = { .pipe = &pipe, .job = &job };
	struct xentool x = { 0 };
	struct progress prog;
	double t0;
	int rc, jrc, ret = 1;

	if ((rc = parse(argc, argv, &o, &c)) >= 0)
		return rc;
	if (xentool_open(&x, &o))
		return 1;
	job.ctx = x.ctx;
	job.header_timeout_ms = -1; /* ends when the session closes the pipe */
	job.name = c.name;
	h.paused = c.paused;
	if (xentool_pipe_start(&pipe, 0, &job.fd, restore_run, &job))
		goto out;
	t0 = tool_now();
	progress_init(&prog, o.verbosity >= 0, 0);
	rc = receive(&o, &c, x.rvmig, &h, &prog, &res);
	progress_end(&prog);
	jrc = xentool_pipe_finish(&pipe); /* end of stream: a restore still reading sees it */
	if (jrc && rc == -EPIPE) {
		/* The restore stopped reading first: its reason is the cause. */
		tool_err("restore failed: %s; the transfer ended with it (%s)", job.why,
			 res.text[0] ? res.text : rvmig_strerror(rc));
		goto out;
	}
	if (rc) {
		tool_err("%s", res.text[0] ? res.text : rvmig_strerror(rc));
		if (jrc && !res.verified)
			tool_err("so the restore failed too: %s", job.why);
		if (job.domid != XENTOOL_NO_DOMID)
			tool_err("destroying domain %u (%s): the sender was not told it is restored, "
				 "so it keeps its own", job.domid, job.incoming);
		goto out;
	}
	tool_info("restored domain %s (%u)%s from %s over %s: %llu bytes, %s digest verified, %.2f s",
		  job.final, job.domid, c.paused ? ", paused" : "", res.peer, res.transport,
		  (unsigned long long)res.bytes, rvmig_digest_name(res.digest_alg),
		  tool_now() - t0);
	job.domid = XENTOOL_NO_DOMID;
	ret = 0;
out:
	xentool_pipe_finish(&pipe);
	restore_discard(&job);
	xentool_close(&x);
	return ret;
}
