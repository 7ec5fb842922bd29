/*
 * test_install.c — `cmake --install` of this build, for real, and what the
 * installed tree does:
 *
 *   - the documented layout: <libdir>/tlspin/libtlspin.so (the shim, in
 *     tlspin's private directory, never unversioned in <libdir> itself),
 *     <libdir>/tlspin/libtlspin-engine.so, <libdir>/tlspin/tlspin-commands.so,
 *     <libdir>/tlspin/modules/file.so, <bindir>/tlspin, <sysconfdir>/tlspin.conf,
 *     <sysconfdir>/pins.d/, <sysconfdir>/keys.d/, <includedir>/tlspin/module.h,
 *     <libdir>/pkgconfig/tlspin-module.pc, and nothing written anywhere else;
 *   - with DESTDIR, nothing at all is written outside DESTDIR (the overlays'
 *     upper layers stay empty);
 *   - a re-install keeps tlspin.conf, pins.d/ and keys.d/ as the
 *     administrator left them, byte for byte and mode for mode;
 *   - the configured prefix chooses the policy and state directories
 *     (GNUInstallDirs: /etc/tlspin and /var/lib/tlspin for /usr,
 *     <prefix>/etc/tlspin otherwise) and the systemd unit directory, both
 *     compiled in and installed (trees only configured: the "config" and
 *     "units" components need no build);
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
 * Where the install writes: every test runs in a mount namespace of its own
 * with writable overlays over /etc, over the build directory (cmake
 * --install writes install_manifest.txt and the generated units there) and
 * over the nearest existing directory of the prefix and of the policy
 * directory when they are outside the test's directory: the host's /etc,
 * /usr/local and build tree are never modified.
 */
#include "harness.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TLSPIN_DEFAULT_CONFIG
#error "TLSPIN_DEFAULT_CONFIG (the compiled-in policy path) must be defined by the build"
#endif

static const struct run_opts plain = {0};

/* snprintf into an array, failing the test when the path does not fit. */
#define PATHF(buf, ...)                                                        \
    ck_assert_msg((size_t)snprintf((buf), sizeof(buf), __VA_ARGS__) < sizeof(buf), \
                  "path too long")

/* What one `cmake --install` put where: every path is taken from its own
 * "-- Installing:", "-- Up-to-date:" and "-- Kept:" lines, not assumed.
 * Paths include DESTDIR when there is one. */
