/*
 * test_bypass_binding.c — issue 11, case 3: libssl loaded where its own
 * calls do not reach the shim. With RTLD_DEEPBIND (python's
 * sys.setdlopenflags, php's extension loader, plugin hosts) a newly loaded
 * libssl binds X509_verify_cert to libcrypto; in a dlmopen(LM_ID_NEWLM)
 * namespace there is no LD_PRELOAD object at all. Either way nothing of
 * tlspin ran and a pinned host was reached with the interceptor's key.
 *
 * The shim's dlopen/dlmopen hooks (loader/dlopen_guard.c) cover both: a
 * DEEPBIND load finds libssl already loaded the normal way, and a new
 * namespace has the shim loaded first. What they cannot cover is refused
 * with a record: a namespace tlspin did not make, a DEEPBIND load that may
 * bring a libssl.so.3 when the system's cannot be loaded first, and a
 * libssl.so.3 copy given by path with RTLD_DEEPBIND.
 *
 * Every blocked case first shows the threat without the shim (the client
 * completes the handshake with the interceptor's key and its request
 * reaches it); run against a shim without the hooks, each of them completes
 * under the shim too. Controls: the right key still works on every way;
 * the hooks keep the program as dlopen's caller (a library's
 * DT_RUNPATH=$ORIGIN still finds its sibling by bare name, in all four
 * ways), keep RTLD_DEEPBIND's meaning for libraries without OpenSSL, and
 * release the namespaces they made. One cost is shown, not hidden: in a
 * namespace the shim heads, a second object no longer sees the first one's
 * symbols through the namespace's global scope.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static const struct run_opts shim = {.preload = 1};
static const struct run_opts plain = {0};

#define TLS_CLIENT_BINDING BIN_DIR "/tls_client_binding"
#define HOST BIN_DIR "/bypass_binding_host"
#define BB_LIBDIR TLSPIN_BUILD_DIR "/lib/bypass_binding"
#define PLUGIN BB_LIBDIR "/libbb_plugin.so"
#define PLUGIN_BUNDLE BB_LIBDIR "/bundle/libbb_plugin.so"

#define SEND_TEXT "tlspin-binding-request\\r\\n\\r\\n"
#define SENT_TEXT "tlspin-binding-request"
#define REFUSED_TEXT "tlspin refused to load it"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* good.test pinned to the good key (and its backup). */
static void pin_good_test(void)
{
    write_file_policy(NULL);
    write_good_pinset();
}

/* tls_client_binding, libssl.so.3 loaded `way` (TLSPIN_TEST_LOAD). */
static void binding_client(struct run_result *r, const struct run_opts *base, const char *way,
                           int port)
{
    const char *env[] = {fmt("TLSPIN_TEST_LOAD=%s", way), NULL};
    struct run_opts o = *base;

    o.env = env;
    tls_client_run(r, &o, TLS_CLIENT_BINDING, port, "good.test",
                   (const char *const[]){"--send", SEND_TEXT, NULL});
}

/* bypass_binding_host: plugin (tls_client linking libssl) loaded `way`. */
static void plugin_client(struct run_result *r, const struct run_opts *o, const char *way,
                          const char *plugin, int port)
{
    ck_assert_int_eq(RUN(r, o, HOST, "plugin", way, plugin, "--connect",
                         fmt("127.0.0.1:%d", port), "--cafile", cert("trust.pem"), "--sni",
                         "good.test", "--send", SEND_TEXT),
                     0);
}

/* python3 imports ssl after sys.setdlopenflags(RTLD_NOW | RTLD_DEEPBIND):
 * _ssl and the libssl it brings are loaded with RTLD_DEEPBIND. */
static void python_deepbind(struct run_result *r, const struct run_opts *o, int port)
{
    static const char script[] =
        "import os, sys\n"
        "sys.setdlopenflags(os.RTLD_NOW | os.RTLD_DEEPBIND)\n"
        "import socket, ssl\n"
        "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
        "with socket.create_connection(('127.0.0.1', int(sys.argv[2]))) as s:\n"
        "    with ctx.wrap_socket(s, server_hostname='good.test') as t:\n"
        "        print('handshake ok', flush=True)\n"
        "        t.sendall(b'" SENT_TEXT "\\r\\n\\r\\n')\n"
        "        t.recv(100)\n";

    ck_assert_int_eq(RUN(r, o, PYTHON3, "-I", "-c", script, cert("trust.pem"),
                         fmt("%d", port)),
                     0);
}

