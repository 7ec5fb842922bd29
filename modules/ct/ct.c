/* The ct module: refuse certificates that were never publicly logged.
 *
 * prepare() makes libssl ask for SCTs and a stapled OCSP response; check()
 * gathers the SCTs of all three channels (embedded in the leaf, the TLS
 * extension, the stapled OCSP response), verifies each signature itself
 * against the administrator's log list (verify.c), and applies the policy
 * (policy.c). OpenSSL's own CT check is never relied on: libssl skips it for
 * failed or one-certificate chains, DANE and resumed sessions, and does not
 * abort with SSL_VERIFY_NONE. */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <tlspin/module.h>

#include "ct.h"
#include "der.h"

#ifndef TLSPIN_VERSION
#define TLSPIN_VERSION "0"
#endif

#define HOST_SIZE_NEEDED \
    (offsetof(struct tlspin_host, host_match) + sizeof(((struct tlspin_host *)0)->host_match))

/* tlspin's second decision after a TLS 1.2 server flight (ABI 1.1), or NULL.
 * Kept here, not in a state: the callback may outlive the state. */
static int (*engine_server_flight)(void *ssl);

struct ct_state {
    const struct tlspin_host *host;
    struct ct_loglist list;
    struct ct_policy policy;
    char **hosts;               /* normalized patterns; NULL/0: every host */
    size_t n_hosts;
    unsigned char (*private_roots)[TLSPIN_PIN_LEN];
    size_t n_private_roots;
    int64_t max_age;            /* seconds; 0: no limit */
    int stale_fail;             /* 1: a stale list fails closed */
    struct ct_cache cache;
};

