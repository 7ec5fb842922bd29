/* signed_check — what `tlspin verify` and `tlspin update` both do with a
 * signed pinset held in memory: the signatures and fields (sigfmt), the
 * pinsets inside (the file module's parser), and the serial floor. */
#ifndef TLSPIN_SIGNED_CHECK_H
#define TLSPIN_SIGNED_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "../modules/signed/sigfmt.h"
#include "../modules/signed/sigstore.h"

/* The configured prefix's directories (CMakeLists.txt): /etc/tlspin and
 * /var/lib/tlspin for the system prefixes. */
#define SIGNED_KEYS_DEFAULT TLSPIN_SYSCONFDIR "/keys.d"
#define SIGNED_CACHE_DEFAULT TLSPIN_STATEDIR "/pinset.signed"

/* The state file next to a cache: "<cache>.state". */
void signed_state_path(const char *cache, char *out, size_t outlen);

/* A tlspin_host table backed by the engine's pin and host-name functions. */
const void *signed_host_services(void);

/* Check the pinset language of a body; name is used in messages. */
int signed_body_check(const char *name, const char *body, size_t len, size_t *n_pinsets,
                      char *err, size_t errlen);

/* Everything: format and signatures (expired is an error here: stale = 1
 * tells), the body, then the floor when st is given (same = 1 when the file
 * is the one already accepted; reset = 1 when a key rotation voided it).
 * Returns 0 or -1 with the reason. */
struct signed_verdict {
    struct sigfmt_info info;
    int stale, same, reset;
    size_t n_pinsets;
};
int signed_check(const char *name, const char *buf, size_t len, const struct sigfmt_keys *keys,
                 const struct sigfmt_limits *lim, const struct sigstore_state *st,
                 struct signed_verdict *v, char *err, size_t errlen);

/* Trusted keys for the operator's own checks (tlspin verify): a directory of
 * *.pub or one file, read as ordinary files (relative paths, any owner). The
 * module and tlspin update use sigstore_load_keys, with the hygiene rules. */
int signed_load_keys_plain(const char *path, struct sigfmt_keys *keys, char *err, size_t errlen);

/* Read a whole ordinary file (the operator's input) up to cap bytes. */
int signed_read_plain(const char *path, size_t cap, char **buf, size_t *len, char *err,
                      size_t errlen);

#endif
