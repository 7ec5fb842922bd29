/* Reading the libconfig syntax of a pinsets file into a tree, strictly.
 *
 * Pinset files are written in libconfig's syntax, but read here rather than
 * by libconfig: at the first handshake of every process the whole pinset
 * directory is parsed, and libconfig 1.5 spends two thirds of that time in
 * its parser and allocator (10,000 pinsets: 270M of 400M instructions).
 * Reading it here also gives every value its own line (libconfig stamps an
 * element with the line of the token after it, and keeps 16 bits of it).
 *
 * The grammar is libconfig 1.5's: settings `name = value` or `name : value`
 * ended by ';', ',' or nothing; groups { }, lists ( ), arrays [ ] of scalars
 * of one type; strings with \n \r \t \f \\ \" \xHH (\XHH) escapes, adjacent strings
 * joined; integers (decimal, 0x hex, L / LL for 64 bits), floats, true and
 * false in any case; comments #, // and slash-star. tests/unit/test_conf_tree.c
 * checks that libconfig and this reader accept the same texts and read the
 * same values. Stricter than libconfig, on purpose, for what would otherwise
 * be read silently wrong or cannot be meant:
 *   - NUL bytes, the escapes \x00 and \X00 (libconfig cuts the string
 *     there), and @include or any '@' directive (a pinset file is one file);
 *   - an integer outside signed 32 bits without an L suffix (libconfig 1.5
 *     wraps it: 4294967739 reads as 443, 0xFFFFFFFF as -1), or outside signed
 *     64 bits with one;
 *   - an unterminated string or comment (a file caught half-written);
 *   - nesting deeper than CONF_DEPTH_MAX, more than 64 settings in one group
 *     (duplicate names are found by a scan; a pinset has 8 keys).
 * More lenient in one place: a # or // comment on a last line without a
 * newline (libconfig 1.5 calls it a syntax error).
 */
#ifndef FILE_CONF_TREE_H
#define FILE_CONF_TREE_H

#include <stddef.h>

#define CONF_DEPTH_MAX 32

enum conf_type {
    CONF_GROUP,    /* { name = value; ... } */
    CONF_LIST,     /* ( value, ... ) */
    CONF_ARRAY,    /* [ scalar, ... ] */
    CONF_STRING,
    CONF_INT,      /* with or without L: both are integers to a reader */
    CONF_FLOAT,
    CONF_BOOL
};

struct conf_node {
    enum conf_type type;
    const char *name;            /* the setting's name; NULL for an element */
    unsigned line;               /* of the name, or of an element's first token */
    const char *str;             /* CONF_STRING: NUL-terminated, escapes decoded */
    long long num;               /* CONF_INT; CONF_BOOL: 0 or 1 */
    struct conf_node *first;     /* children, in document order */
    struct conf_node *next;      /* the next sibling */
    size_t n_children;
};

struct conf_block;

/* Everything the tree holds lives in its blocks: one free releases it. */
struct conf_tree {
    struct conf_node *root;      /* a CONF_GROUP without name */
    struct conf_block *blocks;
};

/* Reads text[0..len) (NUL bytes in it are an error). Returns 0 with the tree,
 * or -1 with "file:line: reason" in err and an empty tree. */
int conf_tree_read(struct conf_tree *tree, const char *file, const char *text, size_t len,
                   char *err, size_t errlen) __attribute__((warn_unused_result));

/* NULL-safe; leaves the tree empty. */
void conf_tree_free(struct conf_tree *tree);

/* The member called name of a group, or NULL. */
const struct conf_node *conf_member(const struct conf_node *group, const char *name);

/* "a group", "an integer", ... for messages. */
const char *conf_type_name(enum conf_type type);

#endif
