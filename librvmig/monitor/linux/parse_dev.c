/* SPDX-License-Identifier: MIT */
/* parse_dev.c - /proc/PID/net/dev, io.stat and blkio parsers (no I/O). */
#include <errno.h>
#include <string.h>

#include <rvmig/common.h>

#include "monitor/linux/parse_dev.h"
#include "monitor/linux/textcur.h"

#define NET_DEV_COUNTERS 16
#define SECTOR 512

static int bad(struct mon_devlist *l, unsigned line, int rc)
{
	l->bad_line = line;
	return rc;
}

/* The room for one more entry: 1, or 0 with l->more set. */
static int room(struct mon_devlist *l)
{
	if (l->n < l->max)
		return 1;
	l->more = 1;
	return 0;
}

int mon_parse_net_dev(const char *s, size_t len, struct rvmig_monitor_net *out,
		      struct mon_devlist *l)
{
	struct cur c = { s, s + len }, line;
	unsigned no = 0, ifno = 0;

	while (next_line(&c, &line)) {
		uint64_t v[NET_DEV_COUNTERS];
		struct rvmig_monitor_net *o;
		const char *colon;
		struct cur name;
		int rc;

		no++;
		if (no <= 2) {
			if (!memchr(line.p, '|', (size_t)(line.end - line.p)))
				return bad(l, no, -EINVAL);
			continue;
		}
		if (at_end(&line))
			continue;
		colon = memchr(line.p, ':', (size_t)(line.end - line.p));
		if (!colon)
			return bad(l, no, -EINVAL);
		name.p = line.p;
		name.end = colon;
		skip_blank(&name);
		if (name.p == name.end || name.end - name.p > MON_IFNAME_MAX ||
		    memchr(name.p, '/', (size_t)(name.end - name.p)))
			return bad(l, no, -EINVAL);
		for (const char *p = name.p; p < name.end; p++)
			if (is_space(*p))
				return bad(l, no, -EINVAL);
		line.p = colon + 1;
		for (int i = 0; i < NET_DEV_COUNTERS; i++)
			if ((rc = get_u64_word(&line, &v[i])) < 0)
				return bad(l, no, rc);
		if (word_is(&name, "lo") || !room(l)) {
			ifno++;
			continue;
		}
		o = &out[l->n++];
		memset(o, 0, sizeof(*o));
		o->id = ifno++;
		rvmig_text_escape(o->name, sizeof(o->name), name.p, (size_t)(name.end - name.p));
		o->rx_bytes = v[0];
		o->rx_packets = v[1];
		o->rx_errors = v[2];
		o->rx_drops = v[3];
		o->tx_bytes = v[8];
		o->tx_packets = v[9];
		o->tx_errors = v[10];
		o->tx_drops = v[11];
	}
	return no < 2 ? bad(l, no + 1, -EINVAL) : 0;
}

/* "MAJ:MIN" at the start of a line, ending at a blank or the line's end. */
static int get_devno(struct cur *line, uint32_t *dev)
{
	uint64_t maj, min;
	int rc;

	if ((rc = get_u64(line, &maj)) < 0)
		return rc;
	if (line->p >= line->end || *line->p != ':')
		return -EINVAL;
	line->p++;
	if ((rc = get_u64(line, &min)) < 0)
		return rc;
	if (line->p < line->end && !is_blank(*line->p))
		return -EINVAL;
	if (maj >= 4096 || min >= (1u << 20))
		return -ERANGE;
	/* glibc's makedev() for numbers that fit in 32 bits */
	*dev = (uint32_t)((min & 0xff) | (maj << 8) | ((min & ~0xffull) << 12));
	return 0;
}

static struct rvmig_monitor_disk *new_disk(struct rvmig_monitor_disk *out,
					   struct mon_devlist *l, uint32_t dev)
{
	struct rvmig_monitor_disk *k;

	if (!room(l))
		return NULL;
	k = &out[l->n++];
	memset(k, 0, sizeof(*k));
	k->dev = dev;
	return k;
}

int mon_parse_io_stat(const char *s, size_t len, struct rvmig_monitor_disk *out,
		      struct mon_devlist *l)
{
	static const char *const keys[] = { "rbytes", "wbytes", "rios", "wios" };
	struct cur c = { s, s + len }, line, w;
	unsigned no = 0;

	while (next_line(&c, &line)) {
		uint64_t v[4] = { 0 };
		struct rvmig_monitor_disk *k;
		uint32_t dev;
		int rc;

		no++;
		if (at_end(&line))
			continue;
		if ((rc = get_devno(&line, &dev)) < 0)
			return bad(l, no, rc);
		while (next_word(&line, &w)) {
			const char *eq = memchr(w.p, '=', (size_t)(w.end - w.p));
			struct cur key = { w.p, eq }, num = { eq ? eq + 1 : w.end, w.end };

			if (!eq || eq == w.p)
				return bad(l, no, -EINVAL);
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (word_is(&key, keys[i]) && (rc = get_u64_word(&num, &v[i])) < 0)
					return bad(l, no, rc);
		}
		if (!(k = new_disk(out, l, dev)))
			continue;
		k->rd_bytes = v[0];
		k->wr_bytes = v[1];
		k->rd_sectors = v[0] / SECTOR;
		k->wr_sectors = v[1] / SECTOR;
		k->rd_reqs = v[2];
		k->wr_reqs = v[3];
	}
	return 0;
}

int mon_parse_blkio(const char *s, size_t len, int ios, struct rvmig_monitor_disk *out,
		    struct mon_devlist *l)
{
	static const char *const ops[] = { "Read", "Write", "Sync", "Async", "Discard", "Total" };
	struct cur c = { s, s + len }, line, w;
	unsigned no = 0;

	while (next_line(&c, &line)) {
		struct rvmig_monitor_disk *k = NULL;
		uint32_t dev;
		uint64_t v;
		size_t op;
		int rc;

		no++;
		if (at_end(&line))
			continue;
		if (!next_word(&line, &w))
			return bad(l, no, -EINVAL);
		if (word_is(&w, "Total")) { /* the sum over the devices: not kept */
			if ((rc = get_u64_word(&line, &v)) < 0 || !at_end(&line))
				return bad(l, no, rc < 0 ? rc : -EINVAL);
			continue;
		}
		line.p = w.p;
		if ((rc = get_devno(&line, &dev)) < 0)
			return bad(l, no, rc);
		if (!next_word(&line, &w))
			return bad(l, no, -EINVAL);
		for (op = 0; op < sizeof(ops) / sizeof(ops[0]); op++)
			if (word_is(&w, ops[op]))
				break;
		if (op == sizeof(ops) / sizeof(ops[0]))
			return bad(l, no, -EINVAL);
		if ((rc = get_u64_word(&line, &v)) < 0 || !at_end(&line))
			return bad(l, no, rc < 0 ? rc : -EINVAL);
		if (op > 1)
			continue; /* Sync, Async, Discard, Total: not reported */
		for (size_t i = 0; i < l->n && !k; i++)
			if (out[i].dev == dev)
				k = &out[i];
		if (!k && !(k = new_disk(out, l, dev)))
			continue;
		if (ios) {
			*(op ? &k->wr_reqs : &k->rd_reqs) = v;
		} else if (op) {
			k->wr_bytes = v;
			k->wr_sectors = v / SECTOR;
		} else {
			k->rd_bytes = v;
			k->rd_sectors = v / SECTOR;
		}
	}
	return 0;
}
