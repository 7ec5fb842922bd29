/*
 * abi10_leaf.so — a module built for ABI 1.0, which knows no host service
 * for leaf_matches_host and reads the member of tlspin_conn instead, as
 * every 1.0 module does. tlspin 1.1 computes that member only when such a
 * module is in the stack: this module shows it still gets it.
 *
 * PASS when conn->leaf_matches_host is 1, FAIL (event "leaf-match-N", N the
 * value read, "m1" for -1) otherwise. No args.
 */
#include <stdio.h>

#include <tlspin/module.h>

static int marker;

static int abi10_open(const struct tlspin_host *host, const struct tlspin_args *args,
                      void **state, char *err, size_t errlen)
{
    (void)host;
    if (args != NULL && args->n_items != 0) {
        snprintf(err, errlen, "abi10_leaf: takes no args");
        return -1;
    }
    *state = &marker;
    return 0;
}

static void abi10_close(void *state)
{
    (void)state;
}

static tlspin_verdict abi10_check(void *state, const struct tlspin_conn *conn,
                                  struct tlspin_finding *f)
{
    int v = conn->leaf_matches_host;

    (void)state;
    snprintf(f->rule, sizeof(f->rule), "abi10-leaf");
    if (v == 1)
        return TLSPIN_PASS;
    snprintf(f->event, sizeof(f->event), "leaf-match-%s", v == -1 ? "m1" : v == 0 ? "0" : "x");
    snprintf(f->reason, sizeof(f->reason), "leaf_matches_host is %d", v);
    return TLSPIN_FAIL;
}

static const struct tlspin_module abi10_module = {
    .abi_major = 1,
    .abi_minor = 0,   /* built for ABI 1.0 */
    .struct_size = sizeof(struct tlspin_module),
    .name = "abi10_leaf",
    .version = "1.0",
    .caps = 0,
    .open = abi10_open,
    .close = abi10_close,
    .check = abi10_check,
};

TLSPIN_MODULE_EXPORT tlspin_module_entry_fn tlspin_module_describe;

TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void)
{
    return &abi10_module;
}
