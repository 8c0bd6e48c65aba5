# rvmig-tunnel / rvmigd end to end over TCP on 127.0.0.1 (label unit), with
# fake-migrate-receive as the remote command (tests/e2e/tunnel.sh).
if(NOT TARGET rvmig-tunnel OR NOT TARGET rvmigd)
  return()
endif()
foreach(c migrate refuse plain)
  add_test(NAME unit.e2e.tunnel_${c} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tunnel.sh ${c})
  set_tests_properties(unit.e2e.tunnel_${c} PROPERTIES LABELS unit TIMEOUT 180
    ENVIRONMENT "RVMIG_TUNNEL=$<TARGET_FILE:rvmig-tunnel>;RVMIGD=$<TARGET_FILE:rvmigd>;GEN_STREAM=$<TARGET_FILE:gen_stream>")
endforeach()