/* The pin refusal's record: good.test, its pinset, the interceptor's key. */
static void assert_pin_record(size_t mark)
{
    const struct syslog_rec *rec = the_tlspin_record_since(mark);

    ck_assert_field(rec, "event", "pin-mismatch");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "pinset", "api");
    ck_assert_field_has(rec, "chain", pin("PIN_ICPT"));
}

/* A refused load: the program says why (dlerror), one record names the
 * library, and the server never saw a byte. */
static void assert_load_refused(const struct run_result *r, size_t mark, const char *library,
                                const struct server *s)
{
    const struct syslog_rec *rec;
    char *log;

    ck_assert_msg(r->exited && r->code == 2 && strstr(r->err, REFUSED_TEXT) &&
                      !has_line(r->out, "handshake ok"),
                  "the load was not refused: " RUN_FMT, RUN_ARGS(r));
    rec = the_tlspin_record_since(mark);
    ck_assert_field(rec, "event", "load-refused");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "library", library);
    log = server_log(s);
    ck_assert_msg(strstr(log, SENT_TEXT) == NULL, "the server got the request:\n%s", log);
    free(log);
}

/* The threat, without the shim: the interceptor's key is accepted and the
 * request reaches it. */
static void assert_threat(const struct run_result *r, const struct server *s)
{
    ck_assert_msg(r->exited && r->code == 0 && has_line(r->out, "handshake ok"),
                  "control: the client did not reach the interceptor without the shim: " RUN_FMT,
                  RUN_ARGS(r));
    assert_server_got(s, SENT_TEXT);
}

/* ------------------------------------------------------------------ */
/* libssl.so.3 loaded directly, each way                               */
/* ------------------------------------------------------------------ */

static const char *const ways[] = {
    "deepbind",        /* dlopen RTLD_LOCAL|RTLD_DEEPBIND */
    "deepbind-global", /* php's RTLD_GLOBAL|RTLD_DEEPBIND */
    "base-deepbind",   /* dlmopen(LM_ID_BASE, RTLD_DEEPBIND) */
    "newlm",           /* dlmopen(LM_ID_NEWLM) */
    "newlm-deepbind",  /* ... with RTLD_DEEPBIND */
    "newlm-reuse",     /* into a namespace made for libz first */
};
#define N_WAYS ((int)(sizeof ways / sizeof *ways))

START_TEST(libssl_loaded_around_the_shim_blocked)
{
    const char *way = ways[_i];
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test();
    server_start(&s, "icpt");
    binding_client(&r, &plain, way, s.port);
    ck_assert_msg(has_line(r.out, fmt("loaded %s", way)), "not loaded %s: " RUN_FMT, way,
                  RUN_ARGS(&r));
    assert_threat(&r, &s);
    run_result_free(&r);
    server_stop(&s);

    server_start(&s, "icpt");
    mark = syslog_mark();
    binding_client(&r, &shim, way, s.port);
    assert_client_blocked(&r);
    assert_server_got_no_data(&s);
    assert_pin_record(mark);
    run_result_free(&r);
}
END_TEST

