/* tlspin pin — the SPKI pins of certificates, keys and CSRs on disk, or of
 * the chain a live server presents, and a ready-to-paste pinset. Pins are
 * computed by the engine (chain_spki_pin / chain_pubkey_pin), a live chain is
 * taken the way the shim takes it (chain_from_verification), so a pin printed
 * here is a pin the shim matches. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <errno.h>
#include <strings.h>
#include <unistd.h>

#include "cert_report.h"
#include "chain.h"
#include "commands.h"
#include "expiry.h"
#include "hostname.h"
#include "json_out.h"
#include "pin_input.h"
#include "pin_text.h"
#include "term.h"
#include "tls_connect.h"

#define MAX_BACKUPS 16
#define MAX_HOSTS 64
#define MAX_PINS 64

static const char usage_text[] =
    "usage: tlspin pin [OPTIONS] FILE...\n"
    "       tlspin pin [OPTIONS] HOST[:PORT]\n"
    "\n"
    "Print the SHA-256 SPKI pin of every certificate, public key, private key (its\n"
    "public half) and CSR in each FILE (PEM with any number of blocks, or DER; \"-\"\n"
    "is standard input), or of every certificate of the chain a live server presents\n"
    "(port 443 unless given), with subject, issuer, expiry and position in the chain.\n"
    "\n"
    "  --format tlspin|curl|hpkp  spelling: sha256/... (default), sha256//... (curl\n"
    "                             --pinnedpubkey), pin-sha256=\"...\" (HPKP)\n"
    "  --json                     machine-readable output\n"
    "  -q, --quiet                only the pins, one per line\n"
    "  --stanza NAME              print only a ready-to-paste pinset named NAME\n"
    "  --backup KEYFILE           with --stanza: also pin this backup key (or its\n"
    "                             certificate or CSR), so the pinset has the two pins\n"
    "                             tlspin requires; repeatable\n"
    "  --host NAME                with --stanza and files: a host the pinset covers\n"
    "                             (repeatable; default: the leaf's DNS names and IPs)\n"
    "  --sni NAME                 server name to send and verify (default: HOST)\n"
    "  --connect ADDR[:PORT]      connect to ADDR, still sending HOST as the name\n"
    "  --cafile FILE              verify against FILE, not the system trust store\n"
    "  --timeout SECONDS          connect and handshake timeout (default 10)\n"
    "  -h, --help                 this text\n"
    "\n"
    "A live server's certificates are listed as tlspin counts them: the verified\n"
    "chain, leaf first (with the root from the trust store, which servers do not\n"
    "send), then anything the server sent outside that chain, which never counts.\n"
    "An argument that names an existing file is read as a file, anything else is a\n"
    "host.\n"
    "\n"
    "Exit status: 0 pins printed, 1 a file or host could not be read, 2 bad usage.\n";

struct pin_opts {
    enum pin_spelling spelling;
    int json, quiet;
    const char *stanza, *sni, *connect, *cafile;
    int timeout_ms;
    const char *backups[MAX_BACKUPS];
    size_t n_backups;
    const char *hosts[MAX_HOSTS];
    size_t n_hosts;
};

/* What the stanza is made of, gathered from the inputs. */
struct stanza_pin {
    unsigned char pin[TLSPIN_PIN_LEN];
    char comment[400];
};

struct stanza {
    struct stanza_pin current[MAX_PINS], alternatives[MAX_PINS], backups[MAX_BACKUPS];
    size_t n_current, n_alternatives, n_backups;
    char hosts[MAX_HOSTS][TLSPIN_HOST_MAX];
    size_t n_hosts;
    char source[600];        /* where the current key was seen */
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "tlspin pin: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tlspin pin --help'.\n");
    return 2;
}

/* A copy fit for a one-line comment of the stanza: cut to size, and no
 * control character (a newline in a file name must not end the comment and
 * start a line of policy). */
