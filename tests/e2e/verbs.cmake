# rvmig-send -> rvmig-recv, file -> file, over verbs (soft-RoCE inside the
# rxe VM, single topology: both tools in the VM on $RVMIG_RXE_ADDR).
# Included from tests/e2e/CMakeLists.txt; registers nothing unless the verbs
# transport is built and cmake/rvmig_vm.cmake provided rvmig_add_verbs_test.
if(RVMIG_HAVE_VERBS AND COMMAND rvmig_add_verbs_test)
  # fixture_bare: the real PV save's bare libxl and libxc streams
  # (detected, moved Xen-aware, byte-identical; issue 18).
  foreach(c sizes pull fixture_bare)
    rvmig_add_verbs_test(NAME verbs.e2e.${c} TOPOLOGY single TIMEOUT 1200
      COMMAND env ${RVMIG_E2E_ENV} RVMIG_E2E_TRANSPORT=verbs
              ${CMAKE_CURRENT_SOURCE_DIR}/run.sh ${c})
  endforeach()
  set_tests_properties(verbs.e2e.fixture_bare PROPERTIES FIXTURES_REQUIRED rvmig_fixtures)
endif()