START_TEST(libssl_loaded_around_the_shim_right_key_allowed)
{
    const char *way = ways[_i];
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test();
    server_start(&s, "good");
    mark = syslog_mark();
    binding_client(&r, &shim, way, s.port);
    assert_client_ok(&r);
    assert_server_got(&s, SENT_TEXT);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "tlspin records:\n%s",
                  syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A plugin that links libssl (python's _ssl, a plugin host's plugin)  */
/* ------------------------------------------------------------------ */

static const char *const plugin_ways[] = {
    "deepbind",     /* dlopen(plugin, RTLD_DEEPBIND): libssl comes as its DT_NEEDED */
    "deepbind-old", /* the same through dlopen@GLIBC_2.2.5 */
    "newlm",        /* dlmopen(LM_ID_NEWLM, plugin) */
};
#define N_PLUGIN_WAYS ((int)(sizeof plugin_ways / sizeof *plugin_ways))

START_TEST(plugin_linking_libssl_blocked)
{
    const char *way = plugin_ways[_i];
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test();
    server_start(&s, "icpt");
    plugin_client(&r, &plain, way, PLUGIN, s.port);
    assert_threat(&r, &s);
    run_result_free(&r);
    server_stop(&s);

    server_start(&s, "icpt");
    mark = syslog_mark();
    plugin_client(&r, &shim, way, PLUGIN, s.port);
    assert_client_blocked(&r);
    assert_server_got_no_data(&s);
    assert_pin_record(mark);
    run_result_free(&r);
}
END_TEST

START_TEST(plugin_linking_libssl_right_key_allowed)
{
    const char *way = plugin_ways[_i];
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test();
    server_start(&s, "good");
    mark = syslog_mark();
    plugin_client(&r, &shim, way, PLUGIN, s.port);
    assert_client_ok(&r);
    assert_server_got(&s, SENT_TEXT);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "tlspin records:\n%s",
                  syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* python3 with RTLD_DEEPBIND                                          */
/* ------------------------------------------------------------------ */

START_TEST(python_deepbind_blocked)
{
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test();
    server_start(&s, "icpt");
    python_deepbind(&r, &plain, s.port);
    assert_threat(&r, &s);
    run_result_free(&r);
    server_stop(&s);

    server_start(&s, "icpt");
    mark = syslog_mark();
    python_deepbind(&r, &shim, s.port);
    ck_assert_msg(r.exited && r.code == 1 && !has_line(r.out, "handshake ok") &&
                      strstr(r.err, "SSLCertVerificationError") &&
                      strstr(r.err, "application verification failure"),
                  "python was not refused by tlspin: " RUN_FMT, RUN_ARGS(&r));
    assert_server_got_no_data(&s);
    assert_pin_record(mark);
    run_result_free(&r);
}
END_TEST

START_TEST(python_deepbind_right_key_allowed)
{
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test();
    server_start(&s, "good");
    mark = syslog_mark();
    python_deepbind(&r, &shim, s.port);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "handshake ok"),
                  "python with the right key: " RUN_FMT, RUN_ARGS(&r));
    assert_server_got(&s, SENT_TEXT);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "tlspin records:\n%s",
                  syslog_dump_since(mark));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* What cannot be covered is refused                                   */
/* ------------------------------------------------------------------ */

/* A namespace made by libc's own dlmopen (reached through a libc handle,
 * around the hook): the shim does not head it, so libssl there would bind
 * around it. Loading into it through the hook is refused. */
