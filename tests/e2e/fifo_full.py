#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Waits until a FIFO is full: its writer is then held up (tests only).

    fifo_full.py FIFO SECONDS

Opens FIFO for reading without blocking and without reading from it, and
polls how many bytes it holds (FIONREAD) against its capacity
(F_GETPIPE_SZ) every 10 ms.  Exits 0 once they are equal, 1 with a line on
stderr when SECONDS passed first.  Someone else must hold a read end open:
this one is closed on exit.
"""
import fcntl
import os
import struct
import sys
import termios
import time

F_GETPIPE_SZ = 1032  # linux/fcntl.h (F_LINUX_SPECIFIC_BASE + 8)


def held(fd):
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: fifo_full.py FIFO SECONDS")
    fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
    cap = fcntl.fcntl(fd, F_GETPIPE_SZ)
    end = time.monotonic() + float(sys.argv[2])
    n = held(fd)
    while n < cap:
        if time.monotonic() >= end:
            sys.exit(f"{sys.argv[1]} holds {n} of {cap} bytes after {sys.argv[2]} s")
        time.sleep(0.01)
        n = held(fd)


if __name__ == "__main__":
    main()
