/* preload_file — read and edit /etc/ld.so.preload safely.
 *
 * ld.so reads the file at every program start and splits it on ':', ' ',
 * '\t' and '\n' (no comments). Edits keep every other entry, and every line
 * without one of ours, byte for byte; they are atomic (a temporary file in
 * the same directory, created O_EXCL, fsync'ed, renamed over the old one,
 * then the directory fsync'ed), serialised between tlspin processes (flock
 * on the directory), and idempotent. */
#ifndef TLSPIN_PRELOAD_FILE_H
#define TLSPIN_PRELOAD_FILE_H

#include <stddef.h>

#define PRELOAD_FILE "/etc/ld.so.preload"

/* The entries of the file, in order. A missing file is an empty list
 * (*exists = 0). Returns 0, or -1 with the reason in err. */
int preload_list(const char *file, char ***entries, size_t *n, int *exists, char *err,
                 size_t errlen);
void preload_list_free(char **entries, size_t n);

/* Decides whether an entry is one of tlspin's (the caller knows which). */
typedef int (*preload_match_fn)(const char *entry, void *arg);

/* Make `lib` the file's only entry of ours: nothing to do when it is
 * already listed and no other entry of ours is (*changed = 0); otherwise
 * other entries of ours are dropped and lib appended on a line of its own.
 * Returns 0, or -1 with the reason in err. */
int preload_add(const char *file, const char *lib, preload_match_fn is_ours, void *arg,
                int *changed, char *err, size_t errlen);

/* Drop every entry of ours (*removed: how many). A file left with no entry
 * is removed. Returns 0, or -1 with the reason in err. */
int preload_remove(const char *file, preload_match_fn is_ours, void *arg, int *removed,
                   char *err, size_t errlen);

#endif
