/* Services offered to modules: logging through tlspin's records, and the one
 * implementation of pins and host names, so modules cannot drift from it. */
#include "hostsvc.h"

#include "decide.h"
#include "flight.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "hostname.h"
#include "pin.h"

static __attribute__((format(printf, 3, 4))) void host_log(const struct tlspin_host *host,
                                                             int priority, const char *fmt, ...)
{
    const struct hostsvc_ctx *ctx = host->internal;
    enum { MESSAGE_MAX = 1024 };
    /* The message and its line on the heap: modules log in the middle of a
     * decision, on the program's stack (9 KB there was more than twice what
     * a whole decision may take). A failed allocation still records, cut
     * short, as record_emit() does. */
    char small_message[128], small_line[256];
    char *message = malloc(MESSAGE_MAX + RECORD_MAX), *line;
    size_t message_max = MESSAGE_MAX, line_max = RECORD_MAX, len;
    va_list ap;

    if (LOG_PRI(priority) > ctx->log->level) {
        free(message);
        return;   /* below the policy's level: a module's debug line stays quiet */
    }
    if (message != NULL) {
        line = message + MESSAGE_MAX;
    } else {
        message = small_message;
        message_max = sizeof(small_message);
        line = small_line;
        line_max = sizeof(small_line);
    }
    va_start(ap, fmt);
    vsnprintf(message, message_max, fmt, ap);
    va_end(ap);
    len = (size_t)snprintf(line, line_max, "tlspin:");
    len = record_append(line, line_max, len, "module", ctx->module_name);
    record_append(line, line_max, len, "message", message);
    record_emit_line(ctx->log, LOG_PRI(priority), line);
    if (message != small_message)
        free(message);
}

static int host_pin_parse(const char *text, unsigned char pin[TLSPIN_PIN_LEN], char *err,
                          size_t errlen)
{
    return tlspin_pin_parse(text, pin, err, errlen);
}

static void host_pin_format(const unsigned char pin[TLSPIN_PIN_LEN], char *out, size_t outlen)
{
    tlspin_pin_format(pin, out, outlen);
}

static int host_normalize(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
    return tlspin_host_normalize(in, out, outlen, err, errlen);
}

static int host_match(const char *pattern, const char *host)
{
    return tlspin_host_match(pattern, host);
}

void hostsvc_init(struct tlspin_host *host, struct hostsvc_ctx *ctx)
{
    memset(host, 0, sizeof(*host));
    host->struct_size = sizeof(*host);
    host->abi_major = TLSPIN_ABI_MAJOR;
    host->abi_minor = TLSPIN_ABI_MINOR;
    host->log = host_log;
    host->pin_parse = host_pin_parse;
    host->pin_format = host_pin_format;
    host->host_normalize = host_normalize;
    host->host_match = host_match;
    host->internal = ctx;
    host->server_flight = flight_decide;
    host->leaf_matches_host = decide_leaf_matches_host;
}
