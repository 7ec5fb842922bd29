/*
 * tlspin/module.h — the tlspin policy-module ABI.
 *
 * A policy module is a shared object that tlspin loads (dlopen) when a policy
 * names it in the `stack` of /etc/tlspin/tlspin.conf. It exports exactly one
 * symbol, TLSPIN_MODULE_ENTRY, a function that returns a constant descriptor
 * (struct tlspin_module) of function pointers. Everything else a module needs
 * from tlspin arrives as a table of host services (struct tlspin_host).
 *
 * This header is a contract between tlspin and third-party modules:
 *   - It contains no OpenSSL, libconfig or other tlspin-internal type. Peer
 *     certificates cross it as borrowed DER bytes plus their SHA-256 SPKI
 *     pins, computed by tlspin. A module that links OpenSSL may use the opaque
 *     `ssl` handle of struct tlspin_conn (an `SSL *`).
 *   - Versioning: TLSPIN_ABI_MAJOR changes when an existing member changes
 *     meaning, type or position; tlspin refuses a module whose major differs
 *     from its own (logged, and counted as a failure of that stack entry under
 *     its control flag). TLSPIN_ABI_MINOR grows when members are appended;
 *     structs only ever grow at the end, and each side checks `struct_size`
 *     before touching a member the other side may not have.
 *   - The first three members of struct tlspin_module (abi_major, abi_minor,
 *     struct_size) keep their place in every future version.
 *
 * Words: MUST / MUST NOT / MAY as in RFC 2119.
 *
 * Building a module (see modules/file for a complete one):
 *     cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags tlspin-module) \
 *        -o mymod.so mymod.c
 *     install mymod.so "$(pkg-config --variable=moduledir tlspin-module)"
 */
#ifndef TLSPIN_MODULE_H
#define TLSPIN_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TLSPIN_ABI_MAJOR 1
#define TLSPIN_ABI_MINOR 2

/* The one symbol a module exports. Its type is tlspin_module_entry_fn. */
#define TLSPIN_MODULE_ENTRY "tlspin_module_describe"

/* Put this in front of the entry function so that it is the module's only
 * exported symbol when built with -fvisibility=hidden. */
#define TLSPIN_MODULE_EXPORT __attribute__((visibility("default")))

/* Length of a SHA-256 SPKI pin in bytes. */
#define TLSPIN_PIN_LEN 32

/* Longest host name or pattern host_normalize() writes, including the NUL. */
#define TLSPIN_HOST_TEXT_MAX 256

/* A pin in text form, "sha256/" + 44 base64 characters + NUL, fits here. */
#define TLSPIN_PIN_TEXT_MAX 64

/* ---------------------------------------------------------------------- */
/* Verdicts                                                                */
/* ---------------------------------------------------------------------- */

typedef enum tlspin_verdict {
    TLSPIN_PASS = 0,   /* the connection satisfies this module's policy */
    TLSPIN_FAIL = 1,   /* the connection violates this module's policy */
    TLSPIN_IGNORE = 2, /* this module has no opinion on this connection */
    TLSPIN_ERROR = 3   /* this module could not decide (treated as a failure
                          under the entry's control flag, then `on_error`) */
} tlspin_verdict;

/* ---------------------------------------------------------------------- */
/* The connection being decided                                            */
/* ---------------------------------------------------------------------- */

/* Where tlspin learnt the host name it matches policies against. */
typedef enum tlspin_host_source {
    TLSPIN_HOST_UNKNOWN = 0,      /* no name and no address: `host` is NULL */
    TLSPIN_HOST_SNI = 1,          /* the server name the client sends (SNI) */
    TLSPIN_HOST_VERIFY_NAME = 2,  /* the name the client verifies (SSL_set1_host) */
    TLSPIN_HOST_VERIFY_IP = 3,    /* the IP address the client verifies */
    TLSPIN_HOST_PEER_ADDRESS = 4, /* the socket's peer address (no name given) */
    TLSPIN_HOST_SESSION = 5       /* the host recorded when a session was made */
} tlspin_host_source;

