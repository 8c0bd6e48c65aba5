# Real Xen checkpoint fixtures for the tests.
#
# The fixtures are committed in tests/fixtures (made by
# tests/fixtures/make-fixtures.sh with the project's real-Xen harness; see
# tests/fixtures/README.md).  Included from tests/unit/CMakeLists.txt, this
# file adds the ctest fixture setup "unit.fixture_unpack" that decompresses
# every file listed in tests/fixtures/SHA256SUMS from ${RVMIG_FIXTURES_DIR}
# (default: tests/fixtures; an override for trees that keep them elsewhere)
# into ${PROJECT_BINARY_DIR}/fixtures and checks its sha256.  Tests that read
# a fixture require "rvmig_fixtures" and find the files through
# RVMIG_FIXTURE_PV / _PVH / _MIGRATE.  A missing or wrong fixture fails the
# setup test with a message saying what and where (never a skip).
#
# Run as a script (cmake -DSRC=dir -DDST=dir -DSUMS=file -P fixtures.cmake)
# it does the unpacking itself.

if(CMAKE_SCRIPT_MODE_FILE)
  file(STRINGS "${SUMS}" lines REGEX "^[0-9a-f]+  [^ ]+$")
  if(NOT lines)
    message(FATAL_ERROR "${SUMS} lists no fixtures (expected 'sha256  NAME.bin' lines)")
  endif()
  find_program(ZSTD_EXE zstd)
  file(MAKE_DIRECTORY "${DST}")
  foreach(line ${lines})
    string(REGEX REPLACE "^([0-9a-f]+)  (.*)$" "\\1" want "${line}")
    string(REGEX REPLACE "^([0-9a-f]+)  (.*)$" "\\2" name "${line}")
    set(src "${SRC}/${name}.zst")
    set(dst "${DST}/${name}")
    if(EXISTS "${dst}")
      file(SHA256 "${dst}" have)
      if(have STREQUAL want)
        continue()
      endif()
    endif()
    if(NOT EXISTS "${src}")
      message(FATAL_ERROR "fixture ${src} is missing (listed in ${SUMS}); "
        "it is committed in tests/fixtures: a checkout without it, or "
        "-DRVMIG_FIXTURES_DIR pointing elsewhere, cannot run the fixture tests")
    endif()
    if(NOT ZSTD_EXE)
      message(FATAL_ERROR "zstd not found: it is needed to unpack ${src} (apt install zstd)")
    endif()
    execute_process(COMMAND ${ZSTD_EXE} -d -q -f "${src}" -o "${dst}.tmp" RESULT_VARIABLE rc)
    if(rc)
      message(FATAL_ERROR "zstd -d ${src} failed: ${rc}")
    endif()
    file(SHA256 "${dst}.tmp" have)
    if(NOT have STREQUAL want)
      file(REMOVE "${dst}.tmp")
      message(FATAL_ERROR "${src} unpacks to sha256 ${have}, ${SUMS} says ${want}")
    endif()
    file(RENAME "${dst}.tmp" "${dst}")
  endforeach()
  return()
endif()

# RVMIG_FIXTURE_SUMS, _OUT and _ENV come from tests/CMakeLists.txt.
add_test(NAME unit.fixture_unpack
  COMMAND ${CMAKE_COMMAND} -DSRC=${RVMIG_FIXTURES_DIR} -DDST=${RVMIG_FIXTURE_OUT}
    -DSUMS=${RVMIG_FIXTURE_SUMS} -P ${CMAKE_CURRENT_LIST_FILE})
set_tests_properties(unit.fixture_unpack PROPERTIES
  LABELS unit FIXTURES_SETUP rvmig_fixtures TIMEOUT 300)

# The test targets are created after this file is included: attach the
# fixture once the directory has been processed.
function(rvmig_fixture_attach)
  foreach(t unit.test_stream_fixture unit.test_stream_detect)
    if(TEST ${t})
      set_tests_properties(${t} PROPERTIES
        FIXTURES_REQUIRED rvmig_fixtures ENVIRONMENT "${RVMIG_FIXTURE_ENV}")
    endif()
  endforeach()
endfunction()
cmake_language(DEFER CALL rvmig_fixture_attach)
