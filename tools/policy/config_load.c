/* SPDX-License-Identifier: MIT */
/* config_load.c - the policy file and the samples files it names, read
 * (config.h); the parsing is config.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/config.h"

int pol_read_file(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen)
{
	char esc[300];
	struct stat st;
	ssize_t n;
	int fd, rc;

	rvmig_text_escape(esc, sizeof(esc), path, strlen(path));
	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", esc, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", esc);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = -E2BIG;
		snprintf(err, errlen, "%s: larger than %zu bytes", esc, max);
		goto out;
	}
	if (!(*buf = malloc((size_t)st.st_size + 1))) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", esc);
		goto out;
	}
	*len = 0;
	/* a file that grows while read (a probe appending) is cut at its size */
	while (*len < (size_t)st.st_size &&
	       (n = read(fd, *buf + *len, (size_t)st.st_size - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", esc, strerror(errno));
			goto out;
		}
		*len += (size_t)n;
	}
	(*buf)[*len] = '\0';
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

static int load_samples(const char *path, rvmig_samples **set, char *err, size_t errlen)
{
	char *text, msg[512], esc[300];
	size_t len;
	int rc;

	/* RVMIG_SAMPLES_MAX_ROWS rows of a few hundred bytes */
	if ((rc = pol_read_file(path, 64u << 20, &text, &len, err, errlen)) < 0)
		return rc;
	rc = rvmig_samples_parse(text, len, set, msg, sizeof(msg));
	free(text);
	if (rc < 0) {
		rvmig_text_escape(esc, sizeof(esc), path, strlen(path));
		snprintf(err, errlen, "%s: %s", esc, msg);
	}
	return rc < 0 ? rc : 0;
}

static int fit_capacity(struct pol_domain_cfg *d, char *err, size_t errlen)
{
	struct rvmig_map_attr a = { .size = sizeof(a), .app = d->fit_app,
				    .scenario = d->fit_scenario, .sla = d->sla,
				    .max_share = d->fit_max_share };
	rvmig_samples *set;
	rvmig_map *map;
	char msg[512], esc[300];
	int rc;

	if ((rc = load_samples(d->fit_path, &set, err, errlen)) < 0)
		return rc;
	rc = rvmig_map_fit(set, &a, &map, msg, sizeof(msg));
	rvmig_samples_free(set);
	if (rc < 0) {
		rvmig_text_escape(esc, sizeof(esc), d->fit_path, strlen(d->fit_path));
		snprintf(err, errlen, "[domain %s] capacity fit %s: %s", d->name, esc, msg);
		return rc;
	}
	rvmig_map_coef(map, &d->c0, &d->c1);
	rvmig_map_free(map);
	return 0;
}

/* The link fitted to n measured runs (rvmig_link_calibrate()). */
static int fit_link(struct pol_migration_cfg *m, const unsigned *k, const double *bytes,
		    const double *ms, int n, char *err, size_t errlen)
{
	char esc[300];

	rvmig_text_escape(esc, sizeof(esc), m->calib_path, strlen(m->calib_path));
	if (n < 2) {
		snprintf(err, errlen, "%s: %d runs of transport %s with status ok; the calibration "
			 "needs 2 or more", esc, n, m->calib_transport);
		return -EINVAL;
	}
	m->calib_runs = (unsigned)n;
	n = rvmig_link_calibrate(k, bytes, ms, (size_t)n, &m->link, &m->calib_rel_err);
	if (n < 0)
		snprintf(err, errlen, "%s: calibration of %s: %s", esc, m->calib_transport,
			 rvmig_strerror(n));
	return n < 0 ? n : 0;
}

/* [migration] calibrate = PATH TRANSPORT: the link fitted to the runs. */
static int calibrate(struct pol_migration_cfg *m, char *err, size_t errlen)
{
	unsigned *k = calloc(POL_CALIB_MAX_RUNS, sizeof(*k));
	double *bytes = calloc(POL_CALIB_MAX_RUNS, sizeof(*bytes));
	double *ms = calloc(POL_CALIB_MAX_RUNS, sizeof(*ms));
	char *text = NULL;
	size_t len;
	int n = k && bytes && ms ? 0 : -ENOMEM;

	if (n < 0)
		snprintf(err, errlen, "out of memory");
	else if ((n = pol_read_file(m->calib_path, 1u << 20, &text, &len, err, errlen)) == 0)
		n = pol_calib_parse(text, len, m->calib_path, m->calib_transport, k, bytes, ms,
				    POL_CALIB_MAX_RUNS, err, errlen);
	free(text);
	if (n >= 0)
		n = fit_link(m, k, bytes, ms, n, err, errlen);
	free(k);
	free(bytes);
	free(ms);
	return n;
}

/* [migration] runs = PATH: the toolstack's cost of each kind fitted to the
 * runs of this transport recorded there (rvmig_xfer_fit()).  A file not
 * there yet is no runs: --apply creates it. */
static int fit_toolstack(struct pol_migration_cfg *m, char *err, size_t errlen)
{
	const char *path = m->exec.runs;
	const char *tp = m->exec.transport ? m->exec.transport : "tcp";
	struct rvmig_xfer_run *runs = calloc(POL_RUNS_MAX, sizeof(*runs));
	char *text = NULL, esc[300];
	size_t len;
	int n = runs ? 0 : -ENOMEM;

	rvmig_text_escape(esc, sizeof(esc), path, strlen(path));
	if (n < 0)
		snprintf(err, errlen, "out of memory");
	else if (access(path, F_OK) < 0 && errno == ENOENT)
		n = 0;
	else if ((n = pol_read_file(path, 16u << 20, &text, &len, err, errlen)) == 0)
		n = pol_runs_parse(text, len, path, tp, runs, POL_RUNS_MAX, err, errlen);
	free(text);
	for (int k = RVMIG_XFER_MIGRATE; n >= 0 && k <= RVMIG_XFER_RESTORE; k++) {
		int rc;

		m->toolstack[k].size = sizeof(m->toolstack[k]);
		rc = rvmig_xfer_fit(&m->link, (enum rvmig_transfer_kind)k, runs, (size_t)n,
				    &m->toolstack[k]);
		if (rc < 0) {
			snprintf(err, errlen, "%s: the %s runs: %s", esc,
				 pol_run_kind_name((enum rvmig_transfer_kind)k), rvmig_strerror(rc));
			n = rc;
		}
	}
	free(runs);
	return n < 0 ? n : 0;
}

int pol_config_load(const char *path, struct pol_config *out, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = pol_read_file(path, POL_CONFIG_MAX_BYTES, &text, &len, err, errlen)) < 0)
		return rc;
	rc = pol_config_parse(text, len, path, out, err, errlen);
	free(text);
	if (!rc && out->mig.calib_path)
		rc = calibrate(&out->mig, err, errlen);
	if (!rc && out->mig.exec.runs && out->mig.link.bandwidth > 0)
		rc = fit_toolstack(&out->mig, err, errlen);
	for (size_t i = 0; i < out->ndoms && !rc; i++) {
		struct pol_domain_cfg *d = &out->doms[i];

		if (d->cap_fit && d->sla.kind == RVMIG_SLA_RESPONSE)
			rc = fit_capacity(d, err, errlen);
		if (!rc && d->obs == POL_OBS_SAMPLES)
			rc = load_samples(d->obs_path, &d->obs_set, err, errlen);
	}
	if (rc)
		pol_config_free(out);
	return rc;
}
