/* The file module: pinsets from the *.conf files of a directory (pins.d),
 * decided per host: the most specific pattern with a live pinset decides, the
 * port only chooses among that pattern's pinsets (see decide.c).
 *
 * This file is the descriptor and the glue from the module ABI to the parts:
 * pinset_load (files -> pinsets), host_index (host -> pinsets), decide
 * (verdict), lint (operator diagnostics). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <tlspin/module.h>

#include "decide.h"
#include "diag.h"
#include "file_state.h"
#include "host_index.h"
#include "lint.h"
#include "pinset_load.h"
#include "source_read.h"

#ifndef TLSPIN_VERSION
#define TLSPIN_VERSION "0"
#endif

/* host services this module calls; a smaller table from tlspin is refused. */
#define HOST_SIZE_NEEDED \
    (offsetof(struct tlspin_host, host_match) + sizeof(((struct tlspin_host *)0)->host_match))

static int host_services_usable(const struct tlspin_host *host, char *err, size_t errlen)
{
    if (host == NULL || host->struct_size < HOST_SIZE_NEEDED ||
        host->abi_major != TLSPIN_ABI_MAJOR) {
        diag_errf(err, errlen, NULL, 0, "module file: tlspin's host services are missing or "
                  "of another ABI (module built for %d.%d)", TLSPIN_ABI_MAJOR,
                  TLSPIN_ABI_MINOR);
        return -1;
    }
    if (host->log == NULL || host->pin_parse == NULL || host->pin_format == NULL ||
        host->host_normalize == NULL || host->host_match == NULL) {
        diag_errf(err, errlen, NULL, 0, "module file: tlspin's host services are incomplete");
        return -1;
    }
    return 0;
}

/* The one arg this module takes: pinsets = "<directory or file>". */
static int read_args(const struct tlspin_args *args, const struct tlspin_arg **pinsets,
                     char *err, size_t errlen)
{
    size_t i;

    *pinsets = NULL;
    for (i = 0; args != NULL && args->items != NULL && i < args->n_items; i++) {
        const struct tlspin_arg *a = &args->items[i];
        char q[DIAG_QUOTE_MAX];
        if (a->key == NULL || strcmp(a->key, "pinsets") != 0) {
            diag_quote(a->key, q);
            diag_errf(err, errlen, a->file, a->line, "unknown key \"%s\" in args of module "
                      "file", q);
            return -1;
        }
        if (*pinsets != NULL) {
            diag_errf(err, errlen, a->file, a->line, "\"pinsets\" given twice in args of "
                      "module file");
            return -1;
        }
        if (a->n_values != 1 || a->values == NULL || a->values[0] == NULL ||
            a->values[0][0] == '\0') {
            diag_errf(err, errlen, a->file, a->line, "\"pinsets\" of module file takes one "
                      "directory or file");
            return -1;
        }
        *pinsets = a;
    }
    if (*pinsets == NULL) {
        diag_errf(err, errlen, NULL, 0, "module file needs args = { pinsets = \"<directory "
                  "or file>\"; }");
        return -1;
    }
    return 0;
}

static void file_state_free(struct file_state *st)
{
    if (st == NULL)
        return;
    host_index_free(&st->index);
    pinset_list_free(&st->pinsets);
    free(st);
}

static int file_open(const struct tlspin_host *host, const struct tlspin_args *args,
                     void **state, char *err, size_t errlen)
{
    const struct tlspin_arg *pinsets;
    struct file_state *st = NULL;
    int saved_errno = errno, r = -1;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (state == NULL) {
        diag_errf(err, errlen, NULL, 0, "module file: no state pointer");
        return -1;
    }
    *state = NULL;
    if (host_services_usable(host, err, errlen) != 0 ||
        read_args(args, &pinsets, err, errlen) != 0)
        goto out;
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        diag_errf(err, errlen, NULL, 0, "module file: out of memory");
        goto out;
    }
    st->host = host;
    if (pinset_load(&st->pinsets, host, pinsets->values[0], pinsets->file, pinsets->line, err,
                    errlen) != 0 ||
        host_index_build(&st->index, &st->pinsets, err, errlen) != 0)
        goto out;
    *state = st;
    st = NULL; /* transferred */
    r = 0;
out:
    file_state_free(st);
    errno = saved_errno;
    return r;
}

static void file_close(void *state)
{
    file_state_free(state);
}

static tlspin_verdict file_check(void *state, const struct tlspin_conn *conn,
                                 struct tlspin_finding *finding)
{
    return file_decide(state, conn, finding);
}

static int file_lint_cb(void *state, int64_t now, tlspin_diag_fn *diag, void *diag_ctx)
{
    return file_lint(state, now, diag, diag_ctx);
}

/* Concrete hosts for `tlspin probe --all`: no wildcards, each port (0: any). */
static void file_hosts(void *state, tlspin_host_fn *each, void *ctx)
{
    const struct file_state *st = state;
    size_t i, j, k;

    if (st == NULL || each == NULL)
        return;
    for (i = 0; i < st->pinsets.n; i++) {
        const struct pinset *ps = &st->pinsets.items[i];
        for (j = 0; j < ps->n_hosts; j++) {
            const char *pattern = ps->hosts[j].pattern;
            if (pattern[0] == '*')
                continue;
            if (ps->n_ports == 0)
                each(ctx, pattern, 0);
            for (k = 0; k < ps->n_ports; k++)
                each(ctx, pattern, ps->ports[k]);
        }
    }
}

/* For live reload: the pinsets path and, for a directory, each *.conf in it
 * as it is now (a file added, removed or edited in place all show). Works
 * without a state, so a pinset that failed to load is retried once fixed. */
static void file_watch(void *state, const struct tlspin_args *args, tlspin_path_fn *each,
                       void *ctx)
{
    const struct tlspin_arg *pinsets;
    char err[256];
    char **paths = NULL;
    size_t n = 0, i;
    struct stat st;

    (void)state;
    if (read_args(args, &pinsets, err, sizeof(err)) != 0)
        return;
    each(ctx, pinsets->values[0]);
    if (stat(pinsets->values[0], &st) != 0 || !S_ISDIR(st.st_mode) ||
        source_list_dir(pinsets->values[0], &paths, &n, err, sizeof(err)) != 0)
        return;
    for (i = 0; i < n; i++)
        each(ctx, paths[i]);
    source_free_paths(paths, n);
}

static const struct tlspin_module file_module = {
    .abi_major = TLSPIN_ABI_MAJOR,      /* built for this ABI */
    .abi_minor = TLSPIN_ABI_MINOR,
    .struct_size = sizeof(struct tlspin_module),
    .name = "file",
    .version = TLSPIN_VERSION,
    .caps = TLSPIN_CAP_LINT | TLSPIN_CAP_HOSTS | TLSPIN_CAP_WATCH,
    .open = file_open,
    .close = file_close,
    .prepare = NULL,                    /* nothing to ask OpenSSL for */
    .check = file_check,
    .lint = file_lint_cb,
    .hosts = file_hosts,
    .watch = file_watch,
};

TLSPIN_MODULE_EXPORT tlspin_module_entry_fn tlspin_module_describe;

TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void)
{
    return &file_module;
}