static void errf(char *err, size_t errlen, const struct tlspin_arg *a, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void errf(char *err, size_t errlen, const struct tlspin_arg *a, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (a != NULL && a->file != NULL)
        snprintf(err, errlen, "%s:%u: %s", a->file, a->line, msg);
    else
        snprintf(err, errlen, "%s", msg);
}

static int one_value(const struct tlspin_arg *a, char *err, size_t errlen)
{
    if (a->n_values != 1 || a->values == NULL || a->values[0] == NULL || !a->values[0][0]) {
        errf(err, errlen, a, "\"%s\" of module ct takes one value", a->key);
        return -1;
    }
    return 0;
}

static int uint_value(const struct tlspin_arg *a, unsigned max, unsigned *out, char *err,
                      size_t errlen)
{
    char *end;
    unsigned long v;
    if (one_value(a, err, errlen) != 0)
        return -1;
    v = strtoul(a->values[0], &end, 10);
    if (*end || a->values[0][0] == '-' || v > max) {
        errf(err, errlen, a, "\"%s\" of module ct is a whole number 0..%u", a->key, max);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static void state_free(struct ct_state *st)
{
    if (st == NULL)
        return;
    ct_loglist_free(&st->list);
    for (size_t i = 0; i < st->n_hosts; i++)
        free(st->hosts[i]);
    free(st->hosts);
    free(st->private_roots);
    ct_cache_destroy(&st->cache);
    free(st);
}

static const struct tlspin_arg *find_arg(const struct tlspin_args *args, const char *key)
{
    for (size_t i = 0; args && i < args->n_items; i++)
        if (args->items[i].key && strcmp(args->items[i].key, key) == 0)
            return &args->items[i];
    return NULL;
}

static int ct_open(const struct tlspin_host *host, const struct tlspin_args *args, void **state,
                   char *err, size_t errlen)
{
    static const char *const known[] = {"log_list", "policy", "min_scts", "min_operators",
                                        "hosts", "max_list_age_days", "stale_list",
                                        "private_roots"};
    const struct tlspin_arg *a;
    struct ct_state *st;
    unsigned days = 70;
    int have_min = 0;

    *state = NULL;
    if (host == NULL || host->struct_size < HOST_SIZE_NEEDED ||
        host->abi_major != TLSPIN_ABI_MAJOR || !host->log || !host->pin_parse ||
        !host->host_normalize || !host->host_match) {
        errf(err, errlen, NULL, "module ct: tlspin's host services are missing or of another ABI");
        return -1;
    }
    if (host->struct_size >= offsetof(struct tlspin_host, server_flight) +
                                 sizeof(host->server_flight) && host->server_flight != NULL)
        __atomic_store_n(&engine_server_flight, host->server_flight, __ATOMIC_RELEASE);
    for (size_t i = 0; args && i < args->n_items; i++) {
        size_t k;
        a = &args->items[i];
        for (k = 0; k < sizeof known / sizeof *known; k++)
            if (a->key && strcmp(a->key, known[k]) == 0)
                break;
        if (k == sizeof known / sizeof *known) {
            errf(err, errlen, a, "unknown key \"%s\" in args of module ct (known: log_list, "
                 "policy, min_scts, min_operators, hosts, max_list_age_days, stale_list, "
                 "private_roots)", a->key ? a->key : "");
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(args->items[j].key, a->key) == 0) {
                errf(err, errlen, a, "\"%s\" given twice in args of module ct", a->key);
                return -1;
            }
    }
    st = calloc(1, sizeof *st);
    if (st == NULL) {
        errf(err, errlen, NULL, "module ct: out of memory");
        return -1;
    }
    ct_cache_init(&st->cache);
    st->host = host;
    st->policy.kind = POLICY_CHROME;
    st->policy.min_scts = 2;
    st->policy.min_operators = 2;
    st->stale_fail = 1;

    if ((a = find_arg(args, "policy")) != NULL) {
        if (one_value(a, err, errlen) != 0)
            goto fail;
        if (strcmp(a->values[0], "chrome") == 0)
            st->policy.kind = POLICY_CHROME;
        else if (strcmp(a->values[0], "apple") == 0)
            st->policy.kind = POLICY_APPLE;
        else if (strcmp(a->values[0], "min") == 0)
            st->policy.kind = POLICY_MIN;
        else {
            errf(err, errlen, a, "policy of module ct is \"chrome\", \"apple\" or \"min\"");
            goto fail;
        }
    }
    if ((a = find_arg(args, "min_scts")) != NULL) {
        if (uint_value(a, 16, &st->policy.min_scts, err, errlen) != 0)
            goto fail;
        have_min = 1;
    }
    if ((a = find_arg(args, "min_operators")) != NULL) {
        if (uint_value(a, 16, &st->policy.min_operators, err, errlen) != 0)
            goto fail;
        have_min = 1;
    }
    if (have_min) {
        const struct tlspin_arg *p = find_arg(args, "policy");
        if (p != NULL && st->policy.kind != POLICY_MIN) {
            errf(err, errlen, p, "min_scts/min_operators go with policy = \"min\" (or no policy)");
            goto fail;
        }
        st->policy.kind = POLICY_MIN;
        if (st->policy.min_scts == 0 || st->policy.min_operators > st->policy.min_scts) {
            errf(err, errlen, find_arg(args, "min_scts"),
                 "min_scts must be >= 1 and >= min_operators");
            goto fail;
        }
    }
    if ((a = find_arg(args, "max_list_age_days")) != NULL &&
        uint_value(a, 3650, &days, err, errlen) != 0)
        goto fail;
    st->max_age = (int64_t)days * 86400;
    if ((a = find_arg(args, "stale_list")) != NULL) {
        if (one_value(a, err, errlen) != 0)
            goto fail;
        if (strcmp(a->values[0], "fail") == 0)
            st->stale_fail = 1;
        else if (strcmp(a->values[0], "ignore") == 0)
            st->stale_fail = 0;
        else {
            errf(err, errlen, a, "stale_list of module ct is \"fail\" or \"ignore\"");
            goto fail;
        }
    }
    if ((a = find_arg(args, "hosts")) != NULL) {
        if (a->n_values == 0) {
            errf(err, errlen, a, "hosts of module ct is a non-empty list of host patterns");
            goto fail;
        }
        st->hosts = calloc(a->n_values, sizeof *st->hosts);
        if (st->hosts == NULL)
            goto oom;
        for (size_t i = 0; i < a->n_values; i++) {
            char out[TLSPIN_HOST_TEXT_MAX], e[200];
            if (host->host_normalize(a->values[i], out, sizeof out, e, sizeof e) != 0) {
                errf(err, errlen, a, "hosts of module ct: \"%s\": %s", a->values[i], e);
                goto fail;
            }
            if ((st->hosts[st->n_hosts++] = strdup(out)) == NULL)
                goto oom;
        }
    }
    if ((a = find_arg(args, "private_roots")) != NULL && a->n_values > 0) {
        st->private_roots = calloc(a->n_values, sizeof *st->private_roots);
        if (st->private_roots == NULL)
            goto oom;
        for (size_t i = 0; i < a->n_values; i++) {
            char e[200];
            if (host->pin_parse(a->values[i], st->private_roots[i], e, sizeof e) != 0) {
                errf(err, errlen, a, "private_roots of module ct: \"%s\": %s", a->values[i], e);
                goto fail;
            }
            st->n_private_roots++;
        }
    }
    if ((a = find_arg(args, "log_list")) == NULL) {
        errf(err, errlen, NULL, "module ct needs args = { log_list = \"<v3 JSON or "
             "ct_log_list.cnf>\"; }");
        goto fail;
    }
    if (one_value(a, err, errlen) != 0)
        goto fail;
    if (ct_loglist_load(&st->list, a->values[0], err, errlen) != 0)
        goto fail;
    ERR_clear_error();
    *state = st;
    return 0;
oom:
    errf(err, errlen, NULL, "module ct: out of memory");
fail:
    ERR_clear_error();
    state_free(st);
    return -1;
}

static void ct_close(void *state)
{
    state_free(state);
}

/* Installing any CT callback makes libssl send the SCT extension and an OCSP
 * status request. libssl calls it after the server's first flight (TLS 1.2:
 * after the staple): the verdict held for the staple is made then, by tlspin,
 * which calls check() again. arg is the SSL. */
static int gather_cb(const CT_POLICY_EVAL_CTX *ctx, const STACK_OF(SCT) *scts, void *arg)
{
    (void)ctx;
    (void)scts;
    int (*flight)(void *) = __atomic_load_n(&engine_server_flight, __ATOMIC_ACQUIRE);
    return flight != NULL ? flight(arg) : 1;
}

/* SSLs whose CT callback is ours carry this ex_data mark. */
static int mark_index = -1;
static pthread_once_t mark_once = PTHREAD_ONCE_INIT;
static char mark_value;

/* SSL_dup copies ex_data pointers but not the CT callback: no mark. */
static int mark_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                    long argl, void *argp)
{
    (void)to; (void)from; (void)idx; (void)argl; (void)argp;
    *from_d = NULL;
    return 1;
}

static void make_mark_index(void)
{
    mark_index = SSL_get_ex_new_index(0, NULL, NULL, mark_dup, NULL);
}

static int ct_prepare(void *state, void *ssl)
{
    int r = 0;
    (void)state;
    if (ssl == NULL)
        return -1;
    pthread_once(&mark_once, make_mark_index);
    ERR_set_mark();
    /* A program that enabled CT itself already asks; its callback stays. */
    if (!SSL_ct_is_enabled(ssl)) {
        if (SSL_set_ct_validation_callback(ssl, gather_cb, ssl) != 1)
            r = -1;
        else if (mark_index >= 0)
            SSL_set_ex_data(ssl, mark_index, &mark_value);
    }
    ERR_pop_to_mark();
    return r;
}

/* May check() read the TLS/OCSP SCTs through SSL_get0_peer_scts()? libssl
 * parses them once and keeps the list; during certificate verification the
 * peer certificate is not yet in the session, so the kept list would lack
 * the embedded SCTs (and, in TLS 1.2, the OCSP ones). Harmless when the CT
 * callback is ours; a program's own CT check must not be robbed of them, so
 * then only the embedded SCTs (read from the DER) count. */
static int may_read_peer_scts(SSL *ssl)
{
    if (!SSL_ct_is_enabled(ssl) || SSL_get0_peer_certificate(ssl) != NULL)
        return 1;
    pthread_once(&mark_once, make_mark_index);
    return mark_index >= 0 && SSL_get_ex_data(ssl, mark_index) == &mark_value;
}

static int host_in_scope(const struct ct_state *st, const char *host)
{
    if (st->n_hosts == 0)
        return 1;
    if (host == NULL)
        return 0;
    for (size_t i = 0; i < st->n_hosts; i++)
        if (st->host->host_match(st->hosts[i], host))
            return 1;
    return 0;
}

static void set_finding(struct tlspin_finding *f, const char *event, const char *rule,
                        const char *expected, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void set_finding(struct tlspin_finding *f, const char *event, const char *rule,
                        const char *expected, const char *fmt, ...)
{
    va_list ap;
    /* Written only into a finding as large as the one this module knows. */
    if (f == NULL || f->struct_size < sizeof(struct tlspin_finding))
        return;
    if (event)
        snprintf(f->event, sizeof f->event, "%s", event);
    if (rule)
        snprintf(f->rule, sizeof f->rule, "%s", rule);
    if (expected)
        snprintf(f->expected, sizeof f->expected, "%s", expected);
    va_start(ap, fmt);
    vsnprintf(f->reason, sizeof f->reason, fmt, ap);
    va_end(ap);
}

struct gathered {
    struct sct_result r[32];
    size_t n;
};

/* Where a list of SCTs came from: the leaf's DER, the staple, or libssl's
 * list (SSL_get0_peer_scts), of which only the TLS-extension ones are taken
 * when the staple is read directly (libssl parses its list once per SSL:
 * read during a TLS 1.2 verification it never gets the staple's, and it
 * survives SSL_clear). */
enum sct_from { FROM_LEAF, FROM_STAPLE, FROM_SSL, FROM_SSL_TLS_ONLY };

static void verify_stack(struct ct_state *st, struct ct_leaf *leaf,
                         const STACK_OF(SCT) *scts, enum sct_from from, int64_t now,
                         struct gathered *g)
{
    for (int i = 0; i < sk_SCT_num(scts) && g->n < 32; i++) {
        SCT *s = sk_SCT_value(scts, i);
        unsigned char *raw = NULL;
        int len;
        enum sct_channel ch = from == FROM_STAPLE ? CH_OCSP : CH_EMBEDDED;
        if (from == FROM_SSL || from == FROM_SSL_TLS_ONLY) {
            sct_source_t src = SCT_get_source(s);
            if (src == SCT_SOURCE_TLS_EXTENSION)
                ch = CH_TLS;
            else if (src == SCT_SOURCE_OCSP_STAPLED_RESPONSE && from == FROM_SSL)
                ch = CH_OCSP;
            else
                continue; /* embedded ones come from the leaf's DER */
        }
        len = i2o_SCT(s, &raw);
        if (len <= 0) {
            g->r[g->n].channel = ch;
            g->r[g->n++].status = SCT_UNSUPPORTED;
            continue;
        }
        ct_verify_sct(&st->list, &st->cache, leaf, raw, (size_t)len, ch, now, &g->r[g->n++]);
        OPENSSL_free(raw);
    }
}

/* The SCT list extension of one SingleResponse's singleExtensions
 * ([1] EXPLICIT Extensions), verified into g. SingleResponse ::= SEQUENCE
 * { certID, certStatus, thisUpdate, nextUpdate [0] OPTIONAL,
 * singleExtensions [1] OPTIONAL }: certStatus may itself be a [1] (revoked),
 * so the search starts after it. */
static void single_scts(struct ct_state *st, struct ct_leaf *leaf, const unsigned char *p,
                        const unsigned char *end, int64_t now, struct gathered *g)
{
    const unsigned char *c, *found = NULL, *q;
    long clen, found_len = 0;
    int n = 0, t, k;

    for (int skip = 0; skip < 2; skip++) {   /* certID, certStatus */
        if (der_elem(p, end, &t, &k, &c, &clen) != 0)
            return;
        p = c + clen;
    }
    if (der_find(p, end, 1, V_ASN1_CONTEXT_SPECIFIC, &c, &clen) != 0 ||
        der_find(c, c + clen, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &c, &clen) != 0)
        return;
    for (p = c, end = c + clen; p < end;) {   /* each Extension */
        const unsigned char *e, *f;
        long elen, flen;

        if (der_elem(p, end, &t, &k, &e, &elen) != 0 || t != V_ASN1_SEQUENCE)
            return;
        p = e + elen;
        if (der_elem(e, e + elen, &t, &k, &f, &flen) != 0 || t != V_ASN1_OBJECT ||
            !der_oid_is(f, flen, NID_ct_cert_scts))
            continue;
        /* extnValue: the OCTET STRING after the optional critical flag */
        if (der_find(f + flen, e + elen, V_ASN1_OCTET_STRING, V_ASN1_UNIVERSAL, &found,
                     &found_len) != 0)
            return;
        n++;
    }
    /* As OCSP_SINGLERESP_get1_ext_d2i: a repeated extension is none. */
    if (n == 1) {
        STACK_OF(SCT) *scts;
        q = found;
        if ((scts = d2i_SCT_LIST(NULL, &q, found_len)) != NULL) {
            verify_stack(st, leaf, scts, FROM_STAPLE, now, g);
            SCT_LIST_free(scts);
        }
    }
}

/* The SCTs of a stapled OCSP response: in the singleExtensions of its
 * responses (RFC 6962, 3.3; RFC 6960, 4.2.1). A response for another
 * certificate only brings SCTs whose signatures fail. The DER is walked by
 * hand down to those extensions: OpenSSL's template decoder takes the
 * BasicOCSPResponse (the responder's certificate and key, names,
 * extensions) 4.5-5.7 KB deep on the program's stack (issue 13, point 5).
 * Only what leads to the SCTs is read; anything malformed brings none. */
static void staple_scts(struct ct_state *st, struct ct_leaf *leaf, const unsigned char *der,
                        size_t len, int64_t now, struct gathered *g)
{
    const unsigned char *c, *end, *r;
    long clen;
    int t, k;

    if (der == NULL || len == 0 || len > LONG_MAX)
        return;
    /* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
     *                             responseBytes [0] EXPLICIT ResponseBytes } */
    if (der_elem(der, der + len, &t, &k, &c, &clen) != 0 || t != V_ASN1_SEQUENCE)
        return;
    end = c + clen;
    if (der_elem(c, end, &t, &k, &r, &clen) != 0 || t != V_ASN1_ENUMERATED || clen != 1 ||
        r[0] != OCSP_RESPONSE_STATUS_SUCCESSFUL)
        return;
    /* ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING } */
    if (der_find(r + clen, end, 0, V_ASN1_CONTEXT_SPECIFIC, &c, &clen) != 0 ||
        der_elem(c, c + clen, &t, &k, &c, &clen) != 0 || t != V_ASN1_SEQUENCE)
        return;
    end = c + clen;
    if (der_elem(c, end, &t, &k, &r, &clen) != 0 || t != V_ASN1_OBJECT ||
        !der_oid_is(r, clen, NID_id_pkix_OCSP_basic) ||
        der_elem(r + clen, end, &t, &k, &c, &clen) != 0 || t != V_ASN1_OCTET_STRING)
        return;
    /* BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, ... };
     * ResponseData ::= SEQUENCE { version [0], responderID [1] or [2],
     *                             producedAt, responses SEQUENCE OF, ... } */
    if (der_elem(c, c + clen, &t, &k, &c, &clen) != 0 || t != V_ASN1_SEQUENCE ||
        der_elem(c, c + clen, &t, &k, &c, &clen) != 0 || t != V_ASN1_SEQUENCE ||
        der_find(c, c + clen, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &c, &clen) != 0)
        return;
    for (r = c, end = c + clen; r < end;) {   /* each SingleResponse */
        const unsigned char *s;
        long slen;
        if (der_elem(r, end, &t, &k, &s, &slen) != 0 || t != V_ASN1_SEQUENCE)
            return;
        single_scts(st, leaf, s, s + slen, now, g);
        r = s + slen;
    }
}

/* May this FAIL wait for the TLS 1.2 staple? Only when tlspin will ask
 * again (staple_pending), the staple is not in yet, the CT callback is this
 * module's (it is what calls tlspin back), and the policy counts OCSP SCTs
 * (chrome does not). */
static int may_wait_for_staple(const struct ct_state *st, const struct tlspin_conn *conn,
                               int has_staple_fields)
{
    if (!has_staple_fields || !conn->staple_pending || conn->ocsp_response != NULL ||
        conn->ssl == NULL || st->policy.kind == POLICY_CHROME ||
        __atomic_load_n(&engine_server_flight, __ATOMIC_ACQUIRE) == NULL)
        return 0;
    pthread_once(&mark_once, make_mark_index);
    return mark_index >= 0 && SSL_get_ex_data(conn->ssl, mark_index) == &mark_value;
}

static void describe(const struct gathered *g, char *out, size_t outlen)
{
    static const char *const chname[] = {"embedded", "tls", "ocsp"};
    size_t valid = 0, off;
    for (size_t i = 0; i < g->n; i++)
        valid += g->r[i].status == SCT_OK;
    off = (size_t)snprintf(out, outlen, "%zu of %zu SCTs valid", valid, g->n);
    for (size_t i = 0; i < g->n && off < outlen; i++) {
        const struct sct_result *r = &g->r[i];
        char who[80];
        if (r->log)
            snprintf(who, sizeof who, "%s/%s", r->log->operator_name, r->log->description);
        else
            snprintf(who, sizeof who, "log=%02x%02x%02x%02x", r->log_id[0], r->log_id[1],
                     r->log_id[2], r->log_id[3]);
        off += (size_t)snprintf(out + off, outlen - off, "%s %s %s %s", i ? ";" : ":",
                                chname[r->channel], who, ct_sct_status_name(r->status));
    }
}

/* The leaf as libssl already decoded it, when its DER is the one being
 * decided; up-referenced, or NULL. Decoding the certificate again would
 * take OpenSSL's key decoders ~5 KB deep on the program's stack (issue 13,
 * point 5). The peer's chain is set before verification, the peer
 * certificate after. */
static X509 *ssl_leaf(SSL *ssl, const unsigned char *der, size_t len)
{
    STACK_OF(X509) *chain;
    X509 *cand[2] = {NULL, NULL};

    if (ssl == NULL)
        return NULL;
    cand[0] = SSL_get0_peer_certificate(ssl);
    chain = SSL_get_peer_cert_chain(ssl);
    if (chain != NULL && sk_X509_num(chain) > 0)
        cand[1] = sk_X509_value(chain, 0);
    for (int i = 0; i < 2; i++) {
        unsigned char *enc = NULL;
        int n, same;

        if (cand[i] == NULL)
            continue;
        n = i2d_X509(cand[i], &enc);
        same = n > 0 && (size_t)n == len && memcmp(enc, der, len) == 0;
        OPENSSL_free(enc);
        if (same && X509_up_ref(cand[i]) == 1)
            return cand[i];
    }
    return NULL;
}

/* What a decision gathers (2.5 KB): on the heap, since decide() runs on
 * the program's thread (in X509_verify_cert or libssl's CT callback), whose
 * stack may be small (issue 13, point 5). */
struct decide_scratch {
    struct gathered g;
    char expected[512], scts[1024];
};

static tlspin_verdict decide(struct ct_state *st, const struct tlspin_conn *conn,
                             struct tlspin_finding *f)
{
    const struct tlspin_cert *leafc;
    unsigned char leafhash[32];
    unsigned int mdlen;
    struct ct_leaf leaf;
    struct decide_scratch *w;
    struct ct_eval ev;
    const unsigned char *p;
    char event[32] = "";
    tlspin_verdict v = TLSPIN_ERROR;
    /* tlspin 1.1 hands over the staple (and says when it comes later). */
    int has_staple_fields = conn->struct_size >= offsetof(struct tlspin_conn, staple_pending) +
                                                     sizeof(conn->staple_pending);

    if (!host_in_scope(st, conn->host))
        return TLSPIN_IGNORE;
    if (st->max_age && conn->now - st->list.timestamp > st->max_age) {
        set_finding(f, "ct-list-stale", ct_policy_name(&st->policy), NULL,
                    "the CT log list %s is %lld days old (max_list_age_days %lld)%s",
                    st->list.path, (long long)((conn->now - st->list.timestamp) / 86400),
                    (long long)(st->max_age / 86400),
                    st->stale_fail ? "" : "; CT not enforced (stale_list = ignore)");
        return st->stale_fail ? TLSPIN_FAIL : TLSPIN_IGNORE;
    }
    if (conn->verified == NULL || conn->n_verified == 0 || conn->verified[0].der == NULL) {
        set_finding(f, "ct-error", ct_policy_name(&st->policy), NULL,
                    "no leaf certificate DER to find SCTs in");
        return TLSPIN_ERROR;
    }
    leafc = &conn->verified[0];
    EVP_Digest(leafc->der, leafc->der_len, leafhash, &mdlen, EVP_sha256(), NULL);

    if (conn->resumption) {
        /* No certificate and no SCTs are exchanged: the session carries the
         * verdict of the handshake that made it, if this process saw it. */
        if (ct_cache_get(&st->cache, 1, leafhash) == 1)
            return TLSPIN_PASS;
        set_finding(f, "ct-resumption-unverified", ct_policy_name(&st->policy), NULL,
                    "no CT verdict of this process for the session's certificate: the "
                    "session is not resumed, a full handshake decides");
        return TLSPIN_FAIL;
    }
    if (st->n_private_roots && conn->trust != TLSPIN_CHAIN_LEAF_ONLY) {
        const struct tlspin_cert *root = &conn->verified[conn->n_verified - 1];
        for (size_t i = 0; i < st->n_private_roots; i++)
            if (memcmp(root->spki_sha256, st->private_roots[i], TLSPIN_PIN_LEN) == 0) {
                set_finding(f, "ct-private-root", "private_roots", NULL,
                            "chain ends at a private root listed in private_roots: CT not "
                            "required");
                return TLSPIN_PASS;
            }
    }

    memset(&leaf, 0, sizeof leaf);
    if ((w = calloc(1, sizeof(*w))) == NULL) {
        set_finding(f, "ct-error", ct_policy_name(&st->policy), NULL, "out of memory");
        return TLSPIN_ERROR;
    }
    p = leafc->der;
    leaf.cert = ssl_leaf(conn->ssl, leafc->der, leafc->der_len);
    if (leaf.cert == NULL && leafc->der_len <= LONG_MAX)
        leaf.cert = d2i_X509(NULL, &p, (long)leafc->der_len);
    if (leaf.cert == NULL) {
        set_finding(f, "ct-error", ct_policy_name(&st->policy), NULL, "leaf DER unparsable");
        free(w);
        return TLSPIN_ERROR;
    }
    leaf.der = leafc->der;
    leaf.der_len = leafc->der_len;
    /* The issuer binds precertificate SCTs. Any certificate will do as a
     * candidate: a wrong one only makes the log's signature fail. */
    if (conn->n_verified > 1) {
        memcpy(leaf.issuer_key_hash, conn->verified[1].spki_sha256, 32);
        leaf.have_issuer = 1;
    } else if (conn->n_presented > 1) {
        memcpy(leaf.issuer_key_hash, conn->presented[1].spki_sha256, 32);
        leaf.have_issuer = 1;
    } else if (X509_check_issued(leaf.cert, leaf.cert) == X509_V_OK) {
        memcpy(leaf.issuer_key_hash, leafc->spki_sha256, 32);
        leaf.have_issuer = 1;
    }
    {
        STACK_OF(SCT) *emb = X509_get_ext_d2i(leaf.cert, NID_ct_precert_scts, NULL, NULL);
        if (emb != NULL) {
            verify_stack(st, &leaf, emb, FROM_LEAF, conn->now, &w->g);
            SCT_LIST_free(emb);
        }
    }
    if (has_staple_fields)
        staple_scts(st, &leaf, conn->ocsp_response, conn->ocsp_response_len, conn->now, &w->g);
    if (conn->ssl != NULL && may_read_peer_scts(conn->ssl)) {
        const STACK_OF(SCT) *peer = SSL_get0_peer_scts(conn->ssl);
        if (peer != NULL)
            verify_stack(st, &leaf, peer, has_staple_fields ? FROM_SSL_TLS_ONLY : FROM_SSL,
                         conn->now, &w->g);
    }
    {
        const ASN1_TIME *nb = X509_get0_notBefore(leaf.cert), *na = X509_get0_notAfter(leaf.cert);
        int days = 0, secs = 0;
        ev.lifetime_days = 0;
        if (nb && na && ASN1_TIME_diff(&days, &secs, nb, na))
            ev.lifetime_days = days + (secs > 0);
    }
    ev.r = w->g.r;
    ev.n = w->g.n;
    describe(&w->g, w->scts, sizeof w->scts);
    if (ct_policy_eval(&st->policy, &ev, event, sizeof event, NULL, 0, w->expected,
                       sizeof w->expected)) {
        ct_cache_put(&st->cache, 1, leafhash, 1);
        /* No event: a pass is not logged, but `tlspin probe` shows the SCTs. */
        set_finding(f, NULL, ct_policy_name(&st->policy), w->expected, "%s", w->scts);
        v = TLSPIN_PASS;
    } else {
        set_finding(f, event, ct_policy_name(&st->policy), w->expected, "%s", w->scts);
        v = TLSPIN_FAIL;
        if (may_wait_for_staple(st, conn, has_staple_fields) &&
            f->struct_size >= offsetof(struct tlspin_finding, wait_for_staple) + sizeof(int))
            f->wait_for_staple = 1;   /* not cached: the staple may yet pass it */
        else
            ct_cache_put(&st->cache, 1, leafhash, 0);
    }
    X509_free(leaf.cert);
    OPENSSL_free(leaf.precert_tbs);
    free(w);
    return v;
}

static tlspin_verdict ct_check(void *state, const struct tlspin_conn *conn,
                               struct tlspin_finding *finding)
{
    tlspin_verdict v;
    struct ct_state *st = state;
    if (st == NULL || conn == NULL)
        return TLSPIN_ERROR;
    ERR_set_mark();
    v = decide(st, conn, finding);
    ERR_pop_to_mark();
    return v;
}

static int ct_lint(void *state, int64_t now, tlspin_diag_fn *diag, void *diag_ctx)
{
    const struct ct_state *st = state;
    char msg[512];
    int errors = 0;
    unsigned live = 0;

    if (st == NULL)
        return 0;
    for (size_t i = 0; i < st->list.n; i++)
        live += st->list.logs[i].state == LOG_USABLE || st->list.logs[i].state == LOG_QUALIFIED ||
                st->list.logs[i].state == LOG_READONLY;
    snprintf(msg, sizeof msg, "ct: log list with %zu logs (%u usable/qualified/readonly) of %u "
             "operators, %lld days old; policy %s", st->list.n, live, st->list.n_operators,
             (long long)((now - st->list.timestamp) / 86400), ct_policy_name(&st->policy));
    diag(diag_ctx, TLSPIN_SEV_NOTE, st->list.path, 0, msg);
    {
        struct ct_cache *c = (struct ct_cache *)&st->cache;
        unsigned long hits, misses;
        pthread_mutex_lock(&c->mu);
        hits = c->sig_hits;
        misses = c->sig_misses;
        pthread_mutex_unlock(&c->mu);
        snprintf(msg, sizeof msg, "ct: signature cache: %lu hits, %lu misses", hits, misses);
        diag(diag_ctx, TLSPIN_SEV_NOTE, NULL, 0, msg);
    }
    if (st->max_age && now - st->list.timestamp > st->max_age) {
        snprintf(msg, sizeof msg, "ct: the log list is older than max_list_age_days (%lld): "
                 "CT %s", (long long)(st->max_age / 86400),
                 st->stale_fail ? "refuses every in-scope host" : "is not enforced");
        diag(diag_ctx, st->stale_fail ? TLSPIN_SEV_ERROR : TLSPIN_SEV_WARNING, st->list.path, 0,
             msg);
        errors += st->stale_fail;
    } else if (st->max_age && st->list.timestamp + st->max_age - now <= 30 * 86400) {
        /* Nothing refreshes the list by itself: a stale list blocks every
         * in-scope host, so say so a month ahead (monitoring that runs
         * `tlspin check` daily sees it at 30, 14, 7 and 1 days too). */
        long long left = (long long)((st->list.timestamp + st->max_age - now + 86399) / 86400);
        snprintf(msg, sizeof msg, "ct: the log list goes stale in %lld day%s "
                 "(max_list_age_days %lld): CT then %s; install a fresh list before",
                 left, left == 1 ? "" : "s", (long long)(st->max_age / 86400),
                 st->stale_fail ? "refuses every in-scope host" : "is not enforced");
        diag(diag_ctx, TLSPIN_SEV_WARNING, st->list.path, 0, msg);
    }
    if (st->list.n_operators < 2 || (st->policy.kind == POLICY_MIN &&
                                     st->list.n_operators < st->policy.min_operators)) {
        diag(diag_ctx, TLSPIN_SEV_ERROR, st->list.path, 0,
             "ct: the log list has too few operators for the policy: nothing can pass");
        errors++;
    }
    return errors;
}

static void ct_watch(void *state, const struct tlspin_args *args, tlspin_path_fn *each, void *ctx)
{
    const struct tlspin_arg *a = find_arg(args, "log_list");
    (void)state;
    if (a != NULL && a->n_values == 1 && a->values && a->values[0])
        each(ctx, a->values[0]);
}

static const struct tlspin_module ct_module = {
    .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR,
    .struct_size = sizeof(struct tlspin_module),
    .name = "ct",
    .version = TLSPIN_VERSION,
    .caps = TLSPIN_CAP_PREPARE | TLSPIN_CAP_CERT_DER | TLSPIN_CAP_LINT | TLSPIN_CAP_WATCH,
    .open = ct_open,
    .close = ct_close,
    .prepare = ct_prepare,
    .check = ct_check,
    .lint = ct_lint,
    .hosts = NULL,
    .watch = ct_watch,
};

TLSPIN_MODULE_EXPORT tlspin_module_entry_fn tlspin_module_describe;

TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void)
{
    return &ct_module;
}
