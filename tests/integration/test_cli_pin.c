/*
 * test_cli_pin.c — `tlspin pin`, the real binary:
 *   - files: every kind (PEM/DER certificate, chain, public key in SPKI and
 *     PKCS#1, private key PKCS#8/traditional/Ed25519, CSR, stdin) gives the
 *     pin mkcerts.sh computed with the openssl CLI; positions in a chain;
 *     the curl and HPKP spellings, which the policy accepts as the same key;
 *     refusals (encrypted key, garbage, missing file, usage) with exit codes;
 *   - live servers on 127.0.0.1 (tls_server, openssl s_server): the verified
 *     chain as tlspin counts it (root from the trust store), an unverified
 *     chain (only the leaf counts), an appended certificate (never counted),
 *     SNI (--sni selects s_server's second certificate), --connect;
 *   - --stanza: with --backup it is a pinset `tlspin check` accepts and the
 *     shim enforces (match allowed, interceptor blocked); without it, one pin
 *     and a reminder that check refuses; from files, hosts from the SANs;
 *   - --json is valid JSON; colour only on a terminal; the shim preloaded
 *     into the command does not stop it reading a refused key.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TLSPIN_CLI BIN_DIR "/tlspin"

static const struct run_opts plain = {0};

/* Run the command; argv[0] is added. */
#define PIN(r, ...) run_cli((r), &plain, (const char *const[]){TLSPIN_CLI, "pin", __VA_ARGS__, NULL})

static void run_cli(struct run_result *r, const struct run_opts *o, const char *const argv[])
{
    ck_assert_int_eq(run_argv(o, r, argv), 0);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

START_TEST(every_kind_of_file_gives_the_openssl_pin)
{
    struct run_result r;
    const char *t = H.tmp;

    run_sh(fmt("cd '%s' && openssl x509 -in good.pem -outform der -out '%s/good.der' && "
           "openssl req -new -key good-rsa.key -subj /CN=next.good.test -out '%s/next.csr' && "
           "openssl req -new -key good-rsa.key -subj /CN=next.good.test -outform der "
           "  -out '%s/next.csr.der' && "
           "openssl pkey -in good-rsa.key -pubout -out '%s/rsa.pub' && "
           "openssl pkey -in good-rsa.key -pubout -outform der -out '%s/rsa.pub.der' && "
           "openssl rsa -in good-rsa.key -RSAPublicKey_out -out '%s/rsa1.pub' && "
           "openssl rsa -in good-rsa.key -traditional -out '%s/rsa-trad.key' && "
           "openssl pkey -in good-ed25519.key -outform der -out '%s/ed.der' && "
           "openssl ecparam -name prime256v1 -genkey -out '%s/ecparam.key'",
           H.certs, t, t, t, t, t, t, t, t, t));
    PIN(&r, "-q", cert("good.pem"), fmt("%s/good.der", t), cert("int.pem"), cert("ca.pem"),
        cert("good-rsa.key"), fmt("%s/next.csr", t), fmt("%s/next.csr.der", t),
        fmt("%s/rsa.pub", t), fmt("%s/rsa.pub.der", t), fmt("%s/rsa1.pub", t),
        fmt("%s/rsa-trad.key", t), fmt("%s/ed.der", t), cert("good-ed25519.pem"),
        cert("backup.key"));
    expect_exit(&r, 0);
    const char *want = fmt("%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n",
                           pin("PIN_GOOD"), pin("PIN_GOOD"), pin("PIN_INT"), pin("PIN_CA"),
                           pin("PIN_RSA"), pin("PIN_RSA"), pin("PIN_RSA"), pin("PIN_RSA"),
                           pin("PIN_RSA"), pin("PIN_RSA"), pin("PIN_RSA"), pin("PIN_ED25519"),
                           pin("PIN_ED25519"), pin("PIN_BACKUP"));
    ck_assert_msg(strcmp(r.out, want) == 0, "got:\n%s\nwant:\n%s", r.out, want);
    run_result_free(&r);

    /* "EC PARAMETERS" before the key (openssl ecparam -genkey) is skipped. */
    PIN(&r, "-q", fmt("%s/ecparam.key", t));
    expect_exit(&r, 0);
    ck_assert_msg(count(r.out, "sha256/") == 1, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* Standard input. */
    char *pem = read_file(cert("good.pem"), NULL);
    struct run_opts in = {.input = pem};
    run_cli(&r, &in, (const char *const[]){TLSPIN_CLI, "pin", "-q", "-", NULL});
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s\n", pin("PIN_GOOD")));
    run_result_free(&r);
    free(pem);
}
END_TEST

START_TEST(chain_file_positions_and_details)
{
    struct run_result r;

    PIN(&r, cert("good-chain.pem"));
    expect_exit(&r, 0);
    ck_assert_msg(has_line(r.out, "leaf certificate"), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "intermediate certificate"), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, fmt("  pin        %s", pin("PIN_GOOD"))), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, fmt("  pin        %s", pin("PIN_INT"))), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "  subject    CN=good.test,O=tlspin tests"), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "  issuer     CN=tlspin test intermediate CA,O=tlspin tests"),
                  RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "  key        EC P-256"), RUN_FMT, RUN_ARGS(&r));
    /* mkcerts.sh certificates live 30 days: the 30-day mark shows. */
    ck_assert_msg(strstr(r.out, "  not after  ") && strstr(r.out, "(30-day warning)"), RUN_FMT,
                  RUN_ARGS(&r));
    /* leaf first, as in the file */
    ck_assert_ptr_nonnull(strstr(r.out, "leaf certificate"));
    ck_assert(strstr(r.out, "leaf certificate") < strstr(r.out, "intermediate certificate"));
    ck_assert_msg(strchr(r.out, '\033') == NULL, "colour in a pipe: %s", r.out);
    run_result_free(&r);

    /* trust.pem: two self-signed CAs */
    PIN(&r, cert("trust.pem"));
    expect_exit(&r, 0);
    ck_assert_msg(count(r.out, "root certificate\n") == 2, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* several files: a header for each */
    PIN(&r, cert("good.pem"), cert("backup.key"));
    expect_exit(&r, 0);
    ck_assert_msg(has_line(r.out, fmt("==> %s <==", cert("good.pem"))), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, fmt("==> %s <==", cert("backup.key"))), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "private key"), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

