/* SPDX-License-Identifier: MIT */
/* cli.c - common options, logging and librvmig set-up of the rvmig tools. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const char tool_common_help[] =
	"Common options:\n"
	"  --mode push|pull  push: the source WRITEs into the receiver (default);\n"
	"                    pull: the destination READs from the source\n"
	"  --links N         parallel connections / QPs (default 4, at most 16)\n"
	"  --timeout MS      peer silence that counts as failure (default 10000)\n"
	"  --window BYTES    bytes in flight per connection (default 8M; K/M/G suffixes)\n"
	"  --slots N         receiver slots (credits) (default 16, at most 65536; set on\n"
	"                    the receiver)\n"
	"  --slot-size BYTES receiver slot size, largest single move (default 1M; a\n"
	"                    multiple of 4K up to 64M; set on the receiver)\n"
	"  --raw             do not parse the input as a Xen save stream\n"
	"  --stats-json PATH write statistics as JSON to PATH when done (- for stdout)\n"
	"  -v, --verbose     more messages (twice: debug); RVMIG_LOG=error|warn|info|debug\n"
	"                    sets the library's log level\n"
	"  -q, --quiet       only errors\n"
	"  --version         print the version\n"
	"  -h, --help        this text\n"
	"URIs: tcp://HOST:PORT, verbs://HOST:PORT (HOST may be [IPv6]).\n";

static const char *prog = "rvmig";
static int verbosity;

void tool_opts_init(struct tool_opts *o, const char *name)
{
	memset(o, 0, sizeof(*o));
	o->prog = name;
	prog = name;
	o->lib_level = RVMIG_LOG_WARN;
}

/* A number in [min, max]; else says which values are allowed. */
static int parse_u32(const char *opt, const char *arg, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (tool_parse_u64(arg, &v) || v < min || v > max) {
		if (max == UINT32_MAX)
			tool_err("bad value '%s' for %s (at least %u)", arg, opt, min);
		else
			tool_err("bad value '%s' for %s (%u to %u)", arg, opt, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 1;
}

void tool_print_version(const struct tool_opts *o)
{
	printf("%s %d.%d.%d (librvmig %s)\n", o->prog, RVMIG_VERSION_MAJOR, RVMIG_VERSION_MINOR,
	       RVMIG_VERSION_PATCH, rvmig_version(NULL, NULL, NULL));
}

/* A common option: 1 taken, 0 not one, -1 bad value (said). */
static int common_opt(struct tool_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'v':
		o->verbosity = o->verbosity < 0 ? 1 : o->verbosity + 1;
		verbosity = o->verbosity;
		return 1;
	case 'q':
		o->verbosity = -1;
		verbosity = -1;
		return 1;
	case OPT_MODE:
		if (!strcmp(arg, "push"))
			o->mode = RVMIG_MODE_PUSH;
		else if (!strcmp(arg, "pull"))
			o->mode = RVMIG_MODE_PULL;
		else {
			tool_err("--mode must be push or pull, not '%s'", arg);
			return -1;
		}
		return 1;
	/* The library's limits (rvmig_ep_attr), checked here so that a value
	 * out of them is a usage error (exit 2) before anything starts. */
	case OPT_LINKS:
		return parse_u32("--links", arg, 1, TOOL_LINKS_MAX, &o->links);
	case OPT_TIMEOUT:
		return parse_u32("--timeout", arg, 1, UINT32_MAX, &o->timeout_ms);
	case OPT_WINDOW:
		if (tool_parse_u64(arg, &o->window) || !o->window) {
			tool_err("bad value '%s' for --window", arg);
			return -1;
		}
		return 1;
	case OPT_SLOTS:
		return parse_u32("--slots", arg, 1, TOOL_SLOTS_MAX, &o->slots);
	case OPT_SLOT_SIZE: {
		uint64_t v;

		if (tool_parse_u64(arg, &v) || v < 4096 || v > TOOL_SLOT_SIZE_MAX || v % 4096) {
			tool_err("bad value '%s' for --slot-size (a multiple of 4K from 4K to %uM)",
				 arg, TOOL_SLOT_SIZE_MAX >> 20);
			return -1;
		}
		o->slot_size = (uint32_t)v;
		return 1;
	}
	case OPT_AUTH_TIMEOUT:
		return parse_u32("--auth-timeout", arg, 1, UINT32_MAX, &o->auth_timeout_ms);
	case OPT_STATS_JSON:
		o->stats_json = arg;
		return 1;
	case OPT_RAW:
		o->raw = true;
		return 1;
	}
	return 0;
}

int tool_opt(struct tool_opts *o, int c, const char *arg, void (*usage)(FILE *f))
{
	int rc;

	if (c == 'h') {
		usage(stdout);
		return 0;
	}
	if (c == OPT_VERSION) {
		tool_print_version(o);
		return 0;
	}
	rc = common_opt(o, c, arg);
	return rc < 0 ? 2 : rc ? TOOL_OPT_TAKEN : TOOL_OPT_MINE;
}

void tool_opts_done(struct tool_opts *o)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	const char *env = getenv("RVMIG_LOG");

	if (o->verbosity < 0)
		o->lib_level = RVMIG_LOG_ERROR;
	else if (o->verbosity >= 2)
		o->lib_level = RVMIG_LOG_DEBUG;
	else if (o->verbosity == 1)
		o->lib_level = RVMIG_LOG_INFO;
	if (env && *env) {
		for (unsigned i = 0; i < 4; i++)
			if (!strcasecmp(env, names[i]))
				o->lib_level = (enum rvmig_log_level)i;
	}
}

