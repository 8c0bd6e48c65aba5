/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what rvmig-send and rvmig-recv share on the command line:
 * the common options, the log level (-v, -q, RVMIG_LOG), the tool's own
 * messages on stderr, and making the librvmig context and endpoint
 * attributes from the options.
 */
#ifndef RVMIG_TOOLS_CLI_H
#define RVMIG_TOOLS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rvmig.h>

#include "size.h" /* tool_parse_u64() */

enum {
	OPT_MODE = 0x100,
	OPT_LINKS,
	OPT_TIMEOUT,
	OPT_STATS_JSON,
	OPT_RAW,
	OPT_VERSION,
	OPT_WINDOW,
	OPT_SLOTS,
	OPT_SLOT_SIZE,
	OPT_AUTH_TIMEOUT,
	OPT_TOOL_FIRST = 0x200, /* tool-specific long options start here */
};

/* getopt_long entries of the common options; put first in each tool's table. */
#define TOOL_COMMON_LONGOPTS                                                   \
	{ "help", no_argument, NULL, 'h' },                                    \
	{ "verbose", no_argument, NULL, 'v' },                                 \
	{ "quiet", no_argument, NULL, 'q' },                                   \
	{ "mode", required_argument, NULL, OPT_MODE },                         \
	{ "links", required_argument, NULL, OPT_LINKS },                       \
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },                   \
	{ "stats-json", required_argument, NULL, OPT_STATS_JSON },             \
	{ "raw", no_argument, NULL, OPT_RAW },                                 \
	{ "version", no_argument, NULL, OPT_VERSION },                         \
	{ "window", required_argument, NULL, OPT_WINDOW },                     \
	{ "slots", required_argument, NULL, OPT_SLOTS },                       \
	{ "slot-size", required_argument, NULL, OPT_SLOT_SIZE }
#define TOOL_COMMON_SHORTOPTS "hvq"

/* --auth-timeout MS (rvmig_ep_attr.auth_timeout_ms), for the tools that
 * listen: put it in their option table; tool_opt() handles it. */
#define TOOL_AUTH_TIMEOUT_LONGOPT { "auth-timeout", required_argument, NULL, OPT_AUTH_TIMEOUT }

/* The library's limits on the common options (rvmig_ep_attr): the tools
 * refuse values out of them at parse time (usage error, exit 2). */
#define TOOL_LINKS_MAX 16
#define TOOL_SLOTS_MAX 65536
#define TOOL_SLOT_SIZE_MAX (64u << 20)
#define TOOL_REG_CHUNK_DEFAULT (4u << 20)

/* Help text of the common options, for each tool's --help. */
extern const char tool_common_help[];

struct tool_opts {
	const char *prog;        /* "rvmig-send" */
	enum rvmig_mode mode;    /* 0: not given */
	uint32_t links;          /* 0: library default */
	uint32_t timeout_ms;     /* 0: library default */
	uint64_t window;         /* 0: library default */
	uint32_t slots, slot_size; /* 0: library default */
	uint32_t auth_timeout_ms;  /* 0: library default (listeners) */
	const char *stats_json;  /* NULL: none */
	bool raw;
	int verbosity;           /* -1 quiet, 0 default, 1 -v, 2 -vv */
	enum rvmig_log_level lib_level;
};

void tool_opts_init(struct tool_opts *o, const char *prog);
/* --version: "PROG MAJOR.MINOR.PATCH (librvmig VERSION)" on stdout: the
 * tool's own version (the headers it was built with), then the library's as
 * rvmig_version() reports it at run time. */
void tool_print_version(const struct tool_opts *o);
/* What tool_opt() did with an option, besides an exit status (>= 0). */
#define TOOL_OPT_MINE (-1)  /* not a common option: the tool's own */
#define TOOL_OPT_TAKEN (-2) /* a common option, taken: go on */
/* Handles one getopt_long() value c of a tool's loop: a common option,
 * --help (usage(stdout)) or --version.  Returns TOOL_OPT_MINE, TOOL_OPT_TAKEN,
 * or the tool's exit status: 0 after --help / --version, 2 after saying why
 * a value is bad. */
int tool_opt(struct tool_opts *o, int c, const char *arg, void (*usage)(FILE *f));
/* Applies RVMIG_LOG (error|warn|info|debug) over -v/-q for the library log.
 * Call once after option parsing. */
void tool_opts_done(struct tool_opts *o);

/* Tool messages on stderr, prefixed with the program name.  tool_info
 * prints unless -q; tool_debug only with -v. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tool_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tool_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A number option's value: a decimal in lo..hi, the whole text.  0, or
 * -EINVAL after saying "OPT VALUE: not a number in lo..hi" (exit 2). */
int tool_num_opt(const char *opt, const char *s, double lo, double hi, double *v);

/* Checks a URI the user gave (`what`: "URI", "--listen URI") as librvmig
 * will: SCHEME://HOST:PORT (HOST may be [IPv6], PORT 0..65535), SCHEME a
 * transport of this library (rvmig_transports()).  Returns 0, or -1 after
 * saying what is wrong: a usage error (exit 2), not a failure found once
 * the tool runs. */
int tool_check_uri(const char *what, const char *uri);

/* Why an endpoint failed, for a message: its own account (rvmig_ep_error():
 * the violation, the timeout, or the reason its peer reported, escaped),
 * else the text of err. */
const char *tool_ep_why(const rvmig_ep *ep, int err);

int tool_ctx_create(const struct tool_opts *o, rvmig_ctx **ctx);
void tool_ep_attr(const struct tool_opts *o, struct rvmig_ep_attr *a);
/* The longest pre-shared key (rvmig_key_load(): 16..256 bytes): the size of
 * a tool's key buffer. */
#define TOOL_KEY_MAX 256

/* Loads the pre-shared key file into key (*key_len: its size in, the key's
 * length out) and points attr->psk at it (mutual authentication at
 * connect).  Returns 0 or a librvmig error (printed, naming the file). */
int tool_key_attr(rvmig_ctx *ctx, const char *key_file, uint8_t *key, size_t *key_len,
		  struct rvmig_ep_attr *attr);
/* Endpoint attributes of the tunnel and its daemon: tool_ep_attr(), a 60 s
 * default timeout, and the pre-shared key loaded from key_file into key
 * (*key_len: its size in, the key's length out; attr->psk points at key).
 * Returns 0 or a librvmig error (printed). */
int tool_tunnel_attr(const struct tool_opts *o, rvmig_ctx *ctx, const char *key_file,
		     uint8_t *key, size_t *key_len, struct rvmig_ep_attr *attr);
const char *tool_mode_name(enum rvmig_mode m);


double tool_now(void); /* CLOCK_MONOTONIC seconds */
double tool_wall(void); /* CLOCK_REALTIME seconds (timestamps in logs and states) */

/* Says "listening on port N (URI)" and, if ready_file is set, writes the
 * port there (a FIFO the waiting test opened, or a regular file).  Returns
 * 0 or -errno (printed). */
int tool_announce(const char *ready_file, const char *uri, int port);

#endif
