/* SPDX-License-Identifier: MIT */
/*
 * rvmig-save - save a running Xen domain straight into an rvmig transfer.
 *
 *   rvmig-save [-v] DOM URI [rvmig-send options...]
 *
 * Does what `xl save DOM FILE` does - the xl header with the domain's JSON
 * configuration, then libxl_domain_suspend() - but into a pipe, on a thread
 * of this tool, while the library's sender (rvmig_xsender, rvmig/xstream.h)
 * reads the other end on the main thread and sends it to the receiver at
 * URI (rvmig-recv -o FILE writes an ordinary xl save file; rvmig-restore
 * restores it as it arrives).  No file on this host, no other process.
 *
 * The domain is destroyed only when the save completed AND the receiver
 * confirmed every byte (same length and digest) - rvmig-restore confirms
 * only once the domain is restored and running there.  If the save fails,
 * the transfer fails after the domain was suspended, or the receiver's
 * verdict is a failure or does not come, the domain is resumed instead (as
 * xl does for a failed save or migration) and rvmig-save exits 1 naming
 * the receiver's reason.  Once suspended, and until it is destroyed or
 * resumed, the domain is called NAME--migratedaway (as xl migrate does), so
 * that a restore on this same host can take its name.  "The receiver" is
 * whoever answers at URI: only --key-file proves who that is.
 *
 * Exit status: 0 saved, sent, verified and the domain destroyed; 1 failure
 * (including "no Xen hypervisor here"); 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/cli.h"
#include "common/io.h"
#include "common/progress.h"
#include "common/report.h"
#include "common/stop.h"
#include "xentool.h"


enum {
	OPT_SEND = OPT_TOOL_FIRST,
	OPT_ZERO_MIN,
	OPT_KEY_FILE,
	OPT_DIGEST,
	OPT_PUBLISH_AS,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmig-save [-v] DOM URI [OPTIONS]\n"
		"Saves the running Xen domain DOM (name or id) like `xl save`, but streams\n"
		"the save image to the receiver listening at URI (rvmig-recv, which writes\n"
		"an xl save file for `xl restore`, or rvmig-restore, which restores it as\n"
		"it arrives) instead of writing a file.  The domain is destroyed only when\n"
		"the receiver confirmed the whole image (length and digest); if the save\n"
		"or the transfer fails the domain is resumed.\n\n"
		"  --digest ALG        end-to-end digest: xxh128 (default) or sha256\n"
		"  --zero-min-pages N  elide runs of at least N all-zero pages (default 4;\n"
		"                      1: every zero page)\n"
		"  --key-file PATH     pre-shared key (16..256 bytes, mode 0600/0400); the\n"
		"                      receiver needs the same.  Without one, whoever answers\n"
		"                      at URI can confirm the transfer and so make rvmig-save\n"
		"                      destroy the domain (rvmig-save(8), SAFETY)\n"
		"  --publish-as NAME   the name the monitor shows the transfer under\n"
		"                      (default rvmig-save)\n"
		"  --send PATH         ignored (rvmig-save no longer runs rvmig-send)\n"
		"Options may come before DOM or after URI.  Must run as root in a Xen\n"
		"dom0 (fails with \"no Xen hypervisor here\" elsewhere).\n\n%s",
		tool_common_help);
}

struct save_cli {
	const char *dom, *uri, *key_file, *publish_as;
	struct rvmig_xsend_opts xo;
};

/* Options before DOM and after URI (rvmig-send's, as rvmig-save passed
 * them on when it ran rvmig-send); -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct tool_opts *o, struct save_cli *c)
{
	static const struct option lopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "send", required_argument, NULL, OPT_SEND },
		{ "zero-min-pages", required_argument, NULL, OPT_ZERO_MIN },
		{ "key-file", required_argument, NULL, OPT_KEY_FILE },
		{ "digest", required_argument, NULL, OPT_DIGEST },
		{ "publish-as", required_argument, NULL, OPT_PUBLISH_AS },
		{ 0 },
	};
	const char *pos[2];
	int npos = 0, ch, rc;

	tool_opts_init(o, "rvmig-save");
	c->publish_as = "rvmig-save";
	while (optind < argc) {
		/* '+': stop at each non-option (DOM, URI) and go on after it */
		ch = getopt_long(argc, argv, "+" TOOL_COMMON_SHORTOPTS, lopts, NULL);
		if (ch == -1) {
			if (optind >= argc)
				break;
			if (npos == 2) {
				tool_err("unexpected argument '%s'", argv[optind]);
				return 2;
			}
			pos[npos++] = argv[optind++];
			continue;
		}
		if ((rc = tool_opt(o, ch, optarg, usage)) == TOOL_OPT_TAKEN)
			continue;
		if (rc != TOOL_OPT_MINE)
			return rc;
		switch (ch) {
		case OPT_SEND: tool_err("--send is ignored: rvmig-save sends in-process"); break;
		case OPT_KEY_FILE: c->key_file = optarg; break;
		case OPT_PUBLISH_AS: c->publish_as = optarg; break;
		case OPT_DIGEST:
			if (rvmig_digest_parse(optarg, &c->xo.digest)) {
				tool_err("bad value '%s' for --digest (xxh128 or sha256)", optarg);
				return 2;
			}
			break;
		case OPT_ZERO_MIN: {
			uint64_t v;

			if (tool_parse_u64(optarg, &v) || !v || v > (1u << 20)) {
				tool_err("bad value '%s' for --zero-min-pages", optarg);
				return 2;
			}
			c->xo.zero_min = v * RVMIG_STREAM_PAGE_SIZE;
			break;
		}
		default: usage(stderr); return 2;
		}
	}
	if (npos != 2) {
		usage(stderr);
		return 2;
	}
	c->dom = pos[0];
	c->uri = pos[1];
	if (tool_check_uri("URI", c->uri))
		return 2;
	tool_opts_done(o);
	return -1;
}

