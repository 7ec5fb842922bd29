/* cache.c — see ct.h. One mutex; lookups are a hash bucket compare. */
#include "ct.h"

#include <string.h>

void ct_cache_init(struct ct_cache *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
}

void ct_cache_destroy(struct ct_cache *c)
{
    pthread_mutex_destroy(&c->mu);
}

static size_t bucket(const unsigned char key[32])
{
    size_t h;
    memcpy(&h, key, sizeof h);
    return h % CT_CACHE_SLOTS;
}

int ct_cache_get(struct ct_cache *c, int leaf, const unsigned char key[32])
{
    struct ct_cache_slot *s = &(leaf ? c->leaf : c->sig)[bucket(key)];
    int v = -1;

    pthread_mutex_lock(&c->mu);
    if (s->used && memcmp(s->key, key, 32) == 0)
        v = s->value;
    if (!leaf) {
        if (v < 0)
            c->sig_misses++;
        else
            c->sig_hits++;
    }
    pthread_mutex_unlock(&c->mu);
    return v;
}

void ct_cache_put(struct ct_cache *c, int leaf, const unsigned char key[32], int value)
{
    struct ct_cache_slot *s = &(leaf ? c->leaf : c->sig)[bucket(key)];

    pthread_mutex_lock(&c->mu);
    memcpy(s->key, key, 32);
    s->used = 1;
    s->value = value;
    pthread_mutex_unlock(&c->mu);
}