struct install {
    char prefix[PATH_MAX];       /* as given to --prefix (or configured) */
    char destdir[PATH_MAX];      /* "" or DESTDIR */
    char libdir[PATH_MAX];       /* <libdir>: the parent of tlspin/ */
    char pkglibdir[PATH_MAX];    /* <libdir>/tlspin */
    char shim[PATH_MAX];
    char engine[PATH_MAX];
    char commands[PATH_MAX];
    char moduledir[PATH_MAX];
    char file_module[PATH_MAX];
    char includedir[PATH_MAX];   /* the directory holding tlspin/module.h */
    char header[PATH_MAX];
    char pc[PATH_MAX];
    char sysconfdir[PATH_MAX];   /* where tlspin.conf went */
    char config[PATH_MAX];
    char pinsets[PATH_MAX];
    char keys[PATH_MAX];
    char *log;                   /* cmake --install's stdout */
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A value of the build's CMakeCache.txt ("KEY:TYPE=value"), static; ""
 * when the key is there with an empty value. */
static const char *cache_value(const char *key)
{
    static char value[PATH_MAX];
    char *text = read_file(TLSPIN_BUILD_DIR "/CMakeCache.txt", NULL);
    size_t klen = strlen(key);
    int found = 0;

    ck_assert_msg(text != NULL, "no %s/CMakeCache.txt", TLSPIN_BUILD_DIR);
    value[0] = '\0';
    for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *colon = l + klen, *eq;
        if (strncmp(l, key, klen) != 0 || *colon != ':' || !(eq = strchr(colon, '=')))
            continue;
        snprintf(value, sizeof value, "%.*s", (int)strcspn(eq + 1, "\n"), eq + 1);
        found = 1;
        break;
    }
    free(text);
    ck_assert_msg(found, "CMakeCache.txt has no %s", key);
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

/* 1 when path is dir or below it. */
static int under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* The directory the build reads its policy from: dirname of the
 * compiled-in TLSPIN_DEFAULT_CONFIG (static). */
static const char *build_sysconfdir(void)
{
    static char dir[PATH_MAX];
    dirname_of(dir, sizeof dir, TLSPIN_DEFAULT_CONFIG);
    return dir;
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

/* This test's overlays: where each is and its upper layer, so that a test
 * can tell what was written under it. */
static struct {
    size_t n;
    char dir[8][PATH_MAX];
    char upper[8][PATH_MAX];
} ovl;

/* Overlay the nearest existing directory of path, unless path is in the
 * test's directory or under an overlay already; checks that the overlay is
 * really there before anything under it is written or removed. */
static void cover(const char *path)
{
    char dir[PATH_MAX], work[PATH_MAX], opts[3 * PATH_MAX + 64];
    struct statfs sf;
    size_t i = ovl.n;

    if (under(path, H.tmp))
        return;
    for (size_t k = 0; k < ovl.n; k++)
        if (under(path, ovl.dir[k]))
            return;
    ck_assert_msg(i < 8, "too many overlays");
    nearest_existing(dir, sizeof dir, path);
    snprintf(ovl.dir[i], sizeof ovl.dir[i], "%s", dir);
    snprintf(ovl.upper[i], sizeof ovl.upper[i], "%s/ovl%zu-upper", H.tmp, i);
    snprintf(work, sizeof work, "%s/ovl%zu-work", H.tmp, i);
    ck_assert_msg(mkdir(ovl.upper[i], 0755) == 0 && mkdir(work, 0755) == 0, "mkdir: %s",
                  strerror(errno));
    snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", dir, ovl.upper[i], work);
    ck_assert_msg(mount("overlay", dir, "overlay", 0, opts) == 0, "overlay on %s: %s", dir,
                  strerror(errno));
    ck_assert_msg(statfs(dir, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC,
                  "%s is not an overlay after mounting one", dir);
    ovl.n++;
}

/* What was written under the overlay on dir, "" for nothing: the upper
 * layer's entries, one path per line, except those named in `allowed`
 * (paths relative to dir, NULL-terminated) and their parent directories. */
static const char *written_under(const char *dir, const char *const allowed[])
{
    static char out[8192];
    size_t i;
    struct run_result r;

    for (i = 0; i < ovl.n && strcmp(ovl.dir[i], dir) != 0; i++)
        ;
    ck_assert_msg(i < ovl.n, "no overlay on %s", dir);
    ck_assert_int_eq(RUN(&r, &plain, "/usr/bin/find", ovl.upper[i], "-mindepth", "1",
                         "-printf", "%P\n"),
                     0);
    out[0] = '\0';
    for (char *l = r.out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t len = strcspn(l, "\n");
        int ok = 0;
        for (size_t k = 0; allowed && allowed[k] && !ok; k++) {
            size_t alen = strlen(allowed[k]);
            ok = (len == alen && strncmp(l, allowed[k], len) == 0) ||
                 (len < alen && strncmp(l, allowed[k], len) == 0 && allowed[k][len] == '/');
        }
        if (!ok && strlen(out) + len + 2 < sizeof out)
            snprintf(out + strlen(out), sizeof out - strlen(out), "%.*s\n", (int)len, l);
    }
    run_result_free(&r);
    return out;
}

/* Private mounts for an install to prefix (the configured one, or any
 * other given with --prefix): overlays over /etc, the build directory, the
 * prefix and the directory the build reads its policy from. The policy
 * directory the host may already have is removed inside the overlay first,
 * so the install is a fresh one. */
static void install_mounts(const char *prefix)
{
    memset(&ovl, 0, sizeof ovl);
    test_private_mounts();
    cover("/etc");
    cover(TLSPIN_BUILD_DIR);
    cover(prefix);
    cover(build_sysconfdir());
    if (is_dir(build_sysconfdir()) && !under(build_sysconfdir(), H.tmp))
        ck_assert_int_eq(system(fmt("rm -rf '%s'", build_sysconfdir())), 0);
}

static const char *const tags[] = {"-- Installing: ", "-- Up-to-date: ", "-- Kept: "};

/* The path of the one line of the install log, of any tag, whose path ends
 * in `suffix`; fails when there is not exactly one. */
static void installed_path(const struct install *in, const char *suffix, char *out,
                           size_t outlen)
{
    size_t slen = strlen(suffix), found = 0;

    for (const char *l = in->log; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++) {
            size_t tlen = strlen(tags[t]), len;
            if (strncmp(l, tags[t], tlen) != 0)
                continue;
            len = strcspn(l + tlen, t == 2 ? " \n" : "\n");
            if (len >= slen && strncmp(l + tlen + len - slen, suffix, slen) == 0) {
                snprintf(out, outlen, "%.*s", (int)len, l + tlen);
                found++;
            }
        }
    }
    ck_assert_msg(found == 1, "cmake --install installed %zu files ending in %s:\n%s", found,
                  suffix, in->log);
}

/* Every path the install log names is under one of the directories given
 * (NULL-terminated); fails naming the first that is not. */
static void assert_all_under(const struct install *in, const char *const dirs[])
{
    for (const char *l = in->log; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++) {
            size_t tlen = strlen(tags[t]);
            char path[PATH_MAX];
            int ok = 0;
            if (strncmp(l, tags[t], tlen) != 0)
                continue;
            snprintf(path, sizeof path, "%.*s", (int)strcspn(l + tlen, t == 2 ? " \n" : "\n"),
                     l + tlen);
            for (size_t k = 0; dirs[k] && !ok; k++)
                ok = under(path, dirs[k]);
            ck_assert_msg(ok, "installed outside %s%s%s: %s\n%s", dirs[0],
                          dirs[1] ? " and " : "", dirs[1] ? dirs[1] : "", path, in->log);
        }
    }
}

/* `[DESTDIR=destdir] cmake --install <dir> [--prefix prefix] [--component
 * component]`: any NULL is left out. Returns cmake's stdout (caller frees);
 * fails the test unless cmake succeeded. */
static char *cmake_install(const char *dir, const char *destdir, const char *prefix,
                           const char *component)
{
    const char *argv[10];
    const char *env[2] = {NULL, NULL};
    struct run_opts o = {.env = env, .timeout_ms = 300000};
    struct run_result r;
    size_t n = 0;
    char *out;

    argv[n++] = cache_value("CMAKE_COMMAND");
    argv[n++] = "--install";
    argv[n++] = dir;
    if (prefix) {
        argv[n++] = "--prefix";
        argv[n++] = prefix;
    }
    if (component) {
        argv[n++] = "--component";
        argv[n++] = component;
    }
    argv[n] = NULL;
    if (destdir)
        env[0] = fmt("DESTDIR=%s", destdir);
    ck_assert_int_eq(run_argv(&o, &r, argv), 0);
    ck_assert_msg(r.exited && r.code == 0, "cmake --install %s: " RUN_FMT, dir, RUN_ARGS(&r));
    out = r.out;
    r.out = NULL;
    run_result_free(&r);
    return out;
}

/* Install this build (mounts must be in place: install_mounts) and find
 * where everything went. prefix NULL: the configured one. */
static void install_run(struct install *in, const char *prefix, const char *destdir)
{
    char tmp[PATH_MAX];

    free(in->log);
    memset(in, 0, sizeof *in);
    snprintf(in->prefix, sizeof in->prefix, "%s",
             prefix ? prefix : cache_value("CMAKE_INSTALL_PREFIX"));
    snprintf(in->destdir, sizeof in->destdir, "%s", destdir ? destdir : "");
    in->log = cmake_install(TLSPIN_BUILD_DIR, destdir, prefix, NULL);

    /* Find, don't guess: GNUInstallDirs chose libdir at configure time. */
    installed_path(in, "/tlspin/libtlspin.so", in->shim, sizeof in->shim);
    dirname_of(in->pkglibdir, sizeof in->pkglibdir, in->shim);
    dirname_of(in->libdir, sizeof in->libdir, in->pkglibdir);
    installed_path(in, "/libtlspin-engine.so", in->engine, sizeof in->engine);
    installed_path(in, "/tlspin-commands.so", in->commands, sizeof in->commands);
    installed_path(in, "/tlspin/modules/file.so", in->file_module, sizeof in->file_module);
    dirname_of(in->moduledir, sizeof in->moduledir, in->file_module);
    installed_path(in, "/tlspin/module.h", in->header, sizeof in->header);
    dirname_of(tmp, sizeof tmp, in->header);
    dirname_of(in->includedir, sizeof in->includedir, tmp);
    installed_path(in, "/tlspin-module.pc", in->pc, sizeof in->pc);
    installed_path(in, "/tlspin.conf", in->config, sizeof in->config);
    dirname_of(in->sysconfdir, sizeof in->sysconfdir, in->config);
    PATHF(in->pinsets, "%s/pins.d", in->sysconfdir);
    PATHF(in->keys, "%s/keys.d", in->sysconfdir);
}

/* Mounts, then an install to prefix (NULL: the configured one). */
static void install_to(struct install *in, const char *prefix)
{
    memset(in, 0, sizeof *in);
    install_mounts(prefix ? prefix : cache_value("CMAKE_INSTALL_PREFIX"));
    install_run(in, prefix, NULL);
}

static void install_free(struct install *in)
{
    free(in->log);
    in->log = NULL;
}

/* The policy directory an install to prefix writes: the configured one when
 * it is outside the configured prefix (/etc/tlspin: absolute, DESTDIR
 * applies), else the same place under prefix (static). */
static const char *expected_sysconfdir(const char *prefix)
{
    static char dir[PATH_MAX];
    char configured[PATH_MAX];

    snprintf(configured, sizeof configured, "%s", cache_value("CMAKE_INSTALL_PREFIX"));
    if (!under(build_sysconfdir(), configured))
        snprintf(dir, sizeof dir, "%s", build_sysconfdir());
    else
        ck_assert_msg((size_t)snprintf(dir, sizeof dir, "%s%s", prefix,
                                       build_sysconfdir() + strlen(configured)) < sizeof dir,
                      "path too long");
    return dir;
}

/* mode & 07777 of path, -1 when it cannot be stat'ed. */
static int mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
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
    char want[PATH_MAX], libdir[PATH_MAX], bindir[PATH_MAX], *a, *b;

