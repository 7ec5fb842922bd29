/* Reading tlspin.conf (libconfig syntax). Every refusal names file:line.
 * The syntax is a contract: keys may be added, never changed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <tlspin/strict_path.h>

#define MAX_STACK 32
#define MAX_ARGS 64
#define MAX_ARG_VALUES 4096
#define CONFIG_MAX_BYTES (1024 * 1024)   /* the policy and each @include */
#define INCLUDE_DEPTH_MAX 10    /* libconfig's own limit */
#define READ_MSG_MAX 1024       /* a refusal of read_regular */
#define DIR_MAX 4096            /* the policy's directory, an included file's path */

struct reader {
    const char *path;
    char *err;
    size_t errlen;
};

static int fail(struct reader *r, const config_setting_t *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct reader *r, const config_setting_t *where, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    const char *file = where && config_setting_source_file(where)
                           ? config_setting_source_file(where) : r->path;
    unsigned line = where ? config_setting_source_line(where) : 0;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s:%u: %s", file, line, msg);
    return -1;
}

static const char *type_name(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_LIST: return "a list";
    default: return "nothing";
    }
}

/* Every member of `group` must be one of `known` (NULL-terminated). */
static int only_known_keys(struct reader *r, const config_setting_t *group, const char *what,
                           const char *const *known)
{
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *member = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(member);
        int found = 0;
        for (const char *const *k = known; *k && !found; k++)
            found = name && strcmp(name, *k) == 0;
        if (!found)
            return fail(r, member, "unknown key \"%s\" in %s", name ? name : "?", what);
    }
    return 0;
}

static int get_string(struct reader *r, const config_setting_t *parent, const char *key,
                      const char **out, int required)
{
    const config_setting_t *s = config_setting_get_member(parent, key);
    *out = NULL;   /* on failure too: gcc -O3 does not see that callers stop then */
    if (s == NULL) {
        if (required)
            return fail(r, parent, "missing \"%s\"", key);
        *out = NULL;
        return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail(r, s, "\"%s\" must be a string, not %s", key, type_name(config_setting_type(s)));
    *out = config_setting_get_string(s);
    return 0;
}

/* Looks `word` up in `choices` ("a", "b", NULL); its index or -1. */
static int choice(const char *word, const char *const *choices)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(word, choices[i]) == 0)
            return i;
    return -1;
}

static int get_choice(struct reader *r, const config_setting_t *parent, const char *key,
                      const char *const *choices, const char *listed, int *out)
{
    const char *word;
    if (get_string(r, parent, key, &word, 0) != 0)
        return -1;
    if (word == NULL)
        return 0;   /* keep the default */
    int i = choice(word, choices);
    if (i < 0)
        return fail(r, config_setting_get_member(parent, key),
                    "\"%s\" must be one of %s, not \"%s\"", key, listed, word);
    *out = i;
    return 0;
}

