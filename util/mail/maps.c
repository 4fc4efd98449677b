/* maps: lists of lookup tables and the Postfix search orders over them (access(5),
 * virtual(5)/canonical(5) address keys, parent domains, client names and network prefixes). */
#include "mail/maps.h"

#include "base/argv.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/textsplit.h"
#include "table/table.h"

#include <stdlib.h>
#include <string.h>

/* A table standing in for a broken maps value: every lookup fails with the reason. */
static int broken_lookup(struct table *t, const char *key, struct str *value)
{
    (void)key;
    (void)value;
    return table_fail(t, "%s", (const char *)t->priv);
}

static void broken_close(struct table *t)
{
    free(t->priv);
    table_free(t);
}

static const struct table_ops broken_ops = {.lookup = broken_lookup, .close = broken_close};

static struct table *broken_table(const char *param, const char *why)
{
    struct str text = STR_INIT;
    str_setf(&text, "%s: %s", param, why);
    msg_warn("%s", str_cstr(&text));
    return table_alloc("surrogate", param, 0, TABLE_PROP_FIXED, &broken_ops, str_steal(&text));
}

struct maps *maps_open(const char *param_name, const char *value, int flags)
{
    struct maps *m = xcalloc(1, sizeof(*m));
    struct argv *words = argv_new();
    struct str err = STR_INIT;
    m->title = xstrdup(param_name);
    if (split_words(value ? value : "", ", \t\r\n", SPLIT_KEEP_BRACES, words, &err) != 0) {
        maps_append(m, broken_table(param_name, str_cstr(&err)));
    } else {
        for (size_t i = 0; i < words->n; i++) {
            if (m->n >= MAPS_MAX_TABLES) {
                maps_append(m, broken_table(param_name, "too many tables"));
                break;
            }
            maps_append(m, table_open_or_surrogate(words->v[i], flags));
        }
    }
    argv_free(words);
    str_release(&err);
    return m;
}

void maps_append(struct maps *m, struct table *t)
{
    m->tables = xgrow(m->tables, &m->cap, m->n + 1, sizeof(*m->tables));
    m->tables[m->n++] = t;
}

void maps_free(struct maps *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++)
        table_close(m->tables[i]);
    free(m->tables);
    free(m->title);
    str_release(&m->error);
    free(m);
}

const char *maps_error(const struct maps *m)
{
    return str_cstr(&m->error);
}

/* One key over all tables; partial keys skip pattern tables. */
static int find(struct maps *m, const char *key, int partial, struct str *value,
                struct str *matched_key)
{
    for (size_t i = 0; i < m->n; i++) {
        struct table *t = m->tables[i];
        if (partial && (t->properties & TABLE_PROP_PATTERN))
            continue;
        int rc = table_lookup(t, key, value);
        if (rc == TABLE_FOUND && matched_key != NULL) {
            str_set(matched_key, key);
            if (t->flags & TABLE_FLAG_FOLD_KEY)
                str_lower(matched_key); /* the key as the table saw it */
        }
        if (rc == TABLE_ERROR) {
            str_setf(&m->error, "%s: ", m->title);
            table_describe(t, &m->error);
            str_appendf(&m->error, ": %s", str_cstr(&t->error));
        }
        if (rc != TABLE_NOTFOUND)
            return rc;
    }
    return TABLE_NOTFOUND;
}

int maps_find(struct maps *m, const char *key, struct str *value)
{
    str_clear(&m->error);
    return find(m, key, 0, value, NULL);
}

/* ---- search orders ------------------------------------------------------------------------ */