    snprintf(libdir, sizeof libdir, "%s", cache_value("CMAKE_INSTALL_LIBDIR"));
    snprintf(bindir, sizeof bindir, "%s", cache_value("CMAKE_INSTALL_BINDIR"));

    install_to(&in, fmt("%s/usr", H.tmp));

    /* libdir is the build's CMAKE_INSTALL_LIBDIR under the given prefix. */
    if (libdir[0] == '/')
        snprintf(want, sizeof want, "%s", libdir);
    else
        ck_assert_msg((size_t)snprintf(want, sizeof want, "%s/%s", in.prefix, libdir) <
                          sizeof want,
                      "path too long");
    ck_assert_msg(strcmp(in.libdir, want) == 0, "libtlspin.so went to %s/tlspin, expected %s",
                  in.libdir, want);
    /* The shim in tlspin's private directory, next to its engine: not an
     * unversioned library in the public libdir (lintian). */
    ck_assert_str_eq(in.shim, fmt("%s/tlspin/libtlspin.so", in.libdir));
    ck_assert_msg(is_file(in.shim), "%s", in.shim);
    ck_assert_msg(!is_file(fmt("%s/libtlspin.so", in.libdir)) &&
                      !strstr(in.log, fmt("%s/libtlspin.so\n", in.libdir)),
                  "an unversioned %s/libtlspin.so:\n%s", in.libdir, in.log);
    ck_assert_str_eq(in.engine, fmt("%s/libtlspin-engine.so", in.pkglibdir));
    ck_assert_msg(is_file(in.engine), "%s", in.engine);
    ck_assert_str_eq(in.commands, fmt("%s/tlspin-commands.so", in.pkglibdir));
    ck_assert_msg(is_file(in.commands), "%s", in.commands);
    ck_assert_str_eq(in.file_module, fmt("%s/modules/file.so", in.pkglibdir));
    ck_assert_msg(is_file(in.file_module), "%s", in.file_module);
    ck_assert_str_eq(in.pc, fmt("%s/pkgconfig/tlspin-module.pc", in.libdir));
    ck_assert_msg(is_file(in.pc), "%s", in.pc);
    ck_assert_str_eq(in.header, fmt("%s/include/tlspin/module.h", in.prefix));
    ck_assert_msg(is_file(in.header), "%s", in.header);
    ck_assert_msg(is_file(fmt("%s/%s/tlspin", in.prefix, bindir)), "no %s/%s/tlspin",
                  in.prefix, bindir);

