/*
 * verdict.so — a test module that returns the verdict it is configured with,
 * so that integration tests can drive every row of the stack truth table
 * through real handshakes.
 *
 *   args = {
 *     verdict = "pass" | "fail" | "ignore" | "error";  # required
 *     hosts = [ "good.test", "::1" ];   # optional: verdict only for these
 *                                       # exact hosts, IGNORE for the rest
 *     event = "my-event";               # optional: finding.event
 *   };
 *
 * Every verdict fills finding.rule = "verdict-test" and a reason naming the
 * verdict. Unknown keys, repeated keys and bad values are refused at open().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tlspin/module.h>

#define MAX_HOSTS 64
#define HOST_MAX 256
#define EVENT_MAX 32 /* sizeof(tlspin_finding.event) */

struct verdict_state {
    tlspin_verdict verdict;
    const char *verdict_name;
    char event[EVENT_MAX];
    int have_hosts;             /* 1: apply only to hosts[] (may be empty) */
    size_t n_hosts;
    char hosts[MAX_HOSTS][HOST_MAX];
};

static const struct {
    const char *name;
    tlspin_verdict verdict;
} verdicts[] = {
    { "pass", TLSPIN_PASS },
    { "fail", TLSPIN_FAIL },
    { "ignore", TLSPIN_IGNORE },
    { "error", TLSPIN_ERROR },
};

static int arg_err(char *err, size_t errlen, const struct tlspin_arg *a, const char *what)
{
    snprintf(err, errlen, "%s:%u: verdict: %s '%s'",
             a->file ? a->file : "(args)", a->line, what, a->key);
    return -1;
}

static int single(const struct tlspin_arg *a, char *err, size_t errlen)
{
    if (a->n_values != 1 || !a->values[0])
        return arg_err(err, errlen, a, "expected one value for");
    return 0;
}

static int event_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= EVENT_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

static int parse_arg(const struct tlspin_host *host, const struct tlspin_arg *a,
                     struct verdict_state *st, int *seen_verdict, char *err, size_t errlen)
{
    char nerr[128];

    if (strcmp(a->key, "verdict") == 0) {
        if (*seen_verdict)
            return arg_err(err, errlen, a, "repeated key");
        if (single(a, err, errlen) < 0)
            return -1;
        for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
            if (strcmp(a->values[0], verdicts[i].name) == 0) {
                st->verdict = verdicts[i].verdict;
                st->verdict_name = verdicts[i].name;
                *seen_verdict = 1;
                return 0;
            }
        }
        snprintf(err, errlen, "%s:%u: verdict: '%.64s' is not pass|fail|ignore|error",
                 a->file ? a->file : "(args)", a->line, a->values[0]);
        return -1;
    }
    if (strcmp(a->key, "event") == 0) {
        if (st->event[0])
            return arg_err(err, errlen, a, "repeated key");
        if (single(a, err, errlen) < 0)
            return -1;
        if (!event_ok(a->values[0])) {
            snprintf(err, errlen, "%s:%u: verdict: event '%.64s' is not 1-31 of [a-z0-9-]",
                     a->file ? a->file : "(args)", a->line, a->values[0]);
            return -1;
        }
        snprintf(st->event, sizeof(st->event), "%s", a->values[0]);
        return 0;
    }
    if (strcmp(a->key, "hosts") == 0) {
        if (st->have_hosts)
            return arg_err(err, errlen, a, "repeated key");
        if (a->n_values > MAX_HOSTS)
            return arg_err(err, errlen, a, "too many values for");
        st->have_hosts = 1;
        for (size_t i = 0; i < a->n_values; i++) {
            /* Normalised here so the match in check() is a plain compare. */
            if (!a->values[i] ||
                host->host_normalize(a->values[i], st->hosts[st->n_hosts], HOST_MAX,
                                     nerr, sizeof(nerr)) < 0) {
                snprintf(err, errlen, "%s:%u: verdict: bad host in 'hosts': %s",
                         a->file ? a->file : "(args)", a->line,
                         a->values[i] ? nerr : "NULL");
                return -1;
            }
            st->n_hosts++;
        }
        return 0;
    }
    return arg_err(err, errlen, a, "unknown key");
}

static int verdict_open(const struct tlspin_host *host, const struct tlspin_args *args,
                        void **state, char *err, size_t errlen)
{
    struct verdict_state *st;
    int seen_verdict = 0;

    *state = NULL;
    /* Appended members exist only if the host's struct is long enough. */
    if (!host || host->struct_size < offsetof(struct tlspin_host, host_normalize) +
                                         sizeof(host->host_normalize) ||
        !host->host_normalize) {
        snprintf(err, errlen, "verdict: host services too old");
        return -1;
    }
    st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "verdict: %s", strerror(errno));
        return -1;
    }
    for (size_t i = 0; args && i < args->n_items; i++) {
        if (parse_arg(host, &args->items[i], st, &seen_verdict, err, errlen) < 0) {
            free(st);
            return -1;
        }
    }
    if (!seen_verdict) {
        snprintf(err, errlen, "verdict: required key 'verdict' missing");
        free(st);
        return -1;
    }
    *state = st;
    return 0;
}

static void verdict_close(void *state)
{
    free(state);
}

static int applies(const struct verdict_state *st, const char *host)
{
    if (!st->have_hosts)
        return 1;
    if (!host)
        return 0;
    for (size_t i = 0; i < st->n_hosts; i++)
        if (strcmp(st->hosts[i], host) == 0)
            return 1;
    return 0;
}

static tlspin_verdict verdict_check(void *state, const struct tlspin_conn *conn,
                                    struct tlspin_finding *finding)
{
    const struct verdict_state *st = state;

    if (!applies(st, conn ? conn->host : NULL))
        return TLSPIN_IGNORE;
    snprintf(finding->rule, sizeof(finding->rule), "verdict-test");
    if (st->event[0])
        snprintf(finding->event, sizeof(finding->event), "%s", st->event);
    snprintf(finding->reason, sizeof(finding->reason),
             "the verdict test module is configured to return %s", st->verdict_name);
    return st->verdict;
}

static const struct tlspin_module verdict_module = {
    .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR,
    .struct_size = sizeof(struct tlspin_module),
    .name = "verdict",
    .version = "test",
    .caps = 0,
    .open = verdict_open,
    .close = verdict_close,
    .prepare = NULL,
    .check = verdict_check,
    .lint = NULL,
    .hosts = NULL,
};

TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void);

const struct tlspin_module *tlspin_module_describe(void)
{
    return &verdict_module;
}
