/* SPDX-License-Identifier: MIT */
/*
 * harness.c - options, size sweeps, clocks, CPU accounting, percentiles and
 * the top-level dispatch (server, client, --loopback) shared by the rvmig
 * benchmarks.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/size.h"
#include "harness.h"

/* ---- sizes ---- */

int bench_parse_sizes(const char *s, uint64_t *out, unsigned max, unsigned *n)
{
	char buf[128], *lo, *hi, *fac;
	uint64_t a, b, f = 2;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	lo = buf;
	hi = strchr(lo, ':');
	if (hi)
		*hi++ = '\0';
	fac = hi ? strchr(hi, ':') : NULL;
	if (fac)
		*fac++ = '\0';
	if (tool_parse_u64(lo, &a) || !a)
		return -EINVAL;
	if (!hi) {
		out[0] = a;
		*n = 1;
		return 0;
	}
	if (tool_parse_u64(hi, &b) || b < a)
		return -EINVAL;
	if (fac && (tool_parse_u64(fac, &f) || f < 2))
		return -EINVAL;
	*n = 0;
	for (uint64_t v = a; v <= b; v *= f) {
		if (*n == max)
			return -EINVAL;
		out[(*n)++] = v;
		if (v > UINT64_MAX / f)
			break;
	}
	return 0;
}

/* ---- options ---- */

void bench_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options] --listen URI          (server: the receiver)\n"
		"       %s [options] --connect URI         (client: the source)\n"
		"       %s [options] --loopback            (both, forked on this host)\n"
		"\n"
		"  -t, --transport tcp|verbs  transport (default tcp); sets the URI scheme of\n"
		"                             --loopback and checks --listen/--connect URIs\n"
		"  -m, --mode push|pull       push: client RDMA-WRITEs; pull: server READs (push)\n"
		"  -s, --size SIZE|MIN:MAX[:FACTOR]\n"
		"                             request size or sweep, K/M/G suffixes (1M;\n"
		"                             4K:4M doubles from 4 KiB to 4 MiB)\n"
		"  -q, --qps N                links (QPs / TCP connections) = ep attr nlinks (4)\n"
		"  -w, --window BYTES         bytes in flight per endpoint (library: 8M)\n"
		"  -n, --iters N              timed requests per size (1000)\n"
		"  -T, --total BYTES          instead of --iters: bytes per size\n"
		"      --warmup N             untimed requests before each size (8)\n"
		"  -d, --depth N              most requests outstanding at the client (auto:\n"
		"                             2 x window / size, 4 .. max_posted)\n"
		"      --buf BYTES            client source buffer (auto: max(size, 16M))\n"
		"      --slot-size BYTES      server: receiver slot size (library: 1M)\n"
		"      --slots N              server: receiver slots (library: 16)\n"
		"      --max-posted N         client: request window (library: 4096)\n"
		"      --pin-all              register whole buffers up front (RVMIG_EP_PIN_ALL)\n"
		"      --busy-poll            rvmig_progress(ep, 0) instead of waiting\n"
		"      --wait-ms MS           rvmig_progress() timeout while waiting (1000)\n"
		"      --timeout-ms MS        peer silence that counts as failure (10000)\n"
		"  -l, --listen URI           server: e.g. verbs://10.77.0.1:7471 (port 0: any)\n"
		"  -c, --connect URI          client: e.g. tcp://10.0.0.2:7471\n"
		"      --loopback [HOST]      fork a server and a client here (HOST: 127.0.0.1,\n"
		"                             or $RVMIG_RXE_ADDR for verbs)\n"
		"      --ready-file PATH      server: write the bound port to PATH when listening\n"
		"      --accept-timeout MS    server: give up when no client came (-1: never)\n"
		"  -j, --json                 JSON report instead of the table\n"
		"  -v, --verbose              library log level info (twice: debug);\n"
		"                             or RVMIG_LOG=error|warn|info|debug\n"
		"  -h, --help\n"
		"      --version              this program's and the library's version\n",
		prog, prog, prog);
}

