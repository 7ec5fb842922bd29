/* The process-wide policy: loaded at the first handshake, reloaded when the
 * files behind it change, published without a lock on the decision path.
 *
 * About once a second (POLICY_RELOAD_INTERVAL_MS) the first handshake to come
 * along stats the policy file, each module's shared object and what each
 * module says it reads (module watch()). When that fingerprint changed, and
 * nothing changed in the last 100 ms (a file still being written waits for
 * the next check), it loads the whole policy again. The new policy replaces the old one only if
 * it has no fault, or the old one had one too: a pinset caught half-written
 * or edited into a syntax error never drops enforcement; the last good policy
 * stays and a record says why, once per broken state. With no good policy in
 * memory (a new process, or one deciding by on_error so far), the last good
 * policy committed to disk (last_good.h) stands in for the broken one, with a
 * record (action=using-last-good); the files watched stay the broken
 * policy's, so fixing them replaces the stand-in. Readers publish the
 * policy they use in a hazard slot, so a replaced policy is freed only when
 * no thread still uses it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "hazard.h"
#include "last_good.h"
#include "policy.h"
#include "record.h"

struct retired {
    struct policy *policy;
    struct retired *next;
};

static const void *_Atomic current;          /* const struct policy * */
static pthread_once_t first_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int64_t next_check_ms;
static uint64_t current_fingerprint;         /* under reload_lock */
static uint64_t rejected_fingerprint;        /* last candidate refused */
static struct retired *retired;              /* under reload_lock */
static char policy_path[4096];

static struct policy out_of_memory_policy = {
    .fault = "out of memory loading the policy",
    .log = { POLICY_DEFAULT_FACILITY, POLICY_DEFAULT_LEVEL, POLICY_DEFAULT_RATE_LIMIT },
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a over whatever identifies a file's current content. */
static void mix(uint64_t *h, const void *data, size_t len)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < len; i++)
        *h = (*h ^ b[i]) * 1099511628211ull;
}

struct fingerprint {
    uint64_t hash;
    int64_t newest_change_ns;   /* latest mtime/ctime seen, wall clock */
};