START_TEST(spellings_are_the_same_key_to_the_policy)
{
    struct run_result r;
    const char *good_b64 = pin("PIN_GOOD") + strlen("sha256/");
    const char *backup_b64 = pin("PIN_BACKUP") + strlen("sha256/");

    PIN(&r, "-q", "--format", "curl", cert("good.pem"));
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("sha256//%s\n", good_b64));
    run_result_free(&r);
    PIN(&r, "-q", "--format", "hpkp", cert("backup.key"));
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("pin-sha256=\"%s\"\n", backup_b64));
    run_result_free(&r);
    PIN(&r, "--format", "tlspin", "-q", cert("good.pem"));
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s\n", pin("PIN_GOOD")));
    run_result_free(&r);

    /* The curl and HPKP spellings, pasted into a pinset, are two distinct
     * valid pins for the policy: tlspin check accepts the pinset. */
    write_file_policy(NULL);
    write_pinsets("api", "pinsets = ( { name = \"api\"; hosts = [ \"good.test\" ];\n"
                         "  pins = [ \"sha256//%s\", \"pin-sha256=\\\"%s\\\"\" ]; } );\n",
                  good_b64, backup_b64);
    run_cli(&r, &plain, (const char *const[]){TLSPIN_CLI, "check", "--config", H.config, NULL});
    expect_exit(&r, 0);
    run_result_free(&r);

    PIN(&r, "--format", "base64", cert("good.pem"));
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "--format must be tlspin, curl or hpkp"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

