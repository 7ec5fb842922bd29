/* The file module's verdict on one connection. */
#ifndef FILE_DECIDE_H
#define FILE_DECIDE_H

#include <tlspin/module.h>

#include "file_state.h"

/* Reads st only; safe to run from many threads at once. finding may be NULL. */
tlspin_verdict file_decide(const struct file_state *st, const struct tlspin_conn *conn,
                           struct tlspin_finding *finding);

#endif
