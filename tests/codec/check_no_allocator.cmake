# cmake -DNM=<nm> -DLIBS=<a.a;b.a> -P check_no_allocator.cmake
# Fails if any library has an undefined reference to a heap allocator.
if(NOT NM OR NOT LIBS)
  message(FATAL_ERROR "usage: cmake -DNM=<nm> -DLIBS=<libs> -P check_no_allocator.cmake")
endif()
foreach(lib IN LISTS LIBS)
  if(NOT EXISTS "${lib}")
    message(FATAL_ERROR "${lib} does not exist; build it first")
  endif()
  execute_process(COMMAND "${NM}" -C --undefined-only "${lib}"
                  OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${lib}")
  endif()
  # Whole symbol names only: sanitizer builds reference e.g. __asan_stack_malloc_1, which is fine.
  string(REGEX MATCHALL
         "U (malloc|calloc|realloc|free|aligned_alloc|posix_memalign)\n|U operator (new|delete)[^\n]*"
         hits "${symbols}\n")
  if(hits)
    string(REPLACE ";" "\n" hits "${hits}")
    message(FATAL_ERROR "${lib} references an allocator:\n${hits}")
  endif()
  message(STATUS "${lib}: no allocator symbols")
endforeach()
