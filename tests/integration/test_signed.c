/*
 * test_signed.c — signed, versioned, expiring pinsets (issue 7).
 *
 *   format   `tlspin keygen/sign/verify` and every attack on the format the
 *            notes list: tampered, truncated, empty, oversized, CRLF,
 *            appended line, untrusted key, relabelled key id, expired,
 *            future-dated, too-long validity, unknown field (signed with the
 *            openssl CLI), replayed serial and equivocation against a state
 *            file, key rotation (floor reset, old-key replay), threshold.
 *
 *   module   signed.so under the shim (tls_client, loop_client against real
 *            servers): enforcement from the cache; the cache hygiene (symlink,
 *            hard link, FIFO, group-writable, foreign owner, world-writable or
 *            symlinked directory); rollback against the state file; stale
 *            data with on_stale fail and ignore (always a record); a
 *            long-running client picking up a rotation through watch(), and
 *            keeping the last good pinset when a bad file lands.
 *   update   `tlspin update` against a real nginx (Debian's) on 127.0.0.1
 *            serving the file over HTTPS, and a hostile Python TLS server for
 *            what nginx will not do: install, no-op, mirror fallback, and the
 *            server-side attacks (wrong CA, host-name mismatch, redirect to
 *            http, endless body, slow drip, HTML error page with 200,
 *            connection reset mid-body, only an old version, a huge
 *            Content-Length, the update host's pin) each ending with the
 *            previous good file still installed and a clear error; then the
 *            fleet story end to end: sign, publish, update, and a running
 *            client enforces the new pin.
 *
 * Everything runs the real `tlspin` command built in this tree; the keys
 * are made fresh by `tlspin keygen` in each test's directory.
 */
#include "harness.h"

#include "../programs/tp_suite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TLSPIN BIN_DIR "/tlspin"

static const struct run_opts plain = {0};

/* `tlspin keygen --out H.tmp/<name>`; the public key is also copied into
 * H.tmp/keys/ unless trusted is 0. */
