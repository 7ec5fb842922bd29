/* The signed module: fleet pinsets from a signed cache file.
 *
 *   { module = "signed"; control = "required";
 *     args = { cache = "/var/lib/tlspin/pinset.signed";
 *              keys = "/etc/tlspin/keys.d";          # *.pub, or one file
 *              state = "/var/lib/tlspin/pinset.signed.state"; # default: cache + ".state"
 *              on_stale = "fail";                    # or "ignore"
 *              threshold = 1; max_validity_days = 31; }; }
 *
 * Every open() (each policy load, each live reload) reads the cache with the
 * hygiene rules (sigstore.c), verifies the signatures before reading a field,
 * checks the validity window and the serial floor of the state file the
 * updater keeps, then parses the pinsets with the file module's parser. Any
 * failure fails open(): tlspin then keeps the last good policy (live reload)
 * or counts the entry as failed. Expiry is checked again at every check():
 * a stale pinset decides nothing itself; a connection it covers gets the
 * on_stale verdict with an `event=pinset-stale` record, never silence. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tlspin/module.h>

#include "../file/decide.h"
#include "../file/file_state.h"
#include "sigbody.h"
#include "sigfmt.h"
#include "sigstore.h"

#ifndef TLSPIN_VERSION
#define TLSPIN_VERSION "0"
#endif

#define HOST_SIZE_NEEDED \
    (offsetof(struct tlspin_host, host_match) + sizeof(((struct tlspin_host *)0)->host_match))

struct signed_args {
    const char *cache, *keys, *state;
    char state_buf[4096];
    int on_stale_fail;
    unsigned threshold;
    int64_t max_validity;
};

struct signed_state {
    struct file_state fs;
    int on_stale_fail;
    uint64_t serial;
    int64_t expires;
    char expires_text[21];
    char signers[SIGFMT_SIGS_MAX * (SIGFMT_KEYID_LEN + 1) + 1];
};

static int one_value(const struct tlspin_arg *a, char *err, size_t errlen)
{
    if (a->n_values != 1 || a->values == NULL || a->values[0] == NULL ||
        a->values[0][0] == '\0') {
        snprintf(err, errlen, "%s:%u: \"%s\" of module signed takes one value",
                 a->file ? a->file : "?", a->line, a->key);
        return -1;
    }
    return 0;
}

static int read_args(const struct tlspin_args *args, struct signed_args *out, char *err,
                     size_t errlen)
{
    size_t i;
    int seen[6] = {0};
    static const char *const names[6] = {"cache", "keys", "state", "on_stale", "threshold",
                                         "max_validity_days"};

    memset(out, 0, sizeof(*out));
    out->on_stale_fail = 1;
    out->threshold = 1;
    out->max_validity = SIGFMT_MAX_VALIDITY_DEFAULT;
    for (i = 0; args != NULL && args->items != NULL && i < args->n_items; i++) {
        const struct tlspin_arg *a = &args->items[i];
        const char *v;
        char *end;
        long n;
        int k;
        for (k = 0; k < 6; k++)
            if (a->key != NULL && strcmp(a->key, names[k]) == 0)
                break;
        if (k == 6) {
            snprintf(err, errlen, "%s:%u: unknown key \"%.64s\" in args of module signed",
                     a->file ? a->file : "?", a->line, a->key ? a->key : "");
            return -1;
        }
        if (seen[k]++) {
            snprintf(err, errlen, "%s:%u: \"%s\" given twice in args of module signed",
                     a->file ? a->file : "?", a->line, a->key);
            return -1;
        }
        if (one_value(a, err, errlen) != 0)
            return -1;
        v = a->values[0];
        switch (k) {
        case 0: out->cache = v; break;
        case 1: out->keys = v; break;
        case 2: out->state = v; break;
        case 3:
            if (strcmp(v, "fail") == 0)
                out->on_stale_fail = 1;
            else if (strcmp(v, "ignore") == 0)
                out->on_stale_fail = 0;
            else {
                snprintf(err, errlen, "%s:%u: on_stale of module signed is \"fail\" or "
                         "\"ignore\"", a->file ? a->file : "?", a->line);
                return -1;
            }
            break;
        case 4:
        case 5:
            errno = 0;
            n = strtol(v, &end, 10);
            if (errno || *end || n < 1 || (k == 4 && n > SIGFMT_SIGS_MAX) || (k == 5 && n > 366)) {
                snprintf(err, errlen, "%s:%u: %s of module signed is out of range",
                         a->file ? a->file : "?", a->line, a->key);
                return -1;
            }
            if (k == 4)
                out->threshold = (unsigned)n;
            else
                out->max_validity = (int64_t)n * 86400;
            break;
        }
    }
    if (out->cache == NULL || out->keys == NULL) {
        snprintf(err, errlen, "module signed needs args = { cache = \"<signed file>\"; "
                 "keys = \"<directory or file of public keys>\"; }");
        return -1;
    }
    if (out->state == NULL) {
        snprintf(out->state_buf, sizeof(out->state_buf), "%s.state", out->cache);
        out->state = out->state_buf;
    }
    return 0;
}

static void signed_free(struct signed_state *st)
{
    if (st == NULL)
        return;
    sigbody_free(&st->fs);
    free(st);
}

static int signed_open(const struct tlspin_host *host, const struct tlspin_args *args,
                       void **state, char *err, size_t errlen)
{
    struct signed_args *ap = NULL;   /* 4 KB: on the heap (the program's thread) */
    struct signed_state *st = NULL;
    struct sigfmt_keys *keys = NULL;
    struct sigstore_state floor;
    struct sigfmt_info info;
    struct sigfmt_limits lim;
    enum sigfmt_result vr;
    char *buf = NULL, why[768];
    size_t len;
    int saved_errno = errno, r = -1, reset = 0;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (state == NULL)
        return -1;
    *state = NULL;
    if (host == NULL || host->struct_size < HOST_SIZE_NEEDED ||
        host->abi_major != TLSPIN_ABI_MAJOR || host->pin_parse == NULL ||
        host->host_normalize == NULL || host->host_match == NULL) {
        snprintf(err, errlen, "module signed: tlspin's host services are missing or of "
                 "another ABI");
        goto out;
    }
    if ((ap = malloc(sizeof(*ap))) == NULL) {
        snprintf(err, errlen, "module signed: out of memory");
        goto out;
    }
    if (read_args(args, ap, err, errlen) != 0)
        goto out;
    keys = calloc(1, sizeof(*keys));
    st = calloc(1, sizeof(*st));
    if (keys == NULL || st == NULL) {
        snprintf(err, errlen, "module signed: out of memory");
        goto out;
    }
    if (sigstore_load_keys(ap->keys, keys, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "module signed: %s", why);
        goto out;
    }
    /* The usual first mistake: the stack switched to the signed module
     * before the updater ever ran (its directory may not exist yet either).
     * Say what to do, not only what failed. */
    if (access(ap->cache, F_OK) != 0 && errno == ENOENT) {
        snprintf(err, errlen, "module signed: no signed pinset yet (%s does not exist): "
                 "run `tlspin update` (and enable tlspin-update.timer) before this stack "
                 "goes live", ap->cache);
        goto out;
    }
    if (sigstore_state_read(ap->state, &floor, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "module signed: %s", why);
        goto out;
    }
    if (sigstore_read(ap->cache, SIGFMT_FILE_MAX, &buf, &len, NULL, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "module signed: cache %s", why);
        goto out;
    }
    lim.now = (int64_t)time(NULL);
    lim.max_validity = ap->max_validity;
    lim.threshold = ap->threshold;
    vr = sigfmt_verify(buf, len, keys, &lim, &info, why, sizeof(why));
    if (vr == SIGFMT_BAD) {
        snprintf(err, errlen, "module signed: cache %s: %s", ap->cache, why);
        goto out;
    }
    if (sigstore_floor(&floor, &info, keys, &reset, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "module signed: cache %s: %s (state %s)", ap->cache, why, ap->state);
        goto out;
    }
    if (sigbody_build(&st->fs, host, ap->cache, info.body, info.body_len, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "module signed: pinsets in %s", why);
        goto out;
    }
    st->on_stale_fail = ap->on_stale_fail;
    st->serial = info.serial;
    st->expires = info.expires;
    sigfmt_time_format(info.expires, st->expires_text);
    snprintf(st->signers, sizeof(st->signers), "%s", info.signers);
    *state = st;
    st = NULL;
    r = 0;
