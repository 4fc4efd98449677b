/* table_fail: "fail:name" answers a temporary error for every lookup (for testing and for
 * deliberately disabled tables). */
#include "table/table.h"

static int fail_lookup(struct table *t, const char *key, struct str *value)
{
    (void)key;
    (void)value;
    return table_fail(t, "fail:%s: table lookup failed (as configured)", t->name);
}

static void fail_close(struct table *t)
{
    table_free(t);
}

static const struct table_ops fail_ops = {
    .lookup = fail_lookup,
    .close = fail_close,
};

struct table *table_fail_open(const char *name, int flags, struct str *err)
{
    (void)err;
    return table_alloc("fail", name, flags, TABLE_PROP_FIXED, &fail_ops, NULL);
}
