# Real Xen save fixtures for the unit tests.
#
# Included from tests/unit/CMakeLists.txt: adds the ctest fixture setup
# "unit.fixture_unpack" that decompresses ${RVMIG_FIXTURES_DIR}/*.zst with
# zstd into ${PROJECT_BINARY_DIR}/fixtures and checks its sha256, and makes
# unit.test_stream_fixture require it.  A missing fixture makes the setup
# test fail with a message saying where it was looked for (never a skip).
#
# Run as a script (cmake -DSRC=... -DDST=... -DSHA256=... -P fixtures.cmake)
# it does the unpacking itself.

if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT EXISTS "${SRC}")
    message(FATAL_ERROR "fixture ${SRC} is missing: configure with "
      "-DRVMIG_FIXTURES_DIR=<directory holding it> (in CI: shared/fixtures beside the repository)")
  endif()
  if(EXISTS "${DST}")
    file(SHA256 "${DST}" have)
    if(have STREQUAL SHA256)
      return()
    endif()
  endif()
  find_program(ZSTD_EXE zstd)
  if(NOT ZSTD_EXE)
    message(FATAL_ERROR "zstd not found: it is needed to unpack ${SRC} (apt install zstd)")
  endif()
  get_filename_component(dir "${DST}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  execute_process(COMMAND ${ZSTD_EXE} -d -q -f "${SRC}" -o "${DST}.tmp" RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "zstd -d ${SRC} failed: ${rc}")
  endif()
  file(SHA256 "${DST}.tmp" have)
  if(NOT have STREQUAL SHA256)
    file(REMOVE "${DST}.tmp")
    message(FATAL_ERROR "${SRC} unpacks to sha256 ${have}, expected ${SHA256}")
  endif()
  file(RENAME "${DST}.tmp" "${DST}")
  return()
endif()

if(NOT DEFINED RVMIG_FIXTURES_DIR)
  set(RVMIG_FIXTURES_DIR "${PROJECT_SOURCE_DIR}/../shared/fixtures" CACHE PATH
      "Directory holding the real xl save fixtures")
endif()

# sha256 of the uncompressed file, from shared/fixtures/README.md
set(RVMIG_FIXTURE_PV_SHA256 f5d578e7f62d3486ea926f4bd034e3c88846adcaab0551e46d6b7145e140f357)
set(RVMIG_FIXTURE_PV_BIN ${PROJECT_BINARY_DIR}/fixtures/xl-save-pv-96M.bin)

add_test(NAME unit.fixture_unpack
  COMMAND ${CMAKE_COMMAND}
    -DSRC=${RVMIG_FIXTURES_DIR}/xl-save-pv-96M.bin.zst
    -DDST=${RVMIG_FIXTURE_PV_BIN}
    -DSHA256=${RVMIG_FIXTURE_PV_SHA256}
    -P ${CMAKE_CURRENT_LIST_FILE})
set_tests_properties(unit.fixture_unpack PROPERTIES
  LABELS unit FIXTURES_SETUP rvmig_fixture_pv TIMEOUT 300)

# The test targets are created after this file is included: attach the
# fixture once the directory has been processed.
function(rvmig_fixture_attach)
  if(TEST unit.test_stream_fixture)
    set_tests_properties(unit.test_stream_fixture PROPERTIES
      FIXTURES_REQUIRED rvmig_fixture_pv
      ENVIRONMENT "RVMIG_FIXTURE_PV=${RVMIG_FIXTURE_PV_BIN};RVMIG_FIXTURE_PV_SHA256=${RVMIG_FIXTURE_PV_SHA256}")
  endif()
endfunction()
cmake_language(DEFER CALL rvmig_fixture_attach)
