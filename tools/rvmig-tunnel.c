/* SPDX-License-Identifier: MIT */
/*
 * rvmig-tunnel - an ssh stand-in for `xl migrate -s rvmig-tunnel DOM HOST`:
 * runs the trailing command on HOST through rvmigd (pre-shared key, mutual
 * HMAC), with stdin carried there and the command's stdout / stderr / exit
 * status brought back.  Nothing but the command's stdout is written on
 * stdout.  Exit status: the command's, or 255 when the tunnel failed.
 *
 * stdin is read into a ring of registered buffers and fed to the Xen stream
 * parser (pipeline/sendpipe.h does the rest): page payloads go as zero-copy
 * bulk requests, zero pages as ZERO messages, all other stream bytes as
 * ordered CTRL messages.  Bytes after the stream's final END (xl's "you are
 * cleared to unpause" message) are the parser's trailer and go as CTRL
 * messages too; input that is not (or stops being) a Xen stream is sent as
 * plain CTRL messages from there on.  Whatever is read is handed on as soon
 * as stdin pauses, so xl's handshake around the stream is never held back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/appmsg.h"
#include "common/cli.h"
#include "pipeline/sendpipe.h"
#include "send/input.h"
#include "tunnel/uri.h"

#define RING_BUFS 4
#define RING_BUF_SIZE (8u << 20)
#define EXIT_TUNNEL 255
#define KEY_FILE_DEFAULT "/etc/rvmig/tunnel.key"

enum {
	OPT_URI_TEMPLATE = OPT_TOOL_FIRST,
	OPT_KEY_FILE,
	OPT_TCP_FALLBACK,
};

struct tunnel {
	struct send_input in;
	struct sendpipe sp;
	rvmig_stream_parser *parser;
	bool plain;             /* input not (or no longer) parsed: plain messages */
	uint64_t handed;        /* input bytes handed to the pipeline so far */
	bool exited;            /* EXIT reply arrived */
	int status;             /* its status */
	uint64_t remote_bytes;  /* EXIT: input bytes rvmigd rebuilt */
	uint8_t remote_sha[32]; /* ... and their digest (XXH3-128) */
	bool verified;          /* that matched everything handed on */
	char text[512];
	bool peer_closed;
};

static volatile int stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void on_event(struct sendpipe *sp, const struct rvmig_event *ev)
{
	struct tunnel *t = sp->arg;
	struct app_msg m;
	const char *why;

	if (ev->type == RVMIG_EV_PEER_CLOSED) {
		t->peer_closed = true;
		if (!t->exited)
			sendpipe_fail(sp, -RVMIG_EPEER, "%s closed the tunnel without an exit status",
				      rvmig_ep_peer(sp->ep));
		sp->quit = true;
		return;
	}
	if (app_decode(ev->data, ev->len, &m, &why)) {
		sendpipe_fail(sp, -RVMIG_EBADMSG, "bad reply from %s: %s", rvmig_ep_peer(sp->ep),
			      why);
		return;
	}
	switch (m.tag) {
	case APP_OUT:
		/* stdout closed by the reader: like ssh, keep going */
		write_all(STDOUT_FILENO, m.data, m.len);
		break;
	case APP_ERR:
		write_all(STDERR_FILENO, m.data, m.len);
		break;
	case APP_EXIT:
		t->exited = true;
		t->status = m.status;
		t->remote_bytes = m.n;
		memcpy(t->remote_sha, m.digest, 32);
		/* rvmigd's words: cut and escaped, never printed raw. */
		rvmig_text_escape(t->text, sizeof(t->text), m.data, m.len);
		sp->quit = true;
		break;
	default:
		sendpipe_fail(sp, -RVMIG_EBADMSG, "unexpected %s reply from %s", app_tag_name(m.tag),
			      rvmig_ep_peer(sp->ep));
	}
}

/* From `from` on, the input goes as plain messages. */
static void go_plain(struct tunnel *t, uint64_t from, uint64_t to)
{
	struct in_seg seg[2];

	t->plain = true;
	while (from < to && !t->sp.err) {
		uint64_t n = to - from < (1u << 20) ? to - from : (1u << 20);
		int ns = input_locate(&t->in, from, (size_t)n, seg);

		if (!ns) {
			sendpipe_fail(&t->sp, -EFAULT, "input offset %llu no longer in memory",
				      (unsigned long long)from);
			return;
		}
		for (int i = 0; i < ns; i++) {
			sendpipe_bytes(&t->sp, from, t->in.bufs[seg[i].buf].base + seg[i].off,
				       seg[i].len);
			from += seg[i].len;
		}
	}
	t->handed = to;
}

