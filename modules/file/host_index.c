/* The lookup table from host names to the pinsets that claim them. */
#include "host_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

enum host_kind host_pattern_kind(const char *pattern, const char **key)
{
    if (strncmp(pattern, "**.", 3) == 0) {
        *key = pattern + 3;
        return HOST_ANY_DEPTH;
    }
    if (strncmp(pattern, "*.", 2) == 0) {
        *key = pattern + 2;
        return HOST_ONE_LABEL;
    }
    *key = pattern;
    return HOST_EXACT;
}

void host_index_free(struct host_index *ix)
{
    size_t i;

    if (ix == NULL)
        return;
    for (i = 0; i < 3; i++)
        strmap_free(&ix->maps[i]);
    for (i = 0; i < ix->n_entries; i++)
        free(ix->entries[i].claims);
    free(ix->entries);
    free(ix->ip_entries);
    memset(ix, 0, sizeof(*ix));
}

static void describe_ports(unsigned common, char *out, size_t outlen)
{
    if (common == 0)
        snprintf(out, outlen, "any port");
    else
        snprintf(out, outlen, "port %u", common);
}

/* A second claim on one pattern is fine only for other ports (one pinset
 * for 443, another for 8443 or for any port). */
static int check_new_claim(const struct host_entry *e, const struct pinset *ps, unsigned line,
                           char *err, size_t errlen)
{
    size_t i;

    for (i = 0; i < e->n_claims; i++) {
        const struct host_claim *c = &e->claims[i];
        char ports[32];
        unsigned common;
        if (c->pinset == ps) {
            diag_errf(err, errlen, ps->file, line, "host \"%s\" is listed twice in pinset "
                      "\"%s\" (first at %s:%u)", e->pattern, ps->name, c->pinset->file,
                      c->line);
            return -1;
        }
        if (pinset_ports_conflict(c->pinset, ps, &common)) {
            describe_ports(common, ports, sizeof(ports));
            diag_errf(err, errlen, ps->file, line, "host \"%s\" of pinset \"%s\" is already "
                      "claimed by pinset \"%s\" at %s:%u for %s: give them disjoint ports "
                      "or merge them", e->pattern, ps->name, c->pinset->name,
                      c->pinset->file, c->line, ports);
            return -1;
        }
    }
    return 0;
}

static int add_claim(struct host_entry *e, const struct pinset *ps, unsigned line)
{
    if (e->n_claims == e->cap_claims) {
        size_t cap = e->cap_claims ? e->cap_claims * 2 : 1;
        struct host_claim *c = realloc(e->claims, cap * sizeof(*c));
        if (c == NULL)
            return -1;
        e->claims = c;
        e->cap_claims = cap;
    }
    e->claims[e->n_claims].pinset = ps;
    e->claims[e->n_claims].line = line;
    e->n_claims++;
    return 0;
}

static int index_host(struct host_index *ix, const struct pinset *ps,
                      const struct pinset_host *h, char *err, size_t errlen)
{
    const char *key;
    enum host_kind kind = host_pattern_kind(h->pattern, &key);
    size_t klen = strlen(key);
    struct host_entry *e = strmap_get(&ix->maps[kind], key, klen);

    if (e == NULL) {
        e = &ix->entries[ix->n_entries++];
        e->pattern = h->pattern;
        e->kind = kind;
        if (strmap_put(&ix->maps[kind], key, klen, e) != 0)
            goto oom;
    } else if (check_new_claim(e, ps, h->line, err, errlen) != 0) {
        return -1;
    }
    if (add_claim(e, ps, h->line) != 0)
        goto oom;
    return 0;
oom:
    diag_errf(err, errlen, ps->file, h->line, "out of memory");
    return -1;
}

int host_pattern_is_ip(const char *pattern)
{
    const char *last = strrchr(pattern, '.');

    if (strchr(pattern, ':') != NULL)
        return 1;
    last = last != NULL ? last + 1 : pattern;
    return last[0] != '\0' && strspn(last, "0123456789") == strlen(last);
}

/* The exact entries that are IP addresses, for a connection whose server
 * is unknown: it could be any of them. */
static int index_ip_entries(struct host_index *ix)
{
    size_t i, n = 0;

    for (i = 0; i < ix->n_entries; i++)
        n += ix->entries[i].kind == HOST_EXACT && host_pattern_is_ip(ix->entries[i].pattern);
    if (n == 0)
        return 0;
    ix->ip_entries = malloc(n * sizeof(*ix->ip_entries));
    if (ix->ip_entries == NULL)
        return -1;
    for (i = 0; i < ix->n_entries; i++)
        if (ix->entries[i].kind == HOST_EXACT && host_pattern_is_ip(ix->entries[i].pattern))
            ix->ip_entries[ix->n_ip_entries++] = i;
    return 0;
}

