/* The last good policy on disk: see last_good.h for the layout and why.
 *
 * Written only by `tlspin check --commit` as root (an explicit, privileged
 * act: the policy is validated exactly as the shim loads it first), read by
 * the engine only when a new process's policy has a fault. Nothing here runs
 * while the policy is good.
 *
 * Reading: the snapshot is checked through descriptors (openat with
 * O_NOFOLLOW from the state directory down, the way modules/signed/sigstore.c
 * reads its cache), then loaded by path. That is sound because every
 * directory on the way, from / on, is root's and writable by nobody else
 * (sticky world-writable parents such as /tmp excepted, where nobody else can
 * rename root's entries): once checked, nobody but root can change what a
 * path names. */
#include "last_good.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef TLSPIN_STATEDIR
#define TLSPIN_STATEDIR "/var/lib/tlspin"
#endif

#define TREE_DEPTH_MAX 64
#define TREE_ENTRIES_MAX 100000
#define COPY_MAX_BYTES (256ll * 1024 * 1024)
#define INFO_MAX 8192

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *last_good_statedir(void)
{
    const char *env = secure_getenv("TLSPIN_STATE_DIR");
    return env && env[0] == '/' ? env : TLSPIN_STATEDIR;
}

/* The snapshot's directory name: SHA-256 of the policy path as the shim
 * names it, so that every policy (TLSPIN_CONFIG ones too) has its own. */