static void shorten(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n + 1 <= outlen || outlen < 8)
        snprintf(out, outlen, "%s", in);
    else
        snprintf(out, outlen, "%.*s...", (int)(outlen - 4), in);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static int have_pin(const struct stanza_pin *pins, size_t n, const unsigned char pin[])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(pins[i].pin, pin, TLSPIN_PIN_LEN) == 0)
            return 1;
    return 0;
}

static void add_pin(struct stanza_pin *pins, size_t *n, const unsigned char pin[],
                    const char *comment)
{
    if (*n >= MAX_PINS || have_pin(pins, *n, pin))
        return;
    memcpy(pins[*n].pin, pin, TLSPIN_PIN_LEN);
    shorten(comment, pins[*n].comment, sizeof(pins[*n].comment));
    (*n)++;
}

static void add_host(struct stanza *st, const char *name)
{
    char norm[TLSPIN_HOST_MAX], why[128];
    if (st->n_hosts >= MAX_HOSTS ||
        tlspin_host_normalize(name, norm, sizeof(norm), why, sizeof(why)) != 0)
        return;
    for (size_t i = 0; i < st->n_hosts; i++)
        if (strcmp(st->hosts[i], norm) == 0)
            return;
    snprintf(st->hosts[st->n_hosts++], TLSPIN_HOST_MAX, "%s", norm);
}

/* The DNS names and IP addresses a certificate is valid for. */
static void add_cert_hosts(struct stanza *st, X509 *cert)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);

    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        char text[TLSPIN_HOST_MAX];
        if (gn->type == GEN_DNS) {
            const ASN1_IA5STRING *s = gn->d.dNSName;
            if (s->length <= 0 || s->length >= (int)sizeof(text) ||
                memchr(s->data, '\0', (size_t)s->length) != NULL)
                continue;
            memcpy(text, s->data, (size_t)s->length);
            text[s->length] = '\0';
            add_host(st, text);
        } else if (gn->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *s = gn->d.iPAddress;
            if ((s->length == 4 && inet_ntop(AF_INET, s->data, text, sizeof(text))) ||
                (s->length == 16 && inet_ntop(AF_INET6, s->data, text, sizeof(text))))
                add_host(st, text);
        }
    }
    GENERAL_NAMES_free(names);
}

static void describe_for_comment(const char *what, X509 *cert, const char *subject,
                                 const char *key, char *out, size_t outlen)
{
    char name[512] = "", date[64] = "";
    int64_t t;
    int n;   /* a long comment is cut short: it is only a comment */

    if (cert != NULL) {
        pin_name_text(X509_get_subject_name(cert), name, sizeof(name));
        if (expiry_asn1_to_epoch(X509_get0_notAfter(cert), &t) == 0) {
            expiry_format_utc(t, date, sizeof(date));
            date[10] = '\0';   /* the day is enough here */
        }
        n = snprintf(out, outlen, "%s %s%s%s%s", what, name, date[0] ? " (not after " : "",
                     date, date[0] ? ")" : "");
    } else {
        n = snprintf(out, outlen, "%s%s%s%s%s", what, subject && subject[0] ? " " : "",
                     subject ? subject : "", key ? ", " : "", key ? key : "");
    }
    if (n < 0 && outlen > 0)
        out[0] = '\0';   /* an encoding error: no comment rather than half of one */
}

