/* Unit tests: the file-pinset module (modules/file), driven through its ABI.
 *
 * The real built module is dlopen'ed; the host services it gets are built
 * here from the engine's pin.h and hostname.h. Config fixtures are written at
 * test time into a temporary directory, from templates in which "@P<n>@"
 * stands for test pin n ("sha256/<b64>"), "@C<n>@" for its curl spelling and
 * "@K<n>@" for its HPKP spelling. */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <tlspin/module.h>

#include "engine/hostname.h"
#include "engine/pin.h"

#define MODULE_PATH TLSPIN_BUILD_DIR "/lib/tlspin/modules/file.so"
#define POLICY_FILE "/etc/tlspin/tlspin.conf"
#define POLICY_LINE 12
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------- */
/* Host services, as tlspin would hand them over                           */
/* ---------------------------------------------------------------------- */

static char logbuf[16384];

static void collect_log(const struct tlspin_host *host, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void collect_log(const struct tlspin_host *host, int priority, const char *fmt, ...)
{
    size_t used = strlen(logbuf);
    va_list ap;

    (void)host;
    (void)priority;
    if (used + 2 >= sizeof(logbuf))
        return;
    va_start(ap, fmt);
    vsnprintf(logbuf + used, sizeof(logbuf) - used - 1, fmt, ap);
    va_end(ap);
    strcat(logbuf, "\n");
}

static const struct tlspin_host services = {
    .struct_size = sizeof(struct tlspin_host),
    .abi_major = TLSPIN_ABI_MAJOR,
    .abi_minor = TLSPIN_ABI_MINOR,
    .log = collect_log,
    .pin_parse = tlspin_pin_parse,
    .pin_format = tlspin_pin_format,
    .host_normalize = tlspin_host_normalize,
    .host_match = tlspin_host_match,
    .internal = NULL,
};

/* The host table open_args() hands over: `services` (a tlspin without the
 * leaf_matches_host service), unless a test points it elsewhere. */
static const struct tlspin_host *open_host = &services;

/* ---------------------------------------------------------------------- */
/* Fixtures                                                                */
/* ---------------------------------------------------------------------- */

static char base_dir[256];          /* per suite run, removed by the parent */
static char dir[512];               /* per test: the pinsets directory */
static void *module_handle;
static const struct tlspin_module *mod;
static char err[4096];

/* What check_at() puts in conn.leaf_matches_host (1 unless a test says
 * otherwise: most tests are about pins, not names) and in conn.struct_size
 * (0: the full size). module_setup() resets both. */
static int conn_leaf_matches_host;
static size_t conn_struct_size;

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void base_setup(void)
{
    snprintf(base_dir, sizeof(base_dir), "/tmp/tlspin-unit-file-XXXXXX");
    if (mkdtemp(base_dir) == NULL)
        base_dir[0] = '\0';
}

static void base_teardown(void)
{
    if (base_dir[0] != '\0')
        nftw(base_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void module_setup(void)
{
    tlspin_module_entry_fn *entry;

    ck_assert_msg(base_dir[0] != '\0', "no temporary directory");
    snprintf(dir, sizeof(dir), "%s/t-XXXXXX", base_dir);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    module_handle = dlopen(MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(module_handle != NULL, "dlopen: %s", dlerror());
    entry = (tlspin_module_entry_fn *)dlsym(module_handle, TLSPIN_MODULE_ENTRY);
    ck_assert_msg(entry != NULL, "dlsym: %s", dlerror());
    mod = entry();
    ck_assert_ptr_nonnull(mod);
    logbuf[0] = '\0';
    err[0] = '\0';
    conn_leaf_matches_host = 1;
    conn_struct_size = 0;
    open_host = &services;
}

static void module_teardown(void)
{
    if (module_handle != NULL)
        dlclose(module_handle);
    module_handle = NULL;
    mod = NULL;
}

/* ---------------------------------------------------------------------- */
/* Pins and config text                                                    */
/* ---------------------------------------------------------------------- */

static void pin_bytes(int n, unsigned char pin[TLSPIN_PIN_LEN])
{
    int k;

    for (k = 0; k < TLSPIN_PIN_LEN; k++)
        pin[k] = (unsigned char)(n * 0x3b + k * 0x0d + 1);
}

static void pin_text(int n, char out[TLSPIN_PIN_TEXT_MAX])
{
    unsigned char pin[TLSPIN_PIN_LEN];

    pin_bytes(n, pin);
    tlspin_pin_format(pin, out, TLSPIN_PIN_TEXT_MAX);
}

/* What finding.expected says for a pinset of test pins 1 and 2 (most of the
 * fixtures' pinsets): "<pin 1>,<pin 2>". */
static void pins_1_2_text(char *out, size_t size)
{
    char p1[TLSPIN_PIN_TEXT_MAX], p2[TLSPIN_PIN_TEXT_MAX];

    pin_text(1, p1);
    pin_text(2, p2);
    snprintf(out, size, "%s,%s", p1, p2);
}

/* Expand @P<n>@, @C<n>@ and @K<n>@ in a template; the caller frees. */
static char *expand(const char *tmpl)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    const char *p = tmpl;

    ck_assert_ptr_nonnull(f);
    while (*p != '\0') {
        char kind;
        int n, used = 0;
        if (p[0] == '@' && sscanf(p, "@%c%d@%n", &kind, &n, &used) == 2 && used > 0 &&
            (kind == 'P' || kind == 'C' || kind == 'K')) {
            char text[TLSPIN_PIN_TEXT_MAX];
            pin_text(n, text);
            if (kind == 'P')
                fputs(text, f);
            else if (kind == 'C')
                fprintf(f, "sha256//%s", text + 7);
            else
                fprintf(f, "pin-sha256=\\\"%s\\\"", text + 7);
            p += used;
            continue;
        }
        fputc(*p++, f);
    }
    fclose(f);
    return out;
}

static void write_raw(const char *name, const char *data, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_int_eq((int)fwrite(data, 1, len, f), (int)len);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_conf(const char *name, const char *tmpl)
{
    char *text = expand(tmpl);

    write_raw(name, text, strlen(text));
    free(text);
}

/* ---------------------------------------------------------------------- */
/* Driving the module                                                      */
/* ---------------------------------------------------------------------- */

static void *open_args(const struct tlspin_arg *items, size_t n)
{
    struct tlspin_args args = { items, n };
    void *state = NULL;

    err[0] = '\0';
    if (mod->open(open_host, &args, &state, err, sizeof(err)) != 0)
        return NULL;
    ck_assert_ptr_nonnull(state);
    return state;
}

/* The args of the line "pinsets = <path>" at POLICY_FILE:POLICY_LINE, as
 * open_path() hands them over; tests that call mod->open() or mod->watch()
 * themselves need the same. The result points into *a. */
struct pinsets_args {
    const char *values[1];
    struct tlspin_arg arg;
    struct tlspin_args args;
};

static const struct tlspin_args *pinsets_args(struct pinsets_args *a, const char *path)
{
    a->values[0] = path;
    a->arg = (struct tlspin_arg){ "pinsets", a->values, 1, POLICY_FILE, POLICY_LINE };
    a->args = (struct tlspin_args){ &a->arg, 1 };
    return &a->args;
}

static void *open_path(const char *path)
{
    struct pinsets_args a;

    pinsets_args(&a, path);
    return open_args(&a.arg, 1);
}

static void *open_dir(void)
{
    return open_path(dir);
}

static void *must_open(void)
{
    void *state = open_dir();

    ck_assert_msg(state != NULL, "open failed: %s", err);
    return state;
}

/* Most tests load one fixture file: write it into the pinsets directory and
 * open that, failing the test if the module refuses it. */
static void *open_conf(const char *name, const char *tmpl)
{
    write_conf(name, tmpl);
    return must_open();
}

/* The error of the last open names the problem: `want` is somewhere in it. */
static void assert_err_has(const char *want)
{
    ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
}

/* The pinsets directory as it is now is refused, for the reason `want`. */
static void assert_open_dir_fails(const char *want)
{
    ck_assert_ptr_null(open_dir());
    assert_err_has(want);
}

struct chain {
    struct tlspin_cert certs[16];
    size_t n;
};

/* "1,2" -> certificates whose keys are test pins 1 and 2. */
static void chain_of(const char *spec, struct chain *c)
{
    const char *p = spec;

    memset(c, 0, sizeof(*c));
    while (p != NULL && *p != '\0' && c->n < N_ELEMS(c->certs)) {
        pin_bytes(atoi(p), c->certs[c->n++].spki_sha256);
        p = strchr(p, ',');
        if (p != NULL)
            p++;
    }
}

/* 2026-01-15 12:00 UTC unless a test says otherwise. */
static int64_t utc(int y, int mon, int d, int h, int min, int s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = min;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm);
}

#define NOW utc(2026, 1, 15, 12, 0, 0)

/* The connection of a full handshake as tlspin describes it to check(): the
 * one place that knows which members a test connection sets. The chains
 * must outlive *conn. */
static void fill_conn(struct tlspin_conn *conn, const char *host, unsigned port,
                      const struct chain *v, const struct chain *p, int64_t now, int leaf)
{
    memset(conn, 0, sizeof(*conn));
    conn->struct_size = sizeof(*conn);
    conn->host = host;
    conn->host_source = host != NULL ? TLSPIN_HOST_SNI : TLSPIN_HOST_UNKNOWN;
    conn->port = port;
    conn->verified = v->certs;
    conn->n_verified = v->n;
    conn->trust = TLSPIN_CHAIN_APP_VERIFIED;
    conn->presented = p->certs;
    conn->n_presented = p->n;
    conn->now = now;
    conn->leaf_matches_host = leaf;
}

static tlspin_verdict check_at(void *state, const char *host, unsigned port,
                               const char *verified, const char *presented, int64_t now,
                               struct tlspin_finding *f)
{
    struct chain v, p;
    struct tlspin_conn conn;

    chain_of(verified, &v);
    chain_of(presented, &p);
    fill_conn(&conn, host, port, &v, &p, now, conn_leaf_matches_host);
    if (conn_struct_size != 0)
        conn.struct_size = conn_struct_size;
    memset(f, 0, sizeof(*f));
    f->struct_size = sizeof(*f);
    return mod->check(state, &conn, f);
}

static tlspin_verdict check_host(void *state, const char *host, unsigned port,
                                 const char *verified, struct tlspin_finding *f)
{
    return check_at(state, host, port, verified, verified, NOW, f);
}

static const char *verdict_name(tlspin_verdict v)
{
    switch (v) {
    case TLSPIN_PASS: return "PASS";
    case TLSPIN_FAIL: return "FAIL";
    case TLSPIN_IGNORE: return "IGNORE";
    case TLSPIN_ERROR: return "ERROR";
    default: return "?";
    }
}

/* check_at() that must come to `want`: the table-driven tests' core, with a
 * failure message naming the connection and all the finding says. */
static void expect_at(void *state, const char *host, unsigned port, const char *verified,
                      const char *presented, int64_t now, tlspin_verdict want,
                      struct tlspin_finding *f)
{
    tlspin_verdict v = check_at(state, host, port, verified, presented, now, f);

    ck_assert_msg(v == want, "%s:%u [%s|%s] at %lld: %s (%s by \"%s\": %s), want %s", host, port,
                  verified, presented, (long long)now, verdict_name(v), f->event, f->rule,
                  f->reason, verdict_name(want));
}

/* expect_at() for the usual connection: at NOW, presenting what verified. */
static void expect_host(void *state, const char *host, unsigned port, const char *verified,
                        tlspin_verdict want, struct tlspin_finding *f)
{
    expect_at(state, host, port, verified, verified, NOW, want, f);
}

/* ---------------------------------------------------------------------- */
/* Descriptor and exports                                                  */
/* ---------------------------------------------------------------------- */

/* watch(): the pinsets directory and each *.conf in it as it is now, with
 * or without a state (a pinset that failed to load must still be watched). */
struct watched {
    char paths[8][1024];
    int n;
};

static void collect_path(void *ctx, const char *path)
{
    struct watched *w = ctx;
    if (w->n < 8)
        snprintf(w->paths[w->n], sizeof(w->paths[0]), "%s", path);
    w->n++;
}

START_TEST(watch_lists_directory_and_files)
{
    struct pinsets_args a;
    const struct tlspin_args *args = pinsets_args(&a, dir);
    struct watched w = { .n = 0 };
    char want[1024];
    void *state;

    write_conf("b.conf", "pinsets = ( { name = \"b\"; hosts = [\"b.example\"]; "
                         "pins = [\"@P1@\", \"@P2@\"]; } );\n");
    write_conf("a.conf", "pinsets = ( { name = \"a\"; hosts = [\"a.example\"]; "
                         "pins = [\"@P1@\", \"@P2@\"]; } );\n");
    write_raw("notes.txt", "x", 1);
    state = must_open();
    mod->watch(state, args, collect_path, &w);
    ck_assert_int_eq(w.n, 3);
    ck_assert_str_eq(w.paths[0], dir);
    snprintf(want, sizeof(want), "%s/a.conf", dir);
    ck_assert_str_eq(w.paths[1], want);
    snprintf(want, sizeof(want), "%s/b.conf", dir);
    ck_assert_str_eq(w.paths[2], want);
    mod->close(state);

    /* A broken file: open fails, watch still names it. */
    write_raw("c.conf", "pinsets = (", 11);
    ck_assert_ptr_null(open_dir());
    w.n = 0;
    mod->watch(NULL, args, collect_path, &w);
    ck_assert_int_eq(w.n, 4);
    snprintf(want, sizeof(want), "%s/c.conf", dir);
    ck_assert_str_eq(w.paths[3], want);
}
END_TEST

START_TEST(descriptor_is_complete)
{
    ck_assert_uint_eq(mod->abi_major, TLSPIN_ABI_MAJOR);
    ck_assert_uint_eq(mod->abi_minor, TLSPIN_ABI_MINOR);
    ck_assert_uint_eq(mod->struct_size, sizeof(struct tlspin_module));
    ck_assert_str_eq(mod->name, "file");
    ck_assert_ptr_nonnull(mod->version);
    ck_assert_uint_eq(mod->caps, TLSPIN_CAP_LINT | TLSPIN_CAP_HOSTS | TLSPIN_CAP_WATCH);
    ck_assert_ptr_nonnull(mod->watch);
    ck_assert_ptr_nonnull(mod->open);
    ck_assert_ptr_nonnull(mod->close);
    ck_assert_ptr_nonnull(mod->check);
    ck_assert_ptr_nonnull(mod->lint);
    ck_assert_ptr_nonnull(mod->hosts);
    ck_assert_ptr_null(mod->prepare);
}
END_TEST

START_TEST(exports_only_the_entry)
{
    char line[512], names[2048] = "";
    int n = 0;
    FILE *p = popen("nm -D --defined-only '" MODULE_PATH "' 2>&1", "r");

    ck_assert_ptr_nonnull(p);
    while (fgets(line, sizeof(line), p) != NULL) {
        char *name = strrchr(line, ' ');
        name = name != NULL ? name + 1 : line;
        name[strcspn(name, "@\n")] = '\0';
        if (name[0] == '\0')
            continue;
        n++;
        strncat(names, name, sizeof(names) - strlen(names) - 2);
        strcat(names, " ");
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_msg(n == 1 && strcmp(names, TLSPIN_MODULE_ENTRY " ") == 0,
                  "exported: %s", names);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Lookup: which pinset decides                                            */
/* ---------------------------------------------------------------------- */

static const char match_conf[] =
    "pinsets = (\n"
    "  { name = \"exact-api\";   hosts = [ \"api.example.com\" ];     pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"one-pay\";     hosts = [ \"*.pay.example.com\" ];   pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"one-example\"; hosts = [ \"*.example.com\" ];       pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"any-example\"; hosts = [ \"**.example.com\" ];      pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"any-net\";     hosts = [ \"**.example.net\" ];      pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"any-deep\";    hosts = [ \"**.deep.example.net\" ]; pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"one-foo\";     hosts = [ \"*.foo.test\" ];          pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"ip4\";         hosts = [ \"10.0.0.7\" ];            pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"ip6\";         hosts = [ \"[2001:DB8::7]\" ];       pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"case\";        hosts = [ \"MiXeD.Example.ORG.\" ];  pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"svc-443\";     hosts = [ \"svc.example.org\" ]; ports = [ 443 ];\n"
    "                          pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"any-org\";     hosts = [ \"**.example.org\" ];      pins = [ \"@P1@\", \"@P2@\" ]; }\n"
    ");\n";

static const struct {
    const char *host;
    unsigned port;
    const char *rule; /* NULL: no pinset, IGNORE */
} match_cases[] = {
    /* exact beats "*." beats "**." */
    { "api.example.com", 443, "exact-api" },
    { "b.example.com", 443, "one-example" },
    { "example.com", 443, "any-example" },              /* apex */
    { "x.api.example.com", 443, "any-example" },
    { "a.pay.example.com", 443, "one-pay" },
    { "pay.example.com", 443, "one-example" },
    { "a.b.pay.example.com", 443, "any-example" },
    { "barpay.example.com", 443, "one-example" },
    /* "*." is one label, never across or inside one */
    { "bar.foo.test", 443, "one-foo" },
    { "foo.test", 443, NULL },
    { "a.bar.foo.test", 443, NULL },
    { "barfoo.test", 443, NULL },
    { "bar.foo.test.evil", 443, NULL },
    { "bar.xfoo.test", 443, NULL },
    /* "**." any depth, the apex included; a longer suffix wins */
    { "example.net", 443, "any-net" },
    { "a.example.net", 443, "any-net" },
    { "a.b.c.example.net", 443, "any-net" },
    { "deep.example.net", 443, "any-deep" },
    { "x.y.deep.example.net", 443, "any-deep" },
    { "xdeep.example.net", 443, "any-net" },
    { "example.net.evil", 443, NULL },
    { "barexample.net", 443, NULL },
    { "net", 443, NULL },
    /* case and trailing dot, in the config and in the connection */
    { "mixed.example.org", 443, "case" },
    { "MIXED.example.org.", 443, "case" },
    { "API.EXAMPLE.COM.", 443, "exact-api" },
    /* IP literals: exact only, IPv6 in any spelling */
    { "10.0.0.7", 443, "ip4" },
    { "10.0.0.70", 443, NULL },
    { "110.0.0.7", 443, NULL },
    { "2001:db8::7", 443, "ip6" },
    { "[2001:db8::7]", 443, "ip6" },
    { "2001:DB8:0:0:0:0:0:7", 443, "ip6" },
    { "2001:db8::70", 443, NULL },
    /* a port never exempts a host from its most specific pattern: when none
     * of its pinsets lists the port, they all apply (as for an unknown port) */
    { "svc.example.org", 443, "svc-443" },
    { "svc.example.org", 80, "svc-443" },
    { "svc.example.org", 3128, "svc-443" },
    { "svc.example.org", 0, "svc-443" },
    { "other.example.org", 443, "any-org" },
    { "example.org", 443, "any-org" },
    /* unpinned */
    { "example.edu", 443, NULL },
    { "localhost", 443, NULL },
};

START_TEST(lookup_most_specific_pattern)
{
    struct tlspin_finding f;
    void *st = open_conf("match.conf", match_conf);
    const char *host = match_cases[_i].host;
    unsigned port = match_cases[_i].port;

    /* pin 99 is in no pinset: the deciding pinset fails and names itself */
    if (match_cases[_i].rule == NULL) {
        expect_host(st, host, port, "99", TLSPIN_IGNORE, &f);
        ck_assert_str_eq(f.event, "");
    } else {
        expect_host(st, host, port, "99", TLSPIN_FAIL, &f);
        ck_assert_str_eq(f.rule, match_cases[_i].rule);
        ck_assert_str_eq(f.event, "pin-mismatch");
        /* and with a pinned key it passes */
        expect_host(st, host, port, "99,2", TLSPIN_PASS, &f);
    }
    mod->close(st);
}
END_TEST

/* Ports: a listed port beats "any port"; port 0 tries every candidate. */
static const char ports_conf[] =
    "pinsets = (\n"
    "  { name = \"web-443\"; hosts = [ \"web.example.org\" ]; ports = [ 443 ];\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"web-any\"; hosts = [ \"web.example.org\" ];\n"
    "    pins = [ \"@P3@\", \"@P4@\" ]; },\n"
    "  { name = \"web-alt\"; hosts = [ \"web.example.org\" ]; ports = [ 9443, 8443, 8443 ];\n"
    "    pins = [ \"@P5@\", \"@P6@\" ]; }\n"
    ");\n";

static const struct {
    unsigned port;
    const char *verified;
    tlspin_verdict verdict;
    const char *rule;
} port_cases[] = {
    { 443, "1", TLSPIN_PASS, "web-443" },
    { 443, "3", TLSPIN_FAIL, "web-443" },   /* the any-port pinset does not help */
    { 80, "3", TLSPIN_PASS, "web-any" },
    { 80, "1", TLSPIN_FAIL, "web-any" },
    { 8443, "5", TLSPIN_PASS, "web-alt" },
    { 9443, "6", TLSPIN_PASS, "web-alt" },
    { 9443, "1", TLSPIN_FAIL, "web-alt" },
    { 0, "1", TLSPIN_PASS, "web-443" },     /* unknown port: any candidate */
    { 0, "3", TLSPIN_PASS, "web-any" },
    { 0, "6", TLSPIN_PASS, "web-alt" },
    { 0, "7", TLSPIN_FAIL, "web-443" },     /* none: the first one reports */
};

START_TEST(lookup_ports)
{
    struct tlspin_finding f;
    void *st = open_conf("ports.conf", ports_conf);

    expect_host(st, "web.example.org", port_cases[_i].port, port_cases[_i].verified,
                port_cases[_i].verdict, &f);
    ck_assert_str_eq(f.rule, port_cases[_i].rule);
    mod->close(st);
}
END_TEST

/* Through an HTTP CONNECT or SOCKS proxy the port tlspin sees is the
 * proxy's. A pinset for port 443 must still decide: a port only chooses
 * among a host's pinsets, it never hands the host to a less specific
 * pattern or leaves it unpinned. */
static const char proxy_conf[] =
    "pinsets = (\n"
    "  { name = \"bank-443\"; hosts = [ \"bank.test\" ]; ports = [ 443 ];\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"api-443\"; hosts = [ \"api.corp.test\" ]; ports = [ 443 ];\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"api-8443\"; hosts = [ \"api.corp.test\" ]; ports = [ 8443 ];\n"
    "    pins = [ \"@P5@\", \"@P6@\" ]; },\n"
    "  { name = \"corp-any\"; hosts = [ \"**.corp.test\" ];\n"
    "    pins = [ \"@P3@\", \"@P4@\" ]; }\n"
    ");\n";

/* A connection to host:port with the chain `verified` (presented as well),
 * and what the lookup must come to: the verdict and the pinset the finding
 * names (proxy_cases, and the core of expired_cases). */
struct lookup_case {
    const char *host;
    unsigned port;
    const char *verified;
    tlspin_verdict verdict;
    const char *rule;
};

static const struct lookup_case proxy_cases[] = {
    /* alone: the proxy's port does not leave the host unpinned */
    { "bank.test", 443, "1", TLSPIN_PASS, "bank-443" },
    { "bank.test", 443, "9", TLSPIN_FAIL, "bank-443" },
    { "bank.test", 3128, "9", TLSPIN_FAIL, "bank-443" },
    { "bank.test", 1080, "9", TLSPIN_FAIL, "bank-443" },
    { "bank.test", 3128, "2", TLSPIN_PASS, "bank-443" },
    /* under a wildcard with other keys: the wildcard does not take over */
    { "api.corp.test", 3128, "3", TLSPIN_FAIL, "api-443" },
    { "api.corp.test", 3128, "9", TLSPIN_FAIL, "api-443" },
    { "api.corp.test", 3128, "1", TLSPIN_PASS, "api-443" },
    { "api.corp.test", 3128, "6", TLSPIN_PASS, "api-8443" },
    /* a listed port still picks its own pinset */
    { "api.corp.test", 443, "5", TLSPIN_FAIL, "api-443" },
    { "api.corp.test", 8443, "1", TLSPIN_FAIL, "api-8443" },
    { "api.corp.test", 8443, "5", TLSPIN_PASS, "api-8443" },
    /* hosts the exact pattern does not name: the wildcard, on any port */
    { "www.corp.test", 3128, "3", TLSPIN_PASS, "corp-any" },
    { "www.corp.test", 3128, "1", TLSPIN_FAIL, "corp-any" },
};

/* Case c, with its fixture loaded in state: its verdict and its pinset. */
static void expect_lookup_case(void *state, const struct lookup_case *c,
                               struct tlspin_finding *f)
{
    expect_host(state, c->host, c->port, c->verified, c->verdict, f);
    ck_assert_str_eq(f->rule, c->rule);
}

START_TEST(lookup_port_never_exempts)
{
    struct tlspin_finding f;
    void *st = open_conf("proxy.conf", proxy_conf);

    expect_lookup_case(st, &proxy_cases[_i], &f);
    if (proxy_cases[_i].verdict == TLSPIN_FAIL)
        ck_assert_str_eq(f.event, "pin-mismatch");
    mod->close(st);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Expired pinsets: skipped by the lookup, noted, never shadowing          */
/* ---------------------------------------------------------------------- */

/* NOW is 2026-01-15: "2025-12-31" has expired, "2027-06-30" has not. */
static const char expired_conf[] =
    "pinsets = (\n"
    "  { name = \"good-old\"; hosts = [ \"good.test\" ]; expires = \"2025-12-31\";\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; deny = [ \"@P9@\" ]; },\n"
    "  { name = \"good-live\"; hosts = [ \"**.good.test\" ]; expires = \"2027-06-30\";\n"
    "    pins = [ \"@P3@\", \"@P4@\" ]; deny = [ \"@P8@\" ]; },\n"
    "  { name = \"ro-old\"; hosts = [ \"ro.r.test\" ]; expires = \"2025-12-31\";\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"ro-live\"; hosts = [ \"*.r.test\" ]; report_only = true;\n"
    "    pins = [ \"@P3@\", \"@P4@\" ]; },\n"
    "  { name = \"both-old\"; hosts = [ \"x.both.test\" ]; expires = \"2025-12-31\";\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"both-older\"; hosts = [ \"**.both.test\" ]; expires = \"2025-06-30\";\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"mix-any\"; hosts = [ \"mix.example\" ]; expires = \"2025-12-31\";\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; },\n"
    "  { name = \"mix-443\"; hosts = [ \"mix.example\" ]; ports = [ 443 ];\n"
    "    pins = [ \"@P3@\", \"@P4@\" ]; }\n"
    ");\n";

static const struct {
    struct lookup_case c;
    const char *event;
    int report_only;
} expired_cases[] = {
    /* the live "**." pinset decides in place of the expired exact one */
    { { "good.test", 443, "9,7", TLSPIN_FAIL, "good-live" }, "pin-mismatch", 0 },
    { { "good.test", 443, "1", TLSPIN_FAIL, "good-live" }, "pin-mismatch", 0 },
    { { "good.test", 443, "8,3", TLSPIN_FAIL, "good-live" }, "pin-deny", 0 },
    { { "good.test", 0, "9", TLSPIN_FAIL, "good-live" }, "pin-mismatch", 0 },
    /* the expired pinset's deny list is not enforced either */
    { { "good.test", 443, "9,3", TLSPIN_PASS, "good-old" }, "pinset-expired", 0 },
    /* a pass keeps the note that the more specific pinset expired */
    { { "good.test", 443, "3", TLSPIN_PASS, "good-old" }, "pinset-expired", 0 },
    /* hosts the expired pattern never named: no note */
    { { "a.good.test", 443, "3", TLSPIN_PASS, "good-live" }, "", 0 },
    { { "a.good.test", 443, "9", TLSPIN_FAIL, "good-live" }, "pin-mismatch", 0 },
    /* a report-only failure's finding wins over the note as well */
    { { "ro.r.test", 443, "9", TLSPIN_FAIL, "ro-live" }, "pin-mismatch", 1 },
    { { "ro.r.test", 443, "4", TLSPIN_PASS, "ro-old" }, "pinset-expired", 0 },
    /* nothing live: not enforced, the most specific expired pinset noted */
    { { "x.both.test", 443, "9", TLSPIN_IGNORE, "both-old" }, "pinset-expired", 0 },
    { { "y.both.test", 443, "9", TLSPIN_IGNORE, "both-older" }, "pinset-expired", 0 },
    /* within one pattern: the expired any-port pinset no longer takes port
     * 80, the live pinset for 443 does (no pinset lists 80) */
    { { "mix.example", 443, "9", TLSPIN_FAIL, "mix-443" }, "pin-mismatch", 0 },
    { { "mix.example", 443, "3", TLSPIN_PASS, "mix-443" }, "", 0 },
    { { "mix.example", 80, "1", TLSPIN_FAIL, "mix-443" }, "pin-mismatch", 0 },
    { { "mix.example", 80, "3", TLSPIN_PASS, "mix-any" }, "pinset-expired", 0 },
};

START_TEST(expired_pinset_never_shadows)
{
    struct tlspin_finding f;
    void *st = open_conf("expired.conf", expired_conf);

    expect_lookup_case(st, &expired_cases[_i].c, &f);
    ck_assert_str_eq(f.event, expired_cases[_i].event);
    ck_assert_int_eq(f.report_only, expired_cases[_i].report_only);
    mod->close(st);
}
END_TEST

START_TEST(expired_note_text)
{
    char want[256];
    struct tlspin_finding f;
    void *st = open_conf("expired.conf", expired_conf);

    pins_1_2_text(want, sizeof(want));

    /* a live pinset passed: the note names the expired one and the decider */
    ck_assert_int_eq(check_host(st, "good.test", 443, "4", &f), TLSPIN_PASS);
    ck_assert_str_eq(f.rule, "good-old");
    ck_assert_str_eq(f.expected, want);
    ck_assert_str_eq(f.reason, "pinset expired on 2025-12-31; not enforced; "
                               "pinset \"good-live\" decided");
    ck_assert_int_eq(f.report_only, 0);

    /* nothing live */
    ck_assert_int_eq(check_host(st, "x.both.test", 443, "4", &f), TLSPIN_IGNORE);
    ck_assert_str_eq(f.reason, "pinset expired on 2025-12-31; not enforced");
    mod->close(st);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Decision on the pinset found                                            */
/* ---------------------------------------------------------------------- */

static const char decide_conf[] =
    "pinsets = (\n"
    "  { name = \"d\"; hosts = [ \"d.example.com\" ];\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; deny = [ \"@P3@\" ]; },\n"
    "  { name = \"ro\"; hosts = [ \"ro.example.com\" ]; report_only = true;\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; deny = [ \"@P3@\" ]; },\n"
    "  { name = \"exp\"; hosts = [ \"exp.example.com\" ]; expires = \"2027-06-30\";\n"
    "    pins = [ \"@P1@\", \"@P2@\" ]; deny = [ \"@P3@\" ]; },\n"
    "  { name = \"single\"; hosts = [ \"single.example.com\" ]; allow_single_pin = true;\n"
    "    pins = [ \"@K4@\" ]; },\n"
    "  { name = \"spellings\"; hosts = [ \"sp.example.com\" ];\n"
    "    pins = [ \"@C5@\", \"@K6@\", \"  @P7@ \" ]; }\n"
    ");\n";

/* 2027-06-30T23:59:59Z and 2027-07-01T00:00:00Z (checked in finding_text) */
#define LAST_ENFORCED INT64_C(1814399999)
#define FIRST_EXPIRED INT64_C(1814400000)

static const struct {
    const char *host;
    const char *verified;
    const char *presented;
    int64_t now;
    tlspin_verdict verdict;
    const char *event;
    int report_only;
} decide_cases[] = {
    /* a pin anywhere in the verified chain */
    { "d.example.com", "1", "1", 0, TLSPIN_PASS, "", 0 },
    { "d.example.com", "8,9,2", "8,9,2", 0, TLSPIN_PASS, "", 0 },
    { "d.example.com", "8,9", "8,9", 0, TLSPIN_FAIL, "pin-mismatch", 0 },
    { "d.example.com", "", "", 0, TLSPIN_FAIL, "pin-mismatch", 0 },
    /* a pin only among the presented certificates does not count */
    { "d.example.com", "8,9", "8,9,1", 0, TLSPIN_FAIL, "pin-mismatch", 0 },
    { "d.example.com", "8", "1,2", 0, TLSPIN_FAIL, "pin-mismatch", 0 },
    /* a denied key anywhere fails, even next to a pinned one */
    { "d.example.com", "1,3", "1,3", 0, TLSPIN_FAIL, "pin-deny", 0 },
    { "d.example.com", "3,1", "3,1", 0, TLSPIN_FAIL, "pin-deny", 0 },
    { "d.example.com", "1", "1,3", 0, TLSPIN_FAIL, "pin-deny", 0 },
    { "d.example.com", "1", "", 0, TLSPIN_PASS, "", 0 },
    /* report only: the failure says so */
    { "ro.example.com", "1", "1", 0, TLSPIN_PASS, "", 0 },
    { "ro.example.com", "8", "8", 0, TLSPIN_FAIL, "pin-mismatch", 1 },
    { "ro.example.com", "1", "1,3", 0, TLSPIN_FAIL, "pin-deny", 1 },
    /* enforced through the end of the expiry day (UTC), then not */
    { "exp.example.com", "1", "1", LAST_ENFORCED, TLSPIN_PASS, "", 0 },
    { "exp.example.com", "8", "8", LAST_ENFORCED, TLSPIN_FAIL, "pin-mismatch", 0 },
    { "exp.example.com", "8", "8", FIRST_EXPIRED, TLSPIN_IGNORE, "pinset-expired", 0 },
    { "exp.example.com", "1", "1", FIRST_EXPIRED, TLSPIN_IGNORE, "pinset-expired", 0 },
    { "exp.example.com", "3", "3", FIRST_EXPIRED, TLSPIN_IGNORE, "pinset-expired", 0 },
    /* a single pin where allowed; every pin spelling */
    { "single.example.com", "4", "4", 0, TLSPIN_PASS, "", 0 },
    { "single.example.com", "1", "1", 0, TLSPIN_FAIL, "pin-mismatch", 0 },
    { "sp.example.com", "5", "5", 0, TLSPIN_PASS, "", 0 },
    { "sp.example.com", "6", "6", 0, TLSPIN_PASS, "", 0 },
    { "sp.example.com", "7", "7", 0, TLSPIN_PASS, "", 0 },
    { "sp.example.com", "1", "1", 0, TLSPIN_FAIL, "pin-mismatch", 0 },
};

START_TEST(decide_table)
{
    struct tlspin_finding f;
    int64_t now = decide_cases[_i].now ? decide_cases[_i].now : NOW;
    void *st = open_conf("decide.conf", decide_conf);

    expect_at(st, decide_cases[_i].host, 443, decide_cases[_i].verified,
              decide_cases[_i].presented, now, decide_cases[_i].verdict, &f);
    ck_assert_str_eq(f.event, decide_cases[_i].event);
    ck_assert_int_eq(f.report_only, decide_cases[_i].report_only);
    mod->close(st);
}
END_TEST

START_TEST(finding_text)
{
    char want[256];
    struct tlspin_finding f;
    void *st;

    ck_assert(LAST_ENFORCED == utc(2027, 6, 30, 23, 59, 59));
    ck_assert(FIRST_EXPIRED == utc(2027, 7, 1, 0, 0, 0));
    st = open_conf("decide.conf", decide_conf);
    pins_1_2_text(want, sizeof(want));

    ck_assert_int_eq(check_host(st, "d.example.com", 443, "8", &f), TLSPIN_FAIL);
    ck_assert_str_eq(f.rule, "d");
    ck_assert_str_eq(f.expected, want);
    ck_assert_str_eq(f.reason, "no certificate of the verified chain has a pinned key");

    ck_assert_int_eq(check_host(st, "d.example.com", 443, "1,3", &f), TLSPIN_FAIL);
    ck_assert_str_eq(f.reason, "the chain contains a denied key");
    ck_assert_str_eq(f.expected, want);

    ck_assert_int_eq(check_at(st, "exp.example.com", 443, "8", "8", FIRST_EXPIRED, &f),
                     TLSPIN_IGNORE);
    ck_assert_str_eq(f.rule, "exp");
    ck_assert_str_eq(f.expected, want);
    ck_assert_str_eq(f.reason, "pinset expired on 2027-06-30; not enforced");

    ck_assert_int_eq(check_host(st, "d.example.com", 443, "1", &f), TLSPIN_PASS);
    ck_assert_str_eq(f.rule, "d");
    ck_assert_str_eq(f.event, "");

    ck_assert_int_eq(check_host(st, "unpinned.example.com", 443, "1", &f), TLSPIN_IGNORE);
    ck_assert_str_eq(f.rule, "");
    ck_assert_str_eq(f.event, "");
    mod->close(st);
}
END_TEST

/* A key pinned on an intermediate or root vouches for every certificate
 * that CA issued: it counts only when the leaf is valid for the host. A
 * pinned leaf key needs no name; deny pins count anywhere. */
#define LEAF_ABSENT 99 /* conn.struct_size ends before leaf_matches_host */

static const struct {
    int leaf;            /* conn.leaf_matches_host, or LEAF_ABSENT */
    const char *verified;
    const char *presented;
    tlspin_verdict verdict;
    const char *event;
    const char *reason;  /* NULL: not checked */
} ca_cases[] = {
    /* a pinned leaf key, whatever the name */
    { 1, "1", "1", TLSPIN_PASS, "", NULL },
    { 0, "1", "1", TLSPIN_PASS, "", NULL },
    { -1, "1", "1", TLSPIN_PASS, "", NULL },
    { LEAF_ABSENT, "1", "1", TLSPIN_PASS, "", NULL },
    { 0, "2,8,9", "2,8,9", TLSPIN_PASS, "", NULL },
    /* a pinned CA key: only with a leaf valid for the host */
    { 1, "8,2", "8,2", TLSPIN_PASS, "", NULL },
    { 1, "8,9,1", "8,9,1", TLSPIN_PASS, "", NULL },
    { 0, "8,2", "8,2", TLSPIN_FAIL, "pin-mismatch",
      "a pinned CA key is in the chain but the leaf certificate is not valid for "
      "d.example.com" },
    { 0, "8,9,1", "8,9,1", TLSPIN_FAIL, "pin-mismatch", NULL },
    { -1, "8,2", "8,2", TLSPIN_FAIL, "pin-mismatch",
      "a pinned CA key is in the chain but the leaf certificate is not known to be "
      "valid for d.example.com" },
    { 2, "8,2", "8,2", TLSPIN_FAIL, "pin-mismatch", NULL },  /* only 1 means yes */
    { LEAF_ABSENT, "8,2", "8,2", TLSPIN_FAIL, "pin-mismatch",
      "a pinned CA key is in the chain but the leaf certificate is not known to be "
      "valid for d.example.com" },
    /* no pinned key at all: the usual reason */
    { 0, "8,9", "8,9", TLSPIN_FAIL, "pin-mismatch",
      "no certificate of the verified chain has a pinned key" },
    /* presented-only keys still do not count */
    { 1, "8", "8,1", TLSPIN_FAIL, "pin-mismatch", NULL },
    /* deny: anywhere, verified or presented, leaf or not, any name */
    { 1, "1,3", "1,3", TLSPIN_FAIL, "pin-deny", NULL },
    { 0, "3,1", "3,1", TLSPIN_FAIL, "pin-deny", NULL },
    { 0, "1", "1,3", TLSPIN_FAIL, "pin-deny", NULL },
    { 0, "8,2", "8,2,3", TLSPIN_FAIL, "pin-deny", NULL },
};

/* Case i of ca_cases, on d.example.com with decide_conf loaded in state:
 * the verdict, event and reason (when given) it wants. `source` says where
 * leaf_matches_host came from, for the failure message. */
static void expect_ca_case(void *state, int i, const char *source, struct tlspin_finding *f)
{
    tlspin_verdict v = check_at(state, "d.example.com", 443, ca_cases[i].verified,
                                ca_cases[i].presented, NOW, f);

    ck_assert_msg(v == ca_cases[i].verdict, "%s %d [%s|%s]: %s (%s), want %s", source,
                  ca_cases[i].leaf, ca_cases[i].verified, ca_cases[i].presented,
                  verdict_name(v), f->reason, verdict_name(ca_cases[i].verdict));
    ck_assert_str_eq(f->event, ca_cases[i].event);
    if (ca_cases[i].reason != NULL)
        ck_assert_str_eq(f->reason, ca_cases[i].reason);
}

START_TEST(ca_pin_needs_leaf_valid_for_host)
{
    struct tlspin_finding f;
    void *st = open_conf("decide.conf", decide_conf);

    if (ca_cases[_i].leaf == LEAF_ABSENT) {
        /* an older tlspin: the member holds whatever follows its struct */
        conn_leaf_matches_host = 1;
        conn_struct_size = offsetof(struct tlspin_conn, leaf_matches_host);
    } else {
        conn_leaf_matches_host = ca_cases[_i].leaf;
    }
    expect_ca_case(st, _i, "leaf", &f);
    ck_assert_str_eq(f.rule, "d");
    mod->close(st);
}
END_TEST

/* tlspin 1.1 works out leaf_matches_host only when asked: the module asks
 * the service (never reads conn's member, left -1 here), and only for a CA
 * pin — a pinned leaf, a deny or no pinned key at all need no name. */
static int service_answer, service_asks;

static int leaf_service(const struct tlspin_conn *conn)
{
    (void)conn;
    service_asks++;
    return service_answer;
}

START_TEST(ca_pin_asks_tlspin_lazily)
{
    struct tlspin_host with_service = services;
    struct tlspin_finding f;
    void *st;
    int ca_only;

    if (ca_cases[_i].leaf == LEAF_ABSENT)
        return;   /* a 1.0 tlspin: covered above */
    with_service.leaf_matches_host = leaf_service;
    open_host = &with_service;
    st = open_conf("decide.conf", decide_conf);
    service_answer = ca_cases[_i].leaf;
    service_asks = 0;
    conn_leaf_matches_host = -1;
    expect_ca_case(st, _i, "service", &f);
    /* asked exactly when the verified chain has a pinned key only above the
     * leaf (pins 1 and 2 of decide_conf; 3 is denied, 8 and 9 unpinned) */
    ca_only = ca_cases[_i].verified[0] != '1' && ca_cases[_i].verified[0] != '2' &&
              (strchr(ca_cases[_i].verified, '1') || strchr(ca_cases[_i].verified, '2')) &&
              !strchr(ca_cases[_i].presented, '3');
    ck_assert_msg(ca_only ? service_asks > 0 : service_asks == 0, "service asked %d times for "
                  "[%s|%s]", service_asks, ca_cases[_i].verified, ca_cases[_i].presented);
    mod->close(st);
}
END_TEST

/* With several candidates (port unknown), a CA pin of one pinset does not
 * pass without the name either; a leaf pin of another still does. */
START_TEST(ca_pin_with_several_candidates)
{
    struct tlspin_finding f;
    void *st;

    st = open_conf("ports.conf", ports_conf);
    conn_leaf_matches_host = 0;
    ck_assert_int_eq(check_host(st, "web.example.org", 0, "8,1", &f), TLSPIN_FAIL);
    ck_assert_str_eq(f.event, "pin-mismatch");
    ck_assert_int_eq(check_host(st, "web.example.org", 0, "8,3", &f), TLSPIN_FAIL);
    ck_assert_int_eq(check_host(st, "web.example.org", 0, "3,1", &f), TLSPIN_PASS);
    ck_assert_str_eq(f.rule, "web-any");
    conn_leaf_matches_host = 1;
    ck_assert_int_eq(check_host(st, "web.example.org", 0, "8,5", &f), TLSPIN_PASS);
    ck_assert_str_eq(f.rule, "web-alt");
    mod->close(st);
}
END_TEST

/* finding.struct_size is tlspin's: the module writes no member that does not
 * lie entirely within it (a module built against a newer, larger struct must
 * not write past an older tlspin's). */
struct big_finding {
    struct tlspin_finding f;
    unsigned char after[64];
};

static void check_sized(void *st, const char *host, const char *verified, size_t size,
                        struct big_finding *b, tlspin_verdict want)
{
    struct chain v;
    struct tlspin_conn conn;

    chain_of(verified, &v);
    fill_conn(&conn, host, 443, &v, &v, NOW, 1);
    memset(b, 0xa5, sizeof(*b));
    b->f.struct_size = size;
    ck_assert_int_eq(mod->check(st, &conn, &b->f), want);
}

static int untouched(const void *p, size_t n)
{
    const unsigned char *c = p;
    size_t i;

    for (i = 0; i < n; i++)
        if (c[i] != 0xa5)
            return 0;
    return 1;
}

/* Nothing of *b but its struct_size member was written: what a finding
 * whose struct_size is too small for any other member must look like. */
static int untouched_past_size(const struct big_finding *b)
{
    return untouched((const unsigned char *)b + sizeof(size_t), sizeof(*b) - sizeof(size_t));
}

#define FINDING_END(m) (offsetof(struct tlspin_finding, m) + sizeof(((struct tlspin_finding *)0)->m))

START_TEST(finding_struct_size_is_respected)
{
    struct big_finding b;
    void *st;

    st = open_conf("decide.conf", decide_conf);

    /* the full struct: every member written */
    check_sized(st, "ro.example.com", "8", sizeof(struct tlspin_finding), &b, TLSPIN_FAIL);
    ck_assert_str_eq(b.f.event, "pin-mismatch");
    ck_assert_str_eq(b.f.rule, "ro");
    ck_assert_str_eq(b.f.reason, "no certificate of the verified chain has a pinned key");
    ck_assert_int_eq(b.f.report_only, 1);
    ck_assert_uint_eq(b.f.struct_size, sizeof(struct tlspin_finding));
    ck_assert(untouched(b.after, sizeof(b.after)));

    /* event and rule only */
    check_sized(st, "ro.example.com", "8", FINDING_END(rule), &b, TLSPIN_FAIL);
    ck_assert_str_eq(b.f.event, "pin-mismatch");
    ck_assert_str_eq(b.f.rule, "ro");
    ck_assert(untouched(b.f.expected, sizeof(b.f.expected)));
    ck_assert(untouched(b.f.reason, sizeof(b.f.reason)));
    ck_assert(untouched(&b.f.report_only, sizeof(b.f.report_only)));
    ck_assert(untouched(b.after, sizeof(b.after)));

    /* a member cut by the size is not written at all */
    check_sized(st, "ro.example.com", "8", FINDING_END(reason) - 1, &b, TLSPIN_FAIL);
    ck_assert(strncmp(b.f.expected, "sha256/", 7) == 0);
    ck_assert_uint_lt(strlen(b.f.expected), sizeof(b.f.expected));
    ck_assert(untouched(b.f.reason, sizeof(b.f.reason)));
    ck_assert(untouched(&b.f.report_only, sizeof(b.f.report_only)));

    /* everything but report_only */
    check_sized(st, "ro.example.com", "8", offsetof(struct tlspin_finding, report_only), &b,
                TLSPIN_FAIL);
    ck_assert_str_eq(b.f.reason, "no certificate of the verified chain has a pinned key");
    ck_assert(untouched(&b.f.report_only, sizeof(b.f.report_only)));

    /* nothing: not even on a pass, an expiry or an error */
    check_sized(st, "d.example.com", "1", 0, &b, TLSPIN_PASS);
    ck_assert(untouched_past_size(&b));
    check_sized(st, "d.example.com", "9", sizeof(size_t), &b, TLSPIN_FAIL);
    ck_assert(untouched_past_size(&b));
    memset(&b, 0xa5, sizeof(b));
    b.f.struct_size = sizeof(size_t);
    ck_assert_int_eq(mod->check(st, NULL, &b.f), TLSPIN_ERROR);
    ck_assert(untouched_past_size(&b));

    /* a larger finding (a newer tlspin): nothing past this module's struct */
    check_sized(st, "d.example.com", "9", sizeof(b), &b, TLSPIN_FAIL);
    ck_assert_str_eq(b.f.event, "pin-mismatch");
    ck_assert(untouched(b.after, sizeof(b.after)));
    mod->close(st);
}
END_TEST

/* 64 pins do not fit in finding.expected: it is cut, with "...". */
START_TEST(finding_expected_is_truncated)
{
    char *tmpl = malloc(8192), p1[TLSPIN_PIN_TEXT_MAX];
    struct tlspin_finding f;
    size_t len;
    void *st;
    int i;

    ck_assert_ptr_nonnull(tmpl);
    strcpy(tmpl, "pinsets = ( { name = \"many\"; hosts = [ \"m.example.com\" ]; pins = [ ");
    for (i = 1; i <= 64; i++)
        sprintf(tmpl + strlen(tmpl), "%s\"@P%d@\"", i > 1 ? ", " : "", i);
    strcat(tmpl, " ]; } );\n");
    write_conf("many.conf", tmpl);
    free(tmpl);
    st = must_open();
    ck_assert_int_eq(check_host(st, "m.example.com", 443, "99", &f), TLSPIN_FAIL);
    len = strlen(f.expected);
    ck_assert_uint_lt(len, sizeof(f.expected));
    ck_assert_str_eq(f.expected + len - 4, ",...");
    pin_text(1, p1);
    ck_assert(strncmp(f.expected, p1, strlen(p1)) == 0);
    /* whole pins only: what precedes ",..." ends a pin */
    ck_assert_int_eq(f.expected[len - 5], '=');
    ck_assert_int_eq(check_host(st, "m.example.com", 443, "64", &f), TLSPIN_PASS);
    mod->close(st);
}
END_TEST

START_TEST(check_odd_connections)
{
    struct tlspin_finding f;
    struct tlspin_conn conn;
    char longname[400];
    void *st;

    st = open_conf("decide.conf", decide_conf);
    ck_assert_int_eq(check_host(st, NULL, 443, "1", &f), TLSPIN_IGNORE);
    ck_assert_str_eq(f.event, "");
    ck_assert_int_eq(mod->check(st, NULL, &f), TLSPIN_ERROR);
    memset(&conn, 0, sizeof(conn));
    conn.struct_size = offsetof(struct tlspin_conn, verified); /* an older, smaller tlspin */
    conn.host = "d.example.com";
    ck_assert_int_eq(mod->check(st, &conn, &f), TLSPIN_ERROR);
    conn.struct_size = sizeof(conn);
    conn.now = NOW;
    ck_assert_int_eq(mod->check(st, &conn, NULL), TLSPIN_FAIL); /* no chain, no finding */
    conn.n_verified = 3;                                        /* NULL chain, n > 0 */
    ck_assert_int_eq(mod->check(st, &conn, &f), TLSPIN_FAIL);
    /* longer than any host name: "**." patterns could match it, so ERROR */
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ck_assert_int_eq(check_host(st, longname, 443, "1", &f), TLSPIN_ERROR);
    ck_assert_int_eq(check_host(st, "", 443, "1", &f), TLSPIN_IGNORE);
    ck_assert_int_eq(check_host(st, "d.example.com\x01", 443, "1", &f), TLSPIN_IGNORE);
    mod->close(st);
}
END_TEST

/* A connection whose server tlspin could not establish (host NULL: no name
 * given, no peer address found) may be one to any address: while a live
 * pinset covers an IP address the verdict is ERROR, so on_error decides,
 * never IGNORE; pinsets on names alone have no opinion (a program that
 * names its server is decided by that name). */
static const struct {
    const char *conf;          /* judged at NOW */
    tlspin_verdict verdict;
    const char *rule;          /* "" with IGNORE */
    int report_only;
} unknown_cases[] = {
    { "pinsets = ( { name = \"n\"; hosts = [ \"a.example\", \"*.b.example\" ];\n"
      "    pins = [ \"@P1@\", \"@P2@\" ]; } );\n", TLSPIN_IGNORE, "", 0 },
    { "pinsets = ( { name = \"n\"; hosts = [ \"a.example\" ]; pins = [ \"@P1@\", \"@P2@\" ]; },\n"
      "  { name = \"v4\"; hosts = [ \"10.0.0.7\" ]; pins = [ \"@P1@\", \"@P2@\" ]; } );\n",
      TLSPIN_ERROR, "v4", 0 },
    { "pinsets = ( { name = \"v6\"; hosts = [ \"[2001:db8::7]\" ]; ports = [ 443 ];\n"
      "    pins = [ \"@P1@\", \"@P2@\" ]; } );\n", TLSPIN_ERROR, "v6", 0 },
    /* expired: not enforced, so no opinion either */
    { "pinsets = ( { name = \"old\"; hosts = [ \"10.0.0.7\" ]; expires = \"2025-12-31\";\n"
      "    pins = [ \"@P1@\", \"@P2@\" ]; } );\n", TLSPIN_IGNORE, "", 0 },
    { "pinsets = ( { name = \"old\"; hosts = [ \"10.0.0.7\" ]; expires = \"2027-06-30\";\n"
      "    pins = [ \"@P1@\", \"@P2@\" ]; } );\n", TLSPIN_ERROR, "old", 0 },
    /* report-only pinsets report; one enforcing pinset is enough to refuse */
    { "pinsets = ( { name = \"ro\"; hosts = [ \"10.0.0.7\" ]; report_only = true;\n"
      "    pins = [ \"@P1@\", \"@P2@\" ]; } );\n", TLSPIN_FAIL, "ro", 1 },
    { "pinsets = ( { name = \"ro\"; hosts = [ \"10.0.0.7\" ]; report_only = true;\n"
      "    pins = [ \"@P1@\", \"@P2@\" ]; },\n"
      "  { name = \"enf\"; hosts = [ \"10.0.0.8\" ]; pins = [ \"@P1@\", \"@P2@\" ]; } );\n",
      TLSPIN_ERROR, "enf", 0 },
};

START_TEST(unknown_host_errs_where_an_ip_is_pinned)
{
    struct tlspin_finding f;
    char want_expected[256];
    void *st = open_conf("u.conf", unknown_cases[_i].conf);

    expect_at(st, NULL, 0, "9", "9", NOW, unknown_cases[_i].verdict, &f);
    ck_assert_str_eq(f.rule, unknown_cases[_i].rule);
    ck_assert_int_eq(f.report_only, unknown_cases[_i].report_only);
    if (unknown_cases[_i].verdict == TLSPIN_IGNORE) {
        ck_assert_str_eq(f.event, "");
    } else {
        pins_1_2_text(want_expected, sizeof(want_expected));
        ck_assert_str_eq(f.event, "host-unknown");
        ck_assert_str_eq(f.expected, want_expected);
        ck_assert_msg(strstr(f.reason, "no name was given") != NULL, "%s", f.reason);
    }
    /* a known host is decided as ever: an unpinned one has no opinion */
    expect_host(st, "192.0.2.1", 443, "9", TLSPIN_IGNORE, &f);
    mod->close(st);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Loading: what is accepted                                               */
/* ---------------------------------------------------------------------- */

START_TEST(load_empty_directory)
{
    struct tlspin_finding f;
    void *st = must_open();

    ck_assert_int_eq(check_host(st, "api.example.com", 443, "1", &f), TLSPIN_IGNORE);
    ck_assert_str_eq(logbuf, ""); /* a guest in every process: silent when all is well */
    mod->close(st);
}
END_TEST

START_TEST(load_skips_other_files)
{
    struct tlspin_finding f;
    char sub[1024];
    void *st;

    write_conf("README", "not a pinsets file\n");
    write_conf(".hidden.conf", "garbage ((\n");
    write_conf("old.conf.bak", "garbage ((\n");
    write_conf("conf", "garbage ((\n");
    write_conf("comments.conf", "# nothing yet\n// nor here\n/* nor here */\npinsets = ();\n");
    write_conf("none.conf", "pinsets = ();\n");
    write_conf("array.conf", "pinsets = [];\n");
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    write_conf("sub/deeper.conf", "garbage ((\n");
    st = open_conf("z.conf", "pinsets = ( { name = \"z\"; hosts = [ \"z.example.com\" ];\n"
                             "  pins = [ \"@P1@\", \"@P2@\" ]; } );\n");
    ck_assert_int_eq(check_host(st, "z.example.com", 443, "1", &f), TLSPIN_PASS);
    mod->close(st);
}
END_TEST

/* A file without its pinsets line (empty, or cut after its comments) is
 * what a reload sees mid-write: an error, never "no pins". */
START_TEST(load_refuses_file_without_pinsets)
{
    const char *texts[] = { "", "# the api pinset\n", "/* cut here */\n\n" };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        write_conf("a.conf", texts[i]);
        assert_open_dir_fails("a.conf:1: no \"pinsets = ( ... );\"");
    }
    void *st = open_conf("a.conf", "pinsets = ();\n");
    mod->close(st);
}
END_TEST

START_TEST(load_single_file)
{
    char path[1024];
    struct tlspin_finding f;
    void *st;

    write_conf("one.txt", "pinsets = ( { name = \"z\"; hosts = [ \"z.example.com\" ];\n"
                          "  pins = [ \"@P1@\", \"@P2@\" ]; } );\n");
    snprintf(path, sizeof(path), "%s/one.txt", dir);
    st = open_path(path);
    ck_assert_msg(st != NULL, "%s", err);
    ck_assert_int_eq(check_host(st, "z.example.com", 443, "9", &f), TLSPIN_FAIL);
    mod->close(st);
}
END_TEST

START_TEST(load_accepts_edge_values)
{
    struct tlspin_finding f;
    void *st;

    write_conf("edge.conf",
               "pinsets = (\n"
               "  { name = \"Leap_Day-1.x\"; hosts = ( \"a.example.com\" ); ports = ( 1, 65535 );\n"
               "    pins = ( \"@P1@\", \"@P2@\" ); expires = \"2028-02-29\"; report_only = false;\n"
               "    allow_single_pin = false; deny = []; },\n"
               "  { name = \"same-host-other-port\"; hosts = [ \"a.example.com\" ]; ports = [ 443 ];\n"
               "    pins = [ \"@P3@\", \"@P4@\" ]; },\n"
               "  { name = \"hex-port\"; hosts = [ \"b.example.com\" ]; ports = [ 0x1bb ];\n"
               "    pins = [ \"@P1@\", \"@P2@\" ]; },\n"
               "  { name = \"b-other-ports\"; hosts = [ \"b.example.com\" ];\n"
               "    pins = [ \"@P5@\", \"@P6@\" ]; }\n"
               ");\n");
    st = must_open();
    ck_assert_int_eq(check_host(st, "a.example.com", 65535, "1", &f), TLSPIN_PASS);
    ck_assert_int_eq(check_host(st, "a.example.com", 443, "3", &f), TLSPIN_PASS);
    /* 0x1bb is port 443: there hex-port decides, elsewhere the any-port one */
    ck_assert_int_eq(check_host(st, "b.example.com", 443, "1", &f), TLSPIN_PASS);
    ck_assert_str_eq(f.rule, "hex-port");
    ck_assert_int_eq(check_host(st, "b.example.com", 443, "5", &f), TLSPIN_FAIL);
    ck_assert_str_eq(f.rule, "hex-port");
    ck_assert_int_eq(check_host(st, "b.example.com", 8443, "1", &f), TLSPIN_FAIL);
    ck_assert_str_eq(f.rule, "b-other-ports");
    ck_assert_int_eq(check_host(st, "b.example.com", 8443, "5", &f), TLSPIN_PASS);
    mod->close(st);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Loading: what is refused, and where it says the problem is              */
/* ---------------------------------------------------------------------- */

#define PINSET_OK "pins = [ \"@P1@\", \"@P2@\" ];"

static const struct bad_case {
    const char *text;      /* a.conf */
    const char *text_b;    /* b.conf, or NULL */
    const char *at;        /* the file named with the line */
    unsigned line;
    const char *why;
    const char *also;      /* a second text the error must hold, or NULL */
} bad_cases[] = {
    /* syntax and structure */
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\", ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "syntax error", NULL },
    { "pinset = ();\n", NULL, "a.conf", 1, "unknown key \"pinset\"", NULL },
    { "# c\npinsets = 5;\n", NULL, "a.conf", 2, "\"pinsets\" must be a list", NULL },
    { "pinsets = (\n  \"x\"\n);\n", NULL, "a.conf", 2, "each pinset must be a group", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    colour = \"red\";\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "unknown key \"colour\" in pinset \"a\"", NULL },
    { "@include \"/etc/passwd\"\n", NULL, "a.conf", 1, "@include are not allowed", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\\x00.evil\" ]; " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "\"\\x00\" is not allowed", NULL },
    /* libconfig stamps an array element with the line of the token after it:
     * the module finds the element's own line */
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\",\n      \"*.com\"\n"
      "      # comment\n\n    ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "bad host pattern", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = [ 443,\n"
      "      0\n    ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 5, "port 0 is not in 1..65535", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    pins = [ \"@P1@\"\n"
      "      , \"sha256/abc=\"\n\n    ]; }\n);\n",
      NULL, "a.conf", 5, "is 2 bytes", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"x.example.com\" ]; " PINSET_OK " },\n"
      "  { name = \"b\";\n    hosts = [\n      \"y.example.com\",\n      \"x.example.com\"\n"
      "    ]; " PINSET_OK " }\n);\n",
      NULL, "a.conf", 7, "already claimed by pinset \"a\"", "/a.conf:3 for any port" },
    /* name */
    { "pinsets = (\n  { name = 5;\n    hosts = [ \"a.example.com\" ]; " PINSET_OK " }\n);\n",
      NULL, "a.conf", 2, "\"name\" must be a string", NULL },
    { "pinsets = (\n  { name = \"a b\";\n    hosts = [ \"a.example.com\" ]; " PINSET_OK " }\n);\n",
      NULL, "a.conf", 2, "may only contain letters", NULL },
    { "pinsets = (\n  { name = \"\";\n    hosts = [ \"a.example.com\" ]; " PINSET_OK " }\n);\n",
      NULL, "a.conf", 2, "must be 1 to 127 characters", NULL },
    { "pinsets = (\n  { name = \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
      "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\";\n"
      "    hosts = [ \"a.example.com\" ]; " PINSET_OK " }\n);\n",
      NULL, "a.conf", 2, "must be 1 to 127 characters", NULL },
    /* required members */
    { "pinsets = (\n  { hosts = [ \"a.example.com\" ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 2, "pinset has no \"name\"", NULL },
    { "pinsets = (\n  { name = \"a\";\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 2, "pinset \"a\" has no \"hosts\"", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ]; }\n);\n",
      NULL, "a.conf", 2, "pinset \"a\" has no \"pins\"", NULL },
    /* hosts */
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "\"hosts\" is empty", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = \"a.example.com\";\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "\"hosts\" must be an array of host names, not a string", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ 1, 2 ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "\"hosts\" must hold strings, not an integer", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\",\n              \"b.example.com\",\n"
      "              \"*.com\" ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 5, "bad host pattern", "at least two labels after it" },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"**.com\" ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "at least two labels after it", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a*.example.com\" ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "only allowed as the whole first label", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"foo.*.com\" ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "only allowed as the whole first label", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"*\" ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "only allowed as the whole first label", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"*.*.x.example\" ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "only allowed as the whole first label", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"*.10.0.0.7\" ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "no wildcard is allowed on an IP address", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"example.com:443\" ];\n    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "':' belongs only in an IPv6 address", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\", \"A.Example.com.\" ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "host \"a.example.com\" is listed twice in pinset \"a\"", NULL },
    /* pins and deny */
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    pins = [ \"@P1@\",\n"
      "             \"sha256/abc=\" ]; }\n);\n",
      NULL, "a.conf", 5, "pin \"sha256/abc=\" is 2 bytes, a SHA-256 pin is 32", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n"
      "    pins = [ \"sha256/!!!!\", \"@P1@\" ]; }\n);\n",
      NULL, "a.conf", 4, "not valid base64", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    pins = \"@P1@\"; }\n);\n",
      NULL, "a.conf", 4, "\"pins\" must be an array of pins, not a string", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    pins = [ ]; }\n);\n",
      NULL, "a.conf", 4, "pinset \"a\" has no \"pins\"", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    deny = [ \"sha256/xyz\" ]; }\n);\n",
      NULL, "a.conf", 5, "not valid base64", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    deny = [ \"@C2@\" ]; }\n);\n",
      NULL, "a.conf", 5, "both pins and denies the same key", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    pins = [ \"@P1@\" ]; }\n);\n",
      NULL, "a.conf", 4, "has only one distinct pin", "a backup pin saves you from lock-out" },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n"
      "    pins = [ \"@P1@\", \"@C1@\", \"@K1@\" ]; }\n);\n",
      NULL, "a.conf", 4, "has only one distinct pin", "allow_single_pin = true" },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n"
      "    pins = [ \"@P1@\" ]; allow_single_pin = 1; }\n);\n",
      NULL, "a.conf", 4, "\"allow_single_pin\" must be true or false", NULL },
    /* ports */
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = [ 443,\n 0 ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 5, "port 0 is not in 1..65535", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = [ 65536 ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "port 65536 is not in 1..65535", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = [ -443 ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "port -443 is not in 1..65535", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = [ 4294967739 ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "integer 4294967739 is too large", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = [ 0x1000001bb ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "is too large", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = [ 4294967739L ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "port 4294967739 is not in 1..65535", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = [ \"443\" ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "\"ports\" must hold integers, not a string", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = [ 1.5 ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "\"ports\" must hold integers", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = 443;\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "\"ports\" must be an array of port numbers, not an integer", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    ports = [ ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 4, "\"ports\" is empty", NULL },
    /* expires */
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    expires = \"2027-02-30\"; }\n);\n",
      NULL, "a.conf", 5, "expires \"2027-02-30\" is not a date", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    expires = \"2100-02-29\"; }\n);\n",
      NULL, "a.conf", 5, "is not a date", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    expires = \"2027-6-30\"; }\n);\n",
      NULL, "a.conf", 5, "is not a date", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    expires = \"2027-06-30T00:00:00Z\"; }\n);\n",
      NULL, "a.conf", 5, "is not a date", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    expires = \"30.06.2027\"; }\n);\n",
      NULL, "a.conf", 5, "is not a date", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    expires = \"2027-13-01\"; }\n);\n",
      NULL, "a.conf", 5, "is not a date", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    expires = \"1969-12-31\"; }\n);\n",
      NULL, "a.conf", 5, "is not a date", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    expires = 20270630; }\n);\n",
      NULL, "a.conf", 5, "\"expires\" must be a string", NULL },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"a.example.com\" ];\n    " PINSET_OK "\n"
      "    report_only = \"yes\"; }\n);\n",
      NULL, "a.conf", 5, "\"report_only\" must be true or false, not a string", NULL },
    /* across pinsets and files: both places named, files in sorted order */
    { "pinsets = (\n  { name = \"x\";\n    hosts = [ \"a.example.com\" ]; " PINSET_OK " }\n);\n",
      "# b\npinsets = (\n  { name = \"x\";\n    hosts = [ \"b.example.com\" ]; " PINSET_OK " }\n);\n",
      "b.conf", 3, "pinset name \"x\" is already used", "/a.conf:2" },
    { "pinsets = (\n  { name = \"x\"; hosts = [ \"a.example.com\" ]; " PINSET_OK " },\n"
      "  { name = \"x\"; hosts = [ \"b.example.com\" ]; " PINSET_OK " }\n);\n",
      NULL, "a.conf", 3, "pinset name \"x\" is already used", "/a.conf:2" },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"api.example.com\" ]; " PINSET_OK " }\n);\n",
      "pinsets = (\n\n  { name = \"b\";\n    hosts = [ \"b.example.com\", \"API.Example.com.\" ]; "
      PINSET_OK " }\n);\n",
      "b.conf", 4, "host \"api.example.com\" of pinset \"b\" is already claimed by pinset \"a\"",
      "/a.conf:3 for any port" },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"*.example.com\" ]; ports = [ 443, 8443 ];\n"
      "    " PINSET_OK " },\n  { name = \"b\";\n    hosts = [ \"*.example.com\" ]; ports = [ 8443 ];\n"
      "    " PINSET_OK " }\n);\n",
      NULL, "a.conf", 6, "is already claimed by pinset \"a\"", "/a.conf:3 for port 8443" },
    { "pinsets = (\n  { name = \"a\";\n    hosts = [ \"**.example.com\" ]; " PINSET_OK " },\n"
      "  { name = \"b\";\n    hosts = [ \"**.EXAMPLE.com.\" ]; " PINSET_OK " }\n);\n",
      NULL, "a.conf", 5, "host \"**.example.com\" of pinset \"b\" is already claimed", NULL },
};

START_TEST(load_rejects_bad_input)
{
    const struct bad_case *c = &bad_cases[_i];
    char loc[1024];
    void *st;

    write_conf("a.conf", c->text);
    if (c->text_b != NULL)
        write_conf("b.conf", c->text_b);
    st = open_dir();
    if (st != NULL)
        mod->close(st);
    ck_assert_msg(st == NULL, "accepted:\n%s", c->text);
    snprintf(loc, sizeof(loc), "%s/%s:%u: ", dir, c->at, c->line);
    ck_assert_msg(strncmp(err, loc, strlen(loc)) == 0, "error \"%s\" does not start with \"%s\"",
                  err, loc);
    assert_err_has(c->why);
    if (c->also != NULL)
        assert_err_has(c->also);
}
END_TEST

START_TEST(load_rejects_nul_byte)
{
    static const char text[] = "pinsets = (\n  { name = \"a\0\"; }\n);\n";

    write_raw("a.conf", text, sizeof(text) - 1);
    assert_open_dir_fails("/a.conf:2: NUL byte");
}
END_TEST

START_TEST(load_rejects_huge_file)
{
    char path[1024];
    int fd;

    snprintf(path, sizeof(path), "%s/huge.conf", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 8 * 1024 * 1024 + 1), 0); /* sparse */
    close(fd);
    assert_open_dir_fails("/huge.conf: larger than 8 MiB");
}
END_TEST

START_TEST(load_rejects_conf_directory)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/x.conf", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    assert_open_dir_fails("/x.conf: not a regular file");
}
END_TEST

START_TEST(open_rejects_bad_args)
{
    char missing[1024], want[1200];
    const char *one[1] = { "/nonexistent" }, *two[2] = { "/a", "/b" };
    struct tlspin_arg unknown[2] = {
        { "pinsets", one, 1, POLICY_FILE, 12 },
        { "pinset", one, 1, POLICY_FILE, 13 },
    };
    struct tlspin_arg twice[2] = {
        { "pinsets", one, 1, POLICY_FILE, 12 },
        { "pinsets", one, 1, POLICY_FILE, 14 },
    };
    struct tlspin_arg multi = { "pinsets", two, 2, POLICY_FILE, 15 };

    snprintf(missing, sizeof(missing), "%s/missing", dir);
    ck_assert_ptr_null(open_path(missing));
    snprintf(want, sizeof(want), POLICY_FILE ":12: pinsets \"%s\": No such file or directory",
             missing);
    ck_assert_str_eq(err, want);

    ck_assert_ptr_null(open_path("pins.d"));
    ck_assert_str_eq(err, POLICY_FILE ":12: pinsets \"pins.d\" must be an absolute path");

    ck_assert_ptr_null(open_path("/dev/null"));
    assert_err_has("is neither a directory nor a regular file");

    ck_assert_ptr_null(open_args(unknown, 2));
    ck_assert_str_eq(err, POLICY_FILE ":13: unknown key \"pinset\" in args of module file");

    ck_assert_ptr_null(open_args(twice, 2));
    assert_err_has(POLICY_FILE ":14: \"pinsets\" given twice");

    ck_assert_ptr_null(open_args(&multi, 1));
    assert_err_has(POLICY_FILE ":15: \"pinsets\" of module file takes one");

    ck_assert_ptr_null(open_args(NULL, 0));
    assert_err_has("module file needs args = { pinsets =");
}
END_TEST

START_TEST(open_rejects_bad_host_table)
{
    struct pinsets_args a;
    const struct tlspin_args *args = pinsets_args(&a, dir);
    struct tlspin_host other = services;
    void *st = (void *)&other;

    ck_assert_int_eq(mod->open(NULL, args, &st, err, sizeof(err)), -1);
    ck_assert_ptr_null(st);
    other.abi_major = TLSPIN_ABI_MAJOR + 1;
    ck_assert_int_eq(mod->open(&other, args, &st, err, sizeof(err)), -1);
    assert_err_has("host services");
    other = services;
    other.struct_size = offsetof(struct tlspin_host, host_normalize);
    ck_assert_int_eq(mod->open(&other, args, &st, err, sizeof(err)), -1);
    other = services;
    other.pin_parse = NULL;
    ck_assert_int_eq(mod->open(&other, args, &st, err, sizeof(err)), -1);
    ck_assert_int_eq(mod->open(&services, args, NULL, err, sizeof(err)), -1);
    ck_assert_int_eq(mod->open(&services, args, &st, NULL, 0), 0); /* err is optional */
    mod->close(st);
    mod->close(NULL);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Scale: 100,000 hosts, lines past libconfig's 16-bit line counter        */
/* ---------------------------------------------------------------------- */

#define BIG_PINSETS 10000
#define BIG_HOSTS_EACH 10

/* One pinset per 13 lines: lines 2 + 13 * i ("{ name") ... */
static char *big_config(int bad_host_in_last)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    char p1[TLSPIN_PIN_TEXT_MAX], p2[TLSPIN_PIN_TEXT_MAX];
    int i, j;

    ck_assert_ptr_nonnull(f);
    pin_text(1, p1);
    pin_text(2, p2);
    fputs("pinsets = (\n", f);
    for (i = 0; i < BIG_PINSETS; i++) {
        fprintf(f, "  { name = \"p%d\";\n    hosts = [\n", i);
        for (j = 0; j < BIG_HOSTS_EACH; j++) {
            int bad = bad_host_in_last && i == BIG_PINSETS - 1 && j == BIG_HOSTS_EACH - 1;
            fprintf(f, "      \"%sh%d-%d.example.com\"%s\n", bad ? "*" : "", i, j,
                    j + 1 < BIG_HOSTS_EACH ? "," : "");
        }
        fprintf(f, "    ]; pins = [ \"%s\", \"%s\" ]; }%s\n", p1, p2,
                i + 1 < BIG_PINSETS ? "," : "");
    }
    fputs(");\n", f);
    fclose(f);
    return out;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

START_TEST(scale_100k_hosts)
{
    struct tlspin_finding f;
    struct timespec t0;
    char *text = big_config(0);
    double load, lookups;
    void *st;
    int i;

    write_raw("big.conf", text, strlen(text));
    free(text);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = must_open();
    load = seconds_since(&t0);
    fprintf(stderr, "file module: loaded %d hosts in %.1f ms\n", BIG_PINSETS * BIG_HOSTS_EACH,
            load * 1e3);
    /* Speed is measured by bench/, not asserted here: a loaded CI machine
     * must not fail a correctness suite. */
    (void)load;

    ck_assert_int_eq(check_host(st, "h9999-9.example.com", 443, "9", &f), TLSPIN_FAIL);
    ck_assert_str_eq(f.rule, "p9999");
    ck_assert_int_eq(check_host(st, "h0-0.example.com", 443, "1", &f), TLSPIN_PASS);
    ck_assert_int_eq(check_host(st, "h10000-0.example.com", 443, "9", &f), TLSPIN_IGNORE);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < 100000; i++) {
        char host[64];
        snprintf(host, sizeof(host), "h%d-%d.example.com", i % BIG_PINSETS, i % BIG_HOSTS_EACH);
        ck_assert_int_eq(check_host(st, host, 443, "2", &f), TLSPIN_PASS);
    }
    lookups = seconds_since(&t0);
    fprintf(stderr, "file module: 100,000 checks in %.1f ms\n", lookups * 1e3);
    (void)lookups;
    mod->close(st);
}
END_TEST

START_TEST(scale_error_line_past_65535)
{
    char *text = big_config(1);
    char want[1024];
    unsigned line = 1 + 13 * BIG_PINSETS - 1; /* the last host of the last pinset */

    write_raw("big.conf", text, strlen(text));
    free(text);
    ck_assert_ptr_null(open_dir());
    snprintf(want, sizeof(want), "%s/big.conf:%u: bad host pattern", dir, line);
    ck_assert_msg(line > 65535 && strncmp(err, want, strlen(want)) == 0, "got \"%s\", want \"%s\"",
                  err, want);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Concurrency: check() from many threads on one state                     */
/* ---------------------------------------------------------------------- */

struct worker {
    void *state;
    int failures;
};

static void *check_many(void *arg)
{
    struct worker *w = arg;
    int i;

    for (i = 0; i < 20000; i++) {
        struct tlspin_finding f;
        int expect_pass = i % 2 == 0;
        tlspin_verdict v = check_host(w->state, i % 3 ? "d.example.com" : "D.Example.com.", 443,
                                      expect_pass ? "8,1" : "8", &f);
        if (v != (expect_pass ? TLSPIN_PASS : TLSPIN_FAIL) || strcmp(f.rule, "d") != 0)
            w->failures++;
    }
    return NULL;
}

START_TEST(check_is_thread_safe)
{
    struct worker w[8];
    pthread_t t[8];
    void *st;
    int i;

    st = open_conf("decide.conf", decide_conf);
    for (i = 0; i < 8; i++) {
        w[i].state = st;
        w[i].failures = 0;
        ck_assert_int_eq(pthread_create(&t[i], NULL, check_many, &w[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].failures, 0);
    }
    mod->close(st);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* lint() and hosts()                                                      */
/* ---------------------------------------------------------------------- */

struct diags {
    char text[8192];
    int notes, warnings, errors;
};

static void collect_diag(void *ctx, tlspin_severity sev, const char *file, unsigned line,
                         const char *message)
{
    struct diags *d = ctx;
    size_t used = strlen(d->text);
    const char *base = file != NULL && strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    static const char *const names[] = { "note", "warning", "error" };

    if (sev == TLSPIN_SEV_NOTE)
        d->notes++;
    else if (sev == TLSPIN_SEV_WARNING)
        d->warnings++;
    else
        d->errors++;
    snprintf(d->text + used, sizeof(d->text) - used, "%s:%u: %s: %s\n",
             base != NULL ? base : "-", line, names[sev], message);
}

/* lint() as of `now` into a cleared *d; returns what lint() returns. */
static int lint_into(void *state, int64_t now, struct diags *d)
{
    memset(d, 0, sizeof(*d));
    return mod->lint(state, now, collect_diag, d);
}

/* One of the diagnostics holds `want`. */
static void assert_diag_has(const struct diags *d, const char *want)
{
    ck_assert_msg(strstr(d->text, want) != NULL, "got \"%s\", want \"%s\"", d->text, want);
}

/* lint() said exactly this many notes, warnings and errors. */
static void assert_diag_counts(const struct diags *d, int notes, int warnings, int errors)
{
    ck_assert_int_eq(d->notes, notes);
    ck_assert_int_eq(d->warnings, warnings);
    ck_assert_int_eq(d->errors, errors);
}

static const char expiry_conf[] =
    "pinsets = (\n"
    "  { name = \"e\";\n"
    "    hosts = [ \"e.example.com\" ];\n"
    "    pins = [ \"@P1@\", \"@P2@\" ];\n"
    "    expires = \"2027-06-30\"; }\n"
    ");\n";

static const struct {
    int days_before;   /* lint runs at noon UTC, this many days before 2027-06-30 */
    const char *says;  /* NULL: nothing */
    tlspin_severity sev;
} expiry_cases[] = {
    { 400, NULL, 0 },
    { 31, NULL, 0 },
    { 30, "e.conf:5: warning: pinset \"e\" expires in 30 days (2027-06-30)", TLSPIN_SEV_WARNING },
    { 14, "e.conf:5: warning: pinset \"e\" expires in 14 days (2027-06-30)", TLSPIN_SEV_WARNING },
    { 7, "e.conf:5: warning: pinset \"e\" expires in 7 days (2027-06-30)", TLSPIN_SEV_WARNING },
    { 1, "e.conf:5: warning: pinset \"e\" expires in 1 day (2027-06-30)", TLSPIN_SEV_WARNING },
    { 0, "e.conf:5: warning: pinset \"e\" expires today", TLSPIN_SEV_WARNING },
    { -1, "e.conf:5: error: pinset \"e\" expired on 2027-06-30; it is not enforced",
      TLSPIN_SEV_ERROR },
    { -365, "e.conf:5: error: pinset \"e\" expired on 2027-06-30", TLSPIN_SEV_ERROR },
};

START_TEST(lint_expiry)
{
    struct diags d;
    int64_t now = utc(2027, 6, 30, 12, 0, 0) - (int64_t)expiry_cases[_i].days_before * 86400;
    void *st;
    int errors;

    st = open_conf("e.conf", expiry_conf);
    errors = lint_into(st, now, &d);
    if (expiry_cases[_i].says == NULL) {
        ck_assert_msg(d.text[0] == '\0', "unexpected: %s", d.text);
    } else {
        assert_diag_has(&d, expiry_cases[_i].says);
        ck_assert_int_eq(d.notes + d.warnings + d.errors, 1);
    }
    ck_assert_int_eq(errors, expiry_cases[_i].says && expiry_cases[_i].sev == TLSPIN_SEV_ERROR);
    ck_assert_int_eq(errors, d.errors);
    mod->close(st);
}
END_TEST

START_TEST(lint_single_pin_and_shadowing)
{
    struct diags d;
    void *st;

    write_conf("s.conf",
               "pinsets = (\n"
               "  { name = \"wild\"; hosts = [ \"*.example.com\" ]; " PINSET_OK " },\n"
               "  { name = \"api\"; hosts = [ \"api.example.com\" ]; " PINSET_OK " },\n"
               "  { name = \"deep\"; hosts = [ \"**.example.com\" ]; " PINSET_OK " },\n"
               "  { name = \"self\"; hosts = [ \"x.self.test\", \"*.self.test\" ]; " PINSET_OK " },\n"
               "  { name = \"p443\"; hosts = [ \"a.ports.test\" ]; ports = [ 443 ]; " PINSET_OK " },\n"
               "  { name = \"p80\"; hosts = [ \"*.ports.test\" ]; ports = [ 80 ]; " PINSET_OK " },\n"
               "  { name = \"one\"; hosts = [ \"one.test\" ]; allow_single_pin = true;\n"
               "    pins = [ \"@P1@\" ]; }\n"
               ");\n");
    st = must_open();
    ck_assert_int_eq(lint_into(st, NOW, &d), 0);
    assert_diag_has(&d, "s.conf:2: note: pattern \"*.example.com\" of pinset \"wild\" is "
                        "shadowed for \"api.example.com\" by the more specific pinset "
                        "\"api\" (");
    assert_diag_has(&d, "s.conf:4: note: pattern \"**.example.com\" of pinset \"deep\" "
                        "is shadowed for \"api.example.com\"");
    assert_diag_has(&d, "s.conf:4: note: pattern \"**.example.com\" of pinset \"deep\" "
                        "is shadowed for \"*.example.com\" by the more specific pinset "
                        "\"wild\"");
    assert_diag_has(&d, "s.conf:9: warning: pinset \"one\" has a single pin");
    /* ports do not limit shadowing: a.ports.test on port 80 is p443's too */
    assert_diag_has(&d, "s.conf:7: note: pattern \"*.ports.test\" of pinset \"p80\" is "
                        "shadowed for \"a.ports.test\" by the more specific pinset "
                        "\"p443\" (");
    assert_diag_has(&d, ") on every port, even the ones only it lists\n");
    ck_assert_msg(strstr(d.text, "self") == NULL, "%s", d.text);
    assert_diag_counts(&d, 4, 1, 0);
    mod->close(st);
}
END_TEST

/* An expired pinset shadows nothing (a live less specific one decides);
 * a pattern with several live pinsets shadows once, for every port. */
START_TEST(lint_shadowing_follows_lookup)
{
    struct diags d;
    void *st;

    write_conf("x.conf",
               "pinsets = (\n"
               "  { name = \"old\"; hosts = [ \"good.test\" ]; expires = \"2025-12-31\";\n"
               "    " PINSET_OK " },\n"
               "  { name = \"live\"; hosts = [ \"**.good.test\" ]; " PINSET_OK " },\n"
               "  { name = \"api-443\"; hosts = [ \"api.corp.test\" ]; ports = [ 443 ];\n"
               "    " PINSET_OK " },\n"
               "  { name = \"api-8443\"; hosts = [ \"api.corp.test\" ]; ports = [ 8443 ];\n"
               "    " PINSET_OK " },\n"
               "  { name = \"corp\"; hosts = [ \"**.corp.test\" ]; " PINSET_OK " }\n"
               ");\n");
    st = must_open();
    ck_assert_int_eq(lint_into(st, NOW, &d), 1);
    assert_diag_has(&d, "x.conf:2: error: pinset \"old\" expired on 2025-12-31");
    assert_diag_has(&d, "x.conf:9: note: pattern \"**.corp.test\" of pinset \"corp\" "
                        "is shadowed for \"api.corp.test\" by the more specific pinset "
                        "\"api-443\" (");
    ck_assert_msg(strstr(d.text, "good.test\" of") == NULL, "%s", d.text);
    assert_diag_counts(&d, 1, 0, 1);

    /* before the expiry, "old" shadows "live" for good.test */
    ck_assert_int_eq(lint_into(st, utc(2025, 6, 1, 12, 0, 0), &d), 0);
    assert_diag_has(&d, "x.conf:4: note: pattern \"**.good.test\" of pinset \"live\" "
                        "is shadowed for \"good.test\" by the more specific pinset "
                        "\"old\"");
    mod->close(st);
}
END_TEST

/* Pinsets of one pattern that the port chooses between must pin the same
 * keys: through an HTTP CONNECT or SOCKS proxy the port tlspin sees is the
 * proxy's, so a key of one may be accepted on the other's port. One warning
 * per live pinset whose keys (pins, deny, report_only) differ from the
 * pattern's first live pinset's; the order of pins does not matter. */
START_TEST(lint_port_pinsets_with_different_keys)
{
    struct diags d;
    void *st;

    write_conf("p.conf",
               "pinsets = (\n"
               "  { name = \"web\"; hosts = [ \"a.test\", \"b.test\", \"c.test\" ];\n"
               "    ports = [ 443, 444, 445, 446, 447 ]; pins = [ \"@P1@\", \"@P2@\" ]; },\n"
               "  { name = \"admin\"; hosts = [ \"a.test\" ]; ports = [ 8443 ];\n"
               "    pins = [ \"@P3@\", \"@P2@\" ]; },\n"
               "  { name = \"same\"; hosts = [ \"a.test\" ]; pins = [ \"@P2@\", \"@P1@\" ]; },\n"
               "  { name = \"deny\"; hosts = [ \"b.test\" ]; ports = [ 80 ];\n"
               "    pins = [ \"@P1@\", \"@P2@\" ]; deny = [ \"@P9@\" ]; },\n"
               "  { name = \"ro\"; hosts = [ \"c.test\" ]; ports = [ 80 ]; report_only = true;\n"
               "    pins = [ \"@P1@\", \"@P2@\" ]; },\n"
               "  { name = \"old\"; hosts = [ \"d.test\" ]; ports = [ 80 ]; expires = \"2025-12-31\";\n"
               "    pins = [ \"@P3@\", \"@P4@\" ]; },\n"
               "  { name = \"d\"; hosts = [ \"d.test\" ]; ports = [ 443 ];\n"
               "    pins = [ \"@P1@\", \"@P2@\" ]; }\n"
               ");\n");
    st = must_open();
    ck_assert_int_eq(lint_into(st, NOW, &d), 1); /* "old" expired */
    assert_diag_has(&d, "p.conf:4: warning: pinsets \"web\" (ports 443, 444, 445, 446, ...) "
                        "and \"admin\" (port 8443) of \"a.test\" pin different keys: the "
                        "port only chooses between them, and through an HTTP CONNECT or SOCKS "
                        "proxy the port tlspin sees is the proxy's");
    assert_diag_has(&d, "p.conf:7: warning: pinsets \"web\" (ports 443, 444, 445, 446, ...) "
                        "and \"deny\" (port 80) of \"b.test\" pin different keys");
    assert_diag_has(&d, "p.conf:9: warning: pinsets \"web\" (ports 443, 444, 445, 446, ...) "
                        "and \"ro\" (port 80) of \"c.test\" pin different keys");
    ck_assert_msg(strstr(d.text, "\"same\"") == NULL && strstr(d.text, "d.test") == NULL,
                  "%s", d.text);
    assert_diag_counts(&d, 0, 3, 1);
    mod->close(st);
}
END_TEST

struct host_list {
    char text[2048];
};

static void collect_host(void *ctx, const char *host, unsigned port)
{
    struct host_list *l = ctx;
    size_t used = strlen(l->text);

    snprintf(l->text + used, sizeof(l->text) - used, "%s %u\n", host, port);
}

START_TEST(hosts_lists_concrete_hosts)
{
    struct host_list l;
    void *st;

    write_conf("h.conf",
               "pinsets = (\n"
               "  { name = \"a\"; hosts = [ \"A.example.com.\", \"*.w.example.com\", \"**.x.example.com\" ];\n"
               "    ports = [ 8443, 443 ]; " PINSET_OK " },\n"
               "  { name = \"b\"; hosts = [ \"10.0.0.7\", \"[2001:DB8::7]\" ]; " PINSET_OK " }\n"
               ");\n");
    st = must_open();
    memset(&l, 0, sizeof(l));
    mod->hosts(st, collect_host, &l);
    ck_assert_str_eq(l.text, "a.example.com 443\na.example.com 8443\n10.0.0.7 0\n2001:db8::7 0\n");
    mod->close(st);
}
END_TEST

/* ---------------------------------------------------------------------- */

static Suite *file_module_suite(void)
{
    Suite *s = suite_create("file_module");
    TCase *abi = tcase_create("abi");
    TCase *lookup = tcase_create("lookup");
    TCase *decide = tcase_create("decide");
    TCase *load = tcase_create("load");
    TCase *scale = tcase_create("scale");
    TCase *lint = tcase_create("lint");
    TCase *all[] = { abi, lookup, decide, load, scale, lint };
    size_t i;

    for (i = 0; i < N_ELEMS(all); i++) {
        tcase_add_unchecked_fixture(all[i], base_setup, base_teardown);
        tcase_add_checked_fixture(all[i], module_setup, module_teardown);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(abi, descriptor_is_complete);
    tcase_add_test(load, watch_lists_directory_and_files);
    tcase_add_test(load, load_refuses_file_without_pinsets);
    tcase_add_test(abi, exports_only_the_entry);
    tcase_add_test(abi, open_rejects_bad_host_table);

    tcase_add_loop_test(lookup, lookup_most_specific_pattern, 0, (int)N_ELEMS(match_cases));
    tcase_add_loop_test(lookup, lookup_ports, 0, (int)N_ELEMS(port_cases));
    tcase_add_loop_test(lookup, lookup_port_never_exempts, 0, (int)N_ELEMS(proxy_cases));
    tcase_add_loop_test(lookup, expired_pinset_never_shadows, 0, (int)N_ELEMS(expired_cases));
    tcase_add_test(lookup, expired_note_text);

    tcase_add_loop_test(decide, decide_table, 0, (int)N_ELEMS(decide_cases));
    tcase_add_test(decide, finding_text);
    tcase_add_loop_test(decide, ca_pin_needs_leaf_valid_for_host, 0, (int)N_ELEMS(ca_cases));
    tcase_add_loop_test(decide, ca_pin_asks_tlspin_lazily, 0, (int)N_ELEMS(ca_cases));
    tcase_add_test(decide, ca_pin_with_several_candidates);
    tcase_add_test(decide, finding_struct_size_is_respected);
    tcase_add_test(decide, finding_expected_is_truncated);
    tcase_add_test(decide, check_odd_connections);
    tcase_add_loop_test(decide, unknown_host_errs_where_an_ip_is_pinned, 0,
                        (int)N_ELEMS(unknown_cases));
    tcase_add_test(decide, check_is_thread_safe);

    tcase_add_test(load, load_empty_directory);
    tcase_add_test(load, load_skips_other_files);
    tcase_add_test(load, load_single_file);
    tcase_add_test(load, load_accepts_edge_values);
    tcase_add_loop_test(load, load_rejects_bad_input, 0, (int)N_ELEMS(bad_cases));
    tcase_add_test(load, load_rejects_nul_byte);
    tcase_add_test(load, load_rejects_huge_file);
    tcase_add_test(load, load_rejects_conf_directory);
    tcase_add_test(load, open_rejects_bad_args);

    tcase_set_timeout(scale, 60);
    tcase_add_test(scale, scale_100k_hosts);
    tcase_add_test(scale, scale_error_line_past_65535);

    tcase_add_loop_test(lint, lint_expiry, 0, (int)N_ELEMS(expiry_cases));
    tcase_add_test(lint, lint_single_pin_and_shadowing);
    tcase_add_test(lint, lint_shadowing_follows_lookup);
    tcase_add_test(lint, lint_port_pinsets_with_different_keys);
    tcase_add_test(lint, hosts_lists_concrete_hosts);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(file_module_suite());
    int failures;

    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
