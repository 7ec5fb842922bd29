/* Parsing the text of one pinsets file into pinsets: conf_tree reads the
 * syntax, this file the meaning. Members are visited in document order, so
 * that unknown keys are caught where they stand. */
#include "pinset_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_tree.h"
#include "date.h"
#include "diag.h"

struct parse {
    struct pinset_list *list;
    const struct tlspin_host *host;
    const char *file;
    char *err;
    size_t errlen;
};

static const char *type_name(const struct conf_node *s)
{
    return conf_type_name(s->type);
}

static const char *name_for_message(const struct pinset *ps)
{
    return ps->name != NULL ? ps->name : "(unnamed)";
}

/* ---------------------------------------------------------------------- */
/* Scalars                                                                 */
/* ---------------------------------------------------------------------- */

static int name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static int parse_name(struct parse *p, const struct conf_node *s, unsigned line,
                      struct pinset *ps)
{
    const char *v = (s->type == CONF_STRING ? s->str : NULL);
    char q[DIAG_QUOTE_MAX];
    size_t len, i;

    if (v == NULL) {
        diag_errf(p->err, p->errlen, p->file, line, "\"name\" must be a string, not %s",
                  type_name(s));
        return -1;
    }
    diag_quote(v, q);
    len = strnlen(v, PINSET_NAME_MAX + 1);
    if (len == 0 || len > PINSET_NAME_MAX) {
        diag_errf(p->err, p->errlen, p->file, line, "pinset name \"%s\" must be 1 to %d "
                  "characters", q, PINSET_NAME_MAX);
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (!name_char_ok(v[i])) {
            diag_errf(p->err, p->errlen, p->file, line, "pinset name \"%s\" may only "
                      "contain letters, digits, '.', '_' and '-'", q);
            return -1;
        }
    }
    ps->name = strdup(v);
    if (ps->name == NULL) {
        diag_errf(p->err, p->errlen, p->file, line, "out of memory");
        return -1;
    }
    return 0;
}

static int parse_bool(struct parse *p, const struct conf_node *s, unsigned line,
                      const char *key, int *out)
{
    if (s->type != CONF_BOOL) {
        diag_errf(p->err, p->errlen, p->file, line, "\"%s\" must be true or false, not %s",
                  key, type_name(s));
        return -1;
    }
    *out = s->num ? 1 : 0;
    return 0;
}

static int parse_expires(struct parse *p, const struct conf_node *s, unsigned line,
                         struct pinset *ps)
{
    const char *v = (s->type == CONF_STRING ? s->str : NULL);
    char q[DIAG_QUOTE_MAX];

    if (v == NULL) {
        diag_errf(p->err, p->errlen, p->file, line, "\"expires\" must be a string "
                  "\"YYYY-MM-DD\", not %s", type_name(s));
        return -1;
    }
    if (date_parse(v, &ps->expiry_day) != 0) {
        diag_quote(v, q);
        diag_errf(p->err, p->errlen, p->file, line, "expires \"%s\" is not a date: write "
                  "YYYY-MM-DD (a real calendar date, 1970 or later)", q);
        return -1;
    }
    memcpy(ps->expires_text, v, 10);
    ps->expires_text[10] = '\0';
    ps->has_expiry = 1;
    ps->expires_line = line;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Sequences                                                               */
/* ---------------------------------------------------------------------- */

/* hosts, ports, pins and deny are written as arrays [ ... ] or lists ( ... ). */
static int expect_sequence(struct parse *p, const struct conf_node *s, unsigned line,
                           const char *key, const char *of)
{
    if (s->type != CONF_ARRAY && s->type != CONF_LIST) {
        diag_errf(p->err, p->errlen, p->file, line, "\"%s\" must be an array of %s, not %s",
                  key, of, type_name(s));
        return -1;
    }
    return 0;
}

/* A string element of a sequence, or NULL after an error. */
static const char *string_element(struct parse *p, const struct conf_node *e, const char *key)
{
    if (e->type != CONF_STRING) {
        diag_errf(p->err, p->errlen, p->file, e->line, "\"%s\" must hold strings, not %s", key,
                  type_name(e));
        return NULL;
    }
    return e->str;
}

static int parse_hosts(struct parse *p, const struct conf_node *s, unsigned line,
                       struct pinset *ps)
{
    size_t n = s->n_children;

