/* loglist.c — the administrator's list of CT logs: Google's v3 JSON
 * (operators[].logs[] / tiled_logs[]) or OpenSSL's ct_log_list.cnf. Strict:
 * the first bad entry makes the whole list an error naming file:line. */
#include "ct.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/x509.h>
#include <tlspin/strict_path.h>

#include "der.h"
#include "json.h"

static void errf(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void errf(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line)
        snprintf(err, errlen, "%s:%u: %s", path, line, msg);
    else
        snprintf(err, errlen, "%s: %s", path, msg);
}

const char *ct_log_state_name(enum log_state s)
{
    static const char *const names[] = {"pending", "qualified", "usable", "readonly",
                                        "retired", "rejected"};
    return names[s];
}

int ct_parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    const char *p;

    memset(&tm, 0, sizeof tm);
    p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL)
        return -1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

/* Strict base64 (whitespace not allowed). Returns the length or -1. */
static long b64_decode(const char *in, unsigned char **out)
{
    size_t len = strlen(in);
    EVP_ENCODE_CTX *ctx;
    unsigned char *buf;
    int n1 = 0, n2 = 0;

    if (len == 0 || len % 4 != 0)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)in[i]) && in[i] != '+' && in[i] != '/' && in[i] != '=')
            return -1;
    buf = malloc(len);
    ctx = EVP_ENCODE_CTX_new();
    if (buf == NULL || ctx == NULL) {
        free(buf);
        EVP_ENCODE_CTX_free(ctx);
        return -1;
    }
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, buf, &n1, (const unsigned char *)in, (int)len) < 0 ||
        EVP_DecodeFinal(ctx, buf + n1, &n2) < 0) {
        free(buf);
        EVP_ENCODE_CTX_free(ctx);
        return -1;
    }
    EVP_ENCODE_CTX_free(ctx);
    *out = buf;
    return n1 + n2;
}

void ct_loglist_free(struct ct_loglist *ll)
{
    for (size_t i = 0; i < ll->n; i++) {
        free(ll->logs[i].description);
        free(ll->logs[i].operator_name);
        EVP_PKEY_free(ll->logs[i].key);
    }
    free(ll->logs);
    free(ll->path);
    memset(ll, 0, sizeof *ll);
}

const struct ct_log *ct_loglist_find(const struct ct_loglist *ll, const unsigned char id[32])
{
    for (size_t i = 0; i < ll->n; i++)
        if (memcmp(ll->logs[i].log_id, id, 32) == 0)
            return &ll->logs[i];
    return NULL;
}

static struct ct_log *add_log(struct ct_loglist *ll)
{
    struct ct_log *l = realloc(ll->logs, (ll->n + 1) * sizeof *l);
    if (l == NULL)
        return NULL;
    ll->logs = l;
    memset(&l[ll->n], 0, sizeof *l);
    return &l[ll->n++];
}

/* key (b64 DER SPKI) -> log->key and log->log_id. */
/* An EC SubjectPublicKeyInfo on a named curve (RFC 5480), imported from its
 * curve and point: d2i_PUBKEY goes through OpenSSL's decoders ~4 KB deep on
 * the program's stack (the module's open() runs there; issue 13, point 5).
 * NULL for anything else (RSA, explicit parameters, a curve not listed):
 * d2i_PUBKEY decides those. */
