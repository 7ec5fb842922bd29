/*
 * test_bypass_chain.c — issue 11, cases 5, 10 and 11: which certificates
 * count, and what the record says about them. Real handshakes under the
 * preload against tls_server on 127.0.0.1; every certificate is made at test
 * time with the openssl CLI from the suite's fixtures. Each threat is first
 * shown without the shim, then refused with it; a control shows the near
 * miss that must still pass.
 *
 *   V  a chain the program never really verified (case 5). A program whose
 *      verify function is its own (X509_STORE_set_verify, or
 *      X509_STORE_CTX_set_verify from a cert_verify_callback) checks no
 *      signature: a forged chain holding the pinned intermediate (its name
 *      copied, the real intermediate appended) or a forged intermediate
 *      carrying the pinned intermediate's public key verifies "ok". tlspin
 *      counts the program's chain only when OpenSSL's own verify function
 *      and callback produced it; otherwise it verifies the same certificates
 *      again with them (the control passes), or keeps only the leaf.
 *      Siblings: a verify callback set on the store rather than the SSL, and
 *      a get_issuer that trusts what the server sent (it may choose the
 *      anchor, never skip a signature).
 *   H  the host a CA pin needs (case 10): the leaf must name the host in
 *      its subjectAltName. A leaf with no subjectAltName whose CN is the host,
 *      a partial wildcard (pa*.wild.test), a wildcard over two labels, and an
 *      IP address only in the CN are refused under an intermediate pin; a
 *      proper DNS name and a whole-label wildcard pass.
 *   N  the record names the leaf (case 11): a leaf whose subject holds 2 KB
 *      of OUs after its CN (so RFC 2253 order prints them first) is named by
 *      its CN in the record's chain field; a leaf with no CN by its first
 *      subjectAltName. The field keeps its shape: "<pin> <name>" per
 *      certificate, " | " between them.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

#define CHAIN_CLIENT BIN_DIR "/bypass_chain_client"
#define SEND_TEXT "tlspin-chain-request\\r\\n\\r\\n"
#define SENT_TEXT "tlspin-chain-request"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* The directory of this test's made certificates. */
static const char *made_dir(void)
{
    return fmt("%s/made", H.tmp);
}

/* tls_server (not preloaded) presenting <name>-chain.pem with <name>.key
 * from made_dir(). */
static void server_start_made(struct server *s, const char *name)
{
    const char *args[] = {"--cert", fmt("%s/%s-chain.pem", made_dir(), name),
                          "--key", fmt("%s/%s.key", made_dir(), name), NULL};

    server_tls_server(s, args, 0);
}

/* The pin of a made leaf (<name>.pin, written by leaf_script), static. */
static const char *made_pin(const char *name)
{
    static char pin[128];
    char *text = read_file(fmt("%s/%s.pin", made_dir(), name), NULL);

    ck_assert_msg(text != NULL && strncmp(text, "sha256/", 7) == 0, "no pin for %s", name);
    snprintf(pin, sizeof(pin), "%.*s", (int)strcspn(text, "\n"), text);
    free(text);
    return pin;
}

/* A pinset `name` for one host: the intermediate's key and the backup. */
static void int_pinset_for(const char *name, const char *host)
{
    write_pinsets(name,
                  "pinsets = ( { name = \"%s\"; hosts = [ \"%s\" ];\n"
                  "              pins = [ \"%s\", \"%s\" ]; } );\n",
                  name, host, pin("PIN_INT"), pin("PIN_BACKUP"));
}

/* The server log has the client's request. */
static int server_got_request(const struct server *s)
{
    char *log = server_log(s);
    int got = strstr(log, "bypass-chain-request") != NULL;

    free(log);
    return got;
}

/* The record since mark that says action=blocked, failing without one. */
static const struct syslog_rec *blocked_record(size_t mark)
{
    const struct syslog_rec *rec = syslog_wait_for_since(mark, "action=blocked", 2000);

    ck_assert_msg(rec != NULL, "no action=blocked record; records:\n%s", syslog_dump_since(mark));
    return rec;
}

static void assert_no_tlspin_record(size_t mark)
{
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "unexpected tlspin records:\n%s",
                  syslog_dump_since(mark));
}

