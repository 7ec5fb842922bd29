/* policy.c — the CT policies:
 *   min     distinct valid logs >= min_scts, distinct operators >= min_operators,
 *           every channel counts.
 *   chrome  Chrome's CT policy as written in April 2026
 *           (googlechrome.github.io/CertificateTransparency/ct_policy.html):
 *           embedded SCTs: >= 1 from a log not retired; distinct logs >= 2 for
 *           a lifetime <= 180 days, >= 3 above; >= 2 operators. Or SCTs
 *           delivered in TLS: >= 2 logs not retired, >= 2 operators. SCTs in
 *           stapled OCSP do not count (Chrome 148 onward). A retired log's SCT
 *           counts only when it was issued before the retirement (verify.c).
 *   apple   Apple's CT policy (support.apple.com/103214, as published in
 *           2026): >= 2 SCTs from distinct logs once or currently approved,
 *           and either >= 2 from logs not retired of which >= 1 came in the
 *           TLS extension or a stapled OCSP response, or >= 1 embedded from a
 *           log not retired and, embedded, 2 distinct logs counting at most 1
 *           per operator for a lifetime of 180 days or less, 3 counting at
 *           most 2 per operator above. */
#include "ct.h"

#include <stdio.h>
#include <string.h>

const char *ct_policy_name(const struct ct_policy *p)
{
    return p->kind == POLICY_CHROME ? "chrome" : p->kind == POLICY_APPLE ? "apple" : "min";
}

struct tally {
    unsigned logs, operators, live_logs;
};

/* Distinct logs/operators among valid SCTs of the channels in mask. */
static void count(const struct ct_eval *e, unsigned mask, int live_only, struct tally *t)
{
    const struct ct_log *seen_logs[64];
    unsigned seen_ops[64];
    size_t nl = 0, no = 0, i, j;

    memset(t, 0, sizeof *t);
    for (i = 0; i < e->n; i++) {
        const struct sct_result *r = &e->r[i];
        if (r->status != SCT_OK || !(mask & (1u << r->channel)))
            continue;
        if (live_only && r->log->state == LOG_RETIRED)
            continue;
        for (j = 0; j < nl; j++)
            if (seen_logs[j] == r->log)
                break;
        if (j < nl || nl == 64)
            continue;
        seen_logs[nl++] = r->log;
        if (r->log->state != LOG_RETIRED)
            t->live_logs++;
        for (j = 0; j < no; j++)
            if (seen_ops[j] == r->log->operator_idx)
                break;
        if (j == no && no < 64)
            seen_ops[no++] = r->log->operator_idx;
    }
    t->logs = (unsigned)nl;
    t->operators = (unsigned)no;
}

/* Distinct logs among valid SCTs of the channels in mask, each operator's
 * counting for at most `cap` (Apple's "maximum # of SCTs per log operator
 * which count towards the SCT requirement"). */
static unsigned capped_logs(const struct ct_eval *e, unsigned mask, unsigned cap)
{
    const struct ct_log *seen_logs[64];
    unsigned ops[64], per_op[64], total = 0;
    size_t nl = 0, no = 0, i, j;

    for (i = 0; i < e->n; i++) {
        const struct sct_result *r = &e->r[i];
        if (r->status != SCT_OK || !(mask & (1u << r->channel)))
            continue;
        for (j = 0; j < nl; j++)
            if (seen_logs[j] == r->log)
                break;
        if (j < nl || nl == 64)
            continue;
        seen_logs[nl++] = r->log;
        for (j = 0; j < no; j++)
            if (ops[j] == r->log->operator_idx)
                break;
        if (j == no) {
            if (no == 64)
                continue;
            ops[no] = r->log->operator_idx;
            per_op[no++] = 0;
        }
        if (per_op[j] < cap) {
            per_op[j]++;
            total++;
        }
    }
    return total;
}

#define M_EMB (1u << CH_EMBEDDED)
#define M_TLS (1u << CH_TLS)
#define M_OCSP (1u << CH_OCSP)

