# A hand-built sender against rvmig-recv and rvmigd (hostile.sh, label
# unit): counts from the wire checked before any work, zero runs written in
# steps that leave room for signals and other sessions.
add_executable(hostile_send hostile_send.c)
target_link_libraries(hostile_send PRIVATE rvmig_static)

set(_hostile_env ${RVMIG_E2E_ENV} HOSTILE_SEND=$<TARGET_FILE:hostile_send>)
set(_hostile_cases zero_past_size zero_over_cap zero_term zero_steps)
if(TARGET rvmigd AND TARGET rvmig-tunnel)
  list(APPEND _hostile_cases rvmigd_zero)
  list(APPEND _hostile_env RVMIGD=$<TARGET_FILE:rvmigd> RVMIG_TUNNEL=$<TARGET_FILE:rvmig-tunnel>)
endif()
foreach(c ${_hostile_cases})
  add_test(NAME unit.e2e.hostile_${c} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/hostile.sh ${c})
  set_tests_properties(unit.e2e.hostile_${c} PROPERTIES LABELS unit TIMEOUT 180
    ENVIRONMENT "${_hostile_env}")
endforeach()
