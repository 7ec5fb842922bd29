/*
 * test_install.c — `cmake --install` of this build, for real, and what the
 * installed tree does:
 *
 *   - the documented layout: <libdir>/libtlspin.so,
 *     <libdir>/tlspin/libtlspin-engine.so, <libdir>/tlspin/modules/file.so,
 *     <sysconfdir>/tlspin.conf, <sysconfdir>/pins.d/,
 *     <includedir>/tlspin/module.h, <libdir>/pkgconfig/tlspin-module.pc, and
 *     nothing written anywhere else;
 *   - the installed default policy changes nothing: curl under the installed
 *     shim, without TLSPIN_CONFIG, reaches a server with the interceptor's
 *     key and no record is written; a pinset dropped into the installed
 *     pins.d then blocks the same curl. The installed shim loads the
 *     installed engine and module (LD_DEBUG=files), never the build tree's;
 *   - a third-party module built outside the tree with only the installed
 *     header, exactly as README.md says (pkg-config --cflags tlspin-module,
 *     installed into pkg-config --variable=moduledir), referenced by its bare
 *     name in a policy, decides real handshakes.
 *
 * Where the install writes: the prefix is in the test's directory, except
 * for the test at the build's configured prefix; the system policy goes to
 * the absolute sysconfdir (/etc/tlspin). Every test runs in a mount
 * namespace of its own with writable overlays over /etc, over the build
 * directory (cmake --install writes install_manifest.txt there) and, for
 * the configured prefix, over its nearest existing directory: the host's
 * /etc, /usr/local and build tree are never modified.
 */
#include "harness.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TLSPIN_DEFAULT_CONFIG
#error "TLSPIN_DEFAULT_CONFIG (the compiled-in policy path) must be defined by the build"
#endif

static const struct run_opts plain = {0};

/* What one `cmake --install` put where: every path is taken from its own
 * "-- Installing:" lines, not assumed. */
