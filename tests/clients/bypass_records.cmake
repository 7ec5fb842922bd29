# Instruments of test_bypass_records.c: a program that masks, opens and
# closes its own syslog, forks, runs threads and closes descriptors it does
# not own, between handshakes tlspin refuses.
add_executable(bypass_records_client bypass_records_client.c)
target_link_libraries(bypass_records_client PRIVATE PkgConfig::OPENSSL Threads::Threads)
set_property(GLOBAL APPEND PROPERTY TLSPIN_TEST_PROGRAMS bypass_records_client)
