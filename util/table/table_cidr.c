/* table_cidr: "cidr:/etc/postfix/client.cidr" — lines "network/prefix result" (IPv4 or IPv6;
 * a bare address is a host), matched in file order against an IP address key; first match wins. */
#include "table/table.h"
#include "table/table_source.h"
#include "table/table_types.h"

#include "base/cidr.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

#define CIDR_MAX_ENTRIES 1000000

struct cidr_entry {
    struct cidr net;
    char *result;
};

struct cidr_table {
    struct cidr_entry *e;
    size_t n, cap;
    char *path;
    struct table_stamp stamp;
};

static int cidr_lookup(struct table *t, const char *key, struct str *value)
{
    struct cidr_table *ct = t->priv;
    struct ip_addr a;
    if (ip_addr_parse(key, &a) != 0)
        return TABLE_NOTFOUND;
    for (size_t i = 0; i < ct->n; i++)
        if (cidr_contains(&ct->e[i].net, &a)) {
            str_set(value, ct->e[i].result);
            return TABLE_FOUND;
        }
    return TABLE_NOTFOUND;
}

static int cidr_changed(struct table *t)
{
    struct cidr_table *ct = t->priv;
    return table_stamp_changed(ct->path, &ct->stamp);
}

static void cidr_close(struct table *t)
{
    struct cidr_table *ct = t->priv;
    for (size_t i = 0; i < ct->n; i++)
        free(ct->e[i].result);
    free(ct->e);
    free(ct->path);
    free(ct);
    table_free(t);
}

static const struct table_ops cidr_ops = {
    .lookup = cidr_lookup,
    .close = cidr_close,
    .changed = cidr_changed,
};

/* Parses one "network result" line into a new entry; 0 or -1 with why set. */
static int cidr_parse_line(struct cidr_table *ct, const char *line, struct str *why)
{
    struct str net = STR_INIT, result = STR_INIT;
    int rc = -1;
    struct cidr c;
    if (table_source_split(line, &net, &result) != 0 || result.len == 0)
        str_set(why, "expected format: network/prefix result");
    else if (cidr_parse(str_cstr(&net), &c, why) == 0)
        rc = 0;
    if (rc == 0) {
        ct->e = xgrow(ct->e, &ct->cap, ct->n + 1, sizeof(*ct->e));
        ct->e[ct->n].net = c;
        ct->e[ct->n].result = str_steal(&result);
        ct->n++;
    }
    str_release(&net);
    str_release(&result);
    return rc;
}

static int cidr_load(struct cidr_table *ct, struct str *err)
{
    struct table_source src;
    if (table_source_open(&src, ct->path, err) != 0)
        return -1;
    struct str line = STR_INIT, why = STR_INIT;
    int rc;
    while ((rc = table_source_next(&src, &line, err)) == 1) {
        if (ct->n >= CIDR_MAX_ENTRIES) {
            str_setf(err, "%s, line %d: more than %d entries", ct->path, src.start,
                     CIDR_MAX_ENTRIES);
            rc = -1;
            break;
        }
        if (cidr_parse_line(ct, str_cstr(&line), &why) != 0) {
            str_setf(err, "%s, line %d: %s", ct->path, src.start, str_cstr(&why));
            rc = -1;
            break;
        }
    }
    table_source_close(&src);
    str_release(&line);
    str_release(&why);
    return rc < 0 ? -1 : 0;
}

struct table *table_cidr_open(const char *name, int flags, struct str *err)
{
    struct cidr_table *ct = xcalloc(1, sizeof(*ct));
    ct->path = xstrdup(name);
    table_stamp_take(name, &ct->stamp);
    struct table *t =
        table_alloc("cidr", name, flags & ~TABLE_FLAG_FOLD_KEY, TABLE_PROP_PATTERN, &cidr_ops, ct);
    if (cidr_load(ct, err) != 0) {
        cidr_close(t);
        return NULL;
    }
    return t;
}
