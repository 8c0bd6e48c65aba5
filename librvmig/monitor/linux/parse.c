/* SPDX-License-Identifier: MIT */
/* parse.c - bounded parsers for /proc and cgroup files (no I/O). */
#include <errno.h>
#include <string.h>

#include "monitor/linux/parse.h"
#include "monitor/linux/textcur.h"

int mon_parse_schedstat(const char *s, size_t len, struct mon_task *t)
{
	struct cur c = { s, s + len };
	uint64_t v[3];
	int rc;

	/* Later kernels may append fields: anything after the third is ignored. */
	for (int i = 0; i < 3; i++)
		if ((rc = get_u64_word(&c, &v[i])) < 0)
			return rc;
	t->run_ns = v[0];
	t->wait_ns = v[1];
	t->slices = v[2];
	return 0;
}

int mon_parse_pid_stat(const char *s, size_t len, char *state, uint64_t *start_ticks)
{
	const char *rp = len ? memrchr(s, ')', len) : NULL;
	struct cur c, w;

	if (!rp)
		return -EINVAL;
	c.p = rp + 1;
	c.end = s + len;
	/* Field 3 is the state, field 22 the start time: words 0 and 19 here. */
	for (int i = 0; i <= 19; i++) {
		if (!next_word(&c, &w))
			return -EINVAL;
		if (i == 0) {
			/* one letter (R, S, D, Z, T, t, X, I, ...); the line is
			 * split on blanks only, so a '\n' could pose as one */
			if (w.end - w.p != 1 || !((*w.p >= 'A' && *w.p <= 'Z') ||
						   (*w.p >= 'a' && *w.p <= 'z')))
				return -EINVAL;
			*state = *w.p;
		}
	}
	c = w;
	return get_u64_word(&c, start_ticks);
}

/* "KEY:   N kB" lines: 1 and the bytes when the line is KEY's. */
static int kb_line(const struct cur *line, const char *key, uint64_t *bytes)
{
	size_t n = strlen(key);
	struct cur c = *line, w;
	uint64_t kb;
	int rc;

	if ((size_t)(c.end - c.p) <= n || memcmp(c.p, key, n) || c.p[n] != ':')
		return 0;
	c.p += n + 1;
	if ((rc = get_u64_word(&c, &kb)) < 0)
		return rc;
	if (!next_word(&c, &w) || !word_is(&w, "kB") || !at_end(&c))
		return -EINVAL;
	if ((rc = mul_ok(kb, 1024, bytes)) < 0)
		return rc;
	return 1;
}

int mon_parse_statm_rss(const char *s, size_t len, uint64_t page_size, uint64_t *rss)
{
	struct cur c = { s, s + len }, line;
	uint64_t size, pages;
	int rc;

	*rss = 0;
	if (!next_line(&c, &line))
		return -EINVAL;
	if ((rc = get_u64_word(&line, &size)) < 0 || (rc = get_u64_word(&line, &pages)) < 0)
		return rc;
	if (pages > size)
		return -EINVAL;
	return mul_ok(pages, page_size, rss);
}

int mon_parse_meminfo(const char *s, size_t len, uint64_t *total, uint64_t *mfree,
		      uint64_t *avail)
{
	struct cur c = { s, s + len }, line;
	int have_total = 0, have_free = 0, have_avail = 0;

	while (next_line(&c, &line)) {
		int rc;

		if ((rc = kb_line(&line, "MemTotal", total)) != 0)
			have_total = 1;
		else if ((rc = kb_line(&line, "MemFree", mfree)) != 0)
			have_free = 1;
		else if ((rc = kb_line(&line, "MemAvailable", avail)) != 0)
			have_avail = 1;
		if (rc < 0)
			return rc;
	}
	if (!have_total || !have_free)
		return -EINVAL;
	if (!have_avail)
		*avail = *mfree;
	return 0;
}

int mon_parse_proc_stat(const char *s, size_t len, uint64_t tick_ns, struct mon_pcpu_raw *out,
			size_t max)
{
	struct cur c = { s, s + len }, line;
	size_t n = 0;

	while (next_line(&c, &line)) {
		uint64_t id, v[8] = { 0 }, idle, total = 0;
		int rc, nv = 0;

		if (line.end - line.p < 4 || memcmp(line.p, "cpu", 3) || line.p[3] < '0' ||
		    line.p[3] > '9')
			continue;
		line.p += 3;
		if ((rc = get_u64_word(&line, &id)) < 0)
			return rc;
		if (id > UINT32_MAX)
			return -ERANGE;
		/* user nice system idle [iowait irq softirq [steal]]: kernels
		 * before 2.6 had four; guest time is already inside user. */
		while (nv < 8 && !at_end(&line)) {
			if ((rc = get_u64_word(&line, &v[nv])) < 0)
				return rc;
			nv++;
		}
		if (nv < 4)
			return -EINVAL;
		for (int i = 0; i < 8; i++) {
			if (total + v[i] < total)
				return -ERANGE;
			total += v[i];
		}
		idle = v[3] + v[4]; /* cannot wrap: both are part of total */
		/* Checked on the counting pass too, so both passes agree. */
		if ((rc = mul_ok(idle, tick_ns, &idle)) < 0 || (rc = mul_ok(total, tick_ns, &total)) < 0)
			return rc;
		if (n < max) {
			out[n].id = (uint32_t)id;
			out[n].idle_ns = idle;
			out[n].total_ns = total;
			out[n].freq_khz = 0;
		}
		n++;
	}
	return n > INT32_MAX ? -E2BIG : (int)n;
}

