/* SPDX-License-Identifier: MIT */
/*
 * rvmig/common.h - contexts, errors and logging shared by every part of rvmig.
 *
 * Conventions used by every rvmig call:
 *  - Functions return 0 (or a non-negative count) on success and a negative
 *    errno value on failure (-EINVAL, -ENOMEM, ...) or one of the negative
 *    RVMIG_E* codes below.  errno itself is never the error channel.
 *    rvmig_strerror() turns any such value into text.
 *  - Handles are opaque, and a handle must be torn down before the handle
 *    it was made from (endpoints before their context).  One teardown verb
 *    per kind of object (rvmig_ctx(3), "Conventions"):
 *      *_destroy  what *_create makes that computes or parses (context,
 *                 stream parser, decider, planner);
 *      *_close    what holds a connection, file or other OS resource
 *                 (listener, endpoint, monitor, publisher), made by *_open,
 *                 rvmig_listen(), rvmig_connect() or rvmig_accept();
 *      *_dereg    a memory registration (rvmig_mr_reg());
 *      *_free     data handed back to the caller (stats and monitor
 *                 snapshots, sample sets, fitted maps, plans, published
 *                 transfer records), however it was made: a sample set from
 *                 rvmig_samples_parse() or rvmig_samples_create() alike.
 *    Every *_destroy, *_close and *_free accepts NULL.
 *  - Parameter structs start with a `size` member that the caller sets to
 *    sizeof(struct ...); fields past that size take their documented
 *    defaults, so structs can grow without breaking the ABI.  A zeroed field
 *    also means "default".
 *  - The library never prints.  Diagnostics go to the logger the caller
 *    passes in (see struct rvmig_logger); without one, nothing is logged.
 *  - Threads: librvmig starts no threads of its own.  A context and all
 *    handles made from it must be used by one thread at a time.
 */
#ifndef RVMIG_COMMON_H
#define RVMIG_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(RVMIG_BUILDING_LIBRARY)
#define RVMIG_API __attribute__((visibility("default")))
#else
#define RVMIG_API
#endif

#define RVMIG_VERSION_MAJOR 0
#define RVMIG_VERSION_MINOR 1
#define RVMIG_VERSION_PATCH 0

/*
 * Version of the librvmig loaded at run time, which can differ from the
 * RVMIG_VERSION_* macros a program was compiled with (a newer library with the
 * same soname).  Stores the numbers through each of major, minor, patch that
 * is not NULL and returns them as "MAJOR.MINOR.PATCH": a static string, never
 * NULL.  Needs no context; callable from any thread.  See rvmig_version(3).
 */
RVMIG_API const char *rvmig_version(int *major, int *minor, int *patch);

/* rvmig-specific error codes, returned negated like errno values. */
enum {
	RVMIG_EBASE = 4096,
	RVMIG_EPROTO_VERSION = RVMIG_EBASE, /* peer speaks another protocol version */
	RVMIG_EBADMSG,     /* malformed message from the peer */
	RVMIG_EPEER,       /* peer reported an error or closed unexpectedly */
	RVMIG_ETIMEDOUT,   /* peer silent for longer than the configured timeout */
	RVMIG_EMEMLOCK,    /* RLIMIT_MEMLOCK too small to register the memory */
	RVMIG_ENOTRANSPORT,/* URI names a transport not built into this library */
	RVMIG_ESTREAM,     /* malformed Xen save stream */
	RVMIG_EINTEGRITY,  /* checksum / digest mismatch */
	RVMIG_EACCESS,     /* peer asked for memory outside what was granted */
	RVMIG_ECANCELED,   /* request cancelled before it completed */
	RVMIG_ENOXEN,      /* no Xen hypervisor here (xen monitor backend) */
	RVMIG_EAUTH,       /* peer failed authentication */
	RVMIG_ECONNLIMIT,  /* listener refused: its connection limit is reached */
	RVMIG_ELAST
};

/* Text for a negative (or positive) errno or RVMIG_E* value.  Never NULL. */
RVMIG_API const char *rvmig_strerror(int err);

/*
 * Makes text a peer sent safe to print on one line of a log or terminal:
 * writes the `len` bytes at `text` into `out` (`cap` bytes, NUL-terminated)
 * with printable ASCII kept, '\\' as "\\\\", newline, carriage return and
 * tab as "\\n", "\\r", "\\t", and every other byte (NUL, control characters
 * such as ESC, DEL, bytes >= 0x80) as "\\xHH".  Text whose escaped form
 * does not fit is cut after a whole escape and ends in "...", so `cap`
 * bounds what a peer can make a caller print.  Returns the length written
 * (without the NUL); 0, writing nothing, when out is NULL or cap is 0.
 * The library escapes this way whatever a peer sent before logging it or
 * returning it (rvmig_ep_error()); the rvmig tools do so for their own
 * messages.  Needs no context; callable from any thread.
 */
RVMIG_API size_t rvmig_text_escape(char *out, size_t cap, const void *text, size_t len);

/* ---- logging ---------------------------------------------------------- */

enum rvmig_log_level {
	RVMIG_LOG_ERROR = 0,
	RVMIG_LOG_WARN = 1,
	RVMIG_LOG_INFO = 2,
	RVMIG_LOG_DEBUG = 3,
};

/*
 * Caller-supplied logger.  `fn` is called on the thread that called into the
 * library, with a subsystem name ("tcp", "verbs", "proto", "stream", ...) and
 * a printf-style message without trailing newline.  Messages above
 * `max_level` are not formatted at all.
 */
struct rvmig_logger {
	void (*fn)(void *arg, enum rvmig_log_level level, const char *subsys,
		   const char *fmt, va_list ap);
	void *arg;
	enum rvmig_log_level max_level;
};

/* A ready logger that writes "rvmig[subsys] level: msg" lines to stderr. */
RVMIG_API void rvmig_log_stderr(void *arg, enum rvmig_log_level level, const char *subsys,
				const char *fmt, va_list ap);

/* ---- context ---------------------------------------------------------- */

typedef struct rvmig_ctx rvmig_ctx;

struct rvmig_ctx_attr {
	size_t size;                 /* sizeof(struct rvmig_ctx_attr) */
	struct rvmig_logger logger;  /* default: no logging */
};

/* Creates a context.  `attr` may be NULL for all defaults. */
RVMIG_API int rvmig_ctx_create(const struct rvmig_ctx_attr *attr, rvmig_ctx **out);
RVMIG_API void rvmig_ctx_destroy(rvmig_ctx *ctx);

/* Names of the transports compiled into this library, NULL-terminated
 * (e.g. {"tcp", "verbs", NULL}). */
RVMIG_API const char *const *rvmig_transports(void);

#ifdef __cplusplus
}
#endif
#endif /* RVMIG_COMMON_H */