    if (expect_sequence(p, s, line, "hosts", "host names") != 0)
        return -1;
    if (n == 0) {
        diag_errf(p->err, p->errlen, p->file, line, "\"hosts\" is empty");
        return -1;
    }
    if (n > PINSET_TOTAL_HOSTS_MAX - p->list->n_hosts) {
        diag_errf(p->err, p->errlen, p->file, line, "more than %d hosts in all pinsets",
                  PINSET_TOTAL_HOSTS_MAX);
        return -1;
    }
    ps->hosts = calloc(n, sizeof(*ps->hosts));
    if (ps->hosts == NULL) {
        diag_errf(p->err, p->errlen, p->file, line, "out of memory");
        return -1;
    }
    for (const struct conf_node *e = s->first; e != NULL; e = e->next) {
        char norm[256], why[512];
        const char *v = string_element(p, e, "hosts");
        if (v == NULL)
            return -1;
        if (p->host->host_normalize(v, norm, sizeof(norm), why, sizeof(why)) != 0) {
            diag_errf(p->err, p->errlen, p->file, e->line, "bad host pattern: %s", why);
            return -1;
        }
        ps->hosts[ps->n_hosts].pattern = strdup(norm);
        if (ps->hosts[ps->n_hosts].pattern == NULL) {
            diag_errf(p->err, p->errlen, p->file, e->line, "out of memory");
            return -1;
        }
        ps->hosts[ps->n_hosts].line = e->line;
        ps->n_hosts++;
    }
    return 0;
}

static int compare_ports(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

    return (x > y) - (x < y);
}

static int parse_ports(struct parse *p, const struct conf_node *s, unsigned line,
                       struct pinset *ps)
{
    size_t n = s->n_children;