START_TEST(namespace_not_made_by_tlspin_refused)
{
    struct server s;
    struct run_result r;
    size_t mark;

    pin_good_test();
    server_start(&s, "icpt");
    binding_client(&r, &plain, "foreign", s.port);
    assert_threat(&r, &s);
    run_result_free(&r);
    server_stop(&s);

    server_start(&s, "icpt");
    mark = syslog_mark();
    binding_client(&r, &shim, "foreign", s.port);
    assert_load_refused(&r, mark, "libssl.so.3", &s);
    ck_assert_msg(strstr(r.err, "which tlspin did not make"), "dlerror does not say why: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* A plugin shipping its own libssl.so.3 beside it (DT_RUNPATH=$ORIGIN), on
 * a system whose libssl.so.3 cannot be loaded (here: an empty file bound
 * over it in this test's mount namespace). The DEEPBIND load would bind the
 * bundled copy privately and tlspin cannot load one first: refused. */
START_TEST(deepbind_without_loadable_system_libssl_refused)
{
    const char *bundle = fmt("%s/bundle", H.tmp);
    const char *plugin = fmt("%s/libbb_plugin.so", bundle);
    char *libssl = realpath("/lib/x86_64-linux-gnu/libssl.so.3", NULL);
    const char *empty = write_file("empty", "%s", "");
    struct server control, s;
    struct run_result r;
    size_t mark;

    ck_assert_msg(libssl != NULL, "no system libssl.so.3: %s", strerror(errno));
    run_sh(fmt("mkdir -p '%s' && cp '%s' '%s' && cp '%s' '%s/libssl.so.3'", bundle, PLUGIN_BUNDLE,
               plugin, libssl, bundle));
    pin_good_test();
    /* Both servers start before libssl is hidden: they link it. */
    server_start(&control, "icpt");
    server_start(&s, "icpt");
    test_private_mounts();
    ck_assert_msg(mount(empty, libssl, NULL, MS_BIND, NULL) == 0, "bind over %s: %s", libssl,
                  strerror(errno));
    free(libssl);

    plugin_client(&r, &plain, "deepbind", plugin, control.port);
    assert_threat(&r, &control);
    run_result_free(&r);

    mark = syslog_mark();
    plugin_client(&r, &shim, "deepbind", plugin, s.port);
    assert_load_refused(&r, mark, plugin, &s);
    ck_assert_msg(strstr(r.err, "cannot be loaded first"), "dlerror does not say why: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* A libssl.so.3 given by path is found by file, not by soname: a copy of
 * its own would be a second libssl, bound around the shim. Refused; the
 * system's own file, given by path, is the one tlspin loads first, and is
 * decided. */
START_TEST(libssl_copy_by_path_with_deepbind_refused)
{
    const char *copy = fmt("%s/copy/libssl.so.3", H.tmp);
    const char *env_copy[] = {"TLSPIN_TEST_LOAD=deepbind-path",
                              fmt("TLSPIN_TEST_LIBSSL=%s", copy), NULL};
    const char *env_system[] = {"TLSPIN_TEST_LOAD=deepbind-path",
                                "TLSPIN_TEST_LIBSSL=/usr/lib/x86_64-linux-gnu/libssl.so.3", NULL};
    const char *const send[] = {"--send", SEND_TEXT, NULL};
    struct run_opts o;
    struct server s;
    struct run_result r;
    size_t mark;

    run_sh(fmt("mkdir -p '%s/copy' && cp /usr/lib/x86_64-linux-gnu/libssl.so.3 '%s'", H.tmp,
               copy));
    pin_good_test();
    server_start(&s, "icpt");
    o = plain;
    o.env = env_copy;
    tls_client_run(&r, &o, TLS_CLIENT_BINDING, s.port, "good.test", send);
    assert_threat(&r, &s);
    run_result_free(&r);
    server_stop(&s);

    server_start(&s, "icpt");
    mark = syslog_mark();
    o = shim;
    o.env = env_copy;
    tls_client_run(&r, &o, TLS_CLIENT_BINDING, s.port, "good.test", send);
    assert_load_refused(&r, mark, copy, &s);
    ck_assert_msg(strstr(r.err, "a libssl.so.3 of its own"), "dlerror does not say why: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    server_stop(&s);

    server_start(&s, "icpt");
    mark = syslog_mark();
    o.env = env_system;
    tls_client_run(&r, &o, TLS_CLIENT_BINDING, s.port, "good.test", send);
    assert_client_blocked(&r);
    assert_server_got_no_data(&s);
    assert_pin_record(mark);
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* What the hooks must not change                                      */
/* ------------------------------------------------------------------ */

/* glibc finds a dlopen'ed name through its *caller's* DT_RUNPATH: only a
 * hook that jumps to libc keeps libbb_origin.so the caller. */
START_TEST(runpath_origin_of_the_caller_still_applies)
{
    const struct run_opts *const opts[] = {&plain, &shim};

    pin_good_test();
    for (size_t i = 0; i < 2; i++) {
        struct run_result r;

        ck_assert_int_eq(RUN(&r, opts[i], HOST, "origin", BB_LIBDIR), 0);
        ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "direct: not found") &&
                          has_line(r.out, "origin dlopen: ok sibling") &&
                          has_line(r.out, "origin dlopen-deepbind: ok sibling") &&
                          has_line(r.out, "origin dlmopen-base: ok sibling") &&
                          has_line(r.out, "origin dlmopen-newlm: ok sibling"),
                      "%s: " RUN_FMT, i ? "under the shim" : "control", RUN_ARGS(&r));
        run_result_free(&r);
    }
}
END_TEST

/* RTLD_DEEPBIND still means what it says for a library without OpenSSL:
 * its own bb_clash wins over the program's. Given by path, with nothing new
 * to load, it brings no libssl along; given by a bare name (found through
 * paths tlspin does not guess) libssl is loaded first, which changes
 * nothing for the library. */
START_TEST(deepbind_without_openssl_unaffected)
{
    static const char *const env[] = {"LD_LIBRARY_PATH=" BB_LIBDIR, NULL};
    const struct run_opts shim_path = {.preload = 1, .env = env};
    const struct run_opts plain_path = {.env = env};
    struct run_result r;

    pin_good_test();
    ck_assert_int_eq(RUN(&r, &plain, HOST, "deep", BB_LIBDIR "/libbb_deep.so"), 0);
    ck_assert_msg(has_line(r.out, "bb_clash=library") && has_line(r.out, "libssl=0"),
                  "control: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq(RUN(&r, &shim, HOST, "deep", BB_LIBDIR "/libbb_deep.so"), 0);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "bb_clash=library") &&
                      has_line(r.out, "libssl=0"),
                  "by path under the shim: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    ck_assert_int_eq(RUN(&r, &plain_path, HOST, "deep", "libbb_deep.so"), 0);
    ck_assert_msg(has_line(r.out, "bb_clash=library"), "control: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq(RUN(&r, &shim_path, HOST, "deep", "libbb_deep.so"), 0);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "bb_clash=library"),
                  "by name under the shim: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* A namespace the shim made is released with the last object the program
 * loaded into it, and after a load that failed: glibc has 16 namespaces,
 * so 40 rounds would run out otherwise. */
START_TEST(namespaces_made_by_the_shim_are_released)
{
    struct run_result r;

    pin_good_test();
    ck_assert_int_eq(RUN(&r, &shim, HOST, "cycle", "40", BB_LIBDIR "/libbb_sibling.so"), 0);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "cycle ok 40"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq(RUN(&r, &shim, HOST, "missing", "40", BB_LIBDIR "/libbb_sibling.so"), 0);
    ck_assert_msg(r.exited && r.code == 0 && has_line(r.out, "missing ok 40"), RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* The documented cost of heading a namespace: its global scope is the
 * searchlist of its first object, now the shim's. An object loaded second
 * that relies on the first one's symbols without linking it (an
 * interpreter's extension modules, when the interpreter itself was
 * dlmopen'ed) no longer finds them: the load fails, loudly. */
START_TEST(second_object_in_a_namespace_misses_the_first_ones_symbols)
{
    struct run_result r;

    pin_good_test();
    ck_assert_int_eq(RUN(&r, &plain, HOST, "second-root", BB_LIBDIR "/libbb_deep.so",
                         BB_LIBDIR "/libbb_user.so"),
                     0);
    ck_assert_msg(has_line(r.out, "second-root: ok library"), "control: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_int_eq(RUN(&r, &shim, HOST, "second-root", BB_LIBDIR "/libbb_deep.so",
                         BB_LIBDIR "/libbb_user.so"),
                     0);
    ck_assert_msg(r.exited && r.code == 1 &&
                      has_line_prefix(r.out, "second-root: failed: ") &&
                      strstr(r.out, "undefined symbol: bb_clash"),
                  RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* The disassembly of `function` in the shim (objdump -d), or NULL when the
 * shim has no such symbol. */
static char *disassembly(const char *function)
{
    struct run_result r;
    const char *start, *end;
    char *out = NULL;

    ck_assert_int_eq(RUN(&r, &plain, "/usr/bin/objdump", "-d", "--no-show-raw-insn",
                         fmt("--disassemble=%s", function), SHIM_PATH),
                     0);
    ck_assert_msg(r.exited && r.code == 0, "objdump: " RUN_FMT, RUN_ARGS(&r));
    start = strstr(r.out, fmt("<%s>:", function));
    if (start != NULL) {
        end = strstr(start, "\n\n");
        out = strndup(start, end ? (size_t)(end - start) : strlen(start));
    }
    run_result_free(&r);
    return out;
}

/* libc's dlopen and dlmopen are reached with jumps, never an indirect call:
 * a call would make the shim the caller, whose RUNPATH and namespace glibc
 * would use. The hooks' common path is a flag test and that jump; the
 * prepared paths (and the parts GCC moves out as .cold) jump too. */
START_TEST(hooks_reach_libc_with_a_jump)
{
    static const struct {
        const char *name;
        int required;   /* 0: a part the compiler may or may not split out */
    } parts[] = {
        {"dlopen", 1}, {"dlmopen", 1}, {"dlclose", 1}, {"dlopen_slow", 1},
        {"dlmopen_slow", 1}, {"dlopen.cold", 0}, {"dlmopen.cold", 0},
    };

    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        char *d = disassembly(parts[i].name);

        if (d == NULL) {
            ck_assert_msg(!parts[i].required, "no %s in the shim", parts[i].name);
            continue;
        }
        ck_assert_msg(!strstr(d, "call   *"), "%s calls through a pointer:\n%s", parts[i].name,
                      d);
        ck_assert_msg(!parts[i].required || strstr(d, "jmp    *%"),
                      "%s does not jump to libc:\n%s", parts[i].name, d);
        /* The hooks themselves call nothing at all on their common path. */
        ck_assert_msg(strstr(parts[i].name, "_slow") || !strstr(d, "call"),
                      "%s calls something:\n%s", parts[i].name, d);
        free(d);
    }
}
END_TEST

/* Programs reference dlopen@GLIBC_2.34, older ones dlopen@GLIBC_2.2.5: the
 * shim's unversioned definition takes both. */
START_TEST(versioned_dlopen_references_bind_to_the_shim)
{
    static const char *const env[] = {"LD_BIND_NOW=1", "LD_DEBUG=bindings", NULL};
    const struct run_opts o = {.preload = 1, .env = env};
    struct run_result r;
    const char *want;

    pin_good_test();
    ck_assert_int_eq(RUN(&r, &o, PYTHON3, "-I", "-c", "import ctypes"), 0);
    want = "/usr/bin/python3 [0] to " SHIM_PATH " [0]: normal symbol `dlopen' [GLIBC_2.34]";
    ck_assert_msg(r.exited && r.code == 0 && strstr(r.err, want), "no '%s' in:\n%.3000s", want,
                  r.err);
    run_result_free(&r);

    ck_assert_int_eq(RUN(&r, &o, HOST, "deep", BB_LIBDIR "/libbb_deep.so"), 0);
    want = HOST " [0] to " SHIM_PATH " [0]: normal symbol `dlopen' [GLIBC_2.2.5]";
    ck_assert_msg(strstr(r.err, want), "no '%s' in:\n%.3000s", want, r.err);
    want = HOST " [0] to " SHIM_PATH " [0]: normal symbol `dlmopen' [GLIBC_2.34]";
    ck_assert_msg(strstr(r.err, want), "no '%s' in:\n%.3000s", want, r.err);
    run_result_free(&r);
}
END_TEST

static Suite *binding_suite(void)
{
    Suite *s = suite_create("bypass_binding");
    TCase *tc;

    tc = harness_tcase("libssl loaded with RTLD_DEEPBIND or dlmopen");
    tcase_add_loop_test(tc, libssl_loaded_around_the_shim_blocked, 0, N_WAYS);
    tcase_add_loop_test(tc, libssl_loaded_around_the_shim_right_key_allowed, 0, N_WAYS);
    tcase_add_loop_test(tc, plugin_linking_libssl_blocked, 0, N_PLUGIN_WAYS);
    tcase_add_loop_test(tc, plugin_linking_libssl_right_key_allowed, 0, N_PLUGIN_WAYS);
    tcase_add_test(tc, python_deepbind_blocked);
    tcase_add_test(tc, python_deepbind_right_key_allowed);
    suite_add_tcase(s, tc);

    tc = harness_tcase("refused loads");
    tcase_add_test(tc, namespace_not_made_by_tlspin_refused);
    tcase_add_test(tc, deepbind_without_loadable_system_libssl_refused);
    tcase_add_test(tc, libssl_copy_by_path_with_deepbind_refused);
    suite_add_tcase(s, tc);

    tc = harness_tcase("what the hooks keep");
    tcase_add_test(tc, runpath_origin_of_the_caller_still_applies);
    tcase_add_test(tc, deepbind_without_openssl_unaffected);
    tcase_add_test(tc, namespaces_made_by_the_shim_are_released);
    tcase_add_test(tc, second_object_in_a_namespace_misses_the_first_ones_symbols);
    tcase_add_test(tc, hooks_reach_libc_with_a_jump);
    tcase_add_test(tc, versioned_dlopen_references_bind_to_the_shim);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(binding_suite());
}