    /* The policy directory: the configured one, or its place under the
     * prefix when it is under the configured prefix. */
    ck_assert_str_eq(in.sysconfdir, expected_sysconfdir(in.prefix));
    ck_assert_msg(is_file(in.config), "no %s", in.config);
    ck_assert_msg(is_dir(in.pinsets), "no %s/", in.pinsets);
    ck_assert_msg(is_dir(in.keys) && mode_of(in.keys) == 0755, "%s/: mode %o", in.keys,
                  mode_of(in.keys));
    ck_assert_int_eq(mode_of(in.config), 0644);

    /* The installed header is the source's. */
    a = read_file(in.header, NULL);
    b = read_file(TLSPIN_SOURCE_DIR "/include/tlspin/module.h", NULL);
    ck_assert_msg(a && b && strcmp(a, b) == 0, "installed module.h differs from the source's");
    free(a);
    free(b);

    /* The default policy: the file module over the empty pins.d the build
     * reads. */
    a = read_file(in.config, NULL);
    ck_assert_msg(strstr(a, fmt("pinsets = \"%s/pins.d\"", build_sysconfdir())) &&
                      strstr(a, "unpinned = \"allow\"") && strstr(a, "module = \"file\""),
                  "%s is not the harmless default:\n%s", in.config, a);
    free(a);
    ck_assert_msg(system(fmt("ls '%s' | grep -q '\\.conf$'", in.pinsets)) != 0,
                  "the installed %s already holds a pinset", in.pinsets);

