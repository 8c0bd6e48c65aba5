# shellcheck shell=bash disable=SC2034  # the VM_* variables are used by the sourcing scripts
# vmlib.sh — shared helpers for the qemu-TCG test VMs (soft-RoCE tier: rxe-vm;
# real-Xen tier: the Xen harness). Source it from bash; it defines functions and
# VM_* variables only and runs nothing at load time.
#
# Model (see tests/harness/README.md for the full picture):
#   host                                   guest
#   ----                                   -----
#   vm_build_initramfs  --cpio-->          stage 1 (/init, busybox): insmod virtio+9p,
#                                          mount 9p shares, tmpfs, switch_root into the
#                                          host root (read-only 9p, or overlay on it)
#   vm_run_dir_create: RUNDIR/ctl --9p-->  /run/vmctl in the guest (rw): vm.conf (read
#                                          by stage 1), stage 2 script, progress, error,
#                                          status; the exit status comes back here
#   vm_start: qemu, ttyS0->stdout,         stage 2 (caller's script, run by bash in the
#             ttyS1->stderr, ttyS2->log    host root): the caller's setup + command
#   vm_wait: timeout, start-time probe
#   vm_result: status or 125 + reason
#   vm_cleanup (trap): no qemu left
#
# Conventions
#   - Every function logs to stderr through vm_log, never to stdout, except the
#     ones documented as "prints X", whose stdout is their result.
#   - Functions return 0 on success and non-zero on failure; callers decide
#     whether that is fatal. Exit statuses reserved by the harnesses:
#     VM_EXIT_TIMEOUT=124 (VM killed on timeout), VM_EXIT_VMFAIL=125 (the VM or
#     its setup failed, not the command).
#   - Tunables (set before calling; defaults in brackets):
#       VM_LOG_PREFIX  [vm]        prefix of stderr messages
#       VM_CPU         [max]       qemu -cpu (Xen needs max,-smap,-smep,-rdtscp,-xsave)
#       VM_SMP         [2]         qemu -smp
#       VM_MEM         [2048]      qemu -m, MiB
#       VM_APPEND_EXTRA []         appended to the kernel command line
#       RVMIG_VM_CACHE             cache dir [${XDG_CACHE_HOME:-$HOME/.cache}/rvmig-vm]
#                                  ($HOME unset: /var/tmp/.cache/rvmig-vm)
#       RVMIG_VM_KVER              kernel version to boot [newest /boot/vmlinuz-* with modules]
#       RVMIG_VM_NO_PVH=1          boot the compressed bzImage, not the extracted vmlinux
#       RVMIG_VM_KEEP=1            keep the run dir (console log etc.) after exit
#       RVMIG_VM_DEBUG=1           copy the guest kernel console to stderr at exit

VM_EXIT_TIMEOUT=124
VM_EXIT_VMFAIL=125
: "${VM_LOG_PREFIX:=vm}"
: "${VM_CPU:=max}"
: "${VM_SMP:=2}"
: "${VM_MEM:=2048}"
: "${VM_APPEND_EXTRA:=}"

# Modules stage 1 loads from the initramfs to reach the 9p shares. Order matters
# (dependencies first); vm_module_files resolves dependencies anyway.
VM_BASE_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
                 netfs fscache 9pnet 9pnet_virtio 9p)
# Directories that get a fresh tmpfs in the guest (root is read-only).
VM_TMPFS_DIRS=(/tmp /run /var/tmp /dev/shm /root /var/log /var/cache)

# State set by the functions below.
VM_RUNDIR=          # per-run scratch dir on the host (vm_run_dir_create)
VM_CTL=             # $VM_RUNDIR/ctl, shared with the guest as tag vmctl
VM_QEMU_PID=        # pid of qemu (vm_start)
VM_READER_PIDS=()   # pids of the serial-port readers (vm_start)
VM_QEMU_ARGS=()     # extra qemu arguments, filled by the caller before vm_start
VM_T_QEMU=          # host time (s.us, see vm_now) when qemu was started
VM_T_STARTED=       # host time when the guest reported "started" (vm_wait)
VM_T_END=           # host time when qemu exited or was killed (vm_wait)

# vm_log MSG...
#   Prints "$VM_LOG_PREFIX: MSG" on stderr.
vm_log() { printf '%s: %s\n' "$VM_LOG_PREFIX" "$*" >&2; }

