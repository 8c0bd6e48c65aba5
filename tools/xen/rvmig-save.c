/* rvmig-save — save a running Xen domain straight into an rvmig transfer.
 *
 *   rvmig-save [--send PATH] [-v] DOM URI [rvmig-send options...]
 *
 * Does what `xl save DOM FILE` does — the xl header with the domain's JSON
 * configuration, then libxl_domain_suspend() — but into a pipe whose read end
 * is the stdin of `rvmig-send [options] - URI` (the rvmig-send next to this
 * binary unless --send says otherwise).  The result at the receiver
 * (rvmig-recv -o FILE) is an ordinary xl save file for `xl restore`.
 *
 * The domain is destroyed only when the save completed AND rvmig-send exited
 * 0, i.e. the receiver confirmed every byte.  If the save fails, or rvmig-send
 * fails after the domain was suspended, the domain is resumed instead (as xl
 * does for a failed save) and rvmig-save exits 1.  "The receiver" is whoever
 * answers at URI: only rvmig-send --key-file proves who that is.
 *
 * Exit status: 0 saved, sent, verified and the domain destroyed; 1 failure
 * (including "no Xen hypervisor here"); 2 usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include <rvmig.h>

#include "xlheader.h"

static int verbose;

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("rvmig-save: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fputs("Usage: rvmig-save [--send PATH] [-v] DOM URI [rvmig-send options...]\n"
	      "Saves the running Xen domain DOM (name or id) like `xl save`, but\n"
	      "streams the save image through `rvmig-send - URI` to rvmig-recv\n"
	      "listening at URI instead of writing a file.  What the receiver writes\n"
	      "is an xl save file for `xl restore`.  The domain is destroyed only\n"
	      "when rvmig-send reports the transfer complete and verified; if the\n"
	      "save or the transfer fails the domain is resumed.\n"
	      "\n"
	      "  --send PATH   the rvmig-send to run (default: next to rvmig-save)\n"
	      "  -v, --verbose libxl progress messages; also passed to rvmig-send\n"
	      "  -h, --help    this text\n"
	      "  --version     rvmig-save's and librvmig's version\n"
	      "Arguments after URI are passed to rvmig-send (see rvmig-send --help).\n"
	      "Give it --key-file (the receiver the same key): without one, whoever\n"
	      "answers at URI can confirm the transfer and so make rvmig-save destroy\n"
	      "the domain (rvmig-save(8), SAFETY).\n"
	      "Must run as root in a Xen dom0 (fails with \"no Xen hypervisor here\"\n"
	      "elsewhere).\n",
	      f);
}

/* Is this a Xen domain with a privcmd interface?  Names the first reason it
 * is not in *why. */
static int xen_present(const char **why)
{
	if (access("/proc/xen", F_OK) != 0 && access("/dev/xen/privcmd", F_OK) != 0) {
		*why = "/proc/xen and /dev/xen/privcmd do not exist";
		return 0;
	}
	if (access("/dev/xen/privcmd", R_OK | W_OK) != 0 &&
	    access("/proc/xen/privcmd", R_OK | W_OK) != 0) {
		*why = "no usable privcmd device (/dev/xen/privcmd, /proc/xen/privcmd; xenfs not mounted or not root)";
		return 0;
	}
	return 1;
}