out:
    free(ap);
    free(buf);
    free(keys);
    signed_free(st);
    errno = saved_errno;
    return r;
}

static void signed_close(void *state)
{
    signed_free(state);
}

#define FINDING_HAS(f, m) \
    ((f) != NULL && (f)->struct_size >= offsetof(struct tlspin_finding, m) + sizeof((f)->m))

static tlspin_verdict signed_check(void *state, const struct tlspin_conn *conn,
                                   struct tlspin_finding *finding)
{
    const struct signed_state *st = state;
    tlspin_verdict v;

    if (st == NULL || conn == NULL)
        return TLSPIN_ERROR;
    v = file_decide(&st->fs, conn, finding);
    if (conn->now < st->expires)
        return v;
    /* Stale: the pinsets no longer vouch for anything. A connection they do
     * not cover stays theirs to ignore; one they cover gets on_stale. */
    if (v == TLSPIN_IGNORE && (!FINDING_HAS(finding, event) || finding->event[0] == '\0'))
        return TLSPIN_IGNORE;
    if (FINDING_HAS(finding, event))
        snprintf(finding->event, sizeof(finding->event), "pinset-stale");
    if (FINDING_HAS(finding, report_only))
        finding->report_only = 0;
    if (FINDING_HAS(finding, reason))
        snprintf(finding->reason, sizeof(finding->reason),
                 "signed pinset serial %llu expired at %s (no newer one installed); "
                 "on_stale=%s", (unsigned long long)st->serial, st->expires_text,
                 st->on_stale_fail ? "fail" : "ignore");
    return st->on_stale_fail ? TLSPIN_FAIL : TLSPIN_IGNORE;
}