/* How far the certificates in `verified` can be trusted. */
typedef enum tlspin_chain_trust {
    /* The program's own verification succeeded: `verified` is the chain it
     * built, leaf first, ending at a trust anchor of the program's store. */
    TLSPIN_CHAIN_APP_VERIFIED = 0,
    /* The program did not verify (or accepted a failure); tlspin verified the
     * presented certificates against the system trust store itself. */
    TLSPIN_CHAIN_SYSTEM_VERIFIED = 1,
    /* Nothing verified: `verified` holds only the leaf, whose key the server
     * proved it holds during the handshake. */
    TLSPIN_CHAIN_LEAF_ONLY = 2,
    /* The server authenticated with no certificate at all (an anonymous,
     * PSK or SRP cipher suite, or a TLS 1.3 external PSK): `verified` and
     * `presented` are empty. Such a connection satisfies no pin. (ABI 1.2;
     * a module built for an older header sees it as an unknown value and an
     * empty chain.) */
    TLSPIN_CHAIN_NONE = 3
} tlspin_chain_trust;

/* One certificate. All pointers are borrowed from tlspin for the duration of
 * the call that received them; a module MUST NOT keep them. Passed in
 * arrays, so this struct is frozen for ABI major 1 (it cannot grow). */
struct tlspin_cert {
    /* DER of the whole certificate. NULL (and der_len 0) unless the module's
     * descriptor has TLSPIN_CAP_CERT_DER: encoding costs time on every
     * handshake, so tlspin does it only when a loaded module asks. */
    const unsigned char *der;
    size_t der_len;
    /* SHA-256 of the DER SubjectPublicKeyInfo: the pin. Always set. */
    unsigned char spki_sha256[TLSPIN_PIN_LEN];
};

struct tlspin_conn {
    size_t struct_size;          /* sizeof(struct tlspin_conn) of tlspin */

    /* Host name the policy is matched against: lower case, no trailing dot,
     * an IPv6 literal without brackets in its canonical inet_ntop form.
     * NULL when host_source is TLSPIN_HOST_UNKNOWN. */
    const char *host;
    tlspin_host_source host_source;
    unsigned port;               /* server TCP port, 0 when unknown */
    const char *peer;            /* "addr:port" / "[v6]:port", or NULL */

    /* The chain to match pins against, leaf first; see tlspin_chain_trust.
     * Empty (n_verified 0) only with TLSPIN_CHAIN_NONE. */
    const struct tlspin_cert *verified;
    size_t n_verified;
    tlspin_chain_trust trust;

    /* The certificates exactly as the server sent them, leaf first. Untrusted:
     * any of them past the leaf may have been appended by an attacker, so a
     * module MUST NOT accept a connection because of a key found only here.
     * Empty (0) when deciding whether to resume a stored session. */
    const struct tlspin_cert *presented;
    size_t n_presented;

    /* 1 when tlspin decides whether the program may resume a stored session
     * (no certificate is exchanged then: `verified` is the chain recorded when
     * the session was made); 0 for a full handshake. */
    int resumption;

    int64_t now;                 /* decision time, seconds since the epoch */

    /* The OpenSSL `SSL *` of the connection, borrowed, or NULL (e.g. when
     * `tlspin check` evaluates a policy without a connection). A module MAY
     * read from it with OpenSSL getters. It MUST NOT read, write, shut down
     * or free it, change its verify settings, or leave entries on the
     * OpenSSL error queue. */
    void *ssl;

    /* Whether the leaf certificate is valid for `host` (its name or IP in the
     * subjectAltName: a DNS name, a wildcard for one whole leftmost label at
     * most, or an iPAddress; never the subject's CN): 1 yes,
     * 0 no, -1 unknown (no host). A key pinned on an intermediate or root
     * vouches for every certificate that CA issued, so a module MUST NOT
     * accept a connection because of a non-leaf pin unless this is 1; a
     * pinned leaf key needs no name. Set by tlspin 1.0 for every call. From
     * ABI 1.1 on, tlspin works it out only for a module that asks
     * (tlspin_host.leaf_matches_host: the certificate's names cost as much to
     * check as the rest of a decision): a module built for 1.1 MUST ask that
     * service when the host table has it, and read this member only from a
     * tlspin without it. tlspin 1.1 sets it only when a module built for 1.0
     * is in the stack, else leaves it -1 (so a module that reads it anyway
     * never accepts a CA pin: it fails closed). */
    int leaf_matches_host;

