# What the tools tell their user (diag.sh, label unit): the reason of a
# failure at the default log level, peer text escaped, usage errors exit 2,
# refused peers summarised.  diag_peer speaks the tools' messages with any
# text; raw_peer.py breaks the TCP transport's rules.
add_executable(diag_peer diag_peer.c)
target_link_libraries(diag_peer PRIVATE rvmig_tool_common)

set(_diag_env ${RVMIG_E2E_ENV} DIAG_PEER=$<TARGET_FILE:diag_peer>)
if(TARGET rvmigd AND TARGET rvmig-tunnel)
  list(APPEND _diag_env RVMIGD=$<TARGET_FILE:rvmigd> RVMIG_TUNNEL=$<TARGET_FILE:rvmig-tunnel>)
endif()
foreach(c violation peer_text relay usage key_file refusals stdout_stall)
  add_test(NAME unit.e2e.diag_${c} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/diag.sh ${c})
  set_tests_properties(unit.e2e.diag_${c} PROPERTIES LABELS unit TIMEOUT 120
    ENVIRONMENT "${_diag_env}")
endforeach()
