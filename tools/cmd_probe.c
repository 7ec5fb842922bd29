/* tlspin probe — connect to a host as a verifying client would, and decide
 * the handshake with the engine exactly as the shim does in a program: the
 * same policy_load, the modules' prepare() before the ClientHello, the same
 * peer_identify and chain_from_verification inside the certificate
 * verification, the same decide() (which also writes the same syslog record).
 * An observer shows each module's verdict on the way. Expiry of the chain is
 * part of the verdict: with pinning, an expired certificate is an outage.
 * Nagios exit codes, so it runs from cron or a monitoring system. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cert_report.h"
#include "chain.h"
#include "commands.h"
#include "config.h"
#include "decide.h"
#include "flight.h"
#include "expiry.h"
#include "json_out.h"
#include "module_load.h"
#include "peer.h"
#include "pin_text.h"
#include "policy.h"
#include "policy_path.h"
#include "stack.h"
#include "term.h"
#include "tls_connect.h"

enum nagios { N_OK = 0, N_WARNING = 1, N_CRITICAL = 2, N_UNKNOWN = 3 };

static const char usage_text[] =
    "usage: tlspin probe [OPTIONS] HOST[:PORT]\n"
    "       tlspin probe [OPTIONS] --all\n"
    "\n"
    "Connect to HOST (port 443 unless given) as a client that verifies against the\n"
    "system trust store (or --cafile), show the verified chain with its pins, run the\n"
    "policy's module stack on the connection exactly as the shim does inside a\n"
    "program (the same engine and the same decision), show each module's verdict\n"
    "and the final action, and the chain's expiry with warnings at 30, 14, 7 and 1\n"
    "days. Like the shim, a probe writes a syslog record (tagged tlspin) for every\n"
    "decision that is not a silent pass: a probe of a pinned host that does not\n"
    "match is logged as a refusal.\n"
    "\n"
    "  --sni NAME              server name to send and verify (default: HOST)\n"
    "  --connect ADDR[:PORT]   connect to ADDR, still sending HOST as the name\n"
    "  --config PATH           the policy (default: $TLSPIN_CONFIG, else\n"
    "                          /etc/tlspin/tlspin.conf)\n"
    "  --cafile FILE           verify against FILE, not the system trust store\n"
    "  --all                   probe every host the policy names (each module's\n"
    "                          hosts(); port 443 where a pinset names no port)\n"
    "  --json                  machine-readable output\n"
    "  --warn-days N           WARNING when the chain expires within N days (30)\n"
    "  --crit-days N           CRITICAL when it expires within N days (7)\n"
    "  --timeout SECONDS       connect and handshake timeout (default 10)\n"
    "  -h, --help              this text\n"
    "\n"
    "The first line of output is a Nagios status line (with days_left perfdata).\n"
    "Exit status:\n"
    "  0 OK        allowed silently, chain verified, more than 30 days left\n"
    "  1 WARNING   allowed with an event (report-only mismatch, expired pinset, a\n"
    "              failing module overruled, on_error = \"allow\"), or the chain\n"
    "              expires within 30 days\n"
    "  2 CRITICAL  the shim would block the connection, the chain does not verify,\n"
    "              or it expires within 7 days or has expired\n"
    "  3 UNKNOWN   bad arguments, cannot resolve or connect, handshake failed\n"
    "With --all: the worst over every host, CRITICAL before UNKNOWN before WARNING.\n";

struct probe_opts {
    const char *sni, *connect, *cafile;
    int json, all;
    int warn_days, crit_days, timeout_ms;
};

/* What the observer saw of one stack entry. */
struct entry_seen {
    int consulted;
    tlspin_verdict verdict;
    struct tlspin_finding finding;
};

struct probe {
    const struct policy *p;
    const struct probe_opts *o;
    struct tls_target target;
    char where[300];              /* host:port as asked */
    const char *name;             /* SNI / verified name */
    struct tls_session_result tls;
    int ran;                      /* the verification callback ran */
    int chain_failed;             /* no usable certificate: the shim refuses */
    struct peer_id id;
    struct kept_chain chain;
    struct decision d;
    int decided;
    struct entry_seen *seen;      /* p->n_entries of them */
    /* expiry: the certificate of the counted chain that ends first */
    int have_expiry;
    struct expiry exp;
    X509 *exp_cert;               /* borrowed from chain */
    const char *exp_position;
    /* verdict */
    enum nagios status;
    char headline[700];
    char problems[3][300];
    size_t n_problems;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "tlspin probe: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tlspin probe --help'.\n");
    return N_UNKNOWN;
}

static const char *nagios_name(enum nagios n)
{
    static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
    return (unsigned)n < 4 ? names[n] : "UNKNOWN";
}

static enum term_style nagios_style(enum nagios n)
{
    return n == N_OK ? TERM_GREEN : n == N_WARNING ? TERM_YELLOW : TERM_RED;
}

