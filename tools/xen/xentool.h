/* SPDX-License-Identifier: MIT */
/*
 * xentool.h - what rvmig-save and rvmig-restore share: the dom0 check, a
 * libxl context with its logger on stderr and the librvmig context, the
 * stop signals, a domain by name or id, and a
 * thread that runs one libxl call (the save or the restore) beside the
 * transfer, which runs on the tool's main thread (the library starts no
 * thread of its own for it), a pipe between the two.
 */
#ifndef RVMIG_TOOLS_XEN_XENTOOL_H
#define RVMIG_TOOLS_XEN_XENTOOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "common/cli.h"

/* No domain (libxl's INVALID_DOMID as a domid_t). */
#define XENTOOL_NO_DOMID ((uint32_t)INVALID_DOMID)

struct xentool {
	xentoollog_logger_stdiostream *lg;
	libxl_ctx *ctx;
	rvmig_ctx *rvmig; /* the transfer's (tool_ctx_create()) */
};

/*
 * After the options: checks that this is a Xen domain with a usable
 * privcmd device, opens a libxl context logging to stderr (progress
 * messages with -v) and the librvmig context.  Returns 0, or -ENODEV after
 * saying on stderr why this is no dom0 ("no Xen hypervisor here: ..."), or
 * another -errno after saying what failed; nothing is left open then.
 * libxl reaps only its own children.  On success SIGPIPE is ignored and
 * SIGINT / SIGTERM set tool_stop (common/stop.h: the transfer's stop flag).
 */
int xentool_open(struct xentool *x, const struct tool_opts *o);
void xentool_close(struct xentool *x);

/* Whether domid is a domain (false for XENTOOL_NO_DOMID). */
bool xentool_domain_exists(libxl_ctx *ctx, uint32_t domid);
/* A domain by name, else by decimal id: 0, or -ENOENT. */
int xentool_domid(libxl_ctx *ctx, const char *dom, uint32_t *domid);

/*
 * One libxl call (the save or the restore) on its own thread, a pipe
 * between it and the transfer on the main thread.  xentool_pipe_start()
 * makes the pipe (both ends close-on-exec), stores the libxl side's end
 * (libxl_end: 0 the read end, 1 the write end) in *libxl_fd, which fn must
 * close when it is done, and starts fn(arg) on the thread.
 * xentool_pipe_finish() closes the transfer's end (the end of the stream
 * for a reader, EPIPE for a writer: SIGPIPE is ignored) and waits for fn,
 * which ends at the latest then, and returns what fn returned.
 * xentool_pipe_done() tells, without waiting, whether fn has returned, and
 * then what.
 */
struct xentool_pipe {
	int fd;              /* the transfer's end; -1 once closed */
	pthread_t thread;
	bool started;
	int (*fn)(void *arg);
	void *arg;
	int rc;
	atomic_bool done;    /* fn returned (rc is set) */
};

/* 0 or -errno (said on stderr); nothing is left open on failure. */
int xentool_pipe_start(struct xentool_pipe *p, int libxl_end, int *libxl_fd,
		       int (*fn)(void *arg), void *arg);
/* fn's return value (0 for a pipe that was never started). */
int xentool_pipe_finish(struct xentool_pipe *p);
/* Whether fn has returned (its value in *rc then); false if never started. */
bool xentool_pipe_done(struct xentool_pipe *p, int *rc);

#endif