static int domain_search(struct maps *m, const char *domain, int partial, int parent_style,
                         struct str *value, struct str *matched_key)
{
    int rc = find(m, domain, partial, value, matched_key);
    if (rc != TABLE_NOTFOUND || *domain == 0 || *domain == '[')
        return rc; /* an address literal has no parents */
    for (const char *dot = strchr(domain + 1, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
        if (dot[1] == 0)
            break;
        rc = find(m, parent_style ? dot + 1 : dot, 1, value, matched_key);
        if (rc != TABLE_NOTFOUND)
            return rc;
    }
    return TABLE_NOTFOUND;
}

int maps_find_domain(struct maps *m, const char *domain, int parent_style, struct str *value,
                     struct str *matched_key)
{
    str_clear(&m->error);
    return domain_search(m, domain, 0, parent_style, value, matched_key);
}

/* The keys of an address search, in order; partial[i] says whether key i is partial. */
struct keys {
    struct argv *v;
    int partial[8];
};

static void key(struct keys *k, int partial, const char *fmt, const char *a, const char *b)
{
    struct str s = STR_INIT;
    str_append(&s, a);
    if (fmt[0])
        str_append(&s, fmt);
    if (b)
        str_append(&s, b);
    k->partial[k->v->n] = partial;
    argv_add(k->v, str_cstr(&s));
    str_release(&s);
}

static int run_keys(struct maps *m, struct keys *k, size_t from, size_t to, struct str *value,
                    struct str *matched_key)
{
    for (size_t i = from; i < to && i < k->v->n; i++) {
        int rc = find(m, k->v->v[i], k->partial[i], value, matched_key);
        if (rc != TABLE_NOTFOUND)
            return rc;
    }
    return TABLE_NOTFOUND;
}

int maps_find_address(struct maps *m, const char *addr, const struct maps_addr_opts *opts,
                      struct str *value, struct str *matched_key)
{
    struct str local = STR_INIT, domain = STR_INIT, user = STR_INIT;
    struct keys k = {argv_new(), {0}};
    int rc = TABLE_NOTFOUND;
    str_clear(&m->error);
    if (*addr == 0) {
        if (opts->style == MAPS_STYLE_ACCESS && opts->null_key != NULL)
            rc = find(m, opts->null_key, 0, value, matched_key);
        argv_free(k.v);
        return rc;
    }
    int has_domain = address_split(addr, &local, &domain);
    int split = address_split_ext(str_cstr(&local), &opts->ext, &user, NULL, NULL);
    const char *l = str_cstr(&local), *u = str_cstr(&user), *d = str_cstr(&domain);
    const char *at = has_domain ? "@" : "";
    key(&k, 0, at, l, has_domain ? d : NULL); /* user+ext@domain */
    if (split)
        key(&k, 1, at, u, has_domain ? d : NULL); /* user@domain */
    size_t before_domain = k.v->n;
    if (opts->style == MAPS_STYLE_ACCESS) {
        key(&k, 1, "@", l, NULL); /* user+ext@ */
        if (split)
            key(&k, 1, "@", u, NULL); /* user@ */
    } else if (has_domain) {
        if (opts->domain_is_local) {
            key(&k, 1, "", l, NULL); /* user+ext */
            if (split)
                key(&k, 1, "", u, NULL); /* user */
        }
        key(&k, 1, "@", "", d); /* @domain */
    }
    rc = run_keys(m, &k, 0, before_domain, value, matched_key);
    if (rc == TABLE_NOTFOUND && opts->style == MAPS_STYLE_ACCESS && has_domain && *d)
        rc = domain_search(m, d, 1, opts->parent_style, value, matched_key);
    if (rc == TABLE_NOTFOUND)
        rc = run_keys(m, &k, before_domain, k.v->n, value, matched_key);
    argv_free(k.v);
    str_release(&local);
    str_release(&domain);
    str_release(&user);
    return rc;
}

int maps_find_client(struct maps *m, const char *name, const char *addr, int parent_style,
                     struct str *value, struct str *matched_key)
{
    int rc = TABLE_NOTFOUND;
    str_clear(&m->error);
    if (name != NULL && *name)
        rc = domain_search(m, name, 0, parent_style, value, matched_key);
    if (rc != TABLE_NOTFOUND || addr == NULL || *addr == 0)
        return rc;
    struct str a = STR_INIT;
    int delim = strchr(addr, ':') ? ':' : '.';
    str_set(&a, addr);
    for (int partial = 0; a.len > 0; partial = 1) {
        rc = find(m, str_cstr(&a), partial, value, matched_key);
        char *cut = strrchr(a.data, delim);
        if (rc != TABLE_NOTFOUND || cut == NULL)
            break;
        str_truncate(&a, (size_t)(cut - a.data));
    }
    str_release(&a);
    return rc;
}