# vm_now_us
#   Prints the host wall-clock time in integer microseconds (no fork).
vm_now_us() { printf '%s\n' "${EPOCHREALTIME//[!0-9]/}"; }

# vm_now
#   Prints the host wall-clock time in seconds with microsecond resolution
#   (for deltas; no fork).
vm_now() { local us=${EPOCHREALTIME//[!0-9]/}; printf '%s.%s\n' "${us:0:-6}" "${us: -6}"; }

# vm_elapsed T0 [T1]
#   Prints T1-T0 (T1 defaults to now) in seconds with one decimal.
vm_elapsed() { awk -v a="$1" -v b="${2:-$(vm_now)}" 'BEGIN { printf "%.1f", b - a }'; }

# vm_cache_dir
#   Prints the cache directory (created if missing).
vm_cache_dir() {
  local d="${RVMIG_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/rvmig-vm}"
  mkdir -p "$d" || return 1
  printf '%s\n' "$d"
}

# vm_find_kver
#   Prints the version of the Debian kernel to boot: $RVMIG_VM_KVER if set,
#   else the newest /boot/vmlinuz-<kver> that has /lib/modules/<kver>/modules.dep.
#   (The host's running kernel is a different one and is ignored.) Fails with a
#   message if there is none.
vm_find_kver() {
  local k best=
  if [[ -n "${RVMIG_VM_KVER:-}" ]]; then
    if [[ -r /boot/vmlinuz-$RVMIG_VM_KVER && -r /lib/modules/$RVMIG_VM_KVER/modules.dep ]]; then
      printf '%s\n' "$RVMIG_VM_KVER"; return 0
    fi
    vm_log "RVMIG_VM_KVER=$RVMIG_VM_KVER: /boot/vmlinuz-$RVMIG_VM_KVER or its modules.dep missing"
    return 1
  fi
  for k in /boot/vmlinuz-*; do
    [[ -r $k ]] || continue
    k=${k#/boot/vmlinuz-}
    [[ -r /lib/modules/$k/modules.dep ]] || continue
    if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$k" | sort -V | tail -n1) == "$k" ]]; then
      best=$k
    fi
  done
  if [[ -z $best ]]; then
    vm_log "no bootable kernel: need /boot/vmlinuz-<kver> with /lib/modules/<kver> (apt install linux-image-amd64)"
    return 1
  fi
  printf '%s\n' "$best"
}

# vm_kernel_image KVER
#   Prints the kernel image to boot for KVER. If the kernel has CONFIG_PVH=y,
#   this is its uncompressed ELF vmlinux, extracted once from
#   /boot/vmlinuz-KVER into the cache (~66 MB): qemu then enters it through the
#   PVH entry point and the guest skips the decompression of the bzImage, which
#   under TCG took 5-8 s (0.4-3 s left before the guest clock starts, against
#   5.4-8 s, measured on a loaded 2-core host). Otherwise, or if the extraction
#   fails, or with RVMIG_VM_NO_PVH=1, prints /boot/vmlinuz-KVER.
vm_kernel_image() {
  local kver=$1 bz=/boot/vmlinuz-$1 cfg=/boot/config-$1 cache magic tool off key out tmp
  if [[ ${RVMIG_VM_NO_PVH:-} == 1 ]] || ! grep -q '^CONFIG_PVH=y' "$cfg" 2>/dev/null; then
    printf '%s\n' "$bz"; return 0
  fi
  case $(grep -o '^CONFIG_KERNEL_[A-Z0-9]*=y' "$cfg") in
    CONFIG_KERNEL_XZ=y) magic='\xfd7zXZ\x00' tool=(xz -dc --single-stream) ;;
    CONFIG_KERNEL_ZSTD=y) magic='\x28\xb5\x2f\xfd' tool=(zstd -dcq) ;;
    CONFIG_KERNEL_GZIP=y) magic='\x1f\x8b\x08' tool=(gzip -dcq) ;;
    *) printf '%s\n' "$bz"; return 0 ;;
  esac
  command -v "${tool[0]}" >/dev/null || { printf '%s\n' "$bz"; return 0; }
  cache=$(vm_cache_dir) || { printf '%s\n' "$bz"; return 0; }
  key=$(stat -c '%s %Y' "$bz" | sha256sum | cut -c1-16)
  out=$cache/vmlinux-$kver-$key
  if [[ -s $out ]]; then
    touch "$out"; printf '%s\n' "$out"; return 0
  fi
  off=$(LC_ALL=C grep -obUaP -m1 "$magic" "$bz" | head -n1 | cut -d: -f1)
  tmp=$(mktemp "$cache/vmlinux.XXXXXX") || { printf '%s\n' "$bz"; return 0; }
  # gzip exits 2 on the trailing data after the payload; the ELF check decides.
  if [[ -n $off ]]; then
    tail -c +$((off + 1)) "$bz" | "${tool[@]}" >"$tmp" 2>/dev/null
  fi
  if [[ $(head -c 4 "$tmp" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
    vm_log "extracted the uncompressed kernel for PVH boot: $out"
    find "$cache" -maxdepth 1 -name "vmlinux-$kver-*" ! -name "${out##*/}" -delete 2>/dev/null
    chmod 0644 "$tmp"; mv -f "$tmp" "$out" && { printf '%s\n' "$out"; return 0; }
  fi
  rm -f "$tmp"
  vm_log "could not extract vmlinux from $bz: booting the compressed image"
  printf '%s\n' "$bz"
}

# vm_module_files KVER MODULE...
#   Prints the absolute paths of the .ko files needed to load MODULE... on KVER,
#   dependencies first, each once (uses the host's modprobe -S KVER
#   --show-depends; built-in modules print nothing). Fails naming the module
#   that modprobe does not know.
vm_module_files() {
  local kver=$1 m line
  shift
  local -A seen=()
  for m in "$@"; do
    local out
    if ! out=$(modprobe -S "$kver" --show-depends "$m" 2>&1); then
      vm_log "module $m not found for kernel $kver: $out"
      return 1
    fi
    while read -r line; do
      # "insmod /lib/modules/.../x.ko [params]" or "builtin x"
      [[ $line == insmod\ * ]] || continue
      line=${line#insmod }
      line=${line%% *}
      [[ -n ${seen[$line]:-} ]] && continue
      seen[$line]=1
      printf '%s\n' "$line"
    done <<<"$out"
  done
}

# vm_stage1_init
#   Prints the generic stage-1 /init script (busybox sh) on stdout. In the guest
#   it: mounts proc/sys/devtmpfs; insmods /modules/* in the order of
#   /modules/order; mounts the 9p tag "vmctl" on /ctl and sources /ctl/vm.conf;
#   builds the new root at /newroot from the 9p tag "hostroot" (VM_ROOT=ro:
#   read-only 9p, cache=loose; VM_ROOT=overlay: overlayfs with the read-only 9p
#   as lower layer and a tmpfs upper layer); mounts tmpfs on each of VM_TMPFS
#   (space-separated paths); if VM_WORKDIR is set, mounts the 9p tag "workdir"
#   read-write there (cache=mmap, so shared writable mmap works); moves /dev
#   (adding /dev/fd, /dev/std{in,out,err} and a devpts), mounts proc and sys, moves /ctl to /run/vmctl; appends "UPTIME stage1 ok"
#   to /run/vmctl/progress; then `exec switch_root /newroot $VM_STAGE2` (a command
#   line, e.g. "/bin/bash /run/vmctl/stage2"). On failure it writes the reason
#   to /ctl/error (if /ctl is mounted), 125 to /ctl/status, and powers off.
vm_stage1_init() {
  cat <<'EOF'
#!/bin/busybox sh
# rvmig test VM, stage 1 (generated by tests/harness/vmlib.sh)
/bin/busybox mkdir -p /proc /sys /dev /ctl /newroot /lower /upper
/bin/busybox --install -s /bin
export PATH=/bin
CTL_OK=
fail() {
  echo "vm-stage1: $*" >/dev/console
  if [ -n "$CTL_OK" ]; then
    echo "stage 1 (initramfs): $*" >/ctl/error
    echo 125 >/ctl/status
    sync
  fi
  poweroff -f
  sleep 5
  echo o >/proc/sysrq-trigger
}
mount -t proc proc /proc || fail "mount proc"
mount -t sysfs sysfs /sys || fail "mount sysfs"
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"
for m in $(cat /modules/order); do
  insmod "/modules/$m" || fail "insmod $m"
done
P9="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o "$P9,cache=none" vmctl /ctl || fail "mount 9p vmctl (the control share)"
CTL_OK=1
read -r UP _ </proc/uptime; echo "$UP stage1 start" >>/ctl/progress
[ -r /ctl/vm.conf ] || fail "/ctl/vm.conf missing"
. /ctl/vm.conf
case "${VM_ROOT:-ro}" in
  ro)
    mount -t 9p -o "$P9,ro,cache=loose" hostroot /newroot || fail "mount 9p hostroot"
    ;;
  overlay)
    mount -t 9p -o "$P9,ro,cache=loose" hostroot /lower || fail "mount 9p hostroot"
    mount -t tmpfs -o mode=0755 upper /upper || fail "mount tmpfs for overlay"
    mkdir -p /upper/u /upper/w
    mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot \
      || fail "mount overlay on hostroot"
    ;;
  *) fail "VM_ROOT=$VM_ROOT: unknown (ro|overlay)" ;;
esac
for d in $VM_TMPFS; do
  mount -t tmpfs -o mode=1777 tmpfs "/newroot$d" || fail "mount tmpfs on $d"
done
chmod 0755 /newroot/run /newroot/root /newroot/var/log /newroot/var/cache 2>/dev/null
if [ -n "${VM_WORKDIR:-}" ]; then
  mkdir -p "/newroot$VM_WORKDIR" 2>/dev/null
  mount -t 9p -o "$P9,cache=mmap" workdir "/newroot$VM_WORKDIR" \
    || fail "mount 9p workdir on $VM_WORKDIR"
fi
mount --move /dev /newroot/dev || fail "move /dev"
ln -sf /proc/self/fd /newroot/dev/fd
ln -sf /proc/self/fd/0 /newroot/dev/stdin
ln -sf /proc/self/fd/1 /newroot/dev/stdout
ln -sf /proc/self/fd/2 /newroot/dev/stderr
mkdir -p /newroot/dev/pts && mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts \
  && ln -sf pts/ptmx /newroot/dev/ptmx
# The devtmpfs moved over /dev hides the /dev/shm mounted above: mount it
# again on top (shm_open, Criterion's arenas and POSIX semaphores need it).
mkdir -p /newroot/dev/shm && mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm \
  || fail "mount tmpfs on /dev/shm"
mount -t proc proc /newroot/proc || fail "mount proc in new root"
mount -t sysfs sysfs /newroot/sys || fail "mount sysfs in new root"
mkdir -p /newroot/run/vmctl
mount --move /ctl /newroot/run/vmctl || fail "move /ctl"
read -r UP _ </proc/uptime; echo "$UP stage1 ok" >>/newroot/run/vmctl/progress
# shellcheck disable=SC2086
exec switch_root /newroot ${VM_STAGE2:-/bin/sh}
EOF
}

