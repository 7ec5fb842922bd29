# Instruments of tests/integration/test_bypass_chain.c (issue 11, case 5):
# a client whose verification hooks are its own (X509_STORE_set_verify and
# its siblings), which tls_client cannot show.
add_executable(bypass_chain_client ${CMAKE_CURRENT_LIST_DIR}/bypass_chain_client.c
               ${CMAKE_CURRENT_LIST_DIR}/bypass_common.c)
target_link_libraries(bypass_chain_client PRIVATE PkgConfig::OPENSSL)
set_property(GLOBAL APPEND PROPERTY TLSPIN_TEST_PROGRAMS bypass_chain_client)
