# Helpers shared by every module.

# berth_module(NAME SOURCES ... DEPS ...): one static library per libberth module,
# "berth/<module>/<file>.h" includes, PUBLIC deps only on modules listed above it.
function(berth_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(berth_${name} STATIC ${M_SOURCES})
  target_include_directories(berth_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(berth_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
endfunction()

# berth_unit_test(NAME SOURCES ... DEPS ...): a GoogleTest binary labelled `unit`.
function(berth_unit_test name)
  if(NOT BERTH_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit TIMEOUT 120)
endfunction()
