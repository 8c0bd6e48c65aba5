#!/usr/bin/env bash
# Installs every Debian 12 package rvmig needs to build, test and benchmark.
# Idempotent: packages already present are left alone; apt is only called when
# something is missing.
set -euo pipefail

PKGS=(
  # build
  build-essential cmake pkg-config git zstd
  libibverbs-dev librdmacm-dev libssl-dev libxxhash-dev libcriterion-dev libxen-dev
  libmicrohttpd-dev   # rvmig-top --listen (the Prometheus exporter)
  libcurl4-openssl-dev libjson-c-dev   # rvmig-policy: Prometheus's query API
  libncurses-dev      # rvmig-top's live view
  clang libclang-rt-14-dev
  # soft-RoCE VM tier
  qemu-system-x86 linux-image-amd64 busybox-static kmod iproute2
  rdma-core ibverbs-utils rdmacm-utils ibverbs-providers perftest iperf3
  # real-Xen VM tier
  xen-hypervisor-4.17-amd64 xen-utils-4.17
  # benchmarks / reports
  gnuplot-nox netcat-openbsd openssh-client openssh-server python3 valgrind xxhash
  socat linux-perf    # bench/eval/native-ckpt: socat as a contender, perf stat per end
  # unit.top.prometheus: promtool and a real Prometheus server; curl for /metrics
  prometheus curl
  # unit.top.live: a terminal emulator (pyte) reading rvmig-top's live view
  python3-pyte
  # bench/policy/sweep.sh: a real HTTP server under a real load generator.
  # The scripts start their own nginx (own config, prefix and port in a
  # temporary directory); the packaged service is stopped below.
  nginx-light wrk
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Installing xen-hypervisor / linux-image on a host starts nothing and does not
# change how the host boots unless the operator reboots into it; update-grub may
# complain inside containers, which is harmless here.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
  || $SUDO apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}"
# Debian starts the packaged nginx on port 80 where an init system runs; the
# project never uses it, so it is stopped and kept from starting at boot.
if printf '%s\n' "${missing[@]}" | grep -qx nginx-light && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nginx.service || true
fi
echo "install-deps: done"
