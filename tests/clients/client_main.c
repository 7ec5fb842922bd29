/*
 * client_main.c — tls_client / tls_client_dlopen: a real OpenSSL client
 * whose every handshake path and app-callback style can be chosen on the
 * command line, for the integration tests to drive under the shim.
 *
 * Exit: 0 every handshake completed, 1 one failed, 2 usage or setup error,
 * 3 the --timeout (default 10 s) ran out.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "client_conn.h"
#include "client_ctx.h"
#include "client_options.h"
#include "client_ossl.h"
#include "client_report.h"
#include "client_session.h"

static void on_alarm(int sig)
{
    static const char msg[] = "timeout\n";

    (void)sig;
    /* stdout is line buffered: every finished line is already out. */
    if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing left to do about it */
    }
    _exit(3);
}

static void print_counters(const struct tlsc_options *o)
{
    if (o->verify_cb != TLSC_VCB_NONE)
        printf("app-verify-cb called %u\n", tlsc_counters.verify_cb);
    if (o->cert_verify_cb != TLSC_CVCB_NONE)
        printf("app-cert-verify-cb called %u\n", tlsc_counters.cert_verify_cb);
}

int main(int argc, char **argv)
{
    struct tlsc_options o;
    SSL_CTX *ctx = NULL;
    SSL_SESSION *session = NULL;
    char err[512];
    int rc = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* a server closing on us is a result, not a crash */
    if (tlsc_options_parse(&o, argc, argv) < 0)
        return 2;
    signal(SIGALRM, on_alarm);
    alarm(o.timeout);

    if (tlsc_ossl_load(err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        rc = 2;
        goto out;
    }
    ctx = tlsc_ctx_new(&o);
    if (!ctx) {
        printf("setup failed: SSL_CTX\n");
        tlsc_report_errors("err: ");
        rc = 2;
        goto out;
    }
    if (o.sess_in && !(session = tlsc_session_load(o.sess_in))) {
        rc = 2;
        goto out;
    }
    for (unsigned i = 0; i <= o.resume; i++) {
        enum tlsc_result r;

        if (i > 0 && o.pause_ms > 0) {
            struct timespec ts = { o.pause_ms / 1000, (long)(o.pause_ms % 1000) * 1000000L };

            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
                /* sleep the rest (SIGALRM ends the run anyway) */
            }
        }
        printf("connection %u\n", i + 1);
        r = tlsc_connection_run(ctx, &o, &session);
        if (r == TLSC_SETUP_FAILED) {
            rc = 2;
            goto out;
        }
        if (r == TLSC_HANDSHAKE_FAILED)
            rc = 1;
    }
    if (o.sess_out && tlsc_session_save(o.sess_out, session) < 0 && rc == 0)
        rc = 2;
out:
    print_counters(&o);
    /* Guarded: in tls_client_dlopen these are NULL pointers until loaded. */
    if (session)
        SSL_SESSION_free(session);
    if (ctx)
        SSL_CTX_free(ctx);
    tlsc_options_free(&o);
    return rc;
}
