/* elf_inspect — read a program's ELF headers and resolve its libraries the
 * way ld.so does, without running anything. Every offset read from the
 * file is bounds-checked: the input may be any file at all. */
#include "elf_inspect.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct image {
    const unsigned char *p;
    size_t size;
    int cls;                   /* ELFCLASS32 / ELFCLASS64 */
};

/* The fields we use of the class-specific headers, widened. */
struct ehdr {
    uint16_t type, machine, phentsize, phnum, shentsize, shnum, shstrndx;
    uint64_t phoff, shoff;
};
struct phdr {
    uint32_t type;
    uint64_t offset, vaddr, filesz;
};
struct shdr {
    uint32_t name, type, link;
    uint64_t offset, size, entsize;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int in_bounds(const struct image *im, uint64_t off, uint64_t len)
{
    return off <= im->size && len <= im->size - off;
}

static int read_ehdr(const struct image *im, struct ehdr *h)
{
    if (im->cls == ELFCLASS64) {
        Elf64_Ehdr e;
        if (!in_bounds(im, 0, sizeof e))
            return -1;
        memcpy(&e, im->p, sizeof e);
        *h = (struct ehdr){e.e_type, e.e_machine, e.e_phentsize, e.e_phnum, e.e_shentsize,
                           e.e_shnum, e.e_shstrndx, e.e_phoff, e.e_shoff};
    } else {
        Elf32_Ehdr e;
        if (!in_bounds(im, 0, sizeof e))
            return -1;
        memcpy(&e, im->p, sizeof e);
        *h = (struct ehdr){e.e_type, e.e_machine, e.e_phentsize, e.e_phnum, e.e_shentsize,
                           e.e_shnum, e.e_shstrndx, e.e_phoff, e.e_shoff};
    }
    return 0;
}

static int read_phdr(const struct image *im, const struct ehdr *h, size_t i, struct phdr *ph)
{
    uint64_t off = h->phoff + (uint64_t)i * h->phentsize;
    if (im->cls == ELFCLASS64) {
        Elf64_Phdr e;
        if (h->phentsize < sizeof e || !in_bounds(im, off, sizeof e))
            return -1;
        memcpy(&e, im->p + off, sizeof e);
        *ph = (struct phdr){e.p_type, e.p_offset, e.p_vaddr, e.p_filesz};
    } else {
        Elf32_Phdr e;
        if (h->phentsize < sizeof e || !in_bounds(im, off, sizeof e))
            return -1;
        memcpy(&e, im->p + off, sizeof e);
        *ph = (struct phdr){e.p_type, e.p_offset, e.p_vaddr, e.p_filesz};
    }
    return 0;
}

static int read_shdr(const struct image *im, const struct ehdr *h, size_t i, struct shdr *sh)
{
    uint64_t off = h->shoff + (uint64_t)i * h->shentsize;
    if (im->cls == ELFCLASS64) {
        Elf64_Shdr e;
        if (h->shentsize < sizeof e || !in_bounds(im, off, sizeof e))
            return -1;
        memcpy(&e, im->p + off, sizeof e);
        *sh = (struct shdr){e.sh_name, e.sh_type, e.sh_link, e.sh_offset, e.sh_size, e.sh_entsize};
    } else {
        Elf32_Shdr e;
        if (h->shentsize < sizeof e || !in_bounds(im, off, sizeof e))
            return -1;
        memcpy(&e, im->p + off, sizeof e);
        *sh = (struct shdr){e.sh_name, e.sh_type, e.sh_link, e.sh_offset, e.sh_size, e.sh_entsize};
    }
    return 0;
}

/* A NUL-terminated string at off within [base, base+size) of the image. */
static const char *str_at(const struct image *im, uint64_t base, uint64_t size, uint64_t off)
{
    if (!in_bounds(im, base, size) || off >= size)
        return NULL;
    const char *s = (const char *)im->p + base + off;
    if (memchr(s, '\0', size - off) == NULL)
        return NULL;
    return s;
}

/* File offset of a virtual address, through the PT_LOAD segments. */
static int vaddr_to_off(const struct image *im, const struct ehdr *h, uint64_t vaddr,
                        uint64_t *off, uint64_t *avail)
{
    for (size_t i = 0; i < h->phnum; i++) {
        struct phdr ph;
        if (read_phdr(im, h, i, &ph) != 0)
            return -1;
        if (ph.type == PT_LOAD && vaddr >= ph.vaddr && vaddr - ph.vaddr < ph.filesz) {
            *off = ph.offset + (vaddr - ph.vaddr);
            *avail = ph.filesz - (vaddr - ph.vaddr);
            return in_bounds(im, *off, 0) ? 0 : -1;
        }
    }
    return -1;
}

static int push_needed(struct elfi_object *o, const char *name)
{
    char **n = realloc(o->needed, (o->n_needed + 1) * sizeof *n);
    if (n == NULL)
        return -1;
    o->needed = n;
    if ((n[o->n_needed] = strdup(name)) == NULL)
        return -1;
    o->n_needed++;
    return 0;
}

static int read_dynamic(const struct image *im, const struct ehdr *h, const struct phdr *dyn,
                        struct elfi_object *o)
{
    size_t entsz = im->cls == ELFCLASS64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
    uint64_t strtab = 0, strsz = 0, stroff, stravail;
    int have_strtab = 0;

