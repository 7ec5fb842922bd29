/*
 * test_config.c — config_load(): reading tlspin.conf into plain data.
 *
 * Every policy is written into a fresh mkdtemp directory at test time. Every
 * refusal is checked for its exact "<file>:<line>: <reason>" text: the line
 * is found in the fixture text itself (line_of), so the tables below say
 * which construct an error must point at, not a number that rots.
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "engine/config.h"

#define MODULEDIR "/usr/lib/tlspin/modules"

static char tmpdir[256];

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
    ck_assert((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/tlspin-config-XXXXXX", base) <
              sizeof(tmpdir));
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void remove_tmpdir(void)
{
    if (tmpdir[0])
        nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
}

/* Writes len bytes of text to <tmpdir>/<name>; the path goes to path. */
static void write_fixture(const char *name, const char *text, size_t len, char *path, size_t plen)
{
    FILE *f;
    ck_assert((size_t)snprintf(path, plen, "%s/%s", tmpdir, name) < plen);
    f = fopen(path, "w");
    ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* 1-based line of the first occurrence of needle in text. */
static unsigned line_of(const char *text, const char *needle)
{
    const char *at = strstr(text, needle);
    unsigned line = 1;
    ck_assert_msg(at != NULL, "fixture has no \"%s\"", needle);
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    return line;
}

/* Replaces every "@P" in msg by path. */
static void expand(char *out, size_t outlen, const char *msg, const char *path)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = msg; *p && used + 1 < outlen; p++) {
        if (p[0] == '@' && p[1] == 'P') {
            used += (size_t)snprintf(out + used, outlen - used, "%s", path);
            p++;
        } else {
            out[used++] = *p;
            out[used] = '\0';
        }
    }
}

