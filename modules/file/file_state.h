/* The state of one opened file module: what open() built, read-only after. */
#ifndef FILE_STATE_H
#define FILE_STATE_H

#include <tlspin/module.h>

#include "host_index.h"
#include "pinset.h"

struct file_state {
    const struct tlspin_host *host;  /* tlspin's services, valid until close */
    struct pinset_list pinsets;
    struct host_index index;         /* points into pinsets */
};

#endif
