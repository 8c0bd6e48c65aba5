/* SPDX-License-Identifier: MIT */
/* runs.c - rvmig-policy's runs file appended to (config.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "policy/config.h"

/* A name for one CSV field: [A-Za-z0-9._-], anything else '_'. */
static void field(char *dst, size_t cap, const char *s)
{
	size_t i = 0;

	for (; s && s[i] && i + 1 < cap; i++) {
		char c = s[i];

		dst[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				 c == '.' || c == '_' || c == '-' ? c : '_';
	}
	dst[i] = '\0';
	if (!i)
		snprintf(dst, cap, "-");
}

int pol_runs_append(const char *path, const struct pol_run_rec *r, char *err, size_t errlen)
{
	char line[1024], dom[128], tp[32], esc[300];
	struct stat st;
	int fd, n, off = 0;

	rvmig_text_escape(esc, sizeof(esc), path, strlen(path));
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "runs file %s: %s", esc, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "runs file %s: not a regular file", esc);
		return -EINVAL;
	}
	field(dom, sizeof(dom), r->domain);
	field(tp, sizeof(tp), r->transport);
	if (st.st_size == 0)
		off = snprintf(line, sizeof(line), "%s\n", POL_RUNS_HEADER);
	n = snprintf(line + off, sizeof(line) - (size_t)off,
		     "%.3f,%s,%s,%s,%.0f,%.0f,%.3f,%.3f,%.3f,%.3f,%s\n", r->t,
		     pol_run_kind_name(r->kind), tp, dom, r->mem_bytes, r->dirty_rate, r->predicted_s,
		     r->measured_s, r->predicted_downtime_s, r->downtime_s, r->ok ? "ok" : "failed");
	n += off;
	errno = EIO; /* a short write sets none */
	if (write(fd, line, (size_t)n) != n) {
		int e = errno;

		close(fd);
		snprintf(err, errlen, "runs file %s: %s", esc, strerror(e));
		return -e;
	}
	if (close(fd) < 0) {
		snprintf(err, errlen, "runs file %s: %s", esc, strerror(errno));
		return -EIO;
	}
	return 0;
}
