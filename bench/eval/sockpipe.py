#!/usr/bin/python3
"""sockpipe.py - a plain BSD-socket file pipe (what nc does, minus nc's
SO_REUSEPORT), so that the rsockets preload library (LD_PRELOAD=
librspreload.so) can be tried with an ordinary socket program.

  sockpipe.py recv ADDR PORT OUT READY   listen, write the port to READY once
                                         listening, accept one peer, copy to OUT
  sockpipe.py send ADDR PORT IN          connect, send IN, shut down, wait for EOF

The socket calls go straight to the C library through ctypes (socket(AF_INET,
SOCK_STREAM, 0), bind, listen, accept, connect, recv, send, shutdown, close),
resolved in the global symbol scope, so LD_PRELOAD=librspreload.so interposes
every one of them. Python's own socket module cannot be used for this: it
creates sockets with SOCK_CLOEXEC and accepts with accept4(), which the
preload library passes to the kernel's TCP (a silent fallback).
"""
import ctypes
import os
import socket
import struct
import sys

BUF = 1 << 20
libc = ctypes.CDLL(None, use_errno=True)


def check(ret, what):
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s: %s" % (what, os.strerror(e)))
    return ret


def sockaddr(addr, port):
    # struct sockaddr_in: family (host order u16), port (network), addr, zero
    raw = struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton(addr) + b"\0" * 8
    return ctypes.create_string_buffer(raw, len(raw)), len(raw)


def recv(addr, port, out, ready):
    s = check(libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0), "socket")
    one = ctypes.c_int(1)
    libc.setsockopt(s, socket.SOL_SOCKET, socket.SO_REUSEADDR, ctypes.byref(one), 4)
    sa, n = sockaddr(addr, int(port))
    check(libc.bind(s, sa, n), "bind")
    check(libc.listen(s, 1), "listen")
    got = ctypes.create_string_buffer(16)
    ln = ctypes.c_uint(16)
    check(libc.getsockname(s, got, ctypes.byref(ln)), "getsockname")
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % struct.unpack("!H", got.raw[2:4])[0])
    os.rename(ready + ".tmp", ready)
    c = check(libc.accept(s, None, None), "accept")
    buf = ctypes.create_string_buffer(BUF)
    total = 0
    with open(out, "wb", buffering=0) as f:
        while True:
            k = check(libc.recv(c, buf, BUF, 0), "recv")
            if k == 0:
                break
            f.write(buf.raw[:k])
            total += k
    libc.close(c)
    libc.close(s)
    print("sockpipe recv: %d bytes" % total, file=sys.stderr)


def send(addr, port, inp):
    c = check(libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0), "socket")
    sa, n = sockaddr(addr, int(port))
    check(libc.connect(c, sa, n), "connect")
    total = 0
    with open(inp, "rb", buffering=0) as f:
        while True:
            b = f.read(BUF)
            if not b:
                break
            off = 0
            while off < len(b):
                chunk = b[off:]
                k = check(libc.send(c, chunk, len(chunk), 0), "send")
                off += k
                total += k
    check(libc.shutdown(c, socket.SHUT_WR), "shutdown")
    buf = ctypes.create_string_buffer(4096)
    while check(libc.recv(c, buf, 4096, 0), "recv") > 0:
        pass
    libc.close(c)
    print("sockpipe send: %d bytes" % total, file=sys.stderr)


def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "recv":
        recv(a[1], a[2], a[3], a[4])
    elif len(a) == 4 and a[0] == "send":
        send(a[1], a[2], a[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