/* The record's chain field, static. */
static const char *chain_field(const struct syslog_rec *rec)
{
    static char chain[8192];

    ck_assert_msg(rec_field(rec, "chain", chain, sizeof chain) == 0, "no chain field: %s",
                  rec->msg);
    return chain;
}

/* The chain field has n certificates, each "sha256/<44 base64> <name>",
 * separated by " | ". */
static void assert_chain_shape(const char *chain, size_t n)
{
    const char *p = chain;

    for (size_t i = 0; i < n; i++) {
        const char *sep = strstr(p, " | ");
        ck_assert_msg(strncmp(p, "sha256/", 7) == 0 && strlen(p) > 52 && p[51] == ' ',
                      "certificate %zu is not '<pin> <name>': %s", i, chain);
        ck_assert_msg((sep != NULL) == (i + 1 < n), "not %zu certificates: %s", n, chain);
        p = sep ? sep + 3 : p;
    }
}

/* ------------------------------------------------------------------ */
/* Certificates made at test time                                      */
/* ------------------------------------------------------------------ */

/* Shell functions the scripts share: subject and subject key id of a
 * certificate, and the pin of a key. */
#define SCRIPT_HEAD                                                                \
    "set -euo pipefail\n"                                                          \
    "ossl=$1 certs=$2 out=$3\n"                                                    \
    "mkdir -p \"$out\" && cd \"$out\"\n"                                           \
    "subj_of() { local s; s=$(\"$ossl\" x509 -in \"$1\" -noout -subject"           \
    " -nameopt compat); printf '%s' \"${s#subject=}\"; }\n"                        \
    "ski_of() { \"$ossl\" x509 -in \"$1\" -noout -ext subjectKeyIdentifier |"      \
    " sed -n '2{s/ //g;p}'; }\n"                                                   \
    "pin_of() { printf 'sha256/%s' \"$(\"$ossl\" pkey -pubin -in \"$1\" -outform"  \
    " der | \"$ossl\" dgst -sha256 -binary | base64 -w0)\"; }\n"                   \
    "EC=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)\n"                           \
    "LEAF='basicConstraints = critical, CA:FALSE\n"                                \
    "keyUsage = critical, digitalSignature\n"                                      \
    "extendedKeyUsage = serverAuth\n"                                              \
    "subjectKeyIdentifier = hash\n"                                                \
    "authorityKeyIdentifier = keyid:always'\n"

/* $4 name, $5 subject, $6 subjectAltName value or "": a leaf signed by the
 * fixtures' real intermediate; <name>-chain.pem (leaf + intermediate),
 * <name>.key and <name>.pin. The chain verifies (names aside). */
static const char leaf_script[] =
    SCRIPT_HEAD
    "name=$4 subj=$5 san=$6\n"
    "{ printf '[ req ]\\ndistinguished_name = dn\\nprompt = no\\n[ dn ]\\nCN = unused\\n"
    "[ v3_leaf ]\\n%s\\n' \"$LEAF\"\n"
    "  if [[ -n $san ]]; then printf 'subjectAltName = %s\\n' \"$san\"; fi; } > \"$name.cnf\"\n"
    "\"$ossl\" req -config \"$name.cnf\" -x509 -noenc -days 30 -sha256 \"${EC[@]}\""
    " -keyout \"$name.key\" -out \"$name.pem\" -subj \"$subj\" -extensions v3_leaf"
    " -CA \"$certs/int.pem\" -CAkey \"$certs/int.key\" 2>/dev/null\n"
    "cat \"$name.pem\" \"$certs/int.pem\" > \"$name-chain.pem\"\n"
    "\"$ossl\" x509 -in \"$name.pem\" -noout -pubkey > \"$name.pub\"\n"
    "pin_of \"$name.pub\" > \"$name.pin\"\n"
    "\"$ossl\" verify -CAfile \"$certs/trust.pem\" -untrusted \"$certs/int.pem\""
    " \"$name.pem\" >/dev/null\n";

static void make_leaf(const char *name, const char *subject, const char *san)
{
    run_script(fmt("making the %s leaf", name), leaf_script,
               (const char *const[]){OPENSSL, H.certs, made_dir(), name, subject, san, NULL});
}

/* A fake CA with the real intermediate's name and key id (self-signed, a key
 * of the attacker's) signs a good.test leaf; the attacker's server sends it
 * with the real intermediate appended (forged-name-chain.pem). Checks that
 * only the signature is wrong. */
