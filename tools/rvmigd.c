/* SPDX-License-Identifier: MIT */
/*
 * rvmigd - the far end of rvmig-tunnel.  Listens on one URI with a
 * pre-shared key (mutual HMAC at connect, see rvmig_key_load()); each
 * connection names one command (EXEC), which runs only if the allow-list
 * permits it.  The tunnel's stdin is rebuilt in order (rvmig_xrecv:
 * bulk page data, CTRL and ZERO messages, END with length and XXH3-128) into
 * the command's stdin; its stdout and stderr go back as OUT / ERR replies
 * and its exit status as the last reply, EXIT.  Up to --max-sessions
 * connections are served at once from one poll loop; the listener's
 * connection limit (rvmig_ep_attr.max_conns) refuses more inside the
 * handshake, and the loop keeps the listener fd in its poll set so refused
 * tunnels hear it at once.  A command that stops reading its stdin holds
 * back only its own session (the unwritten rest of one event waits in a
 * backlog and that session's events wait in the library, whose credits
 * slow the tunnel down).  The daemon keeps listening until SIGINT / SIGTERM.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/cli.h"
#include "tunnel/allow.h"
#include "tunnel/child.h"

#define EXEC_ARGS_MAX 256
#define CLOSE_WAIT_MS 10000
#define MAX_SESSIONS_DEFAULT 8
#define MAX_SESSIONS_LIMIT 1024

enum {
	OPT_LISTEN = OPT_TOOL_FIRST,
	OPT_KEY_FILE,
	OPT_ALLOW,
	OPT_READY_FILE,
	OPT_ONCE,
	OPT_MAX_SESSIONS,
};

struct session {
	rvmig_ep *ep;
	const struct allow_list *allow;
	rvmig_pubxfer *px;        /* what the monitor sees (rvmig/publish.h) */
	rvmig_xrecv *rb;          /* tunnel stdin -> command stdin (rvmig/xstream.h) */
	struct child ch;
	bool running;             /* command started, EXIT not yet sent */
	bool exit_sent, peer_closed, stdin_gone, stdin_done;
	int status;               /* EXIT status sent */
	char *argv[EXEC_ARGS_MAX + 1];
	uint8_t *out;             /* reply buffer: header + payload */
	size_t out_hdr, msg_max;
	/* What the command's stdin could not take yet: bytes, then zeros.  While
	 * it is not empty no further event of the session is taken. */
	uint8_t *bl;
	size_t bl_len, bl_off, bl_cap;
	uint64_t bl_zeros;
	double close_deadline;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

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

static const uint8_t zero_page[65536];

/* Writes what the command's stdin takes now; returns the bytes written or
 * -errno.  A command that no longer reads (EPIPE) gets nothing more. */
static ssize_t stdin_put(struct session *s, const void *p, size_t len)
{
	size_t done = 0;

	while (done < len && !s->stdin_gone && s->ch.in >= 0) {
		ssize_t n = write(s->ch.in, (const uint8_t *)p + done, len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			s->stdin_gone = true;
			break;
		}
		if (n < 0 && errno == EAGAIN)
			break;
		return -errno;
	}
	return s->stdin_gone || s->ch.in < 0 ? (ssize_t)len : (ssize_t)done;
}

static bool backlog_empty(const struct session *s)
{
	return s->bl_off == s->bl_len && !s->bl_zeros;
}

/* Moves as much of the backlog into the command's stdin as it takes. */
static int backlog_flush(struct session *s)
{
	ssize_t n;

	if (s->bl_off < s->bl_len) {
		n = stdin_put(s, s->bl + s->bl_off, s->bl_len - s->bl_off);
		if (n < 0)
			return (int)n;
		s->bl_off += (size_t)n;
		if (s->bl_off < s->bl_len)
			return 0;
	}
	s->bl_off = s->bl_len = 0;
	while (s->bl_zeros) {
		size_t want = s->bl_zeros < sizeof(zero_page) ? (size_t)s->bl_zeros : sizeof(zero_page);

		n = stdin_put(s, zero_page, want);
		if (n <= 0)
			return (int)n;
		s->bl_zeros -= (uint64_t)n;
	}
	return 0;
}

