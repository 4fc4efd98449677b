/* table: the type-independent part of lookup tables: "type:name" dispatch, key folding,
 * surrogate tables for tables that cannot be opened, and common error handling. */
#include "table/table.h"

#include "base/log.h"
#include "base/mem.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct table *table_alloc(const char *type, const char *name, int flags, int properties,
                          const struct table_ops *ops, void *priv)
{
    struct table *t = xcalloc(1, sizeof(*t));
    t->type = type;
    t->name = xstrdup(name);
    t->flags = flags;
    t->properties = properties;
    t->ops = ops;
    t->priv = priv;
    return t;
}

void table_free(struct table *t)
{
    if (t == NULL)
        return;
    str_release(&t->error);
    str_release(&t->fold);
    free(t->name);
    free(t);
}

int table_fail(struct table *t, const char *fmt, ...)
{
    va_list ap;
    str_clear(&t->error);
    va_start(ap, fmt);
    str_vappendf(&t->error, fmt, ap);
    va_end(ap);
    return TABLE_ERROR;
}

struct table *table_open(const char *spec, int flags, struct str *err)
{
    const char *colon = strchr(spec, ':');
    if (colon == NULL || colon == spec) {
        str_setf(err, "table \"%s\": need \"type:name\"", spec);
        return NULL;
    }
    struct str type = STR_INIT;
    str_appendn(&type, spec, (size_t)(colon - spec));
    const struct table_type *tt = table_type_find(str_cstr(&type));
    if (tt == NULL) {
        str_setf(err, "unsupported dictionary type: %s", str_cstr(&type));
        str_release(&type);
        return NULL;
    }
    str_release(&type);
    return tt->open(colon + 1, flags, err);
}

/* The surrogate: every operation fails with the reason the real table could not be opened. */
static int surrogate_lookup(struct table *t, const char *key, struct str *value)
{
    (void)key;
    (void)value;
    return table_fail(t, "%s", (const char *)t->priv);
}

static void surrogate_close(struct table *t)
{
    free(t->priv);
    table_free(t);
}

static const struct table_ops surrogate_ops = {
    .lookup = surrogate_lookup,
    .close = surrogate_close,
};

struct table *table_open_or_surrogate(const char *spec, int flags)
{
    struct str err = STR_INIT;
    struct table *t = table_open(spec, flags, &err);
    if (t == NULL) {
        msg_warn("%s is unavailable. %s", spec, str_cstr(&err));
        const char *colon = strchr(spec, ':');
        t = table_alloc("surrogate", colon ? colon + 1 : spec, flags, TABLE_PROP_FIXED,
                        &surrogate_ops, xstrdup(str_cstr(&err)));
    }
    str_release(&err);
    return t;
}

static const char *folded(struct table *t, const char *key)
{
    if (!(t->flags & TABLE_FLAG_FOLD_KEY))
        return key;
    str_set(&t->fold, key);
    str_lower(&t->fold);
    return str_cstr(&t->fold);
}

int table_lookup(struct table *t, const char *key, struct str *value)
{
    str_clear(value);
    return t->ops->lookup(t, folded(t, key), value);
}

int table_update(struct table *t, const char *key, const char *value)
{
    if (t->ops->update == NULL)
        return table_fail(t, "%s:%s: table does not support updates", t->type, t->name);
    return t->ops->update(t, folded(t, key), value);
}

int table_remove(struct table *t, const char *key)
{
    if (t->ops->remove == NULL)
        return table_fail(t, "%s:%s: table does not support deletion", t->type, t->name);
    return t->ops->remove(t, folded(t, key));
}

int table_iterate(struct table *t, int first, struct str *key, struct str *value)
{
    if (t->ops->iterate == NULL)
        return table_fail(t, "%s:%s: table does not support sequential access", t->type, t->name);
    return t->ops->iterate(t, first, key, value);
}

int table_sync(struct table *t)
{
    return t->ops->sync ? t->ops->sync(t) : 0;
}

int table_changed(struct table *t)
{
    return t->ops->changed ? t->ops->changed(t) : 0;
}

int table_commit(struct table *t, const struct table_owner *owner)
{
    if (t->ops->commit == NULL)
        return table_fail(t, "%s:%s: table cannot be built", t->type, t->name);
    return t->ops->commit(t, owner);
}

void table_stamp_take(const char *path, struct table_stamp *s)
{
    struct stat st;
    memset(s, 0, sizeof(*s));
    if (stat(path, &st) != 0) {
        s->missing = 1;
        return;
    }
    s->dev = (unsigned long long)st.st_dev;
    s->ino = (unsigned long long)st.st_ino;
    s->size = (unsigned long long)st.st_size;
    s->mtime_sec = (long long)st.st_mtim.tv_sec;
    s->mtime_nsec = (long long)st.st_mtim.tv_nsec;
}

int table_stamp_changed(const char *path, const struct table_stamp *s)
{
    struct table_stamp now;
    table_stamp_take(path, &now);
    return memcmp(&now, s, sizeof(now)) != 0;
}

void table_close(struct table *t)
{
    if (t)
        t->ops->close(t);
}

void table_describe(const struct table *t, struct str *out)
{
    str_appendf(out, "%s:%s", t->type, t->name);
}
