/* SPDX-License-Identifier: MIT */
/* xexec.h - the remote command of an rvmig_xsender (rvmig_xsender_exec()):
 * its replies, handed on by the session's reply callback. */
#ifndef RVMIG_XSTREAM_XEXEC_H
#define RVMIG_XSTREAM_XEXEC_H

#include "xstream/xsender.h"

/* OUT, ERR, EXIT from rvmigd (anything else fails the session). */
void xexec_reply(struct rvmig_xsender *s, const struct rvmig_xmsg *m);
/* rvmigd closed the connection. */
void xexec_close(struct rvmig_xsender *s);

#endif
