# cmake/sanitize.cmake — included by the top CMakeLists.txt before any target
# when TLSPIN_SANITIZE is set (e.g. address,undefined): the shim, the engine,
# the modules, the CLI and the test programs are all compiled and linked with
# those sanitizers, and the whole CTest suite runs against them (script/test,
# build-asan/). gcc's shared runtime (libasan.so): the shim is preloaded into
# uninstrumented programs (curl, python3, ...), which get the runtime by
# LD_PRELOAD ahead of the shim (tests/integration/proc.c); clang's static
# runtime could not be preloaded that way.
if(NOT CMAKE_C_COMPILER_ID STREQUAL "GNU")
  message(FATAL_ERROR "TLSPIN_SANITIZE expects gcc (its shared libasan); this is ${CMAKE_C_COMPILER_ID}")
endif()
# Any UBSan finding stops the process like an ASan one: a report is a failure,
# never a line in a log that a passing test leaves behind.
set(TLSPIN_SANITIZE_FLAGS -fsanitize=${TLSPIN_SANITIZE} -fno-sanitize-recover=undefined)
add_compile_options(${TLSPIN_SANITIZE_FLAGS} -fno-omit-frame-pointer)
add_link_options(${TLSPIN_SANITIZE_FLAGS})

# The runtime the harness puts first in every preloaded program's LD_PRELOAD
# and in the system-wide preload list of the tests that write one.
set(TLSPIN_SANITIZE_RUNTIME "")
if(TLSPIN_SANITIZE MATCHES "address")
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE _tlspin_libasan OUTPUT_STRIP_TRAILING_WHITESPACE)
  get_filename_component(_tlspin_libasan "${_tlspin_libasan}" REALPATH)
  if(NOT EXISTS "${_tlspin_libasan}")
    message(FATAL_ERROR "TLSPIN_SANITIZE=${TLSPIN_SANITIZE}: gcc has no shared libasan (libasan8)")
  endif()
  set(TLSPIN_SANITIZE_RUNTIME "${_tlspin_libasan}")
endif()
message(STATUS "tlspin: sanitized build (${TLSPIN_SANITIZE}); runtime to preload: ${TLSPIN_SANITIZE_RUNTIME}")

# The shim carries __asan_default_options (asan_defaults.c): added once the
# shim target exists, with its export list plus that one name.
function(tlspin_sanitize_shim)
  if(NOT TLSPIN_SANITIZE_RUNTIME OR NOT TARGET tlspin)
    return()
  endif()
  file(READ ${CMAKE_SOURCE_DIR}/loader/exports.map _map)
  string(REPLACE "local: *;" "__asan_default_options;\n  local: *;" _map "${_map}")
  file(WRITE ${CMAKE_BINARY_DIR}/sanitize/exports.map "${_map}")
  target_sources(tlspin PRIVATE ${CMAKE_SOURCE_DIR}/cmake/asan_defaults.c)
  set_target_properties(tlspin PROPERTIES
    LINK_FLAGS "-Wl,--version-script=${CMAKE_BINARY_DIR}/sanitize/exports.map -Wl,-z,defs")
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL tlspin_sanitize_shim)