static EVP_PKEY *ec_named_key(const unsigned char *der, long len)
{
    static const int curves[] = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};
    const unsigned char *end = der + len, *spki, *alg, *q, *pt;
    long spki_len, alg_len, qlen, pt_len;
    const char *group = NULL;
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *key = NULL;
    OSSL_PARAM params[3];
    int t, k;

    /* SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING } */
    if (len <= 0 || der_elem(der, end, &t, &k, &spki, &spki_len) != 0 ||
        t != V_ASN1_SEQUENCE || spki + spki_len != end ||
        der_elem(spki, end, &t, &k, &alg, &alg_len) != 0 || t != V_ASN1_SEQUENCE ||
        der_elem(alg + alg_len, end, &t, &k, &pt, &pt_len) != 0 || t != V_ASN1_BIT_STRING ||
        pt + pt_len != end || pt_len < 2 || pt[0] != 0 ||
        der_elem(alg, alg + alg_len, &t, &k, &q, &qlen) != 0 || t != V_ASN1_OBJECT ||
        !der_oid_is(q, qlen, NID_X9_62_id_ecPublicKey) ||
        der_elem(q + qlen, alg + alg_len, &t, &k, &q, &qlen) != 0 || t != V_ASN1_OBJECT ||
        q + qlen != alg + alg_len)
        return NULL;
    for (size_t i = 0; i < sizeof(curves) / sizeof(*curves); i++)
        if (der_oid_is(q, qlen, curves[i]))
            group = OBJ_nid2sn(curves[i]);
    if (group == NULL || (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL)
        return NULL;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)(pt + 1),
                                                  (size_t)pt_len - 1);
    params[2] = OSSL_PARAM_construct_end();
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static int set_key(struct ct_log *log, const char *b64, const char *path, unsigned line, char *err,
                   size_t errlen)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    long len = b64_decode(b64, &der);
    unsigned int mdlen = 0;

    if (len <= 0) {
        free(der);
        errf(err, errlen, path, line, "log key is not base64");
        return -1;
    }
    p = der + len;
    if ((log->key = ec_named_key(der, len)) == NULL) {
        p = der;
        log->key = d2i_PUBKEY(NULL, &p, len);
    }
    if (log->key == NULL || p != der + len) {
        free(der);
        errf(err, errlen, path, line, "log key is not a DER SubjectPublicKeyInfo");
        return -1;
    }
    if (!EVP_PKEY_is_a(log->key, "EC") && !EVP_PKEY_is_a(log->key, "RSA")) {
        free(der);
        errf(err, errlen, path, line, "log key is neither ECDSA nor RSA (RFC 6962 allows only these)");
        return -1;
    }
    EVP_Digest(der, (size_t)len, log->log_id, &mdlen, EVP_sha256(), NULL);
    free(der);
    return 0;
}

static int check_dup(const struct ct_loglist *ll, const char *path, unsigned line, char *err,
                     size_t errlen)
{
    const struct ct_log *last = &ll->logs[ll->n - 1];
    for (size_t i = 0; i + 1 < ll->n; i++)
        if (memcmp(ll->logs[i].log_id, last->log_id, 32) == 0) {
            errf(err, errlen, path, line, "log listed twice (same key as \"%s\")",
                 ll->logs[i].description ? ll->logs[i].description : "?");
            return -1;
        }
    return 0;
}

static const char *jstr(const struct json *v)
{
    return v != NULL && v->type == JSON_STRING ? v->str : NULL;
}

static int json_time(const struct json *v, const char *what, int64_t *out, const char *path,
                     unsigned line, char *err, size_t errlen)
{
    const char *s = jstr(v);
    if (s == NULL || ct_parse_time(s, out) != 0) {
        errf(err, errlen, path, v ? v->line : line,
             "%s must be an RFC 3339 time like \"2026-01-31T00:00:00Z\"", what);
        return -1;
    }
    return 0;
}