static void print_stanza(FILE *out, const struct stanza *st, const char *name)
{
    char day[64], pin[PIN_SPELL_MAX];
    size_t n = st->n_current + st->n_backups;

    expiry_format_utc((int64_t)time(NULL), day, sizeof(day));
    day[10] = '\0';
    fprintf(out, "# tlspin pinset \"%s\", made by `tlspin pin` on %s from %s.\n", name, day,
            st->source);
    fprintf(out, "# Save it as /etc/tlspin/pins.d/%s.conf (write a temporary file, then mv\n"
                 "# it into place), then run `tlspin check`.\n", name);
    fprintf(out, "pinsets = (\n  { name = \"%s\";\n    hosts = [ ", name);
    for (size_t i = 0; i < st->n_hosts; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : "", st->hosts[i]);
    fprintf(out, " ];\n    pins = [\n");
    for (size_t i = 0; i < n; i++) {
        const struct stanza_pin *p = i < st->n_current ? &st->current[i]
                                                        : &st->backups[i - st->n_current];
        pin_spell(p->pin, PIN_SPELL_TLSPIN, pin, sizeof(pin));
        fprintf(out, "      \"%s\"%s  # %s\n", pin, i + 1 < n ? "," : " ", p->comment);
    }
    if (n < 2) {
        fprintf(out, "      # A BACKUP PIN IS REQUIRED: tlspin refuses a pinset with one pin.\n"
                     "      # Add the pin of a key you keep in reserve (tlspin pin --stanza %s\n"
                     "      # --backup KEYFILE ...)%s\n", name,
                st->n_alternatives ? ", or, less strict, of a CA of the chain:" : ".");
        for (size_t i = 0; i < st->n_alternatives; i++) {
            pin_spell(st->alternatives[i].pin, PIN_SPELL_TLSPIN, pin, sizeof(pin));
            fprintf(out, "      #   , \"%s\"  # %s\n", pin, st->alternatives[i].comment);
        }
    }
    fprintf(out, "    ]; }\n);\n");
}

static int valid_pinset_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 127)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* Output of one input                                                 */
/* ------------------------------------------------------------------ */

struct out_ctx {
    const struct pin_opts *o;
    struct json *j;          /* NULL unless --json */
    int64_t now;
    size_t blocks;           /* text blocks printed so far */
};

static void emit(struct out_ctx *c, const struct cert_entry *e)
{
    char pin[PIN_SPELL_MAX];

    if (c->o->stanza != NULL && c->j == NULL)
        return;   /* stdout is the stanza alone */
    if (c->j != NULL) {
        cert_report_json(c->j, NULL, e, c->o->spelling, c->now);
    } else if (c->o->quiet) {
        if (e->origin != ORIGIN_PRESENTED_ONLY) {
            pin_spell(e->pin, c->o->spelling, pin, sizeof(pin));
            printf("%s\n", pin);
        }
    } else {
        if (c->blocks++ > 0)
            putchar('\n');
        cert_report_block(stdout, e, c->o->spelling, c->now);
    }
}

static int text_mode(const struct out_ctx *c)
{
    return c->j == NULL && !c->o->quiet && c->o->stanza == NULL;
}

/* A file: every object in it, in order. */
static int do_file(struct out_ctx *c, const char *path, int many, struct stanza *st)
{
    struct pin_input in;
    char err[512];
    size_t leaves = 0;

    if (pin_input_read(path, &in, err, sizeof(err)) != 0) {
        fprintf(stderr, "tlspin pin: %s: %s\n", path, err);
        if (c->j != NULL) {
            json_object_open(c->j, NULL);
            json_str(c->j, "source", path);
            json_str(c->j, "type", "file");
            json_str(c->j, "error", err);
            json_object_close(c->j);
        }
        return -1;
    }
    if (c->j != NULL) {
        json_object_open(c->j, NULL);
        json_str(c->j, "source", path);
        json_str(c->j, "type", "file");
        json_null(c->j, "error");
        json_array_open(c->j, "certificates");
    } else if (text_mode(c) && many) {
        if (c->blocks > 0)
            putchar('\n');
        printf("%s==> %s <==%s\n", term_on(stdout, TERM_CYAN), path, term_off(stdout));
        c->blocks = 0;
    }
    for (size_t i = 0; i < in.n; i++) {
        const struct pin_item *it = &in.items[i];
        struct cert_entry e = { it->cert, it->pin, pin_item_kind_name(it->kind),
                                it->cert ? pin_cert_role(it->cert) : NULL, ORIGIN_FILE,
                                it->subject, it->key };
        emit(c, &e);
        if (it->cert == NULL || strcmp(e.position, "leaf") == 0)
            leaves++;
    }
    if (c->j != NULL) {
        json_array_close(c->j);
        json_object_close(c->j);
    }
    if (st != NULL) {
        /* The current keys: leaves, keys and CSRs; a file of CA certificates
         * alone pins those. The CAs are offered as alternatives. */
        for (size_t i = 0; i < in.n; i++) {
            const struct pin_item *it = &in.items[i];
            const char *role = it->cert ? pin_cert_role(it->cert) : NULL;
            char comment[600], what[64];
            int current = leaves == 0 || role == NULL || strcmp(role, "leaf") == 0;
            snprintf(what, sizeof(what), "%s%s", current ? "current key: " : "",
                     role ? role : pin_item_kind_name(it->kind));
            describe_for_comment(what, it->cert, it->subject, it->key, comment,
                                 sizeof(comment));
            if (current) {
                add_pin(st->current, &st->n_current, it->pin, comment);
                if (it->cert != NULL && st->n_hosts == 0 && c->o->n_hosts == 0)
                    add_cert_hosts(st, it->cert);
            } else {
                add_pin(st->alternatives, &st->n_alternatives, it->pin, comment);
            }
        }
        shorten(path, st->source, sizeof(st->source));
    }
    pin_input_free(&in);
    return 0;
}

