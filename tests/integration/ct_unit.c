/* ct_unit — the ct module driven directly through the module ABI (dlopen),
 * without a handshake: argument and log-list errors name file:line, the
 * verified-SCT cache verifies each signature once even under 8 concurrent
 * threads, and resumption decisions follow the per-leaf verdict.
 *
 *   ct_unit CT_SO CT_TOOL MKCERTS_SH
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <tlspin/module.h>

static int failures;
#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            failures++;                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

static void h_log(const struct tlspin_host *h, int prio, const char *f, ...)
{
    va_list ap;
    (void)h;
    (void)prio;
    va_start(ap, f);
    vfprintf(stderr, f, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int h_pin_parse(const char *t, unsigned char pin[32], char *err, size_t n)
{
    unsigned char buf[48];
    if (strncmp(t, "sha256/", 7) != 0 || strlen(t + 7) != 44 ||
        EVP_DecodeBlock(buf, (const unsigned char *)t + 7, 44) != 33) {
        snprintf(err, n, "not a pin");
        return -1;
    }
    memcpy(pin, buf, 32);
    return 0;
}

static void h_pin_format(const unsigned char pin[32], char *out, size_t n)
{
    unsigned char b[64];
    EVP_EncodeBlock(b, pin, 32);
    snprintf(out, n, "sha256/%s", b);
}

static int h_norm(const char *in, char *out, size_t n, char *err, size_t en)
{
    (void)err;
    (void)en;
    snprintf(out, n, "%s", in);
    return 0;
}

static int h_match(const char *p, const char *h)
{
    if (strncmp(p, "**.", 3) == 0) {
        size_t lp = strlen(p + 3), lh = strlen(h);
        return strcmp(h, p + 3) == 0 || (lh > lp && strcmp(h + lh - lp, p + 3) == 0 &&
                                         h[lh - lp - 1] == '.');
    }
    return strcmp(p, h) == 0;
}

static const struct tlspin_host HOST = {
    .struct_size = sizeof(struct tlspin_host), .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR, .log = h_log, .pin_parse = h_pin_parse,
    .pin_format = h_pin_format, .host_normalize = h_norm, .host_match = h_match};

static const struct tlspin_module *M;
static char dir[] = "/tmp/ct_unit.XXXXXX";

static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) {
        fprintf(stderr, "command failed: %s\n", cmd);
        exit(1);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    static char buf[65536];
    size_t n;
    if (!f)
        return NULL;
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

struct certbuf {
    unsigned char *der;
    int len;
    unsigned char spki[32];
};

static void load_cert(const char *path, struct certbuf *c, struct tlspin_cert *t)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned char *spki = NULL;
    unsigned int n;
    int sl;
    if (!x) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    c->der = NULL;
    c->len = i2d_X509(x, &c->der);
    sl = i2d_PUBKEY(X509_get0_pubkey(x), &spki);
    EVP_Digest(spki, (size_t)sl, c->spki, &n, EVP_sha256(), NULL);
    OPENSSL_free(spki);
    X509_free(x);
    t->der = c->der;
    t->der_len = (size_t)c->len;
    memcpy(t->spki_sha256, c->spki, 32);
}

/* open with args given as key=value pairs (one value each). */
static int open_args(void **st, char *err, size_t errlen, int n, const char *const kv[])
{
    struct tlspin_arg items[8];
    const char *vals[8][1];
    struct tlspin_args a = {items, (size_t)n};
    for (int i = 0; i < n; i++) {
        vals[i][0] = kv[2 * i + 1];
        items[i] = (struct tlspin_arg){kv[2 * i], vals[i], 1, "/etc/tlspin/tlspin.conf",
                                       (unsigned)(10 + i)};
    }
    return M->open(&HOST, &a, st, err, errlen);
}

static char lint_text[4096];
static void diag(void *ctx, tlspin_severity s, const char *file, unsigned line, const char *m)
{
    (void)ctx;
    (void)s;
    (void)line;
    size_t l = strlen(lint_text);
    snprintf(lint_text + l, sizeof lint_text - l, "%s: %s\n", file ? file : "-", m);
}

static struct tlspin_conn CONN;
static void *STATE;

