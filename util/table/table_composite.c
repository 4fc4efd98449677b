/* table_composite: member-table handling shared by unionmap: and pipemap:. */
#include "table/table_composite.h"

#include "base/argv.h"
#include "base/mem.h"
#include "base/textsplit.h"

#include <stdlib.h>

static int depth; /* nesting of composite opens (unionmap:{unionmap:{...}}) */

static int open_members(const char *type, const struct argv *words, int flags,
                        struct table_list *out, struct str *err)
{
    if (words->n == 0) {
        str_setf(err, "open %s: no member tables", type);
        return -1;
    }
    if (words->n > TABLE_COMPOSITE_MAX_MEMBERS) {
        str_setf(err, "open %s: more than %d member tables", type, TABLE_COMPOSITE_MAX_MEMBERS);
        return -1;
    }
    out->t = xcalloc(words->n, sizeof(*out->t));
    for (size_t i = 0; i < words->n; i++) {
        struct str why = STR_INIT;
        out->t[i] = table_open(words->v[i], flags, &why);
        if (out->t[i] == NULL) {
            str_setf(err, "open %s: %s", type, str_cstr(&why));
            str_release(&why);
            return -1;
        }
        out->n = i + 1;
        str_release(&why);
    }
    return 0;
}

int table_list_open(const char *type, const char *name, int flags, struct table_list *out,
                    struct str *err)
{
    out->t = NULL;
    out->n = 0;
    if (depth >= TABLE_COMPOSITE_MAX_DEPTH) {
        str_setf(err, "open %s: tables nested deeper than %d", type, TABLE_COMPOSITE_MAX_DEPTH);
        return -1;
    }
    struct str inner = STR_INIT, why = STR_INIT;
    struct argv *words = argv_new();
    int rc = strip_braces(name, &inner, &why);
    if (rc == 0)
        str_setf(err, "open %s:%s: the member list must be enclosed in { }", type, name);
    else if (rc < 0)
        str_setf(err, "open %s:%s: %s", type, name, str_cstr(&why));
    else if (split_words(str_cstr(&inner), ", \t\r\n", SPLIT_STRIP_BRACES, words, &why) != 0) {
        str_setf(err, "open %s:%s: %s", type, name, str_cstr(&why));
        rc = -1;
    } else {
        depth++;
        rc = open_members(type, words, flags, out, err) == 0 ? 1 : -1;
        depth--;
    }
    argv_free(words);
    str_release(&inner);
    str_release(&why);
    if (rc <= 0) {
        table_list_close(out);
        return -1;
    }
    return 0;
}

void table_list_close(struct table_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        table_close(l->t[i]);
    free(l->t);
    l->t = NULL;
    l->n = 0;
}

int table_list_changed(struct table_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (table_changed(l->t[i]))
            return 1;
    return 0;
}

int table_list_fail(struct table *t, struct table *member)
{
    return table_fail(t, "%s", str_cstr(&member->error));
}
