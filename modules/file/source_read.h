/* Reading pinset sources from disk, with hard caps. */
#ifndef FILE_SOURCE_READ_H
#define FILE_SOURCE_READ_H

#include <stddef.h>

#define SOURCE_FILE_MAX (64u * 1024u * 1024u) /* bytes per pinsets file */
#define SOURCE_DIR_FILES_MAX 10000            /* *.conf files per directory */

/* Read a whole regular file (at most SOURCE_FILE_MAX bytes) into a new
 * NUL-terminated buffer. Anything else (a FIFO, a socket, a device, a
 * directory, a symbolic link to one) is refused without being opened, and
 * nothing here ever blocks. Returns 0, or -1 with "path: reason" in err. */
int source_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The paths "dir/NAME.conf" of a directory, sorted by name (bytewise); names
 * that start with '.' are skipped. Returns 0, or -1 with a reason in err. */
int source_list_dir(const char *dir, char ***paths, size_t *n, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* NULL-safe. */
void source_free_paths(char **paths, size_t n);

#endif