/* A live server. */
struct live {
    struct kept_chain chain;
    int have_chain;
};

static void live_verified(void *arg, SSL *ssl, X509_STORE_CTX *ctx, int ok)
{
    struct live *l = arg;
    struct chain chain;

    (void)ssl;
    if (chain_from_verification(ctx, ok, 0, X509_verify_cert, &chain) == 0) {
        kept_chain_take(&l->chain, &chain);
        l->have_chain = 1;
    }
    chain_release(&chain);
}

static void trust_text(const struct tls_session_result *r, const struct kept_chain *kc,
                       const char *cafile, char *out, size_t outlen)
{
    const char *store = cafile ? cafile : "the system trust store";
    if (r->verify_ok)
        snprintf(out, outlen, "verified against %s (tlspin counts: %s)", store,
                 chain_trust_name(kc->trust));
    else if (kc->trust == TLSPIN_CHAIN_SYSTEM_VERIFIED)
        snprintf(out, outlen, "NOT verified against %s: %s; the system trust store verifies "
                 "it (tlspin counts: system-verified)", store, r->verify_error);
    else
        snprintf(out, outlen, "NOT verified against %s: %s; tlspin counts only the leaf key "
                 "(leaf-only)%s", store, r->verify_error,
                 cafile ? "" : "; for a private CA, give --cafile");
}

