/* table_unionmap: "unionmap:{type:name, type:name, ...}" — looks the key up in every member and
 * answers all results joined by commas (not found when no member has the key). */
#include "table/table_composite.h"
#include "table/table_types.h"

#include "base/mem.h"

#include <stdlib.h>

static int union_lookup(struct table *t, const char *key, struct str *value)
{
    struct table_list *l = t->priv;
    struct str one = STR_INIT;
    int found = 0;
    for (size_t i = 0; i < l->n; i++) {
        int rc = table_lookup(l->t[i], key, &one);
        if (rc == TABLE_ERROR) {
            str_release(&one);
            return table_list_fail(t, l->t[i]);
        }
        if (rc == TABLE_FOUND) {
            if (found++)
                str_appendc(value, ',');
            str_appendn(value, one.data ? one.data : "", one.len);
        }
    }
    str_release(&one);
    return found ? TABLE_FOUND : TABLE_NOTFOUND;
}

static int union_changed(struct table *t)
{
    return table_list_changed(t->priv);
}

static void union_close(struct table *t)
{
    table_list_close(t->priv);
    free(t->priv);
    table_free(t);
}

static const struct table_ops union_ops = {
    .lookup = union_lookup,
    .close = union_close,
    .changed = union_changed,
};

struct table *table_unionmap_open(const char *name, int flags, struct str *err)
{
    struct table_list *l = xcalloc(1, sizeof(*l));
    if (table_list_open("unionmap", name, flags, l, err) != 0) {
        free(l);
        return NULL;
    }
    return table_alloc("unionmap", name, flags & ~TABLE_FLAG_FOLD_KEY, TABLE_PROP_FIXED, &union_ops,
                       l);
}
