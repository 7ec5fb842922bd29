/* signed_check — see signed_check.h. */
#include "signed_check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tlspin/module.h>

#include "../modules/signed/sigbody.h"
#include "hostname.h"
#include "pin.h"

static void quiet_log(const struct tlspin_host *host, int priority, const char *f, ...)
{
    (void)host;
    (void)priority;
    (void)f;
}

static const struct tlspin_host host_services = {
    .struct_size = sizeof(struct tlspin_host),
    .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR,
    .log = quiet_log,
    .pin_parse = tlspin_pin_parse,
    .pin_format = tlspin_pin_format,
    .host_normalize = tlspin_host_normalize,
    .host_match = tlspin_host_match,
};

const void *signed_host_services(void)
{
    return &host_services;
}

void signed_state_path(const char *cache, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s.state", cache);
}

int signed_body_check(const char *name, const char *body, size_t len, size_t *n_pinsets,
                      char *err, size_t errlen)
{
    struct file_state st;
    int r;

    memset(&st, 0, sizeof(st));
    r = sigbody_build(&st, &host_services, name, body, len, err, errlen);
    if (n_pinsets != NULL)
        *n_pinsets = st.pinsets.n;
    sigbody_free(&st);
    return r;
}

int signed_check(const char *name, const char *buf, size_t len, const struct sigfmt_keys *keys,
                 const struct sigfmt_limits *lim, const struct sigstore_state *st,
                 struct signed_verdict *v, char *err, size_t errlen)
{
    enum sigfmt_result r;
    char why[512];

    memset(v, 0, sizeof(*v));
    r = sigfmt_verify(buf, len, keys, lim, &v->info, why, sizeof(why));
    if (r == SIGFMT_BAD) {
        snprintf(err, errlen, "%s: %s", name, why);
        return -1;
    }
    if (r == SIGFMT_STALE) {
        v->stale = 1;
        snprintf(err, errlen, "%s: %s", name, why);
        return -1;
    }
    if (signed_body_check(name, v->info.body, v->info.body_len, &v->n_pinsets, why,
                          sizeof(why)) != 0) {
        snprintf(err, errlen, "pinsets inside %s", why);
        return -1;
    }
    if (st != NULL) {
        enum floor_result f = sigstore_floor(st, &v->info, keys, &v->reset, why, sizeof(why));
        if (f == FLOOR_ROLLBACK || f == FLOOR_EQUIVOCATION) {
            snprintf(err, errlen, "%s: %s", name, why);
            return -1;
        }
        v->same = f == FLOOR_SAME;
    }
    return 0;
}

int signed_read_plain(const char *path, size_t cap, char **buf, size_t *len, char *err,
                      size_t errlen)
{
    int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    char *b;
    size_t got = 0;

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    b = malloc(cap + 2);
    if (b == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (;;) {
        ssize_t n = read(fd, b + got, cap + 1 - got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > cap) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path, cap);
            goto fail;
        }
    }
    close(fd);
    b[got] = '\0';
    *buf = b;
    *len = got;
    return 0;
fail:
    close(fd);
    free(b);
    return -1;
}

static int name_cmp_plain(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int signed_load_keys_plain(const char *path, struct sigfmt_keys *keys, char *err, size_t errlen)
{
    struct stat st;
    char *buf;
    size_t len;
    int r;

    memset(keys, 0, sizeof(*keys));
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "keys %s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char *names[SIGFMT_KEYS_MAX];
        size_t n = 0, i;
        r = 0;
        if (d == NULL) {
            snprintf(err, errlen, "keys %s: %s", path, strerror(errno));
            return -1;
        }
        while ((e = readdir(d)) != NULL && n < SIGFMT_KEYS_MAX) {
            size_t l = strlen(e->d_name);
            if (e->d_name[0] != '.' && l > 4 && strcmp(e->d_name + l - 4, ".pub") == 0)
                names[n++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof(names[0]), name_cmp_plain);
        for (i = 0; i < n; i++) {
            char p[4096];
            snprintf(p, sizeof(p), "%s/%s", path, names[i] ? names[i] : "");
            if (r == 0 && (names[i] == NULL ||
                           signed_read_plain(p, 4096, &buf, &len, err, errlen) != 0))
                r = -1;
            else if (r == 0) {
                r = sigfmt_keys_add_pem(keys, buf, len, p, err, errlen);
                free(buf);
            }
            free(names[i]);
        }
        if (r == 0 && keys->n == 0) {
            snprintf(err, errlen, "keys %s: no *.pub key in the directory", path);
            r = -1;
        }
        return r;
    }
    if (signed_read_plain(path, 4096, &buf, &len, err, errlen) != 0)
        return -1;
    r = sigfmt_keys_add_pem(keys, buf, len, path, err, errlen);
    free(buf);
    return r;
}
