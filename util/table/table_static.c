/* table_static: "static:value" answers value for every key (e.g. virtual_uid_maps = static:5000).
 */
#include "table/table.h"

static int static_lookup(struct table *t, const char *key, struct str *value)
{
    (void)key;
    str_set(value, t->name);
    return TABLE_FOUND;
}

static void static_close(struct table *t)
{
    table_free(t);
}

static const struct table_ops static_ops = {
    .lookup = static_lookup,
    .close = static_close,
};

struct table *table_static_open(const char *name, int flags, struct str *err)
{
    (void)err;
    return table_alloc("static", name, flags & ~TABLE_FLAG_FOLD_KEY, TABLE_PROP_FIXED, &static_ops,
                       NULL);
}
