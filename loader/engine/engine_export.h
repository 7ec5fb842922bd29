/* The engine's functions the `tlspin` command and the tests link against.
 * The engine is dlopen'ed RTLD_LOCAL by the shim, so these never join a host
 * program's namespace. */
#ifndef TLSPIN_ENGINE_EXPORT_H
#define TLSPIN_ENGINE_EXPORT_H
#define TLSPIN_ENGINE_API __attribute__((visibility("default")))
#endif
