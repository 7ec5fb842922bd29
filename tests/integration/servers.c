/*
 * servers.c — tls_server presenting the fixtures' identities.
 */
#include "harness.h"

#include <string.h>

struct identity {
    const char *name, *chain, *key;
};

static const struct identity identities[] = {
    {"good", "good-chain.pem", "good.key"},
    {"icpt", "icpt-chain.pem", "icpt.key"},
    {"appended", "appended-chain.pem", "icpt.key"},
    {"self", "self.pem", "self.key"},
    {"good-rsa", "good-rsa-chain.pem", "good-rsa.key"},
    {"good-ed25519", "good-ed25519-chain.pem", "good-ed25519.key"},
};

static void start(struct server *s, const char *identity, int preload)
{
    for (size_t i = 0; i < sizeof identities / sizeof *identities; i++)
        if (strcmp(identities[i].name, identity) == 0) {
            server_tls_server(s,
                              (const char *const[]){"--cert", cert(identities[i].chain), "--key",
                                                    cert(identities[i].key), NULL},
                              preload);
            return;
        }
    ck_abort_msg("no server identity %s", identity);
}

void server_start(struct server *s, const char *identity)
{
    start(s, identity, 0);
}

void server_start_preloaded(struct server *s, const char *identity)
{
    start(s, identity, 1);
}
