/* SPDX-License-Identifier: MIT */
/*
 * record.c - rvmig-top --record (record.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rvmig.h>

#include "common/cli.h"
#include "xstream/ownfile.h"
#include "top/record.h"

/* Text from outside (host and domain names) for one field. */
static void put_text(FILE *f, const char *s)
{
	char esc[1024];

	rvmig_text_escape(esc, sizeof(esc), s ? s : "", s ? strlen(s) : 0);
	fputs(esc, f);
}

/* A string the monitor already escaped (printable ASCII) as is; anything
 * else escaped, so no tab or newline ever reaches a field. */
static void put_field(FILE *f, const char *s)
{
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p < 0x20 || *p > 0x7e) {
			put_text(f, s);
			return;
		}
	}
	fputs(s ? s : "", f);
}

int top_record_write_header(FILE *f, const struct top_view *v, double delay_s)
{
	fprintf(f, "%s\t%d\thost=", TOP_RECORD_MAGIC, TOP_RECORD_VERSION);
	put_text(f, v->host ? v->host : "");
	fputs("\tbackend=", f);
	put_text(f, v->backend ? v->backend : "");
	fprintf(f, "\tcpus=%u\tmem_total=%" PRIu64 "\tdelay_s=%g\tstart=%.3f\trvmig=%s\n",
		v->ncpus, v->mem_total, delay_s, v->time_s, rvmig_version(NULL, NULL, NULL));
	fputs("#H\ttime\tinterval_s\tmem_free\tmem_avail\tncpus", f);
	for (unsigned i = 0; i < v->ncpus; i++)
		fprintf(f, "\tidle_pct_%u", i);
	fputs("\n#D\ttime\tinterval_s\tkind\tid\tname\tstate\tcpu_s\tcpu_pct\trun_pct\tblocked_pct"
	      "\twait_pct\texecs_per_s\tvcpus\tmem_bytes\n"
	      "#V\ttime\tinterval_s\tkind\tid\tvcpu\tcpu_s\trun_pct\tblocked_pct\twait_pct"
	      "\texecs_per_s\n"
	      "#T\ttime\tinterval_s\tpid\tid\tname\ttool\tpeer\ttransport\tmode\tstate"
	      "\tprocessed\ttotal\tremaining\tbytes_per_s\tpages\tzero_pages\tcpu_s\telapsed_s\n", f);
	return ferror(f) ? -EIO : 0;
}

int top_record_write_sample(FILE *f, const struct top_view *v)
{
	char fl[16];

	fprintf(f, "H\t%.3f\t%.3f\t%" PRIu64 "\t%" PRIu64 "\t%u", v->time_s, v->interval_s,
		v->mem_free, v->mem_avail, v->ncpus);
	for (unsigned i = 0; i < v->ncpus; i++)
		fprintf(f, "\t%.2f", v->cpu_idle ? 100 * v->cpu_idle[i] : 0.0);
	fputc('\n', f);
	for (unsigned i = 0; i < v->ndoms; i++) {
		const struct top_dom *d = &v->doms[i];

		fprintf(f, "D\t%.3f\t%.3f\t%s\t%" PRIu64 "\t", v->time_s, v->interval_s,
			top_kind_name(d->kind), d->id);
		put_text(f, d->name);
		fprintf(f, "\t%s\t%.6f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%u\t%" PRIu64 "\n",
			top_flags_str(d->flags, fl), d->cpu_s, d->cpu_pct, 100 * d->run_share,
			100 * d->blocked_share, 100 * d->wait_share, d->execs_per_s, d->nvcpus,
			d->mem_bytes);
		for (unsigned j = 0; d->vcpus && j < d->nvcpus; j++) {
			const struct top_vcpu *c = &d->vcpus[j];

			fprintf(f, "V\t%.3f\t%.3f\t%s\t%" PRIu64 "\t%" PRIu64
				"\t%.6f\t%.2f\t%.2f\t%.2f\t%.2f\n",
				v->time_s, v->interval_s, top_kind_name(d->kind), d->id, c->id,
				c->cpu_s, 100 * c->run_share, 100 * c->blocked_share,
				100 * c->wait_share, c->execs_per_s);
		}
	}
	for (unsigned i = 0; i < v->nxfers; i++) {
		const struct top_xfer *x = &v->xfers[i];

		/* name: what a plot's legend shows, "TOOL PID/ID" */
		fprintf(f, "T\t%.3f\t%.3f\t%" PRIu64 "\t%" PRIu64 "\t", v->time_s, v->interval_s,
			x->pid, x->id);
		put_field(f, x->tool);
		fprintf(f, " %" PRIu64 "/%" PRIu64 "\t", x->pid, x->id);
		put_field(f, x->tool);
		fputc('\t', f);
		put_field(f, x->peer);
		fputc('\t', f);
		put_field(f, x->transport);
		fputc('\t', f);
		put_field(f, x->mode);
		fputc('\t', f);
		put_field(f, x->state);
		fprintf(f, "\t%" PRIu64, x->processed);
		if (x->size_known)
			fprintf(f, "\t%" PRIu64 "\t%" PRIu64, x->total, x->remaining);
		else
			fputs("\t-\t-", f);
		fprintf(f, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%.3f\t%.3f\n", x->bytes_per_s,
			x->pages, x->zero_pages, x->cpu_s, x->elapsed_s);
	}
	return ferror(f) ? -EIO : 0;
}

