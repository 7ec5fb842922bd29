/* ct_harness.h — what the two SCT harnesses share: a CT log list with one
 * usable log whose key the harness holds, and the trick that lets mutations
 * reach that log's signature check. */
#ifndef TLSPIN_FUZZ_CT_HARNESS_H
#define TLSPIN_FUZZ_CT_HARNESS_H

#include <openssl/evp.h>
#include <stddef.h>

/* Writes a log list (v3 JSON, dated now) with one usable P-256 log, made
 * anew, into fh_dir(); returns its path, the log's id in log_id and, when
 * key is not NULL, the log's private key (the caller's to keep). Aborts on
 * failure (a harness bug, not a find). */
const char *fh_ct_log_list(unsigned char log_id[32], EVP_PKEY **key);

/* Replaces each run of 32 0xAA bytes in buf by log_id, so an input names
 * the harness's log without carrying its (per-process) id. */
void fh_ct_log_ids(unsigned char *buf, size_t n, const unsigned char log_id[32]);

#endif