    if (!in_bounds(im, dyn->offset, dyn->filesz))
        return -1;
    size_t n = dyn->filesz / entsz;
    /* Two passes: DT_STRTAB may come after the entries that use it. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            int64_t tag;
            uint64_t val;
            if (im->cls == ELFCLASS64) {
                Elf64_Dyn d;
                memcpy(&d, im->p + dyn->offset + i * entsz, sizeof d);
                tag = d.d_tag;
                val = d.d_un.d_val;
            } else {
                Elf32_Dyn d;
                memcpy(&d, im->p + dyn->offset + i * entsz, sizeof d);
                tag = d.d_tag;
                val = d.d_un.d_val;
            }
            if (tag == DT_NULL)
                break;
            if (pass == 0) {
                if (tag == DT_STRTAB) {
                    strtab = val;
                    have_strtab = 1;
                } else if (tag == DT_STRSZ) {
                    strsz = val;
                }
                continue;
            }
            if (tag != DT_NEEDED && tag != DT_RPATH && tag != DT_RUNPATH && tag != DT_SONAME)
                continue;
            const char *s = str_at(im, stroff, strsz, val);
            if (s == NULL)
                continue;
            if (tag == DT_NEEDED) {
                if (push_needed(o, s) != 0)
                    return -1;
            } else {
                char **slot = tag == DT_RPATH ? &o->rpath : tag == DT_RUNPATH ? &o->runpath
                                                                               : &o->soname;
                free(*slot);
                if ((*slot = strdup(s)) == NULL)
                    return -1;
            }
        }
        if (pass == 0) {
            if (!have_strtab || vaddr_to_off(im, h, strtab, &stroff, &stravail) != 0)
                return 0; /* no string table: no names to read */
            if (strsz == 0 || strsz > stravail)
                strsz = stravail;
        }
    }
    return 0;
}

/* Section-based facts: Go build notes, and whether .dynsym defines
 * SSL_connect / SSL_do_handshake (a bundled OpenSSL). Best effort: a file
 * without section headers just says nothing here. */
