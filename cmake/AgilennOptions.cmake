# Project-wide compile settings, applied through the agilenn_options interface target.
add_library(agilenn_options INTERFACE)
target_compile_options(agilenn_options INTERFACE -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers)
if(AGILENN_WERROR)
  target_compile_options(agilenn_options INTERFACE -Werror)
endif()
if(AGILENN_SANITIZE)
  set(_agilenn_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_compile_options(agilenn_options INTERFACE ${_agilenn_san})
  target_link_options(agilenn_options INTERFACE ${_agilenn_san})
endif()

if(AGILENN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AGILENN_FUZZ needs clang (libFuzzer): use `cmake --preset fuzz`")
  endif()
  # Every library is instrumented for coverage (fuzzer-no-link) and checked by ASan + UBSan; the
  # fuzz targets add -fsanitize=fuzzer themselves (tests/fuzz/CMakeLists.txt), which brings main().
  set(_agilenn_fuzz_san -fsanitize=address,undefined -fno-sanitize-recover=undefined
                        -fno-omit-frame-pointer)
  target_compile_options(agilenn_options INTERFACE -fsanitize=fuzzer-no-link ${_agilenn_fuzz_san})
  target_link_options(agilenn_options INTERFACE ${_agilenn_fuzz_san})
endif()

# The source tree, so that the tools find ../shared/data and the cache folder from any working dir.
target_compile_definitions(agilenn_options INTERFACE AGILENN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# Adds a GoogleTest executable named after its first source and registers its tests with CTest.
function(agilenn_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} agilenn_options GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
endfunction()
