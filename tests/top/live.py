#!/usr/bin/python3
"""unit.top.live: rvmig-top's live view on a real pseudo-terminal.

  live.py RVMIG_TOP

Starts a sleeper, a busy loop and a sleeper whose name (comm) holds an
escape sequence, runs rvmig-top on a pty (TERM=screen: the alternate screen, and no
REP sequence, which pyte 0.8 does not know) watching the three,
and reads the screen through a terminal emulator (pyte, Debian's
python3-pyte).  Checks: the header and the three domains are shown, the
hostile name shows escaped, sort keys (N, r, C) change the row order, v
shows vCPU rows, d sets the delay, a resize redraws at the new size, q
exits 0 with the alternate screen left (rmcup) and the terminal modes as
they were; SIGTERM and SIGINT do the same.  Each wait has a deadline and
the failure says what was on the screen.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pyte

TOP = sys.argv[1]
RMCUP = b"\x1b[?1049l"
SMCUP = b"\x1b[?1049h"
HOSTILE = "a\x1b[31mred"          # what the process names itself
SHOWN = "a\\x1b[31mred"           # what must be on the screen


class Screen(pyte.Screen):
    """pyte 0.8 lacks SU and SD (CSI n S, CSI n T), which ncurses uses to
    scroll a region set with DECSTBM: done here with index / reverse index
    at the region's edge."""

    def _edge(self, bottom):
        m = self.margins or pyte.screens.Margins(0, self.lines - 1)
        return m.bottom if bottom else m.top

    def scroll_up(self, count=None, *args, **kwargs):
        y, x = self.cursor.y, self.cursor.x
        self.cursor.y = self._edge(True)
        for _ in range(count or 1):
            self.index()
        self.cursor.y, self.cursor.x = y, x

    def scroll_down(self, count=None, *args, **kwargs):
        y, x = self.cursor.y, self.cursor.x
        self.cursor.y = self._edge(False)
        for _ in range(count or 1):
            self.reverse_index()
        self.cursor.y, self.cursor.x = y, x


class Stream(pyte.ByteStream):
    csi = dict(pyte.ByteStream.csi, S="scroll_up", T="scroll_down")


class Term:
    """rvmig-top on a pty of rows x cols, its output fed to pyte."""

    def __init__(self, args, rows=30, cols=150):
        self.screen = Screen(cols, rows)
        self.stream = Stream(self.screen)
        self.raw = b""
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["TERM"] = "screen"
            os.execv(TOP, [TOP] + args)
        self.pid, self.fd = pid, fd
        self.resize(rows, cols)
        self.modes = termios.tcgetattr(fd)
        self.status = None

    def resize(self, rows, cols):
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.screen.resize(rows, cols)

    def pump(self, seconds):
        end = time.time() + seconds
        while True:
            left = end - time.time()
            if left <= 0:
                return
            r, _, _ = select.select([self.fd], [], [], min(left, 0.1))
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # EIO: the child closed the pty
                    return
                if not data:
                    return
                self.raw += data
                self.stream.feed(data)

    def lines(self):
        return [l.rstrip() for l in self.screen.display]

    def text(self):
        return "\n".join(self.lines())

    def wait_for(self, what, pred, seconds=8):
        end = time.time() + seconds
        while time.time() < end:
            self.pump(0.1)
            if pred():
                return
        fail("%s: not seen within %g s; screen:\n%s" % (what, seconds, self.text()))

    def key(self, k):
        os.write(self.fd, k.encode())

    def wait_exit(self, seconds=5):
        end = time.time() + seconds
        while time.time() < end:
            self.pump(0.1)
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pump(0.2)
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        fail("rvmig-top did not exit within %g s; screen:\n%s" % (seconds, self.text()))

    def check_restored(self, how):
        if self.status != 0:
            fail("%s: exit status %s, expected 0; screen:\n%s" % (how, self.status, self.text()))
        if self.raw.rfind(SMCUP) < 0 or self.raw.rfind(RMCUP) < self.raw.rfind(SMCUP):
            fail("%s: the alternate screen was not left (no rmcup after the last smcup)" % how)
        try:
            modes = termios.tcgetattr(self.fd)
        except termios.error:
            modes = None  # the pty is gone with its last user on some kernels
        if modes is not None and modes[3] != self.modes[3]:
            fail("%s: terminal local modes %#x, were %#x" % (how, modes[3], self.modes[3]))
        os.close(self.fd)
        print("%s: exit 0, alternate screen left, modes restored" % how)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def row_of(t, name):
    for i, l in enumerate(t.lines()):
        f = l.split()
        if len(f) > 1 and f[1] == name:
            return i
    return -1


def order(t, names):
    return [row_of(t, n) for n in names]


procs = []


def start(args):
    p = subprocess.Popen(args)
    procs.append(p)
    return p


