/* `tlspin check` diagnostics of the file module. */
#include "lint.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "date.h"

/* Expiry warnings start this many days ahead. */
#define LINT_EXPIRY_WARN_DAYS 30

struct lint {
    tlspin_diag_fn *diag;
    void *ctx;
    int errors;
};

static void say(struct lint *l, tlspin_severity sev, const char *file, unsigned line,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void say(struct lint *l, tlspin_severity sev, const char *file, unsigned line,
                const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (sev == TLSPIN_SEV_ERROR)
        l->errors++;
    l->diag(l->ctx, sev, file, line, msg);
}

static void lint_expiry(struct lint *l, const struct pinset *ps, int64_t now)
{
    int64_t left;

    if (!ps->has_expiry)
        return;
    left = ps->expiry_day - date_day_of(now);
    if (left < 0)
        say(l, TLSPIN_SEV_ERROR, ps->file, ps->expires_line, "pinset \"%s\" expired on %s; "
            "it is not enforced", ps->name, ps->expires_text);
    else if (left == 0)
        say(l, TLSPIN_SEV_WARNING, ps->file, ps->expires_line, "pinset \"%s\" expires today "
            "(%s, end of the day UTC)", ps->name, ps->expires_text);
    else if (left <= LINT_EXPIRY_WARN_DAYS)
        say(l, TLSPIN_SEV_WARNING, ps->file, ps->expires_line, "pinset \"%s\" expires in "
            "%lld day%s (%s)", ps->name, (long long)left, left == 1 ? "" : "s",
            ps->expires_text);
}

static void lint_single_pin(struct lint *l, const struct pinset *ps)
{
    if (ps->n_pins == 1)
        say(l, TLSPIN_SEV_WARNING, ps->file, ps->pins_line, "pinset \"%s\" has a single pin "
            "(allowed by allow_single_pin): without a backup pin, a key change locks "
            "clients out", ps->name);
}

/* Notes for the claims of a less specific entry that the more specific
 * pattern `specific` of pinset `ps` takes hosts from. The most specific
 * pattern with a live pinset decides a host on every port (a port only
 * chooses among its pinsets), so ports do not limit shadowing; expired
 * pinsets neither shadow nor are worth a note (they get an error). */
static void note_shadowed(struct lint *l, const struct host_entry *general,
                          const struct pinset *ps, const char *specific, unsigned line,
                          int64_t now)
{
    size_t i;

    if (general == NULL)
        return;
    for (i = 0; i < general->n_claims; i++) {
        const struct host_claim *c = &general->claims[i];
        if (c->pinset == ps || pinset_expired(c->pinset, now))
            continue;
        say(l, TLSPIN_SEV_NOTE, c->pinset->file, c->line, "pattern \"%s\" of pinset \"%s\" "
            "is shadowed for \"%s\" by the more specific pinset \"%s\" (%s:%u)%s",
            general->pattern, c->pinset->name, specific, ps->name, ps->file, line,
            pinset_ports_meet(c->pinset, ps) ? "" : " on every port, even the ones "
            "only it lists");
    }
}

/* Every "**." suffix entry from `from` down to the last label. */
static void note_any_depth_from(struct lint *l, const struct host_index *ix, const char *from,
                                const struct pinset *ps, const struct pinset_host *h,
                                int64_t now)
{
    const char *p;

    for (p = from; p != NULL; p = host_next_suffix(p))
        note_shadowed(l, host_index_get(ix, HOST_ANY_DEPTH, p, strlen(p)), ps, h->pattern,
                      h->line, now);
}

/* 1 when ps is the first live pinset of its pattern's entry: that one speaks
 * for the pattern, so a shadowed pinset gets one note, not one per pinset. */
static int speaks_for_pattern(const struct host_index *ix, const struct pinset *ps,
                              const char *pattern, int64_t now)
{
    const char *key;
    enum host_kind kind = host_pattern_kind(pattern, &key);
    const struct host_entry *e = host_index_get(ix, kind, key, strlen(key));
    size_t i;

    for (i = 0; e != NULL && i < e->n_claims; i++)
        if (!pinset_expired(e->claims[i].pinset, now))
            return e->claims[i].pinset == ps;
    return 0;
}

static void lint_shadowing(struct lint *l, const struct host_index *ix, const struct pinset *ps,
                           const struct pinset_host *h, int64_t now)
{
    const char *key, *rest;

    if (!speaks_for_pattern(ix, ps, h->pattern, now))
        return;
    switch (host_pattern_kind(h->pattern, &key)) {
    case HOST_EXACT:
        if (strchr(key, ':') != NULL)
            return; /* IPv6: no pattern covers it */
        rest = host_next_suffix(key);
        if (rest != NULL)
            note_shadowed(l, host_index_get(ix, HOST_ONE_LABEL, rest, strlen(rest)), ps,
                          h->pattern, h->line, now);
        note_any_depth_from(l, ix, key, ps, h, now);
        break;
    case HOST_ONE_LABEL:
        note_any_depth_from(l, ix, key, ps, h, now);
        break;
    case HOST_ANY_DEPTH:
        rest = host_next_suffix(key);
        if (rest != NULL)
            note_any_depth_from(l, ix, rest, ps, h, now);
        break;
    }
}

/* 1 when every key in a (n_a of them, distinct) is in b (n_b, distinct) and
 * the counts agree. */
static int same_pin_set(const unsigned char (*a)[TLSPIN_PIN_LEN], size_t n_a,
                        const unsigned char (*b)[TLSPIN_PIN_LEN], size_t n_b)
{
    if (n_a != n_b)
        return 0;
    for (size_t i = 0; i < n_a; i++) {
        size_t j = 0;
        while (j < n_b && memcmp(a[i], b[j], TLSPIN_PIN_LEN) != 0)
            j++;
        if (j == n_b)
            return 0;
    }
    return 1;
}

/* 1 when two pinsets accept and refuse the same keys in the same way. */
static int same_keys(const struct pinset *a, const struct pinset *b)
{
    return a->report_only == b->report_only &&
           same_pin_set((const void *)a->pins, a->n_pins, (const void *)b->pins, b->n_pins) &&
           same_pin_set((const void *)a->deny, a->n_deny, (const void *)b->deny, b->n_deny);
}

/* "any port", "port 443", "ports 443, 8443", "ports 1, 2, 3, ..." */
static void ports_text(const struct pinset *ps, char *out, size_t outlen)
{
    size_t len;

    if (ps->n_ports == 0) {
        snprintf(out, outlen, "any port");
        return;
    }
    len = (size_t)snprintf(out, outlen, "port%s", ps->n_ports > 1 ? "s" : "");
    for (size_t i = 0; i < ps->n_ports && len < outlen; i++) {
        if (i == 4) {
            snprintf(out + len, outlen - len, ", ...");
            return;
        }
        len += (size_t)snprintf(out + len, outlen - len, i == 0 ? " %u" : ", %u", ps->ports[i]);
    }
}

/* The pinsets of one pattern that a port chooses between must accept the
 * same keys: the port tlspin sees is the proxy's through an HTTP CONNECT or
 * SOCKS proxy, and unknown for a program with its own BIO and several
 * connections (README, "What cannot be covered"), so a key pinned for one
 * port may be accepted on another. One warning per live pinset whose keys
 * differ from the pattern's first live pinset's. */
static void lint_port_choice(struct lint *l, const struct host_entry *e, int64_t now)
{
    const struct host_claim *first = NULL;

    for (size_t i = 0; i < e->n_claims; i++) {
        const struct host_claim *c = &e->claims[i];
        char first_ports[64], ports[64];
        if (pinset_expired(c->pinset, now))
            continue;
        if (first == NULL) {
            first = c;
            continue;
        }
        if (same_keys(first->pinset, c->pinset))
            continue;
        ports_text(first->pinset, first_ports, sizeof(first_ports));
        ports_text(c->pinset, ports, sizeof(ports));
        say(l, TLSPIN_SEV_WARNING, c->pinset->file, c->line, "pinsets \"%s\" (%s) and \"%s\" "
            "(%s) of \"%s\" pin different keys: the port only chooses between them, and "
            "through an HTTP CONNECT or SOCKS proxy the port tlspin sees is the proxy's (or "
            "unknown), so either pinset's keys may be accepted on the other's port; pin the "
            "same keys in both, or give the services different names", first->pinset->name,
            first_ports, c->pinset->name, ports, e->pattern);
    }
}

int file_lint(const struct file_state *st, int64_t now, tlspin_diag_fn *diag, void *diag_ctx)
{
    struct lint l = { diag, diag_ctx, 0 };
    size_t i, j;

    if (st == NULL || diag == NULL)
        return 0;
    for (i = 0; i < st->pinsets.n; i++) {
        const struct pinset *ps = &st->pinsets.items[i];
        lint_expiry(&l, ps, now);
        lint_single_pin(&l, ps);
        for (j = 0; j < ps->n_hosts; j++)
            lint_shadowing(&l, &st->index, ps, &ps->hosts[j], now);
    }
    for (i = 0; i < st->index.n_entries; i++)
        lint_port_choice(&l, &st->index.entries[i], now);
    return l.errors;
}