int host_index_build(struct host_index *ix, const struct pinset_list *list, char *err,
                     size_t errlen)
{
    size_t i, j;

    memset(ix, 0, sizeof(*ix));
    for (i = 0; i < 3; i++) {
        if (strmap_init(&ix->maps[i], i == HOST_EXACT ? list->n_hosts : 16) != 0)
            goto oom;
    }
    if (list->n_hosts > 0) {
        ix->entries = calloc(list->n_hosts, sizeof(*ix->entries));
        if (ix->entries == NULL)
            goto oom;
    }
    for (i = 0; i < list->n; i++)
        for (j = 0; j < list->items[i].n_hosts; j++)
            if (index_host(ix, &list->items[i], &list->items[i].hosts[j], err, errlen) != 0)
                return -1;
    if (index_ip_entries(ix) != 0)
        goto oom;
    return 0;
oom:
    diag_errf(err, errlen, NULL, 0, "out of memory");
    return -1;
}

const struct host_entry *host_index_get(const struct host_index *ix, enum host_kind kind,
                                        const char *key, size_t key_len)
{
    return strmap_get(&ix->maps[kind], key, key_len);
}

const char *host_next_suffix(const char *name)
{
    const char *dot = strchr(name, '.');

    return dot != NULL ? dot + 1 : NULL;
}

static int claim_considered(const struct host_choice *c, const struct host_claim *claim)
{
    return !c->live_only || !pinset_expired(claim->pinset, c->now);
}

void host_choice_init(struct host_choice *c, const struct host_entry *e, unsigned port,
                      int live_only, int64_t now)
{
    int listed = 0, any_port = 0;
    size_t i;

    c->port = port;
    c->live_only = live_only;
    c->now = now;
    c->n_considered = 0;
    for (i = 0; i < e->n_claims; i++) {
        const struct pinset *ps = e->claims[i].pinset;
        if (!claim_considered(c, &e->claims[i]))
            continue;
        c->n_considered++;
        if (ps->n_ports == 0)
            any_port = 1;
        else if (port != 0 && pinset_has_port(ps, port))
            listed = 1;
    }
    if (port == 0)
        c->pick = HOST_PICK_ALL;
    else if (listed)
        c->pick = HOST_PICK_PORT;
    else if (any_port)
        c->pick = HOST_PICK_ANY_PORT;
    else
        c->pick = HOST_PICK_ALL; /* no pinset names the port: they all apply */
}

int host_choice_has(const struct host_choice *c, const struct host_entry *e, size_t i)
{
    const struct pinset *ps = e->claims[i].pinset;

    if (!claim_considered(c, &e->claims[i]))
        return 0;
    switch (c->pick) {
    case HOST_PICK_PORT: return pinset_has_port(ps, c->port);
    case HOST_PICK_ANY_PORT: return ps->n_ports == 0;
    case HOST_PICK_ALL:
    default: return 1;
    }
}

void host_walk_begin(struct host_walk *w, const char *host)
{
    w->host = host;
    w->len = strlen(host);
    w->stage = 0;
    w->suffix = host;
}

const struct host_entry *host_walk_next(const struct host_index *ix, struct host_walk *w)
{
    const struct host_entry *e;
    const char *p;

    while (w->stage < 3) {
        switch (w->stage) {
        case 0:
            w->stage = 1;
            e = host_index_get(ix, HOST_EXACT, w->host, w->len);
            if (e != NULL)
                return e;
            break;
        case 1:
            w->stage = 2;
            p = host_next_suffix(w->host);
            if (p != NULL && p - w->host > 1) { /* "*." needs a non-empty first label */
                e = host_index_get(ix, HOST_ONE_LABEL, p, w->len - (size_t)(p - w->host));
                if (e != NULL)
                    return e;
            }
            break;
        default:
            p = w->suffix;
            if (p == NULL) {
                w->stage = 3;
                break;
            }
            w->suffix = host_next_suffix(p);
            e = host_index_get(ix, HOST_ANY_DEPTH, p, w->len - (size_t)(p - w->host));
            if (e != NULL)
                return e;
            break;
        }
    }
    return NULL;
}
