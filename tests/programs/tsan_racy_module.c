/*
 * tsan_racy.so — the positive control of the ThreadSanitizer suite
 * (tests/integration/test_tsan.c): a policy module with a data race on
 * purpose, loaded into the stack like any module, so that the suite proves
 * TSan does see and report a race in code tlspin runs on the handshake path.
 * Never built outside the TSan variant (tests/programs/CMakeLists.txt).
 *
 * check() writes an unsynchronised counter. So that the report does not
 * depend on the schedule (locks taken elsewhere on the handshake path would
 * often order two calls), the first two calls meet first, with relaxed
 * atomics only (TSan sees no ordering in them): both write the counter while
 * the other is inside check() too. The meeting is bounded (about 60 s), so a
 * stack that ran check() from one thread only ends the wait instead of
 * hanging. Returns TLSPIN_IGNORE: it never changes a decision.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include <tlspin/module.h>

static atomic_int arrived;
static unsigned long calls; /* the race: written by every thread, no lock */

static int racy_open(const struct tlspin_host *host, const struct tlspin_args *args,
                     void **state, char *err, size_t errlen)
{
    (void)host, (void)args, (void)err, (void)errlen;
    *state = NULL;
    return 0;
}

static void racy_close(void *state)
{
    (void)state;
}

static tlspin_verdict racy_check(void *state, const struct tlspin_conn *conn,
                                 struct tlspin_finding *finding)
{
    int n = atomic_fetch_add_explicit(&arrived, 1, memory_order_relaxed);

    (void)state, (void)conn, (void)finding;
    calls++;
    if (n < 2) {
        /* Wait (relaxed: no happens-before) for the other of the first two. */
        struct timespec nap = {0, 1000000};
        for (int i = 0; i < 60000 && atomic_load_explicit(&arrived, memory_order_relaxed) < 2;
             i++)
            nanosleep(&nap, NULL);
        calls++;
    }
    return TLSPIN_IGNORE;
}

static const struct tlspin_module racy_module = {
    .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR,
    .struct_size = sizeof(struct tlspin_module),
    .name = "tsan_racy",
    .version = "test",
    .caps = 0,
    .open = racy_open,
    .close = racy_close,
    .prepare = NULL,
    .check = racy_check,
    .lint = NULL,
    .hosts = NULL,
};

TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void);

const struct tlspin_module *tlspin_module_describe(void)
{
    return &racy_module;
}
