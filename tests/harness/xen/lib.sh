# shellcheck shell=bash
# Host-side helpers of the real-Xen test tier (sourced by tests/harness/xen-vm
# after tests/harness/vmlib.sh, whose cache dir, initramfs builder, qemu
# channels and waiting it reuses). Only what is specific to Xen lives here.

XEN_HARNESS_DIR=${XEN_HARNESS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
XEN_HYPERVISOR_GZ=${RVMIG_XEN_HYPERVISOR_GZ:-/boot/xen-4.17-amd64.gz}
# shellcheck disable=SC2034  # used by xen-vm
XEN_TOOLS_BIN=/usr/lib/xen-4.17/bin

# xen_hypervisor
#   Prints the path of the unpacked hypervisor (zcat of $XEN_HYPERVISOR_GZ, done
#   once and cached in the vmlib cache dir under a name derived from its hash).
xen_hypervisor() {
  local cache key out
  [[ -r $XEN_HYPERVISOR_GZ ]] || { vm_log "no hypervisor at $XEN_HYPERVISOR_GZ (apt install xen-hypervisor-4.17-amd64)"; return 1; }
  cache=$(vm_cache_dir) || return 1
  key=$(sha256sum "$XEN_HYPERVISOR_GZ" | cut -c1-16)
  out=$cache/xen-hypervisor-$key
  if [[ ! -s $out ]]; then
    if ! { zcat "$XEN_HYPERVISOR_GZ" >"$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"; }; then
      rm -f "$out.tmp.$$"
      vm_log "cannot unpack $XEN_HYPERVISOR_GZ"
      return 1
    fi
  fi
  printf '%s\n' "$out"
}

# xen_guest_initrd [KVER]
#   Prints the path of the tick guest's initramfs (mkguest-initrd), built once
#   in the vmlib cache dir and rebuilt when its inputs change.  With KVER the
#   network guest's (mkguest-initrd --net KVER: xen-netfront from KVER's
#   modules, busybox httpd), a separate image; the tick guest's is the same
#   either way.
xen_guest_initrd() {
  local kver=${1:-} cache key out
  cache=$(vm_cache_dir) || return 1
  if [[ -z $kver ]]; then
    key=$(cat "$XEN_HARNESS_DIR/mkguest-initrd" "$XEN_HARNESS_DIR/guest-init" /bin/busybox | sha256sum | cut -c1-16)
    out=$cache/xen-guest-initrd-$key.cpio
  else
    key=$( { cat "$XEN_HARNESS_DIR/mkguest-initrd" "$XEN_HARNESS_DIR/guest-init" \
               "$XEN_HARNESS_DIR/guest-net-init" /bin/busybox
             printf '%s\n' "$kver"; modprobe -S "$kver" --show-depends xen-netfront 2>&1; } \
           | sha256sum | cut -c1-16)
    out=$cache/xen-guest-net-initrd-$key.cpio
  fi
  if [[ ! -s $out ]]; then
    if ! { "$XEN_HARNESS_DIR/mkguest-initrd" ${kver:+--net "$kver"} "$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"; }; then
      rm -f "$out.tmp.$$"
      vm_log "building the guest initramfs${kver:+ (network guest, kernel $kver)} failed"
      return 1
    fi
  fi
  printf '%s\n' "$out"
}

# xen_qemu_serial_layout
#   vm_qemu_base_args puts three 16550s at the standard places (ttyS0 0x3f8
#   irq 4 -> stdout, ttyS1 0x2f8 irq 3 -> stderr, ttyS2 0x3e8 irq 4 -> console
#   log). Under Xen the hypervisor owns one UART and dom0 gets the others; the
#   third port shares irq 4 with ttyS0, so it is moved to irq 5 and given to Xen
#   (com1=...,0x3e8,5). dom0 keeps ttyS0/ttyS1 for the command's output and its
#   own console (hvc0) reaches the console log through Xen.
xen_qemu_serial_layout() {
  local i
  for ((i = 0; i < ${#VM_QEMU_ARGS[@]}; i++)); do
    if [[ ${VM_QEMU_ARGS[i]} == -serial && ${VM_QEMU_ARGS[i + 1]} == chardev:s2 ]]; then
      VM_QEMU_ARGS[i]=-device
      VM_QEMU_ARGS[i + 1]=isa-serial,chardev=s2,index=2,iobase=0x3e8,irq=5
      return 0
    fi
  done
  vm_log "vmlib's qemu arguments changed: no '-serial chardev:s2' to move for Xen"
  return 1
}
