#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Keyless peers against an rvmig TCP listener (tests only).

    keyless_peer.py HOST PORT KIND COUNT HOLD

Opens COUNT connections to HOST:PORT, each sending the hello of a new session
(the TCP transport's set-up frame carrying struct wire_hello, see
librvmig/proto/wire.h and librvmig/transport/tcp/tcp.h) and waiting for the
listener's answer, which must be an ACCEPT.  KIND:
  silent    a 1-link session: the listener then sends its CHALLENGE, which
            is never answered
  halfopen  link 0 of a 2-link session whose second link never comes
Prints "accepted COUNT" once every hello was accepted, then keeps the
connections open, sending nothing, until the listener closes them or HOLD
seconds pass, and prints "closed K of COUNT, last after S s" (S counted from
"accepted").  Exits 0, or 1 if a hello was refused or not answered within
5 s.
"""
import os
import select
import socket
import struct
import sys
import time

WIRE_MAGIC = 0x474D5652
HELLO_REQ, TCP_SETUP_HELLO, TCP_SETUP_ACCEPT = 1, 1, 2


def hello(session, nlinks):
    h = struct.pack("<IHBBIBBHQIi16x", WIRE_MAGIC, 1, HELLO_REQ, 1, 3, 0, nlinks, 32,
                    session, 30000, 0)
    assert len(h) == 48
    return bytes([TCP_SETUP_HELLO, len(h)]) + h


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed during the set-up reply")
        buf += chunk
    return buf


def main():
    host, port, kind, count, hold = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        int(sys.argv[4]), float(sys.argv[5])
    nlinks = {"silent": 1, "halfopen": 2}[kind]
    socks = []
    for i in range(count):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(hello(int.from_bytes(os.urandom(8), "little"), nlinks))
        try:
            k, n = read_exact(s, 2)
            read_exact(s, n)
        except (OSError, EOFError) as e:
            print(f"hello {i}: no answer: {e}", flush=True)
            return 1
        if k != TCP_SETUP_ACCEPT:
            print(f"hello {i}: refused (set-up frame kind {k})", flush=True)
            return 1
        s.setblocking(False)
        socks.append(s)
    print(f"accepted {count}", flush=True)
    t0 = time.monotonic()
    open_socks, last = list(socks), 0.0
    while open_socks and time.monotonic() - t0 < hold:
        ready, _, _ = select.select(open_socks, [], [], 0.1)
        for s in ready:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                open_socks.remove(s)
                last = time.monotonic() - t0
    print(f"closed {count - len(open_socks)} of {count}, last after {last:.3f} s", flush=True)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
