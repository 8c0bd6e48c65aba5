/* SPDX-License-Identifier: MIT */
/*
 * rsoutput.c - where a receiving session's stream goes (rsession.h): a
 * path (output.h, with the resume state of resume.h), a caller's
 * descriptor or a caller's sink; free space, a stalled reader, the commit
 * and what is kept or removed at the end.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xstream/rsession.h"
#include "xstream/xlog.h"

static int out_write(void *arg, const void *data, size_t len)
{
	return output_write(arg, data, len);
}

static int out_zero(void *arg, uint64_t len)
{
	return output_zero(arg, len);
}

/* The reader of a stream (stdout, a FIFO, a caller's pipe) has taken
 * nothing for `ms`: the connection is kept alive meanwhile; the stop flag,
 * the timeout or the sender leaving (its connection failed) ends the wait
 * (output.h).  (Never a resumable session: that needs a regular file.) */
static int output_stalled(void *arg, uint64_t ms)
{
	struct rvmig_xrsession *s = arg;
	uint32_t limit = s->a.timeout_ms;
	int sig = s->a.stop ? *s->a.stop : 0, rc;

	if (sig) {
		rsession_fail(s, -EINTR, "interrupted by signal %d at stream offset %llu while %s took "
			      "nothing", sig, (unsigned long long)rsession_off(s), s->out.path);
		return -EINTR;
	}
	if (ms >= limit) {
		rsession_fail(s, -ETIMEDOUT, "%s took nothing for %llu ms (--timeout %u) at stream "
			      "offset %llu", s->out.path, (unsigned long long)ms, limit,
			      (unsigned long long)rsession_off(s));
		return -ETIMEDOUT;
	}
	if (s->ep && (rc = rvmig_progress(s->ep, 0)) < 0) {
		rsession_fail(s, rc, "sender %s %s (%s) at stream offset %llu while %s took nothing "
			      "for %llu ms", s->peer, rc == -RVMIG_EPEER ? "left" : "failed",
			      xstream_ep_why(s->ep, rc), (unsigned long long)rsession_off(s),
			      s->out.path, (unsigned long long)ms);
		return rc;
	}
	return 0;
}

int rsession_output_init(struct rvmig_xrsession *s, char *why, size_t whylen)
{
	int rc;

	if (s->to_sink)
		return 0;
	if (s->a.flags & RVMIG_XRSESSION_F_FD)
		rc = output_init_fd(&s->out, s->a.fd, "the output descriptor", &s->log);
	else
		rc = output_init(&s->out, s->a.path, s->a.output_mode, &s->log, why, whylen);
	s->out_init = true; /* output_close() is safe from here on */
	if (rc)
		return rc;
	s->out.stall = output_stalled;
	s->out.stall_arg = s;
	if (s->resume && s->out.stream) {
		snprintf(why, whylen, "a resumable session needs a regular file, not %s", s->out.path);
		return -EINVAL;
	}
	if (s->resume) {
		/* The journal's prefix is read again before listening. */
		rc = resume_open(&s->rs, s->a.path, s->verify_stream, &s->out, s->rb, why, whylen);
		s->out_open = s->out.fd >= 0;
	}
	return rc;
}

struct rvmig_xrecv_sink rsession_sink(struct rvmig_xrsession *s)
{
	if (s->to_sink)
		return s->sink;
	return (struct rvmig_xrecv_sink){ out_write, out_zero, &s->out,
					  s->a.flags & RVMIG_XRSESSION_F_FD ? "the output descriptor"
					  : strcmp(s->a.path, "-") ? s->a.path : "stdout" };
}

void rsession_output_open(struct rvmig_xrsession *s)
{
	char why[512];
	int rc;

	if (s->to_sink || s->out_open)
		return;
	if ((rc = output_open(&s->out, why, sizeof(why)))) {
		rsession_fail(s, rc, "%s", why);
		return;
	}
	s->out_open = true;
}

/* The need is the bytes still to come; zero pages become holes, but how
 * many there are is not known before they come, so they are counted. */
void rsession_check_space(struct rvmig_xrsession *s)
{
	uint64_t need, avail;
	char *d;
	int rc;

	if (s->to_sink || !s->expect_size || s->out.stream || rsession_off(s) >= s->expect_size)
		return;
	need = s->expect_size - rsession_off(s);
	if ((rc = output_free_space(&s->out, &avail))) {
		rsession_fail(s, rc, "cannot check the free space for %s: %s", s->out.path,
			      strerror(-rc));
		return;
	}
	if (need <= avail)
		return;
	d = strdup(s->out.path);
	rsession_fail(s, -ENOSPC, "not enough space for %s: needs %llu bytes, %llu free on %s",
		      s->out.path, (unsigned long long)need, (unsigned long long)avail,
		      d ? dirname(d) : "its filesystem");
	free(d);
}

void rsession_commit(struct rvmig_xrsession *s)
{
	char why[512];
	int rc;

	if (s->to_sink)
		return;
	rc = output_commit(&s->out, why, sizeof(why));
	if (rc)
		rsession_fail(s, rc, "%s", why);
	else if (s->resume && (rc = resume_done(&s->rs, why, sizeof(why))))
		xlog(&s->log, RVMIG_LOG_ERROR, "%s was written, but: %s", s->out.path, why);
}

void rsession_output_end(struct rvmig_xrsession *s)
{
	char why[512];
	int rc;

	if (s->resume && rsession_err(s) == -EINTR && s->out_open) {
		/* Stopped by a signal: what arrived is good; keep it. */
		rc = resume_checkpoint(&s->rs, &s->out, s->rb, why, sizeof(why));
		if (rc)
			xlog(&s->log, RVMIG_LOG_ERROR, "%s", why);
		else
			s->kept = true;
	}
	if (rsession_err(s) && s->out_open && !s->kept) {
		output_discard(&s->out);
		if (s->resume && resume_done(&s->rs, why, sizeof(why)))
			xlog(&s->log, RVMIG_LOG_ERROR, "%s", why);
	}
}

void rsession_output_fini(struct rvmig_xrsession *s)
{
	if (s->out_init)
		output_close(&s->out);
	s->out_init = false;
	resume_fini(&s->rs);
}
