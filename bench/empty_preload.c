/* libempty_preload.so — the floor for exec cost: a preload library with one
 * exported function and nothing to do. Any LD_PRELOAD costs at least this
 * (open, mmap, relocation, symbol-scope entry). */
__attribute__((visibility("default"))) int tlspin_bench_empty_preload(void);
int tlspin_bench_empty_preload(void)
{
    return 0;
}
