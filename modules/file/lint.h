/* `tlspin check` diagnostics of the file module. */
#ifndef FILE_LINT_H
#define FILE_LINT_H

#include <stdint.h>
#include <tlspin/module.h>

#include "file_state.h"

/* Warnings: pinsets expiring within 30 days, single-pin pinsets. Errors:
 * expired pinsets. Notes: patterns shadowed by a more specific pattern of
 * another pinset. Returns the number of errors. */
int file_lint(const struct file_state *st, int64_t now, tlspin_diag_fn *diag, void *diag_ctx);

#endif