/* Worse first: CRITICAL, UNKNOWN, WARNING, OK. */
static int nagios_rank(enum nagios n)
{
    static const int rank[] = { 0, 1, 3, 2 };
    return (unsigned)n < 4 ? rank[n] : 2;
}

static enum nagios nagios_worst(enum nagios a, enum nagios b)
{
    return nagios_rank(a) >= nagios_rank(b) ? a : b;
}

static void problem(struct probe *pr, enum nagios level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct probe *pr, enum nagios level, const char *fmt, ...)
{
    va_list ap;

    pr->status = nagios_worst(pr->status, level);
    if (pr->n_problems >= sizeof(pr->problems) / sizeof(pr->problems[0]))
        return;
    va_start(ap, fmt);
    vsnprintf(pr->problems[pr->n_problems++], sizeof(pr->problems[0]), fmt, ap);
    va_end(ap);
}

/* Trouble ahead that a module deciding this host sees (its lint, as tlspin
 * check runs it): a CT log list or a signed pinset about to go stale turns
 * into refusals on its own, so a monitoring probe warns of it while the
 * host is still fine. What the decision itself already says (an expired
 * pinset: its event) is not repeated. */
static void on_lint_warning(void *ctx, tlspin_severity severity, const char *file, unsigned line,
                            const char *message)
{
    (void)file; (void)line;
    if (severity != TLSPIN_SEV_NOTE)
        problem(ctx, N_WARNING, "%s", message);
}

static void module_warnings(struct probe *pr)
{
    const struct policy *p = pr->p;

    if (pr->status != N_OK || p == NULL || p->config == NULL)
        return;
    for (size_t i = 0; i < p->n_entries; i++) {
        const struct policy_entry *e = &p->entries[i];
        if (e->fault == NULL && module_has_lint(e->module.desc))
            e->module.desc->lint(e->state, (int64_t)time(NULL), on_lint_warning, pr);
    }
}

/* ------------------------------------------------------------------ */
/* The decision, inside the handshake                                  */
/* ------------------------------------------------------------------ */

static void observe(void *ctx, const struct policy_entry *entry, tlspin_verdict verdict,
                    const struct tlspin_finding *finding)
{
    struct probe *pr = ctx;
    size_t i = (size_t)(entry - pr->p->entries);

    if (i >= pr->p->n_entries)
        return;
    pr->seen[i].consulted = 1;
    pr->seen[i].verdict = verdict;
    pr->seen[i].finding = *finding;
}

/* What the shim's SSL_connect hook does before the ClientHello. */
static void probe_before(void *arg, SSL *ssl)
{
    struct probe *pr = arg;
    const struct policy *p = pr->p;

    int ct_before = SSL_ct_is_enabled(ssl);

    if (!(p->caps & TLSPIN_CAP_PREPARE))
        return;
    for (size_t i = 0; i < p->n_entries; i++) {
        const struct policy_entry *e = &p->entries[i];
        if (e->fault == NULL && module_has_prepare(e->module.desc))
            e->module.desc->prepare(e->state, ssl);
    }
    if (!ct_before && SSL_ct_is_enabled(ssl))
        flight_arm(ssl);
}

/* What the shim's X509_verify_cert hook does once OpenSSL has verified. */
static void probe_verified(void *arg, SSL *ssl, X509_STORE_CTX *ctx, int ok)
{
    struct probe *pr = arg;
    struct chain chain;

    pr->ran = 1;
    peer_identify(ssl, &pr->id);
    if (chain_from_verification(ctx, ok, (pr->p->caps & TLSPIN_CAP_CERT_DER) != 0,
                                X509_verify_cert, &chain) != 0) {
        pr->chain_failed = 1;
        chain_release(&chain);
        return;
    }
    /* As the shim: a module may wait for a TLS 1.2 staple (probe_flight). */
    decide(pr->p, ssl, &pr->id, &chain,
           flight_can_wait(ssl, ctx, ok) ? DECIDE_MAY_WAIT : DECIDE_HANDSHAKE, &pr->d, observe,
           pr);
    pr->decided = 1;
    kept_chain_take(&pr->chain, &chain);
    chain_release(&chain);
}

/* A decision that waited for the staple, made again with it, as the shim
 * makes it after the server's first flight. */
static void probe_flight(void *arg, SSL *ssl)
{
    struct probe *pr = arg;
    const struct kept_chain *kc = &pr->chain;
    STACK_OF(X509) *sk;
    struct chain chain;

    if (!pr->decided || !pr->d.pending || (sk = sk_X509_new_null()) == NULL)
        return;
    for (size_t i = 0; i < kc->n_verified; i++)
        if (!X509_up_ref(kc->verified[i]) || !sk_X509_push(sk, kc->verified[i]))
            goto out;
    if (chain_from_stack(sk, kc->trust, (pr->p->caps & TLSPIN_CAP_CERT_DER) != 0, NULL, 0,
                         &chain) == 0) {
        memset(pr->seen, 0, pr->p->n_entries * sizeof(*pr->seen));
        decide(pr->p, ssl, &pr->id, &chain, DECIDE_SERVER_FLIGHT, &pr->d, observe, pr);
    } else {
        pr->chain_failed = 1;
    }
    chain_release(&chain);
out:
    sk_X509_pop_free(sk, X509_free);
}