static void keygen(const char *name, int trusted)
{
    struct run_result r;
    char *pub;
    size_t len;

    ck_assert_int_eq(RUN(&r, &plain, TLSPIN, "keygen", "--out", fmt("%s/%s", H.tmp, name)), 0);
    ck_assert_msg(r.exited && r.code == 0, "keygen: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "key id ") != NULL, "keygen prints the key id: %s", r.out);
    run_result_free(&r);
    if (trusted) {
        mkdir(fmt("%s/keys", H.tmp), 0755);
        pub = read_file(fmt("%s/%s.pub", H.tmp, name), &len);
        ck_assert_ptr_nonnull(pub);
        write_file(fmt("keys/%s.pub", name), "%s", pub);
        free(pub);
    }
}

/* The key id of H.tmp/<name>.pub as `tlspin verify` would name it. */
static const char *key_id(const char *name)
{
    static char id[17];
    char *pem;
    size_t len;
    struct run_result r;

    pem = read_file(fmt("%s/%s.pub", H.tmp, name), &len);
    ck_assert_ptr_nonnull(pem);
    free(pem);
    /* the id is sha256(raw key)[:8] hex: the last 32 bytes of the SPKI DER */
    ck_assert_int_eq(RUN(&r, &plain, "/bin/sh", "-c",
                         fmt("openssl pkey -pubin -in %s/%s.pub -outform der | tail -c 32 | "
                             "openssl dgst -sha256 -r | cut -c1-16", H.tmp, name)), 0);
    ck_assert_msg(r.exited && r.code == 0 && strlen(r.out) >= 16, RUN_FMT, RUN_ARGS(&r));
    memcpy(id, r.out, 16);
    id[16] = '\0';
    run_result_free(&r);
    return id;
}

/* A pinsets file for good.test with the good leaf pin and its backup. */
static const char *pinsets_good(void)
{
    return write_file("good.conf",
                      "pinsets = (\n"
                      "  { name = \"api\"; hosts = [ \"good.test\" ];\n"
                      "    pins = [ \"%s\", \"%s\" ]; }\n"
                      ");\n",
                      pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

/* A pinsets file for good.test pinned on the interceptor (the "rotated" pin). */
static const char *pinsets_icpt(void)
{
    return write_file("icpt.conf",
                      "pinsets = (\n"
                      "  { name = \"api\"; hosts = [ \"good.test\" ];\n"
                      "    pins = [ \"%s\", \"%s\" ]; }\n"
                      ");\n",
                      pin("PIN_ICPT"), pin("PIN_BACKUP"));
}

/* tlspin sign with the keys (comma separated names in H.tmp), serial,
 * expires and optional issued into H.tmp/<out>; returns the run's exit. */
static int sign_to(const char *out, const char *keys, unsigned long long serial,
                   const char *expires, const char *issued, const char *pinsets,
                   struct run_result *keep)
{
    const char *argv[32];
    char names[256], *save = NULL, *k;
    struct run_result r;
    size_t n = 0;
    int code;

    argv[n++] = TLSPIN;
    argv[n++] = "sign";
    snprintf(names, sizeof names, "%s", keys);
    for (k = strtok_r(names, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        argv[n++] = "--key";
        argv[n++] = fmt("%s/%s.key", H.tmp, k);
    }
    argv[n++] = "--serial";
    argv[n++] = fmt("%llu", serial);
    argv[n++] = "--expires";
    argv[n++] = expires;
    if (issued) {
        argv[n++] = "--issued";
        argv[n++] = issued;
    }
    argv[n++] = "--output";
    argv[n++] = fmt("%s/%s", H.tmp, out);
    argv[n++] = pinsets ? pinsets : pinsets_good();
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(&plain, &r, argv), 0);
    code = r.exited ? r.code : -1;
    if (keep)
        *keep = r;
    else {
        ck_assert_msg(code == 0, "sign: " RUN_FMT, RUN_ARGS(&r));
        run_result_free(&r);
    }
    return code;
}

static const char *tmp_path(const char *rel)
{
    return fmt("%s/%s", H.tmp, rel);
}

/* tlspin verify --keys H.tmp/keys [extra...] FILE */
static void verify(struct run_result *r, const char *file, const char *const extra[])
{
    const char *argv[24];
    size_t n = 0;

    argv[n++] = TLSPIN;
    argv[n++] = "verify";
    argv[n++] = "--keys";
    argv[n++] = tmp_path("keys");
    for (size_t i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n++] = file;
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(&plain, r, argv), 0);
}

static void assert_valid(const char *file, const char *const extra[])
{
    struct run_result r;

    verify(&r, file, extra);
    ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, ": valid") != NULL,
                  "expected valid: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}

/* verify refuses FILE with exit 1 and says `why`. */
static void assert_refused(const char *file, const char *const extra[], const char *why)
{
    struct run_result r;

    verify(&r, file, extra);
    ck_assert_msg(r.exited && r.code == 1, "expected exit 1: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.err, why) != NULL, "expected \"%s\": " RUN_FMT, why, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "valid") == NULL, "said valid: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}

static char *slurp(const char *path, size_t *len)
{
    char *s = read_file(path, len);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    return s;
}

static void spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* The state file an updater would write after accepting `file`. */
static void state_from(const char *state, const char *file)
{
    struct run_result r;
    char sha[65], signers[200];
    unsigned long long serial;
    const char *p;

    verify(&r, file, NULL);
    ck_assert_msg(r.exited && r.code == 0, RUN_FMT, RUN_ARGS(&r));
    p = strstr(r.out, "serial");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sscanf(p, "serial %llu", &serial), 1);
    ck_assert_int_eq(sscanf(strstr(r.out, "sha256 "), "sha256 %64s", sha), 1);
    ck_assert_int_eq(sscanf(strstr(r.out, "signed "), "signed %199s", signers), 1);
    run_result_free(&r);
    write_file(state, "tlspin-signed-state 1\nserial %llu\nsha256 %s\nsigners %s\n", serial,
               sha, signers);
}

/* ------------------------------------------------------------------ */
/* format                                                              */
/* ------------------------------------------------------------------ */

START_TEST(keygen_sign_verify)
{
    struct stat st;
    char *text;
    size_t len;

    keygen("a", 1);
    ck_assert_int_eq(stat(tmp_path("a.key"), &st), 0);
    ck_assert_msg((st.st_mode & 0777) == 0600, "private key mode %o", st.st_mode & 0777);
    sign_to("p.signed", "a", 7, "14d", NULL, NULL, NULL);
    text = slurp(tmp_path("p.signed"), &len);
    ck_assert_msg(strncmp(text, "tlspin-signed-pinset 1\nsig ", 27) == 0, "%s", text);
    ck_assert_msg(strstr(text, fmt("sig %s ", key_id("a"))) != NULL, "key id: %s", text);
    ck_assert_msg(strstr(text, "\n\ntlspin signed pinset payload v1\nserial 7\nissued ") != NULL,
                  "%s", text);
    free(text);
    assert_valid(tmp_path("p.signed"), NULL);
    /* keygen never overwrites a private key */
    {
        struct run_result r;
        ck_assert_int_eq(RUN(&r, &plain, TLSPIN, "keygen", "--out", tmp_path("a")), 0);
        ck_assert_msg(r.exited && r.code != 0, RUN_FMT, RUN_ARGS(&r));
        run_result_free(&r);
    }
}
END_TEST

START_TEST(sign_refuses_bad_pinsets)
{
    struct run_result r;

    keygen("a", 1);
    write_file("bad.conf", "pinsets = ( { name = \"x\"; hosts = [ \"good.test\" ]; "
                           "pins = [ \"sha256/short\" ]; } );\n");
    ck_assert_int_ne(sign_to("p.signed", "a", 1, "1d", NULL, tmp_path("bad.conf"), &r), 0);
    ck_assert_msg(strstr(r.err, "bad.conf:1") != NULL, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_ne(access(tmp_path("p.signed"), F_OK), 0);
}
END_TEST

START_TEST(tampered)
{
    char *t;
    size_t len;
    char *p;

    keygen("a", 1);
    sign_to("p.signed", "a", 7, "14d", NULL, NULL, NULL);
    t = slurp(tmp_path("p.signed"), &len);
    p = strstr(t, "good.test");
    ck_assert_ptr_nonnull(p);
    p[0] = 'e'; /* evil.test? one byte of the payload is enough */
    spit(tmp_path("p.signed"), t, len);
    free(t);
    assert_refused(tmp_path("p.signed"), NULL, "bad signature for trusted key");
}
END_TEST

START_TEST(truncated)
{
    char *t;
    size_t len;

    keygen("a", 1);
    sign_to("p.signed", "a", 7, "14d", NULL, NULL, NULL);
    t = slurp(tmp_path("p.signed"), &len);
    spit(tmp_path("half.signed"), t, len - 20);           /* payload cut */
    assert_refused(tmp_path("half.signed"), NULL, "bad signature");
    spit(tmp_path("head.signed"), t, 60);                  /* cut in the signatures */
    assert_refused(tmp_path("head.signed"), NULL, "truncated");
    spit(tmp_path("head2.signed"), t, 23);                 /* only the first line */
    assert_refused(tmp_path("head2.signed"), NULL, "truncated");
    free(t);
}
END_TEST

START_TEST(empty)
{
    keygen("a", 1);
    write_file("empty.signed", "%s", "");
    assert_refused(tmp_path("empty.signed"), NULL, "empty file");
}
END_TEST

START_TEST(oversized)
{
    char *big = malloc(70000), *t;
    size_t len;
    struct run_result r;

    keygen("a", 1);
    /* the signer refuses a pinset that would not fit */
    memset(big, '#', 69998);
    big[0] = '#';
    big[69998] = '\n';
    spit(tmp_path("big.conf"), big, 69999);
    ck_assert_int_ne(sign_to("big.signed", "a", 1, "1d", NULL, tmp_path("big.conf"), &r), 0);
    ck_assert_msg(strstr(r.err, "65536") != NULL, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    /* a valid file padded past the cap is refused before anything else */
    sign_to("p.signed", "a", 1, "1d", NULL, NULL, NULL);
    t = slurp(tmp_path("p.signed"), &len);
    memcpy(big, t, len);
    memset(big + len, ' ', 70000 - len);
    spit(tmp_path("padded.signed"), big, 70000);
    free(t);
    free(big);
    assert_refused(tmp_path("padded.signed"), NULL, "larger than 65536");
}
END_TEST

START_TEST(crlf)
{
    char *t, *c;
    size_t len, i, o = 0;

    keygen("a", 1);
    sign_to("p.signed", "a", 1, "1d", NULL, NULL, NULL);
    t = slurp(tmp_path("p.signed"), &len);
    c = malloc(2 * len);
    for (i = 0; i < len; i++) {
        if (t[i] == '\n')
            c[o++] = '\r';
        c[o++] = t[i];
    }
    spit(tmp_path("crlf.signed"), c, o);
    free(c);
    free(t);
    assert_refused(tmp_path("crlf.signed"), NULL, "carriage return");
}
END_TEST

START_TEST(appended_line)
{
    char *t, *c;
    size_t len;
    const char *extra = "pinsets += ( { name = \"evil\"; hosts = [ \"bank.test\" ]; "
                        "allow_single_pin = true; pins = [ \"sha256/x\" ]; } );\n";

    keygen("a", 1);
    sign_to("p.signed", "a", 1, "1d", NULL, NULL, NULL);
    t = slurp(tmp_path("p.signed"), &len);
    c = malloc(len + strlen(extra));
    memcpy(c, t, len);
    memcpy(c + len, extra, strlen(extra));
    spit(tmp_path("app.signed"), c, len + strlen(extra));
    assert_refused(tmp_path("app.signed"), NULL, "bad signature");
    /* an unsigned line slipped into the signature block */
    {
        char *nl = strstr(t, "\n\n");
        size_t head = (size_t)(nl - t) + 1;
        const char *ins = "serial 99\n";
        memcpy(c, t, head);
        memcpy(c + head, ins, strlen(ins));
        memcpy(c + head + strlen(ins), t + head, len - head);
        spit(tmp_path("ins.signed"), c, len + strlen(ins));
        assert_refused(tmp_path("ins.signed"), NULL, "signature block");
    }
    free(c);
    free(t);
}
END_TEST

START_TEST(untrusted_key)
{
    keygen("a", 1);
    keygen("mallory", 0);
    sign_to("p.signed", "mallory", 1, "1d", NULL, NULL, NULL);
    assert_refused(tmp_path("p.signed"), NULL, "not signed by a trusted key");
}
END_TEST

START_TEST(relabelled_key_id)
{
    char *t, *p;
    size_t len;
    char a_id[17], m_id[17];

    keygen("a", 1);
    keygen("mallory", 0);
    snprintf(a_id, sizeof a_id, "%s", key_id("a"));
    snprintf(m_id, sizeof m_id, "%s", key_id("mallory"));
    sign_to("p.signed", "mallory", 1, "1d", NULL, NULL, NULL);
    t = slurp(tmp_path("p.signed"), &len);
    p = strstr(t, m_id);
    ck_assert_ptr_nonnull(p);
    memcpy(p, a_id, 16);
    spit(tmp_path("p.signed"), t, len);
    free(t);
    assert_refused(tmp_path("p.signed"), NULL, fmt("bad signature for trusted key %s", a_id));
}
END_TEST

START_TEST(expired)
{
    long long now = (long long)time(NULL);
    struct run_result r;

    keygen("a", 1);
    sign_to("p.signed", "a", 1, fmt("@%lld", now - 3600), fmt("@%lld", now - 86400), NULL, NULL);
    assert_refused(tmp_path("p.signed"), NULL, "STALE");
    assert_refused(tmp_path("p.signed"), NULL, "expired at");
    /* it was valid while it lasted */
    verify(&r, tmp_path("p.signed"), (const char *const[]){"--at", fmt("@%lld", now - 7200), NULL});
    ck_assert_msg(r.exited && r.code == 0, RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

START_TEST(future_dated)
{
    long long now = (long long)time(NULL);

    keygen("a", 1);
    sign_to("p.signed", "a", 1, "2d", fmt("@%lld", now + 86400), NULL, NULL);
    assert_refused(tmp_path("p.signed"), NULL, "issued in the future");
    /* a few seconds of clock skew are tolerated */
    sign_to("q.signed", "a", 1, "2d", fmt("@%lld", now + 60), NULL, NULL);
    assert_valid(tmp_path("q.signed"), NULL);
}
END_TEST

/* A window longer than the machines accept is refused when it is signed
 * (issue 12: a trap that turns into an outage later); with --max-validity
 * saying the machines allow more it is signed, and a machine with the
 * default limit still refuses it. */
START_TEST(too_long_validity)
{
    struct run_result r;

    keygen("a", 1);
    ck_assert_int_eq(sign_to("p.signed", "a", 1, "40d", NULL, NULL, &r), 2);
    ck_assert_msg(strstr(r.err, "more than 31 days") && strstr(r.err, "--max-validity"),
                  "sign does not say why: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(access(tmp_path("p.signed"), F_OK) != 0, "a refused file was written");
    run_result_free(&r);

    ck_assert_int_eq(RUN(&r, &plain, TLSPIN, "sign", "--key", tmp_path("a.key"), "--serial", "1",
                         "--expires", "40d", "--max-validity", "40", "--output",
                         tmp_path("p.signed"), pinsets_good()),
                     0);
    ck_assert_msg(r.exited && r.code == 0, "sign --max-validity 40: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    assert_refused(tmp_path("p.signed"), NULL, "longer than the 2678400 s allowed");
    sign_to("q.signed", "a", 1, "31d", NULL, NULL, NULL);
    assert_valid(tmp_path("q.signed"), NULL);
}
END_TEST

/* A payload with a field the format does not know, signed by a trusted key
 * with the openssl CLI (no tlspin code in the signing path). */
START_TEST(unknown_field_signed_elsewhere)
{
    struct run_result r;
    long long now = (long long)time(NULL);
    char ti[32], te[32];
    time_t a = (time_t)now, b = (time_t)(now + 86400);
    char *sig, *body;
    size_t siglen, bodylen;

    keygen("a", 1);
    strftime(ti, sizeof ti, "%Y-%m-%dT%H:%M:%SZ", gmtime(&a));
    strftime(te, sizeof te, "%Y-%m-%dT%H:%M:%SZ", gmtime(&b));
    body = slurp(pinsets_good(), &bodylen);
    write_file("payload", "tlspin signed pinset payload v1\nserial 3\nissued %s\nexpires %s\n"
               "mode report-only\n\n%s", ti, te, body);
    write_file("payload-ok", "tlspin signed pinset payload v1\nserial 3\nissued %s\nexpires %s\n"
               "\n%s", ti, te, body);
    free(body);
    for (int ok = 0; ok < 2; ok++) {
        const char *pl = tmp_path(ok ? "payload-ok" : "payload");
        ck_assert_int_eq(RUN(&r, &plain, "/bin/sh", "-c",
                             fmt("openssl pkeyutl -sign -rawin -inkey %s/a.key -in %s | "
                                 "base64 -w0 > %s/sig", H.tmp, pl, H.tmp)), 0);
        ck_assert_msg(r.exited && r.code == 0, RUN_FMT, RUN_ARGS(&r));
        run_result_free(&r);
        sig = slurp(tmp_path("sig"), &siglen);
        body = slurp(pl, &bodylen);
        write_file("x.signed", "tlspin-signed-pinset 1\nsig %s %s\n\n%s", key_id("a"), sig, body);
        free(sig);
        free(body);
        if (ok)
            assert_valid(tmp_path("x.signed"), NULL);
        else
            assert_refused(tmp_path("x.signed"), NULL, "unknown or extra field");
    }
}
END_TEST

START_TEST(replayed_serial_and_equivocation)
{
    keygen("a", 1);
    sign_to("s10.signed", "a", 10, "14d", NULL, NULL, NULL);
    sign_to("s9.signed", "a", 9, "14d", NULL, NULL, NULL);
    sign_to("s10b.signed", "a", 10, "14d", NULL, pinsets_icpt(), NULL);
    sign_to("s11.signed", "a", 11, "14d", NULL, pinsets_icpt(), NULL);
    state_from("state", tmp_path("s10.signed"));
    const char *const st[] = {"--state", tmp_path("state"), NULL};
    /* each is valid on its own */
    assert_valid(tmp_path("s9.signed"), NULL);
    assert_refused(tmp_path("s9.signed"), st, "rollback: serial 9 is lower than the 10");
    assert_refused(tmp_path("s10b.signed"), st, "equivocation: serial 10");
    {
        struct run_result r;
        verify(&r, tmp_path("s10.signed"), st);
        ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, "already accepted"), RUN_FMT,
                      RUN_ARGS(&r));
        run_result_free(&r);
    }
    assert_valid(tmp_path("s11.signed"), st);
}
END_TEST

/* The signing key is rotated (keys.d now holds only the new key): the floor
 * the old key set is void (a compromised old key may have fast-forwarded it),
 * and anything signed by the old key is refused however high its serial. */
START_TEST(key_rotation_then_old_key_replay)
{
    keygen("old", 1);
    keygen("new", 0);
    sign_to("old1000.signed", "old", 1000, "14d", NULL, NULL, NULL);
    state_from("state", tmp_path("old1000.signed"));
    sign_to("old1001.signed", "old", 1001, "14d", NULL, pinsets_icpt(), NULL);
    sign_to("new5.signed", "new", 5, "14d", NULL, NULL, NULL);
    sign_to("both.signed", "old,new", 6, "14d", NULL, NULL, NULL);
    /* rotate: keys.d gets the new key, loses the old one */
    ck_assert_int_eq(unlink(tmp_path("keys/old.pub")), 0);
    {
        char *pub;
        size_t len;
        pub = slurp(tmp_path("new.pub"), &len);
        write_file("keys/new.pub", "%s", pub);
        free(pub);
    }
    const char *const st[] = {"--state", tmp_path("state"), NULL};
    {
        struct run_result r;
        verify(&r, tmp_path("new5.signed"), st);
        ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, "floor reset"), RUN_FMT,
                      RUN_ARGS(&r));
        run_result_free(&r);
    }
    assert_refused(tmp_path("old1001.signed"), st, "not signed by a trusted key");
    /* overlapping signatures during the rotation verify with either key */
    assert_valid(tmp_path("both.signed"), NULL);
}
END_TEST

START_TEST(threshold)
{
    const char *const two[] = {"--threshold", "2", NULL};

    keygen("a", 1);
    keygen("b", 1);
    sign_to("one.signed", "a", 1, "1d", NULL, NULL, NULL);
    sign_to("two.signed", "a,b", 1, "1d", NULL, NULL, NULL);
    sign_to("twice.signed", "a,a", 1, "1d", NULL, NULL, NULL);
    assert_valid(tmp_path("one.signed"), NULL);
    assert_valid(tmp_path("two.signed"), two);
    assert_refused(tmp_path("one.signed"), two, "signed by 1 trusted key, 2 needed");
    assert_refused(tmp_path("twice.signed"), two, "signs twice");
}
END_TEST


/* ------------------------------------------------------------------ */
/* module                                                              */
/* ------------------------------------------------------------------ */

static const struct run_opts shim = {.preload = 1};

static const char *cache_path(void)
{
    return tmp_path("cache/pinset.signed");
}

/* Copy H.tmp/<rel> into the cache as the updater would: a temp file in the
 * cache directory, mode 0644, renamed over the name. */
static void cache_put(const char *rel)
{
    char *t;
    size_t len;
    const char *tmp = tmp_path("cache/.incoming");

    mkdir(tmp_path("cache"), 0755);
    t = slurp(tmp_path(rel), &len);
    spit(tmp, t, len);
    free(t);
    ck_assert_int_eq(chmod(tmp, 0644), 0);
    ck_assert_int_eq(rename(tmp, cache_path()), 0);
}

static void signed_policy_at(const char *cache, const char *on_stale)
{
    write_policy("version = 1;\n"
                 "mode = \"enforce\";\n"
                 "unpinned = \"allow\";\n"
                 "on_error = \"deny\";\n"
                 "log = { facility = \"authpriv\"; level = \"warning\"; rate_limit_seconds = 0; };\n"
                 "stack = (\n"
                 "  { module = \"signed\"; control = \"required\";\n"
                 "    args = { cache = \"%s\"; keys = \"%s\"; on_stale = \"%s\"; }; }\n"
                 ");\n",
                 cache, tmp_path("keys"), on_stale);
}

static void signed_policy(const char *on_stale)
{
    signed_policy_at(cache_path(), on_stale);
}

static void client(struct run_result *r, int port, const char *sni)
{
    tls_client_run(r, &shim, TLS_CLIENT, port, sni,
                   (const char *const[]){"--send", "signed-request\\r\\n", NULL});
}

/* The first record since mark containing needle (waits briefly). */
static const struct syslog_rec *record_with(size_t mark, const char *needle)
{
    const struct syslog_rec *rec = syslog_wait_for_since(mark, needle, 3000);
    ck_assert_msg(rec != NULL, "no record with \"%s\"; records:\n%s", needle,
                  syslog_dump_since(mark));
    return rec;
}

START_TEST(module_enforces_cache)
{
    struct server good, icpt;
    struct run_result r;
    size_t mark;

    keygen("a", 1);
    sign_to("p.signed", "a", 1, "14d", NULL, NULL, NULL);
    cache_put("p.signed");
    signed_policy("fail");
    server_start(&good, "good");
    server_start(&icpt, "icpt");
    client(&r, good.port, "good.test");
    assert_client_ok(&r);
    run_result_free(&r);
    mark = syslog_mark();
    client(&r, icpt.port, "good.test");
    assert_client_blocked(&r);
    run_result_free(&r);
    {
        const struct syslog_rec *rec = record_with(mark, "tlspin:");
        ck_assert_field(rec, "event", "pin-mismatch");
        ck_assert_field(rec, "module", "signed");
        ck_assert_field(rec, "pinset", "api");
    }
    assert_server_got_no_data(&icpt);
}
END_TEST

struct hygiene {
    const char *name, *why;
};
static const struct hygiene hygiene_cases[] = {
    {"symlinked file", "symbolic link"},
    {"hard-linked file", "hard links"},
    {"FIFO", "not a regular file"},
    {"group-writable file", "group or world writable"},
    {"file of another owner", "owned by root"},
    {"world-writable directory", "group or world writable"},
    {"symlinked directory", "symbolic link"},
};

/* Each way the cache may be planted or left writable: the module refuses to
 * load it (on_error deny blocks) and the record says why. */
START_TEST(cache_hygiene)
{
    const struct hygiene *c = &hygiene_cases[_i];
    const char *policy_cache = cache_path();
    struct server good;
    struct run_result r;
    const struct syslog_rec *rec;
    char reason[4096];
    size_t mark;

    keygen("a", 1);
    sign_to("p.signed", "a", 1, "14d", NULL, NULL, NULL);
    cache_put("p.signed");
    switch (_i) {
    case 0:
        ck_assert_int_eq(unlink(cache_path()), 0);
        ck_assert_int_eq(symlink(tmp_path("p.signed"), cache_path()), 0);
        break;
    case 1:
        ck_assert_int_eq(link(cache_path(), tmp_path("cache/other-name")), 0);
        break;
    case 2:
        ck_assert_int_eq(unlink(cache_path()), 0);
        ck_assert_int_eq(mkfifo(cache_path(), 0644), 0);
        break;
    case 3:
        ck_assert_int_eq(chmod(cache_path(), 0664), 0);
        break;
    case 4:
        ck_assert_int_eq(chown(cache_path(), 65534, 65534), 0);
        break;
    case 5:
        ck_assert_int_eq(chmod(tmp_path("cache"), 0777), 0);
        break;
    case 6:
        ck_assert_int_eq(symlink(tmp_path("cache"), tmp_path("cache-link")), 0);
        policy_cache = tmp_path("cache-link/pinset.signed");
        break;
    }
    signed_policy_at(policy_cache, "fail");
    server_start(&good, "good");
    mark = syslog_mark();
    client(&r, good.port, "good.test");
    assert_client_blocked(&r);
    run_result_free(&r);
    rec = record_with(mark, "event=module-error");
    ck_assert_int_eq(rec_field(rec, "reason", reason, sizeof reason), 0);
    ck_assert_msg(strstr(reason, c->why) != NULL, "[%s] reason lacks \"%s\": %s", c->name,
                  c->why, rec->msg);
}
END_TEST

START_TEST(module_refuses_rollback_below_state)
{
    struct server good;
    struct run_result r;
    size_t mark;

    keygen("a", 1);
    sign_to("s10.signed", "a", 10, "14d", NULL, NULL, NULL);
    sign_to("s9.signed", "a", 9, "14d", NULL, NULL, NULL);
    mkdir(tmp_path("cache"), 0755);
    state_from("cache/pinset.signed.state", tmp_path("s10.signed"));
    cache_put("s9.signed");
    signed_policy("fail");
    server_start(&good, "good");
    mark = syslog_mark();
    client(&r, good.port, "good.test");
    assert_client_blocked(&r);
    run_result_free(&r);
    record_with(mark, "rollback: serial 9 is lower than the 10");
}
END_TEST

/* Expired data: on_stale fail blocks what the pinset covers, ignore lets it
 * through; both say event=pinset-stale. A host it never covered is not
 * touched. */
START_TEST(module_stale)
{
    int fail = _i == 0;
    long long now = (long long)time(NULL);
    struct server good;
    struct run_result r;
    const struct syslog_rec *rec;
    size_t mark;

    keygen("a", 1);
    sign_to("old.signed", "a", 1, fmt("@%lld", now - 3600), fmt("@%lld", now - 86400 * 2),
            NULL, NULL);
    cache_put("old.signed");
    signed_policy(fail ? "fail" : "ignore");
    server_start(&good, "good");
    mark = syslog_mark();
    client(&r, good.port, "good.test");
    if (fail)
        assert_client_blocked(&r);
    else
        assert_client_ok(&r);
    run_result_free(&r);
    rec = record_with(mark, "event=pinset-stale");
    ck_assert_field_has(rec, "reason", "expired at");
    ck_assert_field_has(rec, "reason", fail ? "on_stale=fail" : "on_stale=ignore");
    mark = syslog_mark();
    client(&r, good.port, "other.test");
    assert_client_ok(&r);
    run_result_free(&r);
    tp_sleep_draining(200);
    ck_assert_msg(syslog_count_since(mark, "pinset-stale") == 0, "%s", syslog_dump_since(mark));
}
END_TEST

/* ---- the long-running client ---- */

struct loopc {
    struct tp_proc proc;
    char stop[PATH_MAX];
    struct mt_server good, icpt;
};

/* The result of the last handshake to target that started after t0, or "". */
static const char *loop_last_since(struct loopc *l, const char *target, long long t0,
                                   long long *end_out)
{
    static char res[16];
    char *out = tp_output(&l->proc);
    long long s, e;
    char t[32], rr[16];

    res[0] = '\0';
    for (char *line = out; line && *line;) {
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = '\0';
        if (sscanf(line, "%lld %lld %31s %15s", &s, &e, t, rr) == 4 && strcmp(t, target) == 0 &&
            s >= t0) {
            snprintf(res, sizeof res, "%s", rr);
            if (end_out)
                *end_out = e;
        }
        line = nl + 1;
    }
    free(out);
    return res;
}

/* Wait until target's handshakes started after t0 give result; returns ms
 * from t0 to the end of the first such handshake, or fails. */
static long long loop_wait(struct loopc *l, const char *target, const char *result, long long t0,
                           int max_ms)
{
    long long end;

    while (tp_ms() < t0 + max_ms) {
        if (strcmp(loop_last_since(l, target, t0, &end), result) == 0)
            return end - t0;
        tp_sleep_draining(20);
    }
    ck_abort_msg("%s never became %s within %d ms (last: %s)", target, result, max_ms,
                 loop_last_since(l, target, t0, NULL));
    return -1;
}

static void loop_begin(struct loopc *l)
{
    memset(l, 0, sizeof *l);
    mt_server_start(&l->good, "good");
    mt_server_start(&l->icpt, "icpt");
    snprintf(l->stop, sizeof l->stop, "%s/stop", H.tmp);
    tp_spawn(&l->proc, "loop",
             (const char *const[]){LOOP_CLIENT, "--cafile", cert("trust.pem"), "--target",
                                   tp_target("keyA", &l->good, "good.test", NULL), "--target",
                                   tp_target("keyB", &l->icpt, "good.test", NULL),
                                   "--interval-ms", "20", "--stop", l->stop, "--max-ms", "100000",
                                   NULL},
             1, NULL);
}

static void loop_end(struct loopc *l)
{
    int fd = open(l->stop, O_WRONLY | O_CREAT, 0644);
    char *out;

    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_msg(tp_wait(&l->proc, 10000), "the loop client did not stop");
    out = tp_output(&l->proc);
    /* one process all along: never restarted */
    ck_assert_msg(strstr(out, "ready pid=") && strstr(strstr(out, "ready pid=") + 1, "ready pid=") == NULL,
                  "%s", out);
    free(out);
    mt_server_stop(&l->good);
    mt_server_stop(&l->icpt);
}

/* Fleet rotation as the running program sees it: the cache is replaced
 * (serial 2 pins the other key) and the same process enforces the new pin
 * within 2.5 s; then a tampered file, a rollback and a group-writable file
 * land in turn and the serial-2 pins stay enforced, each time with a
 * kept-last-good record. */
START_TEST(live_rotation_and_last_good)
{
    struct loopc l;
    long long t0, took;
    size_t mark;
    char *t;
    size_t len;

    keygen("a", 1);
    sign_to("s1.signed", "a", 1, "14d", NULL, NULL, NULL);
    sign_to("s2.signed", "a", 2, "14d", NULL, pinsets_icpt(), NULL);
    sign_to("s3.signed", "a", 3, "14d", NULL, NULL, NULL);
    cache_put("s1.signed");
    signed_policy("fail");
    loop_begin(&l);
    t0 = tp_ms();
    loop_wait(&l, "keyA", "ok", t0, 5000);
    loop_wait(&l, "keyB", "blocked", t0, 5000);

    t0 = tp_ms();
    cache_put("s2.signed");
    mkdir(tmp_path("cache"), 0755);
    state_from("cache/pinset.signed.state", tmp_path("s2.signed"));
    took = loop_wait(&l, "keyB", "ok", t0, 2500);
    loop_wait(&l, "keyA", "blocked", t0, 2500);
    fprintf(stderr, "rotation applied in %lld ms\n", took);

    /* a tampered serial 3 (it would pin keyA again) */
    t = slurp(tmp_path("s3.signed"), &len);
    t[len - 5] ^= 1;
    spit(tmp_path("s3bad.signed"), t, len);
    free(t);
    mark = syslog_mark();
    cache_put("s3bad.signed");
    record_with(mark, "action=kept-last-good");
    record_with(mark, "bad signature");
    t0 = tp_ms();
    tp_sleep_draining(1500);
    ck_assert_str_eq(loop_last_since(&l, "keyB", t0, NULL), "ok");
    ck_assert_str_eq(loop_last_since(&l, "keyA", t0, NULL), "blocked");

    /* a replayed serial 1 */
    mark = syslog_mark();
    cache_put("s1.signed");
    record_with(mark, "rollback");
    t0 = tp_ms();
    tp_sleep_draining(1500);
    ck_assert_str_eq(loop_last_since(&l, "keyB", t0, NULL), "ok");
    ck_assert_str_eq(loop_last_since(&l, "keyA", t0, NULL), "blocked");

    /* the good serial 3, but group-writable */
    mark = syslog_mark();
    cache_put("s3.signed");
    ck_assert_int_eq(chmod(cache_path(), 0664), 0);
    record_with(mark, "group or world writable");
    t0 = tp_ms();
    tp_sleep_draining(1500);
    ck_assert_str_eq(loop_last_since(&l, "keyB", t0, NULL), "ok");

    /* fixed: serial 3 applies */
    t0 = tp_ms();
    ck_assert_int_eq(chmod(cache_path(), 0644), 0);
    loop_wait(&l, "keyA", "ok", t0, 2500);
    loop_wait(&l, "keyB", "blocked", t0, 2500);
    loop_end(&l);
}
END_TEST

/* The file expires while the program runs: the same process stops treating
 * the pins as enforced on its own clock (no reload needed) and says so. */
START_TEST(module_goes_stale_while_running)
{
    struct loopc l;
    long long t0;
    size_t mark;

    keygen("a", 1);
    sign_to("short.signed", "a", 1, "4s", NULL, NULL, NULL);
    cache_put("short.signed");
    signed_policy("fail");
    mark = syslog_mark();
    loop_begin(&l);
    t0 = tp_ms();
    loop_wait(&l, "keyA", "ok", t0, 3000);
    t0 = tp_ms();
    loop_wait(&l, "keyA", "blocked", t0, 6000);
    ck_assert_field_has(record_with(mark, "event=pinset-stale"), "reason", "on_stale=fail");
    loop_end(&l);
}
END_TEST

/* The signing key is rotated on the machine (keys.d) before a file signed
 * by the new key arrives: the running program keeps its last good pinsets
 * (with a record), a newly started one fails the entry; then the new-key
 * file is installed and the running program follows it. */
START_TEST(module_key_rotation_in_running_program)
{
    struct loopc l;
    struct run_result r;
    long long t0;
    size_t mark;
    char *pub;
    size_t len;

    keygen("old", 1);
    keygen("new", 0);
    sign_to("old1.signed", "old", 1, "14d", NULL, NULL, NULL);
    sign_to("new2.signed", "new", 2, "14d", NULL, pinsets_icpt(), NULL);
    cache_put("old1.signed");
    mkdir(tmp_path("cache"), 0755);
    state_from("cache/pinset.signed.state", tmp_path("old1.signed"));
    signed_policy("fail");
    loop_begin(&l);
    t0 = tp_ms();
    loop_wait(&l, "keyA", "ok", t0, 5000);

    mark = syslog_mark();
    pub = slurp(tmp_path("new.pub"), &len);
    write_file("keys/new.pub", "%s", pub);
    free(pub);
    ck_assert_int_eq(unlink(tmp_path("keys/old.pub")), 0);
    record_with(mark, "action=kept-last-good");
    record_with(mark, "not signed by a trusted key");
    t0 = tp_ms();
    tp_sleep_draining(1500);
    ck_assert_str_eq(loop_last_since(&l, "keyA", t0, NULL), "ok");
    ck_assert_str_eq(loop_last_since(&l, "keyB", t0, NULL), "blocked");
    client(&r, l.good.port, "good.test");
    assert_client_blocked(&r);
    run_result_free(&r);

    t0 = tp_ms();
    cache_put("new2.signed");
    loop_wait(&l, "keyB", "ok", t0, 2500);
    loop_wait(&l, "keyA", "blocked", t0, 2500);
    loop_end(&l);
}
END_TEST

/* tlspin check runs the module's own checks: a file about to expire is a
 * warning that names the serial. */
START_TEST(check_warns_before_expiry)
{
    struct run_result r;

    keygen("a", 1);
    sign_to("p.signed", "a", 4, "3d", NULL, NULL, NULL);
    cache_put("p.signed");
    signed_policy("fail");
    ck_assert_int_eq(RUN(&r, &plain, TLSPIN, "check", "--config", H.config), 0);
    ck_assert_msg(strstr(r.out, "signed pinset serial 4 expires at") ||
                      strstr(r.err, "signed pinset serial 4 expires at"),
                  RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(r.exited && r.code == 1, "warnings: exit 1: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* A stack switched to the signed module before the first `tlspin update`:
 * tlspin check (which enable-system runs) fails and says what to do
 * (issue 12: a trap that turns into an outage once the preload is on). */
START_TEST(check_before_first_update)
{
    struct run_result r;

    keygen("a", 1);
    signed_policy("fail");
    ck_assert_int_eq(RUN(&r, &plain, TLSPIN, "check", "--config", H.config), 0);
    ck_assert_msg(r.exited && r.code == 2, "no cache yet: exit 2: " RUN_FMT, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.out, "no signed pinset yet") && strstr(r.out, "run `tlspin update`"),
                  "check does not say what to do: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* update                                                              */
/* ------------------------------------------------------------------ */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>

#define NGINX "/usr/sbin/nginx"
#define EVIL_SERVER TLSPIN_SOURCE_DIR "/tests/integration/signed_evil_server.py"

struct nginx {
    struct tp_proc proc;
    int port;
};

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int port_open(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* nginx serving H.tmp/www over HTTPS on 127.0.0.1 as good.test (the fixtures'
 * `identity` chain), with a redirect to http and an HTML error page. */
static void nginx_start(struct nginx *n, const char *identity)
{
    const char *conf;
    long long end;

    memset(n, 0, sizeof *n);
    n->port = free_port();
    mkdir(tmp_path("www"), 0755);
    mkdir(tmp_path("nginx-tmp"), 0700);
    conf = write_file("nginx.conf",
        "daemon off;\nmaster_process off;\nworker_processes 1;\n"
        "pid %s/nginx.pid;\nerror_log %s/nginx-error.log warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        "  access_log %s/nginx-access.log;\n"
        "  client_body_temp_path %s/nginx-tmp/body; proxy_temp_path %s/nginx-tmp/proxy;\n"
        "  fastcgi_temp_path %s/nginx-tmp/fcgi; uwsgi_temp_path %s/nginx-tmp/uwsgi;\n"
        "  scgi_temp_path %s/nginx-tmp/scgi;\n"
        "  default_type application/octet-stream;\n"
        "  server {\n"
        "    listen 127.0.0.1:%d ssl;\n"
        "    server_name good.test;\n"
        "    ssl_certificate %s;\n    ssl_certificate_key %s;\n"
        "    ssl_protocols TLSv1.2 TLSv1.3;\n"
        "    root %s/www;\n"
        "    location = /redirect.signed { return 302 http://127.0.0.1:%d/pinset.signed; }\n"
        "    location = /error.signed { default_type text/html;\n"
        "      return 200 \"<html><body>503 Service Temporarily Unavailable</body></html>\\n\"; }\n"
        "  }\n"
        "}\n",
        H.tmp, H.tmp, H.tmp, H.tmp, H.tmp, H.tmp, H.tmp, H.tmp, n->port,
        cert(fmt("%s-chain.pem", identity)), cert(fmt("%s.key", identity)), H.tmp, n->port);
    tp_spawn(&n->proc, "nginx",
             (const char *const[]){NGINX, "-c", conf, "-p", H.tmp, "-e",
                                   tmp_path("nginx-error.log"), NULL},
             0, NULL);
    end = tp_ms() + 10000;
    while (tp_ms() < end && !tp_exited(&n->proc)) {
        if (port_open(n->port))
            return;
        usleep(10000);
    }
    {
        char *o = tp_output(&n->proc);
        ck_abort_msg("nginx did not start (%s):\n%s", tp_status(&n->proc), o);
    }
}

/* Publish H.tmp/<rel> as https://good.test:<port>/pinset.signed. */
static void publish(const char *rel)
{
    char *t;
    size_t len;

    mkdir(tmp_path("www"), 0755);
    t = slurp(tmp_path(rel), &len);
    spit(tmp_path("www/.new"), t, len);
    free(t);
    chmod(tmp_path("www/.new"), 0644);
    ck_assert_int_eq(rename(tmp_path("www/.new"), tmp_path("www/pinset.signed")), 0);
}

static struct tp_proc evil;

static int evil_start(const char *mode, const char *file)
{
    const char *portfile = tmp_path(fmt("evil-%s.port", mode));
    long long end = tp_ms() + 10000;
    char *t;
    int port = 0;

    tp_spawn(&evil, "evil",
             (const char *const[]){PYTHON3, EVIL_SERVER, mode, cert("good-chain.pem"),
                                   cert("good.key"), portfile, file ? file : NULL, NULL},
             0, NULL);
    while (tp_ms() < end && !tp_exited(&evil)) {
        t = read_file(portfile, NULL);
        if (t) {
            port = atoi(t);
            free(t);
            return port;
        }
        usleep(10000);
    }
    t = tp_output(&evil);
    ck_abort_msg("evil server %s did not start (%s):\n%s", mode, tp_status(&evil), t);
    return -1;
}

/* tlspin update with the test's cache, keys and trust store; mirrors and
 * extra options in extra (NULL-terminated). */
static void update(struct run_result *r, int port, const char *const extra[])
{
    const char *argv[40];
    size_t n = 0;

    mkdir(tmp_path("cache"), 0755);
    write_file("update.conf", "# empty: everything on the command line\n");
    argv[n++] = TLSPIN;
    argv[n++] = "update";
    argv[n++] = "--config";
    argv[n++] = tmp_path("update.conf");
    argv[n++] = "--cache";
    argv[n++] = cache_path();
    argv[n++] = "--keys";
    argv[n++] = tmp_path("keys");
    argv[n++] = "--connect-timeout";
    argv[n++] = "2";
    argv[n++] = "--timeout";
    argv[n++] = "4";
    argv[n++] = "--resolve";
    argv[n++] = fmt("good.test:%d:127.0.0.1", port);
    for (size_t i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    ck_assert_int_eq(run_argv(&(struct run_opts){.timeout_ms = 30000}, r, argv), 0);
}

static const char *url(int port, const char *path)
{
    return fmt("https://good.test:%d/%s", port, path);
}

static void update_ok(int port, const char *path, const char *want)
{
    struct run_result r;

    update(&r, port, (const char *const[]){"--cafile", cert("trust.pem"), "--mirror",
                                           url(port, path), NULL});
    ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, want), "expected \"%s\": " RUN_FMT,
                  want, RUN_ARGS(&r));
    run_result_free(&r);
}

/* The cache holds exactly H.tmp/<rel> and the state names its serial. */
static void assert_installed(const char *rel, unsigned long long serial)
{
    char *a, *b, *st;
    size_t la, lb;
    struct stat sb;

    a = slurp(tmp_path(rel), &la);
    b = read_file(cache_path(), &lb);
    ck_assert_msg(b != NULL && la == lb && memcmp(a, b, la) == 0, "the cache is not %s", rel);
    free(a);
    free(b);
    st = read_file(tmp_path("cache/pinset.signed.state"), NULL);
    ck_assert_msg(st && strstr(st, fmt("\nserial %llu\n", serial)), "state: %s", st ? st : "(none)");
    free(st);
    ck_assert_int_eq(stat(cache_path(), &sb), 0);
    ck_assert_msg((sb.st_mode & 0777) == 0644 && sb.st_nlink == 1 && sb.st_uid == 0,
                  "cache mode %o links %lu", sb.st_mode & 0777, (unsigned long)sb.st_nlink);
}

START_TEST(update_installs_then_noop_then_newer)
{
    struct nginx n;

    keygen("a", 1);
    sign_to("s1.signed", "a", 1, "14d", NULL, NULL, NULL);
    sign_to("s2.signed", "a", 2, "14d", NULL, pinsets_icpt(), NULL);
    nginx_start(&n, "good");
    publish("s1.signed");
    update_ok(n.port, "pinset.signed", "installed serial 1");
    assert_installed("s1.signed", 1);
    update_ok(n.port, "pinset.signed", "serial 1 is current");
    publish("s2.signed");
    update_ok(n.port, "pinset.signed", "installed serial 2");
    assert_installed("s2.signed", 2);
    /* no temp file left behind */
    ck_assert_int_ne(access(tmp_path("cache/.incoming"), F_OK), 0);
    tp_kill(&n.proc);
}
END_TEST

START_TEST(update_mirror_fallback)
{
    struct nginx n;
    struct run_result r;

    keygen("a", 1);
    sign_to("s1.signed", "a", 1, "14d", NULL, NULL, NULL);
    nginx_start(&n, "good");
    publish("s1.signed");
    int dead = free_port();
    update(&r, n.port, (const char *const[]){"--cafile", cert("trust.pem"), "--mirror",
                                             fmt("https://127.0.0.1:%d/pinset.signed", dead),
                                             "--mirror", url(n.port, "missing.signed"),
                                             "--mirror", url(n.port, "pinset.signed"), NULL});
    ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, "installed serial 1"), RUN_FMT,
                  RUN_ARGS(&r));
    ck_assert_msg(strstr(r.err, "connect") && strstr(r.err, "HTTP status 404"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    assert_installed("s1.signed", 1);
    tp_kill(&n.proc);
}
END_TEST

struct server_attack {
    const char *name;
    const char *why;
};
static const struct server_attack attacks[] = {
    {"wrong CA", "certificate verification failed"},
    {"host-name mismatch", "hostname mismatch"},
    {"redirect to http", "redirect to \"http://"},
    {"endless body", "body larger than 65536 bytes"},
    {"slow drip", "timed out after 4000 ms"},
    {"HTML error page with 200", "not a signed pinset"},
    {"reset mid-body", "connection broken after"},
    {"only an old version", "rollback: serial 1 is lower than the 2"},
    {"same serial, other bytes", "equivocation: serial 2"},
    {"expired file", "STALE"},
    {"update host not the pinned key", "pinned update-host keys"},
    {"huge Content-Length", "Content-Length 10000000 is larger"},
    {"http mirror", "only https:// URLs"},
    {"chunked", "chunked transfer encoding is not supported"},
};
#define N_ATTACKS ((int)(sizeof attacks / sizeof *attacks))

/* Each attack from the server's side: serial 2 is installed first (the good
 * file), the attack is fetched, tlspin update exits 1 naming the problem,
 * and serial 2 is still exactly what the cache and state hold. */
START_TEST(update_server_attacks)
{
    const struct server_attack *a = &attacks[_i];
    long long now = (long long)time(NULL);
    struct nginx n;
    struct run_result r;
    char ca_buf[PATH_MAX], mirror_buf[512], resolve_buf[128];
    const char *ca = cert("trust.pem"), *mirror;
    const char *pinopt = NULL;
    int port;

    keygen("a", 1);
    sign_to("s1.signed", "a", 1, "14d", NULL, NULL, NULL);
    sign_to("s2.signed", "a", 2, "14d", NULL, NULL, NULL);
    sign_to("s2b.signed", "a", 2, "14d", NULL, pinsets_icpt(), NULL);
    sign_to("s3old.signed", "a", 3, fmt("@%lld", now - 3600), fmt("@%lld", now - 86400), NULL,
            NULL);
    nginx_start(&n, "good");
    publish("s2.signed");
    update_ok(n.port, "pinset.signed", "installed serial 2");
    port = n.port;
    mirror = url(port, "pinset.signed");
    switch (_i) {
    case 0: ca = cert("icpt-ca.pem"); break;
    case 1: mirror = fmt("https://wrong.test:%d/pinset.signed", port);
            pinopt = fmt("wrong.test:%d:127.0.0.1", port); break;
    case 2: mirror = url(port, "redirect.signed"); break;
    case 3: port = evil_start("endless", NULL); mirror = url(port, "pinset.signed"); break;
    case 4: port = evil_start("drip", tmp_path("s2b.signed")); mirror = url(port, "pinset.signed"); break;
    case 5: mirror = url(port, "error.signed"); break;
    case 6: port = evil_start("reset", tmp_path("s2b.signed")); mirror = url(port, "pinset.signed"); break;
    case 7: publish("s1.signed"); break;
    case 8: publish("s2b.signed"); break;
    case 9: publish("s3old.signed"); break;
    case 10: break;
    case 11: port = evil_start("biglen", NULL); mirror = url(port, "pinset.signed"); break;
    case 12: mirror = fmt("http://127.0.0.1:%d/pinset.signed", port); break;
    case 13: port = evil_start("chunked", tmp_path("s2b.signed")); mirror = url(port, "pinset.signed"); break;
    }
    /* fmt() and cert() hand out ring buffers: keep copies */
    snprintf(ca_buf, sizeof ca_buf, "%s", ca);
    snprintf(mirror_buf, sizeof mirror_buf, "%s", mirror);
    snprintf(resolve_buf, sizeof resolve_buf, "%s", pinopt ? pinopt : "");
    ca = ca_buf;
    mirror = mirror_buf;
    pinopt = resolve_buf;
    {
        const char *argv[12];
        size_t k = 0;
        argv[k++] = "--cafile";
        argv[k++] = ca;
        argv[k++] = "--mirror";
        argv[k++] = mirror;
        if (_i == 1) {
            argv[k++] = "--resolve";
            argv[k++] = pinopt;
        }
        if (_i == 10) {
            argv[k++] = "--pin";
            argv[k++] = pin("PIN_ICPT");
        }
        argv[k] = NULL;
        update(&r, port, argv);
    }
    ck_assert_msg(r.exited && r.code == 1, "[%s] expected exit 1: " RUN_FMT, a->name, RUN_ARGS(&r));
    ck_assert_msg(strstr(r.err, a->why) != NULL, "[%s] expected \"%s\": " RUN_FMT, a->name, a->why,
                  RUN_ARGS(&r));
    ck_assert_msg(strstr(r.err, "nothing installed") && strstr(r.err, "keeps serial 2"),
                  "[%s] " RUN_FMT, a->name, RUN_ARGS(&r));
    run_result_free(&r);
    assert_installed("s2.signed", 2);
    if (evil.pid > 0)
        tp_kill(&evil);
    tp_kill(&n.proc);
}
END_TEST

/* No byte a terminal obeys in what tlspin update prints: only printable
 * text, spaces and line ends (issue 13, terminal escapes). */
static void assert_no_terminal_controls(const char *what, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        ck_assert_msg((*p >= 0x20 && *p != 0x7f && !(*p >= 0x80 && *p <= 0x9f)) || *p == '\n',
                      "%s: byte 0x%02x at offset %ld reaches the terminal:\n%s", what, *p,
                      (long)(p - (const unsigned char *)text), text);
}

/* A hostile mirror's own text (a redirect's Location and reason phrase, a
 * body that is no signed file) reaches the administrator's terminal and
 * cron mail only escaped, as \xNN: never an ESC sequence, a C1 CSI, nor a CR
 * or LF that starts a fake line of tlspin's own. */
static const char *const escape_modes[] = {"escape-redirect", "escape-body"};

START_TEST(update_escapes_what_the_server_says)
{
    struct nginx n;
    struct run_result r;
    char mirror[512];
    int port;

    keygen("a", 1);
    sign_to("s1.signed", "a", 1, "14d", NULL, NULL, NULL);
    nginx_start(&n, "good");
    publish("s1.signed");
    update_ok(n.port, "pinset.signed", "installed serial 1");
    port = evil_start(escape_modes[_i], NULL);
    snprintf(mirror, sizeof mirror, "%s", url(port, "pinset.signed"));
    update(&r, port, (const char *const[]){"--cafile", cert("trust.pem"), "--mirror", mirror,
                                           NULL});
    ck_assert_msg(r.exited && r.code == 1 && strstr(r.err, "nothing installed"),
                  "[%s] " RUN_FMT, escape_modes[_i], RUN_ARGS(&r));
    assert_no_terminal_controls("stdout", r.out);
    assert_no_terminal_controls("stderr", r.err);
    ck_assert_msg(!strstr(r.err, "\ntlspin update: installed serial 99") &&
                      !has_line_prefix(r.out, "tlspin update: installed serial 99"),
                  "a line of the server's making: " RUN_FMT, RUN_ARGS(&r));
    if (_i == 0)
        ck_assert_msg(strstr(r.err, "\\x1b]2;owned\\x07\\x1b[2J\\x9b31m\\xc2\\x9b1m"
                                    "https://evil.test/\\x0dtlspin update: installed serial 99"),
                      "the Location, escaped: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    assert_installed("s1.signed", 1);
    tp_kill(&evil);
    tp_kill(&n.proc);
}
END_TEST

/* The updater's own side of the hygiene: a world-writable cache directory
 * and a second updater running at once are refused before anything is
 * fetched or written. */
START_TEST(update_refuses_unsafe_cache_dir_and_concurrency)
{
    struct nginx n;
    struct run_result r;
    int fd;

    keygen("a", 1);
    sign_to("s1.signed", "a", 1, "14d", NULL, NULL, NULL);
    sign_to("s2.signed", "a", 2, "14d", NULL, NULL, NULL);
    nginx_start(&n, "good");
    publish("s1.signed");
    update_ok(n.port, "pinset.signed", "installed serial 1");
    publish("s2.signed");
    ck_assert_int_eq(chmod(tmp_path("cache"), 0777), 0);
    update(&r, n.port, (const char *const[]){"--cafile", cert("trust.pem"), "--mirror",
                                             url(n.port, "pinset.signed"), NULL});
    ck_assert_msg(r.exited && r.code == 1 && strstr(r.err, "group or world writable"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq(chmod(tmp_path("cache"), 0755), 0);
    assert_installed("s1.signed", 1);

    fd = open(tmp_path("cache"), O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    update(&r, n.port, (const char *const[]){"--cafile", cert("trust.pem"), "--mirror",
                                             url(n.port, "pinset.signed"), NULL});
    ck_assert_msg(r.exited && r.code == 1 && strstr(r.err, "another tlspin update is running"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    close(fd);
    assert_installed("s1.signed", 1);
    update_ok(n.port, "pinset.signed", "installed serial 2");
    tp_kill(&n.proc);
}
END_TEST

/* The fleet story end to end: sign -> publish -> tlspin update -> the
 * running client enforces the new pin; then an attacker-controlled mirror
 * replays the old file and nothing changes. */
START_TEST(fleet_rotation_end_to_end)
{
    struct nginx n;
    struct loopc l;
    struct run_result r;
    long long t0, took;

    keygen("a", 1);
    sign_to("s1.signed", "a", 1, "14d", NULL, NULL, NULL);
    sign_to("s2.signed", "a", 2, "14d", NULL, pinsets_icpt(), NULL);
    nginx_start(&n, "good");
    publish("s1.signed");
    update_ok(n.port, "pinset.signed", "installed serial 1");
    signed_policy("fail");
    loop_begin(&l);
    t0 = tp_ms();
    loop_wait(&l, "keyA", "ok", t0, 5000);
    loop_wait(&l, "keyB", "blocked", t0, 5000);

    publish("s2.signed");
    update_ok(n.port, "pinset.signed", "installed serial 2");
    t0 = tp_ms();
    took = loop_wait(&l, "keyB", "ok", t0, 2500);
    loop_wait(&l, "keyA", "blocked", t0, 2500);
    fprintf(stderr, "fleet rotation enforced %lld ms after tlspin update returned\n", took);

    publish("s1.signed");
    update(&r, n.port, (const char *const[]){"--cafile", cert("trust.pem"), "--mirror",
                                             url(n.port, "pinset.signed"), NULL});
    ck_assert_msg(r.exited && r.code == 1 && strstr(r.err, "rollback"), RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    t0 = tp_ms();
    tp_sleep_draining(1500);
    ck_assert_str_eq(loop_last_since(&l, "keyB", t0, NULL), "ok");
    ck_assert_str_eq(loop_last_since(&l, "keyA", t0, NULL), "blocked");
    loop_end(&l);
    tp_kill(&n.proc);
}
END_TEST

static Suite *signed_suite(void)
{
    Suite *s = suite_create("integration_signed");
    TCase *tc = harness_tcase("format");

    tcase_add_test(tc, keygen_sign_verify);
    tcase_add_test(tc, sign_refuses_bad_pinsets);
    tcase_add_test(tc, tampered);
    tcase_add_test(tc, truncated);
    tcase_add_test(tc, empty);
    tcase_add_test(tc, oversized);
    tcase_add_test(tc, crlf);
    tcase_add_test(tc, appended_line);
    tcase_add_test(tc, untrusted_key);
    tcase_add_test(tc, relabelled_key_id);
    tcase_add_test(tc, expired);
    tcase_add_test(tc, future_dated);
    tcase_add_test(tc, too_long_validity);
    tcase_add_test(tc, unknown_field_signed_elsewhere);
    tcase_add_test(tc, replayed_serial_and_equivocation);
    tcase_add_test(tc, key_rotation_then_old_key_replay);
    tcase_add_test(tc, threshold);
    suite_add_tcase(s, tc);

    tc = harness_tcase("module");
    tcase_add_test(tc, module_enforces_cache);
    tcase_add_loop_test(tc, cache_hygiene, 0, (int)(sizeof hygiene_cases / sizeof *hygiene_cases));
    tcase_add_test(tc, module_refuses_rollback_below_state);
    tcase_add_loop_test(tc, module_stale, 0, 2);
    tcase_add_test(tc, live_rotation_and_last_good);
    tcase_add_test(tc, module_goes_stale_while_running);
    tcase_add_test(tc, module_key_rotation_in_running_program);
    tcase_add_test(tc, check_warns_before_expiry);
    tcase_add_test(tc, check_before_first_update);
    suite_add_tcase(s, tc);

    tc = harness_tcase("update");
    tcase_add_test(tc, update_installs_then_noop_then_newer);
    tcase_add_test(tc, update_mirror_fallback);
    tcase_add_loop_test(tc, update_server_attacks, 0, N_ATTACKS);
    tcase_add_loop_test(tc, update_escapes_what_the_server_says, 0,
                        (int)(sizeof escape_modes / sizeof *escape_modes));
    tcase_add_test(tc, update_refuses_unsafe_cache_dir_and_concurrency);
    tcase_add_test(tc, fleet_rotation_end_to_end);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(signed_suite());
}
