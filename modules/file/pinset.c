/* The file module's model: ownership and small questions about pinsets. */
#include "pinset.h"

#include <stdlib.h>
#include <string.h>

#include "date.h"

void pinset_free(struct pinset *ps)
{
    size_t i;

    if (ps == NULL)
        return;
    for (i = 0; i < ps->n_hosts; i++)
        free(ps->hosts[i].pattern);
    free(ps->hosts);
    free(ps->name);
    free(ps->pins);
    free(ps->deny);
    free(ps->ports);
    memset(ps, 0, sizeof(*ps));
}

void pinset_list_free(struct pinset_list *list)
{
    size_t i;

    if (list == NULL)
        return;
    for (i = 0; i < list->n; i++)
        pinset_free(&list->items[i]);
    free(list->items);
    for (i = 0; i < list->n_files; i++)
        free(list->files[i]);
    free(list->files);
    memset(list, 0, sizeof(*list));
}

/* Make room for one more element of an array that doubles. */
static int grow_for_one(void **items, size_t *cap, size_t n, size_t size)
{
    size_t new_cap;
    void *p;

    if (n < *cap)
        return 0;
    new_cap = *cap ? *cap * 2 : 16;
    if (new_cap > SIZE_MAX / size)
        return -1;
    p = realloc(*items, new_cap * size);
    if (p == NULL)
        return -1;
    *items = p;
    *cap = new_cap;
    return 0;
}

int pinset_list_append(struct pinset_list *list, struct pinset *ps)
{
    void *items = list->items;

    if (grow_for_one(&items, &list->cap, list->n, sizeof(*list->items)) != 0)
        return -1;
    list->items = items;
    list->items[list->n++] = *ps;
    list->n_hosts += ps->n_hosts;
    memset(ps, 0, sizeof(*ps)); /* transferred */
    return 0;
}

const char *pinset_list_add_file(struct pinset_list *list, const char *path)
{
    void *files = list->files;
    char *copy;

    if (grow_for_one(&files, &list->cap_files, list->n_files, sizeof(*list->files)) != 0)
        return NULL;
    list->files = files;
    copy = strdup(path);
    if (copy == NULL)
        return NULL;
    list->files[list->n_files++] = copy;
    return copy;
}

int pinset_has_port(const struct pinset *ps, unsigned port)
{
    size_t i;

    for (i = 0; i < ps->n_ports; i++)
        if (ps->ports[i] == port)
            return 1;
    return 0;
}

/* A port listed by both, or 0. */
static unsigned common_port(const struct pinset *a, const struct pinset *b)
{
    size_t i;

    for (i = 0; i < a->n_ports; i++)
        if (pinset_has_port(b, a->ports[i]))
            return a->ports[i];
    return 0;
}

int pinset_ports_conflict(const struct pinset *a, const struct pinset *b, unsigned *common)
{
    *common = common_port(a, b);
    return (a->n_ports == 0 && b->n_ports == 0) || *common != 0;
}

int pinset_ports_meet(const struct pinset *a, const struct pinset *b)
{
    return a->n_ports == 0 || b->n_ports == 0 || common_port(a, b) != 0;
}

int pinset_expired(const struct pinset *ps, int64_t now)
{
    return ps->has_expiry && date_day_of(now) > ps->expiry_day;
}