START_TEST(bad_inputs_are_refused_clearly)
{
    struct run_result r;
    const char *enc = fmt("%s/enc.key", H.tmp);
    const char *garbage = write_file("garbage.pem", "hello\n");
    const char *empty = write_file("empty.pem", "%s", "");
    const char *p7 = write_file("odd.pem", "-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n");

    run_sh(fmt("openssl pkey -in '%s' -aes256 -passout pass:x -out '%s'", cert("good.key"), enc));
    PIN(&r, enc);
    expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "encrypted private key") && strstr(r.err, "-pubout"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);

    PIN(&r, garbage);
    expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, fmt("tlspin pin: %s: not a certificate, public key, private "
                                    "key or CSR", garbage)), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    PIN(&r, empty);
    expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "empty"), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    PIN(&r, p7);
    expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "\"PKCS7\", not a certificate, key or CSR"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);

    /* A missing file that looks like one: no DNS lookup of "nothere.pem". */
    PIN(&r, "nothere.pem");
    expect_exit(&r, 1);
    ck_assert_str_eq(r.err, "tlspin pin: nothere.pem: No such file or directory\n");
    run_result_free(&r);

    /* One bad file among good ones: the good ones are printed, exit 1. */
    PIN(&r, "-q", cert("good.pem"), garbage, cert("int.pem"));
    expect_exit(&r, 1);
    ck_assert_str_eq(r.out, fmt("%s\n%s\n", pin("PIN_GOOD"), pin("PIN_INT")));
    run_result_free(&r);

    /* usage */
    run_cli(&r, &plain, (const char *const[]){TLSPIN_CLI, "pin", NULL});
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "name a FILE or a HOST[:PORT]"), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    PIN(&r, "--bogus", cert("good.pem"));
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "unknown option \"--bogus\""), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    PIN(&r, "--backup", cert("backup.key"), cert("good.pem"));
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "go with --stanza"), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    PIN(&r, "--stanza", "bad name", cert("good.pem"));
    expect_exit(&r, 2);
    run_result_free(&r);
    PIN(&r, "--sni", "good.test", cert("good.pem"));
    expect_exit(&r, 2);
    run_result_free(&r);

    PIN(&r, "--help");
    expect_exit(&r, 0);
    ck_assert_msg(has_line_prefix(r.out, "usage: tlspin pin [OPTIONS] FILE..."), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "--stanza NAME") && strstr(r.out, "--backup KEYFILE") &&
                      strstr(r.out, "--format tlspin|curl|hpkp") && strstr(r.out, "--json"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Live servers                                                        */
/* ------------------------------------------------------------------ */

START_TEST(live_chain_as_tlspin_counts_it)
{
    struct server s;
    struct run_result r;

    server_start(&s, "good");
    PIN(&r, fmt("good.test:%d", s.port), "--connect", "127.0.0.1", "--cafile",
        cert("trust.pem"));
    expect_exit(&r, 0);
    ck_assert_msg(has_line_prefix(r.out, fmt("good.test:%d (127.0.0.1:%d, TLSv1.3)", s.port,
                                             s.port)), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "  chain: verified against ") &&
                      strstr(r.out, "(tlspin counts: app-verified)"), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "leaf certificate (sent by the server)"), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "intermediate certificate (sent by the server)"), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "root certificate (from the trust store, not sent by the "
                                  "server)"), RUN_FMT, RUN_ARGS(&r));
    ck_assert_str_eq(r.err, "");
    run_result_free(&r);

    /* -q: the counted chain, leaf first */
    PIN(&r, "-q", fmt("good.test:%d", s.port), "--connect", "127.0.0.1", "--cafile",
        cert("trust.pem"));
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s\n%s\n%s\n", pin("PIN_GOOD"), pin("PIN_INT"), pin("PIN_CA")));
    run_result_free(&r);

    /* --connect with a port of its own; the HOST's port is then unused */
    PIN(&r, "-q", "good.test:1", "--connect", fmt("127.0.0.1:%d", s.port), "--cafile",
        cert("trust.pem"));
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s\n%s\n%s\n", pin("PIN_GOOD"), pin("PIN_INT"), pin("PIN_CA")));
    run_result_free(&r);

    /* An IP literal: verified as an address (the leaf has IP:127.0.0.1) */
    PIN(&r, "--json", fmt("127.0.0.1:%d", s.port), "--cafile", cert("trust.pem"));
    expect_exit(&r, 0);
    assert_json(r.out, "d['inputs'][0]['type']", "host");
    assert_json(r.out, "d['inputs'][0]['verified']", "true");
    assert_json(r.out, "d['inputs'][0]['trust']", "app-verified");
    assert_json(r.out, "d['inputs'][0]['peer']", fmt("127.0.0.1:%d", s.port));
    assert_json(r.out, "[c['position'] for c in d['inputs'][0]['certificates']]",
              "[\"leaf\", \"intermediate\", \"root\"]");
    assert_json(r.out, "[c['origin'] for c in d['inputs'][0]['certificates']]",
              "[\"server\", \"server\", \"trust-store\"]");
    assert_json(r.out, "d['inputs'][0]['certificates'][0]['pin']", pin("PIN_GOOD"));
    assert_json(r.out, "d['inputs'][0]['certificates'][0]['expiry_mark']", "30");
    assert_json(r.out, "d['inputs'][0]['certificates'][0]['key']", "EC P-256");
    run_result_free(&r);
}
END_TEST

