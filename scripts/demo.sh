#!/usr/bin/env bash
# The main job, end to end: a Xen checkpoint file is sent with rvmig-send and
# received with rvmig-recv over RDMA verbs, then verified identical.
# On a host with an active RDMA device it uses that device; otherwise it runs
# inside the soft-RoCE VM (tests/harness/rxe-vm) and says so.  Installs and
# builds whatever is missing.
#
#   scripts/demo.sh [CHECKPOINT] [--transport verbs|tcp] [--mode push|pull]
#
# Without CHECKPOINT it uses the project's real `xl save` fixture of a 32 MiB
# PV guest (tests/fixtures/xl-save-pv-32M.bin.zst, made with Xen 4.17).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

ckpt= transport=verbs mode=push
while [ $# -gt 0 ]; do
  case $1 in
    --transport) transport=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) ckpt=$1; shift ;;
  esac
done

"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$top/build" >/dev/null
cmake --build "$top/build" -j"$(nproc)" >/dev/null

work="$top/build/demo"
mkdir -p "$work"
if [ -z "$ckpt" ]; then
  # The project's own real `xl save` of a 32 MiB PV guest (tests/fixtures).
  fixture="$top/tests/fixtures/xl-save-pv-32M.bin.zst"
  [ -f "$fixture" ] || { echo "demo: $fixture is missing (a broken checkout?); give a CHECKPOINT" >&2; exit 1; }
  ckpt="$work/xl-save-pv-32M.bin"
  [ -f "$ckpt" ] || zstd -q -d "$fixture" -o "$ckpt"
  echo "demo: checkpoint: real xl save of a 32 MiB PV guest (Xen 4.17, $fixture)"
fi
ckpt=$(readlink -f "$ckpt")
echo "demo: $(stat -c %s "$ckpt") bytes, sha256 $(sha256sum "$ckpt" | cut -d' ' -f1)"

inner=("$top/scripts/demo-inner.sh" "$top/build" "$ckpt" "$transport" "$mode" "$work")
if [ "$transport" = tcp ]; then
  RVMIG_RXE_ADDR=127.0.0.1 "${inner[@]}"
else
  (cd "$top/build" && RVMIG_VM_SHARE=$top "$top/tests/harness/rxe-vm" --allow-host --topology single --timeout 900 -- "${inner[@]}")
fi
# Last on the terminal: the short summary demo-inner.sh wrote (transport,
# mode, bytes, time, rate, verdict; where the JSON statistics are).
cat "$work/summary.txt"
