# shellcheck shell=bash
# Shell functions for tests that run inside the Xen VM (tests/harness/xen-vm).
# Source it from bash:  . "$(dirname "$0")/xenlib.sh"
#
# The guest is the "tick guest": Debian's kernel + a busybox initramfs whose
# init prints "rvmig-tick N" (N = 1, 2, ...) to hvc0 once a second; xenconsoled
# (--log=guest) writes that to /var/log/xen/console/guest-NAME.log.  The tick
# counter lives in guest memory, so after a restore or a migration the guest
# continues from where it stopped: assert_running checks for ticks beyond the
# last one seen before.
#
# Functions (all return 0 on success; on failure print "xenlib: ..." to stderr
# and return 1, so `fn || exit 1` gives a clear message):
#   xen_tmpdir                       make $XEN_TMP (removed by xen_cleanup)
#   create_guest NAME [pv|pvh] [MiB] write $XEN_TMP/NAME.cfg and xl create it
#   wait_ticks NAME [AFTER] [SEC]    wait for a tick > AFTER; sets XEN_LAST_TICK
#                                    (on failure XEN_WAIT_FAIL=crashed|gone|timeout)
#   start_guest NAME [pv|pvh] [MiB]  create_guest + its first tick; a guest that
#                                    crashes before its first tick is started
#                                    again (RVMIG_XEN_START_TRIES, default 3):
#                                    PVH guests sometimes die in early boot under
#                                    TCG Xen, before any code under test runs;
#                                    the first tick may take
#                                    RVMIG_XEN_BOOT_TIMEOUT s (default 300: a
#                                    guest kernel boot under TCG on a loaded host
#                                    was seen taking 120+ s)
#   save_guest NAME FILE             xl save, then check size and the xl magic
#                                    (FILE on a local fs such as $XEN_TMP: into a
#                                    file on the 9p share xl save fails, EFAULT)
#   check_save_file FILE [MiB]       the size and magic check alone
#   restore_guest FILE               xl restore (the domain keeps its name)
#   assert_running NAME [SEC]        in xl list, not crashed, new ticks appear
#   migrate_guest NAME               xl migrate -s xl-local-ssh NAME localhost
#                                    (live; PVH only on Debian's Xen)
#   xen_migrated NAME SRC_LOG        migrate_guest's bookkeeping, after another
#                                    tool migrated NAME to this host
#   destroy_guest NAME               xl destroy if it exists
#   last_tick NAME                   print the highest tick seen in the log
#   xen_cleanup                      destroy guests made here, remove $XEN_TMP
#   xen_transport_addr tcp|verbs     the address an rvmig tool uses inside dom0:
#                                    127.0.0.1, or $RVMIG_RXE_ADDR (rxe0, needs
#                                    xen-vm --rxe); sets XEN_ADDR
#   xen_show_diag [NAME...]          after a failure: xl list, xl dmesg, the xl /
#                                    qemu-dm logs, the guests' consoles (stderr)
#   xen_rvmigd_start RVMIGD tcp|verbs a fresh key ($XEN_TMP/tunnel.key, 0600)
#                                    and rvmigd on a free port of the
#                                    transport's address, log in
#                                    $XEN_TMP/rvmigd.log; sets XEN_KEY,
#                                    XEN_ADDR, XEN_PORT, XEN_RVMIGD_PID (the
#                                    caller stops it)
#   xen_ready_open                   a FIFO for a tool's --ready-file, held open
#                                    on fd 9; sets XEN_READY
#   xen_ready_wait PID LOG WHAT [SEC] the port the tool wrote there; sets
#                                    XEN_PORT (prints LOG if it never came)
# Timings of each xl step go to stderr as "xenlib: TIME <step> <seconds> s" and
# to $XEN_LAST_SECONDS.
#
# Environment: RVMIG_XEN_GUEST_KERNEL, RVMIG_XEN_GUEST_INITRD (set by xen-vm;
# defaults: the newest /boot/vmlinuz-*, an initramfs built into $XEN_TMP),
# RVMIG_XEN_GUEST_EXTRA (words added to the guest kernel's command line, e.g.
# "rvmig.burn": the tick guest then also runs a busy loop),
# RVMIG_XEN_GUEST_VIF (a vif spec, e.g. "bridge=rvmigbr0,script=PATH,mac=..":
# the guest gets that one network interface; none without it; xen-vm --net
# makes the bridge and the network guest's initramfs),
# RVMIG_XEN_GUEST_MEMORY (MiB, default 96: Debian's kernel as a 64-bit PV
# guest needs at least that), RVMIG_XEN_TICK_TIMEOUT (s, default 180).

XENLIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
XENLIB_HARNESS=$(cd "$XENLIB_DIR/../harness/xen" && pwd)
XEN_CONSOLE_DIR=${XEN_CONSOLE_DIR:-/var/log/xen/console}
# First 32 bytes of an `xl save` file (libxl's savefile header magic).
XEN_XL_MAGIC='Xen saved domain, xl format\n \0 \r'
XENLIB_GUESTS=()
# Per guest: byte offset in its console log where the current run starts (set
# by save_guest; ticks before it belong to the run that was saved).
declare -A XEN_LOG_MARK=()

xen_err() { echo "xenlib: $*" >&2; return 1; }
xen_note() { echo "xenlib: $*" >&2; }
xen_now() { date +%s.%N; }
xen_elapsed() { awk -v a="$1" -v b="$(xen_now)" 'BEGIN { printf "%.2f", b - a }'; }
# shellcheck disable=SC2034  # XEN_LAST_SECONDS, XEN_SAVE_SIZE: for callers
xen_time() { XEN_LAST_SECONDS=$2; echo "xenlib: TIME $1 $2 s" >&2; }

xen_tmpdir() {
  [[ -n ${XEN_TMP:-} && -d $XEN_TMP ]] && return 0
  XEN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/xen-test.XXXXXX") || xen_err "mktemp failed"
}

xen_guest_files() {
  if [[ -z ${RVMIG_XEN_GUEST_KERNEL:-} ]]; then
    RVMIG_XEN_GUEST_KERNEL=$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -n1)
  fi
  [[ -r $RVMIG_XEN_GUEST_KERNEL ]] || xen_err "guest kernel '$RVMIG_XEN_GUEST_KERNEL' not readable" || return 1
  if [[ -z ${RVMIG_XEN_GUEST_INITRD:-} ]]; then
    xen_tmpdir || return 1
    RVMIG_XEN_GUEST_INITRD=$XEN_TMP/guest-initrd.cpio
    "$XENLIB_HARNESS/mkguest-initrd" "$RVMIG_XEN_GUEST_INITRD" || xen_err "building the guest initramfs failed" || return 1
  fi
  [[ -r $RVMIG_XEN_GUEST_INITRD ]] || xen_err "guest initramfs '$RVMIG_XEN_GUEST_INITRD' not readable"
}

# Per guest: console log to read instead of guest-NAME.log (set by
# migrate_guest: xenconsoled names the log after the domain's name when it
# first sees it, and a migrated-in domain starts as NAME--incoming).
declare -A XEN_LOG_FILE=()
xen_console_log() { echo "${XEN_LOG_FILE[$1]:-$XEN_CONSOLE_DIR/guest-$1.log}"; }

# Is domain NAME known to xl?
xen_domain_exists() { xl domid "$1" > /dev/null 2>&1; }

# xen_log_since NAME: the guest's console log from its mark on (see save_guest).
xen_log_since() {
  local log off size
  log=$(xen_console_log "$1")
  [[ -r $log ]] || return 0
  off=${XEN_LOG_MARK[$1]:-0}
  size=$(stat -c %s "$log")
  ((size >= off)) || off=0   # log was recreated
  tail -c +$((off + 1)) "$log"
}

last_tick() {
  xen_log_since "$1" | grep -a -o 'rvmig-tick [0-9]*' | awk '$2 > m { m = $2 } END { print m + 0 }'
}

