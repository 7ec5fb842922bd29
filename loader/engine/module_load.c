/* dlopen of a policy module. Modules run inside every protected program, so
 * everything about the descriptor is checked before the first call. */
#include "module_load.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tlspin/strict_path.h>

/* The part of the descriptor every module of ABI major 1 must have. */
#define MODULE_MIN_SIZE (offsetof(struct tlspin_module, hosts) + sizeof(void (*)(void)))

static int valid_name(const char *name)
{
    size_t n = 0;
    if (name == NULL)
        return 0;
    for (; name[n]; n++)
        if (!((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= '0' && name[n] <= '9') ||
              name[n] == '_' || name[n] == '-'))
            return 0;
    return n > 0 && n <= 64;
}

/* dlopen() opens whatever the path names and waits on a FIFO forever (in
 * every program's first handshake): only a regular file is a module. And a
 * module runs as whoever runs the program, sudo and sshd's children
 * included: it and every directory above it must be root's (or the
 * process's own user's) and writable by nobody else
 * (include/tlspin/strict_path.h), or a world-writable module directory is a
 * local root. A missing file is left to dlopen, which says so. Not inlined:
 * its frame is gone before dlopen, which needs 3-5 KB of the program's
 * stack itself (issue 13, point 5). */
__attribute__((noinline)) static int module_file_ok(const char *path, char *err, size_t errlen)
{
    struct stat st;
    char *why;

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot load module %s: not a regular file", path);
        return -1;
    }
    if ((why = malloc(1024)) == NULL) {   /* on the heap, as above */
        snprintf(err, errlen, "cannot load module %s: out of memory", path);
        return -1;
    }
    if (tlspin_strict_check(path, TLSPIN_STRICT_FILE, &st, why, 1024) != 0 &&
        (lstat(path, &st) == 0 || errno != ENOENT)) {
        size_t plen = strlen(path);
        snprintf(err, errlen, "cannot load module %s: %s", path,
                 strncmp(why, path, plen) == 0 && strncmp(why + plen, ": ", 2) == 0
                     ? why + plen + 2 : why);
        free(why);
        return -1;
    }
    free(why);
    return 0;
}

int module_load(const char *path, struct loaded_module *out, char *err, size_t errlen)
{
    tlspin_module_entry_fn *entry;
    const struct tlspin_module *m;

    memset(out, 0, sizeof(*out));
    if (module_file_ok(path, err, errlen) != 0)
        return -1;
    /* RTLD_LOCAL: a module's symbols must not join the host program's
     * namespace. */
    out->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (out->handle == NULL) {
        snprintf(err, errlen, "cannot load module %s: %s", path, dlerror());
        return -1;
    }
    *(void **)&entry = dlsym(out->handle, TLSPIN_MODULE_ENTRY);
    if (entry == NULL) {
        snprintf(err, errlen, "%s is not a tlspin module: it has no %s()", path,
                 TLSPIN_MODULE_ENTRY);
        return -1;
    }
    m = entry();
    if (m == NULL) {
        snprintf(err, errlen, "%s: %s() returned no descriptor", path, TLSPIN_MODULE_ENTRY);
        return -1;
    }
    if (m->abi_major != TLSPIN_ABI_MAJOR) {
        snprintf(err, errlen, "%s: module ABI %u.%u, this tlspin speaks %u.%u (major must match)",
                 path, m->abi_major, m->abi_minor, TLSPIN_ABI_MAJOR, TLSPIN_ABI_MINOR);
        return -1;
    }
    if (m->struct_size < MODULE_MIN_SIZE) {
        snprintf(err, errlen, "%s: descriptor is %zu bytes, ABI %u needs at least %zu", path,
                 m->struct_size, TLSPIN_ABI_MAJOR, (size_t)MODULE_MIN_SIZE);
        return -1;
    }
    if (!valid_name(m->name)) {
        snprintf(err, errlen, "%s: descriptor has no valid name ([a-z0-9_-], 1..64)", path);
        return -1;
    }
    if (m->open == NULL || m->close == NULL || m->check == NULL) {
        snprintf(err, errlen, "%s: module \"%s\" lacks open, close or check", path, m->name);
        return -1;
    }
    if ((m->caps & TLSPIN_CAP_PREPARE) && m->prepare == NULL) {
        snprintf(err, errlen, "%s: module \"%s\" claims TLSPIN_CAP_PREPARE without prepare()",
                 path, m->name);
        return -1;
    }
    out->desc = m;
    return 0;
}

void module_unload(struct loaded_module *module)
{
    /* Never dlclose: a module may have left OpenSSL callbacks or ex_data
     * pointing into its code on objects the program still holds. */
    module->desc = NULL;
}

int module_has_prepare(const struct tlspin_module *m)
{
    return m && (m->caps & TLSPIN_CAP_PREPARE) && m->prepare;
}

int module_has_lint(const struct tlspin_module *m)
{
    return m && (m->caps & TLSPIN_CAP_LINT) && m->lint;
}

int module_has_watch(const struct tlspin_module *m)
{
    return m && m->struct_size >= offsetof(struct tlspin_module, watch) + sizeof(m->watch) &&
           (m->caps & TLSPIN_CAP_WATCH) && m->watch;
}

int module_has_hosts(const struct tlspin_module *m)
{
    return m && (m->caps & TLSPIN_CAP_HOSTS) && m->hosts;
}
