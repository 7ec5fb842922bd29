/* strict_path.h — StrictModes for every file tlspin loads into a process.
 *
 * The policy, what it @includes, the pinsets, the ct log list and every
 * module .so decide which keys every program on the machine accepts, setuid
 * ones included. Like OpenSSH's StrictModes, each of them and every
 * directory above it must be owned by root or by the process's effective
 * user (so a user's own TLSPIN_CONFIG works for that user, never for a
 * setuid program, whose euid is root) and must not be writable by group or
 * others. A sticky directory (/tmp) may be writable by others: the sticky
 * bit keeps others from renaming or removing what is in it, and what is in
 * it must itself be owned by root or the euid, as sshd accepts it.
 * Symbolic links are followed only when the link itself is owned by root or
 * the euid (it sits in a directory that passed the rules); the target is
 * then walked under the same rules, so a link cannot lead out of trusted
 * ground.
 *
 * Header-only on purpose: the engine, each module and the CLI are separate
 * parts that never compile each other's sources, and a module must not
 * depend on a newer engine's host table for its own safety. Each part
 * includes this one definition; nothing here keeps state (the walk's
 * buffers are allocated per call and freed before it returns).
 *
 * tlspin_strict_open() checks the path, opens it without blocking and makes
 * sure the descriptor is the object that was checked. */
#ifndef TLSPIN_STRICT_PATH_H
#define TLSPIN_STRICT_PATH_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLSPIN_STRICT_FILE 0   /* the path names a regular file */
#define TLSPIN_STRICT_DIR 1    /* the path names a directory */
#define TLSPIN_STRICT_LINKS_MAX 40   /* as the kernel's ELOOP limit */

static __attribute__((unused)) const char *tlspin_strict_kind(mode_t mode)
{
    return S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket"
         : S_ISCHR(mode) ? "a character device" : S_ISBLK(mode) ? "a block device"
         : S_ISDIR(mode) ? "a directory" : S_ISLNK(mode) ? "a symbolic link"
         : "not a file";
}

/* The rule for one object met on the way: `at` its path, `last` whether it
 * is the object itself (then it must be of the wanted type), `path` the
 * path asked for (named when `at` is a directory above it). */
static __attribute__((unused)) int tlspin_strict_one(const char *path, const char *at,
                                                     const struct stat *st, int last, int want,
                                                     char *err, size_t errlen)
{
    uid_t euid = geteuid();
    /* "PATH: the directory DIR: RULE: refused" for a directory on the way,
     * "PATH: RULE: refused" for the object itself: callers put their own
     * context in place of "PATH: ". */
    const char *above = last ? "" : "the directory ";

    if (!last && !S_ISDIR(st->st_mode)) {
        snprintf(err, errlen, "%s: %s", path, strerror(ENOTDIR));
        return -1;
    }
    if (last && want == TLSPIN_STRICT_DIR && !S_ISDIR(st->st_mode)) {
        snprintf(err, errlen, "%s: %s", path, strerror(ENOTDIR));
        return -1;
    }
    if (last && want == TLSPIN_STRICT_FILE && !S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "%s: not a regular file (%s)", path,
                 tlspin_strict_kind(st->st_mode));
        return -1;
    }
    if (st->st_uid != 0 && st->st_uid != euid) {
        snprintf(err, errlen, "%s: %s%s%sowned by uid %u, not root%s: refused", path, above,
                 last ? "" : at, last ? "" : ": ", (unsigned)st->st_uid,
                 euid != 0 ? " or the process's user" : "");
        return -1;
    }
    /* A sticky directory writable by others (/tmp) is accepted on the way,
     * as sshd does: what lies in it is checked to be root's or the euid's. */
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
        !(S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && !last)) {
        snprintf(err, errlen, "%s: %s%s%swritable by %s (mode %04o): refused", path, above,
                 last ? "" : at, last ? "" : ": ",
                 (st->st_mode & S_IWGRP) && (st->st_mode & S_IWOTH) ? "group and others"
                 : (st->st_mode & S_IWGRP) ? "group" : "others",
                 (unsigned)(st->st_mode & 07777));
        return -1;
    }
    return 0;
}

/* Walks `path` from "/" one component at a time, with lstat, following
 * symbolic links by hand so that every object met (links included) is
 * checked. On success *out is the stat of the object named. Returns 0, or
 * -1 with "path: reason" in err. */
struct tlspin_strict_bufs {
    char cur[PATH_MAX], rest[PATH_MAX], tmp[PATH_MAX], target[PATH_MAX];
};

static __attribute__((unused)) int tlspin_strict_walk(const char *path, int want,
                                                      struct stat *out, char *err,
                                                      size_t errlen,
                                                      struct tlspin_strict_bufs *b)
{
    char *cur = b->cur, *rest = b->rest, *tmp = b->tmp, *target = b->target;
    struct stat st;
    int links = 0;
    size_t cl;

