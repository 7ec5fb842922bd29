/* The lookup table from host names to the pinsets that claim them.
 *
 * Three hash maps, one per kind of pattern, each keyed by the name part:
 *   exact        "api.example.com"   -> key "api.example.com"
 *   one label    "*.pay.example.com" -> key "pay.example.com"
 *   any depth    "**.example.net"    -> key "example.net"
 * A lookup costs one probe for the exact name, one for the name minus its
 * first label, and one per suffix of the name (longest first): O(labels). */
#ifndef FILE_HOST_INDEX_H
#define FILE_HOST_INDEX_H

#include <stddef.h>

#include "pinset.h"
#include "strmap.h"

enum host_kind { HOST_EXACT = 0, HOST_ONE_LABEL = 1, HOST_ANY_DEPTH = 2 };

/* One pinset claiming a pattern, where it was written. */
struct host_claim {
    const struct pinset *pinset;
    unsigned line;
};

/* All pinsets claiming one normalised pattern. Claims never overlap in ports
 * (checked when the index is built). */
struct host_entry {
    const char *pattern;         /* as normalised, e.g. "*.pay.example.com" */
    enum host_kind kind;
    struct host_claim *claims;
    size_t n_claims, cap_claims;
};

struct host_index {
    struct strmap maps[3];       /* by enum host_kind */
    struct host_entry *entries;  /* one per distinct pattern */
    size_t n_entries;
};

/* Build the index over every host of every pinset in list (which must outlive
 * it). Two pinsets claiming one pattern for an overlapping port is an error
 * naming both places. Returns 0, or -1 with "file:line: reason" in err. */
int host_index_build(struct host_index *ix, const struct pinset_list *list, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

/* NULL-safe. */
void host_index_free(struct host_index *ix);

/* The most specific pattern matching a normalised host that has a claim for
 * the port: exact, then "*.", then "**." from the longest suffix down. port 0
 * (unknown) takes any claim. NULL when none. */
const struct host_entry *host_index_find(const struct host_index *ix, const char *host,
                                         unsigned port);

/* The entry of one kind stored under a key, or NULL. */
const struct host_entry *host_index_get(const struct host_index *ix, enum host_kind kind,
                                        const char *key, size_t key_len);

/* 1 when claim i of the entry decides a connection to port: with a known
 * port, a claim that lists the port beats one for any port; with port 0
 * every claim is a candidate. */
int host_entry_is_candidate(const struct host_entry *e, size_t i, unsigned port);

/* The name without its first label ("a.b.c" -> "b.c"), or NULL for a
 * single label. */
const char *host_next_suffix(const char *name);

/* The kind of a normalised pattern and the key it is stored under. */
enum host_kind host_pattern_kind(const char *pattern, const char **key);

#endif
