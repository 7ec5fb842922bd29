/* One slot per thread in a list that only grows; a slot is reused after its
 * thread exits. Readers write only their own slot: the decision path shares
 * no written cache line between threads. */
#include "hazard.h"

#include <pthread.h>
#include <stdlib.h>

struct slot {
    const void *_Atomic object;
    atomic_int taken;
    struct slot *next;
};

static struct slot *_Atomic slots;
static __thread struct slot *mine;
static __thread unsigned depth;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

static void slot_give_back(void *arg)
{
    struct slot *s = arg;
    atomic_store(&s->object, NULL);
    atomic_store(&s->taken, 0);
}

static void make_key(void)
{
    key_ok = pthread_key_create(&exit_key, slot_give_back) == 0;
}

static struct slot *my_slot(void)
{
    struct slot *s;

    if (mine != NULL)
        return mine;
    pthread_once(&key_once, make_key);
    for (s = atomic_load(&slots); s != NULL; s = s->next) {
        int free_slot = 0;
        if (atomic_compare_exchange_strong(&s->taken, &free_slot, 1))
            break;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL)
            return NULL;
        atomic_store(&s->taken, 1);
        s->next = atomic_load(&slots);
        while (!atomic_compare_exchange_weak(&slots, &s->next, s))
            ;
    }
    if (key_ok)
        pthread_setspecific(exit_key, s);
    return mine = s;
}

/* Readers that got no slot (no memory): while any is reading, nothing is
 * reclaimed. */
static atomic_int unprotected;

const void *hazard_acquire(const void *_Atomic *shared)
{
    struct slot *s = depth == 0 ? my_slot() : mine;
    const void *p;

    if (depth++ > 0)
        return s ? atomic_load(&s->object) : atomic_load(shared);
    if (s == NULL) {
        atomic_fetch_add(&unprotected, 1);
        return atomic_load(shared);
    }
    /* Publish, then check the object is still the shared one: a reclaimer
     * that swapped it out either sees our slot or we see its swap. */
    do {
        p = atomic_load(shared);
        atomic_store(&s->object, p);
    } while (p != atomic_load(shared));
    return p;
}

void hazard_release(void)
{
    if (depth == 0 || --depth > 0)
        return;
    if (mine != NULL)
        atomic_store(&mine->object, NULL);
    else
        atomic_fetch_sub(&unprotected, 1);
}

int hazard_in_use(const void *object)
{
    if (atomic_load(&unprotected) > 0)
        return 1;
    for (struct slot *s = atomic_load(&slots); s != NULL; s = s->next)
        if (atomic_load(&s->object) == object)
            return 1;
    return 0;
}
