/*
 * ctor_client — a program whose first TLS handshake happens in a
 * constructor of the program itself (__attribute__((constructor))), before
 * main() and before anything else of the program ran.
 *
 * The target comes from TP_PORT, TP_SNI, TP_CAFILE. The constructor prints
 * "ctor: <ok|blocked|other> <detail>"; main() prints "main: ctor result=..."
 * and exits 0 (ok), 1 (blocked) or 2 (anything else).
 */
#include <stdio.h>

#include "tp_common.h"

static enum tp_result ctor_result = TP_OTHER;
static int ctor_ran;

__attribute__((constructor)) static void handshake_before_main(void)
{
    ctor_ran = 1;
    ctor_result = tp_handshake_from_env("ctor");
}

int main(void)
{
    if (!ctor_ran) {
        printf("main: the constructor did not run\n");
        return 2;
    }
    printf("main: ctor result=%s\n", tp_result_name(ctor_result));
    return ctor_result == TP_OK ? 0 : ctor_result == TP_BLOCKED ? 1 : 2;
}