    /* ---- ABI 1.1: read only when struct_size covers them ---------------- */

    /* When check() is called: TLSPIN_PHASE_CERTIFICATE when the server's
     * certificate has been verified (every handshake, and resumption checks);
     * TLSPIN_PHASE_SERVER_FLIGHT for the second call of a TLS 1.2 handshake,
     * after the server's whole first flight (see staple_pending). */
    int phase;

    /* The OCSP response the server stapled in this handshake (DER, not
     * verified by anyone), borrowed for the call; NULL when none came, or not
     * yet: in TLS 1.2 the staple follows the certificate, so at
     * TLSPIN_PHASE_CERTIFICATE it is still NULL. */
    const unsigned char *ocsp_response;
    size_t ocsp_response_len;

    /* 1 when tlspin can call check() again at TLSPIN_PHASE_SERVER_FLIGHT,
     * before the client sends anything more, with the staple: a module whose
     * FAIL the staple could turn into a PASS MAY then set
     * tlspin_finding.wait_for_staple instead of refusing now. tlspin sets it
     * only when it knows libssl will reach that point (TLS 1.2 and older, a
     * verified chain of two or more certificates, the SSL's CT validation
     * callback installed by a module's prepare() that calls
     * tlspin_host.server_flight). */
    int staple_pending;
};

#define TLSPIN_PHASE_CERTIFICATE 0
#define TLSPIN_PHASE_SERVER_FLIGHT 1

/* What a module says about its verdict, for the syslog record. tlspin empties
 * every field before each check(); every field is optional. Strings are copied by the
 * module into the arrays (always NUL-terminated; tlspin escapes them before
 * they reach a log line). */
struct tlspin_finding {
    /* sizeof(struct tlspin_finding) of tlspin: a module built against a
     * newer, larger struct MUST NOT write members past it. */
    size_t struct_size;
    /* A short event token, [a-z0-9-]: "pin-mismatch", "pin-deny",
     * "pinset-expired", or the module's own. An IGNORE or PASS verdict with an
     * event is logged (e.g. an expired pinset that is no longer enforced). */
    char event[32];
    /* The name of the rule that decided, e.g. the pinset name. */
    char rule[128];
    /* What was expected, e.g. the configured pins, comma separated. */
    char expected[2048];
    /* One sentence for a human, without the host or chain (tlspin adds those). */
    char reason[256];
    /* Set to 1 with a FAIL verdict when the rule says to report, not block:
     * the failure is logged with action=allowed-report-only and counts as
     * IGNORE in the stack. */
    int report_only;

    /* ABI 1.1 (write only when struct_size covers it). Set to 1 with a FAIL
     * verdict when tlspin_conn.staple_pending is 1 and the stapled OCSP
     * response could change the verdict: tlspin then holds the decision
     * (no record, nothing refused yet) and calls check() again at
     * TLSPIN_PHASE_SERVER_FLIGHT, where the verdict is final. */
    int wait_for_staple;
};

/* ---------------------------------------------------------------------- */
/* Configuration handed to a module                                        */
/* ---------------------------------------------------------------------- */

/* One member of the entry's `args = { ... };` group (passed in an array:
 * frozen for ABI major 1). Scalars arrive as text
 * (strings as written, integers in decimal, booleans "true"/"false"); a list
 * or array gives one value per element. A floating-point number arrives in
 * "%.17g" form (0.1 is "0.10000000000000001"): modules that take fractions
 * are better served by strings or integers. */
struct tlspin_arg {
    const char *key;
    const char *const *values;
    size_t n_values;
    const char *file;            /* where it was written, for error messages */
    unsigned line;
};

struct tlspin_args {
    const struct tlspin_arg *items;
    size_t n_items;
};