static int do_host(struct out_ctx *c, const char *arg, struct stanza *st)
{
    const struct pin_opts *o = c->o;
    struct tls_target target, dial;
    struct tls_session_opts so;
    struct tls_session_result r;
    struct live l;
    char err[512], where[300], trust[700];
    int rc = 0;

    memset(&l, 0, sizeof(l));
    if (tls_target_parse(arg, 443, &target, err, sizeof(err)) != 0) {
        fprintf(stderr, "tlspin pin: %s\n", err);
        return -1;
    }
    dial = target;
    if (o->connect != NULL && tls_target_parse(o->connect, target.port, &dial, err,
                                               sizeof(err)) != 0) {
        fprintf(stderr, "tlspin pin: --connect %s\n", err);
        return -1;
    }
    memset(&so, 0, sizeof(so));
    so.name = o->sni ? o->sni : target.host;
    so.dial = dial.host;
    so.port = dial.port;
    so.cafile = o->cafile;
    so.timeout_ms = o->timeout_ms;
    so.verified = live_verified;
    so.arg = &l;
    tls_target_text(target.host, target.port, where, sizeof(where));
    if (tls_session_run(&so, &r) != 0 && !l.have_chain) {
        fprintf(stderr, "tlspin pin: %s: %s\n", where, r.error);
        if (c->j != NULL) {
            json_object_open(c->j, NULL);
            json_str(c->j, "source", arg);
            json_str(c->j, "type", "host");
            json_str(c->j, "error", r.error);
            json_object_close(c->j);
        }
        return -1;
    }
    if (r.stage != TLS_STAGE_DONE) {
        /* The certificates arrived, the handshake did not finish: show them,
         * but say so (the server has not proved it holds the key). */
        fprintf(stderr, "tlspin pin: %s: warning: %s\n", where, r.error);
        rc = -1;
    }
    if (!r.verify_ok)
        fprintf(stderr, "tlspin pin: %s: warning: the chain is not verified (%s): check that "
                "this is really the server's key before pinning it\n", where, r.verify_error);
    trust_text(&r, &l.chain, o->cafile, trust, sizeof(trust));
    if (c->j != NULL) {
        json_object_open(c->j, NULL);
        json_str(c->j, "source", arg);
        json_str(c->j, "type", "host");
        json_str(c->j, "error", r.stage == TLS_STAGE_DONE ? NULL : r.error);
        json_str(c->j, "host", target.host);
        json_int(c->j, "port", target.port);
        json_str(c->j, "sni", so.name);
        json_str(c->j, "peer", r.peer);
        json_str(c->j, "protocol", r.protocol[0] ? r.protocol : NULL);
        json_bool(c->j, "verified", r.verify_ok);
        json_str(c->j, "verify_error", r.verify_ok ? NULL : r.verify_error);
        json_str(c->j, "trust", chain_trust_name(l.chain.trust));
        json_array_open(c->j, "certificates");
    } else if (text_mode(c)) {
        if (c->blocks > 0)
            putchar('\n');
        printf("%s%s%s (%s%s%s)\n  chain: %s\n\n", term_on(stdout, TERM_BOLD), where,
               term_off(stdout), r.peer, r.protocol[0] ? ", " : "", r.protocol, trust);
        c->blocks = 0;
    }
    for (size_t i = 0; i < l.chain.n_verified; i++) {
        X509 *x = l.chain.verified[i];
        const char *pos = kept_chain_position(&l.chain, i);
        struct cert_entry e = { x, l.chain.verified_pin[i], "certificate", pos,
                                kept_chain_presented(&l.chain, x) ? ORIGIN_SERVER
                                                                  : ORIGIN_TRUST_STORE,
                                NULL, NULL };
        emit(c, &e);
        if (st != NULL) {
            char comment[600];
            describe_for_comment(i == 0 ? "current key: leaf" : pos, x, NULL, NULL, comment,
                                 sizeof(comment));
            if (i == 0)
                add_pin(st->current, &st->n_current, l.chain.verified_pin[i], comment);
            else
                add_pin(st->alternatives, &st->n_alternatives, l.chain.verified_pin[i],
                        comment);
        }
    }
    for (size_t i = 0; i < l.chain.n_presented; i++) {
        X509 *x = l.chain.presented[i];
        int counted = 0;
        for (size_t k = 0; k < l.chain.n_verified && !counted; k++)
            counted = X509_cmp(l.chain.verified[k], x) == 0;
        if (counted)
            continue;
        struct cert_entry e = { x, l.chain.presented_pin[i], "certificate", pin_cert_role(x),
                                ORIGIN_PRESENTED_ONLY, NULL, NULL };
        emit(c, &e);
    }
    if (c->j != NULL) {
        json_array_close(c->j);
        json_object_close(c->j);
    }
    if (st != NULL) {
        add_host(st, so.name);
        char source[sizeof(where) + sizeof(r.peer) + 4];
        if (strcmp(where, r.peer) == 0 || r.peer[0] == '\0')
            snprintf(source, sizeof(source), "%s", where);
        else
            snprintf(source, sizeof(source), "%s (%s)", where, r.peer);
        shorten(source, st->source, sizeof(st->source));
    }
    kept_chain_free(&l.chain);
    return rc;
}

