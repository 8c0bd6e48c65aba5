/* SPDX-License-Identifier: MIT */
/*
 * rvmig-tunnel - an ssh stand-in for `xl migrate -s rvmig-tunnel DOM HOST`:
 * runs the trailing command on HOST through rvmigd (pre-shared key, mutual
 * HMAC), with stdin carried there and the command's stdout / stderr / exit
 * status brought back.  Nothing but the command's stdout is written on
 * stdout.  Exit status: the command's, or 255 when the tunnel failed.
 *
 * stdin is read into a ring of registered buffers and fed to the Xen stream
 * parser by the library's sender (rvmig/xstream.h, with
 * RVMIG_XSTREAM_F_PLAIN_FALLBACK): page payloads go as zero-copy
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

#include "common/cli.h"
#include "tunnel/uri.h"

#define EXIT_TUNNEL 255
#define KEY_FILE_DEFAULT "/etc/rvmig/tunnel.key"

enum {
	OPT_URI_TEMPLATE = OPT_TOOL_FIRST,
	OPT_KEY_FILE,
	OPT_TCP_FALLBACK,
};

struct tunnel {
	rvmig_xsend *xs;        /* stdin, parser, posts, digest (rvmig/xstream.h) */
	rvmig_ep *ep;
	bool exited;            /* EXIT reply arrived */
	int status;             /* its status */
	uint64_t remote_bytes;  /* EXIT: input bytes rvmigd rebuilt */
	uint8_t remote_sha[RVMIG_DIGEST_LEN]; /* ... and their digest (XXH3-128) */
	bool verified;          /* that matched everything handed on */
	char text[512];
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

static int xs_err(const struct tunnel *t)
{
	return rvmig_xsend_error(t->xs, NULL);
}

static void on_close(rvmig_xsend *xs, void *arg)
{
	struct tunnel *t = arg;

	if (!t->exited)
		rvmig_xsend_fail(xs, -RVMIG_EPEER, false, "%s closed the tunnel without an exit status",
				 rvmig_ep_peer(t->ep));
	rvmig_xsend_quit(xs);
}

