/*
 * ctor_lib_client — linked against libtp_ctor.so, whose constructor makes
 * the process's first TLS handshake while the loader initialises the
 * libraries, before main(). main() only reports what the library saw:
 * "main: ctor result=..." and exits 0 (ok), 1 (blocked) or 2 (otherwise).
 */
#include <stdio.h>

#include "tp_common.h"

int tp_ctor_lib_result(void);

int main(void)
{
    int r = tp_ctor_lib_result();

    if (r < 0) {
        printf("main: the library constructor did not run\n");
        return 2;
    }
    printf("main: ctor result=%s\n", tp_result_name((enum tp_result)r));
    return r == TP_OK ? 0 : r == TP_BLOCKED ? 1 : 2;
}
