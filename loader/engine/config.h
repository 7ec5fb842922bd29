/* tlspin.conf: reading the policy file into plain data (no modules loaded). */
#ifndef TLSPIN_CONFIG_H
#define TLSPIN_CONFIG_H

#include "engine_export.h"

#include <stddef.h>
#include <syslog.h>
#include <tlspin/module.h>

enum policy_mode { MODE_ENFORCE = 0, MODE_REPORT = 1 };

enum control_flag {
    CONTROL_REQUIRED = 0,
    CONTROL_REQUISITE = 1,
    CONTROL_SUFFICIENT = 2,
    CONTROL_OPTIONAL = 3
};

struct stack_entry_config {
    char *module;              /* as written in the policy */
    char *path;                /* the shared object to load */
    enum control_flag control;
    struct tlspin_arg *args;   /* owned: keys, values and files */
    size_t n_args;
    char *file;
    unsigned line;
};

struct policy_config {
    char *path;
    enum policy_mode mode;
    int unpinned_deny;         /* 1: hosts nobody has an opinion on are refused */
    int on_error_allow;        /* 1: a broken policy or module lets handshakes through */
    int facility;              /* syslog facility (LOG_AUTHPRIV...) */
    int level;                 /* syslog level of decision records */
    unsigned rate_limit_seconds;
    struct stack_entry_config *stack;
    size_t n_stack;
};

/* Defaults that apply before (or without) a readable policy. */
#define POLICY_DEFAULT_FACILITY LOG_AUTHPRIV
#define POLICY_DEFAULT_LEVEL LOG_WARNING
#define POLICY_DEFAULT_RATE_LIMIT 60

/* Reads and validates `path`. A bare module name resolves to
 * `<moduledir>/<name>.so`. On failure returns -1 and writes
 * "<file>:<line>: <reason>" into err. */
int config_load(const char *path, const char *moduledir, struct policy_config **out,
                char *err, size_t errlen) __attribute__((warn_unused_result));
void config_free(struct policy_config *config);

/* Calls each() with the path of every file the policy @includes (and they
 * include), as libconfig will open it. For the last good snapshot
 * (last_good.c), which must hold them. Returns 0, or -1 with why in err. */
int config_list_includes(const char *path, void (*each)(void *ctx, const char *file),
                         void *ctx, char *err, size_t errlen);

TLSPIN_ENGINE_API const char *control_name(enum control_flag control);

#endif
