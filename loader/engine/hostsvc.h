/* The host-services table (struct tlspin_host) each module receives. */
#ifndef TLSPIN_HOSTSVC_H
#define TLSPIN_HOSTSVC_H

#include <tlspin/module.h>

#include "record.h"

struct hostsvc_ctx {
    const char *module_name;
    const struct log_settings *log;
};

/* Fills `host` for one module; ctx must outlive it. */
void hostsvc_init(struct tlspin_host *host, struct hostsvc_ctx *ctx);

#endif