static void *worker(void *arg)
{
    int *bad = arg;
    for (int i = 0; i < 50; i++) {
        struct tlspin_finding f = {.struct_size = sizeof f};
        if (M->check(STATE, &CONN, &f) != TLSPIN_PASS)
            (*bad)++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    void *so;
    tlspin_module_entry_fn *entry;
    char err[1024], path[1024];
    struct certbuf lc, ic;
    struct tlspin_cert chain[2];
    struct tlspin_finding f = {.struct_size = sizeof f};
    const char *env;
    char keya[256], ida[64], keyb[256], idb[64];
    time_t now = time(NULL);
    char ts[32];

    if (argc != 4) {
        fprintf(stderr, "usage: ct_unit CT_SO CT_TOOL MKCERTS_SH\n");
        return 2;
    }
    so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    entry = so ? (tlspin_module_entry_fn *)dlsym(so, TLSPIN_MODULE_ENTRY) : NULL;
    if (!entry) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
        return 1;
    }
    M = entry();
    CHECK(strcmp(M->name, "ct") == 0, "name %s", M->name);
    CHECK((M->caps & (TLSPIN_CAP_PREPARE | TLSPIN_CAP_CERT_DER)) ==
              (TLSPIN_CAP_PREPARE | TLSPIN_CAP_CERT_DER), "caps %x", M->caps);
    if (!mkdtemp(dir))
        return 1;
    sh("bash '%s' '%s/pki' >/dev/null 2>&1", argv[3], dir);
    sh("'%s' log %s/a.key > %s/a.env && '%s' log %s/b.key > %s/b.env", argv[2], dir, dir, argv[2],
       dir, dir);
    snprintf(path, sizeof path, "%s/a.env", dir);
    env = slurp(path);
    CHECK(env && sscanf(strstr(env, "KEY="), "KEY=%255s", keya) == 1 &&
              sscanf(strstr(env, "LOGID="), "LOGID=%63s", ida) == 1, "a.env");
    snprintf(path, sizeof path, "%s/b.env", dir);
    env = slurp(path);
    CHECK(env && sscanf(strstr(env, "KEY="), "KEY=%255s", keyb) == 1 &&
              sscanf(strstr(env, "LOGID="), "LOGID=%63s", idb) == 1, "b.env");
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    {
        char list[4096];
        FILE *fl;
        snprintf(path, sizeof path, "%s/list.json", dir);
        snprintf(list, sizeof list,
                 "{\"log_list_timestamp\": \"%s\", \"operators\": [\n"
                 " {\"name\": \"A\", \"logs\": [{\"description\": \"a\", \"log_id\": \"%s\",\n"
                 "   \"key\": \"%s\", \"state\": {\"usable\": {\"timestamp\": \"%s\"}}}]},\n"
                 " {\"name\": \"B\", \"logs\": [{\"description\": \"b\", \"log_id\": \"%s\",\n"
                 "   \"key\": \"%s\", \"state\": {\"usable\": {\"timestamp\": \"%s\"}}}]}]}\n",
                 ts, ida, keya, ts, idb, keyb, ts);
        fl = fopen(path, "w");
        fputs(list, fl);
        fclose(fl);
        /* the same with b's log_id wrong (a's): line 5 */
        snprintf(path, sizeof path, "%s/bad.json", dir);
        fl = fopen(path, "w");
        snprintf(list, sizeof list,
                 "{\"log_list_timestamp\": \"%s\", \"operators\": [\n"
                 " {\"name\": \"A\", \"logs\": [{\"description\": \"a\", \"log_id\": \"%s\",\n"
                 "   \"key\": \"%s\", \"state\": {\"usable\": {\"timestamp\": \"%s\"}}}]},\n"
                 " {\"name\": \"B\", \"logs\": [{\"description\": \"b\",\n \"log_id\": \"%s\",\n"
                 "   \"key\": \"%s\", \"state\": {\"usable\": {\"timestamp\": \"%s\"}}}]}]}\n",
                 ts, ida, keya, ts, ida, keyb, ts);
        fputs(list, fl);
        fclose(fl);
    }
    sh("'%s' leaf --issuer %s/pki/int.pem --issuer-key %s/pki/int.key --days 90 --key %s/l.key "
       "--cert %s/l.pem --embed %s/a.key --embed %s/b.key", argv[2], dir, dir, dir, dir, dir, dir);

    /* args and list errors name file:line */
    {
        void *st = NULL;
        snprintf(path, sizeof path, "%s/list.json", dir);
        CHECK(open_args(&st, err, sizeof err, 2,
                        (const char *const[]){"log_list", path, "policy", "firefox"}) != 0 &&
                  strstr(err, "/etc/tlspin/tlspin.conf:11: policy of module ct is"),
              "err: %s", err);
        CHECK(open_args(&st, err, sizeof err, 2,
                        (const char *const[]){"log_list", path, "colour", "red"}) != 0 &&
                  strstr(err, "tlspin.conf:11: unknown key \"colour\""), "err: %s", err);
        CHECK(open_args(&st, err, sizeof err, 1, (const char *const[]){"policy", "chrome"}) != 0 &&
                  strstr(err, "needs args"), "err: %s", err);
        snprintf(path, sizeof path, "%s/bad.json", dir);
        CHECK(open_args(&st, err, sizeof err, 1, (const char *const[]){"log_list", path}) != 0 &&
                  strstr(err, "bad.json:5: log_id is not the SHA-256 of the log's key"),
              "err: %s", err);
    }

    /* Every truncation of a good list is refused with a file:line reason,
     * never loaded half (and never crashes the parser). */
    {
        char good[8192], trunc_path[1024];
        size_t len;
        snprintf(path, sizeof path, "%s/list.json", dir);
        snprintf(good, sizeof good, "%s", slurp(path));
        len = strlen(good);
        snprintf(trunc_path, sizeof trunc_path, "%s/trunc.json", dir);
        for (size_t cut = 0; cut + 1 < len; cut += 3) {
            FILE *tf = fopen(trunc_path, "w");
            void *st = NULL;
            fwrite(good, 1, cut, tf);
            fclose(tf);
            err[0] = 0;
            CHECK(open_args(&st, err, sizeof err, 1,
                            (const char *const[]){"log_list", trunc_path}) != 0 &&
                      strstr(err, "trunc.json"),
                  "truncated at %zu loaded (%s)", cut, err);
            if (st)
                M->close(st);
        }
    }

    snprintf(path, sizeof path, "%s/list.json", dir);
    CHECK(open_args(&STATE, err, sizeof err, 1, (const char *const[]){"log_list", path}) == 0,
          "open: %s", err);
    if (STATE == NULL)
        return 1;
    snprintf(path, sizeof path, "%s/l.pem", dir);
    load_cert(path, &lc, &chain[0]);
    snprintf(path, sizeof path, "%s/pki/int.pem", dir);
    load_cert(path, &ic, &chain[1]);
    CONN = (struct tlspin_conn){.struct_size = sizeof CONN, .host = "good.test",
                                .host_source = TLSPIN_HOST_SNI, .port = 443,
                                .verified = chain, .n_verified = 2,
                                .trust = TLSPIN_CHAIN_APP_VERIFIED, .presented = chain,
                                .n_presented = 2, .now = (int64_t)time(NULL),
                                .leaf_matches_host = 1};

    /* resumption before any full handshake: no verdict, FAIL */
    CONN.resumption = 1;
    CHECK(M->check(STATE, &CONN, &f) == TLSPIN_FAIL &&
              strcmp(f.event, "ct-resumption-unverified") == 0, "event %s", f.event);
    CONN.resumption = 0;

    memset(&f, 0, sizeof f);
    f.struct_size = sizeof f;
    CHECK(M->check(STATE, &CONN, &f) == TLSPIN_PASS, "first check: %s %s", f.event, f.reason);
    lint_text[0] = 0;
    M->lint(STATE, (int64_t)time(NULL), diag, NULL);
    CHECK(strstr(lint_text, "signature cache: 0 hits, 2 misses"), "lint: %s", lint_text);

    /* 8 threads x 50 checks: all pass, no signature verified again */
    {
        pthread_t th[8];
        int bad[8] = {0};
        for (int i = 0; i < 8; i++)
            pthread_create(&th[i], NULL, worker, &bad[i]);
        for (int i = 0; i < 8; i++) {
            pthread_join(th[i], NULL);
            CHECK(bad[i] == 0, "thread %d: %d checks did not pass", i, bad[i]);
        }
    }
    lint_text[0] = 0;
    M->lint(STATE, (int64_t)time(NULL), diag, NULL);
    CHECK(strstr(lint_text, "signature cache: 800 hits, 2 misses"), "lint: %s", lint_text);

    /* resumption after a pass: PASS */
    CONN.resumption = 1;
    CHECK(M->check(STATE, &CONN, &f) == TLSPIN_PASS, "resumption after pass");
    CONN.resumption = 0;

    /* the intermediate's key as the "issuer" of nothing: the leaf alone with
     * no issuer known -> embedded SCTs cannot verify */
    CONN.n_verified = 1;
    CONN.n_presented = 1;
    CONN.trust = TLSPIN_CHAIN_LEAF_ONLY;
    memset(&f, 0, sizeof f);
    f.struct_size = sizeof f;
    CHECK(M->check(STATE, &CONN, &f) == TLSPIN_FAIL && strcmp(f.event, "ct-no-issuer") == 0,
          "leaf alone: %s %s", f.event, f.reason);

    /* outside hosts: IGNORE */
    M->close(STATE);
    snprintf(path, sizeof path, "%s/list.json", dir);
    CHECK(open_args(&STATE, err, sizeof err, 2,
                    (const char *const[]){"log_list", path, "hosts", "**.example.com"}) == 0,
          "open: %s", err);
    CHECK(M->check(STATE, &CONN, &f) == TLSPIN_IGNORE, "outside hosts");
    M->close(STATE);

    sh("rm -rf '%s'", dir);
    OPENSSL_free(lc.der);
    OPENSSL_free(ic.der);
    if (failures == 0)
        printf("ct_unit: all checks passed\n");
    return failures != 0;
}
