# Instruments of the identity suite (tests/integration/test_bypass_identity.c,
# issue 11 cases 2, 6, 7).
#
#   bypass_identity_client  a client that puts the name it verifies on a
#                           certificate store's parameters instead of the SSL
#                           (store-host, store-ip, verify-store-host), or on
#                           the SSL (ssl-host), and sends no SNI
add_executable(bypass_identity_client bypass_identity_client.c)
target_link_libraries(bypass_identity_client PRIVATE PkgConfig::OPENSSL)
set_property(GLOBAL APPEND PROPERTY TLSPIN_TEST_PROGRAMS bypass_identity_client)