static int key_of(const char *path, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(path, strlen(path), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return -1;
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int safe_mode(const struct stat *st)
{
    return st->st_uid == 0 && (st->st_mode & 022) == 0;
}

/* Every directory above the state directory: root's, and writable by
 * nobody else unless sticky (there nobody else can rename root's
 * entries). */
static int parents_safe(const char *dir, char *err, size_t errlen)
{
    char *prefix;
    size_t len = strlen(dir);
    struct stat st;
    int rc = -1;

    if (dir[0] != '/' || len >= PATH_MAX) {
        errf(err, errlen, "state directory %s: not an absolute path", dir);
        return -1;
    }
    /* Path buffers of the load on the heap: a broken policy is replaced by
     * the last good one on the program's thread (issue 13, point 5). */
    if ((prefix = malloc(PATH_MAX)) == NULL) {
        errf(err, errlen, "%s: out of memory", dir);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (dir[i] != '/' || (i > 0 && dir[i - 1] == '/'))
            continue;
        memcpy(prefix, dir, i == 0 ? 1 : i);
        prefix[i == 0 ? 1 : i] = '\0';
        if (stat(prefix, &st) != 0) {
            errf(err, errlen, "%s: %s", prefix, strerror(errno));
            goto out;
        }
        if (st.st_uid != 0 || ((st.st_mode & 022) != 0 && !(st.st_mode & S_ISVTX))) {
            errf(err, errlen, "%s must be owned by root and not writable by others (owner %u, "
                 "mode %03o)", prefix, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
            goto out;
        }
    }
    rc = 0;
out:
    free(prefix);
    return rc;
}

/* Opens the directory `name` under dirfd (dirfd AT_FDCWD: an absolute
 * path) without following a symlink, and checks it. -1 with errno ENOENT
 * and no message when it does not exist. */
static int open_dir(int dirfd, const char *name, const char *shown, char *err, size_t errlen)
{
    struct stat st;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        int e = errno;
        if (e != ENOENT)
            errf(err, errlen, "%s: %s%s", shown, strerror(e),
                 e == ENOTDIR || e == ELOOP ? " (only a real directory is used)" : "");
        errno = e;
        return -1;
    }
    if (fstat(fd, &st) != 0 || !safe_mode(&st)) {
        errf(err, errlen, "%s must be owned by root and not group or world writable (owner %u, "
             "mode %03o)", shown, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

/* Every entry under the directory fd: directories and regular files only,
 * each root's and writable by nobody else. */
static int tree_safe(int fd, const char *shown, int depth, long *budget, char *err, size_t errlen)
{
    int dupfd, rc = 0;
    DIR *d;
    struct dirent *de;
    char *sub = malloc(PATH_MAX);   /* on the heap: this recurses */

    if (sub == NULL) {
        errf(err, errlen, "%s: out of memory", shown);
        return -1;
    }
    dupfd = dup(fd);
    if (dupfd < 0 || (d = fdopendir(dupfd)) == NULL) {
        if (dupfd >= 0)
            close(dupfd);
        errf(err, errlen, "%s: %s", shown, strerror(errno));
        free(sub);
        return -1;
    }
    rewinddir(d);   /* a dup shares its offset with fd */
    while (rc == 0 && (de = readdir(d)) != NULL) {
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(sub, PATH_MAX, "%s/%s", shown, de->d_name);
        if (--*budget < 0 || depth > TREE_DEPTH_MAX) {
            errf(err, errlen, "%s: the snapshot is too large or too deep", shown);
            rc = -1;
        } else if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            errf(err, errlen, "%s: %s", sub, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            int sfd = open_dir(fd, de->d_name, sub, err, errlen);
            if (sfd < 0) {
                if (errno == ENOENT)
                    errf(err, errlen, "%s: vanished while checked", sub);
                rc = -1;
            } else {
                rc = tree_safe(sfd, sub, depth + 1, budget, err, errlen);
                close(sfd);
            }
        } else if (!S_ISREG(st.st_mode)) {
            errf(err, errlen, "%s is not a regular file or directory (%s)", sub,
                 S_ISLNK(st.st_mode) ? "a symbolic link" : "a special file");
            rc = -1;
        } else if (!safe_mode(&st)) {
            errf(err, errlen, "%s must be owned by root and not group or world writable "
                 "(owner %u, mode %03o)", sub, (unsigned)st.st_uid,
                 (unsigned)(st.st_mode & 0777));
            rc = -1;
        }
    }
    closedir(d);
    free(sub);
    return rc;
}

/* "gen-<digits>" and nothing else: the link names a sibling, never a path. */
static int gen_number(const char *name, unsigned long *n)
{
    char *end;

    if (strncmp(name, "gen-", 4) != 0 || name[4] < '0' || name[4] > '9')
        return -1;
    errno = 0;
    *n = strtoul(name + 4, &end, 10);
    return errno == 0 && *end == '\0' ? 0 : -1;
}

/* Reads the generation's info file (path=, committed=) through genfd. */
static int read_info(int genfd, const char *shown, const char *path, time_t *committed,
                     char *err, size_t errlen)
{
    char *buf, *line, *save = NULL;
    int fd;
    ssize_t n;
    int have_path = 0, have_time = 0;

    if ((buf = malloc(INFO_MAX + 1)) == NULL) {   /* 8 KB: not on the program's stack */
        errf(err, errlen, "%s/info: out of memory", shown);
        return -1;
    }
    fd = openat(genfd, "info", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        errf(err, errlen, "%s/info: %s", shown, strerror(errno));
        free(buf);
        return -1;
    }
    n = read(fd, buf, INFO_MAX);
    close(fd);
    if (n < 0) {
        errf(err, errlen, "%s/info: %s", shown, strerror(errno));
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "path=", 5) == 0)
            have_path = strcmp(line + 5, path) == 0 ? 1 : -1;
        else if (strncmp(line, "committed=", 10) == 0) {
            *committed = (time_t)strtoll(line + 10, NULL, 10);
            have_time = 1;
        }
    }
    free(buf);
    if (have_path != 1 || !have_time) {
        errf(err, errlen, "%s/info: %s", shown,
             have_path < 0 ? "the snapshot is of another policy" : "incomplete");
        return -1;
    }
    return 0;
}

/* Finds and checks the current generation of `path`'s snapshot. 1 with
 * its directory in gendir, 0 without a snapshot, -1 with why. */
static int current_generation(const char *path, char *gendir, size_t gendirlen,
                              time_t *committed, char *err, size_t errlen)
{
    const char *statedir = last_good_statedir();
    char key[65], *shown, target[64];
    int sfd = -1, lfd = -1, kfd = -1, gfd = -1, rc = -1;
    ssize_t tlen;
    unsigned long n;
    struct stat st;
    long budget = TREE_ENTRIES_MAX;

    if (key_of(path, key) != 0) {
        errf(err, errlen, "cannot hash the policy path");
        return -1;
    }
    if ((shown = malloc(PATH_MAX)) == NULL) {
        errf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(shown, PATH_MAX, "%s/last-good/%s", statedir, key);
    if ((sfd = open_dir(AT_FDCWD, statedir, statedir, err, errlen)) < 0 ||
        (lfd = open_dir(sfd, "last-good", shown, err, errlen)) < 0 ||
        (kfd = open_dir(lfd, key, shown, err, errlen)) < 0) {
        rc = errno == ENOENT ? 0 : -1;
        goto out;
    }
    if (parents_safe(statedir, err, errlen) != 0)
        goto out;
    tlen = readlinkat(kfd, "current", target, sizeof(target) - 1);
    if (tlen < 0) {
        if (errno == ENOENT)
            rc = 0;
        else
            errf(err, errlen, "%s/current: %s", shown, strerror(errno));
        goto out;
    }
    target[tlen] = '\0';
    if (gen_number(target, &n) != 0 || fstatat(kfd, "current", &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        st.st_uid != 0) {
        errf(err, errlen, "%s/current must be root's link to a gen-<n> beside it", shown);
        goto out;
    }
    if ((size_t)snprintf(gendir, gendirlen, "%s/%s", shown, target) >= gendirlen) {
        errf(err, errlen, "%s: name too long", shown);
        goto out;
    }
    if ((gfd = open_dir(kfd, target, gendir, err, errlen)) < 0) {
        if (errno == ENOENT)
            errf(err, errlen, "%s: missing", gendir);
        goto out;
    }
    if (tree_safe(gfd, gendir, 0, &budget, err, errlen) != 0 ||
        read_info(gfd, gendir, path, committed, err, errlen) != 0)
        goto out;
    rc = 1;
out:
    if (gfd >= 0)
        close(gfd);
    if (kfd >= 0)
        close(kfd);
    if (lfd >= 0)
        close(lfd);
    if (sfd >= 0)
        close(sfd);
    free(shown);
    return rc;
}

int last_good_info(const char *path, time_t *committed, char *gendir, size_t gendirlen,
                   char *why, size_t whylen)
{
    char *dir = malloc(PATH_MAX);
    time_t t = 0;
    int rc;

    errf(why, whylen, "%s", "");
    if (dir == NULL) {
        errf(why, whylen, "out of memory");
        return -1;
    }
    rc = current_generation(path, dir, PATH_MAX, &t, why, whylen);
    if (rc == 1) {
        if (committed)
            *committed = t;
        if (gendir)
            snprintf(gendir, gendirlen, "%s", dir);
    }
    free(dir);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Loading: the snapshot's policy, its paths pointed into the snapshot    */
/* ---------------------------------------------------------------------- */

/* `value` -> "<root><value>" when the snapshot holds that path. */
static int rebase(const char *root, char **value)
{
    char *mirrored;
    struct stat st;

    if (*value == NULL || (*value)[0] != '/')
        return 0;
    if (asprintf(&mirrored, "%s%s", root, *value) < 0)
        return -1;
    if (lstat(mirrored, &st) != 0) {
        free(mirrored);
        return 0;   /* not a file the module reported reading: as written */
    }
    free(*value);
    *value = mirrored;
    return 0;
}

/* Every absolute path among the module paths and string arguments that the
 * snapshot holds is read from it: the modules read the snapshot without
 * knowing. */
static int rewrite_paths(struct policy_config *c, void *ctx, char *err, size_t errlen)
{
    const char *root = ctx;

    for (size_t i = 0; i < c->n_stack; i++) {
        struct stack_entry_config *e = &c->stack[i];
        if (rebase(root, &e->path) != 0)
            goto oom;
        for (size_t a = 0; a < e->n_args; a++)
            for (size_t v = 0; v < e->args[a].n_values; v++)
                if (rebase(root, (char **)&e->args[a].values[v]) != 0)
                    goto oom;
    }
    return 0;
oom:
    errf(err, errlen, "%s: out of memory", root);
    return -1;
}

struct policy *last_good_load(const char *path, const char *moduledir, char *why, size_t whylen)
{
    /* A commit may switch `current` and remove an old generation while this
     * reads: what was read then fails (never mixes, as generations are never
     * changed); read the new one. */
    /* 20 KB of paths: on the heap, since a broken policy is replaced by this
     * one on the program's thread (issue 13, point 5). */
    struct {
        char gendir[PATH_MAX], root[PATH_MAX + 8], policy_in[2 * PATH_MAX], again[PATH_MAX];
    } *b = malloc(sizeof(*b));
    struct policy *found = NULL;

    if (b == NULL) {
        errf(why, whylen, "out of memory");
        return NULL;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        time_t committed, t2;
        struct policy *p;
        int rc;

        errf(why, whylen, "%s", "");
        rc = current_generation(path, b->gendir, sizeof(b->gendir), &committed, why, whylen);
        if (rc <= 0)
            break;
        snprintf(b->root, sizeof(b->root), "%s/root", b->gendir);
        snprintf(b->policy_in, sizeof(b->policy_in), "%s%s", b->root, path);
        p = policy_load_with(b->policy_in, moduledir, rewrite_paths, b->root);
        if (p == NULL) {
            errf(why, whylen, "out of memory");
            break;
        }
        if (!policy_has_fault(p)) {
            found = p;
            break;
        }
        errf(why, whylen, "the last good policy does not load: %s", policy_first_fault(p));
        policy_free(p);
        if (current_generation(path, b->again, sizeof(b->again), &t2, NULL, 0) != 1 ||
            strcmp(b->again, b->gendir) == 0)
            break;
    }
    free(b);
    return found;
}

/* ---------------------------------------------------------------------- */
/* Committing                                                             */
/* ---------------------------------------------------------------------- */

struct commit {
    char tmp[PATH_MAX];      /* <key dir>/gen-<n>.tmp */
    char *err;
    size_t errlen;
    int failed;
};

/* mkdir -p of `rel` ("/etc/tlspin") under dir, root's, 0755. */
static int mkdirs(const char *dir, const char *rel, char *err, size_t errlen)
{
    /* Path and copy buffers of a commit on the heap too: the engine keeps
     * every frame under 2 KB (-Wstack-usage in loader/CMakeLists.txt). */
    enum { PLEN = 2 * PATH_MAX };
    char *p = malloc(PLEN);
    size_t base = strlen(dir);
    int n, rc = -1;

    if (p == NULL) {
        errf(err, errlen, "%s%s: out of memory", dir, rel);
        return -1;
    }
    n = snprintf(p, PLEN, "%s%s", dir, rel);
    if (n < 0 || (size_t)n >= PLEN) {
        errf(err, errlen, "%s%s: name too long", dir, rel);
        goto out;
    }
    for (size_t i = base + 1; ; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                errf(err, errlen, "%s: %s", p, strerror(errno));
                goto out;
            }
            p[i] = c;
            if (c == '\0')
                break;
        }
    }
    rc = 0;
out:
    free(p);
    return rc;
}

static int copy_file(const char *src, const char *dst, char *err, size_t errlen)
{
    enum { BUFLEN = 65536 };
    char *buf = malloc(BUFLEN);
    struct stat st;
    long long total = 0;
    int in = -1, out = -1, rc = -1;

    if (buf == NULL) {
        errf(err, errlen, "%s: out of memory", src);
        return -1;
    }
    in = open(src, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (in < 0 || fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        errf(err, errlen, "%s: %s", src, in < 0 ? strerror(errno) : "not a regular file");
        goto done;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (out < 0 || fchmod(out, 0644) != 0) {
        errf(err, errlen, "%s: %s", dst, strerror(errno));
        goto done;
    }
    for (;;) {
        ssize_t n = read(in, buf, BUFLEN);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            errf(err, errlen, "%s: %s", src, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        if ((total += n) > COPY_MAX_BYTES) {
            errf(err, errlen, "%s: larger than %lld bytes", src, COPY_MAX_BYTES);
            goto done;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                errf(err, errlen, "%s: %s", dst, strerror(errno));
                goto done;
            }
            off += w;
        }
    }
    if (fsync(out) != 0) {
        errf(err, errlen, "%s: %s", dst, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (out >= 0 && close(out) != 0 && rc == 0) {
        errf(err, errlen, "%s: %s", dst, strerror(errno));
        rc = -1;
    }
    if (in >= 0)
        close(in);
    free(buf);
    return rc;
}

/* Puts `path` (a file or a directory, as it is now) under <tmp>/root. A
 * path that does not exist is left out: the module reads nothing there. */
static void mirror(void *ctx, const char *path)
{
    struct commit *c = ctx;
    struct {
        char root[PATH_MAX + 8], dst[2 * PATH_MAX + 8], parent[PATH_MAX];
    } *b;
    struct stat st;
    const char *slash;

    if (c->failed || path == NULL || path[0] != '/' || stat(path, &st) != 0)
        return;
    if ((b = malloc(sizeof(*b))) == NULL) {
        errf(c->err, c->errlen, "%s: out of memory", path);
        c->failed = 1;
        return;
    }
    snprintf(b->root, sizeof(b->root), "%s/root", c->tmp);
    if (S_ISDIR(st.st_mode)) {
        if (mkdirs(b->root, path, c->err, c->errlen) != 0)
            c->failed = 1;
        goto out;
    }
    if (!S_ISREG(st.st_mode))
        goto out;
    slash = strrchr(path, '/');
    if (slash > path) {
        snprintf(b->parent, sizeof(b->parent), "%.*s", (int)(slash - path), path);
        if (mkdirs(b->root, b->parent, c->err, c->errlen) != 0) {
            c->failed = 1;
            goto out;
        }
    }
    snprintf(b->dst, sizeof(b->dst), "%s%s", b->root, path);
    if (access(b->dst, F_OK) == 0)
        goto out;   /* reported twice */
    if (copy_file(path, b->dst, c->err, c->errlen) != 0)
        c->failed = 1;
out:
    free(b);
}

/* rm -r of name under dirfd (a generation: ours, directories and files). */
static void remove_tree(int at, const char *name, int depth)
{
    int fd;
    DIR *d;
    struct dirent *de;

    if (unlinkat(at, name, 0) == 0 || errno == ENOENT || depth > TREE_DEPTH_MAX)
        return;
    fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    if ((d = fdopendir(fd)) == NULL) {
        close(fd);
        return;
    }
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            remove_tree(dirfd(d), de->d_name, depth + 1);
    closedir(d);
    unlinkat(at, name, AT_REMOVEDIR);
}

static int write_info(const char *tmp, const char *path, char *err, size_t errlen)
{
    struct {
        char file[PATH_MAX + 8], text[PATH_MAX + 64];
    } *b = malloc(sizeof(*b));
    int n, fd, rc = -1;

    if (b == NULL) {
        errf(err, errlen, "%s/info: out of memory", tmp);
        return -1;
    }
    n = snprintf(b->text, sizeof(b->text), "path=%s\ncommitted=%lld\n", path,
                 (long long)time(NULL));
    snprintf(b->file, sizeof(b->file), "%s/info", tmp);
    fd = open(b->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || fchmod(fd, 0644) != 0 || write(fd, b->text, (size_t)n) != n ||
        fsync(fd) != 0) {
        errf(err, errlen, "%s: %s", b->file, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    rc = close(fd) == 0 ? 0 : -1;
out:
    free(b);
    return rc;
}

/* Creates (0755, root's) or checks one directory of the state tree. */
static int state_dir(int dirfd, const char *name, const char *shown, char *err, size_t errlen)
{
    int fd;

    if (mkdirat(dirfd, name, 0755) != 0 && errno != EEXIST) {
        errf(err, errlen, "%s: %s", shown, strerror(errno));
        return -1;
    }
    fd = open_dir(dirfd, name, shown, err, errlen);
    if (fd < 0 && errno == ENOENT)
        errf(err, errlen, "%s: vanished", shown);
    return fd;
}

int last_good_commit(const char *path, const struct policy *p, char *err, size_t errlen)
{
    const char *statedir = last_good_statedir();
    char key[65], *keydir = NULL, name[64], tmpname[64], prev[64] = "";
    struct commit *c = NULL;   /* with keydir, on the heap (frames under 2 KB) */
    unsigned long n = 0, k;
    int sfd = -1, lfd = -1, kfd = -1, rc = -1;
    DIR *d;
    struct dirent *de;
    ssize_t plen;

    if (geteuid() != 0) {
        errf(err, errlen, "only root commits the last good policy (the snapshot must be "
             "root's to be used)");
        return -1;
    }
    if (policy_has_fault(p)) {
        errf(err, errlen, "the policy has a fault, nothing was committed: %s",
             policy_first_fault(p));
        return -1;
    }
    if (path[0] != '/' || key_of(path, key) != 0) {
        errf(err, errlen, "%s: not an absolute path", path);
        return -1;
    }
    keydir = malloc(PATH_MAX);
    c = calloc(1, sizeof(*c));
    if (keydir == NULL || c == NULL) {
        errf(err, errlen, "out of memory");
        goto out;
    }
    c->err = err;
    c->errlen = errlen;
    snprintf(keydir, PATH_MAX, "%s/last-good/%s", statedir, key);
    if (mkdirs("", statedir, err, errlen) != 0 || parents_safe(statedir, err, errlen) != 0 ||
        (sfd = open_dir(AT_FDCWD, statedir, statedir, err, errlen)) < 0 ||
        (lfd = state_dir(sfd, "last-good", keydir, err, errlen)) < 0 ||
        (kfd = state_dir(lfd, key, keydir, err, errlen)) < 0)
        goto out;

    /* One commit at a time per policy: a second one would take the first
     * one's half-made generation for a leftover. Readers take no lock. */
    if (flock(kfd, LOCK_EX) != 0) {
        errf(err, errlen, "%s: %s", keydir, strerror(errno));
        goto out;
    }
    /* The next generation number; leftovers of an interrupted commit go. */
    plen = readlinkat(kfd, "current", prev, sizeof(prev) - 1);
    prev[plen > 0 ? plen : 0] = '\0';
    if ((d = fdopendir(dup(kfd))) == NULL) {
        errf(err, errlen, "%s: %s", keydir, strerror(errno));
        goto out;
    }
    rewinddir(d);   /* a dup shares its offset with kfd */
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0) {
            remove_tree(kfd, de->d_name, 0);
            continue;
        }
        if (gen_number(de->d_name, &k) == 0 && k >= n)
            n = k + 1;
    }
    closedir(d);
    if (n == 0)
        n = 1;
    snprintf(name, sizeof(name), "gen-%lu", n);
    snprintf(tmpname, sizeof(tmpname), "gen-%lu.tmp", n);
    if ((size_t)snprintf(c->tmp, sizeof(c->tmp), "%s/%s", keydir, tmpname) >= sizeof(c->tmp)) {
        errf(err, errlen, "%s: name too long", keydir);
        goto out;
    }
    if (mkdirat(kfd, tmpname, 0755) != 0) {
        errf(err, errlen, "%s: %s", c->tmp, strerror(errno));
        goto out;
    }
    if (write_info(c->tmp, path, err, errlen) != 0 || mkdirs(c->tmp, "/root", err, errlen) != 0)
        goto fail;

    /* What the shim read: the policy and what it @includes (libconfig
     * resolves a relative name next to the policy, so in the snapshot it
     * finds the copy; an absolute name is read where it is), each module,
     * what each module reads. */
    mirror(c, path);
    if (config_list_includes(path, mirror, c, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < p->n_entries && !c->failed; i++) {
        const struct policy_entry *e = &p->entries[i];
        const struct tlspin_module *m = e->module.desc;
        mirror(c, e->config->path);
        if (module_has_watch(m)) {
            struct tlspin_args args = { e->config->args, e->config->n_args };
            m->watch(e->state, &args, mirror, c);
        }
    }
    if (c->failed)
        goto fail;
    {
        /* Every file was fsync'ed as written; syncfs puts the directories
         * the generation is made of on disk before it is named. */
        int tfd = openat(kfd, tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0 || syncfs(tfd) != 0) {
            errf(err, errlen, "%s: %s", c->tmp, strerror(errno));
            if (tfd >= 0)
                close(tfd);
            goto fail;
        }
        close(tfd);
    }
    if (renameat(kfd, tmpname, kfd, name) != 0) {
        errf(err, errlen, "%s: %s", c->tmp, strerror(errno));
        goto fail;
    }
    /* `current` is replaced in one rename: a reader follows the old link or
     * the new one. */
    unlinkat(kfd, "current.tmp", 0);
    if (symlinkat(name, kfd, "current.tmp") != 0 ||
        renameat(kfd, "current.tmp", kfd, "current") != 0 || fsync(kfd) != 0) {
        errf(err, errlen, "%s/current: %s", keydir, strerror(errno));
        remove_tree(kfd, name, 0);
        goto out;
    }
    /* Keep this generation and the one before; older ones go. */
    if ((d = fdopendir(dup(kfd))) != NULL) {
        rewinddir(d);
        while ((de = readdir(d)) != NULL)
            if (gen_number(de->d_name, &k) == 0 && strcmp(de->d_name, name) != 0 &&
                strcmp(de->d_name, prev) != 0)
                remove_tree(kfd, de->d_name, 0);
        closedir(d);
    }
    rc = 0;
    goto out;
fail:
    remove_tree(kfd, tmpname, 0);
out:
    if (kfd >= 0)
        close(kfd);
    if (lfd >= 0)
        close(lfd);
    if (sfd >= 0)
        close(sfd);
    free(keydir);
    free(c);
    return rc;
}
