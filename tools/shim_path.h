/* shim_path — which libtlspin.so this tlspin command goes with, and which
 * entries of /etc/ld.so.preload are tlspin's. */
#ifndef TLSPIN_SHIM_PATH_H
#define TLSPIN_SHIM_PATH_H

/* The shim built next to this command when it runs from the build tree
 * (<build>/bin/tlspin), else the installed one (<libdir>/tlspin/libtlspin.so). */
const char *shim_default_path(void);

/* 1 when an ld.so.preload entry is tlspin's shim: the same path as lib, the
 * same file as lib, or any file named libtlspin.so. lib may be NULL. */
int shim_is_tlspin_entry(const char *entry, const char *lib);

#endif
