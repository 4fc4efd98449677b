/* table_pipemap: "pipemap:{type:name, type:name, ...}" — the key goes to the first member, each
 * result is the key for the next one, and the last result is the answer. */
#include "table/table_composite.h"
#include "table/table_types.h"

#include "base/mem.h"

#include <stdlib.h>

static int pipe_lookup(struct table *t, const char *key, struct str *value)
{
    struct table_list *l = t->priv;
    struct str in = STR_INIT;
    str_set(&in, key);
    int rc = TABLE_NOTFOUND;
    for (size_t i = 0; i < l->n; i++) {
        rc = table_lookup(l->t[i], str_cstr(&in), value);
        if (rc == TABLE_ERROR)
            rc = table_list_fail(t, l->t[i]);
        if (rc != TABLE_FOUND)
            break;
        str_set(&in, str_cstr(value));
    }
    str_release(&in);
    if (rc != TABLE_FOUND)
        str_clear(value);
    return rc;
}

static int pipe_changed(struct table *t)
{
    return table_list_changed(t->priv);
}

static void pipe_close(struct table *t)
{
    table_list_close(t->priv);
    free(t->priv);
    table_free(t);
}

static const struct table_ops pipe_ops = {
    .lookup = pipe_lookup,
    .close = pipe_close,
    .changed = pipe_changed,
};

struct table *table_pipemap_open(const char *name, int flags, struct str *err)
{
    struct table_list *l = xcalloc(1, sizeof(*l));
    if (table_list_open("pipemap", name, flags, l, err) != 0) {
        free(l);
        return NULL;
    }
    return table_alloc("pipemap", name, flags & ~TABLE_FLAG_FOLD_KEY, TABLE_PROP_FIXED, &pipe_ops,
                       l);
}