    /* Nothing outside the prefix and the policy directory. */
    assert_all_under(&in, (const char *const[]){in.prefix, in.sysconfdir, NULL});
    install_free(&in);
}
END_TEST

/* With DESTDIR (how packages are built), nothing is written outside it:
 * not the policy under /etc, not the prefix, not the units; the build tree
 * gets only cmake's install_manifest.txt and the units it generates. */
START_TEST(destdir_install_writes_nothing_outside_it)
{
    struct install in;
    const char *stage = fmt("%s/stage", H.tmp);
    char prefix[PATH_MAX];
    const char *const build_files[] = {"install_manifest.txt",
                                       "etc/systemd/tlspin-update.service",
                                       "etc/cron.d/tlspin-update", NULL};

    snprintf(prefix, sizeof prefix, "%s", cache_value("CMAKE_INSTALL_PREFIX"));
    memset(&in, 0, sizeof in);
    install_mounts(prefix);
    install_run(&in, NULL, stage);

    assert_all_under(&in, (const char *const[]){stage, NULL});
    ck_assert_str_eq(in.shim, fmt("%s%s/tlspin/libtlspin.so", stage,
                                  cache_value("CMAKE_INSTALL_LIBDIR")[0] == '/'
                                      ? cache_value("CMAKE_INSTALL_LIBDIR")
                                      : fmt("%s/%s", prefix, cache_value("CMAKE_INSTALL_LIBDIR"))));
    ck_assert_str_eq(in.config, fmt("%s%s", stage, TLSPIN_DEFAULT_CONFIG));
    ck_assert_msg(is_file(in.config) && is_dir(in.keys), "%s, %s", in.config, in.keys);
    for (size_t i = 0; i < ovl.n; i++) {
        const char *w = written_under(ovl.dir[i], strcmp(ovl.dir[i], TLSPIN_BUILD_DIR) == 0
                                                      ? build_files
                                                      : NULL);
        ck_assert_msg(w[0] == '\0', "the install into DESTDIR=%s wrote under %s:\n%s", stage,
                      ovl.dir[i], w);
    }
    install_free(&in);
}
END_TEST

/* A re-install (an upgrade by `cmake --install`, with DESTDIR or without)
 * never changes what the administrator did to the configuration: an edited
 * tlspin.conf (mode = "report" must not become "enforce" again), a pinset
 * and an edited README in pins.d, keys.d's mode and contents. Everything
 * else is installed again. */