START_TEST(unverified_chain_counts_only_the_leaf)
{
    struct server s;
    struct run_result r;

    /* The system trust store does not know the test CA. */
    server_start(&s, "good");
    PIN(&r, fmt("good.test:%d", s.port), "--connect", "127.0.0.1");
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.out, "chain: NOT verified against the system trust store") &&
                      strstr(r.out, "tlspin counts only the leaf key (leaf-only)"),
                  RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, "intermediate certificate (sent by the server but NOT in the "
                                  "verified chain: tlspin never counts it)"),
                  RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.err, "warning: the chain is not verified"), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    PIN(&r, "-q", fmt("good.test:%d", s.port), "--connect", "127.0.0.1");
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s\n", pin("PIN_GOOD")));
    run_result_free(&r);
}
END_TEST

START_TEST(appended_certificate_is_never_counted)
{
    struct server s;
    struct run_result r;

    /* The interceptor's chain with the pinned good leaf appended
     * (CVE-2016-2402): the good key is shown, and shown as not counted. */
    server_start(&s, "appended");
    PIN(&r, "--json", fmt("good.test:%d", s.port), "--connect", "127.0.0.1", "--cafile",
        cert("trust.pem"));
    expect_exit(&r, 0);
    assert_json(r.out, "[c['pin'] for c in d['inputs'][0]['certificates'] if c['counted']]",
              fmt("[\"%s\", \"%s\"]", pin("PIN_ICPT"), pin("PIN_ICPT_CA")));
    assert_json(r.out, "[c['origin'] for c in d['inputs'][0]['certificates']]",
              "[\"server\", \"server\", \"presented-only\"]");
    assert_json(r.out, "[c['position'] for c in d['inputs'][0]['certificates']]",
              "[\"leaf\", \"root\", \"leaf\"]");
    assert_json(r.out, "[c['pin'] for c in d['inputs'][0]['certificates'] if not c['counted']]",
              fmt("[\"%s\"]", pin("PIN_GOOD")));
    run_result_free(&r);
    PIN(&r, "-q", fmt("good.test:%d", s.port), "--connect", "127.0.0.1", "--cafile",
        cert("trust.pem"));
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.out, pin("PIN_GOOD")) == NULL, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

START_TEST(sni_selects_the_certificate)
{
    struct server s;
    struct run_result r;

    /* s_server presents icpt for SNI other.test, good for anything else. */
    server_s_server(&s, cert("good.pem"), cert("good.key"), cert("int.pem"),
                    (const char *const[]){"-www", "-servername", "other.test", "-cert2",
                                          cert("icpt.pem"), "-key2", cert("icpt.key"), NULL});
    PIN(&r, "-q", fmt("127.0.0.1:%d", s.port), "--sni", "other.test", "--cafile",
        cert("trust.pem"));
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s\n%s\n", pin("PIN_ICPT"), pin("PIN_ICPT_CA")));
    run_result_free(&r);
    PIN(&r, "-q", fmt("other.test:%d", s.port), "--connect", "127.0.0.1", "--cafile",
        cert("trust.pem"));
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s\n%s\n", pin("PIN_ICPT"), pin("PIN_ICPT_CA")));
    run_result_free(&r);
    PIN(&r, "-q", fmt("good.test:%d", s.port), "--connect", "127.0.0.1", "--cafile",
        cert("trust.pem"));
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s\n%s\n%s\n", pin("PIN_GOOD"), pin("PIN_INT"), pin("PIN_CA")));
    run_result_free(&r);
}
END_TEST

