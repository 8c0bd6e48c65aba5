/* SPDX-License-Identifier: MIT */
/*
 * report.h - what a transfer did, for the summary line and --stats-json.
 * Both tools fill the same struct; the JSON has the same keys on both sides.
 */
#ifndef RVMIG_TOOLS_REPORT_H
#define RVMIG_TOOLS_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rvmig.h>

struct tool_report {
	const char *tool;          /* "rvmig-send" */
	const char *transport;     /* "tcp", "verbs" (NULL before connecting) */
	const char *peer;
	enum rvmig_mode mode;
	uint32_t links;
	bool raw;
	int status;                /* 0 ok, else -errno / -RVMIG_E* */
	uint64_t bytes;            /* stream bytes moved (input / rebuilt output) */
	uint64_t pages;            /* page payloads in the stream */
	uint64_t zero_pages;       /* ... elided as all zero */
	uint64_t control_bytes;    /* bytes sent as inline messages */
	uint64_t data_bytes;       /* bytes sent as bulk requests */
	uint64_t records;          /* libxl + libxc records (0 if not parsed) */
	double seconds;            /* connected .. verdict */
	uint8_t digest[32];        /* end-to-end digest slot (rvmig/xstream.h) */
	enum rvmig_digest_alg digest_alg;
	bool digest_valid;
	const rvmig_stats *lib;    /* library counters, may be NULL */
};

/* Fills cpu/rss from getrusage and writes the JSON to path, or to standard
 * output when path is "-" (the tool makes sure nothing else goes there).
 * Returns 0 or -errno (after printing why). */
int report_write_json(const char *path, const struct tool_report *r);
/* Gbit/s of r->bytes over r->seconds. */
double report_gbps(const struct tool_report *r);
void report_hex(const uint8_t sha[32], char out[65]);

/* What a parser counted: records of every type (known and unknown optional,
 * both layers) and page payloads; either pointer may be NULL.  0 or -ENOMEM
 * (the counts are then left alone). */
int report_stream_counts(const rvmig_stream_parser *p, uint64_t *records, uint64_t *pages);

/* What a sender session (rvmig_xsender) knows, into rep: status, peer,
 * transport, mode, bytes, digest (when verified), pages, zero pages,
 * control / data bytes, records and the library's counters of its last
 * connection (rep->lib, allocated: free it with report_free_lib()).  The
 * caller sets tool, raw, links and seconds. */
void report_from_sender(struct tool_report *rep, const rvmig_xsender *xs,
			const struct rvmig_xresult *res);
void report_free_lib(struct tool_report *rep);

#endif
