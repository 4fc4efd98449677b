/* table_cidr: "cidr:/etc/postfix/client.cidr" — lines "network/prefix result" (IPv4 or IPv6;
 * a bare address is a host), matched in file order against an IP address key; first match wins.
 * As in Postfix 3.2: "!network result" (negation) and "if [!]network" ... "endif" blocks. */
#include "table/table.h"
#include "table/table_source.h"
#include "table/table_types.h"

#include "base/cidr.h"
#include "base/log.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CIDR_MAX_ENTRIES 1000000
#define CIDR_MAX_DEPTH 1000

enum cidr_kind { CIDR_MATCH, CIDR_IF, CIDR_ENDIF };

struct cidr_entry {
    enum cidr_kind kind;
    int negate;
    struct cidr net;
    char *result;
    size_t skip; /* CIDR_IF: index of the matching endif */
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
    for (size_t i = 0; i < ct->n; i++) {
        struct cidr_entry *e = &ct->e[i];
        if (e->kind == CIDR_ENDIF)
            continue;
        int hit = (cidr_contains(&e->net, &a) != 0) != e->negate;
        if (e->kind == CIDR_IF && !hit)
            i = e->skip;
        if (e->kind == CIDR_MATCH && hit) {
            str_set(value, e->result);
            return TABLE_FOUND;
        }
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

static struct cidr_entry *new_entry(struct cidr_table *ct, enum cidr_kind kind)
{
    ct->e = xgrow(ct->e, &ct->cap, ct->n + 1, sizeof(*ct->e));
    struct cidr_entry *e = &ct->e[ct->n++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    return e;
}

struct cidr_nesting {
    size_t *stack;
    size_t depth, cap;
};

/* "if [!]network" (result must be empty) or "[!]network result". 0 or -1 with why set. */
static int cidr_parse_rule(struct cidr_table *ct, const char *line, int is_if,
                           struct cidr_nesting *nest, struct str *why)
{
    struct str net = STR_INIT, result = STR_INIT;
    struct cidr c;
    int rc = -1, negate = 0;
    while (*line == '!' || *line == ' ' || *line == '\t')
        negate ^= *line++ == '!';
    int split = table_source_split(line, &net, &result);
    if (is_if && split == 0)
        str_setf(why, "text after IF network: \"%s\"", str_cstr(&result));
    else if (!is_if && (split != 0 || result.len == 0))
        str_set(why, "expected format: network/prefix result");
    else if (is_if && nest->depth >= CIDR_MAX_DEPTH)
        str_setf(why, "IF nesting deeper than %d", CIDR_MAX_DEPTH);
    else if (cidr_parse(str_cstr(&net), &c, why) == 0)
        rc = 0;
    if (rc == 0) {
        if (is_if) {
            nest->stack = xgrow(nest->stack, &nest->cap, nest->depth + 1, sizeof(size_t));
            nest->stack[nest->depth++] = ct->n;
        }
        struct cidr_entry *e = new_entry(ct, is_if ? CIDR_IF : CIDR_MATCH);
        e->negate = negate;
        e->net = c;
        e->result = is_if ? NULL : str_steal(&result);
    }
    str_release(&net);
    str_release(&result);
    return rc;
}

static int word_is(const char *line, const char *word, const char **rest)
{
    size_t n = strlen(word);
    if (strncasecmp(line, word, n) != 0 || (line[n] && line[n] != ' ' && line[n] != '\t'))
        return 0;
    *rest = line + n;
    return 1;
}

/* One logical line. 0 or -1 with why set. */
static int cidr_parse_line(struct cidr_table *ct, const char *line, int lineno,
                           struct cidr_nesting *nest, struct str *why)
{
    const char *rest;
    if (word_is(line, "endif", &rest)) {
        if (nest->depth == 0) {
            msg_warn("%s, line %d: ignoring ENDIF without matching IF", ct->path, lineno);
            return 0;
        }
        ct->e[nest->stack[--nest->depth]].skip = ct->n;
        new_entry(ct, CIDR_ENDIF);
        return 0;
    }
    if (word_is(line, "if", &rest))
        return cidr_parse_rule(ct, rest, 1, nest, why);
    return cidr_parse_rule(ct, line, 0, nest, why);
}

static int cidr_load(struct cidr_table *ct, struct str *err)
{
    struct table_source src;
    if (table_source_open(&src, ct->path, err) != 0)
        return -1;
    struct str line = STR_INIT, why = STR_INIT;
    struct cidr_nesting nest = {NULL, 0, 0};
    int rc;
    while ((rc = table_source_next(&src, &line, err)) == 1) {
        if (ct->n >= CIDR_MAX_ENTRIES) {
            str_setf(err, "%s, line %d: more than %d entries", ct->path, src.start,
                     CIDR_MAX_ENTRIES);
            rc = -1;
            break;
        }
        if (cidr_parse_line(ct, str_cstr(&line), src.start, &nest, &why) != 0) {
            str_setf(err, "%s, line %d: %s", ct->path, src.start, str_cstr(&why));
            rc = -1;
            break;
        }
    }
    if (rc == 0 && nest.depth > 0)
        msg_warn("%s: IF has no matching ENDIF", ct->path);
    while (nest.depth > 0)
        ct->e[nest.stack[--nest.depth]].skip = ct->n;
    free(nest.stack);
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