    if (expect_sequence(p, s, line, "ports", "port numbers") != 0)
        return -1;
    if (n == 0) {
        diag_errf(p->err, p->errlen, p->file, line, "\"ports\" is empty (leave it out to "
                  "mean any port)");
        return -1;
    }
    if (n > PINSET_PORTS_MAX) {
        diag_errf(p->err, p->errlen, p->file, line, "more than %d ports", PINSET_PORTS_MAX);
        return -1;
    }
    ps->ports = calloc(n, sizeof(*ps->ports));
    if (ps->ports == NULL) {
        diag_errf(p->err, p->errlen, p->file, line, "out of memory");
        return -1;
    }
    for (const struct conf_node *e = s->first; e != NULL; e = e->next) {
        if (e->type != CONF_INT) {
            diag_errf(p->err, p->errlen, p->file, e->line, "\"ports\" must hold integers, "
                      "not %s", type_name(e));
            return -1;
        }
        if (e->num < 1 || e->num > 65535) {
            diag_errf(p->err, p->errlen, p->file, e->line, "port %lld is not in 1..65535",
                      e->num);
            return -1;
        }
        if (!pinset_has_port(ps, (unsigned)e->num))
            ps->ports[ps->n_ports++] = (unsigned)e->num;
    }
    qsort(ps->ports, ps->n_ports, sizeof(*ps->ports), compare_ports);
    return 0;
}

static int pin_in(const unsigned char (*pins)[TLSPIN_PIN_LEN], size_t n,
                  const unsigned char pin[TLSPIN_PIN_LEN])
{
    size_t i;

    for (i = 0; i < n; i++)
        if (memcmp(pins[i], pin, TLSPIN_PIN_LEN) == 0)
            return 1;
    return 0;
}

/* pins or deny: distinct pins in configured order. */
static int parse_pin_list(struct parse *p, const struct conf_node *s, unsigned line,
                          const char *key, size_t max, unsigned char (**out)[TLSPIN_PIN_LEN],
                          size_t *n_out)
{
    size_t n = s->n_children;

    if (expect_sequence(p, s, line, key, "pins") != 0)
        return -1;
    if (n > max) {
        diag_errf(p->err, p->errlen, p->file, line, "more than %zu pins in \"%s\"", max, key);
        return -1;
    }
    if (n == 0)
        return 0;
    *out = calloc(n, TLSPIN_PIN_LEN);
    if (*out == NULL) {
        diag_errf(p->err, p->errlen, p->file, line, "out of memory");
        return -1;
    }
    for (const struct conf_node *e = s->first; e != NULL; e = e->next) {
        unsigned char pin[TLSPIN_PIN_LEN];
        char why[512];
        const char *v = string_element(p, e, key);
        if (v == NULL)
            return -1;
        if (p->host->pin_parse(v, pin, why, sizeof(why)) != 0) {
            diag_errf(p->err, p->errlen, p->file, e->line, "%s", why);
            return -1;
        }
        if (!pin_in((const unsigned char (*)[TLSPIN_PIN_LEN])*out, *n_out, pin))
            memcpy((*out)[(*n_out)++], pin, TLSPIN_PIN_LEN);
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* One pinset                                                              */
/* ---------------------------------------------------------------------- */

/* Lines of members that later, pinset-wide checks point at. */
struct seen {
    unsigned pins, deny;
};

static int parse_member(struct parse *p, const struct conf_node *m, struct pinset *ps,
                        struct seen *seen)
{
    const char *key = m->name;
    unsigned line = m->line;
    char q[DIAG_QUOTE_MAX];

    if (strcmp(key, "name") == 0)
        return parse_name(p, m, line, ps);
    if (strcmp(key, "hosts") == 0)
        return parse_hosts(p, m, line, ps);
    if (strcmp(key, "ports") == 0)
        return parse_ports(p, m, line, ps);
    if (strcmp(key, "pins") == 0) {
        seen->pins = ps->pins_line = line;
        return parse_pin_list(p, m, line, "pins", PINSET_PINS_MAX, &ps->pins, &ps->n_pins);
    }
    if (strcmp(key, "deny") == 0) {
        seen->deny = line;
        return parse_pin_list(p, m, line, "deny", PINSET_DENY_MAX, &ps->deny, &ps->n_deny);
    }
    if (strcmp(key, "expires") == 0)
        return parse_expires(p, m, line, ps);
    if (strcmp(key, "report_only") == 0)
        return parse_bool(p, m, line, key, &ps->report_only);
    if (strcmp(key, "allow_single_pin") == 0)
        return parse_bool(p, m, line, key, &ps->allow_single_pin);
    diag_quote(key, q);
    diag_errf(p->err, p->errlen, p->file, line, "unknown key \"%s\" in pinset \"%s\" (known: "
              "name, hosts, ports, pins, deny, expires, report_only, allow_single_pin)", q,
              name_for_message(ps));
    return -1;
}

/* Rules over the whole pinset, once all members are read. */
static int check_pinset(struct parse *p, const struct pinset *ps, const struct seen *seen)
{
    size_t i;

    if (ps->name == NULL) {
        diag_errf(p->err, p->errlen, p->file, ps->line, "pinset has no \"name\"");
        return -1;
    }
    if (ps->n_hosts == 0) {
        diag_errf(p->err, p->errlen, p->file, ps->line, "pinset \"%s\" has no \"hosts\"",
                  ps->name);
        return -1;
    }
    if (ps->n_pins == 0) {
        diag_errf(p->err, p->errlen, p->file, seen->pins ? seen->pins : ps->line,
                  "pinset \"%s\" has no \"pins\"", ps->name);
        return -1;
    }
    if (ps->n_pins < 2 && !ps->allow_single_pin) {
        diag_errf(p->err, p->errlen, p->file, ps->pins_line, "pinset \"%s\" has only one "
                  "distinct pin; a backup pin saves you from lock-out when the current key "
                  "must change: add one, or set allow_single_pin = true", ps->name);
        return -1;
    }
    for (i = 0; i < ps->n_deny; i++) {
        if (pin_in((const unsigned char (*)[TLSPIN_PIN_LEN])ps->pins, ps->n_pins,
                   ps->deny[i])) {
            diag_errf(p->err, p->errlen, p->file, seen->deny, "pinset \"%s\" both pins and "
                      "denies the same key", ps->name);
            return -1;
        }
    }
    return 0;
}

static int parse_pinset(struct parse *p, const struct conf_node *g)
{
    struct pinset ps;
    struct seen seen;
    int r = -1;

    memset(&ps, 0, sizeof(ps));
    memset(&seen, 0, sizeof(seen));
    ps.file = p->file;
    ps.line = g->line;
    if (g->type != CONF_GROUP) {
        diag_errf(p->err, p->errlen, p->file, ps.line, "each pinset must be a group "
                  "{ name = ...; hosts = [...]; pins = [...]; }, not %s", type_name(g));
        goto out;
    }
    for (const struct conf_node *m = g->first; m != NULL; m = m->next)
        if (parse_member(p, m, &ps, &seen) != 0)
            goto out;
    if (check_pinset(p, &ps, &seen) != 0)
        goto out;
    if (p->list->n >= PINSET_TOTAL_MAX) {
        diag_errf(p->err, p->errlen, p->file, ps.line, "more than %d pinsets",
                  PINSET_TOTAL_MAX);
        goto out;
    }
    if (pinset_list_append(p->list, &ps) != 0) {
        diag_errf(p->err, p->errlen, p->file, ps.line, "out of memory");
        goto out;
    }
    r = 0;
out:
    pinset_free(&ps);
    return r;
}

/* ---------------------------------------------------------------------- */
/* The file                                                                */
/* ---------------------------------------------------------------------- */

static int parse_pinsets_setting(struct parse *p, const struct conf_node *s, unsigned line)
{
    if (s->type != CONF_LIST && !(s->type == CONF_ARRAY && s->n_children == 0)) {
        diag_errf(p->err, p->errlen, p->file, line, "\"pinsets\" must be a list ( {...}, "
                  "{...} ), not %s", type_name(s));
        return -1;
    }
    for (const struct conf_node *g = s->first; g != NULL; g = g->next)
        if (parse_pinset(p, g) != 0)
            return -1;
    return 0;
}

static int parse_root(struct parse *p, const struct conf_node *root)
{
    for (const struct conf_node *m = root->first; m != NULL; m = m->next) {
        char q[DIAG_QUOTE_MAX];
        if (strcmp(m->name, "pinsets") == 0) {
            if (parse_pinsets_setting(p, m, m->line) != 0)
                return -1;
            continue;
        }
        diag_quote(m->name, q);
        diag_errf(p->err, p->errlen, p->file, m->line, "unknown key \"%s\" (a pinsets file "
                  "holds only \"pinsets = ( ... );\")", q);
        return -1;
    }
    /* An empty file, or one cut after its comments, is what a reload sees
     * while an editor rewrites the file in place: it must not read as "no
     * pinsets" and drop every pin. A file that means none says so. */
    if (conf_member(root, "pinsets") == NULL) {
        diag_errf(p->err, p->errlen, p->file, 1, "no \"pinsets = ( ... );\" (a file caught "
                  "half-written must not drop pins: write \"pinsets = ();\" to have none)");
        return -1;
    }
    return 0;
}

int pinset_parse_text(struct pinset_list *list, const struct tlspin_host *host,
                      const char *file, const char *text, size_t len, char *err, size_t errlen)
{
    struct parse p;
    struct conf_tree tree;
    int r;

    memset(&p, 0, sizeof(p));
    p.list = list;
    p.host = host;
    p.file = file;
    p.err = err;
    p.errlen = errlen;
    if (conf_tree_read(&tree, file, text, len, err, errlen) != 0)
        return -1;
    r = parse_root(&p, tree.root);
    conf_tree_free(&tree);
    return r;
}
