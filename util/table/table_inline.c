/* table_inline: "inline:{ key=value, { key = text with, commas } }" — a small table written
 * directly in main.cf. Keys are exact (folded per the open flags). */
#include "table/table.h"

#include "base/argv.h"
#include "base/mem.h"
#include "base/textsplit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct inline_entry {
    char *key;
    char *value;
};

struct inline_table {
    struct inline_entry *entries;
    size_t n, cap;
    size_t cursor; /* next entry for iterate */
};

static int inline_lookup(struct table *t, const char *key, struct str *value)
{
    struct inline_table *it = t->priv;
    for (size_t i = 0; i < it->n; i++)
        if (strcmp(it->entries[i].key, key) == 0) {
            str_set(value, it->entries[i].value);
            return TABLE_FOUND;
        }
    return TABLE_NOTFOUND;
}

static int inline_iterate(struct table *t, int first, struct str *key, struct str *value)
{
    struct inline_table *it = t->priv;
    if (first)
        it->cursor = 0;
    if (it->cursor >= it->n)
        return TABLE_NOTFOUND;
    str_set(key, it->entries[it->cursor].key);
    str_set(value, it->entries[it->cursor].value);
    it->cursor++;
    return TABLE_FOUND;
}

static void inline_close(struct table *t)
{
    struct inline_table *it = t->priv;
    for (size_t i = 0; i < it->n; i++) {
        free(it->entries[i].key);
        free(it->entries[i].value);
    }
    free(it->entries);
    free(it);
    table_free(t);
}

static const struct table_ops inline_ops = {
    .lookup = inline_lookup,
    .iterate = inline_iterate,
    .close = inline_close,
};

static char *trimmed(const char *p, size_t len)
{
    while (len && isspace((unsigned char)*p))
        p++, len--;
    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    return xstrndup(p, len);
}

static int add_entry(struct inline_table *it, const char *word, int fold, struct str *err)
{
    const char *eq = strchr(word, '=');
    if (eq == NULL) {
        str_setf(err, "inline: missing '=' in \"%s\"", word);
        return -1;
    }
    char *key = trimmed(word, (size_t)(eq - word));
    if (*key == 0) {
        free(key);
        str_setf(err, "inline: empty key in \"%s\"", word);
        return -1;
    }
    if (fold)
        for (char *k = key; *k; k++)
            *k = (char)tolower((unsigned char)*k);
    it->entries = xgrow(it->entries, &it->cap, it->n + 1, sizeof(*it->entries));
    it->entries[it->n].key = key;
    it->entries[it->n].value = trimmed(eq + 1, strlen(eq + 1));
    it->n++;
    return 0;
}

struct table *table_inline_open(const char *name, int flags, struct str *err)
{
    struct str inner = STR_INIT;
    int rc = strip_braces(name, &inner, err);
    if (rc <= 0) {
        if (rc == 0)
            str_setf(err, "open inline:%s: the table must be enclosed in { }", name);
        str_release(&inner);
        return NULL;
    }
    struct argv *words = argv_new();
    struct inline_table *it = xcalloc(1, sizeof(*it));
    int ok = split_words(str_cstr(&inner), ", \t\r\n", SPLIT_STRIP_BRACES, words, err) == 0;
    for (size_t i = 0; ok && i < words->n; i++)
        ok = add_entry(it, words->v[i], flags & TABLE_FLAG_FOLD_KEY, err) == 0;
    argv_free(words);
    str_release(&inner);
    struct table *t = table_alloc("inline", name, flags, TABLE_PROP_FIXED, &inline_ops, it);
    if (!ok) {
        inline_close(t);
        return NULL;
    }
    return t;
}
