/* SPDX-License-Identifier: MIT */
/*
 * session.c - one tunnel of rvmigd (session.h): its EXEC checked against
 * the allow-list and run (child.h), the tunnel's stdin rebuilt by the
 * library's receiver and pump (rvmig_xrecv_progress) into the command's
 * stdin (backlog.h), its stdout and stderr sent back as OUT / ERR and its
 * exit status as EXIT.  Its stderr is also read for the log: each line at
 * -v, and on a non-zero exit the lines that say why (act/why.h, the
 * library's picker compiled in), so that the destination's operator sees
 * why xl migrate-receive failed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "act/why.h"
#include "common/cli.h"
#include "tunnel/backlog.h"
#include "tunnel/child.h"
#include "tunnel/session.h"

#define CLOSE_WAIT_MS 10000
#define EXEC_ARGS_MAX 256

struct session {
	rvmig_ep *ep;
	const struct allow_list *allow;
	rvmig_pubxfer *px;        /* what the monitor sees (rvmig/publish.h) */
	rvmig_xrecv *rb;          /* tunnel stdin -> command stdin (rvmig/xstream.h) */
	struct child ch;
	bool running;             /* command started, EXIT not yet sent */
	bool exit_sent, peer_closed, stdin_done;
	int status;               /* EXIT status sent */
	char *argv[EXEC_ARGS_MAX + 1];
	uint8_t *out;             /* reply buffer: header + payload */
	size_t out_hdr, msg_max;
	/* What the command's stdin could not take yet.  While it is not empty
	 * no further event of the session is taken. */
	struct backlog bl;
	double close_deadline;
	struct act_why why;       /* the command's stderr, for the log */
};

/* Sends one reply, waiting out missing control credits. */
static int reply(struct session *s, const void *m, size_t len)
{
	for (;;) {
		int rc = rvmig_reply_msg(s->ep, m, len);

		if (rc != -EAGAIN)
			return rc;
		rc = rvmig_progress(s->ep, 50);
		if (rc < 0)
			return rc;
	}
}

/* Reads what the command wrote on fd (stdout or stderr) and sends it on. */
static void forward(struct session *s, int *fd, enum rvmig_xmsg_tag tag)
{
	for (;;) {
		ssize_t n;

		if (*fd < 0)
			return;
		n = read(*fd, s->out + s->out_hdr, s->msg_max - s->out_hdr);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(*fd);
			*fd = -1;
			return;
		}
		if (tag == RVMIG_XMSG_ERR)
			act_why_feed(&s->why, s->out + s->out_hdr, (size_t)n);
		rvmig_xmsg_encode_payload_hdr(s->out, s->msg_max, tag);
		if (reply(s, s->out, s->out_hdr + (size_t)n) < 0)
			return; /* the connection failed; the main loop sees it */
	}
}

static void forward_all(struct session *s)
{
	forward(s, &s->ch.out, RVMIG_XMSG_OUT);
	forward(s, &s->ch.err, RVMIG_XMSG_ERR);
}

/* A line of the command's stderr, at -v. */
static void log_err_line(void *arg, const char *line)
{
	struct session *s = arg;
	char esc[ACT_WHY_LINE * 4];

	rvmig_text_escape(esc, sizeof(esc), line, strlen(line));
	tool_debug("%s: stderr: %s", rvmig_ep_peer(s->ep), esc);
}

/* The receiver may take the next event: the command's stdin has no backlog. */
static bool sink_ready(void *arg)
{
	return backlog_empty(&((struct session *)arg)->bl);
}

static void send_exit(struct session *s, int status, const char *text)
{
	uint8_t m[4096], digest[RVMIG_DIGEST_LEN];
	size_t cap = s->msg_max < sizeof(m) ? s->msg_max : sizeof(m);
	int err;

	if (s->exit_sent)
		return;
	rvmig_xrecv_drop_zeros(s->rb); /* the rest of a zero run goes nowhere now */
	rvmig_xrecv_digest(s->rb, true, digest);
	err = rvmig_xrecv_error(s->rb, NULL);
	s->exit_sent = true;
	rvmig_xrecv_set_drain(s->rb, true); /* refused or finished: drop what is still coming */
	s->status = status;
	rvmig_pubxfer_end(s->px, err ? err : status < 0 ? status : status ? -ECHILD : 0);
	reply(s, m, rvmig_xmsg_encode_exit(m, cap, status, rvmig_xrecv_offset(s->rb), digest, text));
}

