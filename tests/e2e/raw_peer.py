#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A hand-built rvmig client that breaks the TCP transport's rules (tests only).

    raw_peer.py HOST PORT ACTION [ARG]

Connects one link (the TCP transport's set-up frame carrying struct
wire_hello: librvmig/proto/wire.h, librvmig/transport/tcp/tcp.h), waits for
the receiver's READY, then does ACTION:
  write-outside   a WRITE frame into memory the receiver never granted
  read-outside    a READ_REQ frame for memory the receiver never granted
  big-send        a SEND of 8192 bytes (a control buffer holds 4096)
  bad-read-resp   a READ_RESP that answers no READ
  no-credit       40 PINGs at once (the receiver granted 32 buffers)
  error TEXT      an ERROR message whose text is TEXT (Python escapes such
                  as \\n and \\x1b are decoded first)
and reads until the receiver closes the connection or 10 s pass.  Prints
"ERROR CODE TEXT" for an ERROR message from the receiver (its reason),
then "closed" or "open".  Exits 0, or 1 when the set-up failed.

    raw_peer.py HOST PORT flood N

opens N connections one after the other, each sending a hello and, once it
is answered, resetting the connection (SO_LINGER 0): N refused peers for a
listener with a key.  Prints "flooded N".

    raw_peer.py HOST PORT slowloris DELAY

sends the hello of a new session one byte every DELAY s (slowloris) and
reads until the listener closes the connection or 30 s pass.  Prints
"slowloris closed after S s, K of 50 bytes sent" (or "... open ...").

    raw_peer.py HOST PORT garbage N