static void signed_hosts(void *state, tlspin_host_fn *each, void *ctx)
{
    const struct signed_state *st = state;
    size_t i, j, k;

    if (st == NULL || each == NULL)
        return;
    for (i = 0; i < st->fs.pinsets.n; i++) {
        const struct pinset *ps = &st->fs.pinsets.items[i];
        for (j = 0; j < ps->n_hosts; j++) {
            if (ps->hosts[j].pattern[0] == '*')
                continue;
            if (ps->n_ports == 0)
                each(ctx, ps->hosts[j].pattern, 0);
            for (k = 0; k < ps->n_ports; k++)
                each(ctx, ps->hosts[j].pattern, ps->ports[k]);
        }
    }
}

/* Live reload: the cache (replaced by rename: a new inode), the state file,
 * the keys directory and each key in it. */
static void signed_watch(void *state, const struct tlspin_args *args, tlspin_path_fn *each,
                         void *ctx)
{
    /* Called at every reload check, on the program's thread: the 4 KB of
     * arguments and the path buffer live on the heap. Without memory
     * nothing is watched this time (the next check asks again). */
    struct {
        struct signed_args a;
        char path[4096];
    } *w = malloc(sizeof(*w));
    char err[256];
    DIR *d;
    struct dirent *e;

    (void)state;
    if (w == NULL)
        return;
    if (read_args(args, &w->a, err, sizeof(err)) != 0)
        goto out;
    each(ctx, w->a.cache);
    each(ctx, w->a.state);
    each(ctx, w->a.keys);
    d = opendir(w->a.keys);
    if (d == NULL)
        goto out;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".pub") != 0)
            continue;
        snprintf(w->path, sizeof(w->path), "%s/%s", w->a.keys, e->d_name);
        each(ctx, w->path);
    }
    closedir(d);
out:
    free(w);
}

static int signed_lint(void *state, int64_t now, tlspin_diag_fn *diag, void *diag_ctx)
{
    const struct signed_state *st = state;
    char msg[256];

    if (st == NULL)
        return 0;
    if (now >= st->expires) {
        snprintf(msg, sizeof(msg), "signed pinset serial %llu expired at %s: run tlspin "
                 "update", (unsigned long long)st->serial, st->expires_text);
        diag(diag_ctx, TLSPIN_SEV_ERROR, NULL, 0, msg);
        return 1;
    }
    if (st->expires - now < 7 * 86400) {
        snprintf(msg, sizeof(msg), "signed pinset serial %llu expires at %s (is tlspin "
                 "update running?)", (unsigned long long)st->serial, st->expires_text);
        diag(diag_ctx, TLSPIN_SEV_WARNING, NULL, 0, msg);
    }
    return 0;
}

static const struct tlspin_module signed_module = {
    .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR,
    .struct_size = sizeof(struct tlspin_module),
    .name = "signed",
    .version = TLSPIN_VERSION,
    .caps = TLSPIN_CAP_LINT | TLSPIN_CAP_HOSTS | TLSPIN_CAP_WATCH,
    .open = signed_open,
    .close = signed_close,
    .prepare = NULL,
    .check = signed_check,
    .lint = signed_lint,
    .hosts = signed_hosts,
    .watch = signed_watch,
};

TLSPIN_MODULE_EXPORT tlspin_module_entry_fn tlspin_module_describe;

TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void)
{
    return &signed_module;
}
