/* config_map: a string-keyed hash map of name -> (value, line) used by the config store. */
#ifndef KESTREL_MAIL_CONFIG_MAP_H
#define KESTREL_MAIL_CONFIG_MAP_H

#include "base/argv.h"

#include <stddef.h>

struct cfmap_entry {
    char *name;
    char *value;
    int line;
    struct cfmap_entry *next;
};

struct cfmap {
    struct cfmap_entry **buckets;
    size_t size, count;
};

void cfmap_init(struct cfmap *m);
void cfmap_clear(struct cfmap *m); /* frees all entries, keeps m usable */
struct cfmap_entry *cfmap_find(const struct cfmap *m, const char *name);
/* Insert or replace (the value is copied). */
struct cfmap_entry *cfmap_put(struct cfmap *m, const char *name, const char *value, int line);
/* Sorted names (caller frees). */
struct argv *cfmap_names(const struct cfmap *m);

#endif
