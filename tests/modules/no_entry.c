/*
 * no_entry.so — a shared object that loads fine but exports no
 * tlspin_module_describe: tlspin MUST treat the stack entry as a faulty
 * module. The near-miss name below is hidden by the version script, so the
 * dynamic symbol table carries no function at all.
 */
#include <tlspin/module.h>

const struct tlspin_module *tlspin_module_describe_v0(void);

const struct tlspin_module *tlspin_module_describe_v0(void)
{
    return NULL;
}