def main():
    sleeper = start(["sleep", "300"])
    busy = start(["sh", "-c", "while :; do :; done"])
    # a sleeper naming itself with an escape sequence (comm, 15 bytes at most)
    hostile = start([sys.executable, "-c",
                     "import sys, time\n"
                     "open('/proc/self/comm', 'w').write(sys.argv[1])\n"
                     "time.sleep(300)\n", HOSTILE])
    deadline = time.time() + 5
    while open("/proc/%d/comm" % hostile.pid, "rb").read() != HOSTILE.encode() + b"\n":
        if time.time() > deadline:
            fail("the hostile process did not rename itself")
        time.sleep(0.05)
    watch = ["-p", str(sleeper.pid), "-p", str(busy.pid), "-p", str(hostile.pid)]

    t = Term(["-d", "0.5"] + watch)
    t.wait_for("the first interval's figures", lambda: "interval 0." in t.text())
    s = t.text()
    for want in ("rvmig-top - ", "Mem: ", "CPUs: ", "pCPU idle", "Domains: 3",
                 "ID", "NAME", "STATE", "CPU(sec)", "CPU%", "RUN%", "BLOCKED%", "WAIT%",
                 "EXEC/s", "VCPUS", "MEM(k)"):
        if want not in s:
            fail("%r not on the screen:\n%s" % (want, s))
    if SHOWN not in s:
        fail("the name %r is not shown escaped as %r:\n%s" % (HOSTILE, SHOWN, s))
    if "\x1b" in s:
        fail("an escape character reached the screen's text")
    if b"\x1b[31mred" in t.raw:
        fail("the raw name reached the terminal")
    print("header, columns, 3 domains, hostile name shown as %s" % SHOWN)

    # default: CPU% high first -> the busy loop above both sleepers
    t.wait_for("busy loop first (CPU%)",
               lambda: 0 <= row_of(t, "sh") < min(row_of(t, "sleep"), row_of(t, SHOWN)))
    t.key("N")
    t.wait_for("sorted by name", lambda: "sorted by NAME (N) low first" in t.text()
               and 0 <= row_of(t, SHOWN) < row_of(t, "sh") < row_of(t, "sleep"))
    t.key("r")
    t.wait_for("name reversed", lambda: "sorted by NAME (N) high first" in t.text()
               and 0 <= row_of(t, "sleep") < row_of(t, "sh") < row_of(t, SHOWN))
    t.key("R")
    t.wait_for("sorted by RUN%", lambda: "sorted by RUN% (R) high first" in t.text()
               and 0 <= row_of(t, "sh") < min(row_of(t, "sleep"), row_of(t, SHOWN)))
    print("sort keys: N, r, R reorder the rows")

    t.key("v")
    t.wait_for("vCPU rows", lambda: t.text().count("vCPU 0") == 3)
    t.key("v")
    t.wait_for("vCPU rows hidden", lambda: "vCPU 0" not in t.text())
    print("v: one vCPU row per single-threaded domain, and hidden again")

    t.key("d")
    t.wait_for("delay prompt", lambda: "Delay in seconds" in t.text())
    t.key("0.7\r")
    t.wait_for("new delay", lambda: "delay 0.7 s" in t.text())
    t.wait_for("an interval of 0.7 s", lambda: "interval 0.7" in t.text(), 5)
    print("d: delay set to 0.7 s and used")

    t.key("h")
    t.wait_for("help", lambda: "Sort keys, Domains" in t.text())
    t.key("h")
    t.wait_for("help left", lambda: "Sort keys" not in t.text() and "Domains: 3" in t.text())

    t.resize(20, 90)
    os.kill(t.pid, signal.SIGWINCH)
    t.wait_for("redraw at 90 columns",
               lambda: "Domains: 3" in t.text() and t.text().count("q quit") == 1
               and len(t.lines()) == 20)
    print("resize: redrawn at 20x90")

    t.key("q")
    t.wait_exit()
    t.check_restored("q")

    for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
        t = Term(["-d", "0.5"] + watch)
        t.wait_for("the screen", lambda: "Domains: 3" in t.text())
        os.kill(t.pid, sig)
        t.wait_exit()
        t.check_restored(name)

    # a watched process that is gone: not an error, shown with state g
    t = Term(["-d", "0.3"] + watch)
    t.wait_for("the screen", lambda: "Domains: 3" in t.text())
    busy.kill()
    busy.wait()
    t.wait_for("the busy loop gone", lambda: any(
        l.split()[1:3] == ["sh", "g---"] for l in t.lines() if len(l.split()) > 2))
    t.key("q")
    t.wait_exit()
    t.check_restored("q after a domain went away")
    print("live test passed")


try:
    main()
finally:
    for p in procs:
        p.kill()
        p.wait()
