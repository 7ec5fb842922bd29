/* elf_inspect — what the dynamic loader will do with a program, read from
 * its ELF headers (<elf.h>) without running it: static or dynamic, the
 * interpreter, DT_NEEDED/DT_RPATH/DT_RUNPATH, Go build notes, whether it
 * defines OpenSSL's entry points itself; and the dependency closure resolved
 * the way ld.so does (RPATH, LD_LIBRARY_PATH, RUNPATH, /etc/ld.so.cache,
 * the default directories). */
#ifndef TLSPIN_ELF_INSPECT_H
#define TLSPIN_ELF_INSPECT_H

#include <stddef.h>

struct elfi_object {
    int elf_class;           /* ELFCLASS32 / ELFCLASS64 */
    int machine;             /* e_machine */
    int type;                /* e_type: ET_EXEC, ET_DYN */
    int has_interp;          /* PT_INTERP: the dynamic loader runs */
    char *interp;            /* its path, or NULL */
    int has_dynamic;         /* PT_DYNAMIC */
    int is_go;               /* .go.buildinfo / .note.go.buildid / Go note */
    int defines_ssl;         /* .dynsym defines SSL_connect or SSL_do_handshake */
    char *soname;            /* DT_SONAME, or NULL */
    char **needed;           /* DT_NEEDED, in order */
    size_t n_needed;
    char *rpath, *runpath;   /* DT_RPATH / DT_RUNPATH (unexpanded), or NULL */
};

/* Parse `path`. Returns 0, or -1 with a one-line reason in err (not ELF,
 * truncated, another byte order, unreadable). */
int elfi_read(const char *path, struct elfi_object *o, char *err, size_t errlen);
void elfi_free(struct elfi_object *o);

/* A library of the closure. */
struct elfi_lib {
    char *name;              /* as DT_NEEDED names it */
    char *path;              /* resolved file, or NULL when not found */
    int depth;               /* 1: needed by the program itself */
    int parent;              /* index of the object that needs it; -1: the program */
    int is_go, defines_ssl;  /* as in elfi_object */
};

struct elfi_closure {
    struct elfi_lib *libs;
    size_t n;
};

/* Breadth-first closure of prog (already read from prog_path), resolving
 * each DT_NEEDED once, as ld.so does; ld_library_path may be NULL (and is
 * ignored when secure). Libraries of another class or machine are skipped
 * like ld.so skips them. Returns 0, or -1 without memory. */
int elfi_closure(const char *prog_path, const struct elfi_object *prog,
                 const char *ld_library_path, int secure, struct elfi_closure *c);
void elfi_closure_free(struct elfi_closure *c);

/* The libraries through which the one at index i is loaded, the program's
 * direct dependency first: "libcurl.so.4 > libldap-2.5.so.0" (empty when
 * the program needs it itself). */
void elfi_via(const struct elfi_closure *c, size_t i, char *out, size_t outlen);

/* A readable name of an e_machine value ("x86-64", "i386", ...). */
const char *elfi_machine_name(int machine);

#endif
