/* A string-keyed hash map. The keys come from a root-owned configuration,
 * not from the network, so FNV-1a is enough; lookups with names from the
 * network only read. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#define STRMAP_MIN_CAP 16

static uint64_t strmap_hash(const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Smallest power of two >= 2 * n (load factor at most 1/2), or 0 on overflow. */
static size_t strmap_capacity_for(size_t n)
{
    size_t cap = STRMAP_MIN_CAP;

    while (cap / 2 < n) {
        if (cap > SIZE_MAX / 4)
            return 0;
        cap *= 2;
    }
    return cap;
}

int strmap_init(struct strmap *m, size_t expected)
{
    size_t cap = strmap_capacity_for(expected);

    memset(m, 0, sizeof(*m));
    if (cap == 0)
        return -1;
    m->slots = calloc(cap, sizeof(*m->slots));
    if (m->slots == NULL)
        return -1;
    m->cap = cap;
    return 0;
}

void strmap_free(struct strmap *m)
{
    if (m == NULL)
        return;
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

static struct strmap_slot *strmap_find_slot(struct strmap_slot *slots, size_t cap,
                                            const char *key, size_t len, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);

    for (;;) {
        struct strmap_slot *s = &slots[i];
        if (s->key == NULL)
            return s;
        if (s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
        i = (i + 1) & (cap - 1);
    }
}

void *strmap_get(const struct strmap *m, const char *key, size_t key_len)
{
    struct strmap_slot *s;

    if (m == NULL || m->cap == 0 || key == NULL)
        return NULL;
    s = strmap_find_slot(m->slots, m->cap, key, key_len, strmap_hash(key, key_len));
    return s->key != NULL ? s->value : NULL;
}

static int strmap_grow(struct strmap *m)
{
    size_t cap = m->cap * 2, i;
    struct strmap_slot *slots;

    if (m->cap > SIZE_MAX / 4)
        return -1;
    slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (i = 0; i < m->cap; i++) {
        struct strmap_slot *old = &m->slots[i];
        if (old->key != NULL)
            *strmap_find_slot(slots, cap, old->key, old->key_len, old->hash) = *old;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int strmap_put(struct strmap *m, const char *key, size_t key_len, void *value)
{
    struct strmap_slot *s;
    uint64_t h;

    if (m->cap == 0 && strmap_init(m, 0) != 0)
        return -1;
    if ((m->n + 1) * 2 > m->cap && strmap_grow(m) != 0)
        return -1;
    h = strmap_hash(key, key_len);
    s = strmap_find_slot(m->slots, m->cap, key, key_len, h);
    s->key = key;
    s->key_len = key_len;
    s->hash = h;
    s->value = value;
    m->n++;
    return 0;
}