static void vmsg(const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s: %s\n", prog, line);
}

void tool_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

int tool_num_opt(const char *opt, const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || !(*v >= lo && *v <= hi)) {
		tool_err("%s %.40s: not a number in %g..%g", opt, s, lo, hi);
		return -EINVAL;
	}
	return 0;
}

void tool_info(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void tool_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

int tool_check_uri(const char *what, const char *uri)
{
	const char *sep = strstr(uri, "://"), *host, *hend, *port, *const *t;
	char scheme[16];
	size_t n;

	if (!sep || sep == uri || (size_t)(sep - uri) >= sizeof(scheme))
		goto bad;
	memcpy(scheme, uri, (size_t)(sep - uri));
	scheme[sep - uri] = 0;
	host = sep + 3;
	if (*host == '[') {
		hend = strchr(host, ']');
		if (!hend || hend[1] != ':')
			goto bad;
		n = (size_t)(hend - host - 1);
		port = hend + 2;
	} else {
		hend = strrchr(host, ':');
		if (!hend || memchr(host, ':', (size_t)(hend - host)))
			goto bad;
		n = (size_t)(hend - host);
		port = hend + 1;
	}
	if (n >= 256 || !*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port) ||
	    atoi(port) > 65535)
		goto bad;
	for (t = rvmig_transports(); *t; t++)
		if (!strcmp(*t, scheme))
			return 0;
	{
		char have[64] = "";

		for (t = rvmig_transports(); *t; t++)
			snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%s",
				 t == rvmig_transports() ? "" : ", ", *t);
		tool_err("bad %s '%s': transport '%s' is not built into this librvmig (it has: %s)",
			 what, uri, scheme, have);
	}
	return -1;
bad:
	tool_err("bad %s '%s': expected tcp://HOST:PORT or verbs://HOST:PORT (HOST may be "
		 "[IPv6], PORT 0 to 65535)", what, uri);
	return -1;
}

const char *tool_ep_why(const rvmig_ep *ep, int err)
{
	const char *why = ep ? rvmig_ep_error(ep) : NULL;

	return why && *why ? why : rvmig_strerror(err);
}

int tool_ctx_create(const struct tool_opts *o, rvmig_ctx **ctx)
{
	struct rvmig_ctx_attr a = {
		.size = sizeof(a),
		.logger = { .fn = rvmig_log_stderr, .max_level = o->lib_level },
	};
	int rc = rvmig_ctx_create(&a, ctx);

	if (rc)
		tool_err("cannot create the librvmig context: %s", rvmig_strerror(rc));
	return rc;
}

void tool_ep_attr(const struct tool_opts *o, struct rvmig_ep_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->mode = o->mode;
	a->nlinks = o->links;
	a->timeout_ms = o->timeout_ms;
	a->window = o->window;
	a->nslots = o->slots;
	a->slot_size = o->slot_size;
	/* Slots over the registration granularity's default (4 MiB) raise it:
	 * the library wants reg_chunk >= slot_size. */
	if (o->slot_size > TOOL_REG_CHUNK_DEFAULT)
		a->reg_chunk = o->slot_size;
	a->auth_timeout_ms = o->auth_timeout_ms;
}

const char *tool_mode_name(enum rvmig_mode m)
{
	return m == RVMIG_MODE_PULL ? "pull" : m == RVMIG_MODE_PUSH ? "push" : "?";
}

static double clock_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double tool_now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

double tool_wall(void)
{
	return clock_s(CLOCK_REALTIME);
}

int tool_announce(const char *ready_file, const char *uri, int port)
{
	char buf[32];
	int fd, n;

	tool_info("listening on port %d (%s)", port, uri);
	if (!ready_file)
		return 0;
	/* A FIFO (opened by the waiting test) or a regular file. */
	fd = open(ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		tool_err("cannot open the ready file %s: %s", ready_file, strerror(errno));
		return -errno;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", port);
	if (write(fd, buf, (size_t)n) != n) {
		tool_err("cannot write the ready file %s: %s", ready_file, strerror(errno));
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

int tool_key_attr(rvmig_ctx *ctx, const char *key_file, uint8_t *key, size_t *key_len,
		  struct rvmig_ep_attr *attr)
{
	int rc = rvmig_key_load(ctx, key_file, key, key_len);

	if (rc) {
		tool_err("cannot use the key file %s: %s", key_file, rvmig_strerror(rc));
		return rc;
	}
	attr->psk = key;
	attr->psk_len = (uint32_t)*key_len;
	return 0;
}

int tool_tunnel_attr(const struct tool_opts *o, rvmig_ctx *ctx, const char *key_file,
		     uint8_t *key, size_t *key_len, struct rvmig_ep_attr *attr)
{
	tool_ep_attr(o, attr);
	if (!o->timeout_ms)
		attr->timeout_ms = 60000;
	return tool_key_attr(ctx, key_file, key, key_len, attr);
}
