/* policy_path — which policy file a subcommand reads: --config PATH, else
 * what the shim reads (TLSPIN_CONFIG when the environment may be trusted,
 * else /etc/tlspin/tlspin.conf). A relative PATH is made absolute, as the
 * shim only ever reads absolute paths and messages then name the file the
 * same way everywhere. */
#ifndef TLSPIN_POLICY_PATH_H
#define TLSPIN_POLICY_PATH_H

#include <stddef.h>

/* Returns 0, or -1 with a reason in err. */
int policy_path_resolve(const char *given, char *out, size_t outlen, char *err, size_t errlen);

#endif
