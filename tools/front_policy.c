/* policy_default_path() for bin/tlspin, which does not link the engine
 * (tools/CMakeLists.txt): policy_path.c needs it to name the policy that
 * enable-system and status check when no --config is given. The rule must
 * stay the engine's (loader/engine/policy.c): TLSPIN_CONFIG when the
 * environment may be trusted and the value is absolute, else the built-in
 * default. tlspin-commands.so gets the engine's own. */
#include <stdlib.h>

#include "policy.h"

const char *policy_default_path(void)
{
    const char *env = secure_getenv("TLSPIN_CONFIG");
    return env && env[0] == '/' ? env : TLSPIN_DEFAULT_CONFIG;
}