/* Diagnostics for `tlspin check`. */
typedef enum tlspin_severity {
    TLSPIN_SEV_NOTE = 0,
    TLSPIN_SEV_WARNING = 1,
    TLSPIN_SEV_ERROR = 2
} tlspin_severity;

/* file may be NULL and line 0 when a diagnostic has no location. */
typedef void tlspin_diag_fn(void *diag_ctx, tlspin_severity severity,
                            const char *file, unsigned line, const char *message);

/* ---------------------------------------------------------------------- */
/* Services tlspin offers a module                                         */
/* ---------------------------------------------------------------------- */

/* Handed to open(); valid until close() returns. All functions are
 * thread-safe and MAY be called from any module callback. */
struct tlspin_host {
    size_t struct_size;          /* sizeof(struct tlspin_host) of tlspin */
    unsigned abi_major;          /* tlspin's TLSPIN_ABI_MAJOR */
    unsigned abi_minor;          /* tlspin's TLSPIN_ABI_MINOR */

    /* Write a line to the system log through tlspin (facility and tag from the
     * policy; rate-limited like every tlspin record). priority is a syslog(3)
     * level (LOG_ERR ... LOG_DEBUG). tlspin escapes control bytes. */
    void (*log)(const struct tlspin_host *host, int priority, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* Parse a pin in any accepted spelling: "sha256/<b64>", "sha256//<b64>"
     * (curl), "pin-sha256=\"<b64>\"" (HPKP). Returns 0 and fills pin, or -1
     * and writes a reason (NUL-terminated) into err. */
    int (*pin_parse)(const char *text, unsigned char pin[TLSPIN_PIN_LEN],
                     char *err, size_t errlen);

    /* Format a pin as "sha256/<b64>" into out (at least TLSPIN_PIN_TEXT_MAX). */
    void (*pin_format)(const unsigned char pin[TLSPIN_PIN_LEN], char *out, size_t outlen);

    /* Bring a host name or host pattern to the form tlspin matches in (see
     * tlspin_conn.host; patterns keep their leading "*." or "**."). Returns 0,
     * or -1 with a reason in err for a malformed name or pattern. */
    int (*host_normalize)(const char *in, char *out, size_t outlen, char *err, size_t errlen);

    /* 1 when normalized host matches normalized pattern: "*." matches exactly
     * one label, "**." any number of labels including none (the apex), never
     * across a dot inside a label; anything else matches only itself. */
    int (*host_match)(const char *pattern, const char *host);

    void *internal;              /* tlspin's own; a module MUST NOT touch it */

    /* ---- ABI 1.1: present when struct_size covers it -------------------- */

    /* For a module that installs a Certificate Transparency validation
     * callback in prepare() (SSL_set_ct_validation_callback): libssl calls
     * that callback after the server's first flight, and the callback MUST
     * return what this returns for its SSL: 1 to go on, 0 to abort the
     * handshake (a decision tlspin held at TLSPIN_PHASE_CERTIFICATE was made
     * now, and refused). Unlike the other services it outlives close(): the
     * callback may run for a connection prepared under an older policy. */
    int (*server_flight)(void *ssl);

    /* tlspin_conn.leaf_matches_host for the conn passed to check() (exactly
     * that pointer, during that call): 1, 0 or -1 as documented there,
     * worked out on the first ask and kept for the connection. */
    int (*leaf_matches_host)(const struct tlspin_conn *conn);
};

/* ---------------------------------------------------------------------- */
/* The module descriptor                                                   */
/* ---------------------------------------------------------------------- */

/* Capability bits. */
#define TLSPIN_CAP_PREPARE  (1u << 0) /* prepare() is set and wants to run */
#define TLSPIN_CAP_CERT_DER (1u << 1) /* check() needs tlspin_cert.der */
#define TLSPIN_CAP_LINT     (1u << 2) /* lint() is set */
#define TLSPIN_CAP_HOSTS    (1u << 3) /* hosts() is set */
#define TLSPIN_CAP_WATCH    (1u << 4) /* watch() is set */

typedef void tlspin_host_fn(void *ctx, const char *host, unsigned port);
typedef void tlspin_path_fn(void *ctx, const char *path);

struct tlspin_module {
    /* Frozen: these three keep their place in every ABI version. */
    unsigned abi_major;          /* TLSPIN_ABI_MAJOR the module was built for */
    unsigned abi_minor;          /* TLSPIN_ABI_MINOR the module was built for */
    size_t struct_size;          /* sizeof(struct tlspin_module) of the module */