/* Refuses or fails the session: the tunnel learns why, the command stops. */
static void abandon(struct session *s, int err, const char *text)
{
	tool_err("%s: %s", rvmig_ep_peer(s->ep), text);
	if (s->running)
		child_kill(&s->ch);
	s->running = false;
	send_exit(s, err, text);
}

static void on_exec(struct session *s, const struct rvmig_xmsg *m)
{
	char why[512];
	size_t i = 0;
	int argc = 0;
	int rc;

	if (rvmig_xrecv_begin(s->rb, false, RVMIG_XRECV_NO_LIMIT)) {
		abandon(s, -RVMIG_EBADMSG, "second EXEC");
		return;
	}
	while (i < m->len && argc < EXEC_ARGS_MAX) {
		size_t l = strnlen((const char *)m->data + i, m->len - i);

		if (i + l == m->len)
			break; /* not NUL-terminated */
		s->argv[argc] = strdup((const char *)m->data + i);
		if (!s->argv[argc])
			break;
		argc++;
		i += l + 1;
	}
	s->argv[argc] = NULL;
	if (i != m->len || !argc) {
		abandon(s, -RVMIG_EBADMSG, "malformed EXEC message");
		return;
	}
	{
		char line[1024];
		size_t n = 0;

		/* The tunnel's words, for the log and the refusal: each argument
		 * escaped (rvmig_text_escape()), the line cut to fit. */
		line[0] = 0;
		for (int k = 0; k < argc && n + 2 < sizeof(line); k++) {
			if (k)
				line[n++] = ' ';
			n += rvmig_text_escape(line + n, sizeof(line) - n, s->argv[k],
					       strlen(s->argv[k]));
		}
		if (!allow_match(s->allow, argc, s->argv)) {
			/* The command line is cut to what fits in the reason. */
			snprintf(why, sizeof(why), "rvmigd: command not allowed: %.400s", line);
			abandon(s, -EPERM, why);
			return;
		}
		tool_info("%s: running %s", rvmig_ep_peer(s->ep), line);
	}
	rc = child_spawn(&s->ch, s->argv, why, sizeof(why));
	if (rc) {
		abandon(s, rc, why);
		return;
	}
	s->running = true;
}

/* The messages the receiver does not take itself (EXEC, ABORT, ...). */
static void on_msg(rvmig_xrecv *rb, const struct rvmig_xmsg *m, uint64_t off, void *arg)
{
	struct session *s = arg;
	char txt[600];

	(void)rb;
	(void)off;
	if (m->tag == RVMIG_XMSG_EXEC) {
		on_exec(s, m);
	} else if (m->tag == RVMIG_XMSG_ABORT) {
		/* The tunnel gave up on its input: the command sees end of input. */
		child_close_stdin(&s->ch);
	} else {
		snprintf(txt, sizeof(txt), "unexpected %s message", rvmig_xmsg_tag_name(m->tag));
		abandon(s, -RVMIG_EBADMSG, txt);
	}
}

static void on_close(rvmig_xrecv *rb, void *arg)
{
	struct session *s = arg;

	(void)rb;
	s->peer_closed = true;
}

/* The receiver failed (a protocol error, the command's stdin): the tunnel
 * learns why. */
static void check_failed(struct session *s)
{
	const char *text;
	int err = rvmig_xrecv_error(s->rb, &text);

	if (err && !s->exit_sent)
		abandon(s, err, text);
}

/* A zero run is being written and the command's stdin can take more: the
 * session has work without waiting for anything. */
bool session_busy(const struct session *s)
{
	return rvmig_xrecv_busy(s->rb) && backlog_empty(&s->bl);
}

/* One turn of the receiver's pump (rvmig_xrecv_progress): no event is
 * taken while the command's stdin has a backlog, and a zero run is written
 * one step per turn.  END closes the command's stdin.  False once the
 * connection is gone. */
static bool pump(struct session *s)
{
	int rc = rvmig_xrecv_progress(s->rb, 0);

	check_failed(s);
	if (rvmig_xrecv_done(s->rb) && !s->stdin_done) {
		/* The backlog is empty here: END is taken only after it drained. */
		tool_debug("%s: stdin complete, %llu bytes, xxh128 digest verified", rvmig_ep_peer(s->ep),
			   (unsigned long long)rvmig_xrecv_offset(s->rb));
		s->stdin_done = true;
		child_close_stdin(&s->ch);
	}
	if (rc < 0 && !s->peer_closed) {
		tool_err("%s: connection failed: %s", rvmig_ep_peer(s->ep), tool_ep_why(s->ep, rc));
		s->peer_closed = true;
	}
	return !s->peer_closed;
}