# vm_build_initramfs KVER INIT_FILE MODULE...
#   Prints the path of an uncompressed newc cpio containing busybox-static
#   (/bin/busybox), INIT_FILE as /init, /dev/console, and the .ko files of
#   MODULE... and their dependencies under /modules (load order in
#   /modules/order). Cached in $(vm_cache_dir) under a name derived from the
#   inputs (kernel version, busybox binary, init script, module files), so it is
#   rebuilt only when one of them changes; images unused for 7 days are
#   deleted. Needs root (mknod /dev/console).
vm_build_initramfs() {
  local kver=$1 init=$2
  shift 2
  local cache bb files key stage f i out
  cache=$(vm_cache_dir) || return 1
  bb=/bin/busybox   # busybox-static's binary: no shared libraries needed in the cpio
  if [[ ! -x $bb ]] || ldd "$bb" >/dev/null 2>&1; then
    vm_log "$bb missing or not static (apt install busybox-static)"; return 1
  fi
  files=$(vm_module_files "$kver" "$@") || return 1
  key=$( { printf '%s\n' "$kver" "$files"; sha256sum <"$bb"; sha256sum <"$init";
           while read -r f; do [[ -n $f ]] && stat -c '%n %s %Y' "$f"; done <<<"$files"; } \
         | sha256sum | cut -c1-16)
  out="$cache/initramfs-$kver-$key.cpio"
  if [[ -s $out ]]; then
    touch "$out"  # mtime = last use, for the pruning below
    printf '%s\n' "$out"; return 0
  fi
  # Images unused for a week belong to old inputs: drop them.
  find "$cache" -maxdepth 1 -name 'initramfs-*.cpio' -mtime +7 -delete 2>/dev/null
  vm_log "building initramfs $out"
  stage=$(mktemp -d "$cache/stage.XXXXXX") || return 1
  if ! { mkdir -p "$stage/bin" "$stage/dev" "$stage/modules" &&
          cp "$bb" "$stage/bin/busybox" &&
          install -m 0755 "$init" "$stage/init" &&
          mknod -m 600 "$stage/dev/console" c 5 1; }; then
    vm_log "cannot stage the initramfs in $stage"
    rm -rf "$stage"; return 1
  fi
  i=0
  while read -r f; do
    [[ -n $f ]] || continue
    i=$((i + 1))
    local name
    name=$(printf '%02d-%s' "$i" "${f##*/}")
    cp "$f" "$stage/modules/$name" || { rm -rf "$stage"; return 1; }
    printf '%s\n' "$name" >>"$stage/modules/order"
  done <<<"$files"
  touch "$stage/modules/order"
  # Built under a unique name, then renamed: concurrent builders never see a
  # partial file.
  if ! (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 >"$stage.cpio"); then
    vm_log "cpio failed building $out"
    rm -rf "$stage" "$stage.cpio"; return 1
  fi
  rm -rf "$stage"
  mv -f "$stage.cpio" "$out" || return 1
  printf '%s\n' "$out"
}