START_TEST(unreachable_hosts)
{
    struct server s;
    struct run_result r;
    int port;

    server_start(&s, "good");
    port = s.port;
    server_stop(&s);
    PIN(&r, fmt("127.0.0.1:%d", port));
    expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, fmt("tlspin pin: 127.0.0.1:%d: cannot connect to 127.0.0.1:%d: "
                                    "Connection refused", port, port)), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    PIN(&r, "no-such-host.invalid");
    expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "cannot resolve no-such-host.invalid"), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    PIN(&r, "good.test:99999");
    expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "the port must be a number from 1 to 65535"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* --stanza                                                            */
/* ------------------------------------------------------------------ */

static void client(struct run_result *r, int port)
{
    static const struct run_opts shim = {.preload = 1};
    tls_client_run(r, &shim, TLS_CLIENT, port, "good.test", NULL);
}

START_TEST(stanza_with_backup_is_checked_and_enforced)
{
    struct server good, icpt;
    struct run_result r;
    const char *conf;
    char *text;

    server_start(&good, "good");
    server_start(&icpt, "icpt");
    write_file_policy(NULL);
    conf = fmt("%s/api.conf", H.pinsets);
    PIN(&r, "--stanza", "api", "--backup", cert("backup.key"), fmt("good.test:%d", good.port),
        "--connect", "127.0.0.1", "--cafile", cert("trust.pem"));
    expect_exit(&r, 0);
    ck_assert_str_eq(r.err, "");
    ck_assert_msg(strstr(r.out, "pinsets = (\n  { name = \"api\";\n    hosts = [ \"good.test\" ];"),
                  RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, fmt("      \"%s\",  # current key: leaf CN=good.test,O=tlspin "
                                    "tests (not after ", pin("PIN_GOOD"))), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, fmt("      \"%s\"   # backup key: %s, EC P-256",
                                    pin("PIN_BACKUP"), cert("backup.key"))), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "A BACKUP PIN IS REQUIRED") == NULL, RUN_FMT, RUN_ARGS(&r));
    write_pinsets("api", "%s", r.out);
    run_result_free(&r);

    run_cli(&r, &plain, (const char *const[]){TLSPIN_CLI, "check", "--config", H.config, NULL});
    text = read_file(conf, NULL);
    ck_assert_msg(r.exited && r.code == 0, "check refused the stanza:\n%s\n" RUN_FMT, text,
                  RUN_ARGS(&r));
    free(text);
    run_result_free(&r);

    client(&r, good.port);
    assert_client_ok(&r);
    run_result_free(&r);
    client(&r, icpt.port);
    assert_client_blocked(&r);
    run_result_free(&r);
}
END_TEST

START_TEST(stanza_without_backup_reminds_and_is_refused)
{
    struct server s;
    struct run_result r;

    server_start(&s, "good");
    write_file_policy(NULL);
    PIN(&r, "--stanza", "api", fmt("good.test:%d", s.port), "--connect", "127.0.0.1",
        "--cafile", cert("trust.pem"));
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.out, "A BACKUP PIN IS REQUIRED"), RUN_FMT, RUN_ARGS(&r));
    /* the CAs of the chain are offered, commented out */
    ck_assert_msg(strstr(r.out, fmt("#   , \"%s\"  # intermediate CN=tlspin test intermediate CA",
                                    pin("PIN_INT"))), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, fmt("#   , \"%s\"  # root CN=tlspin test root CA", pin("PIN_CA"))),
                  RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.err, "note: this pinset has a single pin"), RUN_FMT, RUN_ARGS(&r));
    write_pinsets("api", "%s", r.out);
    run_result_free(&r);

    /* As pasted, it parses, and tlspin refuses it for its single pin. */
    run_cli(&r, &plain, (const char *const[]){TLSPIN_CLI, "check", "--config", H.config, NULL});
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.out, "has only one distinct pin"), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    /* The current key as "backup" is no backup. */
    PIN(&r, "--stanza", "api", "--backup", cert("good.pem"), fmt("good.test:%d", s.port),
        "--connect", "127.0.0.1", "--cafile", cert("trust.pem"));
    expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "that is the current key, not a backup"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

