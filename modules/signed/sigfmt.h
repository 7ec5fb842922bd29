/* The signed pinset format (v1): what `tlspin sign` writes, `tlspin verify`
 * and `tlspin update` check, and signed.so re-checks on every load.
 *
 *   tlspin-signed-pinset 1\n                       unsigned envelope line
 *   sig <key-id> <base64 Ed25519 signature>\n      one per signer (1..8)
 *   \n
 *   <payload: every remaining byte, exactly as signed>
 *
 * The payload (what each signature covers, byte for byte):
 *
 *   tlspin signed pinset payload v1\n               domain separation
 *   serial <1..2^63-1, decimal, no leading zero>\n
 *   issued <YYYY-MM-DDTHH:MM:SSZ>\n
 *   expires <YYYY-MM-DDTHH:MM:SSZ>\n
 *   \n
 *   <pinsets in the file module's language (libconfig)>
 *
 * A key id is the hex of the first 8 bytes of SHA-256 over the raw 32-byte
 * Ed25519 public key: it only selects among the locally trusted keys, and a
 * signature is always checked with the trusted key itself. Signatures are
 * verified before any field of the payload is read. No CR, no NUL anywhere;
 * no unknown, duplicate or reordered field; 64 KiB at most. */
#ifndef SIGNED_SIGFMT_H
#define SIGNED_SIGFMT_H

#include <stddef.h>
#include <stdint.h>

#define SIGFMT_MAGIC "tlspin-signed-pinset 1\n"
#define SIGFMT_PAYLOAD_MAGIC "tlspin signed pinset payload v1\n"
#define SIGFMT_FILE_MAX (64u * 1024u)          /* bytes of a whole signed file */
#define SIGFMT_SIGS_MAX 8
#define SIGFMT_KEYS_MAX 32
#define SIGFMT_KEYID_LEN 16                    /* hex characters */
#define SIGFMT_MAX_VALIDITY_DEFAULT (31 * 86400)
#define SIGFMT_SKEW 300                        /* seconds issued may lie ahead */

struct sigfmt_key {
    unsigned char pub[32];
    char id[SIGFMT_KEYID_LEN + 1];
    char source[256];                          /* file it came from */
};

struct sigfmt_keys {
    struct sigfmt_key k[SIGFMT_KEYS_MAX];
    size_t n;
};

struct sigfmt_info {
    uint64_t serial;
    int64_t issued, expires;                   /* seconds since the epoch */
    const char *body;                          /* the pinsets text (in the buffer) */
    size_t body_len;
    const char *payload;
    size_t payload_len;
    unsigned char sha256[32];                  /* of the whole file */
    char sha256_hex[65];
    char signers[SIGFMT_SIGS_MAX * (SIGFMT_KEYID_LEN + 1) + 1]; /* trusted ids that signed, "a,b" */
};

struct sigfmt_limits {
    int64_t now;
    int64_t max_validity;                      /* seconds; 0: the default */
    unsigned threshold;                        /* distinct trusted signers; 0: 1 */
};

enum sigfmt_result { SIGFMT_OK = 0, SIGFMT_STALE = 1, SIGFMT_BAD = -1 };

/* The key id of a raw public key. */
void sigfmt_key_id(const unsigned char pub[32], char out[SIGFMT_KEYID_LEN + 1]);

/* Add the Ed25519 public key of a PEM text (SubjectPublicKeyInfo) to keys.
 * Returns 0, or -1 with a reason. */
int sigfmt_keys_add_pem(struct sigfmt_keys *keys, const char *pem, size_t len,
                        const char *source, char *err, size_t errlen);

/* Check a whole signed file held in buf (len bytes; buf[len] need not be
 * NUL). SIGFMT_OK: signed by enough trusted keys, well formed, inside its
 * validity. SIGFMT_STALE: all that but expired (info filled: the caller
 * decides). SIGFMT_BAD: anything else, with the reason in err. */
enum sigfmt_result sigfmt_verify(const char *buf, size_t len, const struct sigfmt_keys *keys,
                                 const struct sigfmt_limits *lim, struct sigfmt_info *info,
                                 char *err, size_t errlen);

/* "YYYY-MM-DDTHH:MM:SSZ" <-> seconds since the epoch (strict). */
int sigfmt_time_parse(const char *text, size_t len, int64_t *out);
void sigfmt_time_format(int64_t t, char out[21]);

/* Build the payload header + body, then the whole signed file with one
 * signature per private key (PEM "PRIVATE KEY" texts). Returns a malloc'ed
 * NUL-terminated file (length in *len), or NULL with a reason. */
char *sigfmt_sign(const char *body, size_t body_len, uint64_t serial, int64_t issued,
                  int64_t expires, const char *const *priv_pems, const size_t *priv_lens,
                  size_t n_priv, size_t *len, char *err, size_t errlen);

#endif
