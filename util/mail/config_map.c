/* config_map: chained hash table keyed by parameter name, grown as it fills. */
#include "mail/config_map.h"

#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

static size_t hash(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

void cfmap_init(struct cfmap *m)
{
    m->size = 256;
    m->count = 0;
    m->buckets = xcalloc(m->size, sizeof(*m->buckets));
}

void cfmap_clear(struct cfmap *m)
{
    if (m->buckets == NULL) {
        cfmap_init(m);
        return;
    }
    for (size_t i = 0; i < m->size; i++) {
        struct cfmap_entry *e = m->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e->name);
            free(e->value);
            free(e);
        }
        m->buckets[i] = NULL;
    }
    m->count = 0;
}

struct cfmap_entry *cfmap_find(const struct cfmap *m, const char *name)
{
    if (m->buckets == NULL)
        return NULL;
    for (struct cfmap_entry *e = m->buckets[hash(name) % m->size]; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static void grow(struct cfmap *m)
{
    size_t nsize = m->size * 2;
    struct cfmap_entry **nb = xcalloc(nsize, sizeof(*nb));
    for (size_t i = 0; i < m->size; i++) {
        struct cfmap_entry *e = m->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            size_t h = hash(e->name) % nsize;
            e->next = nb[h];
            nb[h] = e;
        }
    }
    free(m->buckets);
    m->buckets = nb;
    m->size = nsize;
}

struct cfmap_entry *cfmap_put(struct cfmap *m, const char *name, const char *value, int line)
{
    if (m->buckets == NULL)
        cfmap_init(m);
    struct cfmap_entry *e = cfmap_find(m, name);
    if (e) {
        free(e->value);
        e->value = xstrdup(value);
        e->line = line;
        return e;
    }
    if (m->count >= m->size)
        grow(m);
    e = xcalloc(1, sizeof(*e));
    e->name = xstrdup(name);
    e->value = xstrdup(value);
    e->line = line;
    size_t h = hash(name) % m->size;
    e->next = m->buckets[h];
    m->buckets[h] = e;
    m->count++;
    return e;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct argv *cfmap_names(const struct cfmap *m)
{
    struct argv *a = argv_new();
    for (size_t i = 0; m->buckets && i < m->size; i++)
        for (struct cfmap_entry *e = m->buckets[i]; e; e = e->next)
            argv_add(a, e->name);
    qsort(a->v, a->n, sizeof(char *), cmp_str);
    return a;
}