opens N connections one after the other: the odd ones send 256 random
bytes in place of a hello, the even ones a valid hello and then, once it is
accepted, 4 frames of random headers and payloads instead of anything the
listener asked for.  Each is read until the listener closes it or 10 s
pass.  Prints "garbage N, closed K".
"""
import os
import select
import socket
import struct
import sys
import time

WIRE_MAGIC = 0x474D5652
HELLO_REQ, TCP_SETUP_HELLO, TCP_SETUP_ACCEPT = 1, 1, 2
F_SEND, F_WRITE, F_READ_REQ, F_READ_RESP = 1, 2, 3, 4
MSG_READY, MSG_PING, MSG_ERROR = 1, 8, 10


def frame(op, payload=b"", raddr=0, rkey=0, fid=0, length=None):
    n = len(payload) if length is None else length
    return struct.pack("<B3xIQIIQ", op, n, raddr, rkey, 0, fid) + payload


def ctrl(mtype, body=b"", credits=0):
    return frame(F_SEND, struct.pack("<BBHI", mtype, 0, credits, 8 + len(body)) + body)


def hello():
    """The set-up frame of link 0 of a new 1-link push session."""
    h = struct.pack("<IHBBIBBHQIi16x", WIRE_MAGIC, 1, HELLO_REQ, 1, 1, 0, 1, 32,
                    int.from_bytes(os.urandom(8), "little"), 30000, 0)
    return bytes([TCP_SETUP_HELLO, len(h)]) + h


def flood(host, port, n):
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(hello())
        try:
            s.recv(2 + 48)
        except OSError:
            pass
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    print(f"flooded {n}", flush=True)
    return 0


def slowloris(host, port, delay):
    s = socket.create_connection((host, port), timeout=5)
    h, sent, t0, closed = hello(), 0, time.monotonic(), False
    while not closed and time.monotonic() - t0 < 30:
        if sent < len(h):
            try:
                s.sendall(h[sent:sent + 1])
                sent += 1
            except OSError:
                closed = True
                break
        r, _, _ = select.select([s], [], [], delay)
        if r:
            try:
                c = s.recv(4096)
            except OSError:
                c = b""
            closed = not c
    state = "closed" if closed else "open"
    print(f"slowloris {state} after {time.monotonic() - t0:.1f} s, {sent} of {len(h)} bytes sent",
          flush=True)
    s.close()
    return 0


def garbage(host, port, n):
    closed = 0
    for i in range(n):
        s = None
        try:
            s = socket.create_connection((host, port), timeout=5)
            if i % 2:
                s.sendall(hello())
                kind, k = struct.unpack("BB", s.recv(2))
                if kind == TCP_SETUP_ACCEPT:
                    s.sendall(b"".join(os.urandom(32) + os.urandom(64) for _ in range(4)))
            else:
                s.sendall(os.urandom(256))
            end = time.monotonic() + 10
            while time.monotonic() < end:
                r, _, _ = select.select([s], [], [], end - time.monotonic())
                if r and not s.recv(65536):
                    closed += 1
                    break
        except (OSError, struct.error):
            closed += 1
        finally:
            if s:
                s.close()
    print(f"garbage {n}, closed {closed}", flush=True)
    return 0


class Link:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=5)
        self.s.sendall(hello())
        kind, n = self.read_exact(2)
        self.read_exact(n)
        if kind != TCP_SETUP_ACCEPT:
            raise RuntimeError(f"hello refused (set-up frame kind {kind})")
        self.buf = b""
        self.closed = False
        self.ready = False

    def read_exact(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("closed during the set-up")
            b += c
        return b

    def pump(self, timeout):
        """Reads frames for up to timeout s; prints ERROR messages."""
        end = time.monotonic() + timeout
        while not self.closed and time.monotonic() < end:
            r, _, _ = select.select([self.s], [], [], max(0.0, end - time.monotonic()))
            if not r:
                break
            try:
                c = self.s.recv(65536)
            except OSError:
                c = b""
            if not c:
                self.closed = True
                break
            self.buf += c
            while len(self.buf) >= 32:
                op, n = struct.unpack_from("<B3xI", self.buf)
                if len(self.buf) < 32 + n:
                    break
                body, self.buf = self.buf[32:32 + n], self.buf[32 + n:]
                if op != F_SEND or len(body) < 8:
                    continue
                if body[0] == MSG_READY:
                    self.ready = True
                elif body[0] == MSG_ERROR and len(body) >= 12:
                    code = struct.unpack_from("<i", body, 8)[0]
                    text = body[12:].split(b"\0", 1)[0].decode("ascii", "replace")
                    print(f"ERROR {code} {text}", flush=True)
            if self.ready and timeout == 0:
                break

    def send(self, data):
        try:
            self.s.sendall(data)
        except OSError:
            self.closed = True


def main():
    host, port, action = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if action == "flood":
        return flood(host, port, int(sys.argv[4]))
    if action == "slowloris":
        return slowloris(host, port, float(sys.argv[4]))
    if action == "garbage":
        return garbage(host, port, int(sys.argv[4]))
    try:
        link = Link(host, port)
    except (OSError, EOFError, RuntimeError) as e:
        print(f"set-up failed: {e}", flush=True)
        return 1
    end = time.monotonic() + 10
    while not link.ready and not link.closed and time.monotonic() < end:
        link.pump(0.1)
    if not link.ready:
        print("no READY from the receiver", flush=True)
        return 1
    if action == "write-outside":
        link.send(frame(F_WRITE, b"x" * 16, raddr=0x1000, rkey=0x7f0001))
    elif action == "read-outside":
        link.send(frame(F_READ_REQ, raddr=0x1000, rkey=0x7f0001, fid=1, length=16))
    elif action == "big-send":
        link.send(frame(F_SEND, b"y" * 8192))
    elif action == "bad-read-resp":
        link.send(frame(F_READ_RESP, fid=12345))
    elif action == "no-credit":
        link.send(b"".join(ctrl(MSG_PING) for _ in range(40)))
    elif action == "error":
        text = sys.argv[4].encode("latin-1").decode("unicode_escape").encode("latin-1")
        link.send(ctrl(MSG_ERROR, struct.pack("<i", 5) + text[:115].ljust(116, b"\0")))
    else:
        print(f"unknown action {action}", flush=True)
        return 1
    link.pump(10)
    print("closed" if link.closed else "open", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
