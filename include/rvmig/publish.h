/* SPDX-License-Identifier: MIT */
/*
 * rvmig/publish.h - a process shows its live transfers to the monitor.  See
 * rvmig_publisher(3).
 *
 * A process opens one publisher, naming itself ("rvmig-send"); each
 * transfer it runs is a published transfer (rvmig_pubxfer) whose counters
 * the process feeds as it goes.  The library writes them all, as text, to
 * one small file per process, PID.xfer in the run directory, replaced
 * atomically (written to a temporary file, then renamed over it), at most
 * once per `interval_ms` (200 ms by default) while counters change and at
 * once when a transfer begins, changes state or ends (an end is written
 * once, before close removes the file).  The file is removed when the
 * process has no transfer left and when the publisher is closed.
 * rvmig_monitor_sample() (rvmig/monitor.h) reads these files back.
 *
 * The run directory (the first that applies):
 *   attr->dir, else $RVMIG_RUN_DIR when set and not empty, else /run/rvmig
 *   when it exists or can be created (0755) and is safe, else
 *   $XDG_RUNTIME_DIR/rvmig.  "Safe": a directory (not a symbolic link)
 *   owned by root or by this user and not writable by group or others.
 * RVMIG_PUBLISH=0 in the environment turns publishing off.  Files are mode
 * 0644: they hold the tool, the transport, the peer's address (which any
 * local user sees with ss(8) anyway), the mode and counters; never paths,
 * keys or data.  The format is documented in rvmig_publisher(3).
 *
 * Publishing never fails a transfer: a directory that cannot be used or a
 * write that fails is logged once (subsystem "publish") and the transfer
 * goes on unpublished.  Every call below accepts NULL handles and then does
 * nothing, so a caller may ignore what rvmig_pubxfer_begin() returned.
 *
 * Threads: a publisher and its transfers are used by one thread at a time.
 * A publisher that publishes starts one thread of its own (none when
 * publishing is off), with every signal blocked, that writes the file: the
 * calls below only store figures in memory (the counters without a lock or
 * a system call) and wake it when a state changes, so the thread moving the
 * data never waits for the run directory's file system.  The logger is
 * called from the caller's threads only (a failed write is logged at the
 * next call).  The counters are written when the caller fed them: a process
 * that stops calling stops updating its file (the monitor shows the time
 * of the last write).  rvmig_publisher_close() wakes the thread, lets it
 * write an end not written yet and waits for it (at most a second; a
 * thread still in a file call then finishes and frees on its own).
 */
#ifndef RVMIG_PUBLISH_H
#define RVMIG_PUBLISH_H

#include <stdint.h>

#include <rvmig/common.h>
#include <rvmig/xfer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rvmig_publisher rvmig_publisher;
typedef struct rvmig_pubxfer rvmig_pubxfer;

/* The state of a published transfer. */
enum rvmig_transfer_state {
	RVMIG_TRANSFER_SETUP = 0,   /* begun, not connected (or between connections) */
	RVMIG_TRANSFER_ACTIVE,      /* connected to its peer, moving bytes */
	RVMIG_TRANSFER_COMPLETED,   /* ended with success */
	RVMIG_TRANSFER_FAILED,      /* ended with an error */
	RVMIG_TRANSFER__NSTATES
};

/* "setup", "active", "completed", "failed"; "?" for other values.  Static. */
RVMIG_API const char *rvmig_transfer_state_name(int state);

struct rvmig_publisher_attr {
	size_t size;          /* sizeof(struct rvmig_publisher_attr) */
	const char *dir;      /* run directory (NULL: see above) */
	uint32_t interval_ms; /* least time between two writes of changed
			       * counters (default 200, at least 10) */
};

/* Size of a transfer not known (yet): rvmig_pubxfer_set_total(). */
#define RVMIG_PUBXFER_SIZE_UNKNOWN UINT64_MAX

/*
 * Opens the publisher of this process.  `tool` names the program as the
 * monitor shows it (escaped, cut to 64 characters).  `attr` may be NULL.
 * `ctx` gives the logger and must outlive the publisher; it may be NULL.
 * Returns 0, or -EINVAL (no tool name) / -ENOMEM.  When publishing is off or no run
 * directory can be used, the publisher is still made (and says why once
 * in the log at debug level); it then writes nothing.
 */
RVMIG_API int rvmig_publisher_open(rvmig_ctx *ctx, const char *tool,
				   const struct rvmig_publisher_attr *attr, rvmig_publisher **out);
/* Ends every transfer still published, removes the file, frees. */
RVMIG_API void rvmig_publisher_close(rvmig_publisher *pub);
/* The file this publisher writes (it exists only while a transfer is
 * published), or NULL when it writes nothing. */
RVMIG_API const char *rvmig_publisher_file(const rvmig_publisher *pub);

/*
 * Begins a published transfer: state setup, started now, size unknown.
 * Returns 0 or -ENOMEM (and *out NULL).  At most 1024 transfers per
 * publisher: more give -ENOSPC.
 */
RVMIG_API int rvmig_pubxfer_begin(rvmig_publisher *pub, rvmig_pubxfer **out);
/* The number of this transfer within its process (1, 2, ...). */
RVMIG_API uint64_t rvmig_pubxfer_id(const rvmig_pubxfer *x);
/* The size of the whole transfer in bytes, or RVMIG_PUBXFER_SIZE_UNKNOWN. */
RVMIG_API void rvmig_pubxfer_set_total(rvmig_pubxfer *x, uint64_t bytes);
/*
 * The endpoint the transfer runs on: its transport, peer address and mode
 * are published, and from each write on, its library counters (payload
 * bytes sent and received, rvmig_stats_*).  The state becomes active.
 * NULL detaches the endpoint, as rvmig_ep_close() of it does: the last
 * counters are kept and the state goes back to setup unless the transfer
 * ended.  An endpoint feeds one transfer at a time.  While attached, each
 * rvmig_progress() on it also writes the counters when the interval has
 * passed, so a transfer whose stream pauses still shows its last figures.
 */
RVMIG_API void rvmig_pubxfer_set_endpoint(rvmig_pubxfer *x, rvmig_ep *ep);
/*
 * The stream counters: bytes of the stream processed so far (sent and
 * acknowledged, or received and delivered), page payloads among them and
 * all-zero pages (elided on the wire) among those.  Cheap: stores in
 * memory; the publisher's thread writes them when interval_ms has passed
 * since its last write.  Ignored once the transfer ended.
 */
RVMIG_API void rvmig_pubxfer_progress(rvmig_pubxfer *x, uint64_t bytes, uint64_t pages,
				      uint64_t zero_pages);
/* The transfer ended: completed when status is 0, else failed.  Written at
 * once by the publisher's thread (the call does not wait for it), exactly
 * once: the record no longer changes (closing its endpoint writes nothing
 * more) and stays until rvmig_pubxfer_free(). */
RVMIG_API void rvmig_pubxfer_end(rvmig_pubxfer *x, int status);
/* Removes the transfer from the file (the file itself when it was the
 * last) and frees it. */
RVMIG_API void rvmig_pubxfer_free(rvmig_pubxfer *x);

#ifdef __cplusplus
}
#endif
#endif /* RVMIG_PUBLISH_H */
