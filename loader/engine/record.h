/* The syslog records tlspin writes: one line per decision that is not a
 * silent pass, key=value, escaped, rate-limited. */
#ifndef TLSPIN_RECORD_H
#define TLSPIN_RECORD_H

#include "engine_export.h"

#include <stddef.h>

struct log_settings {
    int facility;
    int level;
    unsigned rate_limit_seconds;
};

/* Any field may be NULL ("-" in the record). port 0 is unknown. */
struct record {
    const char *event;
    const char *action;
    const char *host;
    unsigned port;
    const char *peer;
    const char *pinset;
    const char *module;
    const char *control;
    const char *verdict;
    const char *trust;
    const char *chain;
    const char *expected;
    const char *reason;
};

/* Longest record line we write (values are truncated to fit). */
#define RECORD_MAX 8192

/* Formats the record as "tlspin: event=... action=... ..." into out and
 * returns its length. Exposed for the tests and the CLI. */
TLSPIN_ENGINE_API size_t record_format(const struct record *record, char *out, size_t outlen);

/* Appends " key=value" with the value escaped: bare when it is non-empty
 * printable ASCII without space, '"' or '\\'; else double-quoted, with \" \\
 * and \xNN. NULL and "" become "-". Never overflows; returns the new length. */
size_t record_append(char *out, size_t outlen, size_t len, const char *key, const char *value);

/* Writes the record to the syslog socket /dev/log with tlspin's own socket
 * (tag: the program's name and pid; the settings' facility and level),
 * unless an identical one went out less than rate_limit_seconds ago; the
 * next identical record that does go out ends with suppressed=N. The
 * program's syslog(3) state (setlogmask, openlog ident, facility, options)
 * is neither used nor changed. When no daemon listens on /dev/log, the
 * record goes through syslog(3) instead (the program's LOG_CONS/LOG_PERROR
 * then apply); a daemon that does not read makes it wait at most a second
 * once, and drops records until it reads again. Thread-safe, fork-safe,
 * errno preserved. */
void record_emit(const struct log_settings *settings, const struct record *record);

/* A free-form line from a module or the engine, written and rate-limited
 * the same way, at `level`. */
void record_emit_line(const struct log_settings *settings, int level, const char *line);

#endif
