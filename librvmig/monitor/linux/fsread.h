/* SPDX-License-Identifier: MIT */
/* fsread.h - bounded reads of whole /proc, /sys and cgroup files (internal). */
#ifndef RVMIG_MONITOR_LINUX_FSREAD_H
#define RVMIG_MONITOR_LINUX_FSREAD_H

#include <stddef.h>

/* A buffer reused across reads; grown as needed, up to each read's cap. */
struct mon_buf {
	char *p;
	size_t size;
};

enum {
	MON_READ_CUT = 1, /* a file longer than the cap is cut back to its last
			   * complete line instead of failing with -EFBIG */
	/* A read that returns less than asked is the end of the file; for the
	 * small one-record files of /proc/PID and of cgroups (schedstat,
	 * statm, cpu.stat, ...), which the kernel formats whole into one
	 * read when there is room (seq_file), so the read that would return
	 * 0 is spared: one syscall in four on the monitor's sampling path. */
	MON_READ_SHORT_EOF = 2,
};

/* Reads the file at `path` (printf-style) into b, at most `cap` bytes,
 * NUL-terminated.  Returns its length or a negative errno (-ENOENT,
 * -ESRCH, ... as open/read gave them; -EFBIG past the cap). */
__attribute__((format(printf, 4, 5)))
long mon_read(struct mon_buf *b, size_t cap, unsigned flags, const char *fmt, ...);
/* The same, with a relative path taken from the directory `dirfd` (as
 * openat: AT_FDCWD for the working directory). */
__attribute__((format(printf, 5, 6)))
long mon_read_at(struct mon_buf *b, size_t cap, unsigned flags, int dirfd, const char *fmt, ...);

/* The same for a file already open on fd (read from where it stands). */
long mon_read_fd(struct mon_buf *b, int fd, size_t cap, unsigned flags);
/* The same from offset 0 with pread(), the file position left alone: a
 * seq_file (/proc, cgroup files) is formatted anew (keptfd.h). */
long mon_pread_fd(struct mon_buf *b, int fd, size_t cap, unsigned flags);

void mon_buf_free(struct mon_buf *b);

#endif
