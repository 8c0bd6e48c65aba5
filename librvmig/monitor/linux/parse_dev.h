/* SPDX-License-Identifier: MIT */
/*
 * parse_dev.h - parsers for the files that give a Linux domain's network
 * interfaces and disks (internal): /proc/PID/net/dev, cgroup v2 io.stat,
 * cgroup v1 blkio.throttle.io_service_bytes / io_serviced.  Pure, bounded
 * and no-NUL-needed as those of parse.h (fuzzed by tests/fuzz/fuzz_monitor.c).
 *
 * Each fills a caller's array through a struct mon_devlist: at most `max`
 * entries, `more` set when the file names more devices than that (the rest
 * are left out), and on an error (-EINVAL malformed, -ERANGE a number too
 * large) `bad_line`, the 1-based line at fault, for the caller's message.
 */
#ifndef RVMIG_MONITOR_LINUX_PARSE_DEV_H
#define RVMIG_MONITOR_LINUX_PARSE_DEV_H

#include <stddef.h>

#include "monitor/raw.h"

struct mon_devlist {
	size_t n, max;     /* entries filled (in: already there), room */
	int more;          /* devices were left out for want of room */
	unsigned bad_line; /* set on an error */
};

/* Linux's longest interface name, without its NUL (IFNAMSIZ - 1). */
#define MON_IFNAME_MAX 15

/*
 * /proc/PID/net/dev: two header lines (each with a '|'), then one line per
 * interface, "NAME: " and 16 counters (rx bytes packets errs drop fifo frame
 * compressed multicast, tx bytes packets errs drop fifo colls carrier
 * compressed; more are ignored).  Appends every interface but "lo" to
 * out[l->n ...]: name escaped (rvmig_text_escape), id its line's position
 * among the interfaces (0 for the first), rx/tx bytes, packets, errs and
 * drop.  A name longer than MON_IFNAME_MAX, holding '/' or empty, fewer
 * than 16 counters or a missing header is malformed.
 */
int mon_parse_net_dev(const char *s, size_t len, struct rvmig_monitor_net *out,
		      struct mon_devlist *l);

/*
 * cgroup v2 io.stat: "MAJ:MIN KEY=VALUE ..." per device.  Appends each device
 * to out[l->n ...] with dev = makedev(MAJ, MIN) (MAJ < 4096, MIN < 2^20, the
 * kernel's limits), rd/wr_bytes from rbytes/wbytes, rd/wr_reqs from
 * rios/wios, sectors = bytes / 512, an empty name (the caller's to find).
 * Other keys (dbytes, dios, cost.*, ...) are ignored; a missing key counts 0.
 */
int mon_parse_io_stat(const char *s, size_t len, struct rvmig_monitor_disk *out,
		      struct mon_devlist *l);

/*
 * cgroup v1 blkio.throttle.io_service_bytes[_recursive] (ios 0) or
 * io_serviced[_recursive] (ios 1): "MAJ:MIN OP N" lines, OP one of Read,
 * Write, Sync, Async, Discard, Total, and a last "Total N" line.  The Read
 * and Write counts go into the entry of out[0 .. l->n) with that device
 * (bytes and sectors, or requests), a new entry appended when there is none,
 * so the two files merge into one list.
 */
int mon_parse_blkio(const char *s, size_t len, int ios, struct rvmig_monitor_disk *out,
		    struct mon_devlist *l);

#endif