static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (tool_parse_u64(s, &v) || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int env_log_level(void)
{
	const char *e = getenv("RVMIG_LOG");

	if (!e || !*e)
		return RVMIG_LOG_WARN;
	if (!strcmp(e, "error"))
		return RVMIG_LOG_ERROR;
	if (!strcmp(e, "info"))
		return RVMIG_LOG_INFO;
	if (!strcmp(e, "debug"))
		return RVMIG_LOG_DEBUG;
	return RVMIG_LOG_WARN;
}

static const char *loopback_host;

enum {
	OPT_WARMUP = 256, OPT_BUF, OPT_SLOT_SIZE, OPT_SLOTS, OPT_MAX_POSTED, OPT_PIN_ALL,
	OPT_BUSY_POLL, OPT_WAIT_MS, OPT_TIMEOUT_MS, OPT_LOOPBACK, OPT_READY_FILE, OPT_ACCEPT_TIMEOUT,
	OPT_VERSION,
};

int bench_parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option lo[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "qps", required_argument, NULL, 'q' },
		{ "window", required_argument, NULL, 'w' },
		{ "iters", required_argument, NULL, 'n' },
		{ "total", required_argument, NULL, 'T' },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "depth", required_argument, NULL, 'd' },
		{ "buf", required_argument, NULL, OPT_BUF },
		{ "slot-size", required_argument, NULL, OPT_SLOT_SIZE },
		{ "slots", required_argument, NULL, OPT_SLOTS },
		{ "max-posted", required_argument, NULL, OPT_MAX_POSTED },
		{ "pin-all", no_argument, NULL, OPT_PIN_ALL },
		{ "busy-poll", no_argument, NULL, OPT_BUSY_POLL },
		{ "wait-ms", required_argument, NULL, OPT_WAIT_MS },
		{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
		{ "listen", required_argument, NULL, 'l' },
		{ "connect", required_argument, NULL, 'c' },
		{ "loopback", optional_argument, NULL, OPT_LOOPBACK },
		{ "ready-file", required_argument, NULL, OPT_READY_FILE },
		{ "accept-timeout", required_argument, NULL, OPT_ACCEPT_TIMEOUT },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	const char *prog = argv[0];
	const char *bad = NULL;
	int c, verbose = 0;
	bool transport_given = false;

	*o = (struct bench_opts){
		.transport = "tcp", .mode = RVMIG_MODE_PUSH, .sizes = { 1u << 20 }, .nsizes = 1,
		.iters = 1000, .warmup = 8, .wait_ms = 1000, .accept_timeout_ms = 60000, .log_level = env_log_level(),
	};
	while ((c = getopt_long(argc, argv, "t:m:s:q:w:n:T:d:l:c:jvh", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			o->transport = optarg;
			transport_given = true;
			if (strcmp(optarg, "tcp") && strcmp(optarg, "verbs"))
				bad = "--transport must be tcp or verbs";
			break;
		case 'm':
			if (!strcmp(optarg, "push"))
				o->mode = RVMIG_MODE_PUSH;
			else if (!strcmp(optarg, "pull"))
				o->mode = RVMIG_MODE_PULL;
			else
				bad = "--mode must be push or pull";
			break;
		case 's':
			if (bench_parse_sizes(optarg, o->sizes, BENCH_MAX_SIZES, &o->nsizes))
				bad = "bad --size (SIZE or MIN:MAX[:FACTOR], at most 64 sizes)";
			break;
		case 'q':
			if (parse_u32(optarg, &o->qps) || !o->qps)
				bad = "bad --qps";
			break;
		case 'w':
			if (tool_parse_u64(optarg, &o->window) || !o->window)
				bad = "bad --window";
			break;
		case 'n':
			if (tool_parse_u64(optarg, &o->iters) || !o->iters)
				bad = "bad --iters";
			break;
		case 'T':
			if (tool_parse_u64(optarg, &o->total) || !o->total)
				bad = "bad --total";
			break;
		case OPT_WARMUP:
			if (tool_parse_u64(optarg, &o->warmup))
				bad = "bad --warmup";
			break;
		case 'd':
			if (parse_u32(optarg, &o->depth) || !o->depth)
				bad = "bad --depth";
			break;
		case OPT_BUF:
			if (tool_parse_u64(optarg, &o->buf_size) || !o->buf_size)
				bad = "bad --buf";
			break;
		case OPT_SLOT_SIZE:
			if (parse_u32(optarg, &o->slot_size) || !o->slot_size)
				bad = "bad --slot-size";
			break;
		case OPT_SLOTS:
			if (parse_u32(optarg, &o->nslots) || !o->nslots)
				bad = "bad --slots";
			break;
		case OPT_MAX_POSTED:
			if (parse_u32(optarg, &o->max_posted) || !o->max_posted)
				bad = "bad --max-posted";
			break;
		case OPT_PIN_ALL:
			o->pin_all = true;
			break;
		case OPT_BUSY_POLL:
			o->busy_poll = true;
			break;
		case OPT_WAIT_MS: {
			uint32_t ms;

			if (parse_u32(optarg, &ms) || ms < 1 || ms > 60000)
				bad = "bad --wait-ms (1 .. 60000)";
			else
				o->wait_ms = (int)ms;
			break;
		}
		case OPT_TIMEOUT_MS:
			if (parse_u32(optarg, &o->timeout_ms) || !o->timeout_ms)
				bad = "bad --timeout-ms";
			break;
		case 'l':
			o->listen_uri = optarg;
			break;
		case 'c':
			o->connect_uri = optarg;
			break;
		case OPT_LOOPBACK:
			o->loopback = true;
			if (optarg)
				loopback_host = optarg;
			else if (optind < argc && argv[optind][0] != '-')
				loopback_host = argv[optind++];
			break;
		case OPT_READY_FILE:
			o->ready_file = optarg;
			break;
		case OPT_ACCEPT_TIMEOUT:
			o->accept_timeout_ms = atoi(optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			bench_usage(stdout, prog);
			return 1;
		case OPT_VERSION:
			/* Like the tools' --version: built-with, then loaded library. */
			printf("rvmig-bench %d.%d.%d (librvmig %s)\n", RVMIG_VERSION_MAJOR,
			       RVMIG_VERSION_MINOR, RVMIG_VERSION_PATCH, rvmig_version(NULL, NULL, NULL));
			return 1;
		default:
			bench_usage(stderr, prog);
			return -EINVAL;
		}
		if (bad)
			break;
	}
	if (!bad && optind < argc)
		bad = "unexpected argument";
	if (!bad && (!!o->listen_uri + !!o->connect_uri + o->loopback) != 1)
		bad = "give exactly one of --listen URI, --connect URI, --loopback";
	if (!bad) {
		/* Without --transport, the URI's scheme names it. */
		const char *u = o->listen_uri ? o->listen_uri : o->connect_uri;
		size_t tl = strlen(o->transport);

		if (u && !transport_given && !strncmp(u, "verbs://", 8))
			o->transport = "verbs";
		else if (u && !transport_given && !strncmp(u, "tcp://", 6))
			o->transport = "tcp";
		else if (u && (strncmp(u, o->transport, tl) || strncmp(u + tl, "://", 3)))
			bad = "the URI's scheme differs from --transport (or is not tcp:// or verbs://)";
	}
	if (bad) {
		fprintf(stderr, "%s: %s\n", prog, bad);
		fprintf(stderr, "try %s --help\n", prog);
		return -EINVAL;
	}
	if (verbose)
		o->log_level = verbose > 1 ? RVMIG_LOG_DEBUG : RVMIG_LOG_INFO;
	return 0;
}

/* ---- clocks and CPU ---- */

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

/* The aggregate "cpu" line of /proc/stat, in USER_HZ ticks:
 * user nice system idle iowait irq softirq steal [guest guest_nice]
 * (guest time is already counted in user). */
static void host_cpu(struct bench_cpu_mark *m)
{
	unsigned long long t[8] = { 0 };
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");
	uint64_t ns_per_tick;

	m->host_busy_ns = m->host_kernel_ns = m->host_total_ns = 0;
	if (!f)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &t[0], &t[1], &t[2], &t[3],
		   &t[4], &t[5], &t[6], &t[7]) < 7) {
		fclose(f);
		return;
	}
	fclose(f);
	ns_per_tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	m->host_busy_ns = (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) * ns_per_tick;
	m->host_kernel_ns = (t[2] + t[5] + t[6]) * ns_per_tick;
	m->host_total_ns = (t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7]) * ns_per_tick;
}

