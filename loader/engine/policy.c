/* Loading the policy and its modules. A failure anywhere is kept as a fault
 * in the loaded policy, never thrown away: Linux-PAM keeps a module that
 * failed to load as a faulty entry that fails when dispatched. */
#include "policy.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#ifndef TLSPIN_DEFAULT_CONFIG
#define TLSPIN_DEFAULT_CONFIG "/etc/tlspin/tlspin.conf"
#endif
#ifndef TLSPIN_MODULEDIR_INSTALLED
#define TLSPIN_MODULEDIR_INSTALLED "/usr/lib/x86_64-linux-gnu/tlspin/modules"
#endif

#define LOAD_ERR_MAX 1024

static void open_entry(struct policy *p, size_t i)
{
    struct policy_entry *e = &p->entries[i];
    struct tlspin_args args = { e->config->args, e->config->n_args };
    /* A load runs on the program's thread, whose stack may be small (issue
     * 13, point 5): its messages live on the heap. */
    struct {
        char err[1024], where[1200];
    } *m = calloc(1, sizeof(*m));
    char *err;

    if (m == NULL) {
        /* Not loaded: decide() refuses by the entry's control, as for
         * any module that failed to load. */
        e->fault = strdup("out of memory opening a module");
        return;
    }
    err = m->err;

    e->host_ctx.module_name = e->config->module;
    e->host_ctx.log = &p->log;
    hostsvc_init(&e->host, &e->host_ctx);
    if (module_load(e->config->path, &e->module, err, sizeof(m->err)) == 0) {
        e->host_ctx.module_name = e->module.desc->name;
        if (e->module.desc->open(&e->host, &args, &e->state, err, sizeof(m->err)) == 0) {
            p->caps |= e->module.desc->caps;
            if (e->module.desc->abi_minor < 1)
                p->eager_leaf_match = 1;
            free(m);
            return;
        }
        if (err[0] == '\0')
            snprintf(err, sizeof(m->err), "module %s refused its configuration",
                     e->config->module);
        e->state = NULL;   /* the descriptor stays: watch() still says when to retry */
    }
    /* Name the stack entry, unless the module already named a place in the
     * policy file (its args' file:line). */
    size_t flen = strlen(e->config->file);
    if (strncmp(err, e->config->file, flen) == 0 && err[flen] == ':')
        snprintf(m->where, sizeof(m->where), "%s", err);
    else
        snprintf(m->where, sizeof(m->where), "%s:%u: %s", e->config->file, e->config->line,
                 err);
    e->fault = strdup(m->where);
    free(m);
}

struct policy *policy_load(const char *path, const char *moduledir)
{
    return policy_load_with(path, moduledir, NULL, NULL);
}

struct policy *policy_load_with(const char *path, const char *moduledir,
                                policy_rewrite_fn *rewrite, void *ctx)
{
    struct policy *p = calloc(1, sizeof(*p));
    char *err = malloc(LOAD_ERR_MAX);   /* the program's stack may be small */

    if (p == NULL || err == NULL) {
        free(p);
        free(err);
        return NULL;   /* the caller's out-of-memory policy: fail closed */
    }
    p->log.facility = POLICY_DEFAULT_FACILITY;
    p->log.level = POLICY_DEFAULT_LEVEL;
    p->log.rate_limit_seconds = POLICY_DEFAULT_RATE_LIMIT;
    if (config_load(path, moduledir, &p->config, err, LOAD_ERR_MAX) != 0) {
        p->fault = strdup(err);
        free(err);
        return p;
    }
    if (rewrite != NULL && rewrite(p->config, ctx, err, LOAD_ERR_MAX) != 0) {
        /* Without a configuration the policy is faulty even when strdup
         * fails (policy_first_fault): never an empty, clean stack. */
        config_free(p->config);
        p->config = NULL;
        p->fault = strdup(err);
        free(err);
        return p;
    }
    free(err);
    p->log.facility = p->config->facility;
    p->log.level = p->config->level;
    p->log.rate_limit_seconds = p->config->rate_limit_seconds;
    p->entries = calloc(p->config->n_stack + 1, sizeof(*p->entries));
    if (p->entries == NULL) {
        p->fault = strdup("out of memory");
        return p;
    }
    p->n_entries = p->config->n_stack;
    for (size_t i = 0; i < p->n_entries; i++) {
        p->entries[i].config = &p->config->stack[i];
        open_entry(p, i);
    }
    return p;
}

void policy_free(struct policy *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_entries; i++) {
        struct policy_entry *e = &p->entries[i];
        if (e->module.desc && e->state)
            e->module.desc->close(e->state);
        module_unload(&e->module);
        free(e->fault);
    }
    free(p->entries);
    free(p->fault);
    config_free(p->config);
    policy_free(p->broken);
    free(p);
}

const char *policy_default_path(void)
{
    const char *env = secure_getenv("TLSPIN_CONFIG");
    return env && env[0] == '/' ? env : TLSPIN_DEFAULT_CONFIG;
}

static char moduledir[PATH_MAX];
static pthread_once_t moduledir_once = PTHREAD_ONCE_INIT;

static void find_moduledir(void)
{
    Dl_info info;
    const char *slash;

    if (dladdr((void *)&policy_moduledir, &info) && info.dli_fname &&
        info.dli_fname[0] == '/' && (slash = strrchr(info.dli_fname, '/')) != NULL &&
        snprintf(moduledir, sizeof(moduledir), "%.*s/modules", (int)(slash - info.dli_fname),
                 info.dli_fname) < (int)sizeof(moduledir))
        return;
    snprintf(moduledir, sizeof(moduledir), "%s", TLSPIN_MODULEDIR_INSTALLED);
}

const char *policy_moduledir(void)
{
    pthread_once(&moduledir_once, find_moduledir);
    return moduledir;
}

int policy_has_fault(const struct policy *p)
{
    return policy_first_fault(p) != NULL;
}

const char *policy_first_fault(const struct policy *p)
{
    if (p->fault != NULL || p->config == NULL)
        return p->fault ? p->fault : "no policy";
    for (size_t i = 0; i < p->n_entries; i++)
        if (p->entries[i].fault != NULL)
            return p->entries[i].fault;
    return NULL;
}
