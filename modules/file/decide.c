/* The file module's verdict on one connection.
 *
 * Which pinsets decide (README, "Pinsets: the file module"):
 *   1. The patterns matching the host are tried most specific first (exact,
 *      then "*.", then "**." from the longest suffix down; see host_index).
 *      The first one with a pinset still enforced (not expired) decides;
 *      expired pinsets are skipped, so they never hide a live pattern below.
 *   2. Among that pattern's live pinsets the port only chooses, it never
 *      exempts the host: those that list the port; else those for any port;
 *      else all of them, as when the port is unknown (0). A proxy's port
 *      (3128, 1080) thus still meets the pinset written for 443.
 *   3. The connection must satisfy one candidate. Each is judged: a denied
 *      key anywhere (verified or presented chain) fails; a pinned key on the
 *      verified leaf passes; a pinned key higher in the verified chain (an
 *      intermediate or root, which vouches for every certificate its CA
 *      issued) passes only when tlspin says the leaf is valid for the host
 *      (conn->leaf_matches_host == 1); presented certificates never pass (an
 *      attacker may append them); else it fails. One pass is enough;
 *      otherwise the most serious failure is reported.
 *   4. An expired pinset that would have been a candidate (in a more specific
 *      pattern, or in the deciding one) is noted as `pinset-expired` when
 *      nothing else says more: with a PASS, or an IGNORE when no live pattern
 *      is left. A failure's finding (enforced or report-only) wins.
 *   5. A connection whose host tlspin could not establish (conn->host NULL:
 *      the program gave no name and no peer address could be found) is no
 *      connection to a name of ours: a program that names its server is
 *      decided by that name. But it may be one to any address: while a live
 *      pinset covers an IP address, the verdict is ERROR (event
 *      `host-unknown`), so `on_error` decides; never IGNORE, which would let
 *      an unknown server pass where the address would have been refused.
 *      (A FAIL that only reports when every such pinset is report-only.) */
#include "decide.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for a host name given to check(): 253 characters, a trailing dot, NUL. */
#define CONN_HOST_BUF 256

/* check() reads conn members up to and including `now`. */
#define CONN_SIZE_NEEDED (offsetof(struct tlspin_conn, now) + sizeof(int64_t))

/* leaf_matches_host is read only when tlspin's struct has it. */
#define CONN_SIZE_LEAF \
    (offsetof(struct tlspin_conn, leaf_matches_host) + sizeof(int))
#define HOST_SIZE_LEAF \
    (offsetof(struct tlspin_host, leaf_matches_host) + \
     sizeof(((struct tlspin_host *)0)->leaf_matches_host))

/* Whether tlspin's finding (of size struct_size) holds member m entirely. */
#define FINDING_HAS(f, m) \
    ((f)->struct_size >= offsetof(struct tlspin_finding, m) + sizeof((f)->m))

enum outcome {
    OUTCOME_PASS,
    OUTCOME_DENY,
    OUTCOME_MISMATCH,
    OUTCOME_CA_NOT_FOR_HOST    /* a pinned non-leaf key, leaf not valid for host */
};

static int cert_has_pin(const struct tlspin_cert *cert,
                        const unsigned char (*pins)[TLSPIN_PIN_LEN], size_t n_pins)
{
    size_t j;

    for (j = 0; j < n_pins; j++)
        if (memcmp(cert->spki_sha256, pins[j], TLSPIN_PIN_LEN) == 0)
            return 1;
    return 0;
}

static int chain_has_pin(const struct tlspin_cert *certs, size_t n_certs,
                         const unsigned char (*pins)[TLSPIN_PIN_LEN], size_t n_pins)
{
    size_t i;

    if (certs == NULL)
        return 0;
    for (i = 0; i < n_certs; i++)
        if (cert_has_pin(&certs[i], pins, n_pins))
            return 1;
    return 0;
}

/* Whether the leaf is valid for the host: asked of tlspin (1.1), which works
 * it out only now, or read from conn (1.0), or -1 (unknown) from a tlspin
 * with neither. */
static int leaf_matches_host(const struct tlspin_host *host, const struct tlspin_conn *conn)
{
    if (host->struct_size >= HOST_SIZE_LEAF && host->leaf_matches_host != NULL)
        return host->leaf_matches_host(conn);
    if (conn->struct_size < CONN_SIZE_LEAF)
        return -1;
    return conn->leaf_matches_host;
}