/* --backup files: their keys, CSRs and leaf certificates. */
static int read_backups(const struct pin_opts *o, struct stanza *st)
{
    for (size_t b = 0; b < o->n_backups; b++) {
        struct pin_input in;
        char err[512];
        size_t taken = 0;

        if (pin_input_read(o->backups[b], &in, err, sizeof(err)) != 0) {
            fprintf(stderr, "tlspin pin: --backup %s: %s\n", o->backups[b], err);
            return -1;
        }
        for (size_t i = 0; i < in.n; i++) {
            const struct pin_item *it = &in.items[i];
            char comment[600], what[700];
            if (it->cert != NULL && strcmp(pin_cert_role(it->cert), "leaf") != 0)
                continue;
            if (have_pin(st->current, st->n_current, it->pin)) {
                fprintf(stderr, "tlspin pin: --backup %s: that is the current key, not a "
                        "backup\n", o->backups[b]);
                pin_input_free(&in);
                return -1;
            }
            snprintf(what, sizeof(what), "backup key: %s", o->backups[b]);
            describe_for_comment(what, NULL, it->cert ? NULL : it->subject, it->key, comment,
                                 sizeof(comment));
            if (st->n_backups < MAX_BACKUPS &&
                !have_pin(st->backups, st->n_backups, it->pin)) {
                memcpy(st->backups[st->n_backups].pin, it->pin, TLSPIN_PIN_LEN);
                shorten(comment, st->backups[st->n_backups].comment,
                        sizeof(st->backups[0].comment));
                st->n_backups++;
            }
            taken++;
        }
        pin_input_free(&in);
        if (taken == 0) {
            fprintf(stderr, "tlspin pin: --backup %s: no key, CSR or leaf certificate in it\n",
                    o->backups[b]);
            return -1;
        }
    }
    return 0;
}

/* A missing file that looks like one gets "no such file", not a DNS error. */
static int looks_like_file(const char *arg)
{
    static const char *const ext[] = { ".pem", ".crt", ".cer", ".der", ".key", ".csr", ".req",
                                       ".pub", ".p7b", NULL };
    size_t n = strlen(arg);
    if (strchr(arg, '/') != NULL && strncmp(arg, "https://", 8) != 0)
        return 1;
    for (size_t i = 0; ext[i]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcasecmp(arg + n - e, ext[i]) == 0)
            return 1;
    }
    return 0;
}

static int is_file_arg(const char *arg)
{
    struct stat sb;
    return strcmp(arg, "-") == 0 || stat(arg, &sb) == 0 || looks_like_file(arg);
}

