# Helpers to declare tests. Every test gets a label that says what it is:
#   unit         cmocka tests of one library module (also run under ASan/UBSan)
#   proto        raw bytes in, exact bytes out, against a live osapd (also under ASan)
#   integration  whole flows against a live osapd
#   interop      real third-party clients (mosquitto, paho, chromium)
#   fuzz         libFuzzer smoke runs
#   sanitize     the whole ASan/UBSan suite, run from the main build
set(OSAP_TEST_DATA_DIR ${CMAKE_SOURCE_DIR}/tests/data)
set(OSAP_PYTHON /usr/bin/python3 CACHE FILEPATH "Debian's python3 (with python3-paho-mqtt)")

# osap_unit_test(NAME SOURCES a.c b.c LIBS lib1 lib2)
function(osap_unit_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  target_compile_definitions(${name} PRIVATE
    OSAP_TEST_DATA_DIR="${OSAP_TEST_DATA_DIR}")
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "unit;${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()

# osap_script_test(NAME LABEL label COMMAND cmd args...)
# Runs a script test with the build's locations in its environment.
function(osap_script_test name)
  cmake_parse_arguments(T "" "LABEL;TIMEOUT" "COMMAND" ${ARGN})
  add_test(NAME ${name} COMMAND ${T_COMMAND})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABEL}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "OSAP_BIN=${CMAKE_BINARY_DIR}/bin;OSAP_TESTS=${CMAKE_BINARY_DIR}/tests;OSAP_SRC=${CMAKE_SOURCE_DIR};OSAP_TEST_DATA_DIR=${OSAP_TEST_DATA_DIR};PYTHONDONTWRITEBYTECODE=1")
endfunction()