static int json_log(struct ct_loglist *ll, const struct json *jl, const char *op, unsigned op_idx,
                    const char *path, char *err, size_t errlen)
{
    static const char *const states[] = {"pending", "qualified", "usable", "readonly",
                                         "retired", "rejected"};
    const struct json *key = json_get(jl, "key"), *id = json_get(jl, "log_id");
    const struct json *state = json_get(jl, "state"), *ti = json_get(jl, "temporal_interval");
    const struct json *desc = json_get(jl, "description");
    struct ct_log *log;
    unsigned char *idb = NULL;
    long idlen;
    size_t i;

    if (jl->type != JSON_OBJECT) {
        errf(err, errlen, path, jl->line, "a log must be an object");
        return -1;
    }
    if (jstr(key) == NULL) {
        errf(err, errlen, path, jl->line, "log has no \"key\" (base64 DER SubjectPublicKeyInfo)");
        return -1;
    }
    if (jstr(id) == NULL) {
        errf(err, errlen, path, jl->line, "log has no \"log_id\"");
        return -1;
    }
    if ((log = add_log(ll)) == NULL) {
        errf(err, errlen, path, jl->line, "out of memory");
        return -1;
    }
    log->operator_name = strdup(op);
    log->operator_idx = op_idx;
    log->description = strdup(jstr(desc) ? jstr(desc) : "(no description)");
    if (set_key(log, key->str, path, key->line, err, errlen) != 0)
        return -1;
    idlen = b64_decode(id->str, &idb);
    if (idlen != 32 || memcmp(idb, log->log_id, 32) != 0) {
        free(idb);
        errf(err, errlen, path, id->line, "log_id is not the SHA-256 of the log's key");
        return -1;
    }
    free(idb);
    if (state == NULL || state->type != JSON_OBJECT || state->n != 1) {
        errf(err, errlen, path, state ? state->line : jl->line,
             "log needs \"state\" with exactly one of pending, qualified, usable, readonly, "
             "retired, rejected");
        return -1;
    }
    for (i = 0; i < 6; i++)
        if (strcmp(state->keys[0], states[i]) == 0)
            break;
    if (i == 6) {
        errf(err, errlen, path, state->line, "unknown log state \"%.40s\"", state->keys[0]);
        return -1;
    }
    log->state = (enum log_state)i;
    if (json_time(json_get(state->items[0], "timestamp"), "state timestamp", &log->state_since,
                  path, state->line, err, errlen) != 0)
        return -1;
    if (ti != NULL) {
        if (json_time(json_get(ti, "start_inclusive"), "temporal_interval.start_inclusive",
                      &log->interval_start, path, ti->line, err, errlen) != 0 ||
            json_time(json_get(ti, "end_exclusive"), "temporal_interval.end_exclusive",
                      &log->interval_end, path, ti->line, err, errlen) != 0)
            return -1;
        if (log->interval_end <= log->interval_start) {
            errf(err, errlen, path, ti->line, "temporal_interval ends before it starts");
            return -1;
        }
    }
    return check_dup(ll, path, jl->line, err, errlen);
}

