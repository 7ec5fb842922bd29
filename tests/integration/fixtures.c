/*
 * fixtures.c — certificates (generated once per suite run by
 * tests/fixtures/mkcerts.sh), pins.env, and files written into the test's
 * temporary directory.
 */
#include "harness.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct kv {
    char *key, *val;
};
static struct kv *pins;
static size_t n_pins;

/* Enough slots that a test can build one argv from fmt()/cert() results
 * and run it; anything kept longer belongs in a buffer of its own. */
#define RING_SLOTS 64
static char *ring_next(void)
{
    static char ring[RING_SLOTS][8192];
    static unsigned i;
    return ring[i++ % RING_SLOTS];
}

const char *fmt(const char *f, ...)
{
    char *b = ring_next();
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, 8192, f, ap);
    va_end(ap);
    return b;
}

static int load_pins_env(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];

    if (!f) {
        fprintf(stderr, "harness: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *eq, *v, *e;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || !(eq = strchr(line, '=')))
            continue;
        *eq = '\0';
        v = eq + 1;
        /* KEY="value" or KEY='value' as a shell would write it */
        e = v + strlen(v);
        if (e - v >= 2 && (*v == '"' || *v == '\'') && e[-1] == *v) {
            e[-1] = '\0';
            v++;
        }
        pins = realloc(pins, (n_pins + 1) * sizeof *pins);
        pins[n_pins].key = strdup(line);
        pins[n_pins].val = strdup(v);
        n_pins++;
    }
    fclose(f);
    return n_pins ? 0 : -1;
}

int fixtures_make(const char *dir)
{
    char cmd[PATH_MAX * 2 + 64], env[PATH_MAX + 16];
    int st;

    mkdir(dir, 0700);
    snprintf(cmd, sizeof cmd, "bash '%s' '%s' >'%s/mkcerts.log' 2>&1", MKCERTS, dir, dir);
    st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "harness: %s failed (status %d); its output:\n", MKCERTS, st);
        snprintf(cmd, sizeof cmd, "cat '%s/mkcerts.log' >&2", dir);
        if (system(cmd) != 0) {
            /* nothing more to show */
        }
        return -1;
    }
    snprintf(env, sizeof env, "%s/pins.env", dir);
    return load_pins_env(env);
}

const char *pin_opt(const char *key)
{
    for (size_t i = 0; i < n_pins; i++)
        if (strcmp(pins[i].key, key) == 0)
            return pins[i].val;
    return NULL;
}

const char *pin(const char *key)
{
    const char *v = pin_opt(key);
    ck_assert_msg(v != NULL, "pins.env has no %s", key);
    return v;
}

const char *cert(const char *name)
{
    return fmt("%s/%s", H.certs, name);
}

static void mkparents(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
}

static void vwrite(const char *path, const char *f, va_list ap)
{
    FILE *fp;

    mkparents(path);
    fp = fopen(path, "w");
    ck_assert_msg(fp != NULL, "cannot write %s: %s", path, strerror(errno));
    vfprintf(fp, f, ap);
    ck_assert_msg(fclose(fp) == 0, "cannot write %s", path);
}

const char *write_file(const char *rel, const char *f, ...)
{
    char *path = ring_next();
    va_list ap;

    snprintf(path, 8192, "%s/%s", H.tmp, rel);
    va_start(ap, f);
    vwrite(path, f, ap);
    va_end(ap);
    return path;
}

void write_policy(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vwrite(H.config, f, ap);
    va_end(ap);
}

void write_file_policy(const char *extra)
{
    write_policy("version = 1;\n"
                 "mode = \"enforce\";\n"
                 "unpinned = \"allow\";\n"
                 "on_error = \"deny\";\n"
                 "%s\n"
                 "stack = (\n"
                 "  { module = \"file\"; control = \"required\"; args = { pinsets = \"%s\"; }; }\n"
                 ");\n",
                 extra && *extra ? extra
                                 : "log = { facility = \"authpriv\"; level = \"warning\"; "
                                   "rate_limit_seconds = 0; };",
                 H.pinsets);
    mkdir(H.pinsets, 0755);
}

void write_pinsets(const char *name, const char *f, ...)
{
    char path[PATH_MAX];
    va_list ap;

    ck_assert_msg((size_t)snprintf(path, sizeof path, "%.2048s/%.1024s.conf", H.pinsets, name) <
                      sizeof path,
                  "path too long");
    va_start(ap, f);
    vwrite(path, f, ap);
    va_end(ap);
}

void write_good_pinset(void)
{
    write_pinsets("api",
                  "pinsets = (\n"
                  "  { name = \"api\"; hosts = [ \"good.test\" ];\n"
                  "    pins = [ \"%s\", \"%s\" ]; }\n"
                  ");\n",
                  pin("PIN_GOOD"), pin("PIN_BACKUP"));
}

char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap + 1);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}
