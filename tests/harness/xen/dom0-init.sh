# shellcheck shell=bash
# Stage 2 body of the Xen VM's dom0 (sourced by the stage-2 script xen-vm
# writes: vmlib's vm_stage2_prologue, then $VMCTL/job, then this file).
# Runs as PID 1 on the overlay root (host root read-only + tmpfs).
#
# Starts the Xen toolstack (xenfs, xenstored, xen-init-dom0, xenconsoled),
# optionally soft-RoCE and a bridge for guests' vifs, runs the CPU-model self-test, then the caller's command
# (vm_run_cmd: stdout/stderr on ttyS0/ttyS1, status back through $VMCTL).
# Every step is appended to $VMCTL/progress with dom0's uptime; a failing step
# ends in vm_fail (status 125, reason in $VMCTL/error).
#
# From $VMCTL/job: CMD (array), WORKDIR, XEN_HARNESS (tests/harness/xen),
# XEN_RXE (0/1), XEN_NET (0/1), XEN_SELFTEST (0/1), XEN_STRESS_RUNS, and the
# caller's exports.

xen_step() { vm_progress "[dom0 $(cut -d' ' -f1 /proc/uptime)s] $*"; }

export PATH=/usr/lib/xen-4.17/bin:$PATH
hostname xen-dom0
# What udev would add to a devtmpfs /dev (bash's <(...) needs /dev/fd).
[[ -e /dev/fd ]] || ln -s /proc/self/fd /dev/fd
[[ -e /dev/stdin ]] || ln -s /proc/self/fd/0 /dev/stdin
[[ -e /dev/stdout ]] || ln -s /proc/self/fd/1 /dev/stdout
[[ -e /dev/stderr ]] || ln -s /proc/self/fd/2 /dev/stderr
# xenconsoled hands out ptys (the guest consoles); vmlib's stage 1 gives /dev only.
mkdir -p /dev/pts
mountpoint -q /dev/pts || mount -t devpts -o mode=620,ptmxmode=666 devpts /dev/pts \
  || vm_fail "cannot mount devpts on /dev/pts"

xen_step "loading the Xen modules"
out=$(modprobe -a xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd 2>&1) \
  || vm_fail "modprobe of the Xen dom0 modules (xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd) failed: $out"
mount -t xenfs xenfs /proc/xen || vm_fail "cannot mount xenfs on /proc/xen (is this kernel running as Xen dom0?)"
grep -q control_d /proc/xen/capabilities \
  || vm_fail "/proc/xen/capabilities lacks control_d: this kernel is not the Xen control domain"

xen_step "starting xenstored"
mkdir -p /var/lib/xen /var/lib/xenstored /var/log/xen/console /run/xen /run/xenstored /var/run/xen
export XENSTORED_ROOTDIR=/run/xenstored
xenstored --pid-file /run/xenstored.pid >>/var/log/xen/xenstored.out 2>&1 \
  || vm_fail "xenstored failed to start: $(tail -n 3 /var/log/xen/xenstored.out)"
for ((i = 0; i < 200; i++)); do
  xenstore-read -s / >/dev/null 2>&1 && break
  sleep 0.1
done
xenstore-read -s / >/dev/null 2>&1 || vm_fail "xenstored does not answer (xenstore-read -s / failed for 20 s)"

xen_step "running xen-init-dom0"
out=$(xen-init-dom0 2>&1) || vm_fail "xen-init-dom0 failed: $out"
xen_step "starting xenconsoled"
out=$(xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console 2>&1) \
  || vm_fail "xenconsoled failed to start: $out"
out=$(xl info 2>&1) || vm_fail "xl info failed: $out"
xen_step "toolstack ready (xl info answers)"
: >"$VMCTL/ready"

