/* The file module's model: pinsets as read from pins.d, owned by a list. */
#ifndef FILE_PINSET_H
#define FILE_PINSET_H

#include <stddef.h>
#include <stdint.h>
#include <tlspin/module.h>

/* Hard caps. A pinset name fits tlspin_finding.rule without truncation. */
#define PINSET_NAME_MAX 127
#define PINSET_PINS_MAX 64
#define PINSET_DENY_MAX 256
#define PINSET_PORTS_MAX 256
#define PINSET_TOTAL_HOSTS_MAX 1000000
#define PINSET_TOTAL_MAX 1000000

struct pinset_host {
    char *pattern;               /* normalised by the host's host_normalize */
    unsigned line;
};

struct pinset {
    char *name;
    const char *file;            /* owned by the list (files[]) */
    unsigned line;               /* the pinset's "{" */

    unsigned char (*pins)[TLSPIN_PIN_LEN]; /* distinct, in configured order */
    size_t n_pins;
    unsigned pins_line;
    unsigned char (*deny)[TLSPIN_PIN_LEN]; /* distinct */
    size_t n_deny;
    unsigned *ports;             /* sorted, distinct; none: any port */
    size_t n_ports;
    struct pinset_host *hosts;
    size_t n_hosts;

    int has_expiry;
    int64_t expiry_day;          /* last UTC day (since 1970) it is enforced */
    char expires_text[11];       /* as written, "YYYY-MM-DD" */
    unsigned expires_line;

    int report_only;
    int allow_single_pin;
};

struct pinset_list {
    struct pinset *items;
    size_t n, cap;
    char **files;                /* paths the pinsets point into */
    size_t n_files, cap_files;
    size_t n_hosts;              /* sum of items[].n_hosts */
};

/* Frees everything the list owns and zeroes it. NULL-safe. */
void pinset_list_free(struct pinset_list *list);

/* Frees what one pinset owns and zeroes it. NULL-safe. */
void pinset_free(struct pinset *ps);

/* Appends ps to the list, taking what it owns (ps is zeroed). */
int pinset_list_append(struct pinset_list *list, struct pinset *ps)
    __attribute__((warn_unused_result));

/* Keeps a copy of path for the lifetime of the list; NULL on no memory. */
const char *pinset_list_add_file(struct pinset_list *list, const char *path);

/* 1 when the pinset lists port explicitly. */
int pinset_has_port(const struct pinset *ps, unsigned port);

/* 1 when two pinsets cannot share one host pattern: both for any port, or a
 * port listed by both (*common gets it, else 0). A pinset for any port and
 * one for listed ports may share a pattern: the listed port wins there. */
int pinset_ports_conflict(const struct pinset *a, const struct pinset *b, unsigned *common);

/* 1 when some port is covered by both pinsets (a pinset without ports covers
 * every port). */
int pinset_ports_meet(const struct pinset *a, const struct pinset *b);

/* 1 when `now` is past the end (UTC) of the expiry day. */
int pinset_expired(const struct pinset *ps, int64_t now);

#endif