/* The verdict of one live pinset. */
static enum outcome judge(const struct tlspin_host *host, const struct pinset *ps,
                          const struct tlspin_conn *conn)
{
    const unsigned char (*deny)[TLSPIN_PIN_LEN] = (const void *)ps->deny;
    const unsigned char (*pins)[TLSPIN_PIN_LEN] = (const void *)ps->pins;
    size_t n_verified = conn->verified != NULL ? conn->n_verified : 0;

    if (chain_has_pin(conn->verified, n_verified, deny, ps->n_deny) ||
        chain_has_pin(conn->presented, conn->n_presented, deny, ps->n_deny))
        return OUTCOME_DENY;
    if (n_verified == 0)
        return OUTCOME_MISMATCH;
    if (cert_has_pin(&conn->verified[0], pins, ps->n_pins))
        return OUTCOME_PASS;
    if (chain_has_pin(conn->verified + 1, n_verified - 1, pins, ps->n_pins))
        return leaf_matches_host(host, conn) == 1 ? OUTCOME_PASS : OUTCOME_CA_NOT_FOR_HOST;
    return OUTCOME_MISMATCH;
}

/* Lower is what the finding reports when no candidate passes: an enforced
 * failure first (deny before mismatch), then a report-only failure. */
static int severity_rank(const struct pinset *ps, enum outcome o)
{
    switch (o) {
    case OUTCOME_PASS: return 0;
    case OUTCOME_DENY: return ps->report_only ? 3 : 1;
    case OUTCOME_MISMATCH:
    case OUTCOME_CA_NOT_FOR_HOST:
    default: return ps->report_only ? 4 : 2;
    }
}

/* The configured pins, comma separated, cut with "..." if they do not fit. */
static void format_expected(const struct tlspin_host *host, const struct pinset *ps,
                            char *out, size_t outlen)
{
    size_t i, o = 0;

    out[0] = '\0';
    for (i = 0; i < ps->n_pins; i++) {
        char pin[TLSPIN_PIN_TEXT_MAX];
        size_t len, sep = i > 0;
        int last = i + 1 == ps->n_pins;
        host->pin_format(ps->pins[i], pin, sizeof(pin));
        len = strlen(pin);
        /* Keep room for ",..." unless this is the last pin. */
        if (o + sep + len + (last ? 0 : 4) + 1 > outlen) {
            if (o + 4 + 1 <= outlen)
                memcpy(out + o, sep ? ",..." : "...", 5);
            return;
        }
        if (sep)
            out[o++] = ',';
        memcpy(out + o, pin, len + 1);
        o += len;
    }
}

static void fill_finding(const struct tlspin_host *host, const struct pinset *ps,
                         enum outcome o, const struct tlspin_conn *conn, const char *name,
                         struct tlspin_finding *f)
{
    snprintf(f->rule, sizeof(f->rule), "%s", ps->name);
    if (o == OUTCOME_PASS)
        return;
    format_expected(host, ps, f->expected, sizeof(f->expected));
    switch (o) {
    case OUTCOME_DENY:
        snprintf(f->event, sizeof(f->event), "pin-deny");
        snprintf(f->reason, sizeof(f->reason), "the chain contains a denied key");
        break;
    case OUTCOME_CA_NOT_FOR_HOST:
        snprintf(f->event, sizeof(f->event), "pin-mismatch");
        /* A long name is cut; the record carries the host in full anyway. */
        if (snprintf(f->reason, sizeof(f->reason), "a pinned CA key is in the chain but the "
                     "leaf certificate is not %svalid for %s",
                     leaf_matches_host(host, conn) == 0 ? "" : "known to be ",
                     name) >= (int)sizeof(f->reason))
            f->reason[sizeof(f->reason) - 1] = '\0';
        break;
    case OUTCOME_MISMATCH:
    default:
        snprintf(f->event, sizeof(f->event), "pin-mismatch");
        snprintf(f->reason, sizeof(f->reason),
                 "no certificate of the verified chain has a pinned key");
        break;
    }
    f->report_only = ps->report_only ? 1 : 0;
}

/* The note for an expired pinset skipped by the lookup; `decider` is the
 * live pinset that passed in its place, or NULL when none was left. */
