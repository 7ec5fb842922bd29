/* The decision. Verdicts start pessimistic: a module that returns garbage is
 * an ERROR; a faulty entry is an ERROR each time it is dispatched. */
#include "decide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__thread int decide_busy;

/* Findings kept per decision: the entry being run, the first hard and soft
 * failures (one of them explains a DENY) and the first note (an event on an
 * allowed connection, e.g. an expired pinset). */
struct findings {
    struct tlspin_finding current, hard, soft, note;
    size_t note_entry;
    tlspin_verdict hard_verdict, soft_verdict, note_verdict;
    int has_note;
};

const char *verdict_name(tlspin_verdict v)
{
    switch (v) {
    case TLSPIN_PASS: return "pass";
    case TLSPIN_FAIL: return "fail";
    case TLSPIN_IGNORE: return "ignore";
    case TLSPIN_ERROR: return "error";
    }
    return "error";
}

static void clear_finding(struct tlspin_finding *f)
{
    f->struct_size = sizeof(*f);
    f->event[0] = f->rule[0] = f->expected[0] = f->reason[0] = '\0';
    f->report_only = 0;
    f->wait_for_staple = 0;
}

static void terminate_finding(struct tlspin_finding *f)
{
    f->event[sizeof(f->event) - 1] = '\0';
    f->rule[sizeof(f->rule) - 1] = '\0';
    f->expected[sizeof(f->expected) - 1] = '\0';
    f->reason[sizeof(f->reason) - 1] = '\0';
}

static tlspin_verdict run_entry(const struct policy_entry *e, const struct tlspin_conn *conn,
                                struct tlspin_finding *f)
{
    tlspin_verdict v;

    clear_finding(f);
    if (e->fault != NULL || e->module.desc == NULL) {
        snprintf(f->event, sizeof(f->event), "module-error");
        snprintf(f->reason, sizeof(f->reason), "%s", e->fault ? e->fault : "module not loaded");
        return TLSPIN_ERROR;
    }
    decide_busy++;
    v = e->module.desc->check(e->state, conn, f);
    decide_busy--;
    terminate_finding(f);
    if (v != TLSPIN_PASS && v != TLSPIN_FAIL && v != TLSPIN_IGNORE)
        v = TLSPIN_ERROR;
    if (v == TLSPIN_ERROR && f->event[0] == '\0')
        snprintf(f->event, sizeof(f->event), "module-error");
    return v;
}

/* The conn modules see, and what tlspin keeps with it to answer
 * host->leaf_matches_host(conn) later. */
struct conn_ctx {
    struct tlspin_conn conn;     /* modules get &ctx->conn */
    struct chain *chain;
};

/* The conn of the check() this thread runs, the only one the service
 * answers for: a module that passes another pointer, or keeps one past the
 * call, gets "unknown". */
static __thread const struct conn_ctx *current_conn;

int decide_leaf_matches_host(const struct tlspin_conn *conn)
{
    const struct conn_ctx *ctx = current_conn;

    if (conn == NULL || ctx == NULL || conn != &ctx->conn)
        return -1;
    return chain_leaf_matches_host(ctx->chain, conn->host);
}

static void build_conn(const struct policy *p, struct conn_ctx *ctx, SSL *ssl,
                       const struct peer_id *id, struct chain *chain, enum decide_kind kind)
{
    struct tlspin_conn *conn = &ctx->conn;
    int resumption = kind == DECIDE_RESUMPTION || kind == DECIDE_RESUMED;

    memset(ctx, 0, sizeof(*ctx));
    ctx->chain = chain;
    conn->struct_size = sizeof(*conn);
    conn->host = id->host[0] ? id->host : NULL;
    conn->host_source = id->host[0] ? id->source : TLSPIN_HOST_UNKNOWN;
    conn->port = id->port;
    conn->peer = id->peer[0] ? id->peer : NULL;
    conn->verified = chain->verified;
    conn->n_verified = chain->n_verified;
    conn->trust = chain->trust;
    conn->presented = resumption ? NULL : chain->presented;
    conn->n_presented = resumption ? 0 : chain->n_presented;
    conn->resumption = resumption;
    conn->now = (int64_t)time(NULL);
    conn->ssl = ssl;
    /* Worked out now only for a module built before the service existed. */
    conn->leaf_matches_host = p->eager_leaf_match ? chain_leaf_matches_host(chain, conn->host)
                                                  : -1;
    conn->phase = kind == DECIDE_SERVER_FLIGHT ? TLSPIN_PHASE_SERVER_FLIGHT
                                               : TLSPIN_PHASE_CERTIFICATE;
    conn->staple_pending = kind == DECIDE_MAY_WAIT;
    if (ssl != NULL && !resumption) {
        const unsigned char *resp = NULL;
        long len = SSL_get_tlsext_status_ocsp_resp(ssl, &resp);
        if (len > 0 && resp != NULL) {
            conn->ocsp_response = resp;
            conn->ocsp_response_len = (size_t)len;
        }
    }
}