if [[ ${XEN_RXE:-0} == 1 ]]; then
  xen_step "loading the RDMA modules"
  for m in crc32_pclmul crc32_generic ib_core ib_uverbs ib_umad iw_cm ib_cm configfs \
           rdma_cm rdma_ucm udp_tunnel ip6_udp_tunnel rdma_rxe dummy; do
    out=$(modprobe "$m" 2>&1) || vm_fail "--rxe: modprobe $m failed in dom0: $out"
  done
  xen_step "creating rxe0 on dummy0"
  for c in "ip link add dummy0 type dummy" "ip addr add 10.77.0.1/24 dev dummy0" \
           "ip link set dummy0 mtu 9000 up" "rdma link add rxe0 type rxe netdev dummy0"; do
    out=$($c 2>&1) || vm_fail "--rxe: '$c' failed in dom0: $out"
  done
  for ((i = 0; i < 100; i++)); do
    st=$(cat /sys/class/infiniband/rxe0/ports/1/state 2>/dev/null)
    [[ $st == *ACTIVE* ]] && break
    sleep 0.05
  done
  [[ $st == *ACTIVE* ]] || vm_fail "--rxe: rxe0 port is not ACTIVE (state: ${st:-missing})"
  export RVMIG_RXE_ADDR=10.77.0.1 RVMIG_RXE_DEV=rxe0
  ulimit -l unlimited || vm_fail "ulimit -l unlimited failed"
  xen_step "rxe0 ready on dummy0 10.77.0.1"
fi

if [[ ${XEN_NET:-0} == 1 ]]; then
  # A network path dom0 -> guests (xen-vm --net): the back end and a bridge
  # with an address; a guest config with vif = ['bridge=rvmigbr0,script=
  # $RVMIG_XEN_VIF_SCRIPT'] gets a port on it (tests/harness/xen/vif-rvmig:
  # Xen's vif-bridge outlives libxl's 40-s hotplug timeout under TCG on a
  # loaded host), the network guest
  # (RVMIG_XEN_GUEST_NET_INITRD) the front end.  No forwarding delay, no STP:
  # a vif forwards as soon as it is up.
  xen_step "loading xen-netback and bridge, creating rvmigbr0"
  out=$(modprobe -a xen-netback bridge 2>&1) || vm_fail "--net: modprobe xen-netback bridge failed in dom0: $out"
  for c in "ip link add rvmigbr0 type bridge stp_state 0 forward_delay 0" \
           "ip addr add 10.78.0.1/24 dev rvmigbr0" "ip link set rvmigbr0 up" "ip link set lo up"; do
    out=$($c 2>&1) || vm_fail "--net: '$c' failed in dom0: $out"
  done
  # the hotplug script for vifs on it (vif = ['bridge=..,script=$RVMIG_XEN_VIF_SCRIPT'])
  export RVMIG_XEN_BRIDGE=rvmigbr0 RVMIG_XEN_BRIDGE_ADDR=10.78.0.1 RVMIG_XEN_VIF_SCRIPT=$XEN_HARNESS/vif-rvmig
  xen_step "rvmigbr0 ready, 10.78.0.1/24"
fi

# CPU-model self-test: with a wrong CPU model (XSAVE or SMAP visible) ordinary
# dom0 programs crash or compute wrong results at random; caught here it is a
# VM failure (125), not a failure of the code under test.
. "$XEN_HARNESS/selftest.sh" || vm_fail "cannot read $XEN_HARNESS/selftest.sh"
xen_step "self-test: $XEN_STRESS_RUNS stress runs in dom0"
xen_stress_loop "$XEN_STRESS_RUNS" || vm_fail "self-test: $XEN_STRESS_ERROR (bad CPU model for Xen under TCG?)"
if [[ ${XEN_SELFTEST:-0} == 1 ]]; then
  xen_step "self-test: stress runs with a PV guest running"
  out=$(xen_selftest_with_guest 2>&1) || vm_fail "self-test with a guest running failed: $(tail -n 8 <<<"$out")"
  xen_step "$(tail -n 1 <<<"$out")"
fi

export HOME=/root RVMIG_IN_VM=1 RVMIG_IN_XEN_DOM0=1
cd "$WORKDIR" || vm_fail "cd $WORKDIR failed"
xen_step "running the command"
vm_run_cmd "${CMD[@]}"