    const char *name;            /* short name, [a-z0-9_-]+, used in records */
    const char *version;         /* the module's own version text */
    uint32_t caps;               /* TLSPIN_CAP_* */

    /* Read the entry's args and build the module's state. Called once per
     * policy load, before any other callback on that state, never
     * concurrently with anything else on it. On failure return -1 and write a
     * reason naming the file and line of the bad input into err
     * ("/etc/tlspin/pins.d/api.conf:12: pin is not 32 bytes"); *state is then
     * ignored. A module MUST reject args keys it does not know. It MUST NOT
     * start threads, change signal dispositions, or call exit/abort.
     * Required. */
    int (*open)(const struct tlspin_host *host, const struct tlspin_args *args,
                void **state, char *err, size_t errlen);

    /* Free the state. tlspin calls it once, after every other call on the
     * state has returned. Required. */
    void (*close)(void *state);

    /* Before a client handshake begins (no ClientHello sent yet): MAY ask
     * OpenSSL for what check() will need, e.g. SCTs or an OCSP response.
     * `ssl` is the `SSL *`; the host may still be unknown. tlspin MAY call
     * it more than once for the same SSL before its handshake starts (the
     * program may reach several handshake entry points): it MUST be
     * idempotent. It is not called for programs that reach libssl only
     * through dlsym(handle); check() MUST then cope with what it did not get.
     * Runs concurrently from many threads on the same state. Return 0, or -1 on failure
     * (logged; the connection will then be decided by check() as usual).
     * Optional (NULL), needs TLSPIN_CAP_PREPARE. */
    int (*prepare)(void *state, void *ssl);

    /* Decide. Runs concurrently from many threads on the same state: the
     * state MUST be read-only here or guarded by the module. MUST return
     * promptly (it runs inside the program's handshake; no network I/O), MUST
     * NOT keep pointers from conn, MAY fill finding. Required. */
    tlspin_verdict (*check)(void *state, const struct tlspin_conn *conn,
                            struct tlspin_finding *finding);

    /* For `tlspin check`: report problems an operator should fix (pins
     * without a backup, rules that expire within 30 days, shadowed rules...)
     * as of time `now`. Returns the number of errors reported. Optional,
     * needs TLSPIN_CAP_LINT. */
    int (*lint)(void *state, int64_t now, tlspin_diag_fn *diag, void *diag_ctx);

    /* For `tlspin probe --all`: call `each` once per concrete (non-wildcard)
     * host the module has rules for, port 0 for "any". Optional, needs
     * TLSPIN_CAP_HOSTS. */
    void (*hosts)(void *state, tlspin_host_fn *each, void *ctx);

    /* For live reload: call `each` with every file or directory whose change
     * could change what open() builds from these args (e.g. a directory of
     * rule files and each file in it). tlspin stats them about once a second
     * and, when anything changed, loads the whole policy again; the new
     * policy replaces the old only if every entry opens cleanly, otherwise
     * the last good policy stays and a record says why. `state` is NULL when
     * open() failed (the paths then tell tlspin when to try again). Runs
     * concurrently with check() on the same state: read-only. Optional, needs
     * TLSPIN_CAP_WATCH; a module without it is reloaded only when the policy
     * file itself changes. */
    void (*watch)(void *state, const struct tlspin_args *args, tlspin_path_fn *each, void *ctx);
};

/* The entry: returns the module's descriptor, a pointer to static storage
 * that stays valid while the module is loaded. It MUST NOT do anything else. */
typedef const struct tlspin_module *tlspin_module_entry_fn(void);

#ifdef __cplusplus
}
#endif

#endif /* TLSPIN_MODULE_H */
