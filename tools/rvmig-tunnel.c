/* SPDX-License-Identifier: MIT */
/*
 * rvmig-tunnel - an ssh stand-in for `xl migrate -s rvmig-tunnel DOM HOST`:
 * runs the trailing command on HOST through rvmigd (pre-shared key, mutual
 * HMAC), with stdin carried there and the command's stdout / stderr / exit
 * status brought back.  Nothing but the command's stdout is written on
 * stdout.  Exit status: the command's, or 255 when the tunnel failed.
 *
 * The library's sender session does it (rvmig_xsender_exec(3)): stdin is
 * read into a ring of registered buffers and parsed as a Xen stream while
 * it is one (page payloads zero-copy, zero pages as ZERO messages, the
 * rest as CTRL messages); xl's own messages around the stream go as they
 * are, handed on as soon as stdin pauses; END (length, XXH3-128 digest) or
 * the EXIT reply checks that rvmigd rebuilt every byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/cli.h"
#include "common/io.h"
#include "common/stop.h"
#include "tunnel/uri.h"

#define EXIT_TUNNEL 255
#define KEY_FILE_DEFAULT "/etc/rvmig/tunnel.key"

enum {
	OPT_URI_TEMPLATE = OPT_TOOL_FIRST,
	OPT_KEY_FILE,
	OPT_TCP_FALLBACK,
};

/* The command's stdout and stderr; a reader that went away is ignored,
 * as ssh does. */
static void on_output(rvmig_xsender *s, int stream, const void *data, size_t len, void *arg)
{
	(void)s;
	(void)arg;
	tool_write_all(stream == 1 ? STDOUT_FILENO : STDERR_FILENO, data, len, -1);
}

static void on_note(rvmig_xsender *s, enum rvmig_xsend_note n, const char *text, void *arg)
{
	(void)s;
	(void)n;
	(void)arg;
	tool_debug("%s", text);
}

/* What rvmig-top shows of the transfer, and the debug line at the end. */
static void summary(rvmig_xsender *xs, const struct rvmig_xresult *res)
{
	rvmig_xsend *x = rvmig_xsender_xsend(xs);
	rvmig_xstats *st;
	uint64_t plain;

	if (rvmig_xstats_create(&st))
		return;
	rvmig_xsend_stats(x, st);
	plain = rvmig_xstats_get(st, RVMIG_XSTAT_PLAIN_OFFSET);
	if (plain != UINT64_MAX)
		tool_debug("input is not a Xen stream from offset %llu on (%s): sent as plain bytes",
			   (unsigned long long)plain, rvmig_stream_error(rvmig_xsend_parser(x)));
	if (!res->status)
		tool_debug("%llu bytes of stdin (%s; %llu pages, %llu zero) in %.3f s, exit status "
			   "%d; %s",
			   (unsigned long long)res->bytes,
			   plain != UINT64_MAX ? "not all a Xen stream" : "Xen stream",
			   (unsigned long long)rvmig_xstats_get(st, RVMIG_XSTAT_PAGES),
			   (unsigned long long)rvmig_xstats_get(st, RVMIG_XSTAT_ZERO_PAGES),
			   res->seconds, res->exit_status,
			   res->verified ? "remote received all of it, xxh128 digest verified"
					 : "remote command did not read all of it");
	rvmig_xstats_destroy(st);
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
	struct rvmig_ep_attr attr;
	struct rvmig_xsend_opts xo = { .size = sizeof(xo), .flags = RVMIG_XSTREAM_F_DIGEST_THREAD,
				       .name = "stdin", .stop = &tool_stop,
				       .on_output = on_output, .on_note = on_note };
	struct rvmig_xresult res = { .size = sizeof(res) };
	rvmig_xsender *xs = NULL;
	const char *text;
	rvmig_ctx *ctx = NULL;
	rvmig_publisher *pub = NULL;
	const char *tmpl = getenv("RVMIG_TUNNEL_URI");
	const char *key_file = getenv("RVMIG_TUNNEL_KEY_FILE");
	bool tcp_fallback = false;
	char uri[512], uri2[512];
	uint8_t key[TOOL_KEY_MAX];
	size_t key_len = sizeof(key);
	int c, rc = 0, ret = EXIT_TUNNEL;

	tool_opts_init(&o, "rvmig-tunnel");
	/* '+': options end at HOST; the command's own options are its own. */
	while ((c = getopt_long(argc, argv, "+" TOOL_COMMON_SHORTOPTS, lopts, NULL)) != -1) {
		if ((rc = tool_opt(&o, c, optarg, usage)) == TOOL_OPT_TAKEN)
			continue;
		if (rc != TOOL_OPT_MINE)
			return rc ? EXIT_TUNNEL : 0; /* a bad value: the tunnel's own failure */
		switch (c) {
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
	tool_catch_stop();

	if (tool_ctx_create(&o, &ctx))
		goto out;
	rc = tool_tunnel_attr(&o, ctx, key_file, key, &key_len, &attr);
	if (rc)
		goto out;
	xo.ep_attr = &attr;
	/* Seen by rvmig-top from here on; never a reason to fail. */
	if (!rvmig_publisher_open(ctx, "rvmig-tunnel", NULL, &pub))
		rvmig_pubxfer_begin(pub, &xo.pub);
	if ((rc = rvmig_xsender_create(ctx, STDIN_FILENO, &xo, &xs))) {
		text = NULL;
		if (xs)
			rvmig_xsender_error(xs, &text);
		tool_err("cannot set up the tunnel: %s", text ? text : rvmig_strerror(rc));
		goto out;
	}
	rc = rvmig_xsender_exec(xs, uri, argc - optind - 1, argv + optind + 1);
	if (rc && !rvmig_xsender_connected(xs) && tcp_fallback &&
	    !tunnel_uri_tcp(uri, uri2, sizeof(uri2))) {
		rvmig_xsender_error(xs, &text);
		tool_info("%s, trying %s", text, uri2);
		rc = rvmig_xsender_exec(xs, uri2, argc - optind - 1, argv + optind + 1);
	}
	rvmig_xsender_result(xs, &res);
	summary(xs, &res);
	if (rc)
		tool_err("%s", res.text);
	else if (res.exit_status > 255)
		tool_err("remote command killed by signal %d", res.exit_status - 256);
	else
		ret = res.exit_status;
out:
	rvmig_pubxfer_end(xo.pub, rc ? rc : ret == EXIT_TUNNEL ? -RVMIG_EPEER : 0);
	rvmig_xsender_destroy(xs);
	explicit_bzero(key, sizeof(key));
	rvmig_publisher_close(pub);
	rvmig_ctx_destroy(ctx);
	return ret;
}
