/* A loaded policy: the parsed file, its modules opened, ready to decide. */
#ifndef TLSPIN_POLICY_H
#define TLSPIN_POLICY_H

#include "engine_export.h"

#include <stddef.h>
#include <stdint.h>
#include <tlspin/module.h>

#include "config.h"
#include "hostsvc.h"
#include "module_load.h"
#include "record.h"

struct policy_entry {
    const struct stack_entry_config *config;
    struct loaded_module module;
    void *state;
    char *fault;                 /* why the module cannot run; NULL when healthy */
    struct tlspin_host host;
    struct hostsvc_ctx host_ctx;
};

struct policy {
    struct policy_config *config; /* NULL when the policy file could not be read */
    char *fault;                  /* why the policy file is unusable; NULL if fine */
    struct policy_entry *entries;
    size_t n_entries;
    struct log_settings log;
    uint32_t caps;                /* union of the healthy modules' capabilities */
    int eager_leaf_match;         /* a module built for ABI 1.0 reads
                                     tlspin_conn.leaf_matches_host itself */
    unsigned long generation;     /* 1, 2, ... as the process-wide policy is
                                     replaced (0: not the process-wide one) */
    struct policy *broken;        /* set on a last good policy loaded from its
                                     snapshot (last_good.h): the faulty policy
                                     it stands in for, kept (owned) so that
                                     reloads watch the real files, not the
                                     snapshot's */
};

/* Always returns a policy (NULL only without memory): a broken file or
 * module is kept in it as a fault and decides per `on_error` when it is
 * dispatched, not by vanishing. Faults are recorded by the decisions they
 * take part in (see decide.c), never at load: a process that makes no
 * handshake has nothing to report. */
TLSPIN_ENGINE_API struct policy *policy_load(const char *path, const char *moduledir);
TLSPIN_ENGINE_API void policy_free(struct policy *policy);

/* policy_load, with `rewrite` called on the parsed configuration before
 * any module is loaded (last_good.c points paths into a snapshot); a
 * non-zero return becomes the policy's fault, with the text it wrote. */
typedef int policy_rewrite_fn(struct policy_config *config, void *ctx, char *err, size_t errlen);
struct policy *policy_load_with(const char *path, const char *moduledir,
                                policy_rewrite_fn *rewrite, void *ctx);

/* 1 when the policy or any of its entries is faulty. */
TLSPIN_ENGINE_API int policy_has_fault(const struct policy *policy);

/* The first fault of the policy (file or entry), or NULL. */
TLSPIN_ENGINE_API const char *policy_first_fault(const struct policy *policy);

/* The process-wide policy (policy_current.c): loaded at first use, reloaded
 * when its files change. Every policy_acquire() MUST be paired with a
 * policy_release() in the same thread; the policy stays valid in between,
 * even if a reload replaces it. Never returns NULL. */
const struct policy *policy_acquire(void);
void policy_release(void);

/* How often the files behind the policy are checked for changes. */
#define POLICY_RELOAD_INTERVAL_MS 1000

/* TLSPIN_CONFIG when the environment may be trusted (secure_getenv), else
 * the built-in default. */
TLSPIN_ENGINE_API const char *policy_default_path(void);

/* <directory of libtlspin-engine.so>/modules */
TLSPIN_ENGINE_API const char *policy_moduledir(void);

#endif
