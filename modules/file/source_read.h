/* Reading pinset sources from disk, with hard caps. */
#ifndef FILE_SOURCE_READ_H
#define FILE_SOURCE_READ_H

#include <stddef.h>

/* Every process pays for the pinsets at its first handshake: about 7 bytes
 * of memory and 28 ms per MiB read (a 60 MB file cost 414 MB and 1.7 s
 * under the old 64 MiB cap). 8 MiB holds some 100,000 hosts and costs
 * ~55 MB and ~0.25 s once per process; a directory is capped at 16 MiB in
 * all, so no number of files costs more than ~110 MB. */
#define SOURCE_FILE_MAX (8u * 1024u * 1024u)       /* bytes per pinsets file */
#define SOURCE_DIR_BYTES_MAX (16u * 1024u * 1024u) /* bytes of a directory's *.conf */
#define SOURCE_DIR_FILES_MAX 10000                 /* *.conf files per directory */

/* Read a whole regular file (at most SOURCE_FILE_MAX bytes) into a new
 * NUL-terminated buffer. The file and every directory above it must be
 * owned by root or the euid and not writable by group or others
 * (include/tlspin/strict_path.h); symbolic links only through such links. Anything else (a FIFO, a socket, a device, a
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