static void fill_expired(const struct tlspin_host *host, const struct pinset *ps,
                         const struct pinset *decider, struct tlspin_finding *f)
{
    snprintf(f->event, sizeof(f->event), "pinset-expired");
    snprintf(f->rule, sizeof(f->rule), "%s", ps->name);
    format_expected(host, ps, f->expected, sizeof(f->expected));
    if (decider != NULL)
        snprintf(f->reason, sizeof(f->reason), "pinset expired on %s; not enforced; "
                 "pinset \"%s\" decided", ps->expires_text, decider->name);
    else
        snprintf(f->reason, sizeof(f->reason), "pinset expired on %s; not enforced",
                 ps->expires_text);
    f->report_only = 0;
}

/* The host as the index holds names. tlspin normalises it already; doing it
 * again costs little and keeps a stray capital letter or trailing dot from
 * turning a pinned host into an unpinned one. */
static int fold_host(const struct tlspin_host *host, const char *in, char out[CONN_HOST_BUF])
{
    char why[256];
    size_t len, i;

    if (host->host_normalize(in, out, CONN_HOST_BUF, why, sizeof(why)) == 0)
        return 0;
    len = strnlen(in, CONN_HOST_BUF);
    if (len >= CONN_HOST_BUF)
        return -1;
    for (i = 0; i < len; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
    if (len > 1 && out[len - 1] == '.')
        len--;
    out[len] = '\0';
    return 0;
}

static tlspin_verdict verdict_of(enum outcome o)
{
    return o == OUTCOME_PASS ? TLSPIN_PASS : TLSPIN_FAIL;
}

/* The first expired pinset of e that would be a candidate for the port were
 * it enforced (the choice made over all of e's claims), or NULL. */
static const struct pinset *expired_candidate(const struct host_entry *e, unsigned port,
                                              int64_t now)
{
    struct host_choice all;
    size_t i;

    host_choice_init(&all, e, port, 0, now);
    for (i = 0; i < e->n_claims; i++)
        if (host_choice_has(&all, e, i) && pinset_expired(e->claims[i].pinset, now))
            return e->claims[i].pinset;
    return NULL;
}

struct lookup {
    const struct host_entry *entry; /* the deciding pattern, or NULL */
    struct host_choice live;        /* its candidates */
    const struct pinset *expired;   /* the most specific expired one skipped */
};

static void lookup(const struct host_index *ix, const char *host, unsigned port, int64_t now,
                   struct lookup *lk)
{
    const struct host_entry *e;
    struct host_walk w;

    lk->entry = NULL;
    lk->expired = NULL;
    host_walk_begin(&w, host);
    while ((e = host_walk_next(ix, &w)) != NULL) {
        if (lk->expired == NULL)
            lk->expired = expired_candidate(e, port, now);
        host_choice_init(&lk->live, e, port, 1, now);
        if (lk->live.n_considered > 0) {
            lk->entry = e;
            return;
        }
    }
}

/* A pinset on an IP address still in force at now, an enforcing one if
 * any (report-only ones only report), or NULL. */
static const struct pinset *live_ip_pinset(const struct host_index *ix, int64_t now)
{
    const struct pinset *report_only = NULL;

    for (size_t i = 0; i < ix->n_ip_entries; i++) {
        const struct host_entry *e = &ix->entries[ix->ip_entries[i]];
        for (size_t j = 0; j < e->n_claims; j++) {
            const struct pinset *ps = e->claims[j].pinset;
            if (pinset_expired(ps, now))
                continue;
            if (!ps->report_only)
                return ps;
            if (report_only == NULL)
                report_only = ps;
        }
    }
    return report_only;
}

/* Rule 5: the server is unknown. ERROR under an enforcing pinset; a FAIL
 * that reports under a report-only one. */
static tlspin_verdict decide_unknown_host(const struct file_state *st,
                                          const struct tlspin_conn *conn,
                                          struct tlspin_finding *f)
{
    const struct pinset *ps = live_ip_pinset(&st->index, conn->now);

    if (ps == NULL)
        return TLSPIN_IGNORE;
    snprintf(f->event, sizeof(f->event), "host-unknown");
    snprintf(f->rule, sizeof(f->rule), "%s", ps->name);
    format_expected(st->host, ps, f->expected, sizeof(f->expected));
    snprintf(f->reason, sizeof(f->reason), "no name was given and tlspin could not find the "
             "server's address (no TCP socket on the SSL, and the process's TCP peers could "
             "not all be listed): it may be an address pinned here");
    f->report_only = ps->report_only ? 1 : 0;
    return ps->report_only ? TLSPIN_FAIL : TLSPIN_ERROR;
}

static tlspin_verdict decide(const struct file_state *st, const struct tlspin_conn *conn,
                             struct tlspin_finding *f)
{
    const struct pinset *best = NULL;
    enum outcome best_outcome = OUTCOME_MISMATCH;
    char host[CONN_HOST_BUF];
    struct lookup lk;
    size_t i;

    if (st == NULL || conn == NULL || conn->struct_size < CONN_SIZE_NEEDED) {
        snprintf(f->reason, sizeof(f->reason),
                 "tlspin passed a connection this module cannot read");
        return TLSPIN_ERROR;
    }
    if (conn->host == NULL)
        return decide_unknown_host(st, conn, f);
    if (fold_host(st->host, conn->host, host) != 0) {
        /* Too long to be a host name, yet "**." patterns could match it. */
        snprintf(f->reason, sizeof(f->reason), "host name longer than %d characters",
                 CONN_HOST_BUF - 1);
        return TLSPIN_ERROR;
    }
    lookup(&st->index, host, conn->port, conn->now, &lk);
    if (lk.entry == NULL) {
        if (lk.expired != NULL)
            fill_expired(st->host, lk.expired, NULL, f);
        return TLSPIN_IGNORE;
    }
    for (i = 0; i < lk.entry->n_claims; i++) {
        const struct pinset *ps = lk.entry->claims[i].pinset;
        enum outcome o;
        if (!host_choice_has(&lk.live, lk.entry, i))
            continue;
        o = judge(st->host, ps, conn);
        if (best == NULL || severity_rank(ps, o) < severity_rank(best, best_outcome)) {
            best = ps;
            best_outcome = o;
        }
    }
    if (best == NULL) /* cannot happen: the entry has a live candidate */
        return TLSPIN_IGNORE;
    if (best_outcome == OUTCOME_PASS && lk.expired != NULL)
        fill_expired(st->host, lk.expired, best, f);
    else
        fill_finding(st->host, best, best_outcome, conn, host, f);
    return verdict_of(best_outcome);
}

static void copy_text(char *dst, const char *src)
{
    memcpy(dst, src, strlen(src) + 1);
}

/* Hand the finding to tlspin, writing only the members that lie within its
 * struct_size: a module built against a newer, larger struct must not
 * write past an older tlspin's. */
static void publish(struct tlspin_finding *dst, const struct tlspin_finding *src)
{
    if (FINDING_HAS(dst, event))
        copy_text(dst->event, src->event);
    if (FINDING_HAS(dst, rule))
        copy_text(dst->rule, src->rule);
    if (FINDING_HAS(dst, expected))
        copy_text(dst->expected, src->expected);
    if (FINDING_HAS(dst, reason))
        copy_text(dst->reason, src->reason);
    if (FINDING_HAS(dst, report_only))
        dst->report_only = src->report_only;
}

tlspin_verdict file_decide(const struct file_state *st, const struct tlspin_conn *conn,
                           struct tlspin_finding *finding)
{
    struct tlspin_finding *out;
    tlspin_verdict v;

    /* A host as new as this module: filled in place. The finding is ~2.5
     * KB, and a copy on the program's stack was most of what a whole
     * decision may take there (programs run TLS on small stacks). */
    if (finding != NULL && finding->struct_size >= sizeof(*finding)) {
        finding->event[0] = finding->rule[0] = finding->expected[0] = finding->reason[0] = '\0';
        finding->report_only = 0;
        return decide(st, conn, finding);
    }
    /* An older, smaller host's finding (or none): a whole one on the heap,
     * then only what the host has room for. */
    if ((out = malloc(sizeof(*out))) == NULL)
        return TLSPIN_ERROR;
    out->struct_size = sizeof(*out);
    out->event[0] = out->rule[0] = out->expected[0] = out->reason[0] = '\0';
    out->report_only = 0;
    v = decide(st, conn, out);
    if (finding != NULL)
        publish(finding, out);
    free(out);
    return v;
}