#define AWAY_SUFFIX "--migratedaway"

/* The save, on the libxl thread: the xl header, then libxl's stream. */
struct save_job {
	libxl_ctx *ctx;
	uint32_t domid;
	const char *name;       /* the domain's name */
	char away[256];         /* ... while it is saved: NAME--migratedaway */
	bool renamed;           /* it is called `away` now */
	int fd;                 /* the pipe's write end; closed when done */
	const uint8_t *hdr;
	size_t hdr_len;
	double t_saved;         /* when libxl returned */
	int libxl_rc;
};

static int save_run(void *arg)
{
	struct save_job *j = arg;
	int rc = tool_write_all(j->fd, j->hdr, j->hdr_len, -1);

	if (rc)
		tool_err("writing the xl header into the transfer: %s", strerror(-rc));
	else
		j->libxl_rc = libxl_domain_suspend(j->ctx, j->domid, j->fd, 0, NULL);
	j->t_saved = tool_now();
	/* Suspended: its name is free for a restore on this host before the
	 * stream ends, i.e. before the receiver's verdict (as xl migrate does). */
	if (!rc && !j->libxl_rc) {
		j->renamed = !libxl_domain_rename(j->ctx, j->domid, j->name, j->away);
		if (!j->renamed)
			tool_err("cannot rename the suspended domain %u to %s (libxl's message above): "
				 "a restore on this host cannot take its name", j->domid, j->away);
	}
	close(j->fd); /* end of stream for the sender */
	j->fd = -1;
	return rc ? rc : j->libxl_rc ? -EIO : 0;
}

/* After a failed save or transfer: the domain runs on, under its name,
 * resumed if libxl had suspended it (as xl does after a failed save). */
static void resume(struct save_job *j)
{
	libxl_dominfo info;
	bool suspended;

	if (j->renamed && libxl_domain_rename(j->ctx, j->domid, j->away, j->name))
		tool_err("cannot rename domain %u back from %s to %s", j->domid, j->away, j->name);
	libxl_dominfo_init(&info);
	suspended = !libxl_domain_info(j->ctx, &info, j->domid) && info.shutdown &&
		    info.shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND;
	libxl_dominfo_dispose(&info);
	if (!suspended)
		tool_err("domain %u was not suspended (yet): it runs on", j->domid);
	else if (libxl_domain_resume(j->ctx, j->domid, 1, NULL))
		tool_err("resuming domain %u failed; it stays suspended", j->domid);
	else
		tool_err("domain %u (%s) resumed: it runs on here", j->domid, j->name);
}

/* The xl header for domid: its JSON configuration. */
static int build_header(libxl_ctx *ctx, uint32_t domid, uint8_t **hdr, size_t *len)
{
	libxl_domain_config dc;
	char *json = NULL;
	size_t jlen;
	int rc = -EIO;

	libxl_domain_config_init(&dc);
	if (libxl_retrieve_domain_configuration(ctx, domid, &dc, NULL) != 0) {
		tool_err("cannot retrieve the configuration of domain %u", domid);
		goto out;
	}
	json = libxl_domain_config_to_json(ctx, &dc);
	if (!json) {
		tool_err("cannot convert the configuration of domain %u to JSON", domid);
		goto out;
	}
	jlen = strlen(json) + 1;
	rc = rvmig_xl_header_build(json, jlen > UINT32_MAX ? UINT32_MAX : (uint32_t)jlen, hdr, len);
	if (rc)
		tool_err("cannot build the xl header (%zu bytes of config): %s", jlen, strerror(-rc));
out:
	free(json);
	libxl_domain_config_dispose(&dc);
	return rc;
}

static void on_progress(rvmig_xsender *s, uint64_t acked, void *arg)
{
	(void)s;
	progress_update(arg, acked);
}

/* --stats-json: what rvmig-send wrote when rvmig-save ran it. */
static void write_report(const struct tool_opts *o, rvmig_xsender *xs,
			 const struct rvmig_xresult *res)
{
	struct tool_report rep = { .tool = "rvmig-save", .raw = o->raw, .seconds = res->seconds,
				   /* the library default (rvmig_ep_attr.nlinks) */
				   .links = o->links ? o->links : 4 };

	report_from_sender(&rep, xs, res);
	report_write_json(o->stats_json, &rep);
	report_free_lib(&rep);
}

