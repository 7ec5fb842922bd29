/*
 * open_fails.so — a valid module whose open() always fails with a fixed
 * message, so tests can check that tlspin reports the module's own reason
 * and fails the stack entry closed.
 */
#include <stdio.h>

#include <tlspin/module.h>

static int open_fails_open(const struct tlspin_host *host, const struct tlspin_args *args,
                           void **state, char *err, size_t errlen)
{
    (void)host;
    (void)args;
    *state = NULL;
    snprintf(err, errlen, "test: open failed on purpose");
    return -1;
}

/* Never called (open never succeeds), but the ABI requires both. */
static void open_fails_close(void *state)
{
    (void)state;
}

static tlspin_verdict open_fails_check(void *state, const struct tlspin_conn *conn,
                                       struct tlspin_finding *finding)
{
    (void)state;
    (void)conn;
    (void)finding;
    return TLSPIN_PASS;
}

static const struct tlspin_module open_fails_module = {
    .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR,
    .struct_size = sizeof(struct tlspin_module),
    .name = "open_fails",
    .version = "test",
    .caps = 0,
    .open = open_fails_open,
    .close = open_fails_close,
    .check = open_fails_check,
};

TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void);

const struct tlspin_module *tlspin_module_describe(void)
{
    return &open_fails_module;
}