int mon_parse_key_u64(const char *s, size_t len, const char *key, uint64_t *v)
{
	struct cur c = { s, s + len }, line, w;

	while (next_line(&c, &line)) {
		if (!next_word(&line, &w) || !word_is(&w, key))
			continue;
		return get_u64_word(&line, v);
	}
	return -ENOENT;
}

int mon_parse_pressure(const char *s, size_t len, const char *kind, uint64_t *total_us)
{
	struct cur c = { s, s + len }, line, w;

	while (next_line(&c, &line)) {
		if (!next_word(&line, &w) || !word_is(&w, kind))
			continue;
		while (next_word(&line, &w)) {
			struct cur num = w;

			if (w.end - w.p <= 6 || memcmp(w.p, "total=", 6))
				continue;
			num.p += 6;
			return get_u64_word(&num, total_us);
		}
		return -EINVAL;
	}
	return -ENOENT;
}

int mon_parse_u64_or_max(const char *s, size_t len, uint64_t *v)
{
	struct cur c = { s, s + len };
	int rc;

	skip_blank(&c);
	if (c.end - c.p >= 3 && !memcmp(c.p, "max", 3)) {
		c.p += 3;
		*v = UINT64_MAX;
		return at_end(&c) ? 0 : -EINVAL;
	}
	if ((rc = get_u64_word(&c, v)) < 0)
		return rc;
	return at_end(&c) ? 0 : -EINVAL;
}

long mon_parse_ids(const char *s, size_t len, uint64_t *ids, size_t max)
{
	struct cur c = { s, s + len }, line;
	size_t n = 0;

	while (next_line(&c, &line)) {
		uint64_t id;
		int rc;

		if (at_end(&line))
			continue;
		if ((rc = get_u64_word(&line, &id)) < 0)
			return rc;
		if (!at_end(&line))
			return -EINVAL;
		if (n < max)
			ids[n] = id;
		n++;
	}
	return (long)n;
}

/* Undoes mountinfo's octal escapes (\040 space, \011 tab, \012 newline,
 * \134 backslash) into dst; -ENAMETOOLONG when it does not fit. */
static int unescape(const struct cur *w, char *dst, size_t cap)
{
	size_t n = 0;

	for (const char *p = w->p; p < w->end; p++) {
		char ch = *p;

		if (ch == '\\' && w->end - p >= 4 && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' &&
		    p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			ch = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		}
		if (n + 1 >= cap)
			return -ENAMETOOLONG;
		dst[n++] = ch;
	}
	dst[n] = '\0';
	return 0;
}

static unsigned controllers(const struct cur *opts)
{
	static const struct {
		const char *name;
		unsigned bit;
	} known[] = {
		{ "cpu", MON_CG_CPU },
		{ "cpuacct", MON_CG_CPUACCT },
		{ "memory", MON_CG_MEMORY },
		{ "blkio", MON_CG_BLKIO },
	};
	unsigned ctrl = 0;
	const char *p = opts->p;

	while (p < opts->end) {
		const char *comma = memchr(p, ',', (size_t)(opts->end - p));
		struct cur o = { p, comma ? comma : opts->end };

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (word_is(&o, known[i].name))
				ctrl |= known[i].bit;
		p = o.end + 1;
	}
	return ctrl;
}

/* ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS */
long mon_parse_mountinfo(const char *s, size_t len, struct mon_cg_mount *out, size_t max)
{
	struct cur c = { s, s + len }, line;
	size_t n = 0;

	while (next_line(&c, &line)) {
		struct cur w, point = { 0 }, fstype, source, opts;
		char dir[MON_CG_PATH_MAX];
		int i = 0, version;

		while (next_word(&line, &w)) {
			if (i == 4)
				point = w;
			if (i++ >= 6 && word_is(&w, "-"))
				break;
		}
		if (i < 7 || !point.p || !next_word(&line, &fstype) || !next_word(&line, &source) ||
		    !next_word(&line, &opts))
			continue; /* not a line of this format: not a cgroup mount either */
		if (word_is(&fstype, "cgroup"))
			version = 1;
		else if (word_is(&fstype, "cgroup2"))
			version = 2;
		else
			continue;
		if (unescape(&point, dir, sizeof(dir)) < 0)
			continue;
		if (n < max) {
			memcpy(out[n].dir, dir, sizeof(dir));
			out[n].version = version;
			out[n].ctrl = version == 1 ? controllers(&opts) : 0;
		}
		n++;
	}
	return (long)n;
}
