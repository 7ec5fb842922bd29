/* The signed pinset on disk. See sigstore.h. */
#include "sigstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static void serrf(char *err, size_t errlen, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void serrf(char *err, size_t errlen, const char *f, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, f);
    vsnprintf(err, errlen, f, ap);
    va_end(ap);
}

/* Split "/a/b/c" into "/a/b" and "c". */
static int split(const char *path, char *dir, size_t dirlen, const char **base)
{
    const char *slash = strrchr(path, '/');

    if (path[0] != '/' || slash == NULL || slash[1] == '\0')
        return -1;
    if ((size_t)(slash - path) + 1 >= dirlen)
        return -1;
    if (slash == path)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    *base = slash + 1;
    return 0;
}

static int open_dir_checked(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        serrf(err, errlen, "directory %s: %s%s", dir, strerror(errno),
              errno == ENOTDIR || errno == ELOOP ? " (a symbolic link is refused)" : "");
        return -1;
    }
    if (fstat(fd, &st) != 0 || st.st_uid != 0 || (st.st_mode & 022) != 0) {
        serrf(err, errlen, "directory %s: must be owned by root and not group or world "
              "writable (owner %u, mode %03o)", dir, (unsigned)st.st_uid,
              (unsigned)(st.st_mode & 0777));
        close(fd);
        return -1;
    }
    return fd;
}

static int read_at(int dfd, const char *dir, const char *base, size_t cap, char **buf,
                   size_t *len, int *errno_out, char *err, size_t errlen)
{
    struct stat st;
    char *b = NULL;
    size_t got = 0;
    int fd;

    fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno_out != NULL)
            *errno_out = errno;
        serrf(err, errlen, "%s/%s: %s%s", dir, base, strerror(errno),
              errno == ELOOP ? " (a symbolic link is refused)" : "");
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        serrf(err, errlen, "%s/%s: %s", dir, base, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        serrf(err, errlen, "%s/%s: not a regular file", dir, base);
        goto fail;
    }
    if (st.st_nlink != 1) {
        serrf(err, errlen, "%s/%s: has %lu hard links, one is required", dir, base,
              (unsigned long)st.st_nlink);
        goto fail;
    }
    if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
        serrf(err, errlen, "%s/%s: must be owned by root and not group or world writable "
              "(owner %u, mode %03o)", dir, base, (unsigned)st.st_uid,
              (unsigned)(st.st_mode & 0777));
        goto fail;
    }
    if ((uint64_t)st.st_size > cap) {
        serrf(err, errlen, "%s/%s: %lld bytes, more than %zu", dir, base,
              (long long)st.st_size, cap);
        goto fail;
    }
    b = malloc(cap + 2);
    if (b == NULL) {
        serrf(err, errlen, "out of memory");
        goto fail;
    }
    for (;;) {
        ssize_t n = read(fd, b + got, cap + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            serrf(err, errlen, "%s/%s: %s", dir, base, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > cap) {
            serrf(err, errlen, "%s/%s: more than %zu bytes", dir, base, cap);
            goto fail;
        }
    }
    b[got] = '\0';
    close(fd);
    *buf = b;
    *len = got;
    return 0;
fail:
    free(b);
    close(fd);
    return -1;
}

