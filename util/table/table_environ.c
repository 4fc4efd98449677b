/* table_environ: "environ:" — the process environment as a table (key = variable name). */
#include "table/table.h"
#include "table/table_types.h"

#include <stdlib.h>

static int environ_lookup(struct table *t, const char *key, struct str *value)
{
    (void)t;
    const char *v = getenv(key);
    if (v == NULL)
        return TABLE_NOTFOUND;
    str_set(value, v);
    return TABLE_FOUND;
}

static void environ_close(struct table *t)
{
    table_free(t);
}

static const struct table_ops environ_ops = {
    .lookup = environ_lookup,
    .close = environ_close,
};

struct table *table_environ_open(const char *name, int flags, struct str *err)
{
    (void)err;
    return table_alloc("environ", name, flags & ~TABLE_FLAG_FOLD_KEY, TABLE_PROP_FIXED,
                       &environ_ops, NULL);
}
