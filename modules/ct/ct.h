/* ct.h — the ct module's parts: the log list (loglist.c), SCT verification
 * (verify.c), the policies (policy.c), the verified-SCT cache (cache.c). */
#ifndef CT_CT_H
#define CT_CT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum log_state {
    LOG_PENDING, LOG_QUALIFIED, LOG_USABLE, LOG_READONLY, LOG_RETIRED, LOG_REJECTED
};

struct ct_log {
    char *description;
    char *operator_name;
    unsigned operator_idx;      /* index of the operator: diversity counting */
    unsigned char log_id[32];   /* SHA-256 of the DER SPKI */
    EVP_PKEY *key;
    enum log_state state;
    int64_t state_since;        /* seconds; for retired: the retirement time */
    int64_t interval_start;     /* temporal_interval (seconds), 0/0: none */
    int64_t interval_end;
};

struct ct_loglist {
    struct ct_log *logs;
    size_t n;
    unsigned n_operators;
    int64_t timestamp;          /* log_list_timestamp, or the file's mtime */
    char *path;
};

/* Load the v3 JSON or ct_log_list.cnf at path; strict: any bad entry is an
 * error "path:line: ..." and nothing is loaded. */
int ct_loglist_load(struct ct_loglist *ll, const char *path, char *err, size_t errlen);
void ct_loglist_free(struct ct_loglist *ll);
const struct ct_log *ct_loglist_find(const struct ct_loglist *ll, const unsigned char id[32]);
const char *ct_log_state_name(enum log_state s);
/* "2026-11-26T12:00:00Z" (fraction and a zone offset "Z" accepted). -1 on error. */
int ct_parse_time(const char *s, int64_t *out);

enum sct_channel { CH_EMBEDDED = 0, CH_TLS = 1, CH_OCSP = 2 };

enum sct_status {
    SCT_OK = 0,
    SCT_UNKNOWN_LOG,
    SCT_BAD_SIGNATURE,
    SCT_FUTURE,
    SCT_LOG_RETIRED,        /* logged at/after the log's retirement */
    SCT_LOG_UNTRUSTED,      /* pending or rejected log */
    SCT_OUTSIDE_INTERVAL,   /* certificate expiry outside the log's shard */
    SCT_UNSUPPORTED,        /* SCT version or algorithm */
    SCT_NO_ISSUER           /* embedded SCT, issuer unknown */
};
const char *ct_sct_status_name(enum sct_status s);

struct sct_result {
    enum sct_channel channel;
    enum sct_status status;
    const struct ct_log *log;   /* NULL when unknown */
    unsigned char log_id[32];
    uint64_t timestamp_ms;
};

/* Everything the policy needs about one leaf. */
struct ct_eval {
    struct sct_result *r;
    size_t n;
    int64_t lifetime_days;      /* notAfter - notBefore, in days (rounded up) */
    int64_t not_after;
};

enum ct_policy_kind { POLICY_MIN, POLICY_CHROME, POLICY_APPLE };

struct ct_policy {
    enum ct_policy_kind kind;
    unsigned min_scts, min_operators;
};

/* 1 pass; 0 fail with event/reason/expected written. */
int ct_policy_eval(const struct ct_policy *p, const struct ct_eval *e, char *event,
                   size_t eventlen, char *reason, size_t reasonlen, char *expected,
                   size_t expectedlen);
const char *ct_policy_name(const struct ct_policy *p);

/* Verify one serialized SCT (TLS encoding) for the leaf of channel ch. */
struct ct_leaf {
    X509 *cert;
    const unsigned char *der;
    size_t der_len;
    unsigned char issuer_key_hash[32];
    int have_issuer;
    unsigned char *precert_tbs; /* TBS without the SCT list; NULL: not made yet */
    size_t precert_tbs_len;
};
struct ct_cache;
void ct_verify_sct(const struct ct_loglist *ll, struct ct_cache *cache, struct ct_leaf *leaf,
                   const unsigned char *sct, size_t sct_len, enum sct_channel ch, int64_t now,
                   struct sct_result *out);

/* The cache: thread-safe, fixed size (a slot is overwritten when its hash
 * bucket is taken): the signature verdict per (leaf, issuer, SCT) and the
 * last verdict per leaf (for resumption). */
#define CT_CACHE_SLOTS 1024
struct ct_cache_slot {
    unsigned char key[32];
    int used;
    int value;
};
struct ct_cache {
    pthread_mutex_t mu;
    struct ct_cache_slot sig[CT_CACHE_SLOTS];
    struct ct_cache_slot leaf[CT_CACHE_SLOTS];
    unsigned long sig_hits, sig_misses;
};
void ct_cache_init(struct ct_cache *c);
void ct_cache_destroy(struct ct_cache *c);
/* -1 unknown, else the value stored. */
int ct_cache_get(struct ct_cache *c, int leaf, const unsigned char key[32]);
void ct_cache_put(struct ct_cache *c, int leaf, const unsigned char key[32], int value);

#endif
