/* bypass_common.h — what the bypass test clients (bypass_client,
 * bypass_chain_client) share: the output lines tests parse, a TCP connect,
 * a whole-run alarm. */
#ifndef TLSC_BYPASS_COMMON_H
#define TLSC_BYPASS_COMMON_H

#include <openssl/ssl.h>

/* Every OpenSSL error on the queue as "<prefix><error string>" lines. */
void bypass_report_errors(const char *prefix);
/* "peer_pin=sha256/<b64>" of the leaf's key, or "peer_pin=none|error". */
void bypass_report_peer_pin(SSL *ssl);
/* A connected TCP socket to an IPv4 "ADDR:PORT", or -1. */
int bypass_tcp_connect(const char *hostport);
/* After `seconds`, print "timeout" and exit 3. */
void bypass_alarm(unsigned seconds);

#endif
