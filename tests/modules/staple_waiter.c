/*
 * staple_waiter.so — a module that asks tlspin to wait for the TLS 1.2
 * staple (ABI 1.1) but whose CT callback never calls tlspin back, as when a
 * program replaces a module's callback: libssl then reaches the end of the
 * handshake with the decision still held, and only tlspin's safety net at
 * the end of SSL_connect/SSL_do_handshake decides it.
 *
 *   args = { flight = "pass" | "fail"; };   # the verdict once asked again
 *
 * At the certificate (staple_pending): FAIL with wait_for_staple. At the
 * server flight: the configured verdict. Anything else: IGNORE.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>
#include <tlspin/module.h>

static tlspin_verdict at_flight[2] = { TLSPIN_PASS, TLSPIN_FAIL };

static int never_calls_back(const CT_POLICY_EVAL_CTX *ctx, const STACK_OF(SCT) *scts, void *arg)
{
    (void)ctx; (void)scts; (void)arg;
    return 1;
}

static int waiter_open(const struct tlspin_host *host, const struct tlspin_args *args,
                       void **state, char *err, size_t errlen)
{
    (void)host;
    if (args == NULL || args->n_items != 1 || strcmp(args->items[0].key, "flight") != 0 ||
        args->items[0].n_values != 1) {
        snprintf(err, errlen, "staple_waiter: args = { flight = \"pass\" | \"fail\"; }");
        return -1;
    }
    if (strcmp(args->items[0].values[0], "pass") == 0)
        *state = &at_flight[0];
    else if (strcmp(args->items[0].values[0], "fail") == 0)
        *state = &at_flight[1];
    else {
        snprintf(err, errlen, "staple_waiter: flight must be pass or fail");
        return -1;
    }
    return 0;
}

static void waiter_close(void *state)
{
    (void)state;
}

static int waiter_prepare(void *state, void *ssl)
{
    (void)state;
    return SSL_set_ct_validation_callback(ssl, never_calls_back, NULL) == 1 ? 0 : -1;
}

static tlspin_verdict waiter_check(void *state, const struct tlspin_conn *conn,
                                   struct tlspin_finding *f)
{
    snprintf(f->rule, sizeof(f->rule), "staple-waiter");
    if (conn->phase == TLSPIN_PHASE_CERTIFICATE && conn->staple_pending) {
        snprintf(f->reason, sizeof(f->reason), "waiting for the staple");
        f->wait_for_staple = 1;
        return TLSPIN_FAIL;
    }
    if (conn->phase == TLSPIN_PHASE_SERVER_FLIGHT) {
        tlspin_verdict v = *(const tlspin_verdict *)state;
        if (v == TLSPIN_FAIL) {
            snprintf(f->event, sizeof(f->event), "staple-waiter-fail");
            snprintf(f->reason, sizeof(f->reason), "refused after the flight");
        }
        return v;
    }
    return TLSPIN_IGNORE;
}

static const struct tlspin_module waiter_module = {
    .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR,
    .struct_size = sizeof(struct tlspin_module),
    .name = "staple_waiter",
    .version = "1.1",
    .caps = TLSPIN_CAP_PREPARE,
    .open = waiter_open,
    .close = waiter_close,
    .prepare = waiter_prepare,
    .check = waiter_check,
};

TLSPIN_MODULE_EXPORT tlspin_module_entry_fn tlspin_module_describe;

TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void)
{
    return &waiter_module;
}
