# shellcheck shell=bash
# Shell functions shared by the benchmark scripts that run inside the
# soft-RoCE VM (run-vm-compare.sh, sweep-vm.sh).  Source it from bash.

# wait_listen PORT PID: until a TCP listener on PORT exists (readiness, not a
# fixed sleep); fails if PID died or after 30 s.
wait_listen() {
  local port=$1 pid=$2 i
  for ((i = 0; i < 600; i++)); do
    ss -Hltn "sport = :$port" | grep -q LISTEN && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