struct install {
    char prefix[PATH_MAX];
    char libdir[PATH_MAX];       /* directory of libtlspin.so */
    char shim[PATH_MAX];
    char engine[PATH_MAX];
    char moduledir[PATH_MAX];
    char file_module[PATH_MAX];
    char includedir[PATH_MAX];   /* the directory holding tlspin/module.h */
    char header[PATH_MAX];
    char pc[PATH_MAX];
    char sysconfdir[PATH_MAX];   /* dirname of TLSPIN_DEFAULT_CONFIG */
    char config[PATH_MAX];
    char pinsets[PATH_MAX];
    char *log;                   /* cmake --install's stdout */
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A value of the build's CMakeCache.txt ("KEY:TYPE=value"), static. */
static const char *cache_value(const char *key)
{
    static char value[PATH_MAX];
    char *text = read_file(TLSPIN_BUILD_DIR "/CMakeCache.txt", NULL);
    size_t klen = strlen(key);

    ck_assert_msg(text != NULL, "no %s/CMakeCache.txt", TLSPIN_BUILD_DIR);
    value[0] = '\0';
    for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *colon = l + klen, *eq;
        if (strncmp(l, key, klen) != 0 || *colon != ':' || !(eq = strchr(colon, '=')))
            continue;
        snprintf(value, sizeof value, "%.*s", (int)strcspn(eq + 1, "\n"), eq + 1);
        break;
    }
    free(text);
    ck_assert_msg(value[0] != '\0', "CMakeCache.txt has no %s", key);
    return value;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void dirname_of(char *out, size_t outlen, const char *path)
{
    const char *slash = strrchr(path, '/');
    ck_assert_msg(slash && slash != path, "no directory in %s", path);
    snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

/* Overlay dir and check that the overlay is really there before anything
 * under it is written or removed. */
static void private_overlay(const char *dir)
{
    struct statfs sf;

    overlay_over(dir);
    ck_assert_msg(statfs(dir, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC,
                  "%s is not an overlay after mounting one", dir);
}

/* The nearest existing directory at or above path (never "/"). */
static void nearest_existing(char *out, size_t outlen, const char *path)
{
    snprintf(out, outlen, "%s", path);
    while (!is_dir(out)) {
        char *slash = strrchr(out, '/');
        ck_assert_msg(slash && slash != out, "nothing but / above %s to overlay", path);
        *slash = '\0';
    }
    ck_assert_msg(strcmp(out, "/") != 0, "refusing to overlay /");
}

/* The path of the "-- Installing: <path>" line ending in `suffix`; fails
 * when there is not exactly one. */
static void installed_path(const struct install *in, const char *suffix, char *out,
                           size_t outlen)
{
    static const char tag[] = "-- Installing: ";
    size_t slen = strlen(suffix), found = 0;

    for (const char *l = in->log; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t len = strcspn(l, "\n");
        if (strncmp(l, tag, sizeof tag - 1) != 0 || len < sizeof tag - 1 + slen ||
            strncmp(l + len - slen, suffix, slen) != 0)
            continue;
        snprintf(out, outlen, "%.*s", (int)(len - (sizeof tag - 1)), l + sizeof tag - 1);
        found++;
    }
    ck_assert_msg(found == 1, "cmake --install installed %zu files ending in %s:\n%s", found,
                  suffix, in->log);
}

/* `cmake --install <build> --prefix prefix` inside this test's own mounts:
 * overlays over /etc (the system policy), the build directory and, when the
 * prefix is outside the test's directory, over its nearest existing
 * directory. A policy directory the host may already have is removed inside
 * the overlay first, so the install is a fresh one. */
static void install_to(struct install *in, const char *prefix)
{
    struct run_result r;
    char cmake[PATH_MAX], outside[PATH_MAX];
    size_t tmplen = strlen(H.tmp);

    memset(in, 0, sizeof *in);
    snprintf(in->prefix, sizeof in->prefix, "%s", prefix);
    snprintf(in->config, sizeof in->config, "%s", TLSPIN_DEFAULT_CONFIG);
    dirname_of(in->sysconfdir, sizeof in->sysconfdir, in->config);
    ck_assert_msg((size_t)snprintf(in->pinsets, sizeof in->pinsets, "%s/pins.d",
                                   in->sysconfdir) < sizeof in->pinsets,
                  "path too long");
    ck_assert_msg(strcmp(cache_value("TLSPIN_SYSCONFDIR"), in->sysconfdir) == 0,
                  "the build installs its policy to %s, but its shim reads %s",
                  cache_value("TLSPIN_SYSCONFDIR"), in->config);
    ck_assert_msg(strncmp(in->sysconfdir, "/etc/", 5) == 0,
                  "sysconfdir %s is not under /etc: this suite overlays only /etc",
                  in->sysconfdir);
    snprintf(cmake, sizeof cmake, "%s", cache_value("CMAKE_COMMAND"));

    test_private_mounts();
    private_overlay("/etc");
    if (is_dir(in->sysconfdir))
        ck_assert_int_eq(system(fmt("rm -rf '%s'", in->sysconfdir)), 0);
    private_overlay(TLSPIN_BUILD_DIR);
    if (strncmp(prefix, H.tmp, tmplen) != 0 || prefix[tmplen] != '/') {
        nearest_existing(outside, sizeof outside, prefix);
        private_overlay(outside);
    }

    ck_assert_int_eq(RUN(&r, &plain, cmake, "--install", TLSPIN_BUILD_DIR, "--prefix", prefix),
                     0);
    ck_assert_msg(r.exited && r.code == 0, "cmake --install: " RUN_FMT, RUN_ARGS(&r));
    in->log = r.out;
    r.out = NULL;
    run_result_free(&r);

    /* Find, don't guess: GNUInstallDirs chose libdir at configure time. */
    installed_path(in, "/libtlspin.so", in->shim, sizeof in->shim);
    dirname_of(in->libdir, sizeof in->libdir, in->shim);
    installed_path(in, "/tlspin/libtlspin-engine.so", in->engine, sizeof in->engine);
    installed_path(in, "/tlspin/modules/file.so", in->file_module, sizeof in->file_module);
    dirname_of(in->moduledir, sizeof in->moduledir, in->file_module);
    installed_path(in, "/tlspin/module.h", in->header, sizeof in->header);
    dirname_of(outside, sizeof outside, in->header);
    dirname_of(in->includedir, sizeof in->includedir, outside);
    installed_path(in, "/tlspin-module.pc", in->pc, sizeof in->pc);
}

static void install_free(struct install *in)
{
    free(in->log);
    in->log = NULL;
}

/* curl to good.test on 127.0.0.1:port, trusting trust.pem. */
static void curl_run(struct run_result *r, const struct run_opts *o, int port)
{
    ck_assert_int_eq(RUN(r, o, CURL, "-q", "-sS", "--max-time", "10", "--cacert",
                         cert("trust.pem"), "--resolve", fmt("good.test:%d:127.0.0.1", port),
                         fmt("https://good.test:%d/", port)),
                     0);
}

static void assert_curl_ok(const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 0 && strcmp(r->out, "ok\n") == 0,
                  "curl should have succeeded: " RUN_FMT, RUN_ARGS(r));
}

static void assert_curl_blocked(const struct run_result *r)
{
    ck_assert_msg(r->exited && r->code == 60 && strstr(r->err, "SSL certificate problem"),
                  "curl should have been refused with exit 60: " RUN_FMT, RUN_ARGS(r));
}

/* LD_DEBUG=files shows what the dynamic linker loaded: the installed
 * engine and module, nothing from the build tree. */
static void assert_loaded_installed(const struct run_result *r, const struct install *in,
                                    const char *module)
{
    const char *const wanted[] = {in->shim, in->engine, module};

    for (size_t i = 0; i < 3; i++)
        ck_assert_msg(strstr(r->err, fmt("file=%s ", wanted[i])) ||
                          strstr(r->err, fmt("file=%s\t", wanted[i])),
                      "the process never loaded %s: " RUN_FMT, wanted[i], RUN_ARGS(r));
    ck_assert_msg(!strstr(r->err, "file=" TLSPIN_BUILD_DIR "/lib/"),
                  "the installed shim loaded something from the build tree: " RUN_FMT,
                  RUN_ARGS(r));
}

/* ------------------------------------------------------------------ */
/* The tree                                                            */
/* ------------------------------------------------------------------ */

START_TEST(install_lays_out_the_documented_tree)
{
    struct install in;
    char want[PATH_MAX], libdir[PATH_MAX], *a, *b;

    snprintf(libdir, sizeof libdir, "%s", cache_value("CMAKE_INSTALL_LIBDIR"));

    install_to(&in, fmt("%s/usr", H.tmp));

    /* libdir is the build's CMAKE_INSTALL_LIBDIR under the given prefix. */
    if (libdir[0] == '/')
        snprintf(want, sizeof want, "%s", libdir);
    else
        ck_assert_msg((size_t)snprintf(want, sizeof want, "%s/%s", in.prefix, libdir) <
                          sizeof want,
                      "path too long");
    ck_assert_msg(strcmp(in.libdir, want) == 0, "libtlspin.so went to %s, expected %s",
                  in.libdir, want);
    ck_assert_msg(is_file(in.shim), "%s", in.shim);
    ck_assert_str_eq(in.engine, fmt("%s/tlspin/libtlspin-engine.so", in.libdir));
    ck_assert_msg(is_file(in.engine), "%s", in.engine);
    ck_assert_str_eq(in.file_module, fmt("%s/tlspin/modules/file.so", in.libdir));
    ck_assert_msg(is_file(in.file_module), "%s", in.file_module);
    ck_assert_str_eq(in.pc, fmt("%s/pkgconfig/tlspin-module.pc", in.libdir));
    ck_assert_msg(is_file(in.pc), "%s", in.pc);
    ck_assert_str_eq(in.header, fmt("%s/include/tlspin/module.h", in.prefix));
    ck_assert_msg(is_file(in.header), "%s", in.header);
    ck_assert_msg(is_file(in.config), "no %s", in.config);
    ck_assert_msg(is_dir(in.pinsets), "no %s/", in.pinsets);

    /* The installed header is the source's. */
    a = read_file(in.header, NULL);
    b = read_file(TLSPIN_SOURCE_DIR "/include/tlspin/module.h", NULL);
    ck_assert_msg(a && b && strcmp(a, b) == 0, "installed module.h differs from the source's");
    free(a);
    free(b);

    /* The default policy: the file module over the installed, empty pins.d. */
    a = read_file(in.config, NULL);
    ck_assert_msg(strstr(a, fmt("pinsets = \"%s\"", in.pinsets)) &&
                      strstr(a, "unpinned = \"allow\"") && strstr(a, "module = \"file\""),
                  "%s is not the harmless default:\n%s", in.config, a);
    free(a);
    ck_assert_msg(system(fmt("ls '%s' | grep -q '\\.conf$'", in.pinsets)) != 0,
                  "the installed %s already holds a pinset", in.pinsets);

    /* Nothing outside the prefix and the system policy directory. */
    for (const char *l = in.log; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *path = strstr(l, ": ");
        size_t plen = strlen(in.prefix), slen = strlen(in.sysconfdir);
        if (strncmp(l, "-- Installing: ", 15) != 0 && strncmp(l, "-- Up-to-date: ", 15) != 0)
            continue;
        path += 2;
        ck_assert_msg((strncmp(path, in.prefix, plen) == 0 && path[plen] == '/') ||
                          (strncmp(path, in.sysconfdir, slen) == 0 &&
                           (path[slen] == '/' || path[slen] == '\n')),
                      "installed outside %s and %s: %.*s", in.prefix, in.sysconfdir,
                      (int)strcspn(path, "\n"), path);
    }
    install_free(&in);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The installed default policy                                        */
/* The updater's units and cron example name the install's own paths (not
 * the configured prefix's), and systemd accepts them: `systemd-analyze
 * verify` checks that ExecStart= names an executable that exists. The timer
 * runs on a calendar, so Persistent= catches up runs missed while off. */
START_TEST(installed_units_name_the_install)
{
    struct install in;
    struct run_result r;
    const char *unitdir, *service, *timer, *tlspin;
    char *text;

    install_to(&in, fmt("%s/usr", H.tmp));
    unitdir = fmt("%s/lib/systemd/system", in.prefix);
    service = fmt("%s/tlspin-update.service", unitdir);
    timer = fmt("%s/tlspin-update.timer", unitdir);
    tlspin = fmt("%s/%s/tlspin", in.prefix, cache_value("CMAKE_INSTALL_BINDIR"));
    text = read_file(service, NULL);
    ck_assert_msg(text && strstr(text, fmt("ExecStart=%s update", tlspin)) &&
                      !strstr(text, "/usr/local/bin"),
                  "%s does not run the installed %s:\n%s", service, tlspin, text);
    free(text);
    text = read_file(timer, NULL);
    ck_assert_msg(text && strstr(text, "OnCalendar=") && strstr(text, "Persistent=true"),
                  "%s:\n%s", timer, text);
    free(text);
    text = read_file(fmt("%s/share/doc/tlspin/examples/tlspin-update", in.prefix), NULL);
    ck_assert_msg(text && strstr(text, fmt("&& %s update", tlspin)), "cron example:\n%s",
                  text);
    free(text);
    ck_assert_int_eq(RUN(&r, &plain, "/usr/bin/systemd-analyze", "verify", "--man=no", service,
                         timer),
                     0);
    ck_assert_msg(r.exited && r.code == 0, "systemd-analyze verify: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(installed_default_is_harmless_until_a_pinset)
{
    struct install in;
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    char preload[PATH_MAX + 16];
    const char *const env[] = {preload, "LD_DEBUG=files", NULL};
    struct run_opts o = {.env = env};
    size_t mark;

    install_to(&in, fmt("%s/usr", H.tmp));
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", in.shim);
    server_start(&s, "icpt");

    /* No TLSPIN_CONFIG (the harness drops it): the installed default. */
    mark = syslog_mark();
    curl_run(&r, &o, s.port);
    assert_curl_ok(&r);
    assert_loaded_installed(&r, &in, in.file_module);
    run_result_free(&r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0,
                  "the installed default policy logged:\n%s", syslog_dump_since(mark));

    /* An administrator drops a pinset for good.test into the installed
     * pins.d: the interceptor's key is refused. */
    {
        FILE *f = fopen(fmt("%s/api.conf", in.pinsets), "w");
        ck_assert_msg(f != NULL, "%s/api.conf: %s", in.pinsets, strerror(errno));
        fprintf(f,
                "pinsets = (\n  { name = \"api\"; hosts = [ \"good.test\" ];\n"
                "    pins = [ \"%s\", \"%s\" ]; }\n);\n",
                pin("PIN_GOOD"), pin("PIN_BACKUP"));
        ck_assert_int_eq(fclose(f), 0);
    }
    mark = syslog_mark();
    curl_run(&r, &o, s.port);
    assert_curl_blocked(&r);
    assert_loaded_installed(&r, &in, in.file_module);
    rec = syslog_wait_for_since(mark, "event=pin-mismatch", 2000);
    ck_assert_msg(rec != NULL, "no pin-mismatch record:\n%s", syslog_dump_since(mark));
    ck_assert_str_eq(rec->tag, "curl");
    ck_assert_field(rec, "action", "blocked");
    ck_assert_field(rec, "host", "good.test");
    ck_assert_field(rec, "pinset", "api");
    ck_assert_field(rec, "module", "file");
    ck_assert_field(rec, "program", "curl");
    ck_assert_field(rec, "pid", fmt("%d", (int)r.pid));
    (void)the_tlspin_record_since(mark);
    run_result_free(&r);
    install_free(&in);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A third-party module                                                */
/* ------------------------------------------------------------------ */

/* Written by someone who has only the installed header: returns the
 * configured verdict for every connection. args = { verdict = "pass" |
 * "fail"; } */
static const char third_party_source[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include <tlspin/module.h>\n"
    "\n"
    "static int v3p_open(const struct tlspin_host *host, const struct tlspin_args *args,\n"
    "                    void **state, char *err, size_t errlen)\n"
    "{\n"
    "    tlspin_verdict *v = malloc(sizeof *v);\n"
    "    int seen = 0;\n"
    "    (void)host;\n"
    "    *state = NULL;\n"
    "    if (v == NULL) {\n"
    "        snprintf(err, errlen, \"verdict3p: out of memory\");\n"
    "        return -1;\n"
    "    }\n"
    "    for (size_t i = 0; args && i < args->n_items; i++) {\n"
    "        const struct tlspin_arg *a = &args->items[i];\n"
    "        if (strcmp(a->key, \"verdict\") != 0 || seen || a->n_values != 1) {\n"
    "            snprintf(err, errlen, \"%s:%u: verdict3p: bad key '%s'\",\n"
    "                     a->file ? a->file : \"(args)\", a->line, a->key);\n"
    "            free(v);\n"
    "            return -1;\n"
    "        }\n"
    "        if (strcmp(a->values[0], \"pass\") == 0)\n"
    "            *v = TLSPIN_PASS;\n"
    "        else if (strcmp(a->values[0], \"fail\") == 0)\n"
    "            *v = TLSPIN_FAIL;\n"
    "        else {\n"
    "            snprintf(err, errlen, \"%s:%u: verdict3p: pass or fail\",\n"
    "                     a->file ? a->file : \"(args)\", a->line);\n"
    "            free(v);\n"
    "            return -1;\n"
    "        }\n"
    "        seen = 1;\n"
    "    }\n"
    "    if (!seen) {\n"
    "        snprintf(err, errlen, \"verdict3p: args need verdict\");\n"
    "        free(v);\n"
    "        return -1;\n"
    "    }\n"
    "    *state = v;\n"
    "    return 0;\n"
    "}\n"
    "\n"
    "static void v3p_close(void *state)\n"
    "{\n"
    "    free(state);\n"
    "}\n"
    "\n"
    "static tlspin_verdict v3p_check(void *state, const struct tlspin_conn *conn,\n"
    "                                struct tlspin_finding *finding)\n"
    "{\n"
    "    (void)conn;\n"
    "    snprintf(finding->rule, sizeof finding->rule, \"third-party\");\n"
    "    snprintf(finding->reason, sizeof finding->reason, \"verdict3p says so\");\n"
    "    return *(const tlspin_verdict *)state;\n"
    "}\n"
    "\n"
    "static const struct tlspin_module v3p = {\n"
    "    .abi_major = TLSPIN_ABI_MAJOR,\n"
    "    .abi_minor = TLSPIN_ABI_MINOR,\n"
    "    .struct_size = sizeof(struct tlspin_module),\n"
    "    .name = \"verdict3p\",\n"
    "    .version = \"1.0\",\n"
    "    .open = v3p_open,\n"
    "    .close = v3p_close,\n"
    "    .check = v3p_check,\n"
    "};\n"
    "\n"
    "TLSPIN_MODULE_EXPORT const struct tlspin_module *tlspin_module_describe(void);\n"
    "const struct tlspin_module *tlspin_module_describe(void)\n"
    "{\n"
    "    return &v3p;\n"
    "}\n";

/* Run a shell command with PKG_CONFIG_PATH at the installed .pc only. */
static void sh_pkg(struct run_result *r, const struct install *in, const char *cmd)
{
    char pcdir[PATH_MAX];

    dirname_of(pcdir, sizeof pcdir, in->pc);
    ck_assert_int_eq(RUN(r, &plain, "/bin/sh", "-c",
                         fmt("PKG_CONFIG_PATH='%s'; export PKG_CONFIG_PATH; %s", pcdir, cmd)),
                     0);
}

/* The trimmed stdout of a pkg-config query against the installed .pc. */
static const char *pkg_query(const struct install *in, const char *args)
{
    static char out[PATH_MAX + 64];
    struct run_result r;
    size_t n;

    sh_pkg(&r, in, fmt("pkg-config %s tlspin-module", args));
    ck_assert_msg(r.exited && r.code == 0, "pkg-config %s: " RUN_FMT, args, RUN_ARGS(&r));
    snprintf(out, sizeof out, "%s", r.out);
    n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    run_result_free(&r);
    return out;
}

/* 1 when a and b name the same existing directory. */
static int same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISDIR(sa.st_mode) &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* 1 when cflags has a -I option naming the directory dir. */
static int cflags_include(const char *cflags, const char *dir)
{
    char copy[PATH_MAX + 64], *save = NULL;
    int found = 0;

    snprintf(copy, sizeof copy, "%s", cflags);
    for (char *t = strtok_r(copy, " \t", &save); t && !found; t = strtok_r(NULL, " \t", &save))
        found = strncmp(t, "-I", 2) == 0 && same_dir(t + 2, dir);
    return found;
}

/* 1 when the `cc -M` rule deps has a prerequisite ending in tlspin/module.h
 * that is the file header (however spelt). */
static int depends_on(const char *deps, const char *header)
{
    struct stat sh, sd;
    char *copy = strdup(deps), *save = NULL;
    int found = 0;

    ck_assert_int_eq(stat(header, &sh), 0);
    for (char *t = strtok_r(copy, " \t\n\\", &save); t && !found;
         t = strtok_r(NULL, " \t\n\\", &save)) {
        size_t n = strlen(t);
        found = n >= 16 && strcmp(t + n - 16, "/tlspin/module.h") == 0 && stat(t, &sd) == 0 &&
                sd.st_dev == sh.st_dev && sd.st_ino == sh.st_ino;
    }
    free(copy);
    return found;
}

static void verdict3p_policy(const char *verdict)
{
    write_policy("version = 1; mode = \"enforce\"; unpinned = \"allow\"; on_error = \"deny\";\n"
                 "log = { rate_limit_seconds = 0; };\n"
                 "stack = ( { module = \"verdict3p\"; control = \"required\";\n"
                 "            args = { verdict = \"%s\"; }; } );\n",
                 verdict);
}

/* README.md's recipe against this install, then real handshakes. */
static void third_party_module(const struct install *in)
{
    static const char cc_flags[] = "cc -shared -fPIC -fvisibility=hidden "
                                   "$(pkg-config --cflags tlspin-module)";
    struct server s;
    struct run_result r;
    const struct syslog_rec *rec;
    const char *src;
    char so[PATH_MAX], cflags[PATH_MAX + 64], moduledir[PATH_MAX + 64];
    char preload[PATH_MAX + 16], config[PATH_MAX + 16];
    const char *const env[] = {preload, config, NULL};
    struct run_opts o = {.env = env};
    size_t mark;

    /* pkg-config describes the tree that was installed (the same
     * directories, however spelt: a relocatable .pc may say ${pcfiledir}). */
    snprintf(cflags, sizeof cflags, "%s", pkg_query(in, "--cflags"));
    ck_assert_msg(cflags_include(cflags, in->includedir),
                  "pkg-config --cflags tlspin-module says '%s', but the header was installed "
                  "as %s (build configured for prefix %s, installed with --prefix %s)",
                  cflags, in->header, cache_value("CMAKE_INSTALL_PREFIX"), in->prefix);
    snprintf(moduledir, sizeof moduledir, "%s", pkg_query(in, "--variable=moduledir"));
    ck_assert_msg(same_dir(moduledir, in->moduledir),
                  "pkg-config --variable=moduledir says '%s', but the modules were installed "
                  "into %s (build configured for prefix %s, installed with --prefix %s)",
                  moduledir, in->moduledir, cache_value("CMAKE_INSTALL_PREFIX"), in->prefix);

    /* Build it outside the tree with only what pkg-config says, and check
     * that the header it compiled against is the installed one. */
    src = write_file("thirdparty/verdict3p.c", "%s", third_party_source);
    snprintf(so, sizeof so, "%s/thirdparty/verdict3p.so", H.tmp);
    sh_pkg(&r, in, fmt("%s -o '%s' '%s'", cc_flags, so, src));
    ck_assert_msg(r.exited && r.code == 0 && is_file(so), "building verdict3p: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);
    sh_pkg(&r, in, fmt("cc -M $(pkg-config --cflags tlspin-module) '%s'", src));
    ck_assert_msg(r.exited && r.code == 0 && depends_on(r.out, in->header),
                  "verdict3p.c did not compile against the installed %s: " RUN_FMT, in->header,
                  RUN_ARGS(&r));
    run_result_free(&r);
    /* The tree's own test module builds the same way. */
    sh_pkg(&r, in,
           fmt("%s -o '%s/thirdparty/verdict.so' '%s/tests/modules/verdict.c'", cc_flags, H.tmp,
               TLSPIN_SOURCE_DIR));
    ck_assert_msg(r.exited && r.code == 0, "building tests/modules/verdict.c: " RUN_FMT,
                  RUN_ARGS(&r));
    run_result_free(&r);

    /* install mymod.so "$(pkg-config --variable=moduledir tlspin-module)" */
    sh_pkg(&r, in, fmt("install -m 0644 '%s' \"$(pkg-config --variable=moduledir tlspin-module)\"",
                       so));
    ck_assert_msg(r.exited && r.code == 0, "installing verdict3p.so: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    ck_assert_msg(is_file(fmt("%s/verdict3p.so", in->moduledir)), "no %s/verdict3p.so",
                  in->moduledir);

    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", in->shim);
    snprintf(config, sizeof config, "TLSPIN_CONFIG=%s", H.config);
    server_start(&s, "good");

    /* verdict = "fail": the pinned, valid server is refused by it. */
    verdict3p_policy("fail");
    mark = syslog_mark();
    curl_run(&r, &o, s.port);
    assert_curl_blocked(&r);
    rec = syslog_wait_for_since(mark, "action=blocked", 2000);
    ck_assert_msg(rec != NULL, "no blocked record:\n%s", syslog_dump_since(mark));
    ck_assert_field(rec, "module", "verdict3p");
    ck_assert_field(rec, "control", "required");
    ck_assert_field(rec, "verdict", "fail");
    ck_assert_field(rec, "host", "good.test");
    (void)the_tlspin_record_since(mark);
    run_result_free(&r);

    /* verdict = "pass": allowed, silently. */
    verdict3p_policy("pass");
    mark = syslog_mark();
    curl_run(&r, &o, s.port);
    assert_curl_ok(&r);
    run_result_free(&r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "a pass logged:\n%s",
                  syslog_dump_since(mark));
}

/* Installed with --prefix somewhere else than the build was configured for
 * (a staging tree, a relocated package): pkg-config must still describe the
 * tree it is installed in. */
START_TEST(third_party_module_with_relocated_prefix)
{
    struct install in;

    install_to(&in, fmt("%s/usr", H.tmp));
    third_party_module(&in);
    install_free(&in);
}
END_TEST

/* Installed at the prefix the build was configured for (cmake --install
 * build, as README.md says), in overlays. */
START_TEST(third_party_module_with_configured_prefix)
{
    struct install in;
    char prefix[PATH_MAX];

    snprintf(prefix, sizeof prefix, "%s", cache_value("CMAKE_INSTALL_PREFIX"));
    install_to(&in, prefix);
    third_party_module(&in);
    install_free(&in);
}
END_TEST

Suite *install_suite(void);
Suite *install_suite(void)
{
    Suite *s = suite_create("install");
    TCase *tc = harness_tcase("tree");

    tcase_add_test(tc, install_lays_out_the_documented_tree);
    tcase_add_test(tc, installed_units_name_the_install);
    tcase_add_test(tc, installed_default_is_harmless_until_a_pinset);
    suite_add_tcase(s, tc);

    tc = harness_tcase("third-party module");
    tcase_add_test(tc, third_party_module_with_configured_prefix);
    tcase_add_test(tc, third_party_module_with_relocated_prefix);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(install_suite());
}
