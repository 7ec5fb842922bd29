/* signed_harness.h — what the signed module's harnesses share: one Ed25519
 * key made at start (its public half in <fh_dir()>/keys/fuzz.pub, the only
 * trusted key), and signing a payload the way `tlspin sign` does (the
 * format of modules/signed/sigfmt.h, written out here from its
 * documentation: nothing of the module is compiled in). */
#ifndef TLSPIN_FUZZ_SIGNED_HARNESS_H
#define TLSPIN_FUZZ_SIGNED_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Makes the key and the keys directory; returns that directory. */
const char *sh_init(void);
/* "tlspin-signed-pinset 1\nsig <id> <b64>\n\n<payload>" in a malloc'ed
 * buffer (*len bytes), or NULL. */
char *sh_sign(const uint8_t *payload, size_t plen, size_t *len);

#endif