# vm_run_dir_create
#   Creates a fresh per-run directory ${TMPDIR:-/tmp}/rvmig-vm.XXXXXX and sets
#   VM_RUNDIR and VM_CTL ($VM_RUNDIR/ctl, the guest's /run/vmctl). Records the
#   owning shell's pid in $VM_RUNDIR/owner.pid. Also creates the FIFOs
#   $VM_RUNDIR/ttyS0 and ttyS1 (guest serial ports 0/1 -> host stdout/stderr);
#   the guest kernel console (ttyS2) goes to $VM_RUNDIR/console.log.
#   First removes run dirs left behind by harnesses that were SIGKILLed (their
#   owner.pid no longer runs; qemu died with them through --pdeathsig).
vm_run_dir_create() {
  local d p
  for d in "${TMPDIR:-/tmp}"/rvmig-vm.*; do
    [[ -r $d/owner.pid ]] || continue
    p=$(cat "$d/owner.pid" 2>/dev/null)
    [[ $p =~ ^[0-9]+$ ]] && ! kill -0 "$p" 2>/dev/null && rm -rf "$d"
  done
  VM_RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/rvmig-vm.XXXXXX") || return 1
  VM_CTL=$VM_RUNDIR/ctl
  mkdir -p "$VM_CTL" && mkfifo "$VM_RUNDIR/ttyS0" "$VM_RUNDIR/ttyS1" && : >"$VM_RUNDIR/console.log" &&
    printf '%s\n' "$$" >"$VM_RUNDIR/owner.pid"
}

