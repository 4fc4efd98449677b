/* table_texthash: "texthash:/etc/postfix/access" — a postmap source file read into memory at
 * open (no .db file): same syntax, same key folding, duplicates warned about and the first kept. */
#include "table/table.h"
#include "table/table_source.h"
#include "table/table_types.h"

#include "base/log.h"
#include "base/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TEXTHASH_MAX_ENTRIES 10000000

struct th_entry {
    char *key;
    char *value;
    size_t next; /* chain: index + 1, 0 = end */
};

struct th_table {
    struct th_entry *e;
    size_t n, cap;
    size_t *bucket; /* index + 1 */
    size_t nbucket;
    size_t cursor;
    char *path;
    struct table_stamp stamp;
};

static size_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static struct th_entry *th_find(struct th_table *th, const char *key)
{
    if (th->nbucket == 0)
        return NULL;
    for (size_t i = th->bucket[hash_of(key) % th->nbucket]; i; i = th->e[i - 1].next)
        if (strcmp(th->e[i - 1].key, key) == 0)
            return &th->e[i - 1];
    return NULL;
}

static void th_rehash(struct th_table *th)
{
    free(th->bucket);
    th->nbucket = th->n * 2 + 16;
    th->bucket = xcalloc(th->nbucket, sizeof(*th->bucket));
    for (size_t i = 0; i < th->n; i++) {
        size_t b = hash_of(th->e[i].key) % th->nbucket;
        th->e[i].next = th->bucket[b];
        th->bucket[b] = i + 1;
    }
}

static void th_add(struct th_table *th, const char *key, const char *value)
{
    th->e = xgrow(th->e, &th->cap, th->n + 1, sizeof(*th->e));
    th->e[th->n].key = xstrdup(key);
    th->e[th->n].value = xstrdup(value);
    th->n++;
    if (th->n > th->nbucket) {
        th_rehash(th);
    } else {
        size_t b = hash_of(key) % th->nbucket;
        th->e[th->n - 1].next = th->bucket[b];
        th->bucket[b] = th->n;
    }
}

static int th_lookup(struct table *t, const char *key, struct str *value)
{
    struct th_entry *e = th_find(t->priv, key);
    if (e == NULL)
        return TABLE_NOTFOUND;
    str_set(value, e->value);
    return TABLE_FOUND;
}

static int th_iterate(struct table *t, int first, struct str *key, struct str *value)
{
    struct th_table *th = t->priv;
    if (first)
        th->cursor = 0;
    if (th->cursor >= th->n)
        return TABLE_NOTFOUND;
    str_set(key, th->e[th->cursor].key);
    str_set(value, th->e[th->cursor].value);
    th->cursor++;
    return TABLE_FOUND;
}

static int th_changed(struct table *t)
{
    struct th_table *th = t->priv;
    return table_stamp_changed(th->path, &th->stamp);
}

static void th_close(struct table *t)
{
    struct th_table *th = t->priv;
    for (size_t i = 0; i < th->n; i++) {
        free(th->e[i].key);
        free(th->e[i].value);
    }
    free(th->e);
    free(th->bucket);
    free(th->path);
    free(th);
    table_free(t);
}

static const struct table_ops th_ops = {
    .lookup = th_lookup,
    .iterate = th_iterate,
    .close = th_close,
    .changed = th_changed,
};

static int th_load(struct th_table *th, const char *path, int flags, struct str *err)
{
    struct table_source src;
    if (table_source_open(&src, path, err) != 0)
        return -1;
    struct str line = STR_INIT, key = STR_INIT, value = STR_INIT;
    int rc;
    while ((rc = table_source_next(&src, &line, err)) == 1) {
        if (table_source_split(str_cstr(&line), &key, &value) != 0) {
            msg_warn("%s, line %d: expected format: key whitespace value", path, src.start);
            continue;
        }
        if (flags & TABLE_FLAG_FOLD_KEY)
            str_lower(&key);
        if (th_find(th, str_cstr(&key)) != NULL) {
            msg_warn("%s, line %d: duplicate entry: \"%s\"", path, src.start, str_cstr(&key));
            continue;
        }
        if (th->n >= TEXTHASH_MAX_ENTRIES) {
            str_setf(err, "%s, line %d: more than %d entries", path, src.start,
                     TEXTHASH_MAX_ENTRIES);
            rc = -1;
            break;
        }
        th_add(th, str_cstr(&key), str_cstr(&value));
    }
    table_source_close(&src);
    str_release(&line);
    str_release(&key);
    str_release(&value);
    return rc < 0 ? -1 : 0;
}

struct table *table_texthash_open(const char *name, int flags, struct str *err)
{
    struct th_table *th = xcalloc(1, sizeof(*th));
    th->path = xstrdup(name);
    table_stamp_take(name, &th->stamp);
    struct table *t = table_alloc("texthash", name, flags, TABLE_PROP_FIXED, &th_ops, th);
    if (th_load(th, name, flags, err) != 0) {
        th_close(t);
        return NULL;
    }
    return t;
}
