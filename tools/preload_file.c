/* preload_file — atomic, serialised, idempotent edits of /etc/ld.so.preload
 * (see preload_file.h). */
#include "preload_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEPARATORS ": \t\n"      /* what ld.so splits the file on */
#define MAX_SIZE (1 << 20)

static int fail(char *err, size_t errlen, const char *what, const char *path, int e)
{
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
    return -1;
}

static void split_path(const char *file, char *dir, size_t dirlen, const char **base)
{
    const char *slash = strrchr(file, '/');
    if (slash == NULL) {
        snprintf(dir, dirlen, ".");
        *base = file;
    } else if (slash == file) {
        snprintf(dir, dirlen, "/");
        *base = slash + 1;
    } else {
        snprintf(dir, dirlen, "%.*s", (int)(slash - file), file);
        *base = slash + 1;
    }
}

/* The whole file; a missing one reads as empty with *exists = 0. */
static int read_whole(const char *file, char **text, size_t *len, struct stat *st, int *exists,
                      char *err, size_t errlen)
{
    int fd;
    size_t n = 0;
    char *buf;

    *text = NULL;
    *len = 0;
    *exists = 0;
    if (lstat(file, st) != 0) {
        if (errno == ENOENT) {
            *text = strdup("");
            return *text ? 0 : fail(err, errlen, "cannot read", file, ENOMEM);
        }
        return fail(err, errlen, "cannot read", file, errno);
    }
    if (S_ISLNK(st->st_mode)) {
        snprintf(err, errlen, "%s is a symbolic link: edit it by hand (tlspin replaces only a "
                 "regular file)", file);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", file);
        return -1;
    }
    if (st->st_size > MAX_SIZE) {
        snprintf(err, errlen, "%s is larger than %d bytes: not an ld.so.preload file", file,
                 MAX_SIZE);
        return -1;
    }
    fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return fail(err, errlen, "cannot read", file, errno);
    buf = malloc((size_t)st->st_size + 1);
    if (buf == NULL) {
        close(fd);
        return fail(err, errlen, "cannot read", file, ENOMEM);
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, (size_t)st->st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fail(err, errlen, "cannot read", file, e);
        }
        if (r == 0 || (n += (size_t)r) == (size_t)st->st_size)
            break;
    }
    close(fd);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    *exists = 1;
    return 0;
}

int preload_list(const char *file, char ***entries, size_t *n, int *exists, char *err,
                 size_t errlen)
{
    struct stat st;
    char *text, *save = NULL, *tok;
    size_t len;

    *entries = NULL;
    *n = 0;
    if (read_whole(file, &text, &len, &st, exists, err, errlen) != 0)
        return -1;
    for (tok = strtok_r(text, SEPARATORS, &save); tok; tok = strtok_r(NULL, SEPARATORS, &save)) {
        char **more = realloc(*entries, (*n + 1) * sizeof *more);
        if (more == NULL || (more[*n] = strdup(tok)) == NULL) {
            if (more)
                *entries = more;
            preload_list_free(*entries, *n);
            free(text);
            return fail(err, errlen, "cannot read", file, ENOMEM);
        }
        *entries = more;
        (*n)++;
    }
    free(text);
    return 0;
}

void preload_list_free(char **entries, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(entries[i]);
    free(entries);
}

/* A growing output buffer. */
struct out {
    char *p;
    size_t n, cap;
    int oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->cap - o->n < n + 1) {
        size_t cap = (o->cap + n + 1) * 2;
        char *p = realloc(o->p, cap);
        if (p == NULL) {
            o->oom = 1;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

/* The text without the entries of ours. Lines holding none are copied
 * byte for byte; a line holding one keeps its other entries, joined by the
 * separator it used; a line left empty disappears. */
static int drop_ours(const char *text, size_t len, preload_match_fn is_ours, void *arg,
                     struct out *o, int *dropped, int *kept_entries)
{
    size_t pos = 0;

    *dropped = 0;
    *kept_entries = 0;
    put(o, "", 0);
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - line) : len - pos;
        char *copy = strndup(line, linelen), *save = NULL, *tok;
        int ours = 0, others = 0;
        char sep = ' ';

        if (copy == NULL)
            return -1;
        for (size_t i = 0; i < linelen; i++)
            if (strchr(": \t", line[i])) {
                sep = line[i];
                break;
            }
        for (tok = strtok_r(copy, SEPARATORS, &save); tok; tok = strtok_r(NULL, SEPARATORS, &save))
            if (is_ours(tok, arg))
                ours++;
            else
                others++;
        free(copy);
        if (ours == 0) {
            put(o, line, linelen + (nl ? 1 : 0));
        } else if (others > 0) {
            int first = 1;
            copy = strndup(line, linelen);
            if (copy == NULL)
                return -1;
            save = NULL;
            for (tok = strtok_r(copy, SEPARATORS, &save); tok;
                 tok = strtok_r(NULL, SEPARATORS, &save)) {
                if (is_ours(tok, arg))
                    continue;
                if (!first)
                    put(o, &sep, 1);
                put(o, tok, strlen(tok));
                first = 0;
            }
            free(copy);
            if (nl)
                put(o, "\n", 1);
        }
        *dropped += ours;
        *kept_entries += others;
        pos += linelen + (nl ? 1 : 0);
    }
    return o->oom ? -1 : 0;
}