int cmd_pin(int argc, char **argv)
{
    enum { OPT_FORMAT = 256, OPT_JSON, OPT_STANZA, OPT_BACKUP, OPT_HOST, OPT_SNI, OPT_CONNECT,
           OPT_CAFILE, OPT_TIMEOUT };
    static const struct option longopts[] = {
        { "format", required_argument, NULL, OPT_FORMAT },
        { "json", no_argument, NULL, OPT_JSON },
        { "quiet", no_argument, NULL, 'q' },
        { "stanza", required_argument, NULL, OPT_STANZA },
        { "backup", required_argument, NULL, OPT_BACKUP },
        { "host", required_argument, NULL, OPT_HOST },
        { "sni", required_argument, NULL, OPT_SNI },
        { "connect", required_argument, NULL, OPT_CONNECT },
        { "cafile", required_argument, NULL, OPT_CAFILE },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct pin_opts o;
    struct stanza *st = NULL;
    struct json j;
    struct out_ctx c;
    int opt, n_files = 0, n_hosts = 0, failed = 0;
    char *end;

    memset(&o, 0, sizeof(o));
    o.timeout_ms = 10000;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_FORMAT:
            if (pin_spelling_parse(optarg, &o.spelling) != 0)
                return usage_error("--format must be tlspin, curl or hpkp, not \"%s\"", optarg);
            break;
        case OPT_JSON: o.json = 1; break;
        case 'q': o.quiet = 1; break;
        case OPT_STANZA:
            if (!valid_pinset_name(optarg))
                return usage_error("--stanza \"%s\": a pinset name is 1 to 127 letters, digits, "
                                   "'.', '_' or '-'", optarg);
            o.stanza = optarg;
            break;
        case OPT_BACKUP:
            if (o.n_backups >= MAX_BACKUPS)
                return usage_error("at most 16 --backup files");
            o.backups[o.n_backups++] = optarg;
            break;
        case OPT_HOST: {
            char norm[TLSPIN_HOST_MAX], why[128];
            if (tlspin_host_normalize(optarg, norm, sizeof(norm), why, sizeof(why)) != 0)
                return usage_error("--host \"%s\" is not a host name, pattern or address",
                                   optarg);
            if (o.n_hosts >= MAX_HOSTS)
                return usage_error("at most 64 --host names");
            o.hosts[o.n_hosts++] = optarg;
            break;
        }
        case OPT_SNI: o.sni = optarg; break;
        case OPT_CONNECT: o.connect = optarg; break;
        case OPT_CAFILE: o.cafile = optarg; break;
        case OPT_TIMEOUT: {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v < 1 || v > 3600)
                return usage_error("--timeout takes seconds from 1 to 3600, not \"%s\"", optarg);
            o.timeout_ms = (int)v * 1000;
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return usage_error("unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("name a FILE or a HOST[:PORT]");
    for (int i = optind; i < argc; i++) {
        if (is_file_arg(argv[i]))
            n_files++;
        else
            n_hosts++;
    }
    if (n_hosts > 0 && argc - optind > 1 && (o.sni || o.connect || o.stanza))
        return usage_error("--sni, --connect and --stanza take a single HOST");
    if (n_hosts == 0 && (o.sni || o.connect))
        return usage_error("--sni and --connect are for a HOST, not files");
    if (n_hosts > 0 && o.n_hosts > 0)
        return usage_error("--host is for files; a live server's pinset covers HOST (or "
                           "--sni)");
    if ((o.n_backups > 0 || o.n_hosts > 0) && o.stanza == NULL)
        return usage_error("--backup and --host go with --stanza NAME");
    if (o.cafile != NULL && access(o.cafile, R_OK) != 0) {
        fprintf(stderr, "tlspin pin: --cafile %s: %s\n", o.cafile, strerror(errno));
        return 1;
    }

    if (o.stanza != NULL && (st = calloc(1, sizeof(*st))) == NULL) {
        fprintf(stderr, "tlspin pin: out of memory\n");
        return 1;
    }
    for (size_t i = 0; st && i < o.n_hosts; i++)
        add_host(st, o.hosts[i]);
    memset(&c, 0, sizeof(c));
    c.o = &o;
    c.now = (int64_t)time(NULL);
    if (o.json) {
        json_begin(&j, stdout);
        c.j = &j;
        json_object_open(&j, NULL);
        json_array_open(&j, "inputs");
    }
    for (int i = optind; i < argc; i++) {
        int rc = is_file_arg(argv[i]) ? do_file(&c, argv[i], argc - optind > 1, st)
                                      : do_host(&c, argv[i], st);
        if (rc != 0)
            failed = 1;
    }
    if (st != NULL && !failed) {
        if (read_backups(&o, st) != 0)
            failed = 1;
        else if (st->n_current == 0) {
            fprintf(stderr, "tlspin pin: --stanza: no key to pin\n");
            failed = 1;
        } else if (st->n_hosts == 0) {
            fprintf(stderr, "tlspin pin: --stanza: no host names in the certificate; name "
                    "the hosts with --host NAME\n");
            failed = 1;
        }
    }
    if (c.j != NULL) {
        json_array_close(&j);
        if (st != NULL && !failed) {
            char *text = NULL;
            size_t len = 0;
            FILE *mem = open_memstream(&text, &len);
            if (mem != NULL) {
                print_stanza(mem, st, o.stanza);
                fclose(mem);
            }
            json_str(&j, "stanza", text);
            free(text);
        }
        json_object_close(&j);
        json_end(&j);
    } else if (st != NULL && !failed) {
        print_stanza(stdout, st, o.stanza);
    }
    if (st != NULL && !failed && st->n_current + st->n_backups < 2)
        fprintf(stderr, "tlspin pin: note: this pinset has a single pin, which tlspin "
                "refuses: add a backup pin (--backup KEYFILE) before installing it\n");
    free(st);
    return failed ? 1 : 0;
}