    if (path == NULL || path[0] == '\0') {
        snprintf(err, errlen, "(empty path): %s", strerror(ENOENT));
        return -1;
    }
    if (path[0] == '/') {
        if (snprintf(rest, sizeof(b->rest), "%s", path) >= (int)sizeof(b->rest))
            goto toolong;
    } else {
        /* A relative path is relative to the working directory, which is
         * walked from "/" like the rest. */
        if (getcwd(tmp, sizeof(b->tmp)) == NULL ||
            snprintf(rest, sizeof(b->rest), "%s/%s", tmp, path) >= (int)sizeof(b->rest))
            goto toolong;
    }
    strcpy(cur, "/");
    if (lstat("/", &st) != 0) {
        snprintf(err, errlen, "%s: /: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        char *p = rest, *comp, *next;
        size_t len;
        int last;

        while (*p == '/')
            p++;
        if (*p == '\0') {
            /* The object itself ("/" or a path ending in "/" or ".."). */
            if (tlspin_strict_one(path, cur, &st, 1, want, err, errlen) != 0)
                return -1;
            break;
        }
        comp = p;
        len = strcspn(comp, "/");
        next = comp + len;
        while (*next == '/')
            next++;
        last = *next == '\0';
        /* The directory we are in passed as "above" before going on. */
        if (tlspin_strict_one(path, cur, &st, 0, want, err, errlen) != 0)
            return -1;
        if (len == 1 && comp[0] == '.') {
            memmove(rest, next, strlen(next) + 1);
            continue;
        }
        if (len == 2 && comp[0] == '.' && comp[1] == '.') {
            char *slash = strrchr(cur, '/');
            if (slash != NULL && slash != cur)
                *slash = '\0';
            else
                strcpy(cur, "/");
            memmove(rest, next, strlen(next) + 1);
            if (lstat(cur, &st) != 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
            }
            continue;
        }
        cl = strlen(cur);
        if (cl + 1 + len + 1 > sizeof(b->tmp))
            goto toolong;
        memcpy(tmp, cur, cl);
        if (cl > 1)
            tmp[cl++] = '/';
        memcpy(tmp + cl, comp, len);
        tmp[cl + len] = '\0';
        if (lstat(tmp, &st) != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        if (S_ISLNK(st.st_mode)) {
            ssize_t n;
            uid_t euid = geteuid();

            /* The link's owner could point it anywhere. */
            if (st.st_uid != 0 && st.st_uid != euid) {
                snprintf(err, errlen, "%s: the symbolic link %s is owned by uid %u, not root: "
                         "refused", path, tmp, (unsigned)st.st_uid);
                return -1;
            }
            if (++links > TLSPIN_STRICT_LINKS_MAX) {
                snprintf(err, errlen, "%s: %s", path, strerror(ELOOP));
                return -1;
            }
            n = readlink(tmp, target, sizeof(b->target) - 1);
            if (n < 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
            }
            target[n] = '\0';
            if (snprintf(tmp, sizeof(b->tmp), "%s/%s", target, next) >= (int)sizeof(b->tmp))
                goto toolong;
            memcpy(rest, tmp, strlen(tmp) + 1);
            if (target[0] == '/')
                strcpy(cur, "/");
            if (lstat(cur, &st) != 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
            }
            continue;
        }
        memcpy(cur, tmp, strlen(tmp) + 1);
        memmove(rest, next, strlen(next) + 1);
        if (last) {
            if (tlspin_strict_one(path, cur, &st, 1, want, err, errlen) != 0)
                return -1;
            break;
        }
    }
    *out = st;
    return 0;
toolong:
    snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
    return -1;
}

/* The walk's four path buffers (16 KB) live on the heap: this runs on the
 * program's thread, which may have a small stack (issue 13, point 5).
 * Without memory the path is refused. */
static __attribute__((unused)) int tlspin_strict_check(const char *path, int want,
                                                       struct stat *out, char *err,
                                                       size_t errlen)
{
    struct tlspin_strict_bufs *b = malloc(sizeof(*b));
    int r;

    if (b == NULL) {
        snprintf(err, errlen, "%s: %s", path ? path : "(null)", strerror(ENOMEM));
        return -1;
    }
    r = tlspin_strict_walk(path, want, out, err, errlen, b);
    free(b);
    return r;
}

/* The path checked, then opened read-only without blocking (a FIFO never
 * gets here: its type was checked first) and the descriptor compared with
 * what was checked. A file replaced between the check and the open (an
 * editor or a config tool saving with rename) is checked and opened again,
 * a few times, before that counts as a fault. Returns the descriptor, or -1
 * with "path: reason". */
static __attribute__((unused)) int tlspin_strict_open(const char *path, int want,
                                                      struct stat *st, char *err,
                                                      size_t errlen)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        struct stat checked;
        int fd;

        if (tlspin_strict_check(path, want, &checked, err, errlen) != 0)
            return -1;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
                            (want == TLSPIN_STRICT_DIR ? O_DIRECTORY : 0));
        if (fd < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        if (fstat(fd, st) == 0 && st->st_dev == checked.st_dev &&
            st->st_ino == checked.st_ino)
            return fd;
        close(fd);
    }
    snprintf(err, errlen, "%s: changed while being opened (three times)", path);
    return -1;
}

#endif