static int fsync_dir(int dirfd, const char *dir, char *err, size_t errlen)
{
    if (fsync(dirfd) != 0 && errno != EINVAL)
        return fail(err, errlen, "cannot sync", dir, errno);
    return 0;
}

/* Replace file with text: temporary file in the same directory (O_EXCL),
 * same owner and mode as the old file (root, 0644 for a new one), written,
 * fsync'ed, renamed, directory fsync'ed. */
static int replace_atomically(int dirfd, const char *dir, const char *base, const char *file,
                              const char *text, size_t len, const struct stat *old,
                              int old_exists, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    int fd = -1, e;
    size_t done = 0;

    if (snprintf(tmp, sizeof tmp, "%s%s.%s.tlspin-XXXXXX", dir, strcmp(dir, "/") ? "/" : "",
                 base) >= (int)sizeof tmp)
        return fail(err, errlen, "cannot write", file, ENAMETOOLONG);
    fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT|O_EXCL, mode 0600 */
    if (fd < 0) {
        e = errno;
        snprintf(err, errlen, "cannot write in %s: %s%s", dir, strerror(e),
                 e == EACCES || e == EPERM || e == EROFS ? (geteuid() ? " (run as root)" : "")
                                                          : "");
        return -1;
    }
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto io_error;
        done += (size_t)w;
    }
    if (fchmod(fd, old_exists ? (old->st_mode & 07777) : 0644) != 0)
        goto io_error;
    if (fchown(fd, old_exists ? old->st_uid : 0, old_exists ? old->st_gid : 0) != 0 &&
        geteuid() == 0)
        goto io_error;
    if (fsync(fd) != 0)
        goto io_error;
    if (close(fd) != 0) {
        fd = -1;
        goto io_error;
    }
    fd = -1;
    if (rename(tmp, file) != 0)
        goto io_error;
    return fsync_dir(dirfd, dir, err, errlen);

io_error:
    e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return fail(err, errlen, "cannot write", file, e);
}

/* Shared body of add and remove: lock the directory, read, edit, write. */
static int edit(const char *file, const char *lib, preload_match_fn is_ours, void *arg,
                int *changed, int *removed, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    const char *base;
    struct stat st;
    char *text = NULL;
    size_t len;
    int exists, dirfd, rc = -1, dropped = 0, kept = 0;
    struct out o = {0};

    *changed = 0;
    if (removed)
        *removed = 0;
    split_path(file, dir, sizeof dir, &base);
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return fail(err, errlen, "cannot open", dir, errno);
    /* Two tlspin processes never interleave their read-modify-write. */
    while (flock(dirfd, LOCK_EX) != 0)
        if (errno != EINTR) {
            fail(err, errlen, "cannot lock", dir, errno);
            goto out;
        }
    if (read_whole(file, &text, &len, &st, &exists, err, errlen) != 0)
        goto out;

    if (lib != NULL) {
        /* Already listed, alone among ours: nothing to write. */
        char *copy = strdup(text), *save = NULL, *tok;
        int same = 0, ours = 0;
        if (copy == NULL) {
            fail(err, errlen, "cannot read", file, ENOMEM);
            goto out;
        }
        for (tok = strtok_r(copy, SEPARATORS, &save); tok; tok = strtok_r(NULL, SEPARATORS, &save))
            if (is_ours(tok, arg)) {
                ours++;
                same += strcmp(tok, lib) == 0;
            }
        free(copy);
        if (ours == 1 && same == 1) {
            rc = 0;
            goto out;
        }
    }
    if (drop_ours(text, len, is_ours, arg, &o, &dropped, &kept) != 0) {
        fail(err, errlen, "cannot edit", file, ENOMEM);
        goto out;
    }
    if (removed)
        *removed = dropped;
    if (lib != NULL) {
        if (o.n > 0 && o.p[o.n - 1] != '\n')
            put(&o, "\n", 1);
        put(&o, lib, strlen(lib));
        put(&o, "\n", 1);
        kept++;
        if (o.oom) {
            fail(err, errlen, "cannot edit", file, ENOMEM);
            goto out;
        }
    } else if (dropped == 0) {
        rc = 0;                     /* nothing of ours: nothing to write */
        goto out;
    }
    if (kept == 0) {
        /* No entry left: no file (a blank one would be read at every exec). */
        if (exists && unlink(file) != 0) {
            fail(err, errlen, "cannot remove", file, errno);
            goto out;
        }
        rc = fsync_dir(dirfd, dir, err, errlen);
    } else {
        rc = replace_atomically(dirfd, dir, base, file, o.p, o.n, &st, exists, err, errlen);
    }
    if (rc == 0)
        *changed = 1;
out:
    free(text);
    free(o.p);
    close(dirfd); /* releases the lock */
    return rc;
}

int preload_add(const char *file, const char *lib, preload_match_fn is_ours, void *arg,
                int *changed, char *err, size_t errlen)
{
    return edit(file, lib, is_ours, arg, changed, NULL, err, errlen);
}

int preload_remove(const char *file, preload_match_fn is_ours, void *arg, int *removed,
                   char *err, size_t errlen)
{
    int changed;
    return edit(file, NULL, is_ours, arg, &changed, removed, err, errlen);
}
