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

# berth_glob_module(NAME DEPS ... [PRIVATE_DEPS ...] [TEST_DEPS ...]): a module whose
# sources are every *.cc in this directory tree, and whose unit test `<NAME>_test` is every
# *_test.cc. Globbing lets several people add files to one module without touching this list.
function(berth_glob_module name)
  cmake_parse_arguments(M "" "" "DEPS;PRIVATE_DEPS;TEST_DEPS" ${ARGN})
  file(GLOB_RECURSE all_cc CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  set(srcs)
  set(tests)
  foreach(f ${all_cc})
    if(f MATCHES "_test\\.cc$")
      list(APPEND tests ${f})
    else()
      list(APPEND srcs ${f})
    endif()
  endforeach()
  berth_module(${name} SOURCES ${srcs} DEPS ${M_DEPS} PRIVATE_DEPS ${M_PRIVATE_DEPS})
  if(tests)
    berth_unit_test(${name}_test SOURCES ${tests} DEPS berth_${name} ${M_TEST_DEPS})
  endif()
endfunction()
