# rvmig_vm.cmake — register tests that need real RDMA verbs.
#
#   rvmig_add_verbs_test(NAME <name> TOPOLOGY single|pair [TIMEOUT <sec>]
#                        [ALLOW_HOST] [LABELS <label>...] COMMAND <cmd> [<arg>...])
#
# Adds a ctest that runs COMMAND through tests/harness/rxe-vm, i.e. inside a
# qemu TCG VM with soft-RoCE (or on the host's own RDMA device with ALLOW_HOST,
# if it has an ACTIVE one and RVMIG_FORCE_VM is unset). The command runs in the
# top-level build directory, which the VM shares read-write at the same path,
# so build outputs can be named by absolute path ($<TARGET_FILE:...>). The
# environment variables of the topology (RVMIG_RXE_ADDR/RVMIG_RXE_DEV, or
# RVMIG_PAIR_A/B, RVMIG_RXE_DEV_A/B) exist only inside the VM: use a script or
# `sh -c` to expand them.
#
# Properties: LABELS verbs (+ LABELS), RESOURCE_LOCK qemu_vm (VMs never run
# concurrently: the machine has 2 cores), the harness kills the VM after
# TIMEOUT seconds (default 600) and exits 124; the ctest TIMEOUT is 60 s longer
# so the harness, not ctest, reports it. A VM that fails to come up makes the
# test fail with status 125 and says why on stderr (never a silent skip).

set(RVMIG_RXE_VM "${CMAKE_CURRENT_LIST_DIR}/../tests/harness/rxe-vm")
get_filename_component(RVMIG_RXE_VM "${RVMIG_RXE_VM}" ABSOLUTE)
# Global, so tests registered from any directory find the harness.
set(RVMIG_RXE_VM "${RVMIG_RXE_VM}" CACHE INTERNAL "soft-RoCE VM harness")
# The VM sees the host root read-only with tmpfs over /tmp, /root, ...; the
# tree shared read-write at the same path is the source tree when the build
# tree lies inside it (so the test scripts are visible too), else the build
# tree.
string(FIND "${CMAKE_BINARY_DIR}/" "${CMAKE_SOURCE_DIR}/" _rvmig_pos)
if(_rvmig_pos EQUAL 0)
  set(RVMIG_VM_SHARE "${CMAKE_SOURCE_DIR}" CACHE INTERNAL "tree shared with the test VMs")
else()
  set(RVMIG_VM_SHARE "${CMAKE_BINARY_DIR}" CACHE INTERNAL "tree shared with the test VMs")
endif()


function(rvmig_add_verbs_test)
  cmake_parse_arguments(PARSE_ARGV 0 A "ALLOW_HOST" "NAME;TOPOLOGY;TIMEOUT" "COMMAND;LABELS")
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "rvmig_add_verbs_test: unknown arguments: ${A_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT A_NAME OR NOT A_COMMAND)
    message(FATAL_ERROR "rvmig_add_verbs_test: NAME and COMMAND are required")
  endif()
  if(NOT A_TOPOLOGY)
    set(A_TOPOLOGY single)
  endif()
  if(NOT A_TOPOLOGY MATCHES "^(single|pair)$")
    message(FATAL_ERROR "rvmig_add_verbs_test(${A_NAME}): TOPOLOGY must be single or pair, not '${A_TOPOLOGY}'")
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 600)
  endif()
  set(host_opt)
  if(A_ALLOW_HOST)
    set(host_opt --allow-host)
  endif()
  math(EXPR ctest_timeout "${A_TIMEOUT} + 60")
  add_test(NAME ${A_NAME}
    COMMAND "${RVMIG_RXE_VM}" --topology ${A_TOPOLOGY} --timeout ${A_TIMEOUT} ${host_opt}
            -- ${A_COMMAND}
    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}")
  set_tests_properties(${A_NAME} PROPERTIES
    LABELS "verbs;${A_LABELS}"
    RESOURCE_LOCK qemu_vm
    ENVIRONMENT "RVMIG_VM_SHARE=${RVMIG_VM_SHARE}"
    TIMEOUT ${ctest_timeout})
endfunction()
