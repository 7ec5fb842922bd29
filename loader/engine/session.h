/* Session resumption: a resumed handshake carries no certificate, so the
 * chain a session was made with is recorded on the session and the policy
 * is asked again, with the current pinsets, before it may be resumed. */
#ifndef TLSPIN_SESSION_H
#define TLSPIN_SESSION_H

#include <openssl/ssl.h>

#include "chain.h"
#include "decide.h"
#include "peer.h"

/* Records host, port and verified chain on the SSL's current session. */
void session_remember(SSL *ssl, const struct peer_id *id, struct chain *chain);

/* 1 when the policy allows resuming `session` on `ssl`; 0 to refuse it (the
 * program then makes a full handshake, which is decided as usual). */
int session_may_resume(SSL *ssl, SSL_SESSION *session);

/* The server accepted `session` (its ServerHello resumes it): 1 when the
 * policy allows it, decided afresh for every identity; 0 when the handshake
 * must be aborted (recorded; `out` says why). The last line behind session_may_resume, for
 * sessions it never saw (a psk_use_session_cb, a BIO set after the first
 * handshake call) or saw under other names. */
int session_resumed_allowed(SSL *ssl, SSL_SESSION *session, struct decision *out);

#endif
