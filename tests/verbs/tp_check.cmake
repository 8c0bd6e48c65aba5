# tp_verbs_check: the verbs transport provider (librvmig/transport/verbs)
# exercised op by op on a real RDMA device in the soft-RoCE VM.
# Included from tests/verbs/CMakeLists.txt (needs rvmig_add_verbs_test):
#   include(${CMAKE_CURRENT_SOURCE_DIR}/tp_check.cmake)
add_executable(tp_verbs_check ${CMAKE_CURRENT_LIST_DIR}/tp_verbs_check.c)
target_link_libraries(tp_verbs_check PRIVATE rvmig_static)

# Server and client on one rxe device (loopback through rxe0 on dummy0).
rvmig_add_verbs_test(NAME verbs.tp_check.single TOPOLOGY single TIMEOUT 400
  COMMAND $<TARGET_FILE:tp_verbs_check> --mib 64)
# Server on one end of the veth pair, client on the other (traffic on the wire).
rvmig_add_verbs_test(NAME verbs.tp_check.pair TOPOLOGY pair TIMEOUT 400
  COMMAND sh -c "exec \"$0\" --addr \"$RVMIG_PAIR_A\" --mib 64" $<TARGET_FILE:tp_verbs_check>)