static const char forge_name_script[] =
    SCRIPT_HEAD
    "int_subj=$(subj_of \"$certs/int.pem\") int_ski=$(ski_of \"$certs/int.pem\")\n"
    "[[ -n $int_subj && -n $int_ski ]]\n"
    "printf '[ req ]\\ndistinguished_name = dn\\nprompt = no\\n[ dn ]\\nCN = unused\\n"
    "[ v3_fake ]\\nbasicConstraints = critical, CA:TRUE\\n"
    "keyUsage = critical, keyCertSign, cRLSign\\nsubjectKeyIdentifier = %s\\n"
    "[ v3_leaf ]\\n%s\\nsubjectAltName = DNS:good.test\\n' \"$int_ski\" \"$LEAF\" > forge.cnf\n"
    "\"$ossl\" req -config forge.cnf -x509 -noenc -days 30 -sha256 \"${EC[@]}\""
    " -keyout fake-int.key -out fake-int.pem -subj \"$int_subj\" -extensions v3_fake 2>/dev/null\n"
    "\"$ossl\" req -config forge.cnf -x509 -noenc -days 30 -sha256 \"${EC[@]}\""
    " -keyout forged-name.key -out forged-name.pem -subj '/O=tlspin tests/CN=good.test'"
    " -extensions v3_leaf -CA fake-int.pem -CAkey fake-int.key 2>/dev/null\n"
    "cat forged-name.pem \"$certs/int.pem\" > forged-name-chain.pem\n"
    "[[ $(\"$ossl\" x509 -in forged-name.pem -noout -issuer -nameopt compat) =="
    " \"issuer=$int_subj\" ]]\n"
    "if v=$(\"$ossl\" verify -CAfile \"$certs/trust.pem\" -untrusted \"$certs/int.pem\""
    " forged-name.pem 2>&1); then echo \"forged leaf verifies: $v\"; exit 1; fi\n"
    "grep -q 'signature failure' <<<\"$v\" || { echo \"unexpected: $v\"; exit 1; }\n";

/* A forged intermediate carrying the real intermediate's name, key id and
 * public key, "issued" by a fake root copying the real root's name and key
 * id; a good.test leaf claiming the intermediate as issuer, signed by a key
 * of the attacker's. The server sends leaf + forged intermediate
 * (forged-key-chain.pem): the pinned key is in the chain, and no signature
 * in it is right. */