START_TEST(reinstall_keeps_the_administrators_configuration)
{
    struct install in;
    char prefix[PATH_MAX];
    char stage[PATH_MAX];
    const char *const stages[] = {NULL, stage};
    char files[4][PATH_MAX];
    char *before[4];

    snprintf(stage, sizeof stage, "%s/stage", H.tmp);
    snprintf(prefix, sizeof prefix, "%s/usr", H.tmp);
    memset(&in, 0, sizeof in);
    install_mounts(prefix);
    for (size_t s = 0; s < 2; s++) {
        install_run(&in, prefix, stages[s]);
        PATHF(files[0], "%s", in.config);
        PATHF(files[1], "%s/README", in.pinsets);
        PATHF(files[2], "%s/api.conf", in.pinsets);
        PATHF(files[3], "%s/ops.pub", in.keys);
        {
            char *text = read_file(in.config, NULL);
            char *mode = text ? strstr(text, "mode = \"enforce\"") : NULL;
            FILE *f;
            ck_assert_msg(mode != NULL, "%s: no mode = \"enforce\":\n%s", in.config, text);
            memcpy(mode, "mode = \"report\" ", 16);
            f = fopen(in.config, "w");
            ck_assert_msg(f && fputs(text, f) >= 0 && fclose(f) == 0, "%s", in.config);
            free(text);
        }
        ck_assert_int_eq(system(fmt("echo '# ours' >> '%s' && "
                                    "printf 'pinsets = ();\\n' > '%s' && "
                                    "echo 'not a key' > '%s' && chmod 0700 '%s' && "
                                    "chmod 0600 '%s'",
                                    files[1], files[2], files[3], in.keys, in.config)),
                         0);
        for (size_t i = 0; i < 4; i++)
            ck_assert_ptr_nonnull(before[i] = read_file(files[i], NULL));

        install_run(&in, prefix, stages[s]);
        for (size_t i = 0; i < 4; i++) {
            char *after = read_file(files[i], NULL);
            ck_assert_msg(after && strcmp(after, before[i]) == 0,
                          "re-install%s changed %s:\nbefore:\n%s\nafter:\n%s",
                          stages[s] ? " with DESTDIR" : "", files[i], before[i],
                          after ? after : "(gone)");
            free(after);
            free(before[i]);
        }
        ck_assert_int_eq(mode_of(in.keys), 0700);
        ck_assert_int_eq(mode_of(in.config), 0600);
        ck_assert_msg(strstr(in.log, fmt("-- Kept: %s ", in.config)) &&
                          strstr(in.log, fmt("-- Kept: %s/README ", in.pinsets)),
                      "the re-install does not say what it kept:\n%s", in.log);
        ck_assert_msg(is_file(in.shim) && is_file(in.engine), "%s", in.log);
        install_free(&in);
    }
}
END_TEST

/* A tree configured (not built) with `prefix`: the compiled-in policy and
 * state paths (the engine's compile definitions), then the "config" and
 * "units" components installed into DESTDIR=<tmp>/<name>-stage. Returns
 * the build directory (static). */
static const char *configure_for(const char *name, const char *prefix, char **log)
{
    static char dir[PATH_MAX];
    struct run_result r;
    struct run_opts o = {.timeout_ms = 300000};

    snprintf(dir, sizeof dir, "%s/%s-build", H.tmp, name);
    ck_assert_int_eq(RUN(&r, &o, cache_value("CMAKE_COMMAND"), "-G", "Unix Makefiles", "-S",
                         TLSPIN_SOURCE_DIR, "-B", dir, "-DTLSPIN_TESTS=OFF",
                         fmt("-DCMAKE_INSTALL_PREFIX=%s", prefix)),
                     0);
    ck_assert_msg(r.exited && r.code == 0, "configure for %s: " RUN_FMT, prefix, RUN_ARGS(&r));
    run_result_free(&r);
    *log = NULL;
    {
        const char *stage = fmt("%s/%s-stage", H.tmp, name);
        char *a = cmake_install(dir, stage, NULL, "config");
        char *b = cmake_install(dir, stage, NULL, "units");
        *log = malloc(strlen(a) + strlen(b) + 1);
        ck_assert_ptr_nonnull(*log);
        strcpy(*log, a);
        strcat(*log, b);
        free(a);
        free(b);
    }
    return dir;
}

/* The engine's compile definition `name` in the configured tree dir. */
static void assert_defined(const char *dir, const char *name, const char *value)
{
    char *flags = read_file(fmt("%s/loader/CMakeFiles/tlspin_engine_objs.dir/flags.make", dir),
                            NULL);
    ck_assert_msg(flags && strstr(flags, fmt("-D%s=\\\"%s\\\"", name, value)),
                  "%s is not compiled in as %s:\n%s", name, value, flags ? flags : "(none)");
    free(flags);
}

/* The configured prefix chooses where the policy and the state live (and
 * the build reads them there), where the units go and what they run:
 * GNUInstallDirs' <sysconfdir>/tlspin and <localstatedir>/lib/tlspin, so
 * /etc/tlspin and /var/lib/tlspin for /usr, <prefix>/etc/tlspin and
 * <prefix>/var/lib/tlspin for a prefix of one's own; systemd's own unit
 * directory (pkg-config systemd) for systemd's prefix, else
 * <prefix>/lib/systemd/system. An install with --prefix moves a policy
 * directory under the configured prefix along with everything else. */