START_TEST(stanza_from_files_takes_hosts_from_the_certificate)
{
    struct run_result r;

    write_file_policy(NULL);
    PIN(&r, "--stanza", "api", "--backup", cert("backup.key"), cert("good-chain.pem"));
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.out, "hosts = [ \"good.test\", \"other.test\", \"localhost\", "
                                "\"127.0.0.1\", \"::1\" ];"), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(count(r.out, "sha256/") == 2, RUN_FMT, RUN_ARGS(&r));
    write_pinsets("api", "%s", r.out);
    run_result_free(&r);
    run_cli(&r, &plain, (const char *const[]){TLSPIN_CLI, "check", "--config", H.config, NULL});
    expect_exit(&r, 0);
    run_result_free(&r);

    /* --host instead; a CSR as the second (next) key, no --backup needed */
    run_sh(fmt("openssl req -new -key '%s' -subj /CN=api.example.com -out '%s/next.csr'",
           cert("good-rsa.key"), H.tmp));
    PIN(&r, "--stanza", "next", "--host", "API.example.com", "--host", "*.pay.example.com",
        cert("good.pem"), fmt("%s/next.csr", H.tmp));
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.out, "hosts = [ \"api.example.com\", \"*.pay.example.com\" ];"),
                  RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, fmt("\"%s\",", pin("PIN_GOOD"))) &&
                      strstr(r.out, fmt("\"%s\" ", pin("PIN_RSA"))),
                  RUN_FMT, RUN_ARGS(&r));
    write_pinsets("next", "%s", r.out);
    run_result_free(&r);
    run_cli(&r, &plain, (const char *const[]){TLSPIN_CLI, "check", "--config", H.config, NULL});
    expect_exit(&r, 0);
    run_result_free(&r);

    /* JSON carries the stanza too */
    PIN(&r, "--json", "--stanza", "api", "--backup", cert("backup.key"), cert("good.pem"));
    expect_exit(&r, 0);
    char *st = json_query(r.out, "d['stanza'].splitlines()[3]");
    ck_assert_str_eq(st, "pinsets = (");
    free(st);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Output and environment                                              */
/* ------------------------------------------------------------------ */

START_TEST(json_of_files)
{
    struct run_result r;

    PIN(&r, "--json", "--format", "curl", cert("good-chain.pem"), fmt("%s/nope", H.tmp),
        cert("backup.key"));
    expect_exit(&r, 1);   /* the missing file */
    assert_json(r.out, "len(d['inputs'])", "3");
    assert_json(r.out, "d['inputs'][0]['certificates'][0]['pin']",
              fmt("sha256//%s", pin("PIN_GOOD") + 7));
    assert_json(r.out, "d['inputs'][0]['certificates'][0]['sha256']", pin("PIN_GOOD") + 7);
    assert_json(r.out, "d['inputs'][0]['certificates'][1]['position']", "intermediate");
    assert_json(r.out, "d['inputs'][0]['certificates'][0]['subject']", "CN=good.test,O=tlspin tests");
    assert_json(r.out, "d['inputs'][0]['certificates'][0]['not_after'].endswith('Z')", "true");
    assert_json(r.out, "d['inputs'][1]['error']", "No such file or directory");
    assert_json(r.out, "d['inputs'][2]['certificates'][0]['kind']", "private key");
    assert_json(r.out, "d['inputs'][2]['certificates'][0]['position']", "null");
    run_result_free(&r);
}
END_TEST