static const char forge_key_script[] =
    SCRIPT_HEAD
    "int_subj=$(subj_of \"$certs/int.pem\") int_ski=$(ski_of \"$certs/int.pem\")\n"
    "ca_subj=$(subj_of \"$certs/ca.pem\") ca_ski=$(ski_of \"$certs/ca.pem\")\n"
    "[[ -n $int_subj && -n $int_ski && -n $ca_subj && -n $ca_ski ]]\n"
    "printf '[ req ]\\ndistinguished_name = dn\\nprompt = no\\n[ dn ]\\nCN = unused\\n"
    "[ v3_fake_root ]\\nbasicConstraints = critical, CA:TRUE\\n"
    "keyUsage = critical, keyCertSign, cRLSign\\nsubjectKeyIdentifier = %s\\n"
    "[ v3_signer ]\\nbasicConstraints = critical, CA:TRUE\\n"
    "keyUsage = critical, keyCertSign, cRLSign\\nsubjectKeyIdentifier = %s\\n"
    "[ v3_fake_int ]\\nbasicConstraints = critical, CA:TRUE, pathlen:0\\n"
    "keyUsage = critical, keyCertSign, cRLSign\\nsubjectKeyIdentifier = hash\\n"
    "authorityKeyIdentifier = keyid:always\\n"
    "[ v3_leaf ]\\n%s\\nsubjectAltName = DNS:good.test\\n' \"$ca_ski\" \"$int_ski\" \"$LEAF\""
    " > forge.cnf\n"
    "\"$ossl\" req -config forge.cnf -x509 -noenc -days 30 -sha256 \"${EC[@]}\""
    " -keyout fake-root.key -out fake-root.pem -subj \"$ca_subj\" -extensions v3_fake_root"
    " 2>/dev/null\n"
    "\"$ossl\" x509 -in \"$certs/int.pem\" -noout -pubkey > int.pub\n"
    "\"$ossl\" req -config forge.cnf -new -noenc \"${EC[@]}\" -keyout throwaway.key"
    " -out fake-int.csr -subj \"$int_subj\" 2>/dev/null\n"
    "\"$ossl\" x509 -req -in fake-int.csr -CA fake-root.pem -CAkey fake-root.key"
    " -force_pubkey int.pub -extfile forge.cnf -extensions v3_fake_int -days 30 -sha256"
    " -set_serial 4242 -out fake-int.pem 2>/dev/null\n"
    "\"$ossl\" req -config forge.cnf -x509 -noenc -days 30 -sha256 \"${EC[@]}\""
    " -keyout signer.key -out signer.pem -subj \"$int_subj\" -extensions v3_signer 2>/dev/null\n"
    "\"$ossl\" req -config forge.cnf -x509 -noenc -days 30 -sha256 \"${EC[@]}\""
    " -keyout forged-key.key -out forged-key.pem -subj '/O=tlspin tests/CN=good.test'"
    " -extensions v3_leaf -CA signer.pem -CAkey signer.key 2>/dev/null\n"
    "cat forged-key.pem fake-int.pem > forged-key-chain.pem\n"
    /* The forged intermediate is the real one's twin, key included ... */
    "\"$ossl\" x509 -in fake-int.pem -noout -pubkey > fake-int.pub\n"
    "cmp -s fake-int.pub int.pub || { echo 'the key was not copied'; exit 1; }\n"
    "[[ $(subj_of fake-int.pem) == \"$int_subj\" && $(ski_of fake-int.pem) == \"$int_ski\" ]]\n"
    "[[ $(\"$ossl\" x509 -in forged-key.pem -noout -issuer -nameopt compat) =="
    " \"issuer=$int_subj\" ]]\n"
    /* ... and nothing verifies. */
    "if v=$(\"$ossl\" verify -CAfile \"$certs/trust.pem\" -untrusted fake-int.pem"
    " forged-key.pem 2>&1); then echo \"forged chain verifies: $v\"; exit 1; fi\n"
    "grep -q 'signature failure' <<<\"$v\" || { echo \"unexpected: $v\"; exit 1; }\n";

static void make_forgery(const char *name)
{
    run_script(fmt("forging %s", name),
               strcmp(name, "forged-name") == 0 ? forge_name_script : forge_key_script,
               (const char *const[]){OPENSSL, H.certs, made_dir(), NULL});
}

/* ------------------------------------------------------------------ */
/* V: a chain the program never really verified (case 5)               */
/* ------------------------------------------------------------------ */

static void chain_client(struct run_result *r, const struct run_opts *o, const char *mode,
                         int port)
{
    ck_assert_int_eq(RUN(r, o, CHAIN_CLIENT, mode, fmt("127.0.0.1:%d", port), cert("trust.pem"),
                         "good.test"),
                     0);
}

/* Without the shim, the program's own hook accepts what the server sent:
 * the handshake completes and the request reaches the server. */
static void assert_threat(const char *mode, const char *made)
{
    struct server s;
    struct run_result r;

    server_start_made(&s, made);
    chain_client(&r, &plain, mode, s.port);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "handshake ok") &&
                      has_line(r.out, "verify_result=0 (ok)"),
                  "threat not reproduced (%s, %s): " RUN_FMT, mode, made, RUN_ARGS(&r));
    ck_assert_msg(line_number(r.out, "lax-hook calls ") > 0, "the hook never ran: " RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(server_got_request(&s), "the forged server got no request");
    run_result_free(&r);
    server_stop(&s);
}

/* Under the shim, with good.test pinned to the intermediate: refused inside
 * the handshake, no request reached the server, and the record says the
 * program's chain did not count (trust `trust`, no intermediate in it). */
static void assert_refused(const char *mode, const char *made, const char *trust)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    write_file_policy(NULL);
    int_pinset_for("int", "good.test");
    server_start_made(&s, made);
    mark = syslog_mark();
    chain_client(&r, &shim, mode, s.port);
    assert_client_blocked(&r);
    ck_assert_msg(!server_got_request(&s), "the request reached the server");
    assert_server_got_no_data(&s);
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "pinset", "int");
    ck_assert_field(rec, "trust", trust);
    ck_assert_msg(!strstr(chain_field(rec), pin("PIN_INT")), "the pinned key counted: %s",
                  chain_field(rec));
    run_result_free(&r);
}

