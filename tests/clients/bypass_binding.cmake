# Instruments of the binding suite (tests/integration/test_bypass_binding.c,
# issue 11 case 3): libssl loaded with RTLD_DEEPBIND or into a dlmopen
# namespace, where libssl's own calls would bind around the shim.
#
#   tls_client_binding  tls_client_dlopen's client; TLSPIN_TEST_LOAD picks
#                       how libssl.so.3 is loaded (bypass_binding_load.c)
#   bypass_binding_host a plugin host: plugin (RTLD_DEEPBIND / dlmopen),
#                       origin (DT_RUNPATH=$ORIGIN through the shim's hooks),
#                       deep (RTLD_DEEPBIND of a library without OpenSSL),
#                       cycle, missing (namespaces come and go), second-root
#                       (a second object in a namespace)
#   libbb_plugin.so     tls_client as a library linking libssl
#   bundle/libbb_plugin.so  the same with DT_RUNPATH=$ORIGIN: a plugin that
#                       ships its own libssl.so.3 beside it
#   libbb_origin.so, libbb_sibling.so, libbb_deep.so, libbb_user.so
#                       (bypass_binding_libs.c)
# The libraries live in <build>/lib/bypass_binding, where no default search
# path looks.
set(BB_LIBDIR ${CMAKE_BINARY_DIR}/lib/bypass_binding)

add_executable(tls_client_binding ${TLSC_CLIENT_SOURCES} bypass_binding_load.c)
target_compile_definitions(tls_client_binding PRIVATE TLSC_DLOPEN=1)
target_include_directories(tls_client_binding PRIVATE
  $<TARGET_PROPERTY:PkgConfig::OPENSSL,INTERFACE_INCLUDE_DIRECTORIES>)
target_link_libraries(tls_client_binding PRIVATE tlsc_common ${CMAKE_DL_LIBS})

add_executable(bypass_binding_host bypass_binding_host.c)
target_link_libraries(bypass_binding_host PRIVATE ${CMAKE_DL_LIBS})
# bb_clash must be in the global scope for the RTLD_DEEPBIND probe.
set_target_properties(bypass_binding_host PROPERTIES ENABLE_EXPORTS ON)

add_library(bb_plugin SHARED ${TLSC_CLIENT_SOURCES} client_linked.c bypass_binding_plugin.c)
target_compile_definitions(bb_plugin PRIVATE main=bb_plugin_main)
# client_main.c's renamed main has no prototype of its own.
target_compile_options(bb_plugin PRIVATE -Wno-missing-prototypes)
target_link_libraries(bb_plugin PRIVATE tlsc_common PkgConfig::OPENSSL)

add_library(bb_plugin_bundle SHARED ${TLSC_CLIENT_SOURCES} client_linked.c
            bypass_binding_plugin.c)
target_compile_definitions(bb_plugin_bundle PRIVATE main=bb_plugin_main)
target_compile_options(bb_plugin_bundle PRIVATE -Wno-missing-prototypes)
target_link_libraries(bb_plugin_bundle PRIVATE tlsc_common PkgConfig::OPENSSL)
set_target_properties(bb_plugin_bundle PROPERTIES OUTPUT_NAME bb_plugin
  LIBRARY_OUTPUT_DIRECTORY ${BB_LIBDIR}/bundle SKIP_BUILD_RPATH ON
  LINK_FLAGS "-Wl,--enable-new-dtags,-rpath,'$ORIGIN'")

foreach(lib sibling origin deep user)
  add_library(bb_${lib} SHARED bypass_binding_libs.c)
  target_link_libraries(bb_${lib} PRIVATE ${CMAKE_DL_LIBS})
endforeach()
target_compile_definitions(bb_sibling PRIVATE BB_LIB=1)
target_compile_definitions(bb_origin PRIVATE BB_LIB=2)
target_compile_definitions(bb_deep PRIVATE BB_LIB=3)
target_compile_definitions(bb_user PRIVATE BB_LIB=4)
# DT_RUNPATH (not DT_RPATH) = $ORIGIN, and nothing else.
set_target_properties(bb_origin PROPERTIES SKIP_BUILD_RPATH ON
  LINK_FLAGS "-Wl,--enable-new-dtags,-rpath,'$ORIGIN'")

set_target_properties(bb_plugin bb_sibling bb_origin bb_deep bb_user PROPERTIES
  LIBRARY_OUTPUT_DIRECTORY ${BB_LIBDIR})

foreach(t tls_client_binding bypass_binding_host bb_plugin bb_plugin_bundle bb_sibling bb_origin
        bb_deep bb_user)
  set_property(GLOBAL APPEND PROPERTY TLSPIN_TEST_PROGRAMS ${t})
endforeach()
