/*
 * blocklist.c — an example tlspin policy module, built outside tlspin's
 * tree with nothing but the installed header (tlspin-dev):
 *
 *     make && sudo make install        # see Makefile: pkg-config tlspin-module
 *
 * It refuses connections to the hosts it is given and has no opinion on the
 * rest, so it fits into a stack next to the file module:
 *
 *     stack = (
 *       { module = "blocklist"; control = "requisite";
 *         args = { hosts = [ "old-api.example.com", "10.0.0.7" ]; }; },
 *       { module = "file"; control = "required";
 *         args = { pinsets = "/etc/tlspin/pins.d"; }; }
 *     );
 *
 * The contract it follows (include/tlspin/module.h says it in full):
 * - open() runs once per policy load and owns what it allocates until close();
 *   its errors name the file and line of the argument at fault;
 * - check() runs on the program's threads, many at once: it only reads the
 *   state, never writes it, and keeps its stack small;
 * - a struct tlspin_conn or tlspin_finding from an older tlspin may be
 *   smaller than this header's: read and write only what struct_size covers.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tlspin/module.h>

struct blocklist {
    char **hosts;
    size_t n_hosts;
};

static void blocklist_free(struct blocklist *b)
{
    for (size_t i = 0; b != NULL && i < b->n_hosts; i++)
        free(b->hosts[i]);
    if (b != NULL)
        free(b->hosts);
    free(b);
}

static int blocklist_open(const struct tlspin_host *host, const struct tlspin_args *args,
                          void **state, char *err, size_t errlen)
{
    struct blocklist *b = calloc(1, sizeof *b);
    int seen = 0;

    (void)host;   /* the host's services (logging, host names): unused here */
    *state = NULL;
    if (b == NULL) {
        snprintf(err, errlen, "blocklist: out of memory");
        return -1;
    }
    for (size_t i = 0; args != NULL && i < args->n_items; i++) {
        const struct tlspin_arg *a = &args->items[i];
        const char *file = a->file ? a->file : "(args)";

        if (strcmp(a->key, "hosts") != 0 || seen) {
            snprintf(err, errlen, "%s:%u: blocklist: unknown or repeated key '%s' (only hosts)",
                     file, a->line, a->key);
            goto fail;
        }
        seen = 1;
        b->hosts = calloc(a->n_values ? a->n_values : 1, sizeof *b->hosts);
        if (b->hosts == NULL) {
            snprintf(err, errlen, "blocklist: out of memory");
            goto fail;
        }
        for (size_t j = 0; j < a->n_values; j++) {
            /* tlspin hands check() host names in lower case without a
             * trailing dot: compare against the same spelling. */
            size_t n = strlen(a->values[j]);
            char *h = strdup(a->values[j]);

            if (h == NULL) {
                snprintf(err, errlen, "blocklist: out of memory");
                goto fail;
            }
            b->hosts[b->n_hosts++] = h;
            for (size_t k = 0; k < n; k++)
                if (h[k] >= 'A' && h[k] <= 'Z')
                    h[k] = (char)(h[k] - 'A' + 'a');
            if (n > 0 && h[n - 1] == '.')
                h[n - 1] = '\0';
            if (h[0] == '\0') {
                snprintf(err, errlen, "%s:%u: blocklist: an empty host name", file, a->line);
                goto fail;
            }
        }
    }
    if (!seen) {
        snprintf(err, errlen, "blocklist: args need hosts = [ ... ]");
        goto fail;
    }
    *state = b;
    return 0;
fail:
    blocklist_free(b);
    return -1;
}

static void blocklist_close(void *state)
{
    blocklist_free(state);
}

/* Does a struct of `size` bytes reach past member m of type T? */
#define HAS_MEMBER(size, T, m) ((size) >= offsetof(T, m) + sizeof(((T *)0)->m))

static tlspin_verdict blocklist_check(void *state, const struct tlspin_conn *conn,
                                      struct tlspin_finding *finding)
{
    const struct blocklist *b = state;

    if (!HAS_MEMBER(conn->struct_size, struct tlspin_conn, host) || conn->host == NULL)
        return TLSPIN_IGNORE;   /* no name, no opinion: others decide */
    for (size_t i = 0; i < b->n_hosts; i++) {
        if (strcmp(conn->host, b->hosts[i]) != 0)
            continue;
        if (HAS_MEMBER(finding->struct_size, struct tlspin_finding, reason)) {
            snprintf(finding->event, sizeof finding->event, "host-blocked");
            snprintf(finding->rule, sizeof finding->rule, "blocklist");
            snprintf(finding->reason, sizeof finding->reason, "%s is on the blocklist",
                     conn->host);
        }
        return TLSPIN_FAIL;
    }
    return TLSPIN_IGNORE;
}

static const struct tlspin_module blocklist = {
    .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR,
    .struct_size = sizeof(struct tlspin_module),
    .name = "blocklist",
    .version = "1.0",
    .open = blocklist_open,
    .close = blocklist_close,
    .check = blocklist_check,
};

/* The one name a module exports: tlspin calls it once, after dlopen. */
TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void);
const struct tlspin_module *tlspin_module_describe(void)
{
    return &blocklist;
}
