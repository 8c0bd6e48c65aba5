/* SPDX-License-Identifier: MIT */
/*
 * record.h - the text of a transfer file (PID.xfer in the run directory),
 * written by the publisher and read by the monitor (internal).  Pure
 * functions: no I/O, so the unit tests and fuzz_xrec drive them.
 *
 * Version 1 (rvmig_publisher(3) is the reference):
 *
 *   rvmig-transfers 1           first line: format and version
 *   pid 4242                    the publishing process
 *   pid_start 123456            its start time, clock ticks after boot
 *                               (field 22 of /proc/PID/stat)
 *   tool rvmig-send
 *   updated_ns 1765000000123456789   CLOCK_REALTIME of this write
 *   transfer 1                  a transfer's block begins: its number
 *   state active                setup | active | completed | failed
 *   transport tcp               keys of the block, in any order
 *   ...
 *   end                         last line
 *
 * A line is KEY SP VALUE LF, KEY of [a-z0-9_] (1..32), VALUE of printable
 * ASCII (0x20..0x7e), at most XREC_VALUE_MAX of it.  Numbers: decimal, no
 * sign, at most 20 digits, within uint64.  Strings: escaped as
 * rvmig_text_escape() does (\\ \n \r \t \xHH, nothing else after a
 * backslash), not empty (an empty string is left out), within their
 * bound, kept escaped.  A known key twice in one
 * block, a missing pid / pid_start / tool / state, a state not listed, more
 * than XREC_MAX_TRANSFERS blocks or a file past XREC_FILE_MAX: the file is
 * refused.  Unknown keys are skipped (later versions may add keys; an
 * incompatible change raises the version, which this reader refuses).
 */
#ifndef RVMIG_PUBLISH_RECORD_H
#define RVMIG_PUBLISH_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XREC_MAGIC "rvmig-transfers"
#define XREC_VERSION 1
#define XREC_FILE_MAX (1u << 20)
#define XREC_MAX_TRANSFERS 1024
#define XREC_VALUE_MAX 256
/* Bounds of the strings, escaped, without the NUL. */
#define XREC_TOOL_MAX 64
#define XREC_PEER_MAX 160
#define XREC_TRANSPORT_MAX 16
#define XREC_MODE_MAX 8
/* Upper bound of one transfer's block in the text (all keys, longest values). */
#define XREC_BLOCK_MAX 768

struct xrec_transfer {
	uint64_t id;
	int state;                            /* enum rvmig_transfer_state */
	char transport[XREC_TRANSPORT_MAX + 1];
	char peer[XREC_PEER_MAX + 1];
	char mode[XREC_MODE_MAX + 1];         /* "push", "pull" or "" */
	uint64_t started_ns;                  /* CLOCK_REALTIME */
	uint64_t elapsed_ms;                  /* time_elapsed (libvirt's name) */
	bool total_known;
	uint64_t total, processed, remaining; /* data_total, data_processed, data_remaining */
	uint64_t bytes_per_s;
	uint64_t pages, zero_pages;
	uint64_t cpu_ns;
	uint64_t wire_sent, wire_recv;        /* the endpoint's payload counters */
};

struct xrec_file {
	uint64_t pid, pid_start;
	char tool[XREC_TOOL_MAX + 1];
	uint64_t updated_ns;
	size_t n;
	struct xrec_transfer *x;              /* xrec_parse(): owned, n of them */
};

/* Copies `s` into out (cap bytes) escaped as rvmig_text_escape() does, cut
 * to fit: the strings the publisher is given. */
void xrec_escape(char *out, size_t cap, const char *s);

/* Writes the file's text for f and its n transfers x[] into buf (cap
 * bytes).  Returns the length, or 0 when it does not fit (cap of
 * 256 + n * XREC_BLOCK_MAX always fits). */
size_t xrec_format(char *buf, size_t cap, const struct xrec_file *f,
		   const struct xrec_transfer *x, size_t n);

/* Parses a whole file (s, len; need not be NUL-terminated).  Returns 0 with
 * f filled (f->x allocated: xrec_file_free()), or -EINVAL / -ERANGE /
 * -EFBIG / -ENOMEM with *why (static text) and *line (1-based, 0 when
 * not about one line) saying what was wrong. */
int xrec_parse(const char *s, size_t len, struct xrec_file *f, const char **why, unsigned *line);
void xrec_file_free(struct xrec_file *f);

#endif
