/* tlspin keygen / sign / verify — the offline half of fleet pinning.
 *
 *   tlspin keygen [--out PREFIX]            PREFIX.key (0600) + PREFIX.pub
 *   tlspin sign --key K [--key K2] --serial N --expires WHEN
 *               [--issued WHEN] [--output FILE] PINSET
 *   tlspin verify [--keys DIR|FILE] [--state FILE] [--threshold N]
 *                 [--max-validity DAYS] [--at WHEN] FILE
 *
 * The format is described in modules/signed/sigfmt.h and the README. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "signed_check.h"

static int usage_error(const char *cmd, const char *f, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *f, ...)
{
    va_list ap;

    fprintf(stderr, "tlspin %s: ", cmd);
    va_start(ap, f);
    vfprintf(stderr, f, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tlspin %s --help'.\n", cmd);
    return 2;
}

/* An absolute time (YYYY-MM-DDTHH:MM:SSZ, @EPOCH) or, with relative allowed,
 * a span from now: 14d, 36h, 90m, 30s. */
static int parse_when(const char *s, int64_t now, int64_t *out)
{
    char *end;
    long long v;

    if (sigfmt_time_parse(s, strlen(s), out) == 0)
        return 0;
    if (s[0] == '@') {
        errno = 0;
        v = strtoll(s + 1, &end, 10);
        if (errno || *end || end == s + 1 || v < 0)
            return -1;
        *out = v;
        return 0;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0 || v > 100000000 || end[0] == '\0' || end[1] != '\0')
        return -1;
    switch (end[0]) {
    case 'd': *out = now + v * 86400; return 0;
    case 'h': *out = now + v * 3600; return 0;
    case 'm': *out = now + v * 60; return 0;
    case 's': *out = now + v; return 0;
    default: return -1;
    }
}

/* ------------------------------------------------------------------ keygen */

static const char keygen_usage[] =
    "usage: tlspin keygen [--out PREFIX]\n"
    "Make an Ed25519 key pair for signing pinsets: PREFIX.key (private, mode\n"
    "0600, never overwritten) and PREFIX.pub (public: copy it into\n"
    "/etc/tlspin/keys.d/ on every machine). PREFIX defaults to pinset-signing.\n"
    "Prints the key id. Keep the private key offline.\n";

static int write_new(const char *path, mode_t mode, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    size_t off = 0;

    if (fd < 0) {
        fprintf(stderr, "tlspin keygen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fchmod(fd, mode) != 0)
        goto fail;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n <= 0)
            goto fail;
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "tlspin keygen: %s: %s\n", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(path);
    return -1;
}

static char *pem_of(EVP_PKEY *pk, int priv, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *out = NULL;
    long n;
    int ok;

    if (b == NULL)
        return NULL;
    ok = priv ? PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL)
              : PEM_write_bio_PUBKEY(b, pk);
    n = BIO_get_mem_data(b, &p);
    if (ok == 1 && n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
        memcpy(out, p, (size_t)n);
        out[n] = '\0';
        *len = (size_t)n;
    }
    BIO_free(b);
    return out;
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *prefix = "pinset-signing";
    char kpath[4096], ppath[4096], id[SIGFMT_KEYID_LEN + 1];
    EVP_PKEY *pk = NULL;
    char *kpem = NULL, *ppem = NULL;
    unsigned char pub[32];
    size_t klen = 0, plen = 0, publen = 32;
    int c, rc = 1;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'o')
            prefix = optarg;
        else if (c == 'h') {
            fputs(keygen_usage, stdout);
            return 0;
        } else
            return usage_error("keygen", "unknown option");
    }
    if (optind != argc)
        return usage_error("keygen", "no operand expected");
    snprintf(kpath, sizeof(kpath), "%s.key", prefix);
    snprintf(ppath, sizeof(ppath), "%s.pub", prefix);
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (pk == NULL || EVP_PKEY_get_raw_public_key(pk, pub, &publen) != 1 ||
        (kpem = pem_of(pk, 1, &klen)) == NULL || (ppem = pem_of(pk, 0, &plen)) == NULL) {
        fprintf(stderr, "tlspin keygen: key generation failed\n");
        goto out;
    }
    if (write_new(kpath, 0600, kpem, klen) != 0)
        goto out;
    if (write_new(ppath, 0644, ppem, plen) != 0) {
        unlink(kpath);
        goto out;
    }
    sigfmt_key_id(pub, id);
    printf("key id %s\nprivate %s (keep offline)\npublic  %s (install in %s/)\n", id, kpath,
           ppath, SIGNED_KEYS_DEFAULT);
    rc = 0;
out:
    if (kpem != NULL) {
        OPENSSL_cleanse(kpem, klen);
        free(kpem);
    }
    free(ppem);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return rc;
}

/* -------------------------------------------------------------------- sign */

