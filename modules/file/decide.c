/* The file module's verdict on one connection.
 *
 * The most specific pattern for the host decides (see host_index). Its
 * candidate pinsets are judged one by one: a denied key anywhere (verified or
 * presented) fails; a pinned key in the *verified* chain passes (presented
 * certificates may be an attacker's additions); else it fails. An expired
 * pinset is not enforced. With several candidates (port unknown), one pass is
 * enough; otherwise the most serious outcome is reported. */
#include "decide.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Room for a host name given to check(): 253 characters, a trailing dot, NUL. */
#define CONN_HOST_BUF 256

/* check() reads conn members up to and including `now`. */
#define CONN_SIZE_NEEDED (offsetof(struct tlspin_conn, now) + sizeof(int64_t))

enum outcome { OUTCOME_PASS, OUTCOME_DENY, OUTCOME_MISMATCH, OUTCOME_EXPIRED };

static int chain_has_pin(const struct tlspin_cert *certs, size_t n_certs,
                         const unsigned char (*pins)[TLSPIN_PIN_LEN], size_t n_pins)
{
    size_t i, j;

    if (certs == NULL)
        return 0;
    for (i = 0; i < n_certs; i++)
        for (j = 0; j < n_pins; j++)
            if (memcmp(certs[i].spki_sha256, pins[j], TLSPIN_PIN_LEN) == 0)
                return 1;
    return 0;
}

static enum outcome judge(const struct pinset *ps, const struct tlspin_conn *conn)
{
    const unsigned char (*deny)[TLSPIN_PIN_LEN] = (const void *)ps->deny;
    const unsigned char (*pins)[TLSPIN_PIN_LEN] = (const void *)ps->pins;

    if (pinset_expired(ps, conn->now))
        return OUTCOME_EXPIRED;
    if (chain_has_pin(conn->verified, conn->n_verified, deny, ps->n_deny) ||
        chain_has_pin(conn->presented, conn->n_presented, deny, ps->n_deny))
        return OUTCOME_DENY;
    if (chain_has_pin(conn->verified, conn->n_verified, pins, ps->n_pins))
        return OUTCOME_PASS;
    return OUTCOME_MISMATCH;
}

/* Lower is what the finding reports when no candidate passes: an enforced
 * failure first, then a report-only failure, then an expiry. */
static int severity_rank(const struct pinset *ps, enum outcome o)
{
    switch (o) {
    case OUTCOME_PASS: return 0;
    case OUTCOME_DENY: return ps->report_only ? 3 : 1;
    case OUTCOME_MISMATCH: return ps->report_only ? 4 : 2;
    case OUTCOME_EXPIRED:
    default: return 5;
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
                         enum outcome o, struct tlspin_finding *f)
{
    snprintf(f->rule, sizeof(f->rule), "%s", ps->name);
    if (o == OUTCOME_PASS)
        return;
    format_expected(host, ps, f->expected, sizeof(f->expected));
    if (o == OUTCOME_EXPIRED) {
        snprintf(f->event, sizeof(f->event), "pinset-expired");
        snprintf(f->reason, sizeof(f->reason), "pinset expired on %s; not enforced",
                 ps->expires_text);
        return;
    }
    if (o == OUTCOME_DENY) {
        snprintf(f->event, sizeof(f->event), "pin-deny");
        snprintf(f->reason, sizeof(f->reason), "the chain contains a denied key");
    } else {
        snprintf(f->event, sizeof(f->event), "pin-mismatch");
        snprintf(f->reason, sizeof(f->reason),
                 "no certificate of the verified chain has a pinned key");
    }
    f->report_only = ps->report_only ? 1 : 0;
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
    switch (o) {
    case OUTCOME_PASS: return TLSPIN_PASS;
    case OUTCOME_DENY:
    case OUTCOME_MISMATCH: return TLSPIN_FAIL;
    case OUTCOME_EXPIRED:
    default: return TLSPIN_IGNORE;
    }
}

tlspin_verdict file_decide(const struct file_state *st, const struct tlspin_conn *conn,
                           struct tlspin_finding *finding)
{
    struct tlspin_finding scratch;
    const struct host_entry *e;
    const struct pinset *best = NULL;
    enum outcome best_outcome = OUTCOME_MISMATCH;
    char host[CONN_HOST_BUF];
    size_t i;

    if (finding == NULL)
        finding = &scratch;
    if (st == NULL || conn == NULL || conn->struct_size < CONN_SIZE_NEEDED) {
        snprintf(finding->reason, sizeof(finding->reason),
                 "tlspin passed a connection this module cannot read");
        return TLSPIN_ERROR;
    }
    if (conn->host == NULL)
        return TLSPIN_IGNORE;
    if (fold_host(st->host, conn->host, host) != 0) {
        /* Too long to be a host name, yet "**." patterns could match it. */
        snprintf(finding->reason, sizeof(finding->reason),
                 "host name longer than %d characters", CONN_HOST_BUF - 1);
        return TLSPIN_ERROR;
    }
    e = host_index_find(&st->index, host, conn->port);
    if (e == NULL)
        return TLSPIN_IGNORE;
    for (i = 0; i < e->n_claims; i++) {
        const struct pinset *ps = e->claims[i].pinset;
        enum outcome o;
        if (!host_entry_is_candidate(e, i, conn->port))
            continue;
        o = judge(ps, conn);
        if (best == NULL || severity_rank(ps, o) < severity_rank(best, best_outcome)) {
            best = ps;
            best_outcome = o;
        }
    }
    if (best == NULL)
        return TLSPIN_IGNORE;
    fill_finding(st->host, best, best_outcome, finding);
    return verdict_of(best_outcome);
}
