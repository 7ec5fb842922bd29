/* The signed pinset on disk: reading the cache and the trusted keys with the
 * hygiene rules (the cache is storage, not a trust boundary), the serial
 * floor (state file), and the updater's atomic install. */
#ifndef SIGNED_SIGSTORE_H
#define SIGNED_SIGSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "sigfmt.h"

/* Read path: its directory opened O_DIRECTORY|O_NOFOLLOW and required to be
 * root-owned and not group/world writable; the file opened relative to it
 * with O_NOFOLLOW|O_NONBLOCK and, by fstat of the open descriptor, a regular
 * file with one link, root-owned, not group/world writable, at most cap
 * bytes (cap+1 are read at most). *buf is malloc'ed, NUL-terminated.
 * Returns 0, or -1 with a reason (naming the path) in err; errno_out gets
 * ENOENT when the file does not exist (else 0/other). */
int sigstore_read(const char *path, size_t cap, char **buf, size_t *len, int *errno_out,
                  char *err, size_t errlen);

/* Trusted keys from a directory (every *.pub in it, each read as above) or
 * one file. No key at all is an error. */
int sigstore_load_keys(const char *path, struct sigfmt_keys *keys, char *err, size_t errlen);

/* The last accepted file, for rollback and equivocation. */
struct sigstore_state {
    int present;
    uint64_t serial;
    char sha256_hex[65];
    char signers[SIGFMT_SIGS_MAX * (SIGFMT_KEYID_LEN + 1) + 1];
};

/* A missing state file is not an error (present = 0). */
int sigstore_state_read(const char *path, struct sigstore_state *st, char *err, size_t errlen);

enum floor_result { FLOOR_NEWER = 0, FLOOR_SAME = 1, FLOOR_ROLLBACK = -1,
                    FLOOR_EQUIVOCATION = -2 };

/* Compare a verified file with the state. When none of the keys that signed
 * the state's file is trusted any more (the signing key was rotated), the
 * floor is reset: *reset is set and the file counts as newer. */
enum floor_result sigstore_floor(const struct sigstore_state *st, const struct sigfmt_info *info,
                                 const struct sigfmt_keys *keys, int *reset, char *err,
                                 size_t errlen);

/* The state file text for an accepted file. */
void sigstore_state_text(const struct sigfmt_info *info, char *out, size_t outlen);

/* Write data as path atomically: the directory opened O_DIRECTORY|O_NOFOLLOW
 * (root-owned, not group/world writable), a temp file created in it with
 * O_EXCL|O_NOFOLLOW, mode 0644, written, fsync'ed, renameat'ed over the
 * name, the directory fsync'ed. Returns 0, or -1 with a reason (the old
 * file is then untouched). */
int sigstore_install(const char *path, const char *data, size_t len, char *err, size_t errlen);

#endif
