/* SPDX-License-Identifier: MIT */
/* xenlib.c - libxenctrl and libxenstat, loaded at run time (see xen.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "monitor/xen/xen.h"

static int open_lib(const char *soname, void **out, char *why, size_t len)
{
	/* RTLD_LOCAL: the symbols stay out of the program's namespace. */
	*out = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (*out)
		return 0;
	/* dlerror() names the file and says why (not found, wrong ELF class...) */
	snprintf(why, len, "cannot load %s (this build needs Xen %s's): %s", soname,
		 RVMIG_XEN_BUILD_VERSION, dlerror());
	return -ENOTSUP;
}

static int resolve(void *dl, const char *soname, const char *name, void **fn, char *why,
		   size_t len)
{
	*fn = dlsym(dl, name);
	if (*fn)
		return 0;
	snprintf(why, len, "%s has no %s", soname, name);
	return -ENOTSUP;
}

int xen_lib_load(struct xen_lib *lib, char *why, size_t len)
{
	int rc;

	memset(lib, 0, sizeof(*lib));
	if ((rc = open_lib(RVMIG_XENCTRL_SONAME, &lib->xc_dl, why, len)) < 0 ||
	    (rc = open_lib(RVMIG_XENSTAT_SONAME, &lib->xs_dl, why, len)) < 0)
		goto fail;
	/* dlsym returns a data pointer; the function pointer is copied from
	 * it, which POSIX guarantees to work. */
#define XEN_RESOLVE(dl, so, f)                                             \
	do {                                                               \
		void *p_;                                                  \
		if ((rc = resolve(lib->dl, so, #f, &p_, why, len)) < 0)    \
			goto fail;                                         \
		memcpy(&lib->f, &p_, sizeof(lib->f));                      \
	} while (0);
#define XEN_RESOLVE_XC(f) XEN_RESOLVE(xc_dl, RVMIG_XENCTRL_SONAME, f)
#define XEN_RESOLVE_XS(f) XEN_RESOLVE(xs_dl, RVMIG_XENSTAT_SONAME, f)
	XEN_XC_FUNCS(XEN_RESOLVE_XC)
	XEN_XS_FUNCS(XEN_RESOLVE_XS)
#undef XEN_RESOLVE_XS
#undef XEN_RESOLVE_XC
#undef XEN_RESOLVE
	return 0;
fail:
	xen_lib_unload(lib);
	return rc;
}

void xen_lib_unload(struct xen_lib *lib)
{
	if (lib->xs_dl)
		dlclose(lib->xs_dl);
	if (lib->xc_dl)
		dlclose(lib->xc_dl);
	memset(lib, 0, sizeof(*lib));
}

__attribute__((format(printf, 5, 0)))
static void logger_vmessage(xentoollog_logger *xl, xentoollog_level level, int errnoval,
			    const char *context, const char *format, va_list al)
{
	struct xen_logger *l = (struct xen_logger *)xl;
	char msg[512], esc[768];
	int n = vsnprintf(msg, sizeof(msg), format, al);

	if (n < 0)
		return;
	rvmig_text_escape(esc, sizeof(esc), msg, strlen(msg));
	if (errnoval > 0)
		rvmig_logf(l->ctx, level >= XTL_ERROR ? RVMIG_LOG_WARN : RVMIG_LOG_DEBUG, "monitor",
			   "%s: %s: %s", context ? context : "xen", esc, strerror(errnoval));
	else
		rvmig_logf(l->ctx, level >= XTL_ERROR ? RVMIG_LOG_WARN : RVMIG_LOG_DEBUG, "monitor",
			   "%s: %s", context ? context : "xen", esc);
}

static void logger_destroy(xentoollog_logger *xl)
{
}

void xen_logger_init(struct xen_logger *l, struct rvmig_ctx *ctx)
{
	memset(l, 0, sizeof(*l));
	l->vtable.vmessage = logger_vmessage;
	l->vtable.destroy = logger_destroy;
	l->ctx = ctx;
}