# first_tick NAME: the first tick in the log since the mark (0 if none).
first_tick() {
  xen_log_since "$1" | grep -a -o -m1 'rvmig-tick [0-9]*' | awk '{ print $2 + 0; exit } END { if (!NR) print 0 }'
}

xen_show_console() {
  local log; log=$(xen_console_log "$1")
  if [[ -r $log ]]; then
    echo "xenlib: last lines of $log:" >&2
    tail -n 15 "$log" | tr -d '\r' | sed 's/^/  | /' >&2
  else
    echo "xenlib: no console log $log" >&2
  fi
}

xen_show_xen_log() {
  echo "xenlib: last lines of xl dmesg:" >&2
  xl dmesg 2>&1 | tail -n 12 | sed 's/^/  | /' >&2
}

# xen_show_diag [NAME...]: what an operator reads after a failed
# migration: xl list, the tail of xl dmesg, of every xl and qemu-dm log in
# /var/log/xen (the VM's dom0 is fresh: all of them are this test's) and of
# each guest's console logs (NAME, and NAME--incoming of a migration).
xen_show_diag() {
  local f n
  echo "xenlib: xl list:" >&2
  xl list 2>&1 | sed 's/^/  | /' >&2
  xen_show_xen_log
  for f in /var/log/xen/xl-*.log /var/log/xen/qemu-dm-*.log; do
    [[ -r $f ]] || continue
    echo "xenlib: last lines of $f:" >&2
    tail -n 20 "$f" | tr -d '\r' | sed 's/^/  | /' >&2
  done
  for n in "$@"; do
    xen_show_console "$n"
    f=$XEN_CONSOLE_DIR/guest-$n--incoming.log
    [[ -r $f && $f != "$(xen_console_log "$n")" ]] || continue
    echo "xenlib: last lines of $f:" >&2
    tail -n 15 "$f" | tr -d '\r' | sed 's/^/  | /' >&2
  done
}

create_guest() {
  local name=${1:?create_guest NAME [pv|pvh] [MiB]} type=${2:-pv} mem=${3:-${RVMIG_XEN_GUEST_MEMORY:-96}}
  xen_tmpdir && xen_guest_files || return 1
  local cfg=$XEN_TMP/$name.cfg extra=${RVMIG_XEN_GUEST_EXTRA:+ $RVMIG_XEN_GUEST_EXTRA}
  case $extra in *'"'* | *'\'* | *'|'*) xen_err "RVMIG_XEN_GUEST_EXTRA must not hold a quote, backslash or |"; return 1 ;; esac
  sed -e "s|@NAME@|$name|" -e "s|@EXTRA@|$extra|" -e "s|@TYPE@|$type|" -e "s|@MEMORY@|$mem|" \
      -e "s|@KERNEL@|$RVMIG_XEN_GUEST_KERNEL|" -e "s|@RAMDISK@|$RVMIG_XEN_GUEST_INITRD|" \
      "$XENLIB_HARNESS/guest.cfg.in" > "$cfg" || xen_err "cannot write $cfg" || return 1
  if [[ -n ${RVMIG_XEN_GUEST_VIF:-} ]]; then
    [[ $RVMIG_XEN_GUEST_VIF =~ ^[A-Za-z0-9=,:./_-]+$ ]] \
      || xen_err "RVMIG_XEN_GUEST_VIF '$RVMIG_XEN_GUEST_VIF' holds more than [A-Za-z0-9=,:./_-]" || return 1
    echo "vif = [ '$RVMIG_XEN_GUEST_VIF' ]" >> "$cfg"
  fi
  rm -f "$(xen_console_log "$name")"
  local t0; t0=$(xen_now)
  xl create "$cfg" > "$XEN_TMP/$name.create.log" 2>&1 || {
    sed 's/^/  | /' "$XEN_TMP/$name.create.log" >&2
    xen_err "xl create $cfg failed (guest $name, type $type, ${mem} MiB)"
    return 1
  }
  xen_time "create($name,$type,${mem}MiB)" "$(xen_elapsed "$t0")"
  XENLIB_GUESTS+=("$name")
}