static int sat(const struct tally *t, unsigned logs, unsigned ops, int need_live)
{
    return t->logs >= logs && t->operators >= ops && (!need_live || t->live_logs >= 1);
}

int ct_policy_eval(const struct ct_policy *p, const struct ct_eval *e, char *event,
                   size_t eventlen, char *reason, size_t reasonlen, char *expected,
                   size_t expectedlen)
{
    struct tally emb, other, all;
    unsigned need_emb, need_ops, other_mask;
    int pass, few_ops;

    (void)reason;
    (void)reasonlen;
    if (p->kind == POLICY_MIN) {
        count(e, M_EMB | M_TLS | M_OCSP, 0, &all);
        snprintf(expected, expectedlen, "min: valid SCTs from >= %u distinct logs of >= %u "
                 "operators, any channel", p->min_scts, p->min_operators);
        pass = sat(&all, p->min_scts, p->min_operators, 0);
        few_ops = all.logs >= p->min_scts;
    } else if (p->kind == POLICY_APPLE) {
        int64_t d = e->lifetime_days;
        struct tally all_live, delivered_live, emb_live;
        unsigned need = d <= 180 ? 2 : 3, cap = d <= 180 ? 1 : 2;
        count(e, M_EMB | M_TLS | M_OCSP, 0, &all);
        count(e, M_EMB | M_TLS | M_OCSP, 1, &all_live);
        count(e, M_TLS | M_OCSP, 1, &delivered_live);
        count(e, M_EMB, 1, &emb_live);
        snprintf(expected, expectedlen,
                 "apple: SCTs from >= 2 logs; and >= 2 from logs not retired, >= 1 of them in "
                 "TLS or OCSP; or >= 1 embedded from a log not retired and embedded SCTs from "
                 ">= %u logs counting <= %u per operator (lifetime %lld days)",
                 need, cap, (long long)d);
        pass = all.logs >= 2 &&
               ((all_live.logs >= 2 && delivered_live.logs >= 1) ||
                (emb_live.logs >= 1 && capped_logs(e, M_EMB, cap) >= need));
        count(e, M_EMB, 0, &emb);
        few_ops = emb.logs >= need;   /* enough logs, but the caps cut them */
    } else {
        int64_t d = e->lifetime_days;
        need_emb = d <= 180 ? 2 : 3;
        other_mask = M_TLS;
        need_ops = 2;
        count(e, M_EMB, 0, &emb);
        count(e, other_mask, 1, &other);
        snprintf(expected, expectedlen,
                 "%s: embedded SCTs from >= %u logs (lifetime %lld days) of >= 2 operators, "
                 ">= 1 log not retired; or %s SCTs from >= 2 logs not retired of >= 2 operators",
                 ct_policy_name(p), need_emb, (long long)d,
                 p->kind == POLICY_CHROME ? "TLS-extension" : "TLS-extension/OCSP");
        pass = sat(&emb, need_emb, need_ops, 1) || sat(&other, 2, need_ops, 0);
        few_ops = emb.logs >= need_emb || other.logs >= 2;
    }
    if (pass)
        return 1;
    {
        /* The most telling failure: an SCT that did not verify, else counts. */
        static const enum sct_status order[] = {SCT_BAD_SIGNATURE, SCT_FUTURE, SCT_LOG_RETIRED,
                                                SCT_UNKNOWN_LOG, SCT_LOG_UNTRUSTED,
                                                SCT_OUTSIDE_INTERVAL, SCT_NO_ISSUER,
                                                SCT_UNSUPPORTED};
        if (e->n == 0) {
            snprintf(event, eventlen, "ct-no-scts");
            return 0;
        }
        for (size_t k = 0; k < sizeof order / sizeof *order; k++)
            for (size_t i = 0; i < e->n; i++)
                if (e->r[i].status == order[k]) {
                    snprintf(event, eventlen, "ct-%s", ct_sct_status_name(order[k]));
                    return 0;
                }
        snprintf(event, eventlen, few_ops ? "ct-too-few-operators" : "ct-too-few-logs");
    }
    return 0;
}