/* The control: the same program, the real chain: verified again with
 * OpenSSL's own function, the intermediate's pin is met, nothing logged. */
static void assert_real_chain_allowed(const char *mode)
{
    struct server s;
    struct run_result r;
    size_t mark;

    write_file_policy(NULL);
    int_pinset_for("int", "good.test");
    server_start(&s, "good");
    mark = syslog_mark();
    chain_client(&r, &shim, mode, s.port);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "handshake ok"),
                  "the real chain was refused: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(has_line(r.out, fmt("peer_pin=%s", pin("PIN_GOOD"))), RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(server_got_request(&s), "the server got no request");
    assert_no_tlspin_record(mark);
    run_result_free(&r);
}

START_TEST(v_store_verify_forged_name_blocked)
{
    make_forgery("forged-name");
    assert_threat("store-verify", "forged-name");
    assert_refused("store-verify", "forged-name", "leaf-only");
}
END_TEST

START_TEST(v_store_verify_forged_key_blocked)
{
    make_forgery("forged-key");
    assert_threat("store-verify", "forged-key");
    assert_refused("store-verify", "forged-key", "leaf-only");
}
END_TEST

START_TEST(v_store_verify_real_chain_allowed)
{
    assert_real_chain_allowed("store-verify");
}
END_TEST

START_TEST(v_ctx_verify_forged_key_blocked)
{
    make_forgery("forged-key");
    assert_threat("ctx-verify", "forged-key");
    assert_refused("ctx-verify", "forged-key", "leaf-only");
}
END_TEST

START_TEST(v_ctx_verify_real_chain_allowed)
{
    assert_real_chain_allowed("ctx-verify");
}
END_TEST

/* Sibling: the callback that clears errors, set on the store rather than
 * on the SSL (libssl keeps the store's when the SSL has none). */
START_TEST(v_store_verify_cb_forged_name_blocked)
{
    make_forgery("forged-name");
    assert_threat("store-verify-cb", "forged-name");
    assert_refused("store-verify-cb", "forged-name", "leaf-only");
}
END_TEST

START_TEST(v_store_verify_cb_real_chain_allowed)
{
    assert_real_chain_allowed("store-verify-cb");
}
END_TEST

/* Sibling: a get_issuer that trusts the intermediate the server sent. The
 * forged intermediate, carrying the pinned key, becomes the program's
 * anchor; OpenSSL still checks the leaf's signature against that key, so
 * the program's verification fails and the chain does not count. */
START_TEST(v_get_issuer_peer_forged_key_blocked)
{
    make_forgery("forged-key");
    assert_refused("get-issuer-peer", "forged-key", "leaf-only");
}
END_TEST

/* ------------------------------------------------------------------ */
/* H: the leaf's names under a CA pin (case 10)                        */
/* ------------------------------------------------------------------ */

/* tls_client verifies the chain (good.test's intermediate, trust.pem) but
 * checks no name itself: the name is tlspin's to check. sni NULL: none (the
 * socket's address is the host). */
static void named_client(struct run_result *r, int port, const char *sni)
{
    tls_client_run(r, &shim, TLS_CLIENT, port, sni,
                   (const char *const[]){"--send", SEND_TEXT, NULL});
}

/* Leaf `name` (made with subject and san) for `host`, pinned to the
 * intermediate: refused, the record says the leaf is not valid for host. */
static void assert_ca_pin_refused(const char *name, const char *subject, const char *san,
                                  const char *host, const char *sni)
{
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    make_leaf(name, subject, san);
    write_file_policy(NULL);
    int_pinset_for(name, host);
    server_start_made(&s, name);
    mark = syslog_mark();
    named_client(&r, s.port, sni);
    assert_client_blocked(&r);
    assert_server_got_no_data(&s);
    rec = blocked_record(mark);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "host", host);
    ck_assert_field(rec, "pinset", name);
    ck_assert_field(rec, "trust", "app-verified");
    ck_assert_field_has(rec, "chain", pin("PIN_INT"));
    ck_assert_field_has(rec, "reason", fmt("leaf certificate is not valid for %s", host));
    run_result_free(&r);
}