struct session *session_new(rvmig_ep *ep, const struct allow_list *allow,
				   rvmig_publisher *pub)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		goto fail;
	*s = (struct session){ .ep = ep, .allow = allow, .ch = { -1, -1, -1, -1 } };
	s->bl.fd = &s->ch.in;
	s->why.each = log_err_line;
	s->why.each_arg = s;
	s->msg_max = rvmig_msg_max();
	s->out = malloc(s->msg_max);
	if (!s->out ||
	    rvmig_xrecv_create(&(struct rvmig_xrecv_attr){
				       .size = sizeof(struct rvmig_xrecv_attr),
				       .flags = RVMIG_XSTREAM_F_DIGEST_THREAD,
				       .sink = &(struct rvmig_xrecv_sink){ backlog_write, backlog_zero, &s->bl,
									   "the command's stdin" },
				       .peer = rvmig_ep_peer(ep),
				       .on_msg = on_msg, .on_close = on_close,
				       .ready = sink_ready, .arg = s },
			       &s->rb)) {
		free(s->out);
		free(s);
		goto fail;
	}
	s->out_hdr = rvmig_xmsg_encode_payload_hdr(s->out, s->msg_max, RVMIG_XMSG_OUT);
	rvmig_xrecv_attach(s->rb, ep);
	/* One published transfer per session; never a reason to refuse it. */
	if (!rvmig_pubxfer_begin(pub, &s->px)) {
		rvmig_xrecv_set_pub(s->rb, s->px);
		rvmig_pubxfer_set_endpoint(s->px, ep);
	}
	return s;
fail:
	tool_err("%s: out of memory", rvmig_ep_peer(ep));
	rvmig_ep_close(ep);
	return NULL;
}

void session_free(struct session *s)
{
	if (s->running)
		child_kill(&s->ch);
	for (char **a = s->argv; *a; a++)
		free(*a);
	rvmig_xrecv_destroy(s->rb); /* detaches the endpoint */
	free(s->out);
	backlog_free(&s->bl);
	if (!s->exit_sent)
		rvmig_pubxfer_end(s->px, -RVMIG_EPEER);
	rvmig_pubxfer_free(s->px); /* detaches the endpoint with it */
	rvmig_ep_close(s->ep);
	free(s);
}

/* The descriptors the session waits on; returns how many were added. */
int session_pollfds(const struct session *s, struct pollfd *pf)
{
	bool bl = backlog_waits(&s->bl);

	pf[0] = (struct pollfd){ .fd = rvmig_ep_fd(s->ep), .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = s->ch.out, .events = POLLIN };
	pf[2] = (struct pollfd){ .fd = s->ch.err, .events = POLLIN };
	pf[3] = (struct pollfd){ .fd = bl ? s->ch.in : -1, .events = POLLOUT };
	return 4;
}

/* One turn of a session; false once it is over (then session_free it). */
bool session_step(struct session *s)
{
	char why[(ACT_WHY_LAST + 2) * ACT_WHY_LINE * 4 + 64];
	int st;

	if (!backlog_empty(&s->bl)) {
		int rc = backlog_flush(&s->bl);

		if (rc) {
			abandon(s, rc, "cannot write to the command's stdin");
			backlog_clear(&s->bl);
		}
	}
	if (!pump(s)) {
		if (s->running) {
			tool_err("%s: tunnel gone, stopping the command", rvmig_ep_peer(s->ep));
			child_kill(&s->ch);
			s->running = false;
		}
		return false;
	}
	if (s->running) {
		forward_all(s);
		/* The command exited: forward what it left in the pipes (a
		 * daemonized descendant may keep them open), then report. */
		if (child_reap(&s->ch, &st) == 1) {
			forward_all(s);
			s->running = false;
			child_kill(&s->ch); /* closes the pipes; nothing to kill */
			act_why_flush(&s->why);
			act_why_text(&s->why, why, sizeof(why));
			tool_info("%s: command %s %d after reading %llu bytes%s%s", rvmig_ep_peer(s->ep),
				  st < 256 ? "exited with status" : "was killed by signal", st & 255,
				  (unsigned long long)rvmig_xrecv_offset(s->rb),
				  st && why[0] ? "; its stderr: " : "", st ? why : "");
			send_exit(s, st, "");
		}
	}
	if (s->exit_sent && !s->running) {
		/* The tunnel closes once it has the EXIT. */
		if (!s->close_deadline)
			s->close_deadline = tool_now() + CLOSE_WAIT_MS / 1000.0;
		else if (tool_now() > s->close_deadline)
			return false;
	}
	return true;
}