START_TEST(configured_prefix_places_policy_state_and_units)
{
    const char *own = fmt("%s/opt-own", H.tmp);
    const char *stage, *dir;
    char *log, *text;
    struct install in;
    struct run_result r;
    char unitdir[PATH_MAX];

    /* A prefix of one's own. */
    dir = configure_for("own", own, &log);
    stage = fmt("%s/own-stage", H.tmp);
    assert_defined(dir, "TLSPIN_DEFAULT_CONFIG", fmt("%s/etc/tlspin/tlspin.conf", own));
    assert_defined(dir, "TLSPIN_STATEDIR", fmt("%s/var/lib/tlspin", own));
    memset(&in, 0, sizeof in);
    in.log = log;
    assert_all_under(&in, (const char *const[]){fmt("%s%s", stage, own), NULL});
    text = read_file(fmt("%s%s/etc/tlspin/tlspin.conf", stage, own), NULL);
    ck_assert_msg(text && strstr(text, fmt("pinsets = \"%s/etc/tlspin/pins.d\"", own)),
                  "%s%s/etc/tlspin/tlspin.conf:\n%s\n%s", stage, own, text ? text : "(none)",
                  log);
    free(text);
    ck_assert_msg(is_file(fmt("%s%s/etc/tlspin/pins.d/README", stage, own)) &&
                      is_dir(fmt("%s%s/etc/tlspin/keys.d", stage, own)),
                  "%s", log);
    text = read_file(fmt("%s%s/lib/systemd/system/tlspin-update.service", stage, own), NULL);
    ck_assert_msg(text && strstr(text, fmt("ExecStart=%s/bin/tlspin update", own)) &&
                      strstr(text, fmt("ConditionPathExists=%s/etc/tlspin/update.conf", own)),
                  "the unit:\n%s\n%s", text ? text : "(none)", log);
    free(text);
    free(log);

    /* ...installed with --prefix elsewhere: the policy moves with it. */
    in.log = cmake_install(dir, NULL, fmt("%s/moved", H.tmp), "config");
    assert_all_under(&in, (const char *const[]){fmt("%s/moved", H.tmp), NULL});
    ck_assert_msg(is_file(fmt("%s/moved/etc/tlspin/tlspin.conf", H.tmp)), "%s", in.log);
    install_free(&in);

    /* /usr: the system's directories, DESTDIR respected. */
    dir = configure_for("usr", "/usr", &log);
    stage = fmt("%s/usr-stage", H.tmp);
    assert_defined(dir, "TLSPIN_DEFAULT_CONFIG", "/etc/tlspin/tlspin.conf");
    assert_defined(dir, "TLSPIN_STATEDIR", "/var/lib/tlspin");
    in.log = log;
    assert_all_under(&in, (const char *const[]){stage, NULL});
    ck_assert_msg(is_file(fmt("%s/etc/tlspin/tlspin.conf", stage)) &&
                      is_file(fmt("%s/etc/tlspin/pins.d/README", stage)) &&
                      is_dir(fmt("%s/etc/tlspin/keys.d", stage)),
                  "%s", log);
    snprintf(unitdir, sizeof unitdir, "/usr/lib/systemd/system");
    ck_assert_int_eq(RUN(&r, &plain, "/bin/sh", "-c",
                         "[ \"$(pkg-config --variable=prefix systemd)\" = /usr ] && "
                         "pkg-config --variable=systemdsystemunitdir systemd"),
                     0);
    if (r.exited && r.code == 0 && r.out[0] == '/')
        snprintf(unitdir, sizeof unitdir, "%.*s", (int)strcspn(r.out, "\n"), r.out);
    run_result_free(&r);
    text = read_file(fmt("%s%s/tlspin-update.service", stage, unitdir), NULL);
    ck_assert_msg(text && strstr(text, "ExecStart=/usr/bin/tlspin update") &&
                      strstr(text, "ConditionPathExists=/etc/tlspin/update.conf"),
                  "%s%s/tlspin-update.service:\n%s\n%s", stage, unitdir, text ? text : "(none)",
                  log);
    free(text);
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
    char service[PATH_MAX], timer[PATH_MAX], cron[PATH_MAX];
    const char *tlspin;
    char *text;

    install_to(&in, fmt("%s/usr", H.tmp));
    installed_path(&in, "/tlspin-update.service", service, sizeof service);
    installed_path(&in, "/tlspin-update.timer", timer, sizeof timer);
    installed_path(&in, "/examples/tlspin-update", cron, sizeof cron);
    if (cache_value("TLSPIN_SYSTEMD_UNITDIR")[0] == '\0' &&
        strcmp(cache_value("CMAKE_INSTALL_PREFIX"), "/usr") != 0)
        ck_assert_str_eq(service, fmt("%s/lib/systemd/system/tlspin-update.service", in.prefix));
    ck_assert_str_eq(cron, fmt("%s/share/doc/tlspin/examples/tlspin-update", in.prefix));
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
    text = read_file(cron, NULL);
    ck_assert_msg(text && strstr(text, fmt("&& %s update", tlspin)), "cron example:\n%s",
                  text);
    free(text);
    ck_assert_int_eq(RUN(&r, &plain, "/usr/bin/systemd-analyze", "verify", "--man=no", service,
                         timer),
                     0);
    ck_assert_msg(r.exited && r.code == 0, "systemd-analyze verify: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);
    install_free(&in);
}
END_TEST

/* ------------------------------------------------------------------ */

/* At the configured prefix (in overlays), so the installed shim reads the
 * installed policy. */
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

    install_to(&in, NULL);
    ck_assert_str_eq(in.config, TLSPIN_DEFAULT_CONFIG);
    /* The installed CLI lists the installed shim by default. */
    ck_assert_int_eq(RUN(&r, &plain, fmt("%s/%s/tlspin", in.prefix,
                                         cache_value("CMAKE_INSTALL_BINDIR")),
                         "enable-system", "--help"),
                     0);
    ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, fmt("(default: %s)", in.shim)),
                  "tlspin enable-system does not default to %s: " RUN_FMT, in.shim,
                  RUN_ARGS(&r));
    run_result_free(&r);
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