/* ------------------------------------------------------------------ */
/* The verdict                                                         */
/* ------------------------------------------------------------------ */

static void find_expiry(struct probe *pr)
{
    const struct kept_chain *kc = &pr->chain;
    int64_t now = (int64_t)time(NULL);
    /* The verified chain as a whole when the client verified it; otherwise
     * only the leaf means anything. */
    size_t n = pr->tls.verify_ok ? kc->n_verified : (kc->n_verified > 0 ? 1 : 0);

    for (size_t i = 0; i < n; i++) {
        struct expiry x;
        if (expiry_of_cert(kc->verified[i], now, &x) != 0)
            continue;
        if (!pr->have_expiry || x.not_after < pr->exp.not_after) {
            pr->exp = x;
            pr->exp_cert = kc->verified[i];
            pr->exp_position = kept_chain_position(kc, i);
            pr->have_expiry = 1;
        }
    }
}

static void judge(struct probe *pr)
{
    const struct probe_opts *o = pr->o;
    char subject[300], how[128];

    pr->status = N_OK;
    if (!pr->ran) {
        problem(pr, N_UNKNOWN, "%s", pr->tls.error[0] ? pr->tls.error : "no certificate");
        snprintf(pr->headline, sizeof(pr->headline), "%s", pr->problems[0]);
        return;
    }
    if (pr->decided && pr->d.pending) {
        /* never decided with the staple: the shim would refuse */
        pr->d.action = ACTION_BLOCK;
        pr->d.pending = 0;
        pr->d.event = pr->tls.stage == TLS_STAGE_DONE ? "staple-never-came"
                                                      : "handshake-ended-before-flight";
    }
    if (pr->chain_failed) {
        problem(pr, N_CRITICAL, "no usable server certificate: the shim refuses the handshake");
    } else if (pr->d.action == ACTION_BLOCK) {
        problem(pr, N_CRITICAL, "BLOCKED by the policy (event %s)",
                pr->d.event ? pr->d.event : "-");
    } else if (pr->d.event != NULL) {
        problem(pr, N_WARNING, "%s (event %s)", action_name(pr->d.action), pr->d.event);
    }
    module_warnings(pr);
    if (!pr->tls.verify_ok)
        problem(pr, N_CRITICAL, "the chain does not verify: %s", pr->tls.verify_error);
    if (pr->tls.stage != TLS_STAGE_DONE)
        problem(pr, N_UNKNOWN, "%s", pr->tls.error);
    find_expiry(pr);
    if (pr->have_expiry) {
        pin_name_text(X509_get_subject_name(pr->exp_cert), subject, sizeof(subject));
        expiry_describe(&pr->exp, how, sizeof(how));
        if (pr->exp.expired || pr->exp.seconds_left <= (int64_t)o->crit_days * 86400)
            problem(pr, N_CRITICAL, "%s %s %s", pr->exp_position, subject, how);
        else if (pr->exp.seconds_left <= (int64_t)o->warn_days * 86400)
            problem(pr, N_WARNING, "%s %s %s", pr->exp_position, subject, how);
    }
    if (pr->decided && pr->d.action != ACTION_BLOCK && pr->d.event == NULL)
        snprintf(pr->headline, sizeof(pr->headline), "allowed");
    else
        pr->headline[0] = '\0';
    for (size_t i = 0, len = strlen(pr->headline);
         i < pr->n_problems && len + 1 < sizeof(pr->headline); i++) {
        int w = snprintf(pr->headline + len, sizeof(pr->headline) - len, "%s%s",
                         len ? "; " : "", pr->problems[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (pr->status == N_OK && pr->have_expiry) {
        size_t len = strlen(pr->headline);
        snprintf(pr->headline + len, sizeof(pr->headline) - len, "; the chain expires in %ld "
                 "day%s", pr->exp.days_left, pr->exp.days_left == 1 ? "" : "s");
    }
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static void status_line(FILE *out, const char *prefix, const struct probe *pr)
{
    fprintf(out, "%s%s%s%s - %s: %s", prefix, term_on(out, nagios_style(pr->status)),
            nagios_name(pr->status), term_off(out), pr->where, pr->headline);
    if (pr->have_expiry)
        fprintf(out, " | days_left=%ld;%d:;%d:", pr->exp.days_left, pr->o->warn_days,
                pr->o->crit_days);
    fputc('\n', out);
}

static const char *entry_module(const struct policy_entry *e)
{
    return e->module.desc ? e->module.desc->name : e->config->module;
}

static const char *dash(const char *s)
{
    return s && s[0] ? s : "-";
}

static void print_stack(FILE *out, const struct probe *pr)
{
    const struct policy *p = pr->p;
    size_t wm = strlen("module"), wc = strlen("control"), wv = strlen("verdict"),
           we = strlen("event"), wr = strlen("rule");
    char verdict[64];

    for (size_t i = 0; i < p->n_entries; i++) {
        const struct entry_seen *s = &pr->seen[i];
        size_t n;
        if ((n = strlen(entry_module(&p->entries[i]))) > wm) wm = n;
        if ((n = strlen(control_name(p->entries[i].config->control))) > wc) wc = n;
        if (!s->consulted)
            continue;
        snprintf(verdict, sizeof(verdict), "%s%s", verdict_name(s->verdict),
                 s->finding.report_only ? " (report-only)" : "");
        if ((n = strlen(verdict)) > wv) wv = n;
        if ((n = strlen(dash(s->finding.event))) > we) we = n;
        if ((n = strlen(dash(s->finding.rule))) > wr) wr = n;
    }
    fprintf(out, "stack       %s%-2s  %-*s  %-*s  %-*s  %-*s  %-*s  %s%s\n",
            term_on(out, TERM_DIM), "#", (int)wm, "module", (int)wc, "control", (int)wv,
            "verdict", (int)we, "event", (int)wr, "rule", "reason", term_off(out));
    for (size_t i = 0; i < p->n_entries; i++) {
        const struct entry_seen *s = &pr->seen[i];
        const struct policy_entry *e = &p->entries[i];
        enum term_style style = TERM_DIM;
        if (s->consulted) {
            snprintf(verdict, sizeof(verdict), "%s%s", verdict_name(s->verdict),
                     s->finding.report_only ? " (report-only)" : "");
            style = s->verdict == TLSPIN_PASS ? TERM_GREEN
                    : s->verdict == TLSPIN_IGNORE ? TERM_DIM
                    : s->finding.report_only ? TERM_YELLOW : TERM_RED;
        } else {
            snprintf(verdict, sizeof(verdict), "-");
        }
        fprintf(out, "            %-2zu  %-*s  %-*s  %s%-*s%s  %-*s  %-*s  %s\n", i + 1,
                (int)wm, entry_module(e), (int)wc, control_name(e->config->control),
                term_on(out, style), (int)wv, verdict, term_off(out), (int)we,
                s->consulted ? dash(s->finding.event) : "-", (int)wr,
                s->consulted ? dash(s->finding.rule) : "-",
                s->consulted ? dash(s->finding.reason)
                             : "not consulted: the stack was decided above");
        if (s->consulted && s->finding.expected[0] != '\0' &&
            (s->verdict == TLSPIN_FAIL || s->verdict == TLSPIN_ERROR))
            fprintf(out, "                expected: %s\n", s->finding.expected);
    }
}

static void print_chain_text(FILE *out, const struct probe *pr)
{
    const struct kept_chain *kc = &pr->chain;
    int64_t now = (int64_t)time(NULL);
    const char *store = pr->o->cafile ? pr->o->cafile : "the system trust store";

    if (pr->tls.verify_ok)
        fprintf(out, "chain       verified against %s; tlspin counts it as %s\n", store,
                chain_trust_name(kc->trust));
    else
        fprintf(out, "chain       %sNOT verified%s against %s (%s); tlspin counts it as %s\n",
                term_on(out, TERM_RED), term_off(out), store, pr->tls.verify_error,
                chain_trust_name(kc->trust));
    for (size_t i = 0; i < kc->n_verified; i++) {
        char pin[PIN_SPELL_MAX], subject[512], when[64], how[128];
        struct expiry x;
        pin_spell(kc->verified_pin[i], PIN_SPELL_TLSPIN, pin, sizeof(pin));
        pin_name_text(X509_get_subject_name(kc->verified[i]), subject, sizeof(subject));
        fprintf(out, "  %-12s  %s  %s%s\n", kept_chain_position(kc, i), pin, subject,
                kept_chain_presented(kc, kc->verified[i]) ? "" : "  (from the trust store)");
        if (expiry_of_cert(kc->verified[i], now, &x) == 0) {
            expiry_format_utc(x.not_after, when, sizeof(when));
            expiry_describe(&x, how, sizeof(how));
            fprintf(out, "  %-12s  not after %s, %s%s%s\n", "", when,
                    x.mark >= 0 ? term_on(out, x.expired || x.mark <= 7 ? TERM_RED : TERM_YELLOW)
                                : "", how, x.mark >= 0 ? term_off(out) : "");
        }
    }
    for (size_t i = 0; i < kc->n_presented; i++) {
        char pin[PIN_SPELL_MAX], subject[512];
        int counted = 0;
        for (size_t k = 0; k < kc->n_verified && !counted; k++)
            counted = X509_cmp(kc->verified[k], kc->presented[i]) == 0;
        if (counted)
            continue;
        pin_spell(kc->presented_pin[i], PIN_SPELL_TLSPIN, pin, sizeof(pin));
        pin_name_text(X509_get_subject_name(kc->presented[i]), subject, sizeof(subject));
        fprintf(out, "  %-12s  %s  %s  %s(sent, NOT in the verified chain: never counted)%s\n",
                "extra", pin, subject, term_on(out, TERM_YELLOW), term_off(out));
    }
}

static void print_policy_line(FILE *out, const struct policy *p, const char *path)
{
    const struct policy_config *c = p->config;
    const char *fault = policy_first_fault(p);

    if (c == NULL) {
        fprintf(out, "policy      %s: %sdoes not load%s: %s\n", path, term_on(out, TERM_RED),
                term_off(out), dash(p->fault));
        return;
    }
    fprintf(out, "policy      %s: mode %s, unpinned %s, on_error %s\n", path,
            c->mode == MODE_REPORT ? "report" : "enforce", c->unpinned_deny ? "deny" : "allow",
            c->on_error_allow ? "allow" : "deny");
    if (fault != NULL)
        fprintf(out, "            %sfault%s: %s\n", term_on(out, TERM_RED), term_off(out),
                fault);
}

static void print_text(const struct probe *pr, const char *path, int with_status)
{
    FILE *out = stdout;

    if (with_status)
        status_line(out, "TLSPIN ", pr);
    if (pr->tls.peer[0] != '\0')
        fprintf(out, "connection  %s%s%s%s%s\n", pr->tls.peer, pr->tls.protocol[0] ? ", " : "",
                pr->tls.protocol, pr->tls.cipher[0] ? ", " : "", pr->tls.cipher);
    if (!pr->ran) {
        print_policy_line(out, pr->p, path);
        return;
    }
    {
        static const char *const sources[] = { "unknown", "SNI", "the verified name",
                                               "the verified IP", "the peer address",
                                               "the session" };
        fprintf(out, "identity    host %s (from %s), port %s%u, peer %s\n",
                dash(pr->id.host), sources[(unsigned)pr->id.source < 6 ? pr->id.source : 0],
                pr->id.port ? "" : "unknown ", pr->id.port, dash(pr->id.peer));
    }
    print_chain_text(out, pr);
    print_policy_line(out, pr->p, path);
    if (pr->p->config != NULL && pr->p->fault == NULL)
        print_stack(out, pr);
    if (pr->chain_failed)
        fprintf(out, "decision    %sblocked%s: no usable server certificate\n",
                term_on(out, TERM_RED), term_off(out));
    else if (pr->decided)
        fprintf(out, "decision    %s%s%s: %s\n",
                term_on(out, pr->d.action == ACTION_BLOCK ? TERM_RED
                             : pr->d.event ? TERM_YELLOW : TERM_GREEN),
                action_name(pr->d.action), term_off(out), pr->d.summary);
    if (pr->have_expiry) {
        char subject[300], when[64], how[128];
        pin_name_text(X509_get_subject_name(pr->exp_cert), subject, sizeof(subject));
        expiry_format_utc(pr->exp.not_after, when, sizeof(when));
        expiry_describe(&pr->exp, how, sizeof(how));
        fprintf(out, "expiry      %s %s ends first: %s, %s\n", pr->exp_position, subject, when,
                how);
    }
}

static void print_json(struct json *j, const struct probe *pr, const char *path)
{
    const struct policy *p = pr->p;
    int64_t now = (int64_t)time(NULL);
    static const char *const sources[] = { "unknown", "sni", "verify-name", "verify-ip",
                                           "peer-address", "session" };

    json_object_open(j, NULL);
    json_str(j, "target", pr->where);
    json_str(j, "host", pr->target.host);
    json_int(j, "port", pr->target.port);
    json_str(j, "sni", pr->name);
    json_str(j, "status", nagios_name(pr->status));
    json_int(j, "exit", pr->status);
    json_str(j, "summary", pr->headline);
    json_str(j, "peer", pr->tls.peer[0] ? pr->tls.peer : NULL);
    json_str(j, "protocol", pr->tls.protocol[0] ? pr->tls.protocol : NULL);
    json_str(j, "cipher", pr->tls.cipher[0] ? pr->tls.cipher : NULL);
    json_str(j, "error", pr->tls.stage == TLS_STAGE_DONE ? NULL : pr->tls.error);
    json_bool(j, "verified", pr->tls.verify_ok);
    json_str(j, "verify_error", pr->ran && !pr->tls.verify_ok ? pr->tls.verify_error : NULL);
    json_str(j, "trust_store", pr->o->cafile ? pr->o->cafile : "system");
    if (pr->ran) {
        json_object_open(j, "identity");
        json_str(j, "host", pr->id.host[0] ? pr->id.host : NULL);
        json_str(j, "source", sources[(unsigned)pr->id.source < 6 ? pr->id.source : 0]);
        json_int(j, "port", pr->id.port);
        json_str(j, "peer", pr->id.peer[0] ? pr->id.peer : NULL);
        json_object_close(j);
        json_str(j, "trust", chain_trust_name(pr->chain.trust));
    }
    json_array_open(j, "chain");
    for (size_t i = 0; i < pr->chain.n_verified; i++) {
        struct cert_entry e = { pr->chain.verified[i], pr->chain.verified_pin[i], "certificate",
                                kept_chain_position(&pr->chain, i),
                                kept_chain_presented(&pr->chain, pr->chain.verified[i])
                                    ? ORIGIN_SERVER : ORIGIN_TRUST_STORE, NULL, NULL };
        cert_report_json(j, NULL, &e, PIN_SPELL_TLSPIN, now);
    }
    for (size_t i = 0; i < pr->chain.n_presented; i++) {
        int counted = 0;
        for (size_t k = 0; k < pr->chain.n_verified && !counted; k++)
            counted = X509_cmp(pr->chain.verified[k], pr->chain.presented[i]) == 0;
        if (counted)
            continue;
        struct cert_entry e = { pr->chain.presented[i], pr->chain.presented_pin[i],
                                "certificate", pin_cert_role(pr->chain.presented[i]),
                                ORIGIN_PRESENTED_ONLY, NULL, NULL };
        cert_report_json(j, NULL, &e, PIN_SPELL_TLSPIN, now);
    }
    json_array_close(j);
    json_object_open(j, "policy");
    json_str(j, "path", path);
    json_bool(j, "loads", !policy_has_fault(p));
    json_str(j, "fault", policy_first_fault(p));
    if (p->config != NULL) {
        json_str(j, "mode", p->config->mode == MODE_REPORT ? "report" : "enforce");
        json_str(j, "unpinned", p->config->unpinned_deny ? "deny" : "allow");
        json_str(j, "on_error", p->config->on_error_allow ? "allow" : "deny");
    }
    json_object_close(j);
    json_array_open(j, "stack");
    for (size_t i = 0; pr->ran && p->config != NULL && p->fault == NULL && i < p->n_entries;
         i++) {
        const struct entry_seen *s = &pr->seen[i];
        json_object_open(j, NULL);
        json_int(j, "index", (long long)i + 1);
        json_str(j, "module", entry_module(&p->entries[i]));
        json_str(j, "control", control_name(p->entries[i].config->control));
        json_bool(j, "consulted", s->consulted);
        json_str(j, "verdict", s->consulted ? verdict_name(s->verdict) : NULL);
        json_bool(j, "report_only", s->consulted && s->finding.report_only);
        json_str(j, "event", s->consulted && s->finding.event[0] ? s->finding.event : NULL);
        json_str(j, "rule", s->consulted && s->finding.rule[0] ? s->finding.rule : NULL);
        json_str(j, "reason", s->consulted && s->finding.reason[0] ? s->finding.reason : NULL);
        json_str(j, "expected",
                 s->consulted && s->finding.expected[0] ? s->finding.expected : NULL);
        json_object_close(j);
    }
    json_array_close(j);
    if (pr->decided || pr->chain_failed) {
        json_object_open(j, "decision");
        json_str(j, "action", pr->chain_failed ? "blocked" : action_name(pr->d.action));
        json_str(j, "event", pr->chain_failed ? NULL : pr->d.event);
        json_str(j, "summary", pr->chain_failed ? "no usable server certificate"
                                                : pr->d.summary);
        json_object_close(j);
    } else {
        json_null(j, "decision");
    }
    if (pr->have_expiry) {
        char subject[512], when[64];
        json_object_open(j, "expiry");
        pin_name_text(X509_get_subject_name(pr->exp_cert), subject, sizeof(subject));
        json_str(j, "position", pr->exp_position);
        json_str(j, "subject", subject);
        expiry_format_iso(pr->exp.not_after, when, sizeof(when));
        json_str(j, "not_after", when);
        json_int(j, "days_left", pr->exp.days_left);
        json_bool(j, "expired", pr->exp.expired);
        if (pr->exp.mark >= 0)
            json_int(j, "mark", pr->exp.mark);
        else
            json_null(j, "mark");
        json_object_close(j);
    } else {
        json_null(j, "expiry");
    }
    json_object_close(j);
}

/* ------------------------------------------------------------------ */
/* One probe                                                           */
/* ------------------------------------------------------------------ */

static void probe_run(struct probe *pr, const struct policy *p, const struct probe_opts *o,
                      const char *host, unsigned port)
{
    struct tls_target dial;
    struct tls_session_opts so;
    char err[512];

    memset(pr, 0, sizeof(*pr));
    pr->p = p;
    pr->o = o;
    snprintf(pr->target.host, sizeof(pr->target.host), "%s", host);
    pr->target.port = port;
    tls_target_text(host, port, pr->where, sizeof(pr->where));
    pr->name = o->sni ? o->sni : host;
    pr->seen = calloc(p->n_entries + 1, sizeof(*pr->seen));
    if (pr->seen == NULL) {
        snprintf(pr->tls.error, sizeof(pr->tls.error), "out of memory");
        judge(pr);
        return;
    }
    dial = pr->target;
    if (o->connect != NULL && tls_target_parse(o->connect, port, &dial, err, sizeof(err)) != 0) {
        snprintf(pr->tls.error, sizeof(pr->tls.error), "--connect %.480s", err);
        judge(pr);
        return;
    }
    memset(&so, 0, sizeof(so));
    so.name = pr->name;
    so.dial = dial.host;
    so.port = dial.port;
    so.cafile = o->cafile;
    so.timeout_ms = o->timeout_ms;
    so.before = probe_before;
    so.verified = probe_verified;
    so.handshaken = probe_flight;
    so.arg = pr;
    tls_session_run(&so, &pr->tls);
    judge(pr);
}

static void probe_free(struct probe *pr)
{
    kept_chain_free(&pr->chain);
    free(pr->seen);
    pr->seen = NULL;
}

/* ------------------------------------------------------------------ */
/* --all                                                               */
/* ------------------------------------------------------------------ */

struct host_list {
    struct { char host[TLSPIN_HOST_TEXT_MAX]; unsigned port; } *items;
    size_t n;
};

static void collect_host(void *ctx, const char *host, unsigned port)
{
    struct host_list *l = ctx;
    void *more;

    if (host == NULL || host[0] == '\0' || strlen(host) >= TLSPIN_HOST_TEXT_MAX ||
        strchr(host, '*') != NULL)
        return;
    if (port == 0)
        port = 443;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].port == port && strcmp(l->items[i].host, host) == 0)
            return;
    if (l->n >= 4096 || (more = realloc(l->items, (l->n + 1) * sizeof(*l->items))) == NULL)
        return;
    l->items = more;
    snprintf(l->items[l->n].host, TLSPIN_HOST_TEXT_MAX, "%s", host);
    l->items[l->n].port = port;
    l->n++;
}

static int probe_all(const struct policy *p, const struct probe_opts *o, const char *path)
{
    struct host_list hosts = { NULL, 0 };
    struct probe *prs;
    enum nagios worst = N_OK;
    size_t count[4] = { 0, 0, 0, 0 };
    char why[PATH_MAX + 2048] = "";
    struct json j;

    for (size_t i = 0; p->config != NULL && i < p->n_entries; i++) {
        const struct policy_entry *e = &p->entries[i];
        if (e->fault == NULL && module_has_hosts(e->module.desc))
            e->module.desc->hosts(e->state, collect_host, &hosts);
    }
    if (hosts.n == 0) {
        /* Nothing to connect to: say why, as the one line a monitor shows. */
        enum nagios st = N_UNKNOWN;
        if (p->config == NULL || p->fault != NULL) {
            st = N_CRITICAL;
            snprintf(why, sizeof(why), "the policy %s does not load (%s): every handshake is "
                     "refused", path, dash(p->fault));
        } else if (policy_has_fault(p)) {
            st = N_CRITICAL;
            snprintf(why, sizeof(why), "no host to probe, and the policy has a fault: %s",
                     policy_first_fault(p));
        } else {
            snprintf(why, sizeof(why), "the policy %s names no host to probe (wildcard "
                     "patterns cannot be probed)", path);
        }
        if (o->json) {
            json_begin(&j, stdout);
            json_object_open(&j, NULL);
            json_str(&j, "status", nagios_name(st));
            json_int(&j, "exit", st);
            json_str(&j, "summary", why);
            json_array_open(&j, "hosts");
            json_array_close(&j);
            json_object_close(&j);
            json_end(&j);
        } else {
            printf("TLSPIN %s%s%s - %s\n", term_on(stdout, nagios_style(st)), nagios_name(st),
                   term_off(stdout), why);
        }
        return st;
    }
    if ((prs = calloc(hosts.n, sizeof(*prs))) == NULL) {
        free(hosts.items);
        printf("TLSPIN UNKNOWN - out of memory\n");
        return N_UNKNOWN;
    }
    for (size_t i = 0; i < hosts.n; i++) {
        probe_run(&prs[i], p, o, hosts.items[i].host, hosts.items[i].port);
        worst = nagios_worst(worst, prs[i].status);
        count[prs[i].status]++;
    }
    snprintf(why, sizeof(why), "%zu host%s: %zu critical, %zu unknown, %zu warning, %zu ok",
             hosts.n, hosts.n == 1 ? "" : "s", count[N_CRITICAL], count[N_UNKNOWN],
             count[N_WARNING], count[N_OK]);
    if (o->json) {
        json_begin(&j, stdout);
        json_object_open(&j, NULL);
        json_str(&j, "status", nagios_name(worst));
        json_int(&j, "exit", worst);
        json_str(&j, "summary", why);
        json_array_open(&j, "hosts");
        for (size_t i = 0; i < hosts.n; i++)
            print_json(&j, &prs[i], path);
        json_array_close(&j);
        json_object_close(&j);
        json_end(&j);
    } else {
        printf("TLSPIN %s%s%s - %s\n", term_on(stdout, nagios_style(worst)),
               nagios_name(worst), term_off(stdout), why);
        for (size_t i = 0; i < hosts.n; i++) {
            putchar('\n');
            status_line(stdout, "", &prs[i]);
            print_text(&prs[i], path, 0);
        }
    }
    for (size_t i = 0; i < hosts.n; i++)
        probe_free(&prs[i]);
    free(prs);
    free(hosts.items);
    return worst;
}

static int parse_days(const char *arg, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end != '\0' || v < 0 || v > 3650)
        return -1;
    *out = (int)v;
    return 0;
}

int cmd_probe(int argc, char **argv)
{
    enum { OPT_SNI = 256, OPT_CONNECT, OPT_CONFIG, OPT_CAFILE, OPT_ALL, OPT_JSON, OPT_WARN,
           OPT_CRIT, OPT_TIMEOUT };
    static const struct option longopts[] = {
        { "sni", required_argument, NULL, OPT_SNI },
        { "connect", required_argument, NULL, OPT_CONNECT },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "cafile", required_argument, NULL, OPT_CAFILE },
        { "all", no_argument, NULL, OPT_ALL },
        { "json", no_argument, NULL, OPT_JSON },
        { "warn-days", required_argument, NULL, OPT_WARN },
        { "crit-days", required_argument, NULL, OPT_CRIT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct probe_opts o;
    const char *config = NULL;
    char path[PATH_MAX], err[600];
    struct policy *p;
    int opt, rc;

    memset(&o, 0, sizeof(o));
    o.warn_days = 30;
    o.crit_days = 7;
    o.timeout_ms = 10000;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_SNI: o.sni = optarg; break;
        case OPT_CONNECT: o.connect = optarg; break;
        case OPT_CONFIG: config = optarg; break;
        case OPT_CAFILE: o.cafile = optarg; break;
        case OPT_ALL: o.all = 1; break;
        case OPT_JSON: o.json = 1; break;
        case OPT_WARN:
            if (parse_days(optarg, &o.warn_days) != 0)
                return usage_error("--warn-days takes a number of days, not \"%s\"", optarg);
            break;
        case OPT_CRIT:
            if (parse_days(optarg, &o.crit_days) != 0)
                return usage_error("--crit-days takes a number of days, not \"%s\"", optarg);
            break;
        case OPT_TIMEOUT: {
            int s;
            if (parse_days(optarg, &s) != 0 || s < 1 || s > 3600)
                return usage_error("--timeout takes seconds from 1 to 3600, not \"%s\"", optarg);
            o.timeout_ms = s * 1000;
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return usage_error("unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (o.all && optind < argc)
        return usage_error("--all probes the policy's hosts: give no HOST");
    if (o.all && (o.sni || o.connect))
        return usage_error("--sni and --connect are for a single HOST, not --all");
    if (!o.all && optind >= argc)
        return usage_error("name a HOST[:PORT] to probe, or --all");
    if (!o.all && argc - optind > 1)
        return usage_error("one HOST at a time (or --all)");
    if (o.crit_days > o.warn_days)
        return usage_error("--crit-days (%d) must not exceed --warn-days (%d)", o.crit_days,
                           o.warn_days);
    if (o.cafile != NULL && access(o.cafile, R_OK) != 0)
        return usage_error("--cafile %s: %s", o.cafile, strerror(errno));
    if (policy_path_resolve(config, path, sizeof(path), err, sizeof(err)) != 0)
        return usage_error("%s", err);

    p = policy_load(path, policy_moduledir());
    if (p == NULL) {
        printf("TLSPIN UNKNOWN - out of memory\n");
        return N_UNKNOWN;
    }
    if (o.all) {
        rc = probe_all(p, &o, path);
    } else {
        struct tls_target target;
        struct probe pr;
        if (tls_target_parse(argv[optind], 443, &target, err, sizeof(err)) != 0) {
            policy_free(p);
            return usage_error("%s", err);
        }
        probe_run(&pr, p, &o, target.host, target.port);
        if (o.json) {
            struct json j;
            json_begin(&j, stdout);
            print_json(&j, &pr, path);
            json_end(&j);
        } else {
            print_text(&pr, path, 1);
        }
        rc = pr.status;
        probe_free(&pr);
    }
    policy_free(p);
    return rc;
}
