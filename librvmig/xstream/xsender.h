/* SPDX-License-Identifier: MIT */
/*
 * xsender.h - the sender session of rvmig/xstream.h (rvmig_xsender): the
 * object shared by the checkpoint session (xsender.c: HELLO, RESUME,
 * VERDICT, retries) and the remote command (xexec.c: EXEC, OUT, ERR,
 * EXIT).
 */
#ifndef RVMIG_XSTREAM_XSENDER_H
#define RVMIG_XSTREAM_XSENDER_H

#include <stdbool.h>
#include <stdint.h>

#include <rvmig/xstream.h>

#define XSENDER_TEXT_MAX 1024

struct rvmig_xsender {
	rvmig_ctx *ctx;
	rvmig_xsend *xs;           /* input, parser, posts, digest */
	rvmig_ep *ep;              /* the last connection */
	struct rvmig_ep_attr epa;
	struct rvmig_xsend_opts o; /* name points at `name` */
	char name[256];
	bool used;                 /* send or exec was called */
	bool exec;                 /* replies are OUT / ERR / EXIT */
	bool ever_connected;
	bool attached;             /* xs holds this connection's error */
	double t0, t1;             /* first connect, end */

	/* the session's error (the last attempt's) */
	int err;
	char errtxt[XSENDER_TEXT_MAX];

	/* this connection's replies */
	bool got_resume;
	uint64_t resume_off;
	uint8_t resume_digest[RVMIG_DIGEST_LEN];
	bool answered;             /* VERDICT (send) or EXIT (exec) arrived */
	int32_t peer_status;
	uint32_t peer_version;
	uint64_t peer_bytes;
	uint8_t peer_digest[RVMIG_DIGEST_LEN];
	char peer_text[512];       /* escaped */

	/* the outcome */
	char peer[128];
	char transport[16];
	enum rvmig_mode mode;
	uint64_t sent_from;        /* resume offset of the last connection */
	unsigned retries;
	bool verified;
	bool digest_valid;
	uint8_t digest[RVMIG_DIGEST_LEN];
};

/* Records the session's error (the first of an attempt); returns err. */
int xsender_fail(struct rvmig_xsender *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records the peer's final answer (VERDICT or EXIT). */
void xsender_answer(struct rvmig_xsender *s, const struct rvmig_xmsg *m);
/* Connects to `uri` and attaches the pipeline; 0 or the error (recorded). */
int xsender_connect(struct rvmig_xsender *s, const char *uri);
/* After an attempt: the pipeline's error, if it has one, becomes the
 * session's.  Returns the session's error. */
int xsender_settle(struct rvmig_xsender *s, int rc);
/* Whether the caller asked to stop (a signal number, else 0). */
int xsender_stopped(const struct rvmig_xsender *s);
double xsender_now(void);
/* The monitor's last view of the transfer (ACKED, or BYTES when done). */
void xsender_publish(struct rvmig_xsender *s, bool done);

#endif