static int backlog_add(struct session *s, const void *p, size_t len)
{
	if (s->bl_zeros) {
		/* Never within one event (one sink call each); keep the order. */
		return -EPROTO;
	}
	if (s->bl_len + len > s->bl_cap) {
		size_t cap = s->bl_len + len;
		uint8_t *b = realloc(s->bl, cap);

		if (!b)
			return -ENOMEM;
		s->bl = b;
		s->bl_cap = cap;
	}
	memcpy(s->bl + s->bl_len, p, len);
	s->bl_len += len;
	return 0;
}

/* The receiver's sink: the command's stdin, never blocking.  What it cannot take
 * now waits in the session's backlog (at most one event's bytes: the loop
 * takes no further event of the session until the backlog is gone). */
static int sink_write(void *arg, const void *data, size_t len)
{
	struct session *s = arg;
	ssize_t n = 0;

	if (backlog_empty(s)) {
		n = stdin_put(s, data, len);
		if (n < 0)
			return (int)n;
	}
	return (size_t)n < len ? backlog_add(s, (const uint8_t *)data + n, len - (size_t)n) : 0;
}

static int sink_zero(void *arg, uint64_t len)
{
	struct session *s = arg;

	if (backlog_empty(s)) {
		while (len) {
			size_t want = len < sizeof(zero_page) ? (size_t)len : sizeof(zero_page);
			ssize_t n = stdin_put(s, zero_page, want);

			if (n < 0)
				return (int)n;
			if (!n)
				break;
			len -= (uint64_t)n;
		}
	}
	s->bl_zeros += len;
	return 0;
}

