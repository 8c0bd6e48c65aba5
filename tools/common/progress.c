/* SPDX-License-Identifier: MIT */
/* progress.c - terminal progress bar for the rvmig tools. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"

void progress_init(struct progress *p, bool enabled, uint64_t total)
{
	p->on = enabled && isatty(STDERR_FILENO);
	p->total = total;
	p->start = p->last = tool_now();
	p->drawn = false;
}

void progress_set_total(struct progress *p, uint64_t total)
{
	p->total = total;
}

static void human(char *buf, size_t n, double v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

const char *progress_rate(char *buf, size_t n, double bytes, double seconds)
{
	double g = seconds > 0 ? bytes * 8 / seconds / 1e9 : 0;

	snprintf(buf, n, "%.*f Gbit/s", g >= 100 ? 0 : g >= 10 ? 1 : g >= 1 ? 2 : 3, g);
	return buf;
}

void progress_update(struct progress *p, uint64_t done)
{
	double now, el, rate;
	char d[32], r[32];

	if (!p->on)
		return;
	now = tool_now();
	if (now - p->last < 0.2)
		return;
	p->last = now;
	el = now - p->start;
	rate = el > 0 ? (double)done / el : 0;
	human(d, sizeof(d), (double)done);
	progress_rate(r, sizeof(r), (double)done, el);
	if (p->total) {
		double frac = (double)done / (double)p->total;
		int w = 30, fill = (int)(frac * w);
		char bar[40];

		if (fill > w)
			fill = w;
		for (int i = 0; i < w; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[w] = 0;
		if (rate > 0 && done < p->total)
			fprintf(stderr, "\r[%s] %5.1f%% %s %s ETA %.0fs   ", bar, frac * 100, d, r,
				(double)(p->total - done) / rate);
		else
			fprintf(stderr, "\r[%s] %5.1f%% %s %s          ", bar, frac * 100, d, r);
	} else {
		fprintf(stderr, "\r%s %s   ", d, r);
	}
	p->drawn = true;
}

void progress_end(struct progress *p)
{
	if (p->on && p->drawn)
		fprintf(stderr, "\r\033[K");
	p->drawn = false;
}
