# rvmig_xen.cmake — register tests that need a real Xen toolstack.
#
#   rvmig_add_xen_test(NAME <name> [TIMEOUT <sec>] [RXE] [NET] [SELFTEST]
#                      [LABELS <label>...] COMMAND <cmd> [<arg>...])
#
# Adds a ctest that runs COMMAND through tests/harness/xen-vm, i.e. in the dom0
# of Xen 4.17 booted in a qemu TCG VM, with xl/xenstored/xenconsoled running.
# The command runs in the top-level build directory, which the VM shares
# read-write at the same path (build outputs can be named by absolute path,
# $<TARGET_FILE:...>); the rest of the host is visible read-only. RXE also
# brings up soft-RoCE in dom0 (rxe0 on dummy0, RVMIG_RXE_ADDR=10.77.0.1);
# NET adds a bridge in dom0 for guests' vifs and the network guest's
# initramfs (xen-vm --net: RVMIG_XEN_BRIDGE, RVMIG_XEN_GUEST_NET_INITRD);
# SELFTEST runs the CPU-model stress test with a PV guest before COMMAND.
# Variables set only inside the VM (RVMIG_XEN_GUEST_KERNEL/INITRD,
# RVMIG_RXE_ADDR) need a script or `sh -c` to expand them.
#
# Properties: LABELS xen (+ LABELS), RESOURCE_LOCK qemu_vm (one VM at a time:
# the machine has 2 cores); the harness kills the VM after TIMEOUT seconds
# (default 900) and exits 124, the ctest TIMEOUT is 60 s longer so that the
# harness, not ctest, reports it. A VM or toolstack that fails to come up makes
# the test fail with status 125 and the failed step on stderr (never a skip).

set(RVMIG_XEN_VM "${CMAKE_CURRENT_LIST_DIR}/../tests/harness/xen-vm")
get_filename_component(RVMIG_XEN_VM "${RVMIG_XEN_VM}" ABSOLUTE)
# Global, so tests registered from any directory find the harness.
set(RVMIG_XEN_VM "${RVMIG_XEN_VM}" CACHE INTERNAL "real-Xen VM harness")

function(rvmig_add_xen_test)
  cmake_parse_arguments(PARSE_ARGV 0 A "RXE;NET;SELFTEST" "NAME;TIMEOUT" "COMMAND;LABELS")
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "rvmig_add_xen_test: unknown arguments: ${A_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT A_NAME OR NOT A_COMMAND)
    message(FATAL_ERROR "rvmig_add_xen_test: NAME and COMMAND are required")
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 900)
  endif()
  set(opts)
  if(A_RXE)
    list(APPEND opts --rxe)
  endif()
  if(A_NET)
    list(APPEND opts --net)
  endif()
  if(A_SELFTEST)
    list(APPEND opts --selftest)
  endif()
  set(labels xen ${A_LABELS})
  math(EXPR ctest_timeout "${A_TIMEOUT} + 60")
  add_test(NAME ${A_NAME}
    COMMAND "${RVMIG_XEN_VM}" --timeout ${A_TIMEOUT} ${opts} -- ${A_COMMAND}
    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}")
  set_tests_properties(${A_NAME} PROPERTIES
    LABELS "${labels}"
    RESOURCE_LOCK qemu_vm
    ENVIRONMENT "RVMIG_VM_SHARE=${RVMIG_VM_SHARE}"
    TIMEOUT ${ctest_timeout})
endfunction()