# vm_write_conf KEY=VALUE...
#   Writes $VM_CTL/vm.conf, read by stage 1 (sh syntax, values quoted).
#   Keys: VM_ROOT (ro|overlay), VM_TMPFS (space-separated dirs), VM_WORKDIR
#   (absolute path shared read-write, empty for none), VM_STAGE2 (command line
#   exec'd after switch_root).
vm_write_conf() {
  local kv
  : >"$VM_CTL/vm.conf" || return 1
  for kv in "$@"; do
    printf "%s='%s'\n" "${kv%%=*}" "${kv#*=}" >>"$VM_CTL/vm.conf"
  done
}

# vm_qemu_base_args KERNEL INITRD APPEND [WORKDIR]
#   Sets VM_QEMU_ARGS to a complete qemu-system-x86_64 command line: TCG,
#   $VM_CPU/$VM_SMP/$VM_MEM, no NIC, no display, -no-reboot, serial ports
#   ttyS0 -> $VM_RUNDIR/ttyS0, ttyS1 -> $VM_RUNDIR/ttyS1, ttyS2 ->
#   $VM_RUNDIR/console.log, 9p shares hostroot (/, read-only, multidevs=remap),
#   vmctl ($VM_CTL) and, if WORKDIR is given, workdir (WORKDIR, read-write).
#   APPEND is the whole kernel command line (use vm_default_append). The caller
#   may append to VM_QEMU_ARGS afterwards (e.g. more -device).
vm_qemu_base_args() {
  local kernel=$1 initrd=$2 append=$3 workdir=${4:-}
  VM_QEMU_ARGS=(qemu-system-x86_64 -accel tcg -cpu "$VM_CPU" -smp "$VM_SMP" -m "$VM_MEM"
    -nic none -display none -monitor none -no-reboot -nodefaults
    -kernel "$kernel" -initrd "$initrd" -append "$append"
    -chardev "file,id=s0,path=$VM_RUNDIR/ttyS0" -serial chardev:s0
    -chardev "file,id=s1,path=$VM_RUNDIR/ttyS1" -serial chardev:s1
    -chardev "file,id=s2,path=$VM_RUNDIR/console.log" -serial chardev:s2
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
    -virtfs "local,path=$VM_CTL,mount_tag=vmctl,security_model=none,multidevs=remap")
  if [[ -n $workdir ]]; then
    VM_QEMU_ARGS+=(-virtfs "local,path=$workdir,mount_tag=workdir,security_model=none,multidevs=remap")
  fi
}

