/* Loading every pinset of a `pinsets` path, then the rules that span files
 * (unique pinset names). Host claims are checked by host_index. */
#include "pinset_load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "pinset_parse.h"
#include "source_read.h"
#include "strmap.h"

static int load_one_file(struct pinset_list *list, const struct tlspin_host *host,
                         const char *path, char *err, size_t errlen)
{
    const char *file = pinset_list_add_file(list, path);
    char *text = NULL;
    size_t len = 0;
    int r = -1;

    if (file == NULL) {
        diag_errf(err, errlen, path, 0, "out of memory");
        return -1;
    }
    if (source_read_file(file, &text, &len, err, errlen) != 0)
        return -1;
    r = pinset_parse_text(list, host, file, text, len, err, errlen);
    free(text);
    return r;
}

static int load_directory(struct pinset_list *list, const struct tlspin_host *host,
                          const char *dir, char *err, size_t errlen)
{
    char **paths = NULL;
    size_t n = 0, i;
    int r = -1;

    if (source_list_dir(dir, &paths, &n, err, errlen) != 0)
        return -1;
    for (i = 0; i < n; i++)
        if (load_one_file(list, host, paths[i], err, errlen) != 0)
            goto out;
    r = 0;
out:
    source_free_paths(paths, n);
    return r;
}

/* Pinset names are what logs and reports call a rule: one name, one pinset. */
static int check_unique_names(const struct pinset_list *list, char *err, size_t errlen)
{
    struct strmap names;
    size_t i;
    int r = -1;

    if (strmap_init(&names, list->n) != 0) {
        diag_errf(err, errlen, NULL, 0, "out of memory");
        return -1;
    }
    for (i = 0; i < list->n; i++) {
        const struct pinset *ps = &list->items[i];
        const struct pinset *first = strmap_get(&names, ps->name, strlen(ps->name));
        if (first != NULL) {
            diag_errf(err, errlen, ps->file, ps->line, "pinset name \"%s\" is already used "
                      "at %s:%u", ps->name, first->file, first->line);
            goto out;
        }
        if (strmap_put(&names, ps->name, strlen(ps->name), (void *)ps) != 0) {
            diag_errf(err, errlen, NULL, 0, "out of memory");
            goto out;
        }
    }
    r = 0;
out:
    strmap_free(&names);
    return r;
}

int pinset_load(struct pinset_list *list, const struct tlspin_host *host, const char *path,
                const char *arg_file, unsigned arg_line, char *err, size_t errlen)
{
    char q[DIAG_QUOTE_MAX];
    struct stat st;
    int r;

    diag_quote(path, q);
    if (path[0] != '/') {
        diag_errf(err, errlen, arg_file, arg_line, "pinsets \"%s\" must be an absolute path",
                  q);
        return -1;
    }
    if (stat(path, &st) != 0) {
        diag_errf(err, errlen, arg_file, arg_line, "pinsets \"%s\": %s", q, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        r = load_directory(list, host, path, err, errlen);
    else if (S_ISREG(st.st_mode))
        r = load_one_file(list, host, path, err, errlen);
    else {
        diag_errf(err, errlen, arg_file, arg_line, "pinsets \"%s\" is neither a directory "
                  "nor a regular file", q);
        return -1;
    }
    if (r != 0)
        return -1;
    return check_unique_names(list, err, errlen);
}
