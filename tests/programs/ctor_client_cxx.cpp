/*
 * ctor_client_cxx — the first TLS handshake happens in a C++ static
 * constructor (a namespace-scope object), during the dynamic initialisation
 * that runs before main().
 *
 * The target comes from TP_PORT, TP_SNI, TP_CAFILE. The constructor prints
 * "cxx-static-ctor: <ok|blocked|other> <detail>"; main() prints
 * "main: ctor result=..." and exits 0 (ok), 1 (blocked) or 2 (anything else).
 */
#include <cstdio>

#include "tp_common.h"

namespace {

struct EarlyHandshake {
    bool ran;
    tp_result result;
    EarlyHandshake() : ran(true), result(tp_handshake_from_env("cxx-static-ctor")) {}
};

EarlyHandshake early;

} // namespace

int main()
{
    if (!early.ran) {
        std::printf("main: the static constructor did not run\n");
        return 2;
    }
    std::printf("main: ctor result=%s\n", tp_result_name(early.result));
    return early.result == TP_OK ? 0 : early.result == TP_BLOCKED ? 1 : 2;
}