static enum tlspin_reason reason_for(const char *event)
{
    if (event == NULL)
        return TLSPIN_R_REFUSED;
    if (strcmp(event, "pin-mismatch") == 0)
        return TLSPIN_R_PIN_MISMATCH;
    if (strcmp(event, "pin-deny") == 0)
        return TLSPIN_R_PIN_DENIED;
    if (strcmp(event, "policy-error") == 0 || strcmp(event, "module-error") == 0)
        return TLSPIN_R_POLICY_ERROR;
    if (strcmp(event, "unpinned-host") == 0)
        return TLSPIN_R_UNPINNED_HOST;
    return TLSPIN_R_REFUSED;
}

/* Event tokens are [a-z0-9-]; a module's own token is interned here so the
 * decision can point at static storage. */
static const char *event_token(const char *event, const char *fallback)
{
    static const char *const known[] = { "pin-mismatch", "pin-deny", "pinset-expired",
                                         "policy-error", "module-error", "unpinned-host",
                                         "module-fail", NULL };
    for (int i = 0; event && known[i]; i++)
        if (strcmp(event, known[i]) == 0)
            return known[i];
    return event && event[0] ? "module-event" : fallback;
}

static void write_record(const struct policy *p, const struct peer_id *id,
                         const struct chain *chain, const struct policy_entry *entry,
                         tlspin_verdict verdict, const struct tlspin_finding *f,
                         const char *event, enum decision_action action)
{
    /* The chain's text on the heap (4 KB would be most of what a decision
     * may take from the program's stack); a failed allocation still
     * records, with the chain cut short. */
    char small[128], *chain_text = malloc(RECORD_MAX / 2);
    struct record r = { 0 };

    if (chain_text != NULL)
        chain_describe(chain, chain_text, RECORD_MAX / 2);
    else
        chain_describe(chain, small, sizeof(small));
    r.event = f && f->event[0] ? f->event : event;
    r.action = action_name(action);
    r.host = id->host;
    r.port = id->port;
    r.peer = id->peer;
    r.pinset = f ? f->rule : NULL;
    if (entry != NULL) {
        r.module = entry->module.desc ? entry->module.desc->name : entry->config->module;
        r.control = control_name(entry->config->control);
        r.verdict = verdict_name(verdict);
    }
    r.trust = chain_trust_name(chain->trust);
    r.chain = chain_text != NULL ? chain_text : small;
    r.expected = f ? f->expected : NULL;
    r.reason = f ? f->reason : NULL;
    record_emit(&p->log, &r);
    free(chain_text);
}

/* event: the module's own token when it named one (the decision keeps only
 * interned tokens), else the decision's. */
static void summarise(struct decision *out, const struct peer_id *id, const char *rule,
                      const char *event)
{
    char port[16] = "-";
    if (id->port)
        snprintf(port, sizeof(port), "%u", id->port);
    if (event == NULL || event[0] == '\0')
        event = out->event;
    snprintf(out->summary, sizeof(out->summary), "host=%.253s port=%s pinset=%.100s event=%.31s",
             id->host[0] ? id->host : "-", port, rule && rule[0] ? rule : "-",
             event ? event : "-");
}

/* The policy file itself is unusable: nothing can be evaluated. */
static void decide_broken_policy(const struct policy *p, const struct peer_id *id,
                                 const struct chain *chain, int resumption,
                                 struct decision *out)
{
    /* The finding on the heap (2.5 KB: most of what a decision may take
     * from the program's stack); without it the record says the event
     * without the fault. */
    struct tlspin_finding *f = resumption ? NULL : malloc(sizeof(*f));
    int on_error_allow = p->config ? p->config->on_error_allow : 0;

    out->action = on_error_allow ? ACTION_ALLOW_POLICY_ERROR : ACTION_BLOCK;
    out->event = "policy-error";
    out->reason_code = TLSPIN_R_POLICY_ERROR;
    summarise(out, id, NULL, NULL);
    if (resumption)
        return;
    if (f != NULL) {
        clear_finding(f);
        snprintf(f->event, sizeof(f->event), "policy-error");
        snprintf(f->reason, sizeof(f->reason), "%s", p->fault);
    }
    write_record(p, id, chain, NULL, TLSPIN_ERROR, f, "policy-error", out->action);
    free(f);
}

void decide(const struct policy *p, SSL *ssl, const struct peer_id *id, struct chain *chain,
            enum decide_kind kind, struct decision *out, decide_observer *observer, void *observer_ctx)
{
    /* A check before the session is offered writes nothing (see below). */
    int resumption = kind == DECIDE_RESUMPTION, waiting = 0;
    struct findings *fs;
    struct conn_ctx cctx;
    struct stack_eval eval;
    struct stack_outcome outcome;
    const struct policy_entry *blamed = NULL, *noted = NULL;
    const struct tlspin_finding *finding = NULL;
    tlspin_verdict blamed_verdict = TLSPIN_ERROR;

