# fuzz/sanitize.cmake — included by the top CMakeLists.txt when TLSPIN_FUZZ
# is on, before any target: the whole tree (engine, modules, tools) is built
# with libFuzzer's coverage instrumentation, ASan and UBSan, so a harness
# sees into the module it dlopens. Clang only (script/fuzz sets CC=clang).
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "TLSPIN_FUZZ needs clang (CC=clang); this is ${CMAKE_C_COMPILER_ID}")
endif()
# -shared-libsan: the modules are shared objects linked with -z defs; the
# sanitizer runtime they call must be a shared library they name, and the
# harness must use the same one.
set(TLSPIN_FUZZ_SAN -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -shared-libsan)
add_compile_options(-fsanitize=fuzzer-no-link ${TLSPIN_FUZZ_SAN} -fno-omit-frame-pointer
                    -O1 -g
                    # clang's -Wformat=2 is stricter than gcc's; the gcc build
                    # keeps -Werror, this one must not stop on it.
                    -Wno-error -Wno-format-nonliteral)
# ...found through a run path: it lives in clang's own directory.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libclang_rt.asan-${CMAKE_SYSTEM_PROCESSOR}.so
                OUTPUT_VARIABLE TLSPIN_FUZZ_ASAN_SO OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT IS_ABSOLUTE "${TLSPIN_FUZZ_ASAN_SO}" OR NOT EXISTS "${TLSPIN_FUZZ_ASAN_SO}")
  message(FATAL_ERROR "TLSPIN_FUZZ: clang has no shared ASan runtime (libclang-rt-*-dev)")
endif()
get_filename_component(TLSPIN_FUZZ_RT_DIR "${TLSPIN_FUZZ_ASAN_SO}" DIRECTORY)
add_link_options(${TLSPIN_FUZZ_SAN} -Wl,-rpath,${TLSPIN_FUZZ_RT_DIR})