START_TEST(colour_only_on_a_terminal)
{
    struct run_result r;

    PIN(&r, cert("good.pem"));
    expect_exit(&r, 0);
    ck_assert_msg(strchr(r.out, '\033') == NULL, "colour in a pipe");
    run_result_free(&r);
    /* script(1) gives the command a pseudo-terminal */
    ck_assert_int_eq(RUN(&r, &plain, "/usr/bin/script", "-qec",
                         fmt("/usr/bin/env -u NO_COLOR TERM=xterm %s pin %s", TLSPIN_CLI,
                             cert("good.pem")), "/dev/null"), 0);
    ck_assert_msg(strstr(r.out, "\033[1mleaf certificate\033[0m"), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq(RUN(&r, &plain, "/usr/bin/script", "-qec",
                         fmt("/usr/bin/env NO_COLOR=1 TERM=xterm %s pin %s", TLSPIN_CLI,
                             cert("good.pem")), "/dev/null"), 0);
    ck_assert_msg(strstr(r.out, "leaf certificate") && strchr(r.out, '\033') == NULL, RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq(RUN(&r, &plain, "/usr/bin/script", "-qec",
                         fmt("/usr/bin/env -u NO_COLOR TERM=dumb %s pin %s", TLSPIN_CLI,
                             cert("good.pem")), "/dev/null"), 0);
    ck_assert_msg(strstr(r.out, "leaf certificate") && strchr(r.out, '\033') == NULL, RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

START_TEST(shim_in_the_command_does_not_stop_it)
{
    static const struct run_opts shim = {.preload = 1};
    struct server s;
    struct run_result r;
    size_t mark;

    /* A policy that refuses the interceptor; the command runs under the shim
     * (as with /etc/ld.so.preload): it still reads the refused key, and the
     * shim neither refuses nor logs the command's own handshake. */
    server_start(&s, "icpt");
    write_file_policy(NULL);
    write_good_pinset();
    mark = syslog_mark();
    run_cli(&r, &shim, (const char *const[]){TLSPIN_CLI, "pin", "-q", fmt("good.test:%d", s.port),
                                             "--connect", "127.0.0.1", "--cafile",
                                             cert("trust.pem"), NULL});
    expect_exit(&r, 0);
    ck_assert_str_eq(r.out, fmt("%s\n%s\n", pin("PIN_ICPT"), pin("PIN_ICPT_CA")));
    run_result_free(&r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "%s", syslog_dump_since(mark));
    /* the same client is refused under the shim */
    tls_client_run(&r, &shim, TLS_CLIENT, s.port, "good.test", NULL);
    assert_client_blocked(&r);
    run_result_free(&r);
}
END_TEST

static Suite *cli_pin_suite(void)
{
    Suite *s = suite_create("cli_pin");
    TCase *tc;

    tc = harness_tcase("files");
    tcase_add_test(tc, every_kind_of_file_gives_the_openssl_pin);
    tcase_add_test(tc, chain_file_positions_and_details);
    tcase_add_test(tc, spellings_are_the_same_key_to_the_policy);
    tcase_add_test(tc, bad_inputs_are_refused_clearly);
    tcase_add_test(tc, json_of_files);
    suite_add_tcase(s, tc);
    tc = harness_tcase("live");
    tcase_add_test(tc, live_chain_as_tlspin_counts_it);
    tcase_add_test(tc, unverified_chain_counts_only_the_leaf);
    tcase_add_test(tc, appended_certificate_is_never_counted);
    tcase_add_test(tc, sni_selects_the_certificate);
    tcase_add_test(tc, unreachable_hosts);
    suite_add_tcase(s, tc);
    tc = harness_tcase("stanza");
    tcase_add_test(tc, stanza_with_backup_is_checked_and_enforced);
    tcase_add_test(tc, stanza_without_backup_reminds_and_is_refused);
    tcase_add_test(tc, stanza_from_files_takes_hosts_from_the_certificate);
    suite_add_tcase(s, tc);
    tc = harness_tcase("environment");
    tcase_add_test(tc, colour_only_on_a_terminal);
    tcase_add_test(tc, shim_in_the_command_does_not_stop_it);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(cli_pin_suite());
}