static const struct { const char *name; int value; } facilities[] = {
    { "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV }, { "daemon", LOG_DAEMON },
    { "user", LOG_USER }, { "syslog", LOG_SYSLOG }, { "local0", LOG_LOCAL0 },
    { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
    { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
    { "local7", LOG_LOCAL7 },
};

static const char *const levels[] = { "emerg", "alert", "crit", "err", "warning",
                                      "notice", "info", "debug", NULL };

static int read_log(struct reader *r, const config_setting_t *root, struct policy_config *c)
{
    static const char *const known[] = { "facility", "level", "rate_limit_seconds", NULL };
    const config_setting_t *log = config_setting_get_member(root, "log");
    const char *word;

    if (log == NULL)
        return 0;
    if (!config_setting_is_group(log))
        return fail(r, log, "\"log\" must be a group { ... }");
    if (only_known_keys(r, log, "log", known) != 0 || get_string(r, log, "facility", &word, 0) != 0)
        return -1;
    if (word != NULL) {
        size_t i;
        for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
            if (strcmp(word, facilities[i].name) == 0)
                break;
        if (i == sizeof(facilities) / sizeof(facilities[0]))
            return fail(r, config_setting_get_member(log, "facility"),
                        "unknown log facility \"%s\" (auth, authpriv, daemon, user, syslog, "
                        "local0..local7)", word);
        c->facility = facilities[i].value;
    }
    if (get_choice(r, log, "level", levels,
                   "emerg, alert, crit, err, warning, notice, info, debug", &c->level) != 0)
        return -1;
    const config_setting_t *rl = config_setting_get_member(log, "rate_limit_seconds");
    if (rl != NULL) {
        if (config_setting_type(rl) != CONFIG_TYPE_INT || config_setting_get_int(rl) < 0 ||
            config_setting_get_int(rl) > 86400)
            return fail(r, rl, "\"rate_limit_seconds\" must be an integer from 0 to 86400");
        c->rate_limit_seconds = (unsigned)config_setting_get_int(rl);
    }
    return 0;
}

static char *scalar_text(const config_setting_t *s)
{
    char buf[64];
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_STRING: return strdup(config_setting_get_string(s));
    case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64:
        snprintf(buf, sizeof(buf), "%lld", config_setting_get_int64(s));
        return strdup(buf);
    case CONFIG_TYPE_FLOAT:
        snprintf(buf, sizeof(buf), "%.17g", config_setting_get_float(s));
        return strdup(buf);
    case CONFIG_TYPE_BOOL: return strdup(config_setting_get_bool(s) ? "true" : "false");
    default: return NULL;
    }
}

static void free_args(struct tlspin_arg *args, size_t n)
{
    for (size_t i = 0; args && i < n; i++) {
        for (size_t j = 0; j < args[i].n_values; j++)
            free((char *)args[i].values[j]);
        free((void *)args[i].values);
        free((char *)args[i].key);
        free((char *)args[i].file);
    }
    free(args);
}

static int read_arg(struct reader *r, const config_setting_t *s, struct tlspin_arg *arg)
{
    int aggregate = config_setting_is_array(s) || config_setting_is_list(s);
    int n = aggregate ? config_setting_length(s) : 1;
    char **values;

    if (config_setting_is_group(s))
        return fail(r, s, "module argument \"%s\" must be a value or a list of values, not a group",
                    config_setting_name(s));
    if (n > MAX_ARG_VALUES)
        return fail(r, s, "module argument \"%s\" has more than %d values",
                    config_setting_name(s), MAX_ARG_VALUES);
    arg->key = strdup(config_setting_name(s));
    arg->file = strdup(config_setting_source_file(s) ? config_setting_source_file(s) : r->path);
    arg->line = config_setting_source_line(s);
    values = calloc((size_t)n + 1, sizeof(*values));
    arg->values = (const char *const *)values;
    if (arg->key == NULL || arg->file == NULL || values == NULL)
        return fail(r, s, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *v = aggregate ? config_setting_get_elem(s, (unsigned)i) : s;
        if (!config_setting_is_scalar(v))
            return fail(r, v, "module argument \"%s\" may hold only strings, numbers and "
                        "booleans", arg->key);
        if ((values[i] = scalar_text(v)) == NULL)
            return fail(r, v, "out of memory");
        arg->n_values++;
    }
    return 0;
}

static int resolve_module_path(struct reader *r, const config_setting_t *where, const char *module,
                               const char *moduledir, char **path)
{
    if (module[0] == '\0')
        return fail(r, where, "empty module name");
    if (module[0] == '/') {
        *path = strdup(module);
    } else {
        /* A bare name, never a relative path: the policy must not depend on
         * the working directory of whatever program loads it. */
        for (const char *p = module; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
                return fail(r, where, "module \"%s\" must be a bare name ([a-z0-9_-]) or an "
                            "absolute path", module);
        if (asprintf(path, "%s/%s.so", moduledir, module) < 0)
            *path = NULL;
    }
    return *path ? 0 : fail(r, where, "out of memory");
}

static int read_entry(struct reader *r, const config_setting_t *s, const char *moduledir,
                      struct stack_entry_config *e)
{
    static const char *const known[] = { "module", "control", "args", NULL };
    static const char *const controls[] = { "required", "requisite", "sufficient", "optional",
                                            NULL };
    const char *module;
    int control = -1;

    e->file = strdup(config_setting_source_file(s) ? config_setting_source_file(s) : r->path);
    e->line = config_setting_source_line(s);
    if (e->file == NULL)
        return fail(r, s, "out of memory");
    if (!config_setting_is_group(s))
        return fail(r, s, "each stack entry must be a group { module = ...; control = ...; }");
    if (only_known_keys(r, s, "a stack entry", known) != 0 ||
        get_string(r, s, "module", &module, 0) != 0)
        return -1;
    if (module == NULL)
        return fail(r, s, "stack entry has no \"module\": name a module (e.g. \"file\") or give "
                    "an absolute path to one");
    if (config_setting_get_member(s, "control") == NULL)
        return fail(r, s, "stack entry for module \"%s\" has no \"control\"", module);
    if (get_choice(r, s, "control", controls, "required, requisite, sufficient, optional",
                   &control) != 0)
        return -1;
    e->control = (enum control_flag)control;
    if ((e->module = strdup(module)) == NULL)
        return fail(r, s, "out of memory");
    if (resolve_module_path(r, config_setting_get_member(s, "module"), module, moduledir,
                            &e->path) != 0)
        return -1;

    const config_setting_t *args = config_setting_get_member(s, "args");
    if (args == NULL)
        return 0;
    if (!config_setting_is_group(args))
        return fail(r, args, "\"args\" must be a group { key = value; ... }");
    int n = config_setting_length(args);
    if (n > MAX_ARGS)
        return fail(r, args, "more than %d module arguments", MAX_ARGS);
    if ((e->args = calloc((size_t)n + 1, sizeof(*e->args))) == NULL)
        return fail(r, args, "out of memory");
    for (int i = 0; i < n; i++) {
        e->n_args++;
        if (read_arg(r, config_setting_get_elem(args, (unsigned)i), &e->args[i]) != 0)
            return -1;
    }
    return 0;
}

static int read_stack(struct reader *r, const config_setting_t *root, const char *moduledir,
                      struct policy_config *c)
{
    const config_setting_t *stack = config_setting_get_member(root, "stack");
    if (stack == NULL)
        return fail(r, NULL, "no \"stack\": say which modules decide, e.g. "
                    "stack = ( { module = \"file\"; control = \"required\"; ... } );");
    if (!config_setting_is_list(stack))
        return fail(r, stack, "\"stack\" must be a list ( { ... }, ... )");
    int n = config_setting_length(stack);
    if (n > MAX_STACK)
        return fail(r, stack, "more than %d stack entries", MAX_STACK);
    if ((c->stack = calloc((size_t)n + 1, sizeof(*c->stack))) == NULL)
        return fail(r, stack, "out of memory");
    for (int i = 0; i < n; i++) {
        c->n_stack++;
        if (read_entry(r, config_setting_get_elem(stack, (unsigned)i), moduledir,
                       &c->stack[i]) != 0)
            return -1;
    }
    return 0;
}

static int read_root(struct reader *r, const config_setting_t *root, const char *moduledir,
                     struct policy_config *c)
{
    static const char *const known[] = { "version", "mode", "unpinned", "on_error", "log",
                                         "stack", NULL };
    static const char *const modes[] = { "enforce", "report", NULL };
    static const char *const unpinned[] = { "allow", "deny", NULL };
    static const char *const on_error[] = { "deny", "allow", NULL };
    const config_setting_t *version = config_setting_get_member(root, "version");
    int mode = MODE_ENFORCE;

    if (only_known_keys(r, root, r->path, known) != 0)
        return -1;
    if (version == NULL)
        return fail(r, NULL, "missing \"version = 1;\"");
    if (config_setting_type(version) != CONFIG_TYPE_INT || config_setting_get_int(version) != 1)
        return fail(r, version, "unsupported version (this tlspin reads version = 1)");
    if (get_choice(r, root, "mode", modes, "enforce, report", &mode) != 0 ||
        get_choice(r, root, "unpinned", unpinned, "allow, deny", &c->unpinned_deny) != 0 ||
        get_choice(r, root, "on_error", on_error, "deny, allow", &c->on_error_allow) != 0 ||
        read_log(r, root, c) != 0)
        return -1;
    c->mode = (enum policy_mode)mode;
    return read_stack(r, root, moduledir, c);
}

static int policy_dir(const char *path, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (slash == NULL)
        return -1;
    n = snprintf(out, outlen, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/* Reading files without ever blocking                                    */
/* ---------------------------------------------------------------------- */

/* Every program with a TLS handshake reads the policy: a FIFO named as a
 * policy file would hang them all at their first handshake, a device might
 * be acted on by the open itself. So: the type is checked before opening,
 * the open never blocks (O_NONBLOCK), and what was opened must be the
 * regular file that was checked, read to at most `cap` bytes. Returns 0
 * with a NUL-terminated copy in *text, or -1 with why (without the path):
 * strerror's text, "not a regular file (a FIFO)", "larger than N bytes"... */
static int read_regular(const char *path, size_t cap, char **text, char *why, size_t whylen)
{
    struct stat st;
    char *buf = NULL, *msg;
    size_t got = 0, plen = strlen(path);
    int fd = -1, rc = -1;

    *text = NULL;
    /* On the heap, as the other buffers of a load: it runs on the program's
     * thread, whose stack may be small (issue 13, point 5). */
    if ((msg = malloc(READ_MSG_MAX)) == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    /* Ownership and modes first (include/tlspin/strict_path.h): a policy
     * anyone but root (or the process's own user) can change is not read. */
    fd = tlspin_strict_open(path, TLSPIN_STRICT_FILE, &st, msg, READ_MSG_MAX);
    if (fd < 0) {
        snprintf(why, whylen, "%s",
                 strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0
                     ? msg + plen + 2 : msg);
        free(msg);
        return -1;
    }
    free(msg);
    if (st.st_size < 0 || (unsigned long long)st.st_size > cap) {
        snprintf(why, whylen, "larger than %zu bytes", cap);
        goto out;
    }
    /* One byte more than the size: a file that grew meanwhile shows. */
    if ((buf = malloc((size_t)st.st_size + 2)) == NULL) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    while (got < (size_t)st.st_size + 1) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(why, whylen, "%s", strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got != (size_t)st.st_size || memchr(buf, '\0', got) != NULL) {
        snprintf(why, whylen, got != (size_t)st.st_size ? "changed while being read"
                                                         : "contains a NUL byte");
        goto out;
    }
    buf[got] = '\0';
    *text = buf;
    buf = NULL;     /* transferred */
    rc = 0;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* libconfig opens each @include itself with fopen(): every file the policy
 * includes (and they include) is checked first the same way, so that none
 * can block. libconfig's directive is `@include "NAME"` at the start of a
 * line, outside comments and strings; NAME is taken as written, relative to
 * the policy's directory unless absolute. Returns 0, or -1 with
 * "file:line: reason" in err. */
struct include_visitor {
    void (*each)(void *ctx, const char *path);
    void *ctx;
};

static int includes_readable(const char *file, const char *text, const char *dir, int depth,
                             const struct include_visitor *v, char *err, size_t errlen);

static int include_readable(const char *file, unsigned line, const char *name, size_t namelen,
                            const char *dir, int depth, const struct include_visitor *v,
                            char *err, size_t errlen)
{
    /* On the heap: this recurses once per level of @include. */
    struct {
        char path[DIR_MAX], why[READ_MSG_MAX];
    } *b = malloc(sizeof(*b));
    char *text = NULL;
    int n, rc = -1;

    if (b == NULL) {
        snprintf(err, errlen, "%s:%u: out of memory", file, line);
        return -1;
    }
    n = name[0] == '/' ? snprintf(b->path, sizeof(b->path), "%.*s", (int)namelen, name)
                       : snprintf(b->path, sizeof(b->path), "%s/%.*s", dir, (int)namelen, name);
    if (n < 0 || (size_t)n >= sizeof(b->path)) {
        snprintf(err, errlen, "%s:%u: the included file's name is too long", file, line);
        goto out;
    }
    if (read_regular(b->path, CONFIG_MAX_BYTES, &text, b->why, sizeof(b->why)) != 0) {
        snprintf(err, errlen, "%s:%u: cannot read the included file %s: %s", file, line,
                 b->path, b->why);
        goto out;
    }
    if (v != NULL)
        v->each(v->ctx, b->path);
    rc = depth + 1 < INCLUDE_DEPTH_MAX ? includes_readable(b->path, text, dir, depth + 1, v,
                                                           err, errlen)
                                        : 0;   /* deeper: libconfig refuses it */
out:
    free(text);
    free(b);
    return rc;
}

/* The end of a comment or string that starts at p (a '#', '//', '/ *' or
 * '"'), or of the text. */
static const char *skip_comment_or_string(const char *p, unsigned *line)
{
    if (p[0] == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            *line += *p == '\n';
        }
        return *p ? p + 1 : p;
    }
    if (p[0] == '/' && p[1] == '*') {
        for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
            *line += *p == '\n';
        return *p ? p + 2 : p;
    }
    return p + strcspn(p, "\n");   /* '#' or '//' to the end of the line */
}

static int includes_readable(const char *file, const char *text, const char *dir, int depth,
                             const struct include_visitor *v, char *err, size_t errlen)
{
    static const char directive[] = "@include";
    unsigned line = 1;
    int line_start = 1;

    for (const char *p = text; *p;) {
        if (line_start && strncmp(p, directive, sizeof(directive) - 1) == 0 &&
            (p[sizeof(directive) - 1] == ' ' || p[sizeof(directive) - 1] == '\t')) {
            const char *name = p + sizeof(directive) - 1, *end;
            name += strspn(name, " \t");
            if (*name == '"' && (end = strchr(name + 1, '"')) != NULL) {
                if (include_readable(file, line, name + 1, (size_t)(end - name - 1), dir, depth,
                                     v, err, errlen) != 0)
                    return -1;
                for (; p < end; p++)
                    line += *p == '\n';
                p = end + 1;
                line_start = 0;
                continue;
            }
        }
        if (*p == '"' || *p == '#' || (p[0] == '/' && (p[1] == '/' || p[1] == '*'))) {
            p = skip_comment_or_string(p, &line);
            line_start = 0;
            continue;
        }
        if (*p == '\n')
            line++;
        line_start = *p == '\n' || (line_start && (*p == ' ' || *p == '\t'));
        p++;
    }
    return 0;
}

/* The policy's text, read safely, with every file it includes checked:
 * after this, libconfig reads nothing that can block. */
static int read_policy_text(const char *path, const char *dir, char **text,
                            const struct include_visitor *v, char *err, size_t errlen)
{
    char *why = malloc(READ_MSG_MAX);

    if (why == NULL) {
        snprintf(err, errlen, "%s:0: out of memory", path);
        return -1;
    }
    if (read_regular(path, CONFIG_MAX_BYTES, text, why, READ_MSG_MAX) != 0) {
        if (strncmp(why, "not a regular file", 18) == 0)
            snprintf(err, errlen, "%s:0: the policy is %s", path, why);
        else if (strstr(why, ": refused") != NULL)
            snprintf(err, errlen, "%s:0: %s", path, why);
        else if (strncmp(why, "larger than", 11) == 0)
            snprintf(err, errlen, "%s:0: the policy is larger than %d bytes", path,
                     CONFIG_MAX_BYTES);
        else
            snprintf(err, errlen, "%s:0: cannot read the policy file: %s", path, why);
        free(why);
        return -1;
    }
    free(why);
    if (includes_readable(path, *text, dir, 0, v, err, errlen) != 0) {
        free(*text);
        *text = NULL;
        return -1;
    }
    return 0;
}

int config_load(const char *path, const char *moduledir, struct policy_config **out,
                char *err, size_t errlen)
{
    struct reader r = { path, err, errlen };
    struct policy_config *c = calloc(1, sizeof(*c));
    config_t cfg;
    char *dir = malloc(DIR_MAX), *text = NULL;
    int rc = -1;

    *out = NULL;
    if (c == NULL || dir == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(c);
        free(dir);
        return -1;
    }
    c->facility = POLICY_DEFAULT_FACILITY;
    c->level = POLICY_DEFAULT_LEVEL;
    c->rate_limit_seconds = POLICY_DEFAULT_RATE_LIMIT;
    config_init(&cfg);
    /* @include is resolved next to the policy, never against the working
     * directory of whatever program happens to load it. */
    if (policy_dir(path, dir, DIR_MAX) != 0)
        snprintf(dir, DIR_MAX, ".");
    else
        config_set_include_dir(&cfg, dir);
    if (read_policy_text(path, dir, &text, NULL, err, errlen) != 0)
        goto out;
    /* The text, not the file: libconfig would open the path again. Its
     * settings then name no file; the path stands in (fail, read_entry). */
    if (config_read_string(&cfg, text) != CONFIG_TRUE) {
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "%s:0: cannot read the policy file: %s", path,
                     strerror(errno));
        else
            snprintf(err, errlen, "%s:%d: %s",
                     config_error_file(&cfg) ? config_error_file(&cfg) : path,
                     config_error_line(&cfg), config_error_text(&cfg));
        goto out;
    }
    if ((c->path = strdup(path)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    if (read_root(&r, config_root_setting(&cfg), moduledir, c) != 0)
        goto out;
    *out = c;
    c = NULL;   /* transferred */
    rc = 0;
out:
    free(text);
    free(dir);
    config_destroy(&cfg);
    config_free(c);
    return rc;
}

int config_list_includes(const char *path, void (*each)(void *ctx, const char *file),
                         void *ctx, char *err, size_t errlen)
{
    struct include_visitor v = { each, ctx };
    char *dir = malloc(DIR_MAX), *text = NULL;
    int rc;

    if (dir == NULL) {
        snprintf(err, errlen, "%s:0: out of memory", path);
        return -1;
    }
    if (policy_dir(path, dir, DIR_MAX) != 0)
        snprintf(dir, DIR_MAX, ".");
    rc = read_policy_text(path, dir, &text, &v, err, errlen);
    free(text);
    free(dir);
    return rc;
}

void config_free(struct policy_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_stack; i++) {
        free(c->stack[i].module);
        free(c->stack[i].path);
        free(c->stack[i].file);
        free_args(c->stack[i].args, c->stack[i].n_args);
    }
    free(c->stack);
    free(c->path);
    free(c);
}

const char *control_name(enum control_flag control)
{
    static const char *const names[] = { "required", "requisite", "sufficient", "optional" };
    return (unsigned)control < 4 ? names[control] : "?";
}