wait_ticks() {
  local name=${1:?wait_ticks NAME [AFTER] [SEC]} after=${2:-0} limit=${3:-${RVMIG_XEN_TICK_TIMEOUT:-180}}
  local t0; t0=$(xen_now)
  local deadline=$((SECONDS + limit)) t state
  while :; do
    t=$(last_tick "$name")
    if ((t > after)); then
      XEN_LAST_TICK=$t
      xen_time "ticks($name,>$after)" "$(xen_elapsed "$t0")"
      return 0
    fi
    if ! state=$(xl list "$name" 2>&1); then
      xen_show_console "$name"
      xen_show_xen_log
      echo "xenlib: xl list $name: $state" >&2
      XEN_WAIT_FAIL=gone
      xen_err "guest $name is gone while waiting for a tick > $after"
      return 1
    fi
    if awk 'NR == 2 { exit !($5 ~ /[cs]/) }' <<<"$state"; then
      xen_show_console "$name"
      xen_show_xen_log
      XEN_WAIT_FAIL=crashed
      xen_err "guest $name crashed or shut down while waiting for a tick > $after ($(awk 'NR == 2 { print "state " $5 }' <<<"$state"))"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      xen_show_console "$name"
      xl list >&2
      XEN_WAIT_FAIL=timeout
      xen_err "no tick > $after from guest $name within $limit s (last tick seen: $t)"
      return 1
    fi
    sleep 0.5
  done
}

start_guest() {
  local name=${1:?start_guest NAME [pv|pvh] [MiB]} type=${2:-pv} mem=${3:-${RVMIG_XEN_GUEST_MEMORY:-96}}
  local tries=${RVMIG_XEN_START_TRIES:-5} i
  for ((i = 1; i <= tries; i++)); do
    create_guest "$name" "$type" "$mem" || return 1
    XEN_WAIT_FAIL=
    wait_ticks "$name" 0 "${RVMIG_XEN_BOOT_TIMEOUT:-300}" && return 0
    # Only a crash in early boot is retried: a guest that hangs or vanishes
    # is a failure of its own. Five tries: a local full run (2026-12-07,
    # load ~2) saw a PVH guest crash in early boot 3 times in a row in one
    # VM (xen.policy_migrate_full_tcp), each crash a few seconds.
    [[ $XEN_WAIT_FAIL == crashed ]] || return 1
    destroy_guest "$name" || return 1
    xen_note "RETRY guest $name ($type) crashed before its first tick (attempt $i of $tries); starting it again"
  done
  xen_err "guest $name ($type) crashed before its first tick in all $tries attempts"
}

check_save_file() {
  local file=${1:?check_save_file FILE [MiB]} mem=${2:-${RVMIG_XEN_GUEST_MEMORY:-96}}
  [[ -f $file ]] || xen_err "save file $file does not exist" || return 1
  local size; size=$(stat -c %s "$file")
  # A saved domain carries (nearly) all of its memory; less than half of it
  # means a truncated or empty stream.
  local min=$((mem * 1024 * 1024 / 2))
  ((size >= min)) || xen_err "save file $file is $size bytes, expected at least $min for a ${mem} MiB guest" || return 1
  local want got
  want=$(printf '%b' "$XEN_XL_MAGIC" | od -An -tx1 | tr -d ' \n')
  got=$(head -c 32 "$file" | od -An -tx1 | tr -d ' \n')
  [[ $got == "$want" ]] \
    || xen_err "save file $file does not start with the xl magic 'Xen saved domain, xl format\\n \\0 \\r' (first 32 bytes: $got)" || return 1
  # shellcheck disable=SC2034
  XEN_SAVE_SIZE=$size
  xen_note "save file $file: $size bytes, xl magic ok"
}

