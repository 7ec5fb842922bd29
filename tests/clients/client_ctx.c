/* client_ctx.c — the SSL_CTX of the test clients and its app callbacks. */
#include "client_ctx.h"

#include <stdio.h>

struct tlsc_counters tlsc_counters;
static int verbose;

/* --verify-cb: what a careful app does — observe, keep OpenSSL's answer. */
static int verify_cb_count(int preverify_ok, X509_STORE_CTX *x)
{
    tlsc_counters.verify_cb++;
    if (verbose)
        fprintf(stderr, "app-verify-cb depth=%d preverify_ok=%d error=%d\n",
                X509_STORE_CTX_get_error_depth(x), preverify_ok, X509_STORE_CTX_get_error(x));
    return preverify_ok;
}

/* --verify-cb-accept-all: what s_client does — accept every error. */
static int verify_cb_accept_all(int preverify_ok, X509_STORE_CTX *x)
{
    tlsc_counters.verify_cb++;
    if (verbose)
        fprintf(stderr, "app-verify-cb(accept-all) depth=%d preverify_ok=%d error=%d\n",
                X509_STORE_CTX_get_error_depth(x), preverify_ok, X509_STORE_CTX_get_error(x));
    return 1;
}

/* --cert-verify-cb trust-all: libssl calls this *instead of*
 * X509_verify_cert, so nothing is verified at all. */
static int cert_verify_trust_all(X509_STORE_CTX *x, void *arg)
{
    (void)x;
    (void)arg;
    tlsc_counters.cert_verify_cb++;
    return 1;
}

/* --cert-verify-cb call-x509: an app wrapping the default verification. */
static int cert_verify_call_x509(X509_STORE_CTX *x, void *arg)
{
    (void)arg;
    tlsc_counters.cert_verify_cb++;
    return X509_verify_cert(x);
}

static int set_version(SSL_CTX *ctx, enum tlsc_version v)
{
    int ver = v == TLSC_TLS12 ? TLS1_2_VERSION : TLS1_3_VERSION;

    if (v == TLSC_TLS_ANY)
        return 1;
    return SSL_CTX_set_min_proto_version(ctx, ver) && SSL_CTX_set_max_proto_version(ctx, ver);
}

SSL_CTX *tlsc_ctx_new(const struct tlsc_options *o)
{
    SSL_CTX *ctx;
    SSL_verify_cb cb = NULL;

    verbose = o->verbose;
    ctx = SSL_CTX_new(o->generic_method ? TLS_method() : TLS_client_method());
    if (!ctx)
        return NULL;
    if (!set_version(ctx, o->version))
        goto fail;
    if (o->ciphers && !SSL_CTX_set_cipher_list(ctx, o->ciphers))
        goto fail;
    if (o->cafile) {
        if (!SSL_CTX_load_verify_locations(ctx, o->cafile, NULL))
            goto fail;
    } else if (!SSL_CTX_set_default_verify_paths(ctx)) {
        goto fail;
    }
    if (o->verify_cb == TLSC_VCB_COUNT)
        cb = verify_cb_count;
    else if (o->verify_cb == TLSC_VCB_ACCEPT_ALL)
        cb = verify_cb_accept_all;
    SSL_CTX_set_verify(ctx, o->verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, cb);
    if (o->cert_verify_cb == TLSC_CVCB_TRUST_ALL)
        SSL_CTX_set_cert_verify_callback(ctx, cert_verify_trust_all, NULL);
    else if (o->cert_verify_cb == TLSC_CVCB_CALL_X509)
        SSL_CTX_set_cert_verify_callback(ctx, cert_verify_call_x509, NULL);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}
