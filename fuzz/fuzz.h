/* fuzz.h — the libFuzzer entry points every harness defines. The same
 * harness links with libFuzzer (clang, TLSPIN_FUZZ) or with replay_main.c,
 * which runs it once over each file of a corpus (any compiler, CTest). */
#ifndef TLSPIN_FUZZ_H
#define TLSPIN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