/* The same leaf kind, allowed quietly. */
static void assert_ca_pin_allowed(const char *name, const char *subject, const char *san,
                                  const char *host)
{
    struct server s;
    struct run_result r;
    size_t mark;

    make_leaf(name, subject, san);
    write_file_policy(NULL);
    int_pinset_for(name, host);
    server_start_made(&s, name);
    mark = syslog_mark();
    named_client(&r, s.port, host);
    assert_client_ok(&r);
    assert_server_got(&s, SENT_TEXT);
    assert_no_tlspin_record(mark);
    run_result_free(&r);
}

START_TEST(h_cn_without_san_blocked)
{
    assert_ca_pin_refused("cnonly", "/O=tlspin tests/CN=cnonly.test", "", "cnonly.test",
                          "cnonly.test");
}
END_TEST

/* A DNS name elsewhere in the SAN does not make the CN count either. */
START_TEST(h_cn_with_other_san_blocked)
{
    assert_ca_pin_refused("cnother", "/O=tlspin tests/CN=cnother.test", "DNS:elsewhere.test",
                          "cnother.test", "cnother.test");
}
END_TEST

START_TEST(h_partial_wildcard_blocked)
{
    assert_ca_pin_refused("partial", "/O=tlspin tests/CN=partial wildcard",
                          "DNS:pa*.wild.test", "pay.wild.test", "pay.wild.test");
}
END_TEST

START_TEST(h_wildcard_over_two_labels_blocked)
{
    assert_ca_pin_refused("deep", "/O=tlspin tests/CN=deep wildcard", "DNS:*.wild.test",
                          "a.pay.wild.test", "a.pay.wild.test");
}
END_TEST

/* An IP literal counts only in an iPAddress entry: not in the CN, not as a
 * DNS name. The client sends no SNI: the socket's address is the host. */
START_TEST(h_ip_in_cn_blocked)
{
    assert_ca_pin_refused("ipcn", "/O=tlspin tests/CN=127.0.0.1", "DNS:127.0.0.1", "127.0.0.1",
                          NULL);
}
END_TEST

START_TEST(h_san_dns_name_allowed)
{
    assert_ca_pin_allowed("named", "/O=tlspin tests/CN=named.test", "DNS:named.test",
                          "named.test");
}
END_TEST

START_TEST(h_whole_label_wildcard_allowed)
{
    assert_ca_pin_allowed("wild", "/O=tlspin tests/CN=wildcard", "DNS:*.wild.test",
                          "pay.wild.test");
}
END_TEST

/* ------------------------------------------------------------------ */
/* N: the record names the leaf (case 11)                              */
/* ------------------------------------------------------------------ */

/* `head` then n OUs "OU=padding-0001" ... : about 2 KB of subject. */
static const char *padded_subject(const char *head, size_t n)
{
    static char subject[4096];
    size_t len = (size_t)snprintf(subject, sizeof subject, "%s", head);

    for (size_t i = 1; i <= n && len + 32 < sizeof subject; i++)
        len += (size_t)snprintf(subject + len, sizeof subject - len, "/OU=padding-%04zu", i);
    return subject;
}

/* Leaf `name` for good.test, pinned to keys it does not have: refused; the
 * record's chain field, returned (static), lists leaf and intermediate. */
static const char *refused_chain_of(const char *name, const char *subject, const char *san)
{
    static char chain[8192];
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    make_leaf(name, subject, san);
    write_file_policy(NULL);
    write_pinsets("other", "pinsets = ( { name = \"other\"; hosts = [ \"good.test\" ];\n"
                           "              pins = [ \"%s\", \"%s\" ]; } );\n",
                  pin("PIN_ICPT"), pin("PIN_BACKUP"));
    server_start_made(&s, name);
    mark = syslog_mark();
    named_client(&r, s.port, "good.test");
    assert_client_blocked(&r);
    assert_server_got_no_data(&s);
    rec = blocked_record(mark);
    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "host", "good.test");
    snprintf(chain, sizeof chain, "%s", chain_field(rec));
    assert_chain_shape(chain, 3);
    ck_assert_msg(strncmp(chain, made_pin(name), strlen(made_pin(name))) == 0,
                  "the leaf is not first: %s", chain);
    ck_assert_msg(strstr(chain, fmt(" | %s CN=tlspin test intermediate CA,O=tlspin tests | ",
                                    pin("PIN_INT"))),
                  "the intermediate is not named as before: %s", chain);
    run_result_free(&r);
    return chain;
}

