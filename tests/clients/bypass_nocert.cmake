# Instruments of test_bypass_nocert.c: the adversarial review's client, an
# EAP-FAST style server and a maker of external-PSK sessions.
foreach(prog bypass_attack_client bypass_eap_server bypass_mkpsk)
  add_executable(${prog} ${prog}.c)
  target_link_libraries(${prog} PRIVATE PkgConfig::OPENSSL)
  # Compact review code: its unchecked writes to a socket are deliberate.
  target_compile_options(${prog} PRIVATE -Wno-unused-result -Wno-missing-prototypes)
  set_property(GLOBAL APPEND PROPERTY TLSPIN_TEST_PROGRAMS ${prog})
endforeach()
