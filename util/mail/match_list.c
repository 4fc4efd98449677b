/* match_list: compiling a Postfix matching list (patterns, /file/name, type:table, !negation)
 * and matching names and addresses against it, first match wins. */
#include "mail/match_list.h"

#include "base/argv.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/textsplit.h"
#include "table/table.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum entry_type { E_STRING, E_NET, E_TABLE };

struct entry {
    int negate;
    int type;
    char *text; /* lowercased pattern, or the table spec */
    struct cidr net;
    struct table *table;
};

struct match_list {
    char *param;
    int kind, flags;
    struct entry *v;
    size_t n, cap;
    struct str error;
    struct str value; /* lookup results (ignored) */
    struct str key;   /* lookup keys */
};

static const char delims[] = ", \t\r\n";

static int add_word(struct match_list *l, const char *word, int depth, int negate, struct str *err);

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static struct entry *new_entry(struct match_list *l, int type, int negate, const char *text)
{
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    struct entry *e = &l->v[l->n++];
    memset(e, 0, sizeof(*e));
    e->type = type;
    e->negate = negate;
    e->text = xstrdup(text);
    return e;
}

/* Splices in the words of a /file/name. */
static int add_file(struct match_list *l, const char *path, int depth, int negate, struct str *err)
{
    char buf[4096];
    struct str line = STR_INIT;
    int rc = 0;
    if (depth >= MATCH_MAX_FILE_DEPTH) {
        str_setf(err, "%s: %s: files nested too deeply", l->param, path);
        return -1;
    }
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        str_setf(err, "%s: open %s: %s", l->param, path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(buf, sizeof(buf), fp) != NULL) {
        str_append(&line, buf);
        if (line.len && line.data[line.len - 1] != '\n' && !feof(fp))
            continue; /* a long line: keep reading */
        const char *p = str_cstr(&line);
        p += strspn(p, " \t");
        if (*p != '#') {
            struct argv *words = argv_new();
            struct str e = STR_INIT;
            if (split_words(p, delims, SPLIT_KEEP_BRACES, words, &e) != 0) {
                str_setf(err, "%s: %s: %s", l->param, path, str_cstr(&e));
                rc = -1;
            }
            for (size_t i = 0; rc == 0 && i < words->n; i++)
                rc = add_word(l, words->v[i], depth + 1, negate, err);
            argv_free(words);
            str_release(&e);
        }
        str_clear(&line);
    }
    fclose(fp);
    str_release(&line);
    return rc;
}

static int is_table_spec(const char *w)
{
    const char *colon = strchr(w, ':');
    if (colon == NULL || colon == w || !isalpha((unsigned char)w[0]))
        return 0;
    for (const char *p = w; p < colon; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return 0;
    return 1;
}

static int looks_like_address(const char *w)
{
    struct ip_addr a;
    return w[0] == '[' || strchr(w, '/') != NULL || ip_addr_parse(w, &a) == 0;
}

static int add_pattern(struct match_list *l, const char *w, int negate, struct str *err)
{
    int addr_kind = l->kind == MATCH_KIND_HOSTADDR || l->kind == MATCH_KIND_ADDR;
    int table = is_table_spec(w), addr_like = looks_like_address(w);
    if (addr_kind && (addr_like || !table)) {
        struct cidr net;
        struct str e = STR_INIT;
        int rc = cidr_parse(w, &net, &e);
        if (rc == 0)
            new_entry(l, E_NET, negate, w)->net = net;
        else if (addr_like && !table)
            str_setf(err, "%s: bad address pattern: \"%s\": %s", l->param, w, str_cstr(&e));
        str_release(&e);
        if (rc == 0)
            return 0;
        if (addr_like && !table)
            return -1;
        /* otherwise a table, or a host name */
    }
    if (table) {
        struct entry *e = new_entry(l, E_TABLE, negate, w);
        e->table = table_open_or_surrogate(w, TABLE_FLAG_FOLD_KEY);
        return 0;
    }
    if (l->kind == MATCH_KIND_ADDR) {
        str_setf(err, "%s: non-address pattern: \"%s\"", l->param, w);
        return -1;
    }
    lower(new_entry(l, E_STRING, negate, w)->text);
    return 0;
}

static int add_word(struct match_list *l, const char *word, int depth, int negate, struct str *err)
{
    int bangs = 0;
    while (*word == '!') {
        if (++bangs > MATCH_MAX_NEGATIONS) {
            str_setf(err, "%s: too many '!' in \"%s\"", l->param, word);
            return -1;
        }
        negate = !negate;
        word++;
    }
    if (*word == 0) {
        str_setf(err, "%s: '!' without a pattern", l->param);
        return -1;
    }
    if (l->n >= MATCH_MAX_ENTRIES) {
        str_setf(err, "%s: more than %d patterns", l->param, MATCH_MAX_ENTRIES);
        return -1;
    }
    if (*word == '/')
        return add_file(l, word, depth, negate, err);
    return add_pattern(l, word, negate, err);
}

struct match_list *match_list_create(const char *param_name, const char *value,
                                     enum match_kind kind, int flags, struct str *err)
{
    struct match_list *l = xcalloc(1, sizeof(*l));
    struct argv *words = argv_new();
    struct str e = STR_INIT;
    int rc = 0;
    l->param = xstrdup(param_name);
    l->kind = kind;
    l->flags = flags;
    if (split_words(value, delims, SPLIT_KEEP_BRACES, words, &e) != 0) {
        str_setf(err, "%s: %s", param_name, str_cstr(&e));
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < words->n; i++)
        rc = add_word(l, words->v[i], 0, 0, err);
    argv_free(words);
    str_release(&e);
    if (rc != 0) {
        match_list_free(l);
        return NULL;
    }
    return l;
}

void match_list_free(struct match_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].text);
        table_close(l->v[i].table);
    }
    free(l->v);
    free(l->param);
    str_release(&l->error);
    str_release(&l->value);
    str_release(&l->key);
    free(l);
}

