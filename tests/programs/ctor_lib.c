/*
 * libtp_ctor.so — a shared library whose constructor makes a TLS handshake
 * when the library is loaded: another library's constructor, run by the
 * dynamic loader before the program's main() (see ctor_lib_client.c).
 *
 * The target comes from TP_PORT, TP_SNI, TP_CAFILE; the constructor prints
 * "library-ctor: <ok|blocked|other> <detail>".
 */
#include "tp_common.h"

__attribute__((visibility("default"))) int tp_ctor_lib_result(void);

static enum tp_result result = TP_OTHER;
static int ran;

__attribute__((constructor)) static void library_handshake(void)
{
    ran = 1;
    result = tp_handshake_from_env("library-ctor");
}

/* -1: the constructor did not run; else its enum tp_result. */
int tp_ctor_lib_result(void)
{
    return ran ? (int)result : -1;
}