static void mix_path(void *ctx, const char *path)
{
    struct fingerprint *fp = ctx;
    uint64_t *h = &fp->hash;
    struct stat st;
    int64_t id[7] = { 0 };

    mix(h, path, strlen(path) + 1);
    if (stat(path, &st) == 0) {
        id[0] = (int64_t)st.st_dev;
        id[1] = (int64_t)st.st_ino;
        id[2] = (int64_t)st.st_size;
        id[3] = (int64_t)st.st_mtim.tv_sec;
        id[4] = (int64_t)st.st_mtim.tv_nsec;
        id[5] = (int64_t)st.st_ctim.tv_sec;
        id[6] = (int64_t)st.st_ctim.tv_nsec;
        for (int k = 0; k < 2; k++) {
            const struct timespec *t = k ? &st.st_ctim : &st.st_mtim;
            int64_t ns = (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
            if (ns > fp->newest_change_ns)
                fp->newest_change_ns = ns;
        }
    } else {
        id[0] = -1;   /* missing is a state too: its appearance is a change */
    }
    mix(h, id, sizeof(id));
}

static struct fingerprint fingerprint(const struct policy *p)
{
    struct fingerprint fp = { 1469598103934665603ull, 0 };

    /* A last good policy stands in for a broken one: the files to watch are
     * the broken policy's (the real ones), never the snapshot's. */
    if (p->broken != NULL)
        p = p->broken;
    mix_path(&fp, policy_path);
    for (size_t i = 0; p->config && i < p->n_entries; i++) {
        const struct policy_entry *e = &p->entries[i];
        const struct tlspin_module *m = e->module.desc;   /* kept when open() failed */
        mix_path(&fp, e->config->path);
        if (module_has_watch(m)) {
            struct tlspin_args args = { e->config->args, e->config->n_args };
            m->watch(e->state, &args, mix_path, &fp);
        }
    }
    return fp;
}

/* A file changed less than this long ago may still be being written (an
 * editor rewriting in place): wait for the next check. Short, so that files
 * rewritten often still get read between writes. */
#define POLICY_SETTLE_NS (100 * 1000000LL)

static int settled(const struct fingerprint *fp)
{
    struct timespec now;
    int64_t now_ns;

    clock_gettime(CLOCK_REALTIME, &now);
    now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    /* A time stamp in the future (clock skew, an unpacked archive) must not
     * hold reloads back for ever. */
    return fp->newest_change_ns > now_ns || now_ns - fp->newest_change_ns >= POLICY_SETTLE_NS;
}

static void reclaim(void)
{
    struct retired **link = &retired;
    while (*link != NULL) {
        struct retired *r = *link;
        if (hazard_in_use(r->policy)) {
            link = &r->next;
            continue;
        }
        *link = r->next;
        policy_free(r->policy);
        free(r);
    }
}

static void retire(struct policy *p)
{
    struct retired *r;
    if (p == &out_of_memory_policy)
        return;
    r = malloc(sizeof(*r));
    if (r == NULL)
        return;   /* without memory to remember it, the old policy is kept forever */
    r->policy = p;
    r->next = retired;
    retired = r;
}

static void log_kept(const struct policy *old, const struct policy *candidate)
{
    struct record r = { 0 };
    r.event = "policy-error";
    r.action = "kept-last-good";
    r.reason = policy_first_fault(candidate);
    record_emit(&old->log, &r);
}

/* The broken policy has no good one in memory to keep: a new process, or
 * one that has enforced on_error so far. The last good policy committed to
 * disk (tlspin check --commit) stands in for it when there is a clean one;
 * else the broken policy is used and on_error decides, as without a
 * snapshot. Either way one record says so. This runs only when the policy
 * has a fault: a good policy never looks at the disk. */
static struct policy *fall_back(struct policy *broken)
{
    /* On the heap, as the rest of a load: the program's stack may be small. */
    char *why = malloc(1024);
    struct record r = { 0 };
    struct policy *good;

    if (why == NULL)
        return broken;   /* the broken policy stands: on_error decides */
    why[0] = '\0';
    good = last_good_load(policy_path, policy_moduledir(), why, 1024);
    r.event = "policy-error";
    if (good == NULL) {
        if (why[0] != '\0') {
            r.action = "last-good-ignored";
            r.reason = why;
            record_emit(&broken->log, &r);
        }
        free(why);
        return broken;
    }
    free(why);
    good->broken = broken;
    r.action = "using-last-good";
    r.reason = policy_first_fault(broken);
    record_emit(&good->log, &r);
    return good;
}

/* Under reload_lock. */
static void reload_if_changed(void)
{
    const struct policy *old = atomic_load(&current);
    struct fingerprint now = fingerprint(old);
    uint64_t fp = now.hash;
    struct policy *candidate;

    reclaim();
    if (fp == current_fingerprint || fp == rejected_fingerprint || !settled(&now))
        return;
    candidate = policy_load(policy_path, policy_moduledir());
    if (candidate == NULL)
        return;
    if (policy_has_fault(candidate) && !policy_has_fault(old) && old->broken == NULL) {
        log_kept(old, candidate);
        rejected_fingerprint = fp;
        policy_free(candidate);
        return;
    }
    if (policy_has_fault(candidate)) {
        /* Broken again (or still, in another way): the last good policy on
         * disk stands in, read afresh. When it cannot, a stand-in already
         * in force stays: protection in memory is never dropped. */
        struct policy *stand_in = fall_back(candidate);
        if (stand_in == candidate && old->broken != NULL) {
            log_kept(old, candidate);
            rejected_fingerprint = fp;
            policy_free(candidate);
            return;
        }
        candidate = stand_in;
    }
    candidate->generation = old->generation + 1;
    atomic_store(&current, candidate);
    /* The published policy's own fingerprint (a stand-in watches what its
     * broken policy reads), so that the same broken state is not loaded and
     * recorded again at the next check. */
    current_fingerprint = candidate->broken != NULL ? fingerprint(candidate).hash : fp;
    rejected_fingerprint = 0;
    retire((struct policy *)old);
    reclaim();
}

static void reset_lock_in_child(void)
{
    pthread_mutex_init(&reload_lock, NULL);
}

static void first_load(void)
{
    struct policy *p;

    snprintf(policy_path, sizeof(policy_path), "%s", policy_default_path());
    p = policy_load(policy_path, policy_moduledir());
    if (p == NULL)
        p = &out_of_memory_policy;
    else if (policy_has_fault(p))
        p = fall_back(p);
    p->generation = 1;
    current_fingerprint = fingerprint(p).hash;
    atomic_store(&current, p);
    atomic_store(&next_check_ms, now_ms() + POLICY_RELOAD_INTERVAL_MS);
    pthread_atfork(NULL, NULL, reset_lock_in_child);
}

const struct policy *policy_acquire(void)
{
    int64_t now;

    pthread_once(&first_once, first_load);
    now = now_ms();
    if (now >= atomic_load_explicit(&next_check_ms, memory_order_relaxed) &&
        pthread_mutex_trylock(&reload_lock) == 0) {
        atomic_store(&next_check_ms, now + POLICY_RELOAD_INTERVAL_MS);
        reload_if_changed();
        pthread_mutex_unlock(&reload_lock);
    }
    return hazard_acquire(&current);
}

void policy_release(void)
{
    hazard_release();
}