    memset(out, 0, sizeof(*out));
    out->action = ACTION_BLOCK;   /* pessimistic until the stack says otherwise */
    if (p->fault != NULL || p->config == NULL) {
        decide_broken_policy(p, id, chain, resumption, out);
        return;
    }
    /* Not zeroed (10 KB per decision): every finding is emptied before a
     * module fills it, and only the flags below are read before being set. */
    if ((fs = malloc(sizeof(*fs))) == NULL) {
        out->event = "policy-error";
        out->reason_code = TLSPIN_R_POLICY_ERROR;
        out->action = p->config->on_error_allow ? ACTION_ALLOW_POLICY_ERROR : ACTION_BLOCK;
        summarise(out, id, NULL, NULL);
        return;
    }
    fs->has_note = 0;
    fs->note_entry = 0;
    fs->hard_verdict = fs->soft_verdict = fs->note_verdict = TLSPIN_ERROR;
    clear_finding(&fs->hard);
    clear_finding(&fs->soft);
    clear_finding(&fs->note);
    build_conn(p, &cctx, ssl, id, chain, kind);
    stack_begin(&eval);
    for (size_t i = 0; i < p->n_entries; i++) {
        const struct policy_entry *e = &p->entries[i];
        const struct conn_ctx *outer = current_conn;   /* decide() may nest (probe) */
        current_conn = &cctx;
        tlspin_verdict v = run_entry(e, &cctx.conn, &fs->current);
        current_conn = outer;
        if (observer)
            observer(observer_ctx, e, v, &fs->current);
        if (v == TLSPIN_FAIL && fs->current.report_only) {
            v = TLSPIN_IGNORE;   /* the rule reports, it does not block */
            fs->current.report_only = 1;
        }
        /* Counted as a pass for now: the stack only ever does better with a
         * pass, so if even that refuses, the refusal is final already. */
        if (v == TLSPIN_FAIL && cctx.conn.staple_pending && fs->current.wait_for_staple) {
            v = TLSPIN_PASS;
            waiting = 1;
            clear_finding(&fs->current);
        }
        int go_on = stack_step(&eval, i, e->config->control, v);
        /* Keep the finding of whichever entry the stack now blames. */
        if (eval.has_hard_blame && eval.hard_blame == i) {
            fs->hard = fs->current;
            fs->hard_verdict = v;
        } else if (eval.has_soft_blame && eval.soft_blame == i) {
            fs->soft = fs->current;
            fs->soft_verdict = v;
        } else if (!fs->has_note && fs->current.event[0] != '\0') {
            fs->note = fs->current;
            fs->note_verdict = fs->current.report_only ? TLSPIN_FAIL : v;
            fs->note_entry = i;
            fs->has_note = 1;
        }
        if (!go_on)
            break;
    }
    outcome = stack_finish(&eval);
    out->action = decision_action(outcome, p->config->mode, p->config->unpinned_deny,
                                  p->config->on_error_allow);

    if (outcome.result == STACK_DENY && outcome.has_blame) {
        int hard = eval.has_hard_blame && outcome.blame == eval.hard_blame;
        blamed = &p->entries[outcome.blame];
        finding = hard ? &fs->hard : &fs->soft;
        blamed_verdict = hard ? fs->hard_verdict : fs->soft_verdict;
        out->event = event_token(finding->event, blamed_verdict == TLSPIN_ERROR ? "module-error"
                                                                                : "module-fail");
    } else if (outcome.result == STACK_NO_OPINION && p->config->unpinned_deny) {
        clear_finding(&fs->current);
        snprintf(fs->current.reason, sizeof(fs->current.reason),
                 "no module has an opinion on this host and the policy says unpinned = \"deny\"");
        finding = &fs->current;
        out->event = "unpinned-host";
    } else if (out->action == ACTION_ALLOW && eval.has_soft_blame) {
        /* Allowed although a sufficient/optional entry failed or could not
         * run: not a silent pass, or a broken module would go unnoticed. */
        noted = &p->entries[eval.soft_blame];
        finding = &fs->soft;
        fs->note_verdict = fs->soft_verdict;
        out->event = event_token(finding->event, fs->soft_verdict == TLSPIN_ERROR
                                                     ? "module-error" : "module-fail");
    } else if (fs->has_note) {
        noted = &p->entries[fs->note_entry];
        finding = &fs->note;
        out->event = event_token(finding->event, NULL);
        if (fs->note.report_only && out->action == ACTION_ALLOW)
            out->action = ACTION_ALLOW_REPORT_ONLY;
    }
    out->reason_code = reason_for(out->event);
    summarise(out, id, finding ? finding->rule : NULL, finding ? finding->event : NULL);
    if (waiting && out->action != ACTION_BLOCK) {
        out->pending = 1;
        free(fs);
        return;
    }
    /* A resumption check writes nothing: the handshake that made the session
     * was recorded, and a refused one is followed by a full handshake that
     * is. (curl asks again after SSL_shutdown: one connection, one record.) */
    if (out->event != NULL && !resumption)
        write_record(p, id, chain, blamed ? blamed : noted, blamed ? blamed_verdict
                     : fs->note_verdict, finding, out->event, out->action);
    free(fs);
}
