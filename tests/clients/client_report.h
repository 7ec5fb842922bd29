/* client_report.h — the output lines the integration tests parse. */
#ifndef TLSC_CLIENT_REPORT_H
#define TLSC_CLIENT_REPORT_H

#include "client_ossl.h"

/* "handshake failed ssl_error=<n> verify_result=<n> (<text>)" then the
 * error queue as "err: " lines (the queue is emptied). */
void tlsc_report_failure(SSL *ssl, int ssl_error);

/* Print and empty the error queue, one "<prefix><ERR_error_string_n>" line
 * per entry. */
void tlsc_report_errors(const char *prefix);

/* After a completed handshake: "handshake ok", "verify_result=<n> (<text>)",
 * "protocol=<version>", "peer_pin=sha256/<b64>" (or "peer_pin=none"),
 * "reused=<0|1>". */
void tlsc_report_success(SSL *ssl);

/* "<key>=sha256/<b64>": the SPKI pin of the current peer leaf ("none"
 * without one). */
void tlsc_report_peer_pin(const char *key, SSL *ssl);

#endif
