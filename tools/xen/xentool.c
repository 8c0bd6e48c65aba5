/* SPDX-License-Identifier: MIT */
/* xentool.c - dom0 check, libxl and librvmig contexts, domain lookup, the
 * libxl thread and its pipe (xentool.h). */
#include "xentool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/stop.h"

static const libxl_childproc_hooks chld_hooks = {
	/* libxl reaps only its own children (libxl-save-helper). */
	.chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

/* Is this a Xen domain with a privcmd interface?  Names the first reason it
 * is not in *why. */
static const char *xen_absent(void)
{
	if (access("/proc/xen", F_OK) != 0 && access("/dev/xen/privcmd", F_OK) != 0)
		return "/proc/xen and /dev/xen/privcmd do not exist";
	if (access("/dev/xen/privcmd", R_OK | W_OK) != 0 &&
	    access("/proc/xen/privcmd", R_OK | W_OK) != 0)
		return "no usable privcmd device (/dev/xen/privcmd, /proc/xen/privcmd; xenfs not "
		       "mounted or not root)";
	return NULL;
}

int xentool_open(struct xentool *x, const struct tool_opts *o)
{
	const char *absent = xen_absent();
	int rc;

	x->lg = NULL;
	x->ctx = NULL;
	x->rvmig = NULL;
	if (absent) {
		tool_err("no Xen hypervisor here: %s", absent);
		return -ENODEV;
	}
	x->lg = xtl_createlogger_stdiostream(stderr, o->verbosity > 0 ? XTL_PROGRESS : XTL_WARN, 0);
	if (!x->lg) {
		tool_err("cannot create the libxl logger");
		return -ENOMEM;
	}
	if (libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, (xentoollog_logger *)x->lg) != 0 || !x->ctx) {
		tool_err("no Xen hypervisor here: libxl_ctx_alloc failed (not a dom0, or xenstored "
			 "not running)");
		xentool_close(x);
		return -ENODEV;
	}
	libxl_childproc_setmode(x->ctx, &chld_hooks, NULL);
	if ((rc = tool_ctx_create(o, &x->rvmig))) {
		xentool_close(x);
		return rc;
	}
	tool_catch_stop();
	return 0;
}

void xentool_close(struct xentool *x)
{
	rvmig_ctx_destroy(x->rvmig);
	if (x->ctx)
		libxl_ctx_free(x->ctx);
	if (x->lg)
		xtl_logger_destroy((xentoollog_logger *)x->lg);
	x->rvmig = NULL;
	x->ctx = NULL;
	x->lg = NULL;
}

bool xentool_domain_exists(libxl_ctx *ctx, uint32_t domid)
{
	libxl_dominfo info;
	bool found;

	if (domid == XENTOOL_NO_DOMID)
		return false;
	libxl_dominfo_init(&info);
	found = libxl_domain_info(ctx, &info, domid) == 0;
	libxl_dominfo_dispose(&info);
	return found;
}

int xentool_domid(libxl_ctx *ctx, const char *dom, uint32_t *domid)
{
	unsigned long v;
	char *end;

	if (libxl_name_to_domid(ctx, dom, domid) == 0)
		return 0;
	errno = 0;
	v = strtoul(dom, &end, 10);
	if (!*dom || *end || errno || v >= UINT32_MAX || !xentool_domain_exists(ctx, (uint32_t)v))
		return -ENOENT;
	*domid = (uint32_t)v;
	return 0;
}

static void *pipe_main(void *arg)
{
	struct xentool_pipe *p = arg;

	p->rc = p->fn(p->arg);
	atomic_store(&p->done, true);
	return NULL;
}

int xentool_pipe_start(struct xentool_pipe *p, int libxl_end, int *libxl_fd,
		       int (*fn)(void *arg), void *arg)
{
	int fd[2], rc;

	p->fd = -1;
	p->started = false;
	p->rc = 0;
	atomic_store(&p->done, false);
	if (pipe2(fd, O_CLOEXEC)) {
		rc = -errno;
		fprintf(stderr, "%s: pipe: %s\n", program_invocation_short_name, strerror(-rc));
		return rc;
	}
	p->fn = fn;
	p->arg = arg;
	*libxl_fd = fd[libxl_end];
	rc = pthread_create(&p->thread, NULL, pipe_main, p);
	if (rc) {
		fprintf(stderr, "%s: cannot start the libxl thread: %s\n",
			program_invocation_short_name, strerror(rc));
		close(fd[0]);
		close(fd[1]);
		*libxl_fd = -1;
		return -rc;
	}
	p->fd = fd[!libxl_end];
	p->started = true;
	return 0;
}

bool xentool_pipe_done(struct xentool_pipe *p, int *rc)
{
	if (!p->started || !atomic_load(&p->done))
		return false;
	*rc = p->rc;
	return true;
}

int xentool_pipe_finish(struct xentool_pipe *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (!p->started)
		return 0;
	pthread_join(p->thread, NULL);
	p->started = false;
	return p->rc;
}