static int load_json(struct ct_loglist *ll, const char *text, const char *path, char *err,
                     size_t errlen)
{
    char jerr[256];
    struct json *root = json_parse(text, jerr, sizeof jerr);
    const struct json *ops, *ts;
    int r = -1;

    if (root == NULL) {
        snprintf(err, errlen, "%s:%s", path, jerr + 5); /* "line N: x" -> "path:N: x" */
        return -1;
    }
    if (root->type != JSON_OBJECT) {
        errf(err, errlen, path, root->line, "a log list is a JSON object");
        goto out;
    }
    ts = json_get(root, "log_list_timestamp");
    if (json_time(ts, "log_list_timestamp", &ll->timestamp, path, root->line, err, errlen) != 0)
        goto out;
    ops = json_get(root, "operators");
    if (ops == NULL || ops->type != JSON_ARRAY) {
        errf(err, errlen, path, root->line, "no \"operators\" array");
        goto out;
    }
    for (size_t i = 0; i < ops->n; i++) {
        const struct json *op = ops->items[i];
        const char *name = jstr(json_get(op, "name"));
        int any = 0;
        if (op->type != JSON_OBJECT || name == NULL || name[0] == '\0') {
            errf(err, errlen, path, op->line, "operator needs a \"name\"");
            goto out;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(jstr(json_get(ops->items[k], "name")), name) == 0) {
                errf(err, errlen, path, op->line, "operator \"%.60s\" listed twice", name);
                goto out;
            }
        for (int t = 0; t < 2; t++) {
            const struct json *logs = json_get(op, t ? "tiled_logs" : "logs");
            if (logs == NULL)
                continue;
            any = 1;
            if (logs->type != JSON_ARRAY) {
                errf(err, errlen, path, logs->line, "\"%s\" must be an array",
                     t ? "tiled_logs" : "logs");
                goto out;
            }
            for (size_t j = 0; j < logs->n; j++)
                if (json_log(ll, logs->items[j], name, (unsigned)i, path, err, errlen) != 0)
                    goto out;
        }
        if (!any) {
            errf(err, errlen, path, op->line, "operator \"%.60s\" has no \"logs\"", name);
            goto out;
        }
    }
    ll->n_operators = (unsigned)ops->n;
    r = 0;
out:
    json_free(root);
    return r;
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* ct_log_list.cnf: enabled_logs = a,b and [a] description/key sections.
 * Extension: `operator = NAME` (default: the section name, i.e. every log
 * its own operator). All logs are usable; the list's age is its mtime. */
static int load_cnf(struct ct_loglist *ll, char *text, const char *path, int64_t mtime,
                    char *err, size_t errlen)
{
    struct sect {
        char *name, *desc, *key, *op;
        unsigned line, key_line;
    } *sects = NULL;
    size_t nsects = 0, i;
    char *enabled = NULL, *line, *save = NULL;
    unsigned lineno = 0, enabled_line = 0;
    struct sect *cur = NULL;
    char **opnames = NULL;
    size_t nops = 0;
    int r = -1;

    for (line = text; line != NULL; line = save) {
        char *nl = strchr(line, '\n'), *s, *eq;
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        if ((s = strchr(line, '#')) != NULL)
            *s = '\0';
        s = trim(line);
        if (*s == '\0')
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            struct sect *t;
            if (e == NULL || e[1] != '\0' || e == s + 1) {
                errf(err, errlen, path, lineno, "bad section header");
                goto out;
            }
            *e = '\0';
            for (i = 0; i < nsects; i++)
                if (strcmp(sects[i].name, s + 1) == 0) {
                    errf(err, errlen, path, lineno, "section [%.60s] given twice", s + 1);
                    goto out;
                }
            t = realloc(sects, (nsects + 1) * sizeof *t);
            if (t == NULL)
                goto oom;
            sects = t;
            cur = &sects[nsects++];
            memset(cur, 0, sizeof *cur);
            cur->name = trim(s + 1);
            cur->line = lineno;
            continue;
        }
        eq = strchr(s, '=');
        if (eq == NULL) {
            errf(err, errlen, path, lineno, "expected key = value");
            goto out;
        }
        *eq = '\0';
        {
            char *k = trim(s), *v = trim(eq + 1);
            if (cur == NULL) {
                if (strcmp(k, "enabled_logs") != 0 || enabled != NULL) {
                    errf(err, errlen, path, lineno, "only one enabled_logs = ... before the first section");
                    goto out;
                }
                enabled = v;
                enabled_line = lineno;
            } else if (strcmp(k, "description") == 0 && !cur->desc) {
                cur->desc = v;
            } else if (strcmp(k, "key") == 0 && !cur->key) {
                cur->key = v;
                cur->key_line = lineno;
            } else if (strcmp(k, "operator") == 0 && !cur->op) {
                cur->op = v;
            } else {
                errf(err, errlen, path, lineno, "unknown or repeated key \"%.40s\" in [%.60s]", k,
                     cur->name);
                goto out;
            }
        }
    }
    if (enabled == NULL) {
        errf(err, errlen, path, 0, "no enabled_logs = ... line");
        goto out;
    }
    for (char *tok = strtok_r(enabled, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *name = trim(tok);
        struct sect *sc = NULL;
        struct ct_log *log;
        const char *op;
        for (i = 0; i < nsects; i++)
            if (strcmp(sects[i].name, name) == 0)
                sc = &sects[i];
        if (sc == NULL) {
            errf(err, errlen, path, enabled_line, "enabled log \"%.60s\" has no section", name);
            goto out;
        }
        if (sc->key == NULL) {
            errf(err, errlen, path, sc->line, "[%.60s] has no key", name);
            goto out;
        }
        if ((log = add_log(ll)) == NULL)
            goto oom;
        op = sc->op ? sc->op : sc->name;
        log->description = strdup(sc->desc ? sc->desc : sc->name);
        log->operator_name = strdup(op);
        for (i = 0; i < nops; i++)
            if (strcmp(opnames[i], op) == 0)
                break;
        if (i == nops) {
            char **t = realloc(opnames, (nops + 1) * sizeof *t);
            if (t == NULL)
                goto oom;
            opnames = t;
            opnames[nops++] = (char *)op;
        }
        log->operator_idx = (unsigned)i;
        log->state = LOG_USABLE;
        if (set_key(log, sc->key, path, sc->key_line, err, errlen) != 0 ||
            check_dup(ll, path, sc->line, err, errlen) != 0)
            goto out;
    }
    ll->n_operators = (unsigned)nops;
    ll->timestamp = mtime;
    r = 0;
    goto out;
oom:
    errf(err, errlen, path, lineno, "out of memory");
out:
    free(opnames);
    free(sects);
    return r;
}

/* Chrome's v3 list is ~100 KB; every process that loads the ct module
 * reads it. */
#define LOGLIST_MAX (4u * 1024u * 1024u)

/* The list is read in every program that loads the ct module, at its first
 * handshake: only a regular file, its type checked before the open (a FIFO
 * would wait for a writer forever, a device may act on being opened), an
 * open that never blocks, the descriptor checked to be what was checked,
 * at most LOGLIST_MAX bytes. Returns 0 with a NUL-terminated copy, or -1
 * with "path: reason" in err. */
static int read_list(const char *path, char **text, struct stat *st, char *err, size_t errlen)
{
    char *buf = NULL, why[1024];
    size_t got = 0, plen = strlen(path);
    int fd = -1, rc = -1;

    /* StrictModes (include/tlspin/strict_path.h): the list decides which
     * SCTs every program accepts, so it and every directory above it must
     * be root's (or the process's own user's), writable by nobody else. */
    fd = tlspin_strict_open(path, TLSPIN_STRICT_FILE, st, why, sizeof(why));
    if (fd < 0) {
        const char *w = strncmp(why, path, plen) == 0 && strncmp(why + plen, ": ", 2) == 0
                            ? why + plen + 2 : why;
        if (strncmp(w, "not a regular file", 18) == 0)
            errf(err, errlen, path, 0, "the log list is %s", w);
        else if (strstr(w, ": refused") != NULL)
            errf(err, errlen, path, 0, "%s", w);
        else
            errf(err, errlen, path, 0, "cannot read the log list: %s", w);
        return -1;
    }
    if (st->st_size < 0 || (unsigned long long)st->st_size > LOGLIST_MAX) {
        errf(err, errlen, path, 0, "log list larger than 4 MiB (its cap)");
        goto out;
    }
    if ((buf = malloc((size_t)st->st_size + 2)) == NULL) {
        errf(err, errlen, path, 0, "out of memory");
        goto out;
    }
    /* One byte more than the size: a list that grew meanwhile shows. */
    while (got < (size_t)st->st_size + 1) {
        ssize_t n = read(fd, buf + got, (size_t)st->st_size + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != (size_t)st->st_size) {
        errf(err, errlen, path, 0, "cannot read the log list");
        goto out;
    }
    buf[got] = '\0';
    *text = buf;
    buf = NULL;     /* transferred */
    rc = 0;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

int ct_loglist_load(struct ct_loglist *ll, const char *path, char *err, size_t errlen)
{
    struct stat st;
    char *text = NULL, *p;
    size_t n;
    int r;

    memset(ll, 0, sizeof *ll);
    if (read_list(path, &text, &st, err, errlen) != 0)
        return -1;
    n = (size_t)st.st_size;
    if (memchr(text, '\0', n) != NULL) {
        free(text);
        errf(err, errlen, path, 0, "log list contains a NUL byte");
        return -1;
    }
    for (p = text; isspace((unsigned char)*p); p++)
        ;
    if (*p == '{')
        r = load_json(ll, text, path, err, errlen);
    else
        r = load_cnf(ll, text, path, (int64_t)st.st_mtime, err, errlen);
    free(text);
    if (r == 0 && ll->n == 0) {
        errf(err, errlen, path, 0, "the log list has no logs");
        r = -1;
    }
    if (r != 0) {
        ct_loglist_free(ll);
        return -1;
    }
    ll->path = strdup(path);
    return 0;
}
