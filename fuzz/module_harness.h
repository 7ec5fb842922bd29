/* module_harness.h — fuzz a module's parsers through its public entry point
 * only: dlopen the module the build made, hand open() a host-services table
 * and args naming a file this harness rewrites with each input. Nothing of
 * the module's sources is compiled into the harness. */
#ifndef TLSPIN_FUZZ_MODULE_HARNESS_H
#define TLSPIN_FUZZ_MODULE_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <tlspin/module.h>

/* The module's descriptor (dlopen of <build>/lib/tlspin/modules/<name>.so,
 * kept loaded); aborts when it cannot be loaded (a harness bug, not a find). */
const struct tlspin_module *fh_module(const char *name);
/* A private directory (mode 0700) for this process's files, created once:
 * in $TLSPIN_FUZZ_WORKDIR, else /dev/shm, else next to the harness; removed
 * at exit. */
const char *fh_dir(void);
/* "<fh_dir()>/<name>", allocated for the life of the process. */
char *fh_path(const char *name);
/* Writes data to path, replacing what was there. */
void fh_write(const char *path, const uint8_t *data, size_t size);
/* open() with args and the harness's host services; the caller closes. */
int fh_open_state(const struct tlspin_module *m, const struct tlspin_args *args, void **state,
                  char *err, size_t errlen);
/* The host's server_flight service (tlspin_host.server_flight) for the
 * modules opened after this call; NULL (the default) leaves it out. */
void fh_set_server_flight(int (*fn)(void *ssl));
/* open() then close() with args given as key/value pairs; returns open()'s
 * result. */
int fh_open_close(const struct tlspin_module *m, size_t n, const char *const *kv);

#endif
