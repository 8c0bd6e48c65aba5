/* SPDX-License-Identifier: MIT */
/* fdio.c - the one write loop of the library and the tools (fdio.h). */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "fdio.h"

int fd_write_all(int fd, const void *p, size_t len, off_t off)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t n = off < 0 ? write(fd, b, len) : pwrite(fd, b, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}