static struct policy_config *load_ok(const char *text, char *path, size_t plen)
{
    struct policy_config *c = NULL;
    char err[1024] = "";
    write_fixture("tlspin.conf", text, strlen(text), path, plen);
    int rc = config_load(path, MODULEDIR, &c, err, sizeof(err));
    ck_assert_msg(rc == 0, "config_load refused a good policy: %s", err);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Loads text and checks the refusal is exactly "<path>:<line of at>: msg"
 * (line 0 when at is NULL). */
static void expect_refusal(const char *what, const char *text, const char *at, const char *msg)
{
    struct policy_config *c = (struct policy_config *)1;
    char path[1024], err[1024] = "", want[4096], reason[1024];

    write_fixture("tlspin.conf", text, strlen(text), path, sizeof(path));
    int rc = config_load(path, MODULEDIR, &c, err, sizeof(err));
    ck_assert_msg(rc == -1, "[%s] config_load accepted:\n%s", what, text);
    ck_assert_msg(c == NULL, "[%s] *out not NULL after a refusal", what);
    expand(reason, sizeof(reason), msg, path);
    snprintf(want, sizeof(want), "%s:%u: %s", path, at ? line_of(text, at) : 0u, reason);
    ck_assert_msg(strcmp(err, want) == 0, "[%s]\n  got:      %s\n  expected: %s", what, err,
                  want);
}

static void setup(void)
{
    make_tmpdir();
}

static void teardown(void)
{
    remove_tmpdir();
}

/* ---------------------------------------------------------------------- */
/* The example policy: every key, every kind of module argument            */
/* ---------------------------------------------------------------------- */

static const char example_policy[] =
    "# tlspin policy: every key there is.\n"
    "version = 1;\n"
    "mode = \"report\";        # enforce | report\n"
    "unpinned = \"deny\";      # allow | deny\n"
    "on_error = \"allow\";     # deny | allow\n"
    "log = {\n"
    "  facility = \"local3\";\n"
    "  level = \"notice\";\n"
    "  rate_limit_seconds = 300;\n"
    "};\n"
    "stack = (\n"
    "  {\n"
    "    module = \"file\";\n"
    "    control = \"requisite\";\n"
    "    args = {\n"
    "      pinsets = \"/etc/tlspin/pins.d\";\n"
    "      max_age = 86400;\n"
    "      hex = 0x1F;\n"
    "      big = 5000000000L;\n"
    "      negative = -3;\n"
    "      strict = true;\n"
    "      lax = false;\n"
    "      ratio = 1.5;\n"
    "      hosts = [ \"a.example\", \"b.example\" ];\n"
    "      mixed = ( \"x\", 7, false );\n"
    "      none = ( );\n"
    "      quoted = \"a \\\"b\\\" \\\\ c\";\n"
    "    };\n"
    "  },\n"
    "  { module = \"/opt/tlspin/ct.so\"; control = \"optional\"; },\n"
    "  { module = \"my-mod_2\"; control = \"sufficient\"; args = { }; },\n"
    "  { control = \"required\"; module = \"file\"; }\n"
    ");\n";

struct want_arg {
    const char *key;
    const char *line_at;      /* the fixture text on the argument's line */
    size_t n;
    const char *values[3];
};

static void check_arg(const char *text, const char *path, const struct tlspin_arg *a,
                      const struct want_arg *w)
{
    ck_assert_str_eq(a->key, w->key);
    ck_assert_msg(a->n_values == w->n, "arg %s: %zu values, expected %zu", w->key, a->n_values,
                  w->n);
    for (size_t i = 0; i < w->n; i++)
        ck_assert_msg(strcmp(a->values[i], w->values[i]) == 0,
                      "arg %s value %zu: \"%s\", expected \"%s\"", w->key, i, a->values[i],
                      w->values[i]);
    ck_assert_str_eq(a->file, path);
    ck_assert_uint_eq(a->line, line_of(text, w->line_at));
}

START_TEST(example_loads)
{
    static const struct want_arg args[] = {
        { "pinsets", "pinsets =", 1, { "/etc/tlspin/pins.d" } },
        { "max_age", "max_age =", 1, { "86400" } },
        { "hex", "hex =", 1, { "31" } },
        { "big", "big =", 1, { "5000000000" } },
        { "negative", "negative =", 1, { "-3" } },
        { "strict", "strict =", 1, { "true" } },
        { "lax", "lax =", 1, { "false" } },
        { "ratio", "ratio =", 1, { "1.5" } },
        { "hosts", "hosts =", 2, { "a.example", "b.example" } },
        { "mixed", "mixed =", 3, { "x", "7", "false" } },
        { "none", "none =", 0, { NULL } },
        { "quoted", "quoted =", 1, { "a \"b\" \\ c" } },
    };
    char path[1024];
    struct policy_config *c = load_ok(example_policy, path, sizeof(path));

    ck_assert_str_eq(c->path, path);
    ck_assert_int_eq(c->mode, MODE_REPORT);
    ck_assert_int_eq(c->unpinned_deny, 1);
    ck_assert_int_eq(c->on_error_allow, 1);
    ck_assert_int_eq(c->facility, LOG_LOCAL3);
    ck_assert_int_eq(c->level, LOG_NOTICE);
    ck_assert_uint_eq(c->rate_limit_seconds, 300);
    ck_assert_uint_eq(c->n_stack, 4);

    const struct stack_entry_config *e = c->stack;
    ck_assert_str_eq(e[0].module, "file");
    ck_assert_str_eq(e[0].path, MODULEDIR "/file.so");
    ck_assert_int_eq(e[0].control, CONTROL_REQUISITE);
    ck_assert_str_eq(e[0].file, path);
    ck_assert_uint_eq(e[0].line, line_of(example_policy, "  {\n    module"));
    ck_assert_uint_eq(e[0].n_args, sizeof(args) / sizeof(args[0]));
    for (size_t i = 0; i < e[0].n_args; i++)
        check_arg(example_policy, path, &e[0].args[i], &args[i]);

    ck_assert_str_eq(e[1].module, "/opt/tlspin/ct.so");
    ck_assert_str_eq(e[1].path, "/opt/tlspin/ct.so");   /* absolute: kept */
    ck_assert_int_eq(e[1].control, CONTROL_OPTIONAL);
    ck_assert_uint_eq(e[1].line, line_of(example_policy, "{ module = \"/opt"));
    ck_assert_uint_eq(e[1].n_args, 0);

    ck_assert_str_eq(e[2].module, "my-mod_2");
    ck_assert_str_eq(e[2].path, MODULEDIR "/my-mod_2.so");
    ck_assert_int_eq(e[2].control, CONTROL_SUFFICIENT);
    ck_assert_uint_eq(e[2].n_args, 0);

    ck_assert_str_eq(e[3].module, "file");
    ck_assert_str_eq(e[3].path, MODULEDIR "/file.so");
    ck_assert_int_eq(e[3].control, CONTROL_REQUIRED);
    ck_assert_uint_eq(e[3].line, line_of(example_policy, "{ control = \"required\""));
    ck_assert_str_eq(e[3].file, path);

    config_free(c);
}
END_TEST

/* The shipped default policy (etc/tlspin.conf.in, configured into the build
 * tree with the sysconfdir) loads as its comments say. */
START_TEST(shipped_policy_loads)
{
    char path[1024], err[1024] = "", *text;
    struct policy_config *c = NULL;
    FILE *f;
    long size;

    char pinsets[1024];
    const char *slash = strrchr(TLSPIN_DEFAULT_CONFIG, '/');
    ck_assert_ptr_nonnull(slash);
    snprintf(pinsets, sizeof(pinsets), "%.*s/pins.d", (int)(slash - TLSPIN_DEFAULT_CONFIG),
             TLSPIN_DEFAULT_CONFIG);
    snprintf(path, sizeof(path), "%s/etc/tlspin.conf", TLSPIN_BUILD_DIR);
    ck_assert_msg(config_load(path, MODULEDIR, &c, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(c->mode, MODE_ENFORCE);
    ck_assert_int_eq(c->unpinned_deny, 0);
    ck_assert_int_eq(c->on_error_allow, 0);
    ck_assert_int_eq(c->facility, LOG_AUTHPRIV);
    ck_assert_int_eq(c->level, LOG_WARNING);
    ck_assert_uint_eq(c->rate_limit_seconds, POLICY_DEFAULT_RATE_LIMIT);
    ck_assert_uint_eq(c->n_stack, 1);
    ck_assert_str_eq(c->stack[0].module, "file");
    ck_assert_str_eq(c->stack[0].path, MODULEDIR "/file.so");
    ck_assert_int_eq(c->stack[0].control, CONTROL_REQUIRED);
    ck_assert_uint_eq(c->stack[0].n_args, 1);
    ck_assert_str_eq(c->stack[0].args[0].key, "pinsets");
    ck_assert_uint_eq(c->stack[0].args[0].n_values, 1);
    ck_assert_str_eq(c->stack[0].args[0].values[0], pinsets);

    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)size + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    ck_assert_uint_eq(c->stack[0].args[0].line, line_of(text, "pinsets ="));
    ck_assert_uint_eq(c->stack[0].line, line_of(text, "{ module = \"file\""));
    free(text);
    config_free(c);
}
END_TEST

START_TEST(defaults_when_optional_keys_are_missing)
{
    char path[1024];
    struct policy_config *c = load_ok("version = 1;\nstack = ( );\n", path, sizeof(path));

    ck_assert_int_eq(c->mode, MODE_ENFORCE);
    ck_assert_int_eq(c->unpinned_deny, 0);
    ck_assert_int_eq(c->on_error_allow, 0);
    ck_assert_int_eq(c->facility, POLICY_DEFAULT_FACILITY);
    ck_assert_int_eq(c->facility, LOG_AUTHPRIV);
    ck_assert_int_eq(c->level, POLICY_DEFAULT_LEVEL);
    ck_assert_int_eq(c->level, LOG_WARNING);
    ck_assert_uint_eq(c->rate_limit_seconds, POLICY_DEFAULT_RATE_LIMIT);
    ck_assert_uint_eq(c->rate_limit_seconds, 60);
    ck_assert_uint_eq(c->n_stack, 0);
    config_free(c);

    /* A log group with one key keeps the defaults of the others. */
    c = load_ok("version = 1;\nlog = { level = \"err\"; };\n"
                "stack = ( { module = \"file\"; control = \"optional\"; } );\n",
                path, sizeof(path));
    ck_assert_int_eq(c->facility, LOG_AUTHPRIV);
    ck_assert_int_eq(c->level, LOG_ERR);
    ck_assert_uint_eq(c->rate_limit_seconds, 60);
    ck_assert_uint_eq(c->n_stack, 1);
    ck_assert_uint_eq(c->stack[0].n_args, 0);
    ck_assert_ptr_null(c->stack[0].args);
    config_free(c);

    c = load_ok("version = 1;\nlog = { };\nstack = ( );\n", path, sizeof(path));
    ck_assert_int_eq(c->facility, LOG_AUTHPRIV);
    ck_assert_int_eq(c->level, LOG_WARNING);
    ck_assert_uint_eq(c->rate_limit_seconds, 60);
    config_free(c);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Every accepted word maps to its value                                    */
/* ---------------------------------------------------------------------- */

static const struct {
    const char *key;      /* a top-level key, a key of log, or "control" */
    const char *word;
    int value;
} word_rows[] = {
    { "facility", "auth", LOG_AUTH }, { "facility", "authpriv", LOG_AUTHPRIV },
    { "facility", "daemon", LOG_DAEMON }, { "facility", "user", LOG_USER },
    { "facility", "syslog", LOG_SYSLOG }, { "facility", "local0", LOG_LOCAL0 },
    { "facility", "local1", LOG_LOCAL1 }, { "facility", "local2", LOG_LOCAL2 },
    { "facility", "local3", LOG_LOCAL3 }, { "facility", "local4", LOG_LOCAL4 },
    { "facility", "local5", LOG_LOCAL5 }, { "facility", "local6", LOG_LOCAL6 },
    { "facility", "local7", LOG_LOCAL7 },
    { "level", "emerg", LOG_EMERG }, { "level", "alert", LOG_ALERT },
    { "level", "crit", LOG_CRIT }, { "level", "err", LOG_ERR },
    { "level", "warning", LOG_WARNING }, { "level", "notice", LOG_NOTICE },
    { "level", "info", LOG_INFO }, { "level", "debug", LOG_DEBUG },
    { "rate_limit_seconds", "0", 0 }, { "rate_limit_seconds", "1", 1 },
    { "rate_limit_seconds", "86400", 86400 },
    { "mode", "enforce", MODE_ENFORCE }, { "mode", "report", MODE_REPORT },
    { "unpinned", "allow", 0 }, { "unpinned", "deny", 1 },
    { "on_error", "deny", 0 }, { "on_error", "allow", 1 },
    { "control", "required", CONTROL_REQUIRED }, { "control", "requisite", CONTROL_REQUISITE },
    { "control", "sufficient", CONTROL_SUFFICIENT }, { "control", "optional", CONTROL_OPTIONAL },
};
#define N_WORDS (int)(sizeof(word_rows) / sizeof(word_rows[0]))

START_TEST(every_word)
{
    const char *key = word_rows[_i].key, *word = word_rows[_i].word;
    char text[512], path[PATH_MAX], top[128] = "", log[128] = "";
    const char *control = "required";
    int got;

    if (strcmp(key, "rate_limit_seconds") == 0)
        snprintf(log, sizeof(log), "log = { %s = %s; };\n", key, word);
    else if (strcmp(key, "facility") == 0 || strcmp(key, "level") == 0)
        snprintf(log, sizeof(log), "log = { %s = \"%s\"; };\n", key, word);
    else if (strcmp(key, "control") == 0)
        control = word;
    else
        snprintf(top, sizeof(top), "%s = \"%s\";\n", key, word);
    snprintf(text, sizeof(text),
             "version = 1;\n%s%sstack = ( { module = \"file\"; control = \"%s\"; } );\n", top,
             log, control);
    struct policy_config *c = load_ok(text, path, sizeof(path));
    if (strcmp(key, "facility") == 0) got = c->facility;
    else if (strcmp(key, "level") == 0) got = c->level;
    else if (strcmp(key, "rate_limit_seconds") == 0) got = (int)c->rate_limit_seconds;
    else if (strcmp(key, "mode") == 0) got = (int)c->mode;
    else if (strcmp(key, "unpinned") == 0) got = c->unpinned_deny;
    else if (strcmp(key, "on_error") == 0) got = c->on_error_allow;
    else got = (int)c->stack[0].control;
    ck_assert_msg(got == word_rows[_i].value, "%s = %s gave %d, expected %d", key, word, got,
                  word_rows[_i].value);
    config_free(c);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Module names                                                             */
/* ---------------------------------------------------------------------- */

static const struct {
    const char *module;
    const char *path;         /* NULL: refused as not a bare name */
} module_rows[] = {
    { "file", MODULEDIR "/file.so" },
    { "a-b_c9", MODULEDIR "/a-b_c9.so" },
    { "0", MODULEDIR "/0.so" },
    { "/opt/x/ct.so", "/opt/x/ct.so" },
    { "/x", "/x" },
    { "../x", NULL },
    { "a/b", NULL },
    { "./file", NULL },
    { "file.so", NULL },
    { "File", NULL },
    { "fi le", NULL },
    { "file\\x", NULL },
    { "caf\xc3\xa9", NULL },
    { "~/x", NULL },
};
#define N_MODULES (int)(sizeof(module_rows) / sizeof(module_rows[0]))

START_TEST(module_names)
{
    char text[512], path[PATH_MAX];
    snprintf(text, sizeof(text),
             "version = 1;\nstack = (\n  { control = \"required\";\n    module = \"%s\"; }\n);\n",
             module_rows[_i].module);
    if (module_rows[_i].path) {
        struct policy_config *c = load_ok(text, path, sizeof(path));
        ck_assert_str_eq(c->stack[0].module, module_rows[_i].module);
        ck_assert_str_eq(c->stack[0].path, module_rows[_i].path);
        config_free(c);
    } else {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "module \"%s\" must be a bare name ([a-z0-9_-]) or an absolute path",
                 module_rows[_i].module);
        expect_refusal(module_rows[_i].module, text, "module =", msg);
    }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Refusals                                                                 */
/* ---------------------------------------------------------------------- */

#define V1 "version = 1;\n"
#define STACK_OK "stack = ( { module = \"file\"; control = \"required\"; } );\n"

static const struct {
    const char *name;
    const char *text;
    const char *at;       /* text on the line the error names; NULL: line 0 */
    const char *msg;      /* the reason; "@P" is the policy's path */
} bad_rows[] = {
    /* libconfig syntax */
    { "syntax error", V1 "mode = \"enforce\";\nstack = ( { module = ; } );\n",
      "stack", "syntax error" },
    { "syntax error, unterminated string", V1 "mode = \"enforce;\n" STACK_OK,
      "stack", "syntax error" },
    { "syntax error, missing closing paren",
      V1 "stack = ( { module = \"file\"; control = \"required\"; }\n; # end\n", "; # end",
      "syntax error" },
    { "duplicate key", V1 "mode = \"enforce\";\nmode = \"report\";\n" STACK_OK,
      "mode = \"report\"", "duplicate setting name" },

    /* top level */
    { "unknown top-level key", V1 "modes = \"enforce\";\n" STACK_OK, "modes",
      "unknown key \"modes\" in @P" },
    { "version missing", "mode = \"enforce\";\n" STACK_OK, NULL,
      "missing \"version = 1;\"" },
    { "empty file", "", NULL, "missing \"version = 1;\"" },
    { "version 2", "version = 2;\n" STACK_OK, "version",
      "unsupported version (this tlspin reads version = 1)" },
    { "version 0", "version = 0;\n" STACK_OK, "version",
      "unsupported version (this tlspin reads version = 1)" },
    { "version as a string", "version = \"1\";\n" STACK_OK, "version",
      "unsupported version (this tlspin reads version = 1)" },
    { "version as a float", "version = 1.0;\n" STACK_OK, "version",
      "unsupported version (this tlspin reads version = 1)" },
    { "mode not in its set", V1 "mode = \"block\";\n" STACK_OK, "mode",
      "\"mode\" must be one of enforce, report, not \"block\"" },
    { "mode in capitals", V1 "mode = \"Enforce\";\n" STACK_OK, "mode",
      "\"mode\" must be one of enforce, report, not \"Enforce\"" },
    { "mode not a string", V1 "mode = 1;\n" STACK_OK, "mode",
      "\"mode\" must be a string, not an integer" },
    { "unpinned not in its set", V1 "unpinned = \"yes\";\n" STACK_OK, "unpinned",
      "\"unpinned\" must be one of allow, deny, not \"yes\"" },
    { "unpinned as a boolean", V1 "unpinned = true;\n" STACK_OK, "unpinned",
      "\"unpinned\" must be a string, not a boolean" },
    { "on_error not in its set", V1 "on_error = \"ignore\";\n" STACK_OK, "on_error",
      "\"on_error\" must be one of deny, allow, not \"ignore\"" },

    /* log */
    { "log not a group", V1 "log = \"syslog\";\n" STACK_OK, "log",
      "\"log\" must be a group { ... }" },
    { "unknown key in log", V1 "log = {\n  facility = \"auth\";\n  rate = 5;\n};\n" STACK_OK,
      "rate", "unknown key \"rate\" in log" },
    { "unknown facility", V1 "log = {\n  facility = \"kern\";\n};\n" STACK_OK, "kern",
      "unknown log facility \"kern\" (auth, authpriv, daemon, user, syslog, local0..local7)" },
    { "facility not a string", V1 "log = { facility = 4; };\n" STACK_OK, "log",
      "\"facility\" must be a string, not an integer" },
    { "unknown level", V1 "log = {\n  level = \"warn\";\n};\n" STACK_OK, "warn",
      "\"level\" must be one of emerg, alert, crit, err, warning, notice, info, debug, "
      "not \"warn\"" },
    { "rate_limit_seconds negative", V1 "log = {\n  rate_limit_seconds = -1;\n};\n" STACK_OK,
      "rate_limit", "\"rate_limit_seconds\" must be an integer from 0 to 86400" },
    { "rate_limit_seconds above a day", V1 "log = {\n  rate_limit_seconds = 86401;\n};\n"
      STACK_OK, "rate_limit", "\"rate_limit_seconds\" must be an integer from 0 to 86400" },
    { "rate_limit_seconds 64-bit", V1 "log = {\n  rate_limit_seconds = 60L;\n};\n" STACK_OK,
      "rate_limit", "\"rate_limit_seconds\" must be an integer from 0 to 86400" },
    { "rate_limit_seconds huge", V1 "log = {\n  rate_limit_seconds = 4294967356L;\n};\n"
      STACK_OK, "rate_limit", "\"rate_limit_seconds\" must be an integer from 0 to 86400" },
    { "rate_limit_seconds a string", V1 "log = {\n  rate_limit_seconds = \"60\";\n};\n"
      STACK_OK, "rate_limit", "\"rate_limit_seconds\" must be an integer from 0 to 86400" },
    { "rate_limit_seconds a float", V1 "log = {\n  rate_limit_seconds = 1.5;\n};\n" STACK_OK,
      "rate_limit", "\"rate_limit_seconds\" must be an integer from 0 to 86400" },

    /* stack */
    { "stack missing", V1 "mode = \"enforce\";\n", NULL,
      "no \"stack\": say which modules decide, e.g. stack = ( { module = \"file\"; "
      "control = \"required\"; ... } );" },
    { "stack a group", V1 "stack = { module = \"file\"; control = \"required\"; };\n", "stack",
      "\"stack\" must be a list ( { ... }, ... )" },
    { "stack an array", V1 "stack = [ \"file\" ];\n", "stack",
      "\"stack\" must be a list ( { ... }, ... )" },
    { "stack a string", V1 "stack = \"file\";\n", "stack",
      "\"stack\" must be a list ( { ... }, ... )" },
    /* libconfig dates a scalar list element by its look-ahead token: keep the
     * closing parenthesis on the element's line so the line is unambiguous. */
    { "entry not a group", V1 "stack = (\n  \"file\" );\n", "\"file\"",
      "each stack entry must be a group { module = ...; control = ...; }" },
    { "entry a list", V1 "stack = (\n  ( \"file\", \"required\" )\n);\n", "( \"file\"",
      "each stack entry must be a group { module = ...; control = ...; }" },
    { "unknown key in a stack entry",
      V1 "stack = (\n  { module = \"file\";\n    control = \"required\";\n    arg = { };\n  }\n);\n",
      "arg =", "unknown key \"arg\" in a stack entry" },
    { "unknown control",
      V1 "stack = (\n  { module = \"file\";\n    control = \"mandatory\"; }\n);\n", "control",
      "\"control\" must be one of required, requisite, sufficient, optional, not \"mandatory\"" },
    { "control not a string",
      V1 "stack = (\n  { module = \"file\";\n    control = 1; }\n);\n", "control",
      "\"control\" must be a string, not an integer" },
    { "missing control", V1 "stack = (\n  { module = \"file\"; }\n);\n", "{ module",
      "stack entry for module \"file\" has no \"control\"" },
    { "missing module", V1 "stack = (\n  { control = \"required\"; }\n);\n", "{ control",
      "stack entry has no \"module\": name a module (e.g. \"file\") or give an absolute path to one" },
    { "module not a string", V1 "stack = (\n  { control = \"required\";\n    module = 3; }\n);\n",
      "module", "\"module\" must be a string, not an integer" },
    { "module empty", V1 "stack = (\n  { control = \"required\";\n    module = \"\"; }\n);\n",
      "module", "empty module name" },
    { "second entry is the bad one",
      V1 "stack = (\n  { module = \"file\"; control = \"required\"; },\n"
         "  { module = \"ct\"; control = \"sometimes\"; }\n);\n",
      "\"sometimes\"",
      "\"control\" must be one of required, requisite, sufficient, optional, not \"sometimes\"" },
    { "args not a group",
      V1 "stack = (\n  { module = \"file\"; control = \"required\";\n    args = ( \"a\" ); }\n);\n",
      "args", "\"args\" must be a group { key = value; ... }" },
    { "args a string",
      V1 "stack = (\n  { module = \"file\"; control = \"required\";\n    args = \"x\"; }\n);\n",
      "args", "\"args\" must be a group { key = value; ... }" },
    { "nested group inside args",
      V1 "stack = (\n  { module = \"file\"; control = \"required\";\n    args = {\n"
         "      ok = 1;\n      sub = { a = 1; };\n    };\n  }\n);\n",
      "sub =", "module argument \"sub\" must be a value or a list of values, not a group" },
    { "group inside an argument list",
      V1 "stack = (\n  { module = \"file\"; control = \"required\";\n    args = {\n"
         "      hosts = ( \"a\",\n        { b = 1; } );\n    };\n  }\n);\n",
      "{ b", "module argument \"hosts\" may hold only strings, numbers and booleans" },
    { "list inside an argument list",
      V1 "stack = (\n  { module = \"file\"; control = \"required\";\n    args = {\n"
         "      hosts = ( \"a\", ( \"b\" ) );\n    };\n  }\n);\n",
      "hosts", "module argument \"hosts\" may hold only strings, numbers and booleans" },
};
#define N_BAD (int)(sizeof(bad_rows) / sizeof(bad_rows[0]))

START_TEST(refusals)
{
    expect_refusal(bad_rows[_i].name, bad_rows[_i].text, bad_rows[_i].at, bad_rows[_i].msg);
}
END_TEST

/* Size limits: the last accepted size and the first refused one. */
static char *repeat_text(const char *head, const char *item, size_t n, const char *tail)
{
    size_t len = strlen(head) + n * strlen(item) + strlen(tail) + 1;
    char *s = malloc(len);
    ck_assert_ptr_nonnull(s);
    strcpy(s, head);
    for (size_t i = 0; i < n; i++)
        strcat(s, item);
    strcat(s, tail);
    return s;
}

START_TEST(limits)
{
    char path[1024];
    char *t;
    struct policy_config *c;

    t = repeat_text(V1 "stack = (\n", "  { module = \"file\"; control = \"optional\"; },\n", 32,
                    "  { module = \"ct\"; control = \"optional\"; }\n);\n");
    expect_refusal("33 entries", t, "stack", "more than 32 stack entries");
    free(t);
    t = repeat_text(V1 "stack = (\n", "  { module = \"file\"; control = \"optional\"; },\n", 31,
                    "  { module = \"ct\"; control = \"optional\"; }\n);\n");
    c = load_ok(t, path, sizeof(path));
    ck_assert_uint_eq(c->n_stack, 32);
    config_free(c);
    free(t);

    /* 64 arguments a0..a63 are fine, 65 are not. */
    char args[4096] = "";
    for (int i = 0; i < 65; i++) {
        char one[32];
        snprintf(one, sizeof(one), " a%d = %d;", i, i);
        strcat(args, one);
        if (i == 63) {
            char text[8192];
            snprintf(text, sizeof(text),
                     V1 "stack = ( { module = \"file\"; control = \"required\";\n"
                        "  args = {%s };\n} );\n", args);
            c = load_ok(text, path, sizeof(path));
            ck_assert_uint_eq(c->stack[0].n_args, 64);
            ck_assert_str_eq(c->stack[0].args[63].key, "a63");
            ck_assert_str_eq(c->stack[0].args[63].values[0], "63");
            config_free(c);
        }
    }
    char text[8192];
    snprintf(text, sizeof(text),
             V1 "stack = ( { module = \"file\"; control = \"required\";\n  args = {%s };\n} );\n",
             args);
    expect_refusal("65 args", text, "args", "more than 64 module arguments");

    t = repeat_text(V1 "stack = ( { module = \"file\"; control = \"required\";\n"
                       "  args = { many = ( 0", ", 1", 4095, " ); };\n} );\n");
    c = load_ok(t, path, sizeof(path));
    ck_assert_uint_eq(c->stack[0].args[0].n_values, 4096);
    config_free(c);
    free(t);
    t = repeat_text(V1 "stack = ( { module = \"file\"; control = \"required\";\n"
                       "  args = { many = ( 0", ", 1", 4096, " ); };\n} );\n");
    expect_refusal("4097 values", t, "many", "module argument \"many\" has more than 4096 values");
    free(t);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Unreadable policy files                                                 */
/* ---------------------------------------------------------------------- */

static void expect_unreadable(const char *path, int errnum)
{
    struct policy_config *c = (struct policy_config *)1;
    char err[1024] = "", want[4096];
    int rc = config_load(path, MODULEDIR, &c, err, sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(c);
    snprintf(want, sizeof(want), "%s:0: cannot read the policy file: %s", path, strerror(errnum));
    ck_assert_msg(strcmp(err, want) == 0, "\n  got:      %s\n  expected: %s", err, want);
}

START_TEST(unreadable_missing)
{
    char path[1024];
    ck_assert((size_t)snprintf(path, sizeof(path), "%s/no-such.conf", tmpdir) < sizeof(path));
    expect_unreadable(path, ENOENT);
}
END_TEST

START_TEST(unreadable_not_a_directory)
{
    char path[2048], file[1024];
    write_fixture("plain", "x", 1, file, sizeof(file));
    ck_assert((size_t)snprintf(path, sizeof(path), "%s/tlspin.conf", file) < sizeof(path));
    expect_unreadable(path, ENOTDIR);
}
END_TEST

START_TEST(unreadable_permission)
{
    char path[1024];
    write_fixture("tlspin.conf", V1 STACK_OK, strlen(V1 STACK_OK), path, sizeof(path));
    ck_assert_int_eq(chmod(path, 0), 0);
    /* root reads anything: become nobody for the call (effective ids only). */
    if (geteuid() == 0) {
        ck_assert_int_eq(chmod(tmpdir, 0755), 0);
        ck_assert_int_eq(setegid(65534), 0);
        ck_assert_int_eq(seteuid(65534), 0);
    }
    struct policy_config *c = (struct policy_config *)1;
    char err[1024] = "", want[4096];
    int rc = config_load(path, MODULEDIR, &c, err, sizeof(err));
    int euid = (int)geteuid();
    if (getuid() == 0) {
        ck_assert_int_eq(seteuid(0), 0);
        ck_assert_int_eq(setegid(0), 0);
    }
    ck_assert_msg(euid != 0, "still root");
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(c);
    snprintf(want, sizeof(want), "%s:0: cannot read the policy file: %s", path, strerror(EACCES));
    ck_assert_msg(strcmp(err, want) == 0, "\n  got:      %s\n  expected: %s", err, want);
}
END_TEST

/* Not a regular file: refused at once with a reason that says so, never a
 * stale errno ("Success") and never a hang (a FIFO nobody writes to). */
static void expect_not_a_file(const char *path)
{
    struct policy_config *c = (struct policy_config *)1;
    char err[1024] = "", prefix[1100];
    int rc = config_load(path, MODULEDIR, &c, err, sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(c);
    snprintf(prefix, sizeof(prefix), "%s:0: ", path);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "no \"%s\": %s", prefix, err);
    ck_assert_msg(strstr(err, "not a regular file") != NULL || strstr(err, strerror(EISDIR)) != NULL,
                  "the reason does not say what is wrong: %s", err);
}

START_TEST(unreadable_directory)
{
    expect_not_a_file(tmpdir);
}
END_TEST

START_TEST(unreadable_fifo)
{
    char path[1024];
    ck_assert((size_t)snprintf(path, sizeof(path), "%s/fifo.conf", tmpdir) < sizeof(path));
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    expect_not_a_file(path);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Truncated policies: never a crash, always an answer naming the file     */
/* ---------------------------------------------------------------------- */

static void load_truncated(const char *text, size_t cut)
{
    char path[1024], err[1024];
    struct policy_config *c = NULL;
    size_t plen;

    write_fixture("cut.conf", text, cut, path, sizeof(path));
    memset(err, 'x', sizeof(err));
    err[sizeof(err) - 1] = '\0';
    if (config_load(path, MODULEDIR, &c, err, sizeof(err)) == 0) {
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(c->path, path);
        for (size_t i = 0; i < c->n_stack; i++)
            ck_assert_ptr_nonnull(c->stack[i].path);
        config_free(c);
        return;
    }
    ck_assert_ptr_null(c);
    plen = strlen(path);
    ck_assert_msg(strncmp(err, path, plen) == 0 && err[plen] == ':',
                  "cut at %zu: error does not start with the path: %s", cut, err);
    /* then a line number and a reason */
    char *end;
    strtoul(err + plen + 1, &end, 10);
    ck_assert_msg(end > err + plen + 1 && end[0] == ':' && end[1] == ' ' && end[2] != '\0',
                  "cut at %zu: no \"<line>: <reason>\": %s", cut, err);
}

START_TEST(truncated_example)
{
    load_truncated(example_policy, (size_t)_i);
}
END_TEST

START_TEST(truncated_shipped_policy)
{
    char path[1024];
    FILE *f;
    char text[8192];
    size_t n;

    snprintf(path, sizeof(path), "%s/etc/tlspin.conf", TLSPIN_BUILD_DIR);
    f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    n = fread(text, 1, sizeof(text), f);
    fclose(f);
    for (size_t cut = 0; cut <= n; cut++)
        load_truncated(text, cut);
}
END_TEST

START_TEST(control_names)
{
    ck_assert_str_eq(control_name(CONTROL_REQUIRED), "required");
    ck_assert_str_eq(control_name(CONTROL_REQUISITE), "requisite");
    ck_assert_str_eq(control_name(CONTROL_SUFFICIENT), "sufficient");
    ck_assert_str_eq(control_name(CONTROL_OPTIONAL), "optional");
    ck_assert_str_eq(control_name((enum control_flag)4), "?");
    config_free(NULL);   /* a no-op */
}
END_TEST

/* @include resolves next to the policy, never in the working directory of
 * the program that happens to load it. */
START_TEST(include_is_relative_to_the_policy)
{
    static const char stack[] = "stack = ();\n";
    static const char hostile[] = "stack = ( { module = \"evil\"; control = \"sufficient\"; } );\n";
    char path[512], inc[512], cwd_dir[600], cwd_inc[700], old_cwd[4096];
    struct policy_config *c;

    write_fixture("inc.conf", stack, strlen(stack), inc, sizeof(inc));
    ck_assert((size_t)snprintf(cwd_dir, sizeof(cwd_dir), "%s/cwd", tmpdir) < sizeof(cwd_dir));
    ck_assert_int_eq(mkdir(cwd_dir, 0700), 0);
    ck_assert((size_t)snprintf(cwd_inc, sizeof(cwd_inc), "%s/inc.conf", cwd_dir) <
              sizeof(cwd_inc));
    FILE *f = fopen(cwd_inc, "w");
    ck_assert_ptr_nonnull(f);
    fputs(hostile, f);
    fclose(f);
    ck_assert_ptr_nonnull(getcwd(old_cwd, sizeof(old_cwd)));
    ck_assert_int_eq(chdir(cwd_dir), 0);
    c = load_ok("version = 1;\n@include \"inc.conf\"\n", path, sizeof(path));
    ck_assert_int_eq(chdir(old_cwd), 0);
    ck_assert_uint_eq(c->n_stack, 0);   /* the policy's neighbour, not the hostile one */
    config_free(c);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc;

    tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, example_loads);
    tcase_add_test(tc, shipped_policy_loads);
    tcase_add_test(tc, defaults_when_optional_keys_are_missing);
    tcase_add_loop_test(tc, every_word, 0, N_WORDS);
    tcase_add_loop_test(tc, module_names, 0, N_MODULES);
    tcase_add_test(tc, control_names);
    tcase_add_test(tc, include_is_relative_to_the_policy);
    suite_add_tcase(s, tc);

    tc = tcase_create("refuse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, refusals, 0, N_BAD);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, unreadable_missing);
    tcase_add_test(tc, unreadable_not_a_directory);
    tcase_add_test(tc, unreadable_permission);
    tcase_add_test(tc, unreadable_directory);
    tcase_add_test(tc, unreadable_fifo);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, truncated_example, 0, (int)sizeof(example_policy));
    tcase_add_test(tc, truncated_shipped_policy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
