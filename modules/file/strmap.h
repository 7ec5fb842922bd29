/* A string-keyed hash map (open addressing, linear probing). Keys are
 * borrowed: they must outlive the map. Lookups take (key, length) so callers
 * can look up suffixes of a name without copying it. */
#ifndef FILE_STRMAP_H
#define FILE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
    const char *key;      /* NULL: empty slot */
    size_t key_len;
    uint64_t hash;
    void *value;
};

struct strmap {
    struct strmap_slot *slots;
    size_t cap;           /* a power of two, or 0 before the first insert */
    size_t n;
};

/* Empty map sized for about `expected` keys. Returns 0 or -1 (no memory). */
int strmap_init(struct strmap *m, size_t expected) __attribute__((warn_unused_result));

/* Frees the slots, not the keys or values. NULL-safe. */
void strmap_free(struct strmap *m);

/* The value stored under key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key, size_t key_len);

/* Store value under a key that is not yet present (check with strmap_get).
 * Returns 0 or -1 (no memory). */
int strmap_put(struct strmap *m, const char *key, size_t key_len, void *value)
    __attribute__((warn_unused_result));

#endif
