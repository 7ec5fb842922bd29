/*
 * threaded.c — helpers of the suites running the multi-threaded clients
 * (see threaded.h).
 */
#include "harness.h"

#include "../programs/tp_suite.h"

#include "threaded.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void servers_start(struct servers *s)
{
    mt_server_start(&s->good, "good");
    mt_server_start(&s->icpt, "icpt");
    mt_server_start(&s->other, "good-rsa");
}

void servers_stop(struct servers *s)
{
    mt_server_stop(&s->good);
    mt_server_stop(&s->icpt);
    mt_server_stop(&s->other);
}

void write_canary(unsigned gen)
{
    char path[PATH_MAX + 32];
    const char *tmp = write_file("canary.conf.new",
                                 "# generation %u\n"
                                 "pinsets = (\n"
                                 "  { name = \"canary-%u\"; hosts = [ \"localhost\" ];\n"
                                 "    pins = [ \"%s\", \"%s\" ]; report_only = true; }\n"
                                 ");\n",
                                 gen, gen, pin("PIN_GOOD"), pin("PIN_BACKUP"));
    mkdir(H.pinsets, 0755);
    snprintf(path, sizeof path, "%s/canary.conf", H.pinsets);
    ck_assert_msg(rename(tmp, path) == 0, "rename: %s", strerror(errno));
}

long share_of(int k, int n, int threads, int per_thread)
{
    long c = 0;
    for (int t = 0; t < threads; t++)
        for (int i = 0; i < per_thread; i++)
            c += (t + i) % n == k;
    return c;
}

struct target_counts counts_of(const char *out, const char *name)
{
    struct target_counts c = {-1, -1, -1, -1, -1};
    const char *l = strstr(out, fmt("target %s expect=", name));
    ck_assert_msg(l != NULL, "no counts for target %s in:\n%.6000s", name, out);
    l = strstr(l, "handshakes=");
    ck_assert_msg(l && sscanf(l, "handshakes=%ld ok=%ld blocked=%ld other=%ld resumed=%ld",
                              &c.handshakes, &c.ok, &c.blocked, &c.other, &c.resumed) >= 4,
                  "unreadable counts for %s in:\n%.6000s", name, out);
    return c;
}

int assert_records(size_t mark, pid_t pid, long blocked, long canary)
{
    size_t n;
    const struct syslog_rec *r = syslog_since(mark, &n);
    long n_blocked = 0, n_canary = 0, n_other = 0;
    char keys[1024], f[512], last_gen[512] = "";
    const char *other_example = NULL;
    int generations = 0;

    for (size_t i = 0; i < n; i++) {
        if (strncmp(r[i].msg, "tlspin:", 7) != 0)
            continue;
        ck_assert_msg(rec_keys(&r[i], keys, sizeof keys) == 0, "unparsable record: %s", r[i].msg);
        ck_assert_msg(rec_field(&r[i], "pid", f, sizeof f) == 0 && atol(f) == (long)pid,
                      "record of another process (expected pid %ld): %s", (long)pid, r[i].msg);
        if (strstr(r[i].msg, "event=pin-mismatch action=blocked ")) {
            ck_assert_field(&r[i], "host", "good.test");
            ck_assert_field(&r[i], "pinset", "api");
            ck_assert_field_has(&r[i], "chain", pin("PIN_ICPT"));
            ck_assert_field_has(&r[i], "expected", pin("PIN_GOOD"));
            n_blocked++;
        } else if (strstr(r[i].msg, "event=pin-mismatch action=allowed-report-only ")) {
            ck_assert_field(&r[i], "host", "localhost");
            ck_assert_int_eq(rec_field(&r[i], "pinset", f, sizeof f), 0);
            ck_assert_msg(strncmp(f, "canary-", 7) == 0, "%s", r[i].msg);
            if (strcmp(f, last_gen) != 0)
                generations++;
            snprintf(last_gen, sizeof last_gen, "%s", f);
            n_canary++;
        } else {
            n_other++;
            other_example = r[i].msg;
        }
    }
    ck_assert_msg(n_other == 0, "%ld unexpected records, e.g.: %s", n_other, other_example);
    ck_assert_msg(n_blocked == blocked, "%ld blocked records, expected %ld", n_blocked, blocked);
    ck_assert_msg(n_canary == canary, "%ld canary records, expected %ld", n_canary, canary);
    return generations;
}

const char *const *variant_env(const char *kind, const char *options, const char *missing)
{
    static char preload[2 * PATH_MAX + 32], config[PATH_MAX + 16], opts[1024];
    static const char *env[4];
    char *runtime = read_file(fmt("%s/%s/lib%s.path", TLSPIN_BUILD_DIR, kind, kind), NULL);

    ck_assert_msg(runtime != NULL, "%s", missing);
    runtime[strcspn(runtime, "\n")] = '\0';
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s:%s/%s/lib/tlspin/libtlspin.so", runtime,
             TLSPIN_BUILD_DIR, kind);
    free(runtime);
    snprintf(config, sizeof config, "TLSPIN_CONFIG=%s", H.config);
    snprintf(opts, sizeof opts, "%s", options);
    env[0] = preload;
    env[1] = config;
    env[2] = opts;
    env[3] = NULL;
    return env;
}

void assert_variant_ran(const char *out, const char *kind)
{
    char shim[PATH_MAX + 64], engine[PATH_MAX + 64], file[PATH_MAX + 64];

    snprintf(shim, sizeof shim, "mapped %s/%s/lib/tlspin/libtlspin.so", TLSPIN_BUILD_DIR, kind);
    snprintf(engine, sizeof engine, "mapped %s/%s/lib/tlspin/libtlspin-engine.so",
             TLSPIN_BUILD_DIR, kind);
    snprintf(file, sizeof file, "mapped %s/%s/lib/tlspin/modules/file.so", TLSPIN_BUILD_DIR,
             kind);
    ck_assert_msg(has_line(out, shim) && has_line(out, engine) && has_line(out, file) &&
                      !strstr(out, "mapped " TLSPIN_BUILD_DIR "/lib/"),
                  "not the %s build that ran:\n%.3000s", kind, out);
}
