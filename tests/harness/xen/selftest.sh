# shellcheck shell=bash
# CPU-model self-test of the Xen VM (sourced by dom0-init.sh; also usable
# alone inside the VM: `. selftest.sh; xen_stress_loop 200`).
#
# With XSAVE or SMAP visible to Xen under qemu TCG, ordinary dom0 programs
# crash or compute wrong results at random (see notes/xen-vm.md). A loop of
# short pipelines compared against their first result catches that cheaply.

# xen_stress_loop N: runs `cat | grep | sort | tail` N times; every run must
# exit 0 and print the same as the first. Sets XEN_STRESS_ERROR on failure.
xen_stress_loop() {
  local n=${1:-40} i ref out
  local in; in=$(mktemp /tmp/stress.XXXXXX) || { XEN_STRESS_ERROR="mktemp failed"; return 1; }
  ls -l /usr/lib/xen-4.17/bin /etc/xen >"$in" 2>/dev/null
  for ((i = 0; i < n; i++)); do
    # shellcheck disable=SC2002  # the cat is part of the exercise
    out=$(cat "$in" | grep -v -e '^total' -e '^$' | sort -k5,5n -k9 | tail -n 25 | md5sum
          echo "status ${PIPESTATUS[*]}")
    if [[ $out != *"status 0 0 0 0 0" ]]; then
      XEN_STRESS_ERROR="run $((i + 1))/$n of cat|grep|sort|tail failed (exit statuses: ${out##*status })"
      rm -f "$in"; return 1
    fi
    if ((i == 0)); then
      ref=$out
    elif [[ $out != "$ref" ]]; then
      XEN_STRESS_ERROR="run $((i + 1))/$n of cat|grep|sort|tail gave a different result than run 1"
      rm -f "$in"; return 1
    fi
  done
  rm -f "$in"
}

# xen_selftest_with_guest [N]: the corruption shows most once a guest runs, so
# start the tick guest, run the loop N times (default 40) and check the guest
# kept ticking.
xen_selftest_with_guest() {
  local n=${1:-40}
  . "$XEN_HARNESS/../../xen/xenlib.sh" || return 1
  local name=rvmig-selftest
  create_guest "$name" pv || return 1
  wait_ticks "$name" 0 || { xen_cleanup; return 1; }
  local done_runs=0 chunk
  while ((done_runs < n)); do
    chunk=$((n - done_runs < 20 ? n - done_runs : 20))
    if ! xen_stress_loop "$chunk"; then
      echo "self-test: $XEN_STRESS_ERROR (after $done_runs runs with a guest running)" >&2
      xen_cleanup; return 1
    fi
    done_runs=$((done_runs + chunk))
    declare -F xen_step >/dev/null && xen_step "self-test: $done_runs/$n stress runs with the guest at tick $(last_tick "$name")"
  done
  assert_running "$name" || { xen_cleanup; return 1; }
  xen_cleanup
  echo "self-test: $n stress runs with a PV guest running: ok"
}
