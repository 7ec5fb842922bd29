/* Which policy file (see policy_path.h). */
#include "policy_path.h"

#include <stdio.h>
#include <unistd.h>

#include "policy.h"

int policy_path_resolve(const char *given, char *out, size_t outlen, char *err, size_t errlen)
{
    char cwd[4096];
    int n;

    if (given == NULL)
        given = policy_default_path();
    if (given[0] == '\0') {
        snprintf(err, errlen, "--config needs a path");
        return -1;
    }
    if (given[0] == '/') {
        n = snprintf(out, outlen, "%s", given);
    } else {
        if (getcwd(cwd, sizeof(cwd)) == NULL) {
            snprintf(err, errlen, "%s: cannot tell the current directory", given);
            return -1;
        }
        n = snprintf(out, outlen, "%s/%s", cwd, given);
    }
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "%s: path too long", given);
        return -1;
    }
    return 0;
}
