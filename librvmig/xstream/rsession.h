/* SPDX-License-Identifier: MIT */
/*
 * rsession.h - the receiving session (rvmig_xrsession, rvmig/xstream.h):
 * its state, shared by the protocol (rsession.c: HELLO, RESUME, END,
 * the verdict's hold, VERDICT, the accept loop) and its output (rsoutput.c: file, descriptor
 * or sink, the resume state, free space, a stalled reader).
 */
#ifndef RVMIG_XSTREAM_RSESSION_H
#define RVMIG_XSTREAM_RSESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <rvmig/xstream.h>

#include "xstream/output.h"
#include "xstream/resume.h"

#define RSESSION_TIMEOUT_MS 10000      /* stalled output, close after VERDICT */
#define RSESSION_RESUME_WAIT_MS 60000  /* a sender coming back */
#define RSESSION_OUTPUT_MODE 0600      /* a new PATH */
#define RSESSION_HOLD_MS 30000         /* a held verdict (below the sender's 60 s wait) */

struct rvmig_xrsession {
	rvmig_ctx *ctx;
	struct rvmig_xrsession_attr a;  /* copy; a.path, a.sink, a.logger.arg are the caller's */
	struct rvmig_logger log;        /* a.logger, or the context's */
	rvmig_xrecv *rb;                /* ordering, sink, digest, verifying parser */

	/* the output: a path or a descriptor (out), or the caller's sink */
	bool to_sink;
	struct rvmig_xrecv_sink sink;
	struct recv_output out;
	bool out_init, out_open;
	bool resume, verify_stream;
	struct recv_resume rs;

	/* the current (last) sender */
	rvmig_ep *ep;
	char peer[128];
	char transport[16];
	enum rvmig_mode mode;
	rvmig_stats *lst;               /* its library counters, before it closed */

	/* this connection */
	bool hello;                     /* HELLO seen */
	bool ended;                     /* END matched and handled */
	bool dropped;                   /* ended before END, state kept for a resume */
	bool peer_closed;
	char droptxt[512];

	bool raw;
	uint64_t expect_size;           /* from HELLO, 0 if unknown */
	uint32_t peer_version;          /* from HELLO */
	uint64_t resume_off;            /* where the last connection started */
	unsigned conns;                 /* senders accepted */
	bool kept;                      /* resumable state kept at the end */
	int status;                     /* the outcome of run() */

	/* the verdict's hold (rvmig_xrsession_set_hold()) */
	rvmig_xrsession_hold_fn hold_fn;
	void *hold_arg;
	uint32_t hold_ms;
	bool held;                      /* the output is complete and verified; held */
	double t0, t1;                  /* first accept, end */
};

/* rsoutput.c */
/* Sets up the output as attr says (before any network activity). */
int rsession_output_init(struct rvmig_xrsession *s, char *why, size_t whylen);
/* The sink the receiver writes into (the caller's, or the output's). */
struct rvmig_xrecv_sink rsession_sink(struct rvmig_xrsession *s);
/* Opens the temporary file at the first HELLO; fails the session. */
void rsession_output_open(struct rvmig_xrsession *s);
/* Refuses a transfer of known size that cannot fit. */
void rsession_check_space(struct rvmig_xrsession *s);
/* END matched: commit the output (and forget the journal). */
void rsession_commit(struct rvmig_xrsession *s);
/* At the end of run(): keep a resumable state, or discard the output. */
void rsession_output_end(struct rvmig_xrsession *s);
void rsession_output_fini(struct rvmig_xrsession *s);

/* rsession.c */
void rsession_fail(struct rvmig_xrsession *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int rsession_err(const struct rvmig_xrsession *s);
uint64_t rsession_off(const struct rvmig_xrsession *s);

#endif