static void blocklist_policy(const char *host)
{
    write_policy("version = 1; mode = \"enforce\"; unpinned = \"allow\"; on_error = \"deny\";\n"
                 "log = { rate_limit_seconds = 0; };\n"
                 "stack = ( { module = \"blocklist\"; control = \"requisite\";\n"
                 "            args = { hosts = [ \"%s\" ]; }; } );\n",
                 host);
}

/* The installed example module (tlspin-dev's examples/module): built with
 * its own Makefile from a copy, installed with `make install`, and deciding
 * real handshakes. */
static void example_module(const struct install *in, const struct run_opts *o, int port)
{
    const char *src = fmt("%s/share/doc/tlspin-dev/examples/module", in->prefix);
    const char *work = fmt("%s/example", H.tmp);
    const struct syslog_rec *rec;
    struct run_result r;
    size_t mark;

    ck_assert_msg(is_file(fmt("%s/blocklist.c", src)) && is_file(fmt("%s/Makefile", src)),
                  "the example module was not installed in %s", src);
    sh_pkg(&r, in, fmt("rm -rf '%s' && cp -r '%s' '%s' && make -s -C '%s' "
                       "CFLAGS='-O2 -Werror' && make -s -C '%s' install",
                       work, src, work, work, work));
    ck_assert_msg(r.exited && r.code == 0 && is_file(fmt("%s/blocklist.so", in->moduledir)),
                  "building and installing the example module: " RUN_FMT, RUN_ARGS(&r));
    run_result_free(&r);

    blocklist_policy("GOOD.test.");
    mark = syslog_mark();
    curl_run(&r, o, port);
    assert_curl_blocked(&r);
    rec = syslog_wait_for_since(mark, "action=blocked", 2000);
    ck_assert_msg(rec != NULL, "no blocked record:\n%s", syslog_dump_since(mark));
    ck_assert_field(rec, "module", "blocklist");
    ck_assert_field(rec, "event", "host-blocked");
    ck_assert_field(rec, "host", "good.test");
    (void)the_tlspin_record_since(mark);
    run_result_free(&r);

    blocklist_policy("other.test");
    mark = syslog_mark();
    curl_run(&r, o, port);
    assert_curl_ok(&r);
    run_result_free(&r);
    ck_assert_msg(syslog_tlspin_count_since(mark) == 0, "an unlisted host logged:\n%s",
                  syslog_dump_since(mark));
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

    example_module(in, &o, s.port);
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

    tc = harness_tcase("staging and re-install");
    tcase_add_test(tc, destdir_install_writes_nothing_outside_it);
    tcase_add_test(tc, reinstall_keeps_the_administrators_configuration);
    tcase_add_test(tc, configured_prefix_places_policy_state_and_units);
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