save_guest() {
  local name=${1:?save_guest NAME FILE} file=${2:?save_guest NAME FILE}
  xen_tmpdir || return 1
  local t0; t0=$(xen_now)
  xl save "$name" "$file" > "$XEN_TMP/$name.save.log" 2>&1 || {
    sed 's/^/  | /' "$XEN_TMP/$name.save.log" >&2
    xen_err "xl save $name $file failed"
    return 1
  }
  xen_time "save($name)" "$(xen_elapsed "$t0")"
  if xen_domain_exists "$name"; then
    xen_err "guest $name still exists after xl save"
    return 1
  fi
  # The guest is gone: the last tick in its log is the last one it printed
  # before it was suspended; a restored guest must continue after it.
  XEN_LAST_TICK=$(last_tick "$name")
  local log; log=$(xen_console_log "$name")
  XEN_LOG_MARK[$name]=$(stat -c %s "$log" 2>/dev/null || echo 0)
  xen_note "guest $name saved after tick $XEN_LAST_TICK"
  check_save_file "$file"
}

restore_guest() {
  local file=${1:?restore_guest FILE}
  xen_tmpdir || return 1
  local t0; t0=$(xen_now)
  xl restore "$file" > "$XEN_TMP/restore.log" 2>&1 || {
    sed 's/^/  | /' "$XEN_TMP/restore.log" >&2
    xen_err "xl restore $file failed"
    return 1
  }
  xen_time "restore" "$(xen_elapsed "$t0")"
}

# assert_running NAME [SEC]: NAME is listed, not crashed, and prints ticks
# beyond $XEN_LAST_TICK (after save_guest: the last tick before the save). Since
# the mark save_guest set, the guest must not have booted afresh ("rvmig-guest:
# up" banner), i.e. it continued from the saved state.
assert_running() {
  local name=${1:?assert_running NAME [SEC]} limit=${2:-60}
  xen_domain_exists "$name" || { xl list >&2; xen_err "guest $name is not in xl list"; return 1; }
  local before=${XEN_LAST_TICK:-0}
  wait_ticks "$name" "$before" "$limit" \
    || xen_err "guest $name does not run: no tick beyond $before within $limit s" || return 1
  if [[ -n ${XEN_LOG_MARK[$name]:-} ]] && xen_log_since "$name" | grep -a -q 'rvmig-guest: up'; then
    xen_show_console "$name"
    xen_err "guest $name booted afresh instead of continuing from its saved state"
    return 1
  fi
  xen_note "guest $name runs: ticks $(first_tick "$name")..$XEN_LAST_TICK after $before"
}

# migrate_guest NAME: live-migrates NAME to this same host through
# `xl migrate -s tests/xen/xl-local-ssh` (xl's ssh-style transport, here a
# local pipe pair). Afterwards XEN_LAST_TICK is the source's last tick and
# assert_running NAME checks the migrated domain. PV guests cannot migrate on
# Debian's Xen (no shadow paging: "Failed to enable logdirty: 95"); use pvh.
migrate_guest() {
  local name=${1:?migrate_guest NAME}
  xen_tmpdir || return 1
  local t0; t0=$(xen_now)
  local src_log; src_log=$(xen_console_log "$name")
  xl migrate -s "$XENLIB_DIR/xl-local-ssh" "$name" localhost >"$XEN_TMP/$name.migrate.log" 2>&1 || {
    sed 's/^/  | /' "$XEN_TMP/$name.migrate.log" >&2
    xen_err "xl migrate -s xl-local-ssh $name localhost failed"
    return 1
  }
  xen_time "migrate($name)" "$(xen_elapsed "$t0")"
  xen_migrated "$name" "$src_log"
}

# xen_migrated NAME SRC_LOG: after NAME was migrated to this host (by
# whatever ran xl migrate), the bookkeeping assert_running needs: the
# source's last tick in XEN_LAST_TICK, the console log the migrated domain
# writes (SRC_LOG: xen_console_log NAME before the migration).
xen_migrated() {
  local name=${1:?xen_migrated NAME SRC_LOG} src_log=${2:?xen_migrated NAME SRC_LOG} l
  XEN_LAST_TICK=$(last_tick "$name")
  for l in "$XEN_CONSOLE_DIR/guest-$name--incoming.log" "$src_log"; do
    [[ -e $l ]] || continue
    XEN_LOG_FILE[$name]=$l
    break
  done
  if [[ ${XEN_LOG_FILE[$name]:-} == "$src_log" ]]; then
    XEN_LOG_MARK[$name]=$(stat -c %s "$src_log" 2>/dev/null || echo 0)
  else
    XEN_LOG_MARK[$name]=0
  fi
  xen_note "guest $name migrated after tick $XEN_LAST_TICK; console now in $(xen_console_log "$name")"
}

