/* SPDX-License-Identifier: MIT */
/*
 * flusher.h - makes a file output durable while it is being written: a
 * worker thread that runs fdatasync() on request, so that the receiver's
 * final fsync finds little left to do (output.c).
 *
 * On a VM whose disk is cached by its host, sync_file_range() only hands
 * the pages to the virtual disk; the host writes them to its own disk at
 * the flush that fsync sends, all at once, after the last byte arrived:
 * 170-220 ms for 256 MiB on the build machine, even with every page
 * already written back (bench/README.md, issue 19, h2).  Flushing every
 * SYNC_STEP while the transfer runs spreads that over the transfer.
 */
#ifndef RVMIG_XSTREAM_FLUSHER_H
#define RVMIG_XSTREAM_FLUSHER_H

struct flusher;

/* A worker for `fd` (which must stay open until flusher_stop()); NULL
 * when no thread can be made (the caller then simply flushes at the end). */
struct flusher *flusher_start(int fd);
/* Asks for one more fdatasync(); requests made while one runs are merged. */
void flusher_kick(struct flusher *f);
/* The first fdatasync() error so far (-errno), or 0.  A flush that failed
 * has reported the error to this open file, and a later fsync() of it may
 * not report it again: the caller must take it from here. */
int flusher_error(struct flusher *f);
/* Waits for a running fdatasync(), ends the worker and frees it; returns
 * flusher_error().  NULL is allowed (returns 0). */
int flusher_stop(struct flusher *f);

#endif
