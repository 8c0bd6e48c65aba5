#!/usr/bin/python3
"""The README's rvmig-top demo (docs/img/rvmig-top-plot.png).

  rvmig-top-demo.py RVMIG_TOP RECORD        (as root: it makes a cgroup)

Starts a CPU burner in a cgroup v1 group capped at 30 % of a CPU
(/sys/fs/cgroup/cpu/rvmig-demo-cap, cpu.cfs_quota_us 30000 of 100000), a
sleeper, and an I/O-bound process (1 MiB O_DIRECT|O_DSYNC writes at random
offsets of a 256 MiB file in /var/tmp), runs rvmig-top's live view on a pty
with --record RECORD for 60 s, writes the screen as it was after 20 s to
RECORD.screen.txt (read through pyte, Debian's python3-pyte), then stops
everything and removes the group and the file.  Then:
rvmig-top-plot RECORD -o OUT.png.
"""
import atexit, fcntl, os, pty, select, struct, subprocess, sys, termios, time

import pyte
TOP = sys.argv[1]
REC = sys.argv[2]
cg = "/sys/fs/cgroup/cpu/rvmig-demo-cap"
os.makedirs(cg, exist_ok=True)
open(cg + "/cpu.cfs_period_us", "w").write("100000")
open(cg + "/cpu.cfs_quota_us", "w").write("30000")
procs = []
atexit.register(lambda: [p.kill() for p in procs])
burn = subprocess.Popen(["sh", "-c", "echo $$ > %s/cgroup.procs; exec sh -c 'while :; do :; done'" % cg])
procs.append(burn)
sleeper = subprocess.Popen(["sleep", "600"]); procs.append(sleeper)
io = subprocess.Popen(["/usr/bin/python3", "-c",
    "import os, mmap, random\n"
    "fd = os.open('/var/tmp/rvmig-demo-io', os.O_WRONLY | os.O_CREAT | os.O_DIRECT | os.O_DSYNC, 0o600)\n"
    "buf = mmap.mmap(-1, 1 << 20)\n"
    "while True:\n    os.pwrite(fd, buf, random.randrange(256) << 20)\n"]); procs.append(io)
time.sleep(0.5)
screen = pyte.Screen(110, 22)
stream = pyte.ByteStream(screen)
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "vt100"  # no SU/SD scrolling, which pyte 0.8 lacks
    os.execv(TOP, [TOP, "-d", "1", "--record", REC, "-g", cg, "-p", str(sleeper.pid), "-p", str(io.pid)])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 22, 110, 0, 0))
def pump(t):
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                stream.feed(os.read(fd, 65536))
            except OSError:
                return
pump(20)
dump = "\n".join(l.rstrip() for l in screen.display).rstrip() + "\n"
open(REC + ".screen.txt", "w").write(dump)
print(dump)
pump(40)
os.write(fd, b"q")
pump(1)
os.waitpid(pid, 0)
for p in procs:
    p.kill(); p.wait()
os.rmdir(cg)
os.unlink("/var/tmp/rvmig-demo-io")