static const char sign_usage[] =
    "usage: tlspin sign --key KEY [--key KEY2...] --serial N --expires WHEN\n"
    "                   [--issued WHEN] [--max-validity DAYS] [--output FILE] PINSET\n"
    "Sign a pinsets file (the file module's language) offline. N is 1 to\n"
    "2^63-1 and must grow with every file published. WHEN: 14d, 36h, 90m,\n"
    "YYYY-MM-DDTHH:MM:SSZ or @EPOCH (issued defaults to now). The machines\n"
    "refuse a file valid for longer than their max_validity_days (31 by\n"
    "default): a longer --expires is refused here too, unless --max-validity\n"
    "says the machines allow it. The pinsets are checked first.\n";

int cmd_sign(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"serial", required_argument, NULL, 's'},
                                         {"expires", required_argument, NULL, 'e'},
                                         {"issued", required_argument, NULL, 'i'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"max-validity", required_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int64_t max_validity = SIGFMT_MAX_VALIDITY_DEFAULT;
    const char *keyfiles[SIGFMT_SIGS_MAX], *serial_text = NULL, *expires_text = NULL;
    const char *issued_text = NULL, *output = NULL;
    char *keys[SIGFMT_SIGS_MAX] = {0}, *body = NULL, *out = NULL, *end, err[1024];
    size_t keylens[SIGFMT_SIGS_MAX], n_keys = 0, body_len, out_len, i, n_pinsets;
    int64_t now = (int64_t)time(NULL), issued, expires;
    unsigned long long serial;
    int c, rc = 1;

    optind = 1;
    while ((c = getopt_long(argc, argv, "k:s:e:i:o:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (n_keys >= SIGFMT_SIGS_MAX)
                return usage_error("sign", "at most %d --key", SIGFMT_SIGS_MAX);
            keyfiles[n_keys++] = optarg;
            break;
        case 's': serial_text = optarg; break;
        case 'e': expires_text = optarg; break;
        case 'i': issued_text = optarg; break;
        case 'o': output = optarg; break;
        case 'm': {
            char *mend;
            long days;
            errno = 0;
            days = strtol(optarg, &mend, 10);
            if (errno || *mend || mend == optarg || days < 1 || days > 366)
                return usage_error("sign", "--max-validity is 1 to 366 days");
            max_validity = (int64_t)days * 86400;
            break;
        }
        case 'h': fputs(sign_usage, stdout); return 0;
        default: return usage_error("sign", "unknown option");
        }
    }
    if (optind + 1 != argc)
        return usage_error("sign", "one PINSET file expected");
    if (n_keys == 0 || serial_text == NULL || expires_text == NULL)
        return usage_error("sign", "--key, --serial and --expires are required");
    errno = 0;
    serial = strtoull(serial_text, &end, 10);
    if (errno || *end || serial_text[0] < '1' || serial_text[0] > '9' ||
        serial > (unsigned long long)INT64_MAX)
        return usage_error("sign", "--serial \"%s\" is not a number from 1 to 2^63-1",
                           serial_text);
    issued = now;
    if (issued_text != NULL && parse_when(issued_text, now, &issued) != 0)
        return usage_error("sign", "--issued \"%s\" is not a time", issued_text);
    if (parse_when(expires_text, issued, &expires) != 0)
        return usage_error("sign", "--expires \"%s\" is not a time or span", expires_text);
    if (expires <= issued)
        return usage_error("sign", "--expires must be after --issued");
    /* Signing what every machine will refuse is an outage in 31 days' time
     * at the latest: say so now, when it is still a typo. */
    if (expires - issued > max_validity)
        return usage_error("sign",
                           "--expires %s is %lld days after --issued, and the machines refuse "
                           "a file valid for more than %lld days (the module's "
                           "max_validity_days); sign for less, or pass --max-validity DAYS if "
                           "the machines' policy allows more",
                           expires_text, (long long)((expires - issued + 86399) / 86400),
                           (long long)(max_validity / 86400));
    for (i = 0; i < n_keys; i++)
        if (signed_read_plain(keyfiles[i], 16384, &keys[i], &keylens[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "tlspin sign: %s\n", err);
            goto out;
        }
    if (signed_read_plain(argv[optind], SIGFMT_FILE_MAX, &body, &body_len, err,
                          sizeof(err)) != 0) {
        fprintf(stderr, "tlspin sign: %s\n", err);
        goto out;
    }
    if (signed_body_check(argv[optind], body, body_len, &n_pinsets, err, sizeof(err)) != 0) {
        fprintf(stderr, "tlspin sign: %s\n", err);
        goto out;
    }
    out = sigfmt_sign(body, body_len, serial, issued, expires, (const char *const *)keys,
                      keylens, n_keys, &out_len, err, sizeof(err));
    if (out == NULL) {
        fprintf(stderr, "tlspin sign: %s\n", err);
        goto out;
    }
    if (output != NULL) {
        FILE *f = fopen(output, "w");
        if (f == NULL || fwrite(out, 1, out_len, f) != out_len || fclose(f) != 0) {
            fprintf(stderr, "tlspin sign: %s: %s\n", output, strerror(errno));
            goto out;
        }
        {
            char te[21], id[SIGFMT_KEYID_LEN * SIGFMT_SIGS_MAX + 16] = "";
            const char *p = out;
            sigfmt_time_format(expires, te);
            while ((p = strstr(p, "\nsig ")) != NULL) {
                p += 5;
                if (id[0] != '\0')
                    strcat(id, ",");
                strncat(id, p, SIGFMT_KEYID_LEN);
            }
            printf("%s: serial %llu, %zu pinset%s, expires %s, signed by %s\n", output, serial,
                   n_pinsets, n_pinsets == 1 ? "" : "s", te, id);
        }
    } else if (fwrite(out, 1, out_len, stdout) != out_len) {
        goto out;
    }
    rc = 0;
out:
    for (i = 0; i < n_keys; i++)
        if (keys[i] != NULL) {
            OPENSSL_cleanse(keys[i], keylens[i]);
            free(keys[i]);
        }
    free(body);
    free(out);
    return rc;
}

/* ------------------------------------------------------------------ verify */

static const char verify_usage[] =
    "usage: tlspin verify [--keys DIR|FILE] [--state FILE] [--threshold N]\n"
    "                     [--max-validity DAYS] [--at WHEN] FILE\n"
    "Verify a signed pinset (FILE, or - for stdin) as the signed module would:\n"
    "signatures by the trusted keys (default " SIGNED_KEYS_DEFAULT "), the\n"
    "fields, the validity window, the pinsets inside and, with --state, the\n"
    "serial floor (rollback, equivocation).\n"
    "Exit status: 0 valid, 1 invalid or expired, 2 bad usage.\n";

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"keys", required_argument, NULL, 'k'},
                                         {"state", required_argument, NULL, 's'},
                                         {"threshold", required_argument, NULL, 't'},
                                         {"max-validity", required_argument, NULL, 'm'},
                                         {"at", required_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *keys_path = SIGNED_KEYS_DEFAULT, *state_path = NULL;
    struct sigfmt_limits lim = {.now = (int64_t)time(NULL)};
    struct sigfmt_keys keys;
    struct sigstore_state st;
    struct signed_verdict v;
    char *buf = NULL, err[1024], ti[21], te[21], *end;
    size_t len;
    long n;
    int c, rc = 1;

    optind = 1;
    while ((c = getopt_long(argc, argv, "k:s:t:m:a:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': keys_path = optarg; break;
        case 's': state_path = optarg; break;
        case 't':
            n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > SIGFMT_SIGS_MAX)
                return usage_error("verify", "--threshold is 1 to %d", SIGFMT_SIGS_MAX);
            lim.threshold = (unsigned)n;
            break;
        case 'm':
            n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 366)
                return usage_error("verify", "--max-validity is 1 to 366 days");
            lim.max_validity = (int64_t)n * 86400;
            break;
        case 'a':
            if (parse_when(optarg, lim.now, &lim.now) != 0)
                return usage_error("verify", "--at \"%s\" is not a time", optarg);
            break;
        case 'h': fputs(verify_usage, stdout); return 0;
        default: return usage_error("verify", "unknown option");
        }
    }
    if (optind + 1 != argc)
        return usage_error("verify", "one FILE expected");
    if (signed_load_keys_plain(keys_path, &keys, err, sizeof(err)) != 0) {
        fprintf(stderr, "tlspin verify: %s\n", err);
        return 1;
    }
    if (state_path != NULL && sigstore_state_read(state_path, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "tlspin verify: %s\n", err);
        return 1;
    }
    if (signed_read_plain(argv[optind], SIGFMT_FILE_MAX, &buf, &len, err, sizeof(err)) != 0) {
        fprintf(stderr, "tlspin verify: %s\n", err);
        return 1;
    }
    if (signed_check(argv[optind], buf, len, &keys, &lim, state_path ? &st : NULL, &v, err,
                     sizeof(err)) != 0) {
        fprintf(stderr, "tlspin verify: %s%s\n", v.stale ? "STALE: " : "", err);
        goto out;
    }
    sigfmt_time_format(v.info.issued, ti);
    sigfmt_time_format(v.info.expires, te);
    printf("%s: valid\nserial   %llu%s\nissued   %s\nexpires  %s\nsigned   %s\n"
           "pinsets  %zu\nsha256   %s\n",
           argv[optind], (unsigned long long)v.info.serial,
           v.same ? " (already accepted)" : v.reset ? " (floor reset: signing key rotated)" : "",
           ti, te, v.info.signers, v.n_pinsets, v.info.sha256_hex);
    rc = 0;
out:
    free(buf);
    return rc;
}