struct top_record {
	FILE *f;
	char *path;
	double delay_s;
	bool header_done;
	char buf[64 * 1024];
};

/* An existing, non-empty file must begin with a record header of this
 * format.  Returns 0 or -EINVAL after saying what it holds. */
static int check_existing(int fd, const char *path)
{
	char line[64];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	size_t ml = strlen(TOP_RECORD_MAGIC);
	char *end;
	long ver;

	if (n < 0) {
		int rc = -errno;

		tool_err("--record %s: cannot read it: %s", path, strerror(errno));
		return rc;
	}
	if (n == 0)
		return 0;
	line[n] = '\0';
	if ((size_t)n <= ml || memcmp(line, TOP_RECORD_MAGIC, ml) || line[ml] != '\t') {
		tool_err("--record %s: the file exists and is not an rvmig-top record; "
			 "name a new file", path);
		return -EINVAL;
	}
	errno = 0;
	ver = strtol(line + ml + 1, &end, 10);
	if (errno || end == line + ml + 1 || (*end != '\t' && *end != '\n')) {
		tool_err("--record %s: its first line has no format version", path);
		return -EINVAL;
	}
	if (ver != TOP_RECORD_VERSION) {
		tool_err("--record %s: a record of format %ld; this rvmig-top writes format %d: "
			 "name a new file", path, ver, TOP_RECORD_VERSION);
		return -EINVAL;
	}
	return 0;
}

int top_record_open(const char *path, double delay_s, struct top_record **out)
{
	struct top_record *r;
	char why[256];
	int fd, rc;

	/* created new (O_EXCL, 0600), else opened as an existing file of ours;
	 * neither follows a symbolic link (ownfile.h) */
	fd = ownfile_open(AT_FDCWD, path, O_RDWR | O_CREAT, path, why, sizeof(why));
	if (fd == -EEXIST) {
		fd = ownfile_open(AT_FDCWD, path, O_RDWR, path, why, sizeof(why));
		if (fd >= 0 && (rc = check_existing(fd, path))) {
			close(fd);
			return rc;
		}
	}
	if (fd < 0) {
		tool_err("--record: %s", why);
		return fd;
	}
	if (fcntl(fd, F_SETFL, O_APPEND) || !(r = calloc(1, sizeof(*r))) ||
	    !(r->path = strdup(path))) {
		rc = -errno;
		tool_err("--record %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (!(r->f = fdopen(fd, "a"))) {
		rc = -errno;
		tool_err("--record %s: %s", path, strerror(errno));
		close(fd);
		free(r->path);
		free(r);
		return rc;
	}
	setvbuf(r->f, r->buf, _IOFBF, sizeof(r->buf));
	r->delay_s = delay_s;
	*out = r;
	return 0;
}

int top_record_append(struct top_record *r, const struct top_view *v)
{
	int rc = 0;

	if (!r->header_done) {
		rc = top_record_write_header(r->f, v, r->delay_s);
		r->header_done = true;
	}
	if (!rc)
		rc = top_record_write_sample(r->f, v);
	if (!rc && fflush(r->f))
		rc = -errno;
	if (rc) {
		tool_err("--record %s: cannot write: %s", r->path,
			 strerror(rc == -EIO && errno ? errno : -rc));
		clearerr(r->f);
	}
	return rc;
}

int top_record_close(struct top_record *r)
{
	int rc = 0;

	if (!r)
		return 0;
	if (fclose(r->f)) {
		rc = -errno;
		tool_err("--record %s: %s", r->path, strerror(errno));
	}
	free(r->path);
	free(r);
	return rc;
}
