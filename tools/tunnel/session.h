/* SPDX-License-Identifier: MIT */
/*
 * session.h - one tunnel of rvmigd: the command an EXEC names (if the
 * allow-list permits it), the tunnel's stdin rebuilt into the command's
 * stdin, its output and exit status sent back.  rvmigd's poll loop owns
 * the sessions: it polls session_pollfds() and turns each with
 * session_step().
 */
#ifndef RVMIG_TOOLS_TUNNEL_SESSION_H
#define RVMIG_TOOLS_TUNNEL_SESSION_H

#include <poll.h>
#include <stdbool.h>

#include <rvmig.h>

#include "tunnel/allow.h"

#define SESSION_POLLFDS 4 /* descriptors each session adds to the poll set */

struct session;

/* Takes the accepted endpoint (closed on failure, then NULL). */
struct session *session_new(rvmig_ep *ep, const struct allow_list *allow, rvmig_publisher *pub);
/* Stops a command still running, closes the endpoint, frees. */
void session_free(struct session *s);
/* Fills SESSION_POLLFDS entries of pf; returns how many. */
int session_pollfds(const struct session *s, struct pollfd *pf);
/* A zero run is being written and the command takes it: work without
 * waiting (poll with timeout 0). */
bool session_busy(const struct session *s);
/* One turn; false once the session is over (then session_free it). */
bool session_step(struct session *s);

#endif