void match_list_append_table(struct match_list *l, struct table *t, int negate)
{
    struct str spec = STR_INIT;
    table_describe(t, &spec);
    new_entry(l, E_TABLE, negate, str_cstr(&spec))->table = t;
    str_release(&spec);
}

const char *match_list_error(const struct match_list *l)
{
    return str_cstr(&l->error);
}

/* ---- matching ----------------------------------------------------------------------------- */

/* A table lookup: 1 found, 0 not found, -1 error (l->error set). */
static int lookup(struct match_list *l, struct entry *e, const char *key)
{
    int rc = table_lookup(e->table, key, &l->value);
    if (rc == TABLE_FOUND)
        return 1;
    if (rc == TABLE_NOTFOUND)
        return 0;
    str_setf(&l->error, "%s: %s: %s", l->param, e->text, str_cstr(&e->table->error));
    return -1;
}

static int string_domain_match(const struct match_list *l, const char *pattern, const char *name)
{
    size_t nl = strlen(name), pl = strlen(pattern);
    if (strcmp(name, pattern) == 0)
        return 1;
    if (pl >= nl)
        return 0;
    if (pattern[0] == '.')
        return strcmp(name + nl - pl, pattern) == 0;
    return (l->flags & MATCH_FLAG_PARENT) && name[nl - pl - 1] == '.' &&
           strcmp(name + nl - pl, pattern) == 0;
}

static int table_domain_match(struct match_list *l, struct entry *e, const char *name)
{
    int rc = lookup(l, e, name);
    if (rc != 0 || (e->table->properties & TABLE_PROP_PATTERN))
        return rc;
    for (const char *dot = strchr(name + 1, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
        if (dot[1] == 0)
            break;
        if ((rc = lookup(l, e, (l->flags & MATCH_FLAG_PARENT) ? dot + 1 : dot)) != 0)
            return rc;
    }
    return 0;
}

static int match_name(struct match_list *l, struct entry *e, const char *name)
{
    if (name == NULL || *name == 0)
        return 0;
    switch (e->type) {
    case E_STRING:
        return l->kind == MATCH_KIND_STRING ? strcmp(e->text, name) == 0
                                            : string_domain_match(l, e->text, name);
    case E_TABLE:
        return l->kind == MATCH_KIND_STRING ? lookup(l, e, name) : table_domain_match(l, e, name);
    default:
        return 0;
    }
}

static int match_addr(struct match_list *l, struct entry *e, const char *addr,
                      const struct ip_addr *ip, int ip_ok)
{
    if (addr == NULL || *addr == 0)
        return 0;
    if (e->type == E_NET)
        return ip_ok && cidr_contains(&e->net, ip);
    if (e->type == E_TABLE)
        return lookup(l, e, addr);
    return 0;
}

int match_list_match(struct match_list *l, const char *name, const char *addr)
{
    struct ip_addr ip;
    int ip_ok = 0, use_name = l->kind != MATCH_KIND_ADDR, use_addr = l->kind >= MATCH_KIND_HOSTADDR;
    const char *lname = NULL;
    str_clear(&l->error);
    if (use_name && name != NULL) {
        str_set(&l->key, name);
        str_lower(&l->key);
        lname = str_cstr(&l->key);
    }
    if (use_addr && addr != NULL)
        ip_ok = ip_addr_parse(addr, &ip) == 0;
    for (size_t i = 0; i < l->n; i++) {
        struct entry *e = &l->v[i];
        int rc = use_name ? match_name(l, e, lname) : 0;
        if (rc == 0 && use_addr)
            rc = match_addr(l, e, addr, &ip, ip_ok);
        if (rc < 0)
            return MATCH_ERROR;
        if (rc > 0)
            return e->negate ? MATCH_NO : MATCH_YES;
    }
    return MATCH_NO;
}

int match_parent_style(const char *pdms_value, const char *param_name)
{
    struct argv *words = argv_split(pdms_value ? pdms_value : "", delims);
    int found = 0;
    for (size_t i = 0; i < words->n && !found; i++)
        found = strcasecmp(words->v[i], param_name) == 0;
    argv_free(words);
    return found;
}
