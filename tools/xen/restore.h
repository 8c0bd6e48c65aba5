/* SPDX-License-Identifier: MIT */
/*
 * restore.h - the libxl side of rvmig-restore: what `xl restore` does with
 * a save stream, from a pipe instead of a file.  The xl header is read and
 * checked, the domain's configuration taken from its JSON (the name
 * replaced when asked), and the rest of the pipe handed to
 * libxl_domain_create_restore(), which leaves the new domain paused under
 * NAME--incoming (as `xl migrate-receive` does, so that it can be restored
 * on the host the domain is still on, the loopback case: rvmig-save renames
 * the saved one NAME--migratedaway before its stream ends).
 * restore_finish() then renames it to NAME and unpauses it (unless asked
 * not to), before the receiver's verdict (rvmig_xrsession_set_hold()).
 */
#ifndef RVMIG_TOOLS_XEN_RESTORE_H
#define RVMIG_TOOLS_XEN_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include <libxl.h>

#define RESTORE_INCOMING_SUFFIX "--incoming"
#define RESTORE_NAME_MAX 128

struct restore_job {
	/* in */
	libxl_ctx *ctx;
	int fd;               /* the stream (a pipe's read end); closed by restore_run() */
	int header_timeout_ms; /* longest wait for each part of the xl header (-1: none) */
	const char *name;     /* the domain's name after the restore; NULL: the saved one */
	/* out */
	uint32_t domid;       /* XENTOOL_NO_DOMID until libxl created the domain */
	char final[RESTORE_NAME_MAX];    /* the name it gets */
	char incoming[RESTORE_NAME_MAX + sizeof(RESTORE_INCOMING_SUFFIX)];
	int stream_version;
	uint32_t config_len;
	char why[512];        /* on failure: what failed */
};

/* Runs on the libxl thread (xentool_job_start(), arg: a struct
 * restore_job): header, configuration, libxl_domain_create_restore().  0 or
 * -errno / -EBADMSG / -EIO (a libxl failure) with job->why set; closes
 * job->fd either way, so a writer still feeding the pipe gets EPIPE. */
int restore_run(void *job);

/*
 * After the stream was verified and restore_run() succeeded: renames the
 * domain to job->final and unpauses it unless `paused`.  0, or -EEXIST
 * (another domain has that name: libxl refuses) / -EIO with job->why set;
 * the domain is left as it is then (paused; restore_discard() it).
 */
int restore_finish(struct restore_job *job, bool paused);

/* Destroys the domain a failed restore left (nothing if none). */
void restore_discard(struct restore_job *job);

#endif