int sigstore_read(const char *path, size_t cap, char **buf, size_t *len, int *errno_out,
                  char *err, size_t errlen)
{
    char *dir = malloc(4096);   /* on the heap: open() runs on the program's thread */
    const char *base;
    int dfd, r = -1;

    if (errno_out != NULL)
        *errno_out = 0;
    if (dir == NULL) {
        serrf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (split(path, dir, 4096, &base) != 0) {
        serrf(err, errlen, "%s: not an absolute path to a file", path);
        goto out;
    }
    dfd = open_dir_checked(dir, err, errlen);
    if (dfd < 0)
        goto out;
    r = read_at(dfd, dir, base, cap, buf, len, errno_out, err, errlen);
    close(dfd);
out:
    free(dir);
    return r;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sigstore_load_keys(const char *path, struct sigfmt_keys *keys, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    size_t len;
    int r = -1;

    memset(keys, 0, sizeof(*keys));
    if (path[0] != '/') {
        serrf(err, errlen, "keys %s: not an absolute path", path);
        return -1;
    }
    if (lstat(path, &st) != 0) {
        serrf(err, errlen, "keys %s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        int dfd = open_dir_checked(path, err, errlen);
        DIR *d;
        struct dirent *e;
        char *names[SIGFMT_KEYS_MAX * 2];
        size_t n = 0, i;
        if (dfd < 0)
            return -1;
        d = fdopendir(dfd);
        if (d == NULL) {
            close(dfd);
            serrf(err, errlen, "keys %s: %s", path, strerror(errno));
            return -1;
        }
        while ((e = readdir(d)) != NULL) {
            size_t l = strlen(e->d_name);
            if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".pub") != 0)
                continue;
            if (n >= sizeof(names) / sizeof(names[0])) {
                serrf(err, errlen, "keys %s: too many *.pub files", path);
                goto dir_out;
            }
            names[n] = strdup(e->d_name);
            if (names[n] == NULL)
                goto dir_out;
            n++;
        }
        qsort(names, n, sizeof(names[0]), name_cmp);
        for (i = 0; i < n; i++) {
            char src[300];
            snprintf(src, sizeof(src), "%s/%s", path, names[i]);
            if (read_at(dirfd(d), path, names[i], 4096, &buf, &len, NULL, err, errlen) != 0)
                goto dir_out;
            if (sigfmt_keys_add_pem(keys, buf, len, src, err, errlen) != 0)
                goto dir_out;
            free(buf);
            buf = NULL;
        }
        if (keys->n == 0) {
            serrf(err, errlen, "keys %s: no *.pub key in the directory", path);
            goto dir_out;
        }
        r = 0;
    dir_out:
        free(buf);
        for (i = 0; i < n; i++)
            free(names[i]);
        closedir(d);
        return r;
    }
    if (sigstore_read(path, 4096, &buf, &len, NULL, err, errlen) != 0)
        return -1;
    r = sigfmt_keys_add_pem(keys, buf, len, path, err, errlen);
    free(buf);
    return r;
}

int sigstore_state_read(const char *path, struct sigstore_state *st, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len;
    int e = 0;
    unsigned long long serial;
    char hex[65], signers[sizeof(st->signers)];
    int used = 0;

    memset(st, 0, sizeof(*st));
    if (sigstore_read(path, 4096, &buf, &len, &e, err, errlen) != 0)
        return e == ENOENT ? 0 : -1;
    /* signers: at most SIGFMT_SIGS_MAX ids and commas (136 characters) */
    _Static_assert(sizeof(signers) == 137, "the %136 below must match signers[]");
    if (sscanf(buf, "tlspin-signed-state 1\nserial %llu\nsha256 %64[0-9a-f]\nsigners %136[0-9a-f,]\n%n",
               &serial, hex, signers, &used) != 3 || (size_t)used != len || strlen(hex) != 64 ||
        serial == 0) {
        serrf(err, errlen, "state %s: not a tlspin signed-pinset state file", path);
        free(buf);
        return -1;
    }
    free(buf);
    st->present = 1;
    st->serial = serial;
    memcpy(st->sha256_hex, hex, 65);
    snprintf(st->signers, sizeof(st->signers), "%s", signers);
    return 0;
}

static int any_signer_trusted(const char *signers, const struct sigfmt_keys *keys)
{
    const char *p = signers;
    size_t i;

    while (*p != '\0') {
        for (i = 0; i < keys->n; i++)
            if (strncmp(p, keys->k[i].id, SIGFMT_KEYID_LEN) == 0)
                return 1;
        p = strchr(p, ',');
        if (p == NULL)
            break;
        p++;
    }
    return 0;
}

enum floor_result sigstore_floor(const struct sigstore_state *st, const struct sigfmt_info *info,
                                 const struct sigfmt_keys *keys, int *reset, char *err,
                                 size_t errlen)
{
    *reset = 0;
    if (!st->present)
        return FLOOR_NEWER;
    if (!any_signer_trusted(st->signers, keys)) {
        *reset = 1; /* signing key rotated: what the old key vouched for is void */
        return FLOOR_NEWER;
    }
    if (info->serial < st->serial) {
        serrf(err, errlen, "rollback: serial %llu is lower than the %llu already accepted",
              (unsigned long long)info->serial, (unsigned long long)st->serial);
        return FLOOR_ROLLBACK;
    }
    if (info->serial == st->serial) {
        if (strcmp(info->sha256_hex, st->sha256_hex) == 0)
            return FLOOR_SAME;
        serrf(err, errlen, "equivocation: serial %llu was accepted with other bytes "
              "(sha256 %.16s..., now %.16s...)", (unsigned long long)info->serial,
              st->sha256_hex, info->sha256_hex);
        return FLOOR_EQUIVOCATION;
    }
    return FLOOR_NEWER;
}

void sigstore_state_text(const struct sigfmt_info *info, char *out, size_t outlen)
{
    snprintf(out, outlen, "tlspin-signed-state 1\nserial %llu\nsha256 %s\nsigners %s\n",
             (unsigned long long)info->serial, info->sha256_hex, info->signers);
}

static int install_in(const char *path, const char *data, size_t len, char *dir, char *err,
                      size_t errlen)
{
    char tmp[300];
    const char *base;
    unsigned char rnd[8];
    size_t off = 0;
    int dfd, fd = -1, i;

    if (split(path, dir, 4096, &base) != 0 || strlen(base) > 200) {
        serrf(err, errlen, "%s: not an absolute path to a file", path);
        return -1;
    }
    dfd = open_dir_checked(dir, err, errlen);
    if (dfd < 0)
        return -1;
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        serrf(err, errlen, "getrandom: %s", strerror(errno));
        goto fail;
    }
    i = snprintf(tmp, sizeof(tmp), ".%s.", base);
    for (size_t k = 0; k < sizeof(rnd); k++)
        i += snprintf(tmp + i, sizeof(tmp) - (size_t)i, "%02x", rnd[k]);
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        serrf(err, errlen, "%s/%s: %s", dir, tmp, strerror(errno));
        goto fail;
    }
    if (fchmod(fd, 0644) != 0) {
        serrf(err, errlen, "%s/%s: %s", dir, tmp, strerror(errno));
        goto fail_unlink;
    }
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            serrf(err, errlen, "%s/%s: %s", dir, tmp, strerror(errno));
            goto fail_unlink;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        serrf(err, errlen, "%s/%s: %s", dir, tmp, strerror(errno));
        goto fail_unlink;
    }
    fd = -1;
    if (renameat(dfd, tmp, dfd, base) != 0) {
        serrf(err, errlen, "rename to %s: %s", path, strerror(errno));
        goto fail_unlink;
    }
    if (fsync(dfd) != 0) {
        serrf(err, errlen, "fsync %s: %s", dir, strerror(errno));
        close(dfd);
        return -1;
    }
    close(dfd);
    return 0;
fail_unlink:
    if (fd >= 0)
        close(fd);
    unlinkat(dfd, tmp, 0);
    close(dfd);
    return -1;
fail:
    close(dfd);
    return -1;
}

/* The directory's 4 KB path on the heap (modules keep their frames small:
 * -Wstack-usage in modules/signed/CMakeLists.txt). */
int sigstore_install(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char *dir = malloc(4096);
    int r;

    if (dir == NULL) {
        serrf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    r = install_in(path, data, len, dir, err, errlen);
    free(dir);
    return r;
}