/* The rvmig-send next to this executable. */
static int default_send_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -errno;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/rvmig-send", self) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static pid_t spawn_send(const char *send, int rfd, int argc, char **argv,
			const char *uri)
{
	/* send --publish-as rvmig-save [-v] [opts...] - URI NULL: the monitor
	 * shows the transfer as rvmig-save's */
	char **av = calloc((size_t)argc + 7, sizeof(*av));
	if (!av)
		return -1;
	int n = 0;
	av[n++] = (char *)send;
	av[n++] = (char *)"--publish-as";
	av[n++] = (char *)"rvmig-save";
	if (verbose)
		av[n++] = (char *)"-v";
	for (int i = 0; i < argc; i++)
		av[n++] = argv[i];
	av[n++] = (char *)"-";
	av[n++] = (char *)uri;
	av[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(rfd, STDIN_FILENO) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execv(send, av);
		fprintf(stderr, "rvmig-save: cannot run %s: %s\n", send, strerror(errno));
		_exit(127);
	}
	free(av);
	return pid;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int child_status(pid_t pid, const char *what)
{
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			msg("waitpid %s: %s", what, strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	msg("%s killed by signal %d", what, WTERMSIG(st));
	return 128 + WTERMSIG(st);
}

static const libxl_childproc_hooks chld_hooks = {
	/* libxl reaps only its own children (libxl-save-helper); rvmig-send
	 * is ours and reaped with waitpid. */
	.chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

int main(int argc, char **argv)
{
	const char *send_opt = NULL;
	static const struct option opts[] = {
		{ "send", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	/* '+': stop at the first non-option (DOM); the rest is DOM URI and
	 * rvmig-send's options. */
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'S': send_opt = optarg; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			/* As the other tools: built-with version, then the loaded library's. */
			printf("rvmig-save %d.%d.%d (librvmig %s)\n", RVMIG_VERSION_MAJOR,
			       RVMIG_VERSION_MINOR, RVMIG_VERSION_PATCH, rvmig_version(NULL, NULL, NULL));
			return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	const char *dom = argv[optind];
	const char *uri = argv[optind + 1];
	int send_argc = argc - optind - 2;
	char **send_argv = argv + optind + 2;

	char send_buf[PATH_MAX];
	const char *send = send_opt;
	if (!send) {
		int rc = default_send_path(send_buf, sizeof(send_buf));
		if (rc < 0) {
			msg("cannot locate rvmig-send next to this program: %s (use --send PATH)", strerror(-rc));
			return 1;
		}
		send = send_buf;
	}
	if (access(send, X_OK) != 0) {
		msg("cannot run %s: %s (use --send PATH)", send, strerror(errno));
		return 1;
	}

	const char *why = NULL;
	if (!xen_present(&why)) {
		msg("no Xen hypervisor here: %s", why);
		return 1;
	}

	xentoollog_logger_stdiostream *lg = xtl_createlogger_stdiostream(
		stderr, verbose ? XTL_PROGRESS : XTL_WARN, 0);
	if (!lg) {
		msg("cannot create the libxl logger");
		return 1;
	}
	libxl_ctx *ctx = NULL;
	if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)lg) != 0 || !ctx) {
		msg("no Xen hypervisor here: libxl_ctx_alloc failed (not a dom0, or xenstored not running)");
		xtl_logger_destroy((xentoollog_logger *)lg);
		return 1;
	}
	libxl_childproc_setmode(ctx, &chld_hooks, NULL);

	int ret = 1;
	char *json = NULL;
	uint8_t *hdr = NULL;
	size_t hdr_len = 0;
	pid_t pid = -1;
	int pfd[2] = { -1, -1 };
	libxl_domain_config dcfg;
	libxl_domain_config_init(&dcfg);

	uint32_t domid;
	if (libxl_name_to_domid(ctx, dom, &domid) != 0) {
		char *end;
		unsigned long v = strtoul(dom, &end, 10);
		libxl_dominfo info;
		libxl_dominfo_init(&info);
		int found = *dom && !*end && v < UINT32_MAX &&
			    libxl_domain_info(ctx, &info, (uint32_t)v) == 0;
		libxl_dominfo_dispose(&info);
		if (!found) {
			msg("no domain '%s'", dom);
			goto out;
		}
		domid = (uint32_t)v;
	}
	if (domid == 0) {
		msg("refusing to save dom0");
		goto out;
	}

	if (libxl_retrieve_domain_configuration(ctx, domid, &dcfg, NULL) != 0) {
		msg("cannot retrieve the configuration of domain %u", domid);
		goto out;
	}
	json = libxl_domain_config_to_json(ctx, &dcfg);
	if (!json) {
		msg("cannot convert the configuration of domain %u to JSON", domid);
		goto out;
	}
	size_t jlen = strlen(json) + 1;
	int rc = rvmig_xl_header_build(json, jlen > UINT32_MAX ? UINT32_MAX : (uint32_t)jlen,
				       &hdr, &hdr_len);
	if (rc < 0) {
		msg("cannot build the xl header (%zu bytes of config): %s", jlen, strerror(-rc));
		goto out;
	}

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		msg("pipe: %s", strerror(errno));
		goto out;
	}
	/* A dead rvmig-send must make the save fail with EPIPE, not kill us
	 * while the domain is suspended. */
	signal(SIGPIPE, SIG_IGN);
	pid = spawn_send(send, pfd[0], send_argc, send_argv, uri);
	if (pid < 0) {
		msg("fork: %s", strerror(errno));
		goto out;
	}
	close(pfd[0]);
	pfd[0] = -1;

	double t0 = now_s();
	rc = write_all(pfd[1], hdr, hdr_len);
	if (rc < 0) {
		msg("writing the xl header to rvmig-send: %s", strerror(-rc));
		close(pfd[1]);
		pfd[1] = -1;
		child_status(pid, "rvmig-send");
		pid = -1;
		goto out;
	}
	int src = libxl_domain_suspend(ctx, domid, pfd[1], 0, NULL);
	double t_saved = now_s();
	close(pfd[1]);
	pfd[1] = -1;
	int send_rc = child_status(pid, "rvmig-send");
	pid = -1;
	double t_sent = now_s();

	if (src < 0) {
		msg("saving domain %u failed (libxl error %d), resuming it", domid, src);
		libxl_domain_resume(ctx, domid, 1, NULL);
		goto out;
	}
	if (send_rc != 0) {
		msg("rvmig-send exited %d: the receiver does not have a verified copy; resuming domain %u",
		    send_rc, domid);
		if (libxl_domain_resume(ctx, domid, 1, NULL) != 0)
			msg("resuming domain %u failed; it stays suspended", domid);
		goto out;
	}
	if (libxl_domain_destroy(ctx, domid, NULL) != 0) {
		msg("domain %u saved and sent, but destroying it failed", domid);
		goto out;
	}
	fprintf(stderr,
		"rvmig-save: domain %s (%u) saved to %s: suspend+save %.2f s, "
		"transfer done %.2f s later, %zu bytes of xl header\n",
		dom, domid, uri, t_saved - t0, t_sent - t_saved, hdr_len);
	ret = 0;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (pid > 0)
		child_status(pid, "rvmig-send");
	free(hdr);
	free(json);
	libxl_domain_config_dispose(&dcfg);
	libxl_ctx_free(ctx);
	xtl_logger_destroy((xentoollog_logger *)lg);
	return ret;
}
