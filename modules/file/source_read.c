/* Reading pinset sources from disk. Only regular files are read: the type
 * is known before the open, the open never blocks, and the file is read
 * through the descriptor that was checked, capped in size. */
#include "source_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tlspin/strict_path.h>

#include "diag.h"

static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
    size_t got = 0;

    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    *len = got;
    return 0;
}

/* The path with StrictModes (include/tlspin/strict_path.h) before the open:
 * pinsets decide which keys every program accepts, setuid ones included, so
 * they and every directory above them must be root's (or the process's own
 * user's) and writable by nobody else. The type is checked before the open
 * too: opening a FIFO waits for a writer, opening a device may act on it.
 * The open never waits (O_NONBLOCK), and what was opened must be what was
 * checked: a swap in between is "changed". */
static int open_checked(const char *path, int want, struct stat *st, char *err, size_t errlen)
{
    /* On the heap: open() runs on the program's thread (issue 13, point 5). */
    char *why = malloc(1024);
    size_t plen = strlen(path);
    int fd;

    if (why == NULL) {
        diag_errf(err, errlen, path, 0, "out of memory");
        return -1;
    }
    fd = tlspin_strict_open(path, want, st, why, 1024);
    if (fd < 0)
        diag_errf(err, errlen, path, 0, "%s",
                  strncmp(why, path, plen) == 0 && strncmp(why + plen, ": ", 2) == 0
                      ? why + plen + 2 : why);
    free(why);
    return fd;
}

int source_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    char *buf = NULL;
    struct stat st;
    size_t got = 0;
    int fd, r = -1;

    *text = NULL;
    *len = 0;
    fd = open_checked(path, TLSPIN_STRICT_FILE, &st, err, errlen);
    if (fd < 0)
        return -1;
    if (st.st_size < 0 || (unsigned long long)st.st_size > SOURCE_FILE_MAX) {
        diag_errf(err, errlen, path, 0, "larger than %u MiB (the cap of a pinsets file)",
                  SOURCE_FILE_MAX >> 20);
        goto out;
    }
    /* One byte more than allowed, to notice a file that grew meanwhile. */
    buf = malloc((size_t)st.st_size + 2);
    if (buf == NULL) {
        diag_errf(err, errlen, path, 0, "out of memory");
        goto out;
    }
    if (read_all(fd, buf, (size_t)st.st_size + 1, &got) != 0) {
        diag_errf(err, errlen, path, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (got != (size_t)st.st_size) {
        diag_errf(err, errlen, path, 0, "changed while being read");
        goto out;
    }
    buf[got] = '\0';
    *text = buf;
    buf = NULL; /* transferred */
    *len = got;
    r = 0;
out:
    free(buf);
    close(fd);
    return r;
}

static int ends_with_conf(const char *name)
{
    size_t len = strlen(name);

    return len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void source_free_paths(char **paths, size_t n)
{
    size_t i;

    if (paths == NULL)
        return;
    for (i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

static char *join_path(const char *dir, const char *name)
{
    size_t dlen = strlen(dir), nlen = strlen(name);
    int slash = dlen > 0 && dir[dlen - 1] == '/';
    char *p;

    if (dlen + nlen + 2 > PATH_MAX)
        return NULL;
    p = malloc(dlen + nlen + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, dlen);
    if (!slash)
        p[dlen++] = '/';
    memcpy(p + dlen, name, nlen + 1);
    return p;
}

int source_list_dir(const char *dir, char ***paths, size_t *n, char *err, size_t errlen)
{
    char **list = NULL;
    size_t count = 0;
    unsigned long long total = 0;
    struct dirent *de;
    struct stat st;
    DIR *d;
    int r = -1, fd;

    *paths = NULL;
    *n = 0;
    fd = open_checked(dir, TLSPIN_STRICT_DIR, &st, err, errlen);
    if (fd < 0)
        return -1;
    d = fdopendir(fd);
    if (d == NULL) {
        diag_errf(err, errlen, dir, 0, "cannot open directory: %s", strerror(errno));
        close(fd);
        return -1;
    }
    list = calloc(SOURCE_DIR_FILES_MAX, sizeof(*list));
    if (list == NULL) {
        diag_errf(err, errlen, dir, 0, "out of memory");
        goto out;
    }
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !ends_with_conf(de->d_name))
            continue;
        if (count == SOURCE_DIR_FILES_MAX) {
            diag_errf(err, errlen, dir, 0, "more than %d *.conf files", SOURCE_DIR_FILES_MAX);
            goto out;
        }
        /* Every process pays for the whole directory at its first
         * handshake (about 7 bytes of memory per byte of pinsets): the sum
         * is capped, not only each file. */
        if (fstatat(fd, de->d_name, &st, 0) == 0 && S_ISREG(st.st_mode) &&
            (unsigned long long)st.st_size <= SOURCE_FILE_MAX &&   /* else named when read */
            (total += (unsigned long long)st.st_size) > SOURCE_DIR_BYTES_MAX) {
            diag_errf(err, errlen, dir, 0, "its *.conf files hold more than %u MiB (the cap "
                      "of a pinsets directory)", SOURCE_DIR_BYTES_MAX >> 20);
            goto out;
        }
        list[count] = join_path(dir, de->d_name);
        if (list[count] == NULL) {
            diag_errf(err, errlen, dir, 0, "path too long or out of memory");
            goto out;
        }
        count++;
    }
    if (errno != 0) {
        diag_errf(err, errlen, dir, 0, "cannot read directory: %s", strerror(errno));
        goto out;
    }
    qsort(list, count, sizeof(*list), compare_paths);
    *paths = list;
    list = NULL; /* transferred */
    *n = count;
    r = 0;
out:
    source_free_paths(list, count);
    closedir(d);
    return r;
}