void bench_cpu_mark(struct bench_cpu_mark *m)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	m->user_ns = tv_ns(&ru.ru_utime);
	m->sys_ns = tv_ns(&ru.ru_stime);
	host_cpu(m);
	m->wall_ns = bench_now_ns();
}

static uint64_t sub(uint64_t b, uint64_t a)
{
	return b > a ? b - a : 0;
}

void bench_cpu_delta(const struct bench_cpu_mark *a, const struct bench_cpu_mark *b,
		     struct bench_cpu *d)
{
	d->wall_ns = sub(b->wall_ns, a->wall_ns);
	d->user_ns = sub(b->user_ns, a->user_ns);
	d->sys_ns = sub(b->sys_ns, a->sys_ns);
	d->host_busy_ns = sub(b->host_busy_ns, a->host_busy_ns);
	d->host_kernel_ns = sub(b->host_kernel_ns, a->host_kernel_ns);
	d->host_total_ns = sub(b->host_total_ns, a->host_total_ns);
}

/* ---- statistics ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t bench_percentile(uint64_t *v, uint64_t n, double p)
{
	uint64_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	/* nearest rank: the smallest value with at least p% of values <= it */
	rank = (uint64_t)((p / 100.0) * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

int bench_libstats_take(rvmig_ep *ep, struct bench_libstats *s)
{
	rvmig_stats *st;
	int rc = rvmig_stats_snapshot(ep, &st);

	if (rc)
		return rc;
	for (int i = 0; i < RVMIG_STAT__COUNT; i++)
		s->v[i] = rvmig_stats_get(st, (enum rvmig_stat)i);
	rvmig_stats_free(st);
	return 0;
}

void bench_libstats_delta(const struct bench_libstats *a, const struct bench_libstats *b,
			  struct bench_libstats *d)
{
	for (int i = 0; i < RVMIG_STAT__COUNT; i++)
		d->v[i] = sub(b->v[i], a->v[i]);
}

/* ---- dispatch ---- */

static void make_uri(char *buf, size_t n, const char *transport, const char *host, int port)
{
	snprintf(buf, n, strchr(host, ':') ? "%s://[%s]:%d" : "%s://%s:%d", transport, host, port);
}

static int run_client(const struct bench_opts *o, const char *uri)
{
	struct bench_result *res = calloc(o->nsizes, sizeof(*res));
	unsigned n = 0;
	int rc;

	if (!res)
		return 1;
	rc = bench_client(o, uri, res, &n);
	if (o->json) {
		bench_print_json(stdout, o, uri, res, n);
	} else {
		bench_print_footer(stdout, res, n);
	}
	fflush(stdout);
	free(res);
	return rc ? 1 : 0;
}

static int loopback(const struct bench_opts *o)
{
	const char *host = loopback_host;
	char uri[256];
	int pfd[2], port = -1, st = 0, crc;
	pid_t pid;

	if (!host && !strcmp(o->transport, "verbs")) {
		host = getenv("RVMIG_RXE_ADDR");
		if (!host || !*host) {
			fprintf(stderr, "rvmig-bench: --loopback with verbs needs a host: "
					"--loopback ADDR or RVMIG_RXE_ADDR (an address with an RDMA "
					"device, e.g. inside tests/harness/rxe-vm)\n");
			return 2;
		}
	}
	if (!host)
		host = "127.0.0.1";
	if (pipe(pfd))
		return 1;
	make_uri(uri, sizeof(uri), o->transport, host, 0);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("rvmig-bench: fork");
		return 1;
	}
	if (!pid) {
		close(pfd[0]);
		_exit(bench_server(o, uri, pfd[1], true) ? 1 : 0);
	}
	close(pfd[1]);
	if (read(pfd[0], &port, sizeof(port)) != (ssize_t)sizeof(port)) {
		close(pfd[0]);
		waitpid(pid, &st, 0);
		fprintf(stderr, "rvmig-bench: the loopback server failed to listen on %s "
				"(exit status %d)\n", uri, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return 1;
	}
	close(pfd[0]);
	make_uri(uri, sizeof(uri), o->transport, host, port);
	crc = run_client(o, uri);
	if (crc) {
		/* The server may still wait for a handshake that will not come:
		 * give it a moment to report its side of the failure, then stop it. */
		uint64_t end = bench_now_ns() + 3000000000ull;

		while (waitpid(pid, &st, WNOHANG) == 0 && bench_now_ns() < end)
			usleep(20000);
		if (waitpid(pid, &st, WNOHANG) == 0) {
			kill(pid, SIGTERM);
			waitpid(pid, &st, 0);
		}
	} else {
		waitpid(pid, &st, 0);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "rvmig-bench: the loopback server failed (%s %d)\n",
			WIFEXITED(st) ? "exit status" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return crc ? crc : 1;
	}
	return crc;
}

int bench_main(const struct bench_opts *o)
{
	signal(SIGPIPE, SIG_IGN);
	if (o->loopback)
		return loopback(o);
	if (o->listen_uri)
		return bench_server(o, o->listen_uri, -1, false) ? 1 : 0;
	return run_client(o, o->connect_uri);
}