static void on_reply(rvmig_xsend *xs, const void *msg, size_t len, void *arg)
{
	struct tunnel *t = arg;
	struct rvmig_xmsg m;
	const char *why;

	if (rvmig_xmsg_decode(msg, len, &m, &why)) {
		rvmig_xsend_fail(xs, -RVMIG_EBADMSG, false, "bad reply from %s: %s",
				 rvmig_ep_peer(t->ep), why);
		return;
	}
	switch (m.tag) {
	case RVMIG_XMSG_OUT:
		/* stdout closed by the reader: like ssh, keep going */
		write_all(STDOUT_FILENO, m.data, m.len);
		break;
	case RVMIG_XMSG_ERR:
		write_all(STDERR_FILENO, m.data, m.len);
		break;
	case RVMIG_XMSG_EXIT:
		t->exited = true;
		t->status = m.status;
		t->remote_bytes = m.n;
		memcpy(t->remote_sha, m.digest, RVMIG_DIGEST_LEN);
		/* rvmigd's words: cut and escaped, never printed raw. */
		rvmig_text_escape(t->text, sizeof(t->text), m.data, m.len);
		rvmig_xsend_quit(xs);
		break;
	default:
		rvmig_xsend_fail(xs, -RVMIG_EBADMSG, false, "unexpected %s reply from %s",
				 rvmig_xmsg_tag_name(m.tag), rvmig_ep_peer(t->ep));
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
static int finish(struct tunnel *t, rvmig_xstats *st)
{
	uint8_t sha[RVMIG_DIGEST_LEN];
	uint64_t total;

	/* stdin ended: the command sees end of input once all is there. */
	rvmig_xsend_end(t->xs, !t->exited && !xs_err(t), sha);
	while (!xs_err(t) && !t->exited)
		rvmig_xsend_progress(t->xs, 200);
	if (!t->exited)
		return EXIT_TUNNEL;
	rvmig_xsend_stats(t->xs, st);
	total = rvmig_xstats_get(st, RVMIG_XSTAT_HANDED);
	if (t->remote_bytes == total && t->status >= 0) {
		if (memcmp(sha, t->remote_sha, RVMIG_DIGEST_LEN)) {
			rvmig_xsend_fail(t->xs, -RVMIG_EINTEGRITY, false,
					 "xxh128 digest of the %llu bytes %s rebuilt differs from what "
					 "was sent",
					 (unsigned long long)total, rvmig_ep_peer(t->ep));
			return EXIT_TUNNEL;
		}
		t->verified = true;
	}
	if (t->status < 0) {
		tool_err("%s: %s", rvmig_ep_peer(t->ep), t->text[0] ? t->text :
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
	/* stdin as xl writes it: its save stream, parsed, and around it xl's
	 * own messages, sent as they are. */
	struct rvmig_xsend_attr xa = {
		.size = sizeof(xa), .digest = RVMIG_DIGEST_XXH128, .stop = &stop_signal,
		.flags = RVMIG_XSTREAM_F_PLAIN_FALLBACK | RVMIG_XSTREAM_F_DIGEST_THREAD,
		.on_reply = on_reply, .on_close = on_close, .arg = &t,
	};
	rvmig_xstats *st = NULL;
	const char *text;
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
	if (!exec || rvmig_xstats_create(&st)) {
		tool_err("out of memory");
		goto out;
	}
	exec_len = rvmig_xmsg_encode_exec(exec, rvmig_msg_max(), argc - optind - 1, argv + optind + 1);
	if (!exec_len) {
		tool_err("the command line is too long (at most %zu bytes)", rvmig_msg_max() - 2);
		goto out;
	}
	if ((rc = rvmig_xsend_create("-", &xa, &t.xs))) {
		if (t.xs && rvmig_xsend_error(t.xs, &text))
			tool_err("%s", text);
		else
			tool_err("cannot set up the tunnel: %s", rvmig_strerror(rc));
		goto out;
	}
	if (tool_ctx_create(&o, &ctx))
		goto out;
	/* Seen by rvmig-top from here on; never a reason to fail. */
	if (!rvmig_publisher_open(ctx, "rvmig-tunnel", NULL, &pub) && !rvmig_pubxfer_begin(pub, &px))
		rvmig_xsend_set_pub(t.xs, px);
	rc = tool_tunnel_attr(&o, ctx, key_file, key, &key_len, &attr);
	if (rc)
		goto out;
	t0 = tool_now();
	rc = rvmig_connect(ctx, uri, &attr, &t.ep);
	if (rc && tcp_fallback && !tunnel_uri_tcp(uri, uri2, sizeof(uri2))) {
		tool_info("cannot connect to %s (%s), trying %s", uri, rvmig_strerror(rc), uri2);
		rc = rvmig_connect(ctx, uri2, &attr, &t.ep);
		if (!rc)
			memcpy(uri, uri2, sizeof(uri));
	}
	explicit_bzero(key, sizeof(key));
	if (rc) {
		tool_err("cannot connect to %s: %s", uri, rvmig_strerror(rc));
		goto out;
	}
	rvmig_pubxfer_set_endpoint(px, t.ep);
	tool_debug("connected to %s over %s (%s) in %.3f s", rvmig_ep_peer(t.ep),
		   rvmig_ep_transport(t.ep), tool_mode_name(rvmig_ep_mode(t.ep)),
		   tool_now() - t0);
	if ((rc = rvmig_xsend_attach(t.xs, t.ep))) {
		rvmig_xsend_error(t.xs, &text);
		tool_err("%s", text);
		goto out;
	}
	rvmig_xsend_msg(t.xs, exec, exec_len, 0);
	rvmig_xsend_run(t.xs);
	rvmig_xsend_stats(t.xs, st);
	if (rvmig_xstats_get(st, RVMIG_XSTAT_PLAIN_OFFSET) != UINT64_MAX)
		tool_debug("input is not a Xen stream from offset %llu on (%s): sent as plain bytes",
			   (unsigned long long)rvmig_xstats_get(st, RVMIG_XSTAT_PLAIN_OFFSET),
			   rvmig_stream_error(rvmig_xsend_parser(t.xs)));
	ret = finish(&t, st);
	rvmig_xsend_stats(t.xs, st);
	if (rvmig_xsend_error(t.xs, &text)) {
		tool_err("%s", text);
	} else {
		tool_debug("%llu bytes of stdin (%s; %llu pages, %llu zero) in %.3f s, exit status "
			   "%d; %s",
			   (unsigned long long)rvmig_xstats_get(st, RVMIG_XSTAT_BYTES),
			   rvmig_xstats_get(st, RVMIG_XSTAT_PLAIN_OFFSET) != UINT64_MAX
				   ? "not all a Xen stream" : "Xen stream",
			   (unsigned long long)rvmig_xstats_get(st, RVMIG_XSTAT_PAGES),
			   (unsigned long long)rvmig_xstats_get(st, RVMIG_XSTAT_ZERO_PAGES),
			   tool_now() - t0, t.status,
			   t.verified ? "remote received all of it, xxh128 digest verified"
				      : "remote command did not read all of it");
	}
out:
	if (t.xs) {
		int err = rvmig_xsend_error(t.xs, NULL);

		rvmig_xsend_stats(t.xs, st);
		rvmig_pubxfer_progress(px, rvmig_xstats_get(st, RVMIG_XSTAT_ACKED),
				       rvmig_xstats_get(st, RVMIG_XSTAT_PAGES),
				       rvmig_xstats_get(st, RVMIG_XSTAT_ZERO_PAGES));
		rvmig_pubxfer_end(px, err ? err : ret == EXIT_TUNNEL ? -RVMIG_EPEER : 0);
		rvmig_xsend_detach(t.xs);
	}
	if (t.ep)
		rvmig_ep_close(t.ep);
	rvmig_xsend_destroy(t.xs); /* its digest worker may still read the input */
	rvmig_xstats_destroy(st);
	rvmig_publisher_close(pub);
	rvmig_ctx_destroy(ctx);
	free(exec);
	return ret;
}