static void read_sections(const struct image *im, const struct ehdr *h, struct elfi_object *o)
{
    struct shdr strsec;
    if (h->shnum == 0 || h->shstrndx >= h->shnum || read_shdr(im, h, h->shstrndx, &strsec) != 0)
        return;
    for (size_t i = 0; i < h->shnum; i++) {
        struct shdr sh;
        if (read_shdr(im, h, i, &sh) != 0)
            return;
        const char *name = str_at(im, strsec.offset, strsec.size, sh.name);
        if (name && (strcmp(name, ".go.buildinfo") == 0 || strcmp(name, ".note.go.buildid") == 0 ||
                     strcmp(name, ".gopclntab") == 0))
            o->is_go = 1;
        if (sh.type != SHT_DYNSYM || o->defines_ssl)
            continue;
        struct shdr strs;
        size_t symsz = im->cls == ELFCLASS64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
        if (sh.link >= h->shnum || read_shdr(im, h, sh.link, &strs) != 0 ||
            !in_bounds(im, sh.offset, sh.size))
            continue;
        for (size_t k = 0; k < sh.size / symsz; k++) {
            uint32_t nm;
            uint16_t shndx;
            if (im->cls == ELFCLASS64) {
                Elf64_Sym s;
                memcpy(&s, im->p + sh.offset + k * symsz, sizeof s);
                nm = s.st_name;
                shndx = s.st_shndx;
            } else {
                Elf32_Sym s;
                memcpy(&s, im->p + sh.offset + k * symsz, sizeof s);
                nm = s.st_name;
                shndx = s.st_shndx;
            }
            if (shndx == SHN_UNDEF)
                continue;
            const char *sym = str_at(im, strs.offset, strs.size, nm);
            if (sym && (strcmp(sym, "SSL_connect") == 0 || strcmp(sym, "SSL_do_handshake") == 0)) {
                o->defines_ssl = 1;
                break;
            }
        }
    }
}

int elfi_read(const char *path, struct elfi_object *o, char *err, size_t errlen)
{
    struct stat st;
    struct image im = {0};
    struct ehdr h;
    int fd, rc = -1;
    void *map;

    memset(o, 0, sizeof *o);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);   /* a FIFO: never wait */
    if (fd < 0) {
        set_err(err, errlen, "cannot read it: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, errlen, "%s", "not a regular file");
        close(fd);
        return -1;
    }
    if (st.st_size < EI_NIDENT) {
        set_err(err, errlen, "%s", "not an ELF file (too short)");
        close(fd);
        return -1;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        set_err(err, errlen, "cannot map it: %s", strerror(errno));
        return -1;
    }
    im.p = map;
    im.size = (size_t)st.st_size;
    if (memcmp(im.p, ELFMAG, SELFMAG) != 0) {
        set_err(err, errlen, "%s", "not an ELF file");
        goto out;
    }
    im.cls = im.p[EI_CLASS];
    if (im.cls != ELFCLASS32 && im.cls != ELFCLASS64) {
        set_err(err, errlen, "%s", "an ELF file of an unknown class");
        goto out;
    }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (im.p[EI_DATA] != ELFDATA2LSB) {
#else
    if (im.p[EI_DATA] != ELFDATA2MSB) {
#endif
        set_err(err, errlen, "%s", "an ELF file of the other byte order (another machine)");
        goto out;
    }
    if (read_ehdr(&im, &h) != 0) {
        set_err(err, errlen, "%s", "a truncated ELF file");
        goto out;
    }
    o->elf_class = im.cls;
    o->machine = h.machine;
    o->type = h.type;
    for (size_t i = 0; i < h.phnum; i++) {
        struct phdr ph;
        if (read_phdr(&im, &h, i, &ph) != 0) {
            set_err(err, errlen, "%s", "a truncated ELF file (program headers)");
            goto out;
        }
        if (ph.type == PT_INTERP && !o->has_interp) {
            const char *s = str_at(&im, ph.offset, ph.filesz, 0);
            o->has_interp = 1;
            o->interp = strdup(s ? s : "?");
        } else if (ph.type == PT_DYNAMIC && !o->has_dynamic) {
            o->has_dynamic = 1;
            if (read_dynamic(&im, &h, &ph, o) != 0) {
                set_err(err, errlen, "%s", "a malformed ELF dynamic section");
                goto out;
            }
        } else if (ph.type == PT_NOTE && in_bounds(&im, ph.offset, ph.filesz)) {
            /* Go's build-id note: name "Go", type 4. */
            uint64_t off = ph.offset, end = ph.offset + ph.filesz;
            while (off + 12 <= end) {
                uint32_t nsz, dsz, typ;
                memcpy(&nsz, im.p + off, 4);
                memcpy(&dsz, im.p + off + 4, 4);
                memcpy(&typ, im.p + off + 8, 4);
                uint64_t name_off = off + 12;
                uint64_t next = name_off + ((nsz + 3ull) & ~3ull) + ((dsz + 3ull) & ~3ull);
                if (next > end)
                    break;
                if (nsz == 3 && typ == 4 && memcmp(im.p + name_off, "Go\0", 3) == 0)
                    o->is_go = 1;
                off = next;
            }
        }
    }
    read_sections(&im, &h, o);
    rc = 0;
out:
    munmap(map, im.size);
    if (rc != 0)
        elfi_free(o);
    return rc;
}

void elfi_free(struct elfi_object *o)
{
    for (size_t i = 0; i < o->n_needed; i++)
        free(o->needed[i]);
    free(o->needed);
    free(o->interp);
    free(o->soname);
    free(o->rpath);
    free(o->runpath);
    memset(o, 0, sizeof *o);
}

/* ------------------------------------------------------------------ */
/* Resolution                                                           */
/* ------------------------------------------------------------------ */

/* Is path an ELF shared object of this class and machine? (ld.so skips
 * the others and keeps searching.) */
static int compatible(const char *path, int cls, int machine)
{
    unsigned char buf[64];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);   /* a FIFO: never wait */
    ssize_t n;

    if (fd < 0)
        return 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }
    n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < (ssize_t)sizeof(Elf32_Ehdr) || memcmp(buf, ELFMAG, SELFMAG) != 0 ||
        buf[EI_CLASS] != cls)
        return 0;
    uint16_t m;
    memcpy(&m, buf + offsetof(Elf32_Ehdr, e_machine), 2); /* same offset in both classes */
    return m == machine;
}

