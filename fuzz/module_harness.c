/* module_harness.c — see module_harness.h. */
#include "module_harness.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostname.h"
#include "pin.h"

static void fh_log(const struct tlspin_host *host, int priority, const char *fmt, ...)
{
    (void)host;
    (void)priority;
    (void)fmt;
}

static struct tlspin_host fh_host = {
    .struct_size = sizeof(struct tlspin_host),
    .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR,
    .log = fh_log,
    .pin_parse = tlspin_pin_parse,
    .pin_format = tlspin_pin_format,
    .host_normalize = tlspin_host_normalize,
    .host_match = tlspin_host_match,
};

void fh_set_server_flight(int (*fn)(void *ssl))
{
    fh_host.server_flight = fn;
}

const struct tlspin_module *fh_module(const char *name)
{
    char *path;
    void *h;
    tlspin_module_entry_fn *entry;

    if (asprintf(&path, "%s/%s.so", TLSPIN_FUZZ_MODULEDIR, name) < 0)
        abort();
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "fuzz: cannot load %s: %s\n", path, dlerror());
        abort();
    }
    entry = (tlspin_module_entry_fn *)dlsym(h, TLSPIN_MODULE_ENTRY);
    if (entry == NULL) {
        fprintf(stderr, "fuzz: %s has no %s\n", path, TLSPIN_MODULE_ENTRY);
        abort();
    }
    free(path);
    return entry();
}

static char fh_dir_path[PATH_MAX + 32];

/* Removes dir and what is in it (files, and directories of files such as
 * the signed harnesses' keys/). */
static void fh_remove(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) != 0 && depth < 2) {
            char *sub;
            if (asprintf(&sub, "%s/%s", dir, e->d_name) >= 0) {
                fh_remove(sub, depth + 1);
                free(sub);
            }
        }
    }
    closedir(d);
    (void)rmdir(dir);
}

static void fh_cleanup(void)
{
    fh_remove(fh_dir_path, 0);
}

const char *fh_dir(void)
{
    char base[PATH_MAX];
    const char *env = getenv("TLSPIN_FUZZ_WORKDIR");
    struct stat st;

    if (fh_dir_path[0] != '\0')
        return fh_dir_path;
    /* A private directory in memory: each input is a file written anew, and
     * on a disk file system (ext4 with discard) truncating it costs a
     * synchronous I/O, which slowed the harnesses thirtyfold. Else next to
     * the harness. */
    if (env != NULL && env[0] != '\0') {
        snprintf(base, sizeof base, "%s", env);
    } else if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0) {
        snprintf(base, sizeof base, "/dev/shm");
    } else {
        ssize_t n = readlink("/proc/self/exe", base, sizeof base - 1);
        char *slash;
        if (n <= 0)
            abort();
        base[n] = '\0';
        slash = strrchr(base, '/');
        if (slash == NULL)
            abort();
        *slash = '\0';
    }
    if ((size_t)snprintf(fh_dir_path, sizeof fh_dir_path, "%s/tlspin-fuzz-XXXXXX", base) >=
            sizeof fh_dir_path ||
        mkdtemp(fh_dir_path) == NULL) {
        fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fh_dir_path, strerror(errno));
        abort();
    }
    atexit(fh_cleanup);
    return fh_dir_path;
}

char *fh_path(const char *name)
{
    char *p;

    if (asprintf(&p, "%s/%s", fh_dir(), name) < 0)
        abort();
    return p;
}

void fh_write(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t off = 0;

    if (fd < 0)
        abort();
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    close(fd);
}

int fh_open_state(const struct tlspin_module *m, const struct tlspin_args *args, void **state,
                  char *err, size_t errlen)
{
    *state = NULL;
    return m->open(&fh_host, args, state, err, errlen);
}

int fh_open_close(const struct tlspin_module *m, size_t n, const char *const *kv)
{
    struct tlspin_arg items[8];
    struct tlspin_args args = {items, n};
    char err[512];
    void *state = NULL;
    int r;

    if (n > 8)
        abort();
    for (size_t i = 0; i < n; i++) {
        items[i].key = kv[2 * i];
        items[i].values = &kv[2 * i + 1];
        items[i].n_values = 1;
        items[i].file = "fuzz.conf";
        items[i].line = (unsigned)i + 1;
    }
    r = m->open(&fh_host, &args, &state, err, sizeof err);
    if (r == 0)
        m->close(state);
    return r;
}
