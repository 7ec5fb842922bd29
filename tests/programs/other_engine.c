/*
 * other_engine.c — libtp_other_engine.so: an engine of another interface
 * version, as a program started before an upgrade finds it at its first
 * handshake. It exports the entry point under the name it had before the
 * interface was versioned, and nothing of this tree's interface: a shim
 * must refuse it without calling it (test_guest, "engine skew").
 */
#include <stdlib.h>

const void *tlspin_engine_attach(const void *reals);

__attribute__((visibility("default"))) const void *tlspin_engine_attach(const void *reals)
{
    (void)reals;
    abort();   /* a shim that calls it proves the test's point */
}