/* The receiver may take the next event: the command's stdin has no backlog. */
static bool sink_ready(void *arg)
{
	return backlog_empty(arg);
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
static bool zeros_pending(const struct session *s)
{
	return rvmig_xrecv_busy(s->rb) && backlog_empty(s);
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

static struct session *session_new(rvmig_ep *ep, const struct allow_list *allow,
				   rvmig_publisher *pub)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		goto fail;
	*s = (struct session){ .ep = ep, .allow = allow, .ch = { -1, -1, -1, -1 } };
	s->msg_max = rvmig_msg_max();
	s->out = malloc(s->msg_max);
	if (!s->out ||
	    rvmig_xrecv_create(&(struct rvmig_xrecv_attr){
				       .size = sizeof(struct rvmig_xrecv_attr),
				       .flags = RVMIG_XSTREAM_F_DIGEST_THREAD,
				       .sink = &(struct rvmig_xrecv_sink){ sink_write, sink_zero, s,
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

static void session_free(struct session *s)
{
	if (s->running)
		child_kill(&s->ch);
	for (char **a = s->argv; *a; a++)
		free(*a);
	rvmig_xrecv_destroy(s->rb); /* detaches the endpoint */
	free(s->out);
	free(s->bl);
	if (!s->exit_sent)
		rvmig_pubxfer_end(s->px, -RVMIG_EPEER);
	rvmig_pubxfer_free(s->px); /* detaches the endpoint with it */
	rvmig_ep_close(s->ep);
	free(s);
}

/* The descriptors the session waits on; returns how many were added. */
static int session_pollfds(const struct session *s, struct pollfd *pf)
{
	bool bl = !backlog_empty(s) && !s->stdin_gone && s->ch.in >= 0;

	pf[0] = (struct pollfd){ .fd = rvmig_ep_fd(s->ep), .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = s->ch.out, .events = POLLIN };
	pf[2] = (struct pollfd){ .fd = s->ch.err, .events = POLLIN };
	pf[3] = (struct pollfd){ .fd = bl ? s->ch.in : -1, .events = POLLOUT };
	return 4;
}

/* One turn of a session; false once it is over (then session_free it). */
static bool session_step(struct session *s)
{
	int st;

	if (!backlog_empty(s)) {
		int rc = backlog_flush(s);

		if (rc) {
			abandon(s, rc, "cannot write to the command's stdin");
			s->bl_off = s->bl_len = 0;
			s->bl_zeros = 0;
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
			tool_info("%s: command %s %d after reading %llu bytes", rvmig_ep_peer(s->ep),
				  st < 256 ? "exited with status" : "was killed by signal", st & 255,
				  (unsigned long long)rvmig_xrecv_offset(s->rb));
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

struct daemon {
	rvmig_listener *l;
	const struct allow_list *allow;
	rvmig_publisher *pub;
	struct session **ss;
	unsigned n, max;
	bool once;
};

/* Takes the connection requests that are waiting: new sessions, or refusals
 * (over the limit, wrong key) that the library answers and logs. */
static void take_connections(struct daemon *d)
{
	rvmig_ep *ep;
	struct session *s;
	int rc = rvmig_accept(d->l, 0, &ep);

	if (rc == -ETIMEDOUT)
		return;
	if (rc) {
		tool_err("connection refused: %s", rvmig_strerror(rc));
		return;
	}
	tool_debug("tunnel from %s over %s (%u of at most %u sessions)", rvmig_ep_peer(ep),
		   rvmig_ep_transport(ep), d->n + 1, d->max);
	if (d->n == d->max) {
		/* The listener's limit makes this impossible; never overrun. */
		tool_err("%s: session table full", rvmig_ep_peer(ep));
		rvmig_ep_close(ep);
		return;
	}
	s = session_new(ep, d->allow, d->pub);
	if (s)
		d->ss[d->n++] = s;
	if (d->once) {
		/* Serve this one only: later tunnels are refused by the kernel. */
		rvmig_listener_close(d->l);
		d->l = NULL;
	}
}

/* Gives the heap's free pages back once a burst of peers is over.  Each
 * connecting peer holds about 0.6 MiB until it is dropped or served; freed,
 * that memory stays in the process wherever it is not at the top of the
 * heap (glibc's free() only trims the top).  In the soak (50 hostile
 * clients, 4 tunnels), 30 s after the clients stopped, rvmigd's heap had
 * 250 KiB in use (209 KiB before the load) but 2.6 MiB free and resident;
 * malloc_trim(0) took its anonymous memory from 3492 to 1080 KiB (1492
 * before the load).  Called when the loop found nothing to do for one poll
 * period after a peer came or a session ended. */
static void heap_trim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static void run(struct daemon *d)
{
	struct pollfd *pf = calloc(1 + (size_t)d->max * 4, sizeof(*pf));
	bool freed = false; /* peers or sessions went since the last trim */

	if (!pf) {
		tool_err("out of memory");
		return;
	}
	while (!stop_signal && (d->l || d->n)) {
		int k = 0, wait = 200, ready;

		pf[k++] = (struct pollfd){ .fd = d->l ? rvmig_listener_fd(d->l) : -1, .events = POLLIN };
		for (unsigned i = 0; i < d->n; i++) {
			k += session_pollfds(d->ss[i], pf + k);
			if (zeros_pending(d->ss[i]))
				wait = 0;
		}
		ready = poll(pf, (nfds_t)k, wait);
		if (ready < 0 && errno != EINTR)
			break;
		if (!ready && wait && freed) {
			heap_trim();
			freed = false;
		}
		if (d->l && (pf[0].revents & POLLIN)) {
			take_connections(d);
			freed = true;
		}
		for (unsigned i = 0; i < d->n;) {
			if (session_step(d->ss[i])) {
				i++;
				continue;
			}
			session_free(d->ss[i]);
			d->ss[i] = d->ss[--d->n];
			freed = true;
		}
	}
	while (d->n)
		session_free(d->ss[--d->n]);
	free(pf);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmigd [OPTIONS] --listen URI --key-file PATH [--allow CMD]...\n"
		"Runs commands for rvmig-tunnel: each connection that proves it holds the\n"
		"pre-shared key names one command, which runs if the allow-list permits it,\n"
		"with the tunnel's stdin as its stdin and its stdout, stderr and exit status\n"
		"sent back.  Serves up to --max-sessions connections at once and refuses\n"
		"more (the tunnel reports \"too many connections\"); keeps listening.\n\n"
		"  -l, --listen URI      tcp://HOST:PORT or verbs://HOST:PORT (rvmig-tunnel's\n"
		"                        default port is 7471)\n"
		"  --key-file PATH       pre-shared key (16..256 bytes, mode 0600 or 0400)\n"
		"  --allow CMD           allow commands whose argv starts with CMD's words\n"
		"                        (options after the first word are skipped); repeat\n"
		"                        for more; default: '" ALLOW_DEFAULT "'\n"
		"  --ready-file PATH     write the bound port there once listening\n"
		"  --max-sessions N      connections served at once (1..%d, default %d)\n"
		"  --auth-timeout MS     a connecting tunnel must open each link and prove it\n"
		"                        holds the key within MS (default 5000); until then\n"
		"                        it holds no session\n"
		"  --once                serve one connection, then exit\n\n%s",
		MAX_SESSIONS_LIMIT, MAX_SESSIONS_DEFAULT,
		tool_common_help);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "key-file", required_argument, NULL, OPT_KEY_FILE },
		{ "allow", required_argument, NULL, OPT_ALLOW },
		{ "ready-file", required_argument, NULL, OPT_READY_FILE },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
		TOOL_AUTH_TIMEOUT_LONGOPT,
		{ 0 },
	};
	struct allow_list allow = { 0 };
	struct tool_opts o;
	struct rvmig_ep_attr attr;
	rvmig_listener *l = NULL;
	rvmig_ctx *ctx = NULL;
	const char *uri = NULL, *key_file = NULL, *ready = NULL;
	uint8_t key[256];
	size_t key_len = sizeof(key);
	struct daemon d = { .max = MAX_SESSIONS_DEFAULT };
	int c, rc;

	tool_opts_init(&o, "rvmigd");
	while ((c = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS "l:", lopts, NULL)) != -1) {
		rc = tool_opt(&o, c, optarg);
		if (rc < 0)
			return 2;
		if (rc)
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			tool_print_version(&o);
			return 0;
		case 'l':
			uri = optarg;
			break;
		case OPT_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_ALLOW:
			if (allow_add(&allow, optarg)) {
				tool_err("bad --allow '%s'", optarg);
				return 2;
			}
			break;
		case OPT_READY_FILE:
			ready = optarg;
			break;
		case OPT_ONCE:
			d.once = true;
			break;
		case OPT_MAX_SESSIONS: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 1 || v > MAX_SESSIONS_LIMIT) {
				tool_err("bad --max-sessions '%s' (1..%d)", optarg, MAX_SESSIONS_LIMIT);
				return 2;
			}
			d.max = (unsigned)v;
			break;
		}
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !uri || !key_file) {
		usage(stderr);
		return 2;
	}
	if (tool_check_uri("--listen URI", uri))
		return 2;
	if (!allow.n && allow_add(&allow, ALLOW_DEFAULT))
		return 1;
	tool_opts_done(&o);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);

	if ((rc = tool_ctx_create(&o, &ctx)))
		goto out;
	rc = tool_tunnel_attr(&o, ctx, key_file, key, &key_len, &attr);
	if (rc)
		goto out;
	attr.max_conns = d.once ? 1 : d.max;
	rc = rvmig_listen(ctx, uri, &attr, &l);
	if (rc) {
		tool_err("cannot listen on %s: %s", uri, rvmig_strerror(rc));
		goto out;
	}
	if ((rc = tool_announce(ready, uri, rvmig_listener_port(l))))
		goto out;
	d.l = l;
	d.allow = &allow;
	rvmig_publisher_open(ctx, "rvmigd", NULL, &d.pub);
	d.ss = calloc(d.max, sizeof(*d.ss));
	if (!d.ss) {
		rc = -ENOMEM;
		goto out;
	}
	run(&d);
	l = d.l; /* closed by run() with --once */
	free(d.ss);
	rc = 0;
out:
	explicit_bzero(key, sizeof(key));
	rvmig_publisher_close(d.pub);
	rvmig_listener_close(l);
	rvmig_ctx_destroy(ctx);
	allow_free(&allow);
	return rc ? 1 : 0;
}