# vm_clock_args
#   Prints kernel parameters that keep the guest clock in step with the host.
#   Under TCG the guest TSC ticks at the host TSC rate, but the guest measures
#   that rate against the emulated HPET over a few ms at boot, and a loaded host
#   can disturb the measurement (seen once in ~20 boots at load 9: guest clock
#   1.5x fast, so every guest-side timeout fired early). Without tsc=reliable the
#   guest always drops the TSC ("TSCs unsynchronized" with 2 vCPUs) for the
#   HPET, whose clock_gettime costs 1-3 us instead of ~0.2 us. So: if the host
#   kernel log gives the host TSC rate, pass it (tsc_early_khz=, tsc=reliable);
#   else clocksource=hpet (always right, slower).
vm_clock_args() {
  local mhz khz
  mhz=$(dmesg 2>/dev/null | sed -n -e 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' \
                                 -e 's/.*tsc: Detected \([0-9.]*\) MHz TSC.*/\1/p' \
                                 -e 's/.*tsc: Detected \([0-9.]*\) MHz processor.*/\1/p' | tail -n1)
  khz=$(awk -v m="$mhz" 'BEGIN { if (m + 0 >= 100) printf "%d", m * 1000 }')
  if [[ -n $khz ]]; then
    printf 'tsc=reliable tsc_early_khz=%s\n' "$khz"
  else
    printf 'clocksource=hpet\n'
  fi
}

# vm_default_append
#   Prints the kernel command line for a plain Linux guest: console on ttyS2,
#   stage 1 as rdinit, fast and quiet boot, vm_clock_args, plus
#   $VM_APPEND_EXTRA.
vm_default_append() {
  printf '%s\n' "console=ttyS2 panic=-1 mitigations=off rdinit=/init nokaslr quiet loglevel=4 $(vm_clock_args) $VM_APPEND_EXTRA"
}

# vm_start
#   Starts "${VM_QEMU_ARGS[@]}" in the background (sets VM_QEMU_PID,
#   VM_T_QEMU) with readers copying the guest's ttyS0 to this shell's stdout and
#   ttyS1 to its stderr as the bytes arrive (VM_READER_PIDS). qemu gets
#   SIGKILL if this shell dies (setpriv --pdeathsig), so even a SIGKILL of the
#   harness leaves no VM behind. Call vm_install_trap first.
vm_start() {
  cat "$VM_RUNDIR/ttyS0" &
  VM_READER_PIDS+=($!)
  cat "$VM_RUNDIR/ttyS1" >&2 &
  VM_READER_PIDS+=($!)
  VM_T_QEMU=$(vm_now)
  setpriv --pdeathsig KILL -- "${VM_QEMU_ARGS[@]}" </dev/null >"$VM_RUNDIR/qemu.log" 2>&1 &
  VM_QEMU_PID=$!
  printf '%s\n' "$VM_QEMU_PID" >"$VM_RUNDIR/qemu.pid"
}

# vm_wait TIMEOUT_SEC
#   Waits until qemu exits, polling 10 times a second; records VM_T_STARTED
#   (host time) the first time $VM_CTL/started appears (the guest creates it
#   just before running the command) and VM_T_END. After TIMEOUT_SEC seconds
#   since vm_start, kills qemu and returns 124. Otherwise returns 0 once qemu
#   has exited and the serial readers have copied everything.
vm_wait() {
  local timeout=$1 deadline fd rc=0
  deadline=$(( ${VM_T_QEMU//[!0-9]/} + timeout * 1000000 ))
  # A FIFO opened read-write that nobody writes: `read -t` on it is a fork-free sleep.
  mkfifo "$VM_RUNDIR/tick"
  exec {fd}<>"$VM_RUNDIR/tick"
  while kill -0 "$VM_QEMU_PID" 2>/dev/null; do
    if [[ -z $VM_T_STARTED && -e $VM_CTL/started ]]; then
      VM_T_STARTED=$(vm_now)
    fi
    if (( ${EPOCHREALTIME//[!0-9]/} >= deadline )); then
      vm_log "timeout after ${timeout}s: killing the VM (qemu pid $VM_QEMU_PID)"
      kill -KILL "$VM_QEMU_PID" 2>/dev/null
      rc=$VM_EXIT_TIMEOUT
      break
    fi
    read -r -t 0.1 -u "$fd" _ || true
  done
  exec {fd}<&-
  wait "$VM_QEMU_PID" 2>/dev/null
  VM_T_END=$(vm_now)
  if [[ -z $VM_T_STARTED && -e $VM_CTL/started ]]; then
    VM_T_STARTED=$VM_T_END
  fi
  # qemu held the write ends; once it is gone the readers see EOF. If qemu
  # died before opening them, a reader still blocks in open(): opening the
  # FIFO read-write here (never blocks) and closing it releases it.
  local p w
  for p in "$VM_RUNDIR/ttyS0" "$VM_RUNDIR/ttyS1"; do
    exec {w}<>"$p" && exec {w}<&-
  done
  for p in "${VM_READER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  VM_READER_PIDS=()
  VM_QEMU_PID=
  return $rc
}

# vm_result
#   After vm_wait returned 0: prints nothing and returns the guest's status from
#   $VM_CTL/status. If the guest wrote $VM_CTL/error, or wrote no status at all
#   (did not boot, crashed, powered off early), logs what failed — the error
#   text, the last progress step reached, the tail of the kernel console and of
#   qemu's own output — and returns 125.
vm_result() {
  local st=
  [[ -r $VM_CTL/status ]] && st=$(tr -dc '0-9' <"$VM_CTL/status")
  if [[ -s $VM_CTL/error ]]; then
    vm_log "VM setup failed: $(cat "$VM_CTL/error")"
    vm_dump_diag
    return $VM_EXIT_VMFAIL
  fi
  if [[ -z $st ]]; then
    local last=none
    [[ -s $VM_CTL/progress ]] && last=$(tail -n1 "$VM_CTL/progress")
    vm_log "VM failed: it stopped without reporting an exit status (last step reached: $last)"
    vm_dump_diag
    return $VM_EXIT_VMFAIL
  fi
  [[ ${RVMIG_VM_DEBUG:-} == 1 ]] && vm_dump_diag
  return "$st"
}

# vm_dump_diag
#   Logs the tail of the guest kernel console and of qemu's own output.
vm_dump_diag() {
  if [[ -s $VM_RUNDIR/console.log ]]; then
    vm_log "--- guest console (last 30 lines) ---"
    tail -n 30 "$VM_RUNDIR/console.log" | tr -d '\r' >&2
  fi
  if [[ -s $VM_RUNDIR/qemu.log ]]; then
    vm_log "--- qemu output ---"
    tail -n 20 "$VM_RUNDIR/qemu.log" >&2
  fi
}

# vm_cleanup
#   Kills qemu (if still running) and the serial readers, and removes
#   VM_RUNDIR unless RVMIG_VM_KEEP=1 (then logs where it is). Idempotent.
vm_cleanup() {
  local p
  if [[ -n ${VM_QEMU_PID:-} ]]; then
    kill -KILL "$VM_QEMU_PID" 2>/dev/null
    wait "$VM_QEMU_PID" 2>/dev/null
    VM_QEMU_PID=
  fi
  for p in "${VM_READER_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  VM_READER_PIDS=()
  if [[ -n ${VM_RUNDIR:-} && -d $VM_RUNDIR ]]; then
    if [[ ${RVMIG_VM_KEEP:-} == 1 ]]; then
      rm -f "$VM_RUNDIR/owner.pid"  # so that later runs do not reap it
      vm_log "run dir kept: $VM_RUNDIR"
    else
      rm -rf "$VM_RUNDIR"
    fi
  fi
  VM_RUNDIR=
}

# vm_install_trap
#   Makes vm_cleanup run on EXIT, and on INT/TERM/HUP (then exits 130/143/129).
vm_install_trap() {
  trap vm_cleanup EXIT
  trap 'vm_cleanup; exit 130' INT
  trap 'vm_cleanup; exit 143' TERM
  trap 'vm_cleanup; exit 129' HUP
}

# vm_stage2_prologue
#   Prints bash code for the top of a stage-2 script (run in the guest after
#   switch_root, by the host's /bin/bash): defines
#     vm_progress MSG   append "UPTIME MSG" to /run/vmctl/progress
#     vm_fail MSG       record MSG as the VM failure (status 125) and power off
#     vm_poweroff       sync, drain the serial ports, power off
#     vm_run_cmd CMD... write the guest uptime to /run/vmctl/started, run CMD
#                       with stdout/stderr on ttyS0/ttyS1 and stdin /dev/null,
#                       write its status to /run/vmctl/status, then
#                       vm_poweroff (does not return)
#   and puts ttyS0/ttyS1 in raw mode (no \r insertion), brings up lo.
vm_stage2_prologue() {
  cat <<'EOF'
VMCTL=/run/vmctl
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
vm_progress() { local up _; read -r up _ </proc/uptime; printf '%s %s\n' "$up" "$*" >>"$VMCTL/progress"; }
vm_poweroff() {
  sync
  # stty applies settings with TCSADRAIN: returns once the UART has sent all.
  stty -F /dev/ttyS0 raw -echo 2>/dev/null
  stty -F /dev/ttyS1 raw -echo 2>/dev/null
  busybox poweroff -f
  echo o >/proc/sysrq-trigger
  sleep 10
}
vm_fail() {
  printf 'vm guest: %s\n' "$*" >/dev/console
  printf '%s\n' "$*" >"$VMCTL/error"
  echo 125 >"$VMCTL/status"
  vm_poweroff
}
vm_run_cmd() {
  local rc up _
  read -r up _ </proc/uptime
  printf '%s\n' "$up" >"$VMCTL/started"
  "$@" </dev/null >/dev/ttyS0 2>/dev/ttyS1
  rc=$?
  echo "$rc" >"$VMCTL/status"
  vm_progress "command exited $rc"
  vm_poweroff
}
stty -F /dev/ttyS0 raw -echo || vm_fail "stty ttyS0"
stty -F /dev/ttyS1 raw -echo || vm_fail "stty ttyS1"
ip link set lo up || vm_fail "ip link set lo up"
vm_progress "stage2 start"
EOF
}

# vm_share_dir WORKDIR: the host directory shared read-write with the VM at the
# same path: $RVMIG_VM_SHARE (e.g. the source tree holding the build tree, so
# scripts under it stay visible even when it lies below a path the VM covers
# with tmpfs, such as /tmp or /root), else WORKDIR itself.  WORKDIR must lie
# inside it.  Prints the directory; fails with a message otherwise.
vm_share_dir() {
  local workdir=$1 share
  share=$(cd "${RVMIG_VM_SHARE:-$workdir}" 2>/dev/null && pwd -P) \
    || { vm_log "VM failed: RVMIG_VM_SHARE=${RVMIG_VM_SHARE:-} is not a directory"; return 1; }
  case $workdir/ in
    "$share"/*) ;;
    *) vm_log "VM failed: working directory $workdir is not inside the shared directory $share"; return 1 ;;
  esac
  [[ $share != / && $share != *,* ]] \
    || { vm_log "VM failed: cannot share $share read-write (it is / or holds a comma)"; return 1; }
  printf '%s\n' "$share"
}
