/* Loading one policy module and checking its descriptor against our ABI. */
#ifndef TLSPIN_MODULE_LOAD_H
#define TLSPIN_MODULE_LOAD_H

#include "engine_export.h"

#include <stddef.h>
#include <tlspin/module.h>

struct loaded_module {
    void *handle;                       /* dlopen handle, NULL if never loaded */
    const struct tlspin_module *desc;   /* NULL when the module is faulty */
};

/* Loads `path` and validates its descriptor: entry present, ABI major equal
 * to ours, struct_size large enough for what we call, required callbacks set,
 * a sane name. Returns 0, or -1 with a reason in err (the module is then
 * faulty and fails when dispatched, as in Linux-PAM). */
TLSPIN_ENGINE_API int module_load(const char *path, struct loaded_module *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void module_unload(struct loaded_module *module);

/* Optional callbacks a module may not have (older minor, capability off). */
TLSPIN_ENGINE_API int module_has_prepare(const struct tlspin_module *m);
TLSPIN_ENGINE_API int module_has_lint(const struct tlspin_module *m);
TLSPIN_ENGINE_API int module_has_hosts(const struct tlspin_module *m);
TLSPIN_ENGINE_API int module_has_watch(const struct tlspin_module *m);

#endif
