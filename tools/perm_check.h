/* perm_check — who besides root can change a file tlspin trusts.
 *
 * The policy, the pinsets and the modules decide which keys every program on
 * the machine accepts: anyone who can write one of them, or the directory
 * holding it, can pin their own key. Used by `tlspin check`. */
#ifndef TLSPIN_PERM_CHECK_H
#define TLSPIN_PERM_CHECK_H

#include <stddef.h>

enum perm_verdict {
    PERM_OK = 0,        /* only root can change it (or it does not exist) */
    PERM_WARNING = 1,   /* owned by another user, or writable by a group other than root */
    PERM_ERROR = 2      /* writable by everybody */
};

/* Looks at `path` (following symbolic links). `what` names it in the
 * message ("policy file", "module", ...). Writes one sentence into msg
 * when the verdict is not PERM_OK. */
enum perm_verdict perm_check(const char *path, const char *what, char *msg, size_t msglen);

#endif
