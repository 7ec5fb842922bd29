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
#include <stdint.h>

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
    size_t *ip_entries;          /* indexes into entries of IP addresses */
    size_t n_ip_entries;
};

/* Build the index over every host of every pinset in list (which must outlive
 * it). Two pinsets claiming one pattern for an overlapping port is an error
 * naming both places. Returns 0, or -1 with "file:line: reason" in err. */
int host_index_build(struct host_index *ix, const struct pinset_list *list, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

/* NULL-safe. */
void host_index_free(struct host_index *ix);

/* The patterns matching a normalised host, most specific first: the exact
 * name, then "*." over the name minus its first label, then "**." from the
 * longest suffix (the name itself) down to the last label. Ports and expiry
 * play no part here: the caller decides which entry and claims count.
 *     struct host_walk w;
 *     host_walk_begin(&w, host);
 *     while ((e = host_walk_next(ix, &w)) != NULL) ... */
struct host_walk {
    const char *host;
    size_t len;
    int stage;                   /* 0 exact, 1 "*.", 2 "**.", 3 done */
    const char *suffix;          /* next "**." key, in stage 2 */
};

void host_walk_begin(struct host_walk *w, const char *host);

/* The next matching entry, or NULL when there is none left. */
const struct host_entry *host_walk_next(const struct host_index *ix, struct host_walk *w);

/* The entry of one kind stored under a key, or NULL. */
const struct host_entry *host_index_get(const struct host_index *ix, enum host_kind kind,
                                        const char *key, size_t key_len);

/* Which claims of an entry are candidates for a connection to a port. A
 * port only chooses among the entry's pinsets, it never rules them all out:
 *   - port unknown (0): every claim;
 *   - else the claims that list the port, if any;
 *   - else the claims for any port (no ports listed), if any;
 *   - else every claim (as for an unknown port).
 * With live_only, only the claims still enforced at `now` are considered (an
 * expired pinset neither decides nor changes which others do). */
enum host_pick { HOST_PICK_PORT, HOST_PICK_ANY_PORT, HOST_PICK_ALL };

struct host_choice {
    enum host_pick pick;
    unsigned port;
    int live_only;
    int64_t now;
    size_t n_considered;         /* claims looked at: 0 means no candidate */
};

void host_choice_init(struct host_choice *c, const struct host_entry *e, unsigned port,
                      int live_only, int64_t now);

/* 1 when claim i of the entry the choice was made for is a candidate. */
int host_choice_has(const struct host_choice *c, const struct host_entry *e, size_t i);

/* 1 when a normalised exact pattern is an IP address: IPv6 has a ':', and
 * the only names whose last label is a number that host_normalize lets
 * through are dotted-quad IPv4 addresses. */
int host_pattern_is_ip(const char *pattern);

/* The name without its first label ("a.b.c" -> "b.c"), or NULL for a
 * single label. */
const char *host_next_suffix(const char *name);

/* The kind of a normalised pattern and the key it is stored under. */
enum host_kind host_pattern_kind(const char *pattern, const char **key);

#endif