static void process(struct sendpipe *sp, uint64_t off, const uint8_t *data, size_t len)
{
	struct tunnel *t = sp->arg;
	struct rvmig_stream_item it = { .size = sizeof(it) };
	int rc;

	if (t->plain) {
		sendpipe_bytes(sp, off, data, len);
		t->handed = off + len;
		return;
	}
	rc = rvmig_stream_feed(t->parser, data, len);
	while (rc == 0 && !sp->err && (rc = rvmig_stream_next(t->parser, &it)) == 1) {
		sendpipe_item(sp, &it);
		t->handed = it.offset + it.len;
		rc = 0;
	}
	if (rc < 0 && !sp->err) {
		tool_debug("input is not a Xen stream from offset %llu on (%s): sent as plain bytes",
			   (unsigned long long)t->handed, rvmig_stream_error(t->parser));
		go_plain(t, t->handed, off + len);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rvmig-tunnel [OPTIONS] HOST COMMAND [ARGS...]\n"
		"Runs COMMAND on HOST through rvmigd, like `ssh HOST COMMAND ARGS...` (but\n"
		"without a remote shell: the words are the argv): stdin goes to the command,\n"
		"its stdout and stderr come back, the exit status is the command's (255 if the\n"
		"tunnel failed).  For `xl migrate -s rvmig-tunnel DOM HOST`.\n\n"
		"  --uri-template T   URI for HOST, %%h standing for HOST (default: env\n"
		"                     RVMIG_TUNNEL_URI, else %s)\n"
		"  --key-file PATH    pre-shared key (default: env RVMIG_TUNNEL_KEY_FILE, else\n"
		"                     " KEY_FILE_DEFAULT ")\n"
		"  --tcp-fallback     if a verbs:// URI cannot be reached, try tcp:// with the\n"
		"                     same host and port\n\n%s",
		TUNNEL_URI_DEFAULT, tool_common_help);
}

/*
 * At end of input the tunnel sends END (length, XXH3-128 digest), which rvmigd checks
 * before the command sees end of input.  A command that exits first (xl's
 * receiver exits after the permission message, while xl still holds the
 * pipe open) is checked through the EXIT reply instead: when rvmigd rebuilt
 * as many bytes as were handed on, their digest must match.
 */