/* The leaf's part of a chain field (up to the first " | "), static. */
static const char *leaf_part(const char *chain)
{
    static char part[4096];

    snprintf(part, sizeof part, "%.*s", (int)(strstr(chain, " | ") - chain), chain);
    return part;
}

START_TEST(n_leaf_padded_with_ous_named_by_cn)
{
    const char *chain = refused_chain_of("padded", padded_subject("/CN=padded.test", 128),
                                         "DNS:good.test");
    const char *leaf = leaf_part(chain);

    ck_assert_msg(strstr(leaf, "CN=padded.test"), "the leaf's CN is lost: %s", leaf);
    /* The leaf's part stays bounded: a name, not 2 KB of padding. */
    ck_assert_msg(strlen(leaf) < 700, "the leaf's part is %zu bytes: %s", strlen(leaf), leaf);
    ck_assert_msg(strstr(leaf, "OU=padding-"), "the rest of the subject is gone: %s", leaf);
}
END_TEST

START_TEST(n_leaf_without_cn_named_by_san)
{
    const char *chain = refused_chain_of("nocn", "/O=tlspin tests/OU=no common name",
                                         "DNS:good.test,DNS:nocn.test");
    const char *leaf = leaf_part(chain);

    ck_assert_msg(strstr(leaf, "DNS:good.test"), "the leaf is not named: %s", leaf);
    ck_assert_msg(strstr(leaf, "OU=no common name,O=tlspin tests"), "subject lost: %s", leaf);
}
END_TEST

START_TEST(n_leaf_padded_without_cn_named_by_san)
{
    const char *chain = refused_chain_of("padnocn", padded_subject("/O=tlspin tests", 128),
                                         "DNS:good.test");
    const char *leaf = leaf_part(chain);

    ck_assert_msg(strstr(leaf, "DNS:good.test"), "the leaf is not named: %s", leaf);
    ck_assert_msg(strlen(leaf) < 700, "the leaf's part is %zu bytes: %s", strlen(leaf), leaf);
}
END_TEST

/* A short subject keeps exactly today's text (other suites compare it). */
START_TEST(n_ordinary_leaf_unchanged)
{
    const char *chain = refused_chain_of("plainleaf", "/O=tlspin tests/CN=good.test",
                                         "DNS:good.test");

    ck_assert_str_eq(leaf_part(chain),
                     fmt("%s CN=good.test,O=tlspin tests", made_pin("plainleaf")));
}
END_TEST

static Suite *bypass_chain_suite(void)
{
    Suite *s = suite_create("bypass_chain");
    TCase *tc;

    tc = harness_tcase("V the program's own verification");
    tcase_add_test(tc, v_store_verify_forged_name_blocked);
    tcase_add_test(tc, v_store_verify_forged_key_blocked);
    tcase_add_test(tc, v_store_verify_real_chain_allowed);
    tcase_add_test(tc, v_ctx_verify_forged_key_blocked);
    tcase_add_test(tc, v_ctx_verify_real_chain_allowed);
    tcase_add_test(tc, v_store_verify_cb_forged_name_blocked);
    tcase_add_test(tc, v_store_verify_cb_real_chain_allowed);
    tcase_add_test(tc, v_get_issuer_peer_forged_key_blocked);
    suite_add_tcase(s, tc);

    tc = harness_tcase("H the host a CA pin needs");
    tcase_add_test(tc, h_cn_without_san_blocked);
    tcase_add_test(tc, h_cn_with_other_san_blocked);
    tcase_add_test(tc, h_partial_wildcard_blocked);
    tcase_add_test(tc, h_wildcard_over_two_labels_blocked);
    tcase_add_test(tc, h_ip_in_cn_blocked);
    tcase_add_test(tc, h_san_dns_name_allowed);
    tcase_add_test(tc, h_whole_label_wildcard_allowed);
    suite_add_tcase(s, tc);

    tc = harness_tcase("N the record names the leaf");
    tcase_add_test(tc, n_leaf_padded_with_ous_named_by_cn);
    tcase_add_test(tc, n_leaf_without_cn_named_by_san);
    tcase_add_test(tc, n_leaf_padded_without_cn_named_by_san);
    tcase_add_test(tc, n_ordinary_leaf_unchanged);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(bypass_chain_suite());
}