/* Sends the pipe's read end to the receiver: 0 when it confirmed all. */
static int send_pipe(struct tool_opts *o, struct save_cli *c, rvmig_ctx *ctx, int fd,
		     struct rvmig_xresult *res)
{
	struct rvmig_ep_attr attr;
	rvmig_publisher *pub = NULL;
	rvmig_pubxfer *px = NULL;
	rvmig_xsender *xs = NULL;
	struct progress prog;
	uint8_t key[TOOL_KEY_MAX];
	size_t key_len = sizeof(key);
	int rc;

	tool_ep_attr(o, &attr);
	if (c->key_file && (rc = tool_key_attr(ctx, c->key_file, key, &key_len, &attr))) {
		explicit_bzero(key, sizeof(key));
		return rc;
	}
	/* Seen by rvmig-top; never a reason to fail. */
	if (!rvmig_publisher_open(ctx, c->publish_as, NULL, &pub))
		rvmig_pubxfer_begin(pub, &px);
	c->xo.size = sizeof(c->xo);
	c->xo.flags |= RVMIG_XSTREAM_F_DIGEST_THREAD | (o->raw ? RVMIG_XSTREAM_F_RAW : 0);
	c->xo.ep_attr = &attr;
	c->xo.name = "the save stream";
	c->xo.stop = &tool_stop;
	c->xo.pub = px;
	c->xo.on_progress = on_progress;
	c->xo.arg = &prog;
	progress_init(&prog, o->verbosity >= 0, 0);
	rc = rvmig_xsender_create(ctx, fd, &c->xo, &xs);
	if (!rc)
		rc = rvmig_xsender_send(xs, c->uri);
	progress_end(&prog);
	if (xs) {
		rvmig_xsender_result(xs, res);
	} else {
		res->status = rc;
		snprintf(res->text, sizeof(res->text), "cannot set up the sender: %s",
			 rvmig_strerror(rc));
	}
	/* Ended for the monitor before the report, which may block on a FIFO. */
	rvmig_pubxfer_end(px, rc);
	if (o->stats_json)
		write_report(o, xs, res);
	rvmig_xsender_destroy(xs);
	rvmig_publisher_close(pub);
	explicit_bzero(key, sizeof(key));
	return rc;
}

int main(int argc, char **argv)
{
	struct tool_opts o;
	struct save_cli c = { 0 };
	struct rvmig_xresult res = { .size = sizeof(res) };
	struct save_job job = { .fd = -1 };
	struct xentool_pipe pipe = { .fd = -1 };
	struct xentool x = { 0 };
	uint8_t *hdr = NULL;
	char *name = NULL;
	double t0;
	int rc, jrc, ret = 1;

	if ((rc = parse(argc, argv, &o, &c)) >= 0)
		return rc;
	if (xentool_open(&x, &o))
		return 1;
	if (xentool_domid(x.ctx, c.dom, &job.domid)) {
		tool_err("no domain '%s'", c.dom);
		goto out;
	}
	if (job.domid == 0) {
		tool_err("refusing to save dom0");
		goto out;
	}
	name = libxl_domid_to_name(x.ctx, job.domid);
	if (!name || strlen(name) + sizeof(AWAY_SUFFIX) > sizeof(job.away)) {
		tool_err("domain %u has %s name", job.domid, name ? "too long a" : "no");
		goto out;
	}
	job.name = name;
	snprintf(job.away, sizeof(job.away), "%s%s", name, AWAY_SUFFIX);
	if (build_header(x.ctx, job.domid, &hdr, &job.hdr_len))
		goto out;
	job.ctx = x.ctx;
	job.hdr = hdr;
	t0 = tool_now();
	if (xentool_pipe_start(&pipe, 1, &job.fd, save_run, &job))
		goto out;
	rc = send_pipe(&o, &c, x.rvmig, pipe.fd, &res);
	jrc = xentool_pipe_finish(&pipe); /* a save still writing gets EPIPE */
	if (rc || jrc) {
		if (rc) {
			tool_err("%s", res.text[0] ? res.text : rvmig_strerror(rc));
			tool_err("the receiver did not confirm domain %u (%s): keeping it here",
				 job.domid, name);
		} else {
			tool_err("saving domain %u failed (libxl error %d)", job.domid, job.libxl_rc);
		}
		resume(&job);
		goto out;
	}
	if (libxl_domain_destroy(x.ctx, job.domid, NULL) != 0) {
		tool_err("domain %u saved and sent, but destroying it failed", job.domid);
		goto out;
	}
	tool_info("domain %s (%u) saved to %s over %s: %llu bytes, %s digest verified by the "
		  "receiver; suspend+save %.2f s, transfer done %.2f s later",
		  c.dom, job.domid, res.peer, res.transport, (unsigned long long)res.bytes,
		  rvmig_digest_name(res.digest_alg), job.t_saved - t0, tool_now() - job.t_saved);
	ret = 0;
out:
	xentool_pipe_finish(&pipe);
	free(name);
	free(hdr);
	xentool_close(&x);
	return ret;
}
