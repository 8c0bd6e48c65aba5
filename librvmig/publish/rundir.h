/* SPDX-License-Identifier: MIT */
/*
 * rundir.h - where transfer files live (internal): the run directory the
 * publisher writes to and the ones the monitor reads (rvmig/publish.h).
 */
#ifndef RVMIG_PUBLISH_RUNDIR_H
#define RVMIG_PUBLISH_RUNDIR_H

#include <stddef.h>
#include <stdint.h>

#define PUB_RUN_DIR "/run/rvmig"
#define PUB_RUN_DIRS_MAX 2
#define PUB_PATH_MAX 4096

/*
 * Opens the directory to publish in: `dir` when not NULL, else
 * $RVMIG_RUN_DIR when set and not empty, else /run/rvmig, else
 * $XDG_RUNTIME_DIR/rvmig; each created (0755) when missing and used only
 * when it is a directory, not a symbolic link, owned by root or this user,
 * not writable by group or others, and writable by this process.  Returns
 * a directory descriptor (path in out) or a negative errno with *why
 * saying about the last directory tried.
 */
int pub_rundir_open(const char *dir, char *out, size_t cap, char *why, size_t why_cap);

/* The directories to read, in order, and how many: $RVMIG_RUN_DIR alone
 * when set and not empty, else /run/rvmig and $XDG_RUNTIME_DIR/rvmig. */
unsigned pub_rundirs(char out[PUB_RUN_DIRS_MAX][PUB_PATH_MAX]);

/* This process's start time: field 22 of /proc/self/stat (clock ticks
 * after boot), or of /proc/PID/stat; negative errno when unreadable. */
int pub_pid_start(int pid, uint64_t *ticks);

/* "PID.xfer": the pid in a transfer file's name, or 0 when the name is not
 * one (temporary files start with a dot). */
int pub_name_pid(const char *name);

#endif
