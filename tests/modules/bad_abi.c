/*
 * bad_abi.so — a well-formed module built for the next ABI major: tlspin
 * MUST refuse it (logged, counted as a failure of its stack entry) without
 * calling any of its functions. Each function would PASS if called, so a
 * host that wrongly accepted the module shows up as a passing connection.
 */
#include <stddef.h>

#include <tlspin/module.h>

static int bad_abi_open(const struct tlspin_host *host, const struct tlspin_args *args,
                        void **state, char *err, size_t errlen)
{
    (void)host;
    (void)args;
    (void)err;
    (void)errlen;
    *state = NULL;
    return 0;
}

static void bad_abi_close(void *state)
{
    (void)state;
}

static tlspin_verdict bad_abi_check(void *state, const struct tlspin_conn *conn,
                                    struct tlspin_finding *finding)
{
    (void)state;
    (void)conn;
    (void)finding;
    return TLSPIN_PASS;
}

static const struct tlspin_module bad_abi_module = {
    .abi_major = TLSPIN_ABI_MAJOR + 1, /* the point of this module */
    .abi_minor = 0,
    .struct_size = sizeof(struct tlspin_module),
    .name = "bad_abi",
    .version = "test",
    .caps = 0,
    .open = bad_abi_open,
    .close = bad_abi_close,
    .check = bad_abi_check,
};

TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void);

const struct tlspin_module *tlspin_module_describe(void)
{
    return &bad_abi_module;
}