static int finish(struct tunnel *t)
{
	struct sendpipe *sp = &t->sp;
	uint8_t sha[32], m[128];
	uint64_t total = t->handed;
	bool end_sent = false;

	sendpipe_flush(sp);
	if (!t->exited && !sp->err) {
		/* stdin ended: the command sees end of input once all is there. */
		if (t->in.read_total != t->handed && !t->plain) /* parser held bytes back */
			go_plain(t, t->handed, t->in.read_total);
		sendpipe_flush(sp);
		total = t->handed;
		sendpipe_digest(sp, sha);
		end_sent = true;
		sendpipe_msg(sp, m,
			     app_encode_end(m, sizeof(m), total, sha, sp->pages, sp->zero_pages),
			     total);
	}
	while (!sp->err && !t->exited)
		sendpipe_pump(sp, 200);
	if (!t->exited)
		return EXIT_TUNNEL;
	if (!end_sent)
		sendpipe_digest(sp, sha);
	if (t->remote_bytes == total && t->status >= 0) {
		if (memcmp(sha, t->remote_sha, 32)) {
			sendpipe_fail(sp, -RVMIG_EINTEGRITY,
				      "xxh128 digest of the %llu bytes %s rebuilt differs from what was sent",
				      (unsigned long long)total, rvmig_ep_peer(sp->ep));
			return EXIT_TUNNEL;
		}
		t->verified = true;
	}
	if (t->status < 0) {
		tool_err("%s: %s", rvmig_ep_peer(sp->ep), t->text[0] ? t->text :
			 rvmig_strerror(t->status));
		return EXIT_TUNNEL;
	}
	if (t->status > 255) {
		tool_err("remote command killed by signal %d", t->status - 256);
		return EXIT_TUNNEL;
	}
	return t->status;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		TOOL_COMMON_LONGOPTS,
		{ "uri-template", required_argument, NULL, OPT_URI_TEMPLATE },
		{ "key-file", required_argument, NULL, OPT_KEY_FILE },
		{ "tcp-fallback", no_argument, NULL, OPT_TCP_FALLBACK },
		{ 0 },
	};
	struct tool_opts o;
	struct tunnel t = { 0 };
	struct rvmig_ep_attr attr;
	struct rvmig_stream_attr pa = { .size = sizeof(pa), .flags = RVMIG_STREAM_F_ALLOW_TRAILING };
	rvmig_ctx *ctx = NULL;
	rvmig_publisher *pub = NULL;
	rvmig_pubxfer *px = NULL;
	const char *tmpl = getenv("RVMIG_TUNNEL_URI");
	const char *key_file = getenv("RVMIG_TUNNEL_KEY_FILE");
	bool tcp_fallback = false;
	char uri[512], uri2[512];
	uint8_t key[256], *exec = NULL;
	size_t key_len = sizeof(key), exec_len;
	double t0;
	int c, rc, ret = EXIT_TUNNEL;

	tool_opts_init(&o, "rvmig-tunnel");
	/* '+': options end at HOST; the command's own options are its own. */
	while ((c = getopt_long(argc, argv, "+" TOOL_COMMON_SHORTOPTS, lopts, NULL)) != -1) {
		rc = tool_opt(&o, c, optarg);
		if (rc < 0)
			return EXIT_TUNNEL;
		if (rc)
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			tool_print_version(&o);
			return 0;
		case OPT_URI_TEMPLATE:
			tmpl = optarg;
			break;
		case OPT_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_TCP_FALLBACK:
			tcp_fallback = true;
			break;
		default:
			usage(stderr);
			return EXIT_TUNNEL;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return EXIT_TUNNEL;
	}
	tool_opts_done(&o);
	if (!tmpl || !tmpl[0])
		tmpl = TUNNEL_URI_DEFAULT;
	if (!key_file || !key_file[0])
		key_file = KEY_FILE_DEFAULT;
	rc = tunnel_uri(tmpl, argv[optind], uri, sizeof(uri));
	if (rc) {
		tool_err("bad URI template '%s' for host %s: %s", tmpl, argv[optind],
			 rc == -EINVAL ? "only %h and %% are known" : "too long");
		return EXIT_TUNNEL;
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);

	exec = malloc(rvmig_msg_max());
	if (!exec || sendpipe_init(&t.sp, &t.in, RVMIG_STREAM_PAGE_SIZE, HASHER_XXH128, on_event, &t) ||
	    rvmig_stream_parser_create(&pa, &t.parser)) {
		tool_err("out of memory");
		goto out;
	}
	t.sp.stop = &stop_signal;
	exec_len = app_encode_exec(exec, rvmig_msg_max(), argc - optind - 1, argv + optind + 1);
	if (!exec_len) {
		tool_err("the command line is too long (at most %zu bytes)", rvmig_msg_max() - 2);
		goto out;
	}
	if (input_open(&t.in, "-", RING_BUFS, RING_BUF_SIZE))
		goto out;
	if (tool_ctx_create(&o, &ctx))
		goto out;
	/* Seen by rvmig-top from here on; never a reason to fail. */
	if (!rvmig_publisher_open(ctx, "rvmig-tunnel", NULL, &pub) && !rvmig_pubxfer_begin(pub, &px))
		t.sp.pub = px;
	rc = tool_tunnel_attr(&o, ctx, key_file, key, &key_len, &attr);
	if (rc)
		goto out;
	t0 = tool_now();
	rc = rvmig_connect(ctx, uri, &attr, &t.sp.ep);
	if (rc && tcp_fallback && !tunnel_uri_tcp(uri, uri2, sizeof(uri2))) {
		tool_info("cannot connect to %s (%s), trying %s", uri, rvmig_strerror(rc), uri2);
		rc = rvmig_connect(ctx, uri2, &attr, &t.sp.ep);
		if (!rc)
			memcpy(uri, uri2, sizeof(uri));
	}
	explicit_bzero(key, sizeof(key));
	if (rc) {
		tool_err("cannot connect to %s: %s", uri, rvmig_strerror(rc));
		goto out;
	}
	rvmig_pubxfer_set_endpoint(px, t.sp.ep);
	tool_debug("connected to %s over %s (%s) in %.3f s", rvmig_ep_peer(t.sp.ep),
		   rvmig_ep_transport(t.sp.ep), tool_mode_name(rvmig_ep_mode(t.sp.ep)),
		   tool_now() - t0);
	rc = input_register(&t.in, t.sp.ep,
			    rvmig_ep_mode(t.sp.ep) == RVMIG_MODE_PULL ? RVMIG_MR_REMOTE_READ
								  : RVMIG_MR_LOCAL);
	if (rc)
		goto out;
	sendpipe_msg(&t.sp, exec, exec_len, 0);
	if (t.in.mapped)
		sendpipe_run_mapped(&t.sp, process);
	else
		sendpipe_run_pipe(&t.sp, process);
	ret = finish(&t);
	if (t.sp.err)
		tool_err("%s", t.sp.errtxt);
	else
		tool_debug("%llu bytes of stdin (%s; %llu pages, %llu zero) in %.3f s, exit status "
			   "%d; %s",
			   (unsigned long long)t.in.read_total,
			   t.plain ? "not all a Xen stream" : "Xen stream",
			   (unsigned long long)t.sp.pages, (unsigned long long)t.sp.zero_pages,
			   tool_now() - t0, t.status,
			   t.verified ? "remote received all of it, xxh128 digest verified"
				      : "remote command did not read all of it");
out:
	rvmig_pubxfer_progress(px, t.sp.acked, t.sp.pages, t.sp.zero_pages);
	rvmig_pubxfer_end(px, t.sp.err ? t.sp.err : ret == EXIT_TUNNEL ? -RVMIG_EPEER : 0);
	input_unregister(&t.in);
	if (t.sp.ep)
		rvmig_ep_close(t.sp.ep);
	sendpipe_fini(&t.sp); /* its hasher may still read the input */
	input_close(&t.in);
	rvmig_stream_parser_destroy(t.parser);
	rvmig_publisher_close(pub);
	rvmig_ctx_destroy(ctx);
	free(exec);
	return ret;
}
