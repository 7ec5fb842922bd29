/* json.h — a small strict JSON reader for the ct module's log lists: a tree
 * of values, each with the line it starts on (for "file:line" errors). */
#ifndef CT_JSON_H
#define CT_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    unsigned line;
    char *str;              /* JSON_STRING: the text; JSON_NUMBER: as written */
    int boolean;
    size_t n;               /* array items / object members */
    struct json **items;    /* values */
    char **keys;            /* object only: the member names */
};

/* Parse text (NUL-terminated). Returns the root, or NULL with "line N: ..."
 * in err. */
struct json *json_parse(const char *text, char *err, size_t errlen);
void json_free(struct json *v);
/* Member of an object, NULL when absent or v is not an object. */
const struct json *json_get(const struct json *v, const char *key);

#endif