/* /etc/ld.so.cache, new format ("glibc-ld.so.cache1.1"), possibly after an
 * old-format ("ld.so-1.7.0") table. */
struct ldcache {
    const unsigned char *p;
    size_t size;
    size_t base;               /* offset of the new-format header */
    uint32_t nlibs;
    int loaded;
};
static struct ldcache cache;

static void ldcache_load(void)
{
    static const char new_magic[] = "glibc-ld.so.cache1.1";
    struct stat st;
    int fd;

    if (cache.loaded)
        return;
    cache.loaded = 1;
    fd = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (fstat(fd, &st) != 0 || st.st_size < 48) {
        close(fd);
        return;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return;
    cache.p = m;
    cache.size = (size_t)st.st_size;
    size_t base = 0;
    if (memcmp(cache.p, "ld.so-1.7.0", 11) == 0) {
        uint32_t old_n;
        memcpy(&old_n, cache.p + 12, 4);
        base = 16 + (size_t)old_n * 12;
        base = (base + 7) & ~(size_t)7;
    }
    if (base + 48 > cache.size || memcmp(cache.p + base, new_magic, sizeof new_magic - 1) != 0) {
        munmap(m, cache.size);
        cache.p = NULL;
        return;
    }
    memcpy(&cache.nlibs, cache.p + base + 20, 4);
    if ((uint64_t)cache.nlibs * 24 > cache.size - base - 48)
        cache.nlibs = (uint32_t)((cache.size - base - 48) / 24);
    cache.base = base;
}

static const char *ldcache_str(uint32_t off)
{
    size_t at = cache.base + off;
    if (at >= cache.size || memchr(cache.p + at, '\0', cache.size - at) == NULL)
        return NULL;
    return (const char *)cache.p + at;
}

static char *from_cache(const char *name, int cls, int machine)
{
    ldcache_load();
    if (cache.p == NULL)
        return NULL;
    for (uint32_t i = 0; i < cache.nlibs; i++) {
        const unsigned char *e = cache.p + cache.base + 48 + (size_t)i * 24;
        uint32_t key, value;
        memcpy(&key, e + 4, 4);
        memcpy(&value, e + 8, 4);
        const char *k = ldcache_str(key), *v = ldcache_str(value);
        if (k && v && strcmp(k, name) == 0 && compatible(v, cls, machine))
            return strdup(v);
    }
    return NULL;
}

/* Search a colon/semicolon separated directory list, $ORIGIN expanded. */
static char *search_list(const char *list, const char *origin, const char *name, int cls,
                         int machine)
{
    char *copy, *save = NULL, *dir, path[PATH_MAX];

    if (list == NULL || (copy = strdup(list)) == NULL)
        return NULL;
    for (dir = strtok_r(copy, ":;", &save); dir; dir = strtok_r(NULL, ":;", &save)) {
        char expanded[PATH_MAX];
        const char *d = dir;
        if (strncmp(dir, "$ORIGIN", 7) == 0 || strncmp(dir, "${ORIGIN}", 9) == 0) {
            if (origin == NULL)
                continue;
            snprintf(expanded, sizeof expanded, "%s%s", origin, dir + (dir[1] == '{' ? 9 : 7));
            d = expanded;
        } else if (strchr(dir, '$') != NULL) {
            continue; /* $LIB, $PLATFORM: not expanded here */
        }
        if (snprintf(path, sizeof path, "%s/%s", *d ? d : ".", name) >= (int)sizeof path)
            continue;
        if (compatible(path, cls, machine)) {
            free(copy);
            return strdup(path);
        }
    }
    free(copy);
    return NULL;
}

static const char *multiarch(int cls, int machine)
{
    switch (machine) {
    case EM_X86_64: return cls == ELFCLASS64 ? "x86_64-linux-gnu" : "x86_64-linux-gnux32";
    case EM_386: return "i386-linux-gnu";
    case EM_AARCH64: return "aarch64-linux-gnu";
    case EM_ARM: return "arm-linux-gnueabihf";
    case EM_PPC64: return "powerpc64le-linux-gnu";
    case EM_S390: return "s390x-linux-gnu";
    case EM_RISCV: return "riscv64-linux-gnu";
    default: return NULL;
    }
}

static char *default_dirs(const char *name, int cls, int machine)
{
    const char *ma = multiarch(cls, machine);
    char list[512];
    snprintf(list, sizeof list, "%s%s%s%s%s%s/lib64:/usr/lib64:/lib32:/usr/lib32:/lib:/usr/lib",
             ma ? "/lib/" : "", ma ? ma : "", ma ? ":" : "", ma ? "/usr/lib/" : "", ma ? ma : "",
             ma ? ":" : "");
    return search_list(list, NULL, name, cls, machine);
}

static char *dir_of(const char *path)
{
    char real[PATH_MAX], *slash;
    if (realpath(path, real) == NULL)
        snprintf(real, sizeof real, "%s", path);
    slash = strrchr(real, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == real)
        slash[1] = '\0';
    else
        *slash = '\0';
    return strdup(real);
}

struct node {
    char *path;                /* the object's file */
    char *origin;              /* its directory ($ORIGIN) */
    struct elfi_object obj;
    int parent;                /* node index, -1 for the program */
};

int elfi_closure(const char *prog_path, const struct elfi_object *prog, const char *llp,
                 int secure, struct elfi_closure *c)
{
    enum { MAX_OBJECTS = 2048 };
    struct node *nodes = calloc(MAX_OBJECTS, sizeof *nodes);
    size_t n_nodes = 1;
    int rc = 0;

    memset(c, 0, sizeof *c);
    if (nodes == NULL)
        return -1;
    c->libs = calloc(MAX_OBJECTS, sizeof *c->libs);
    if (c->libs == NULL) {
        free(nodes);
        return -1;
    }
    /* Node 0 is the program; node k (k >= 1) is c->libs[k-1] when found. */
    nodes[0].path = strdup(prog_path);
    nodes[0].origin = dir_of(prog_path);
    nodes[0].obj = *prog; /* borrowed: not freed below */
    nodes[0].parent = -1;
    if (secure)
        llp = NULL;

    for (size_t q = 0; q < n_nodes; q++) {
        const struct node *nd = &nodes[q];
        if (nd->path == NULL)
            continue; /* a library that was not found: nothing to expand */
        for (size_t k = 0; k < nd->obj.n_needed; k++) {
            const char *name = nd->obj.needed[k];
            int seen = 0;
            for (size_t j = 0; j < c->n && !seen; j++)
                seen = strcmp(c->libs[j].name, name) == 0;
            if (seen || c->n + 1 >= MAX_OBJECTS)
                continue;
            char *found = NULL;
            if (strchr(name, '/') != NULL) {
                if (compatible(name, prog->elf_class, prog->machine))
                    found = strdup(name);
            } else {
                /* DT_RPATH of this object and its loaders, unless it has a
                 * DT_RUNPATH; LD_LIBRARY_PATH; its DT_RUNPATH; the cache;
                 * the default directories. */
                if (nd->obj.runpath == NULL)
                    for (int a = (int)q; a >= 0 && !found; a = nodes[a].parent)
                        found = search_list(nodes[a].obj.rpath, nodes[a].origin, name,
                                            prog->elf_class, prog->machine);
                if (!found)
                    found = search_list(llp, NULL, name, prog->elf_class, prog->machine);
                if (!found)
                    found = search_list(nd->obj.runpath, nd->origin, name, prog->elf_class,
                                        prog->machine);
                if (!found)
                    found = from_cache(name, prog->elf_class, prog->machine);
                if (!found)
                    found = default_dirs(name, prog->elf_class, prog->machine);
            }
            struct elfi_lib *lib = &c->libs[c->n];
            lib->name = strdup(name);
            lib->path = found;
            lib->depth = (q == 0 ? 0 : c->libs[q - 1].depth) + 1;
            lib->parent = (int)q - 1;
            if (lib->name == NULL) {
                rc = -1;
                goto out;
            }
            c->n++;
            struct node *child = &nodes[n_nodes++];
            child->parent = (int)q;
            if (found) {
                char err[128];
                child->path = strdup(found);
                child->origin = dir_of(found);
                if (elfi_read(found, &child->obj, err, sizeof err) == 0) {
                    lib->is_go = child->obj.is_go;
                    lib->defines_ssl = child->obj.defines_ssl;
                }
            }
        }
    }
out:
    for (size_t i = 0; i < n_nodes; i++) {
        free(nodes[i].path);
        free(nodes[i].origin);
        if (i > 0)
            elfi_free(&nodes[i].obj);
    }
    free(nodes);
    if (rc != 0)
        elfi_closure_free(c);
    return rc;
}

void elfi_closure_free(struct elfi_closure *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->libs[i].name);
        free(c->libs[i].path);
    }
    free(c->libs);
    memset(c, 0, sizeof *c);
}

void elfi_via(const struct elfi_closure *c, size_t i, char *out, size_t outlen)
{
    int chain[64];
    size_t n = 0, len = 0;

    out[0] = '\0';
    for (int p = c->libs[i].parent; p >= 0 && n < 64; p = c->libs[p].parent)
        chain[n++] = p;
    while (n > 0 && len < outlen) {
        int k = snprintf(out + len, outlen - len, "%s%s", len ? " > " : "",
                         c->libs[chain[--n]].name);
        if (k < 0)
            break;
        len += (size_t)k;
    }
}

const char *elfi_machine_name(int machine)
{
    switch (machine) {
    case EM_X86_64: return "x86-64";
    case EM_386: return "i386";
    case EM_AARCH64: return "AArch64";
    case EM_ARM: return "ARM";
    case EM_PPC64: return "PowerPC64";
    case EM_S390: return "s390x";
    case EM_RISCV: return "RISC-V";
    default: return "another machine";
    }
}