destroy_guest() {
  local name=${1:?destroy_guest NAME}
  xen_domain_exists "$name" || return 0
  xl destroy "$name" > /dev/null 2>&1 || xen_err "xl destroy $name failed" || return 1
  ! xen_domain_exists "$name" || xen_err "guest $name still exists after xl destroy"
}

xen_cleanup() {
  local n
  for n in "${XENLIB_GUESTS[@]}"; do
    destroy_guest "$n" || true
    # left by a migration that failed half-way
    destroy_guest "$n--incoming" || true
    destroy_guest "$n--migratedaway" || true
  done
  [[ -n ${XEN_TMP:-} ]] && rm -rf "$XEN_TMP"
  XEN_TMP=
}

xen_transport_addr() {
  case ${1:-} in
    tcp) XEN_ADDR=127.0.0.1 ;;
    verbs)
      XEN_ADDR=${RVMIG_RXE_ADDR:-}
      [[ -n $XEN_ADDR ]] || xen_err "verbs needs soft-RoCE in dom0 (xen-vm --rxe sets RVMIG_RXE_ADDR)" || return 1
      rdma link show >&2 || true ;;
    *) xen_err "unknown transport '${1:-}' (tcp or verbs)" ;;
  esac
}

xen_rvmigd_start() {
  local daemon=${1:?xen_rvmigd_start RVMIGD tcp|verbs} transport=${2:?xen_rvmigd_start RVMIGD tcp|verbs}
  xen_tmpdir && xen_transport_addr "$transport" || return 1
  XEN_KEY=$XEN_TMP/tunnel.key
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$XEN_KEY" && chmod 600 "$XEN_KEY" || return 1
  xen_ready_open || return 1
  # the tunnel proves the key within --auth-timeout: 5 s by default, which
  # a tunnel under TCG on a host at load 16 missed
  # (xen.policy_migrate_full_tcp, "no answer to the challenge within
  # 5000 ms"): 30 s here
  "$daemon" -v --listen "$transport://$XEN_ADDR:0" --key-file "$XEN_KEY" --ready-file "$XEN_READY" \
    --auth-timeout "${XEN_RVMIGD_AUTH_MS:-30000}" 2> "$XEN_TMP/rvmigd.log" &
  XEN_RVMIGD_PID=$!
  xen_ready_wait "$XEN_RVMIGD_PID" "$XEN_TMP/rvmigd.log" "rvmigd on $transport://$XEN_ADDR" 60 || return 1
  xen_note "rvmigd listening on $transport://$XEN_ADDR:$XEN_PORT (default allow-list: xl migrate-receive)"
}

# The FIFO is opened read-write on fd 9 so that the tool's open for writing
# never blocks, whether or not the reader is there yet.
xen_ready_open() {
  xen_tmpdir || return 1
  XEN_READY=$XEN_TMP/ready.$RANDOM
  mkfifo "$XEN_READY" || xen_err "mkfifo $XEN_READY failed" || return 1
  exec 9<>"$XEN_READY"
}

xen_ready_wait() {
  local pid=${1:?xen_ready_wait PID LOG WHAT [SEC]} log=${2:?} what=${3:?} sec=${4:-120}
  local part partial= _
  XEN_PORT=
  for _ in $(seq "$sec"); do
    # read -t keeps what it got before a timeout: collect it (a port
    # written just as the second ends must not lose its first digits).
    if read -r -t 1 part <&9; then XEN_PORT=$partial$part; break; fi
    partial=$partial${part:-}
    kill -0 "$pid" 2>/dev/null || break
  done
  exec 9<&-
  rm -f "$XEN_READY"
  [[ -n $XEN_PORT ]] || { sed 's/^/  | /' "$log" >&2; xen_err "$what did not start listening"; }
}
