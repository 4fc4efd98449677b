/* table_pattern: parser and evaluator for regexp:/pcre: table files (rules, if/endif blocks,
 * negation, result substitution); the regular-expression engine is a plug-in. */
#include "table/table_pattern.h"
#include "table/table_source.h"

#include "base/log.h"
#include "base/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PATTERN_MAX_RULES 1000000
#define PATTERN_MAX_DEPTH 1000

enum rule_kind { RULE_MATCH, RULE_IF, RULE_ENDIF };

struct rule {
    enum rule_kind kind;
    int negate;
    int lineno;
    int has_subst; /* the result has $n */
    void *re;
    char *result;
    size_t skip; /* RULE_IF: index of the matching endif */
};

struct pattern_table {
    const struct pattern_engine *eng;
    struct rule *r;
    size_t n, cap;
    char *path;
    struct table_stamp stamp;
};

/* Parsing ------------------------------------------------------------------------------- */

/* Checks the $ references of a result against ngroups; sets *subst. 0 or -1 (err set). */
static int check_result(const char *res, int ngroups, int negate, int *subst, struct str *err)
{
    *subst = 0;
    for (const char *p = res; (p = strchr(p, '$')) != NULL;) {
        p++;
        if (*p == '$') {
            p++;
            continue;
        }
        int braced = *p == '{' || *p == '(';
        const char *d = p + braced;
        if (!isdigit((unsigned char)*d))
            continue;
        int n = *d - '0';
        if (isdigit((unsigned char)d[1]) || (braced && d[1] != (*p == '{' ? '}' : ')'))) {
            str_setf(err, "bad $ reference in \"%s\"", res);
            return -1;
        }
        if (negate) {
            str_setf(err, "$%d substitution in the result of a negated pattern", n);
            return -1;
        }
        if (n > ngroups) {
            str_setf(err, "$%d is out of range (the pattern has %d groups)", n, ngroups);
            return -1;
        }
        *subst = 1;
        p = d + 1 + braced;
    }
    return 0;
}

/* Splits "[!]/pattern/flags rest": pattern (delimiter unescaped), flags, rest. 0 or -1. */
static int split_pattern(const char *p, int *negate, struct str *pat, struct str *flags,
                         const char **rest, struct str *err)
{
    *negate = 0;
    while (*p == '!') {
        *negate = !*negate;
        p++;
        while (isspace((unsigned char)*p))
            p++;
    }
    char delim = *p;
    if (delim == 0 || isalnum((unsigned char)delim) || isspace((unsigned char)delim) ||
        delim == '\\') {
        str_set(err, "pattern must start with a delimiter such as '/'");
        return -1;
    }
    str_clear(pat);
    for (p++; *p && *p != delim; p++) {
        if (*p == '\\' && p[1] == delim)
            p++;
        else if (*p == '\\' && p[1])
            str_appendc(pat, *p++);
        str_appendc(pat, *p);
    }
    if (*p != delim) {
        str_setf(err, "missing closing '%c' after the pattern", delim);
        return -1;
    }
    p++;
    size_t flen = strcspn(p, " \t\r\n\f\v");
    str_clear(flags);
    str_appendn(flags, p, flen);
    p += flen;
    while (isspace((unsigned char)*p))
        p++;
    *rest = p;
    return 0;
}

static int keyword(const char *line, const char *word, const char **after)
{
    size_t n = strlen(word);
    if (strncasecmp(line, word, n) != 0 || (line[n] && !isspace((unsigned char)line[n])))
        return 0;
    for (line += n; isspace((unsigned char)*line);)
        line++;
    *after = line;
    return 1;
}

static struct rule *new_rule(struct pattern_table *pt, enum rule_kind kind, int lineno)
{
    pt->r = xgrow(pt->r, &pt->cap, pt->n + 1, sizeof(*pt->r));
    struct rule *r = &pt->r[pt->n++];
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->lineno = lineno;
    return r;
}

/* Parses one logical line. Returns 0, 1 (skip with warning already given) or -1 (err set). */
static int parse_rule(struct pattern_table *pt, const char *line, int lineno, size_t **stack,
                      size_t *depth, size_t *stack_cap, struct str *err)
{
    const char *rest;
    if (keyword(line, "endif", &rest)) {
        if (*depth == 0) {
            msg_warn("%s, line %d: ignoring ENDIF without matching IF", pt->path, lineno);
            return 1;
        }
        pt->r[(*stack)[--*depth]].skip = pt->n;
        new_rule(pt, RULE_ENDIF, lineno);
        return 0;
    }
    int is_if = keyword(line, "if", &rest);
    if (!is_if)
        rest = line;
    struct str pat = STR_INIT, flags = STR_INIT;
    int negate, ngroups = 0, rc = -1, subst = 0;
    void *re = NULL;
    if (split_pattern(rest, &negate, &pat, &flags, &rest, err) != 0)
        goto out;
    if (is_if && *rest) {
        str_setf(err, "text after IF pattern: \"%s\"", rest);
        goto out;
    }
    if (!is_if && *rest == 0) {
        str_set(err, "missing result after the pattern");
        goto out;
    }
    re = pt->eng->compile(str_cstr(&pat), str_cstr(&flags), &ngroups, err);
    if (re == NULL)
        goto out;
    if (!is_if && check_result(rest, ngroups, negate, &subst, err) != 0) {
        pt->eng->free(re);
        goto out;
    }
    if (is_if) {
        if (*depth >= PATTERN_MAX_DEPTH) {
            pt->eng->free(re);
            str_setf(err, "IF nesting deeper than %d", PATTERN_MAX_DEPTH);
            goto out;
        }
        *stack = xgrow(*stack, stack_cap, *depth + 1, sizeof(**stack));
        (*stack)[(*depth)++] = pt->n;
    }
    struct rule *r = new_rule(pt, is_if ? RULE_IF : RULE_MATCH, lineno);
    r->negate = negate;
    r->re = re;
    r->has_subst = subst;
    r->result = is_if ? NULL : xstrdup(rest);
    rc = 0;
out:
    str_release(&pat);
    str_release(&flags);
    return rc;
}

static int load_rules(struct pattern_table *pt, struct str *err)
{
    struct table_source src;
    if (table_source_open(&src, pt->path, err) != 0)
        return -1;
    struct str line = STR_INIT, why = STR_INIT;
    size_t *stack = NULL, depth = 0, stack_cap = 0;
    int rc;
    while ((rc = table_source_next(&src, &line, err)) == 1) {
        if (pt->n >= PATTERN_MAX_RULES) {
            str_setf(err, "%s, line %d: more than %d rules", pt->path, src.start,
                     PATTERN_MAX_RULES);
            rc = -1;
            break;
        }
        if (parse_rule(pt, str_cstr(&line), src.start, &stack, &depth, &stack_cap, &why) < 0) {
            str_setf(err, "%s, line %d: %s", pt->path, src.start, str_cstr(&why));
            rc = -1;
            break;
        }
    }
    if (rc == 0 && depth > 0) {
        msg_warn("%s, line %d: IF has no matching ENDIF", pt->path, pt->r[stack[depth - 1]].lineno);
        while (depth > 0)
            pt->r[stack[--depth]].skip = pt->n;
    }
    free(stack);
    str_release(&line);
    str_release(&why);
    table_source_close(&src);
    return rc < 0 ? -1 : 0;
}

/* Lookup -------------------------------------------------------------------------------- */

static void substitute(const char *res, const char *subject, const size_t *ov, struct str *out)
{
    for (const char *p = res; *p; p++) {
        if (*p != '$') {
            str_appendc(out, *p);
            continue;
        }
        if (p[1] == '$') {
            str_appendc(out, '$');
            p++;
            continue;
        }
        int braced = p[1] == '{' || p[1] == '(';
        const char *d = p + 1 + braced;
        if (!isdigit((unsigned char)*d)) {
            str_appendc(out, '$');
            continue;
        }
        int n = *d - '0';
        if (ov[2 * n] != PATTERN_UNSET)
            str_appendn(out, subject + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
        p = d + braced;
    }
}

static int pattern_lookup(struct table *t, const char *key, struct str *value)
{
    struct pattern_table *pt = t->priv;
    size_t ov[2 * PATTERN_GROUPS];
    struct str why = STR_INIT;
    for (size_t i = 0; i < pt->n;) {
        struct rule *r = &pt->r[i];
        if (r->kind == RULE_ENDIF) {
            i++;
            continue;
        }
        int m = pt->eng->match(r->re, key, ov, &why);
        if (m < 0) {
            table_fail(t, "%s:%s, line %d: %s", t->type, t->name, r->lineno, str_cstr(&why));
            str_release(&why);
            return TABLE_ERROR;
        }
        int hit = m != r->negate;
        if (r->kind == RULE_IF) {
            i = hit ? i + 1 : r->skip + 1;
            continue;
        }
        if (!hit) {
            i++;
            continue;
        }
        str_release(&why);
        if (r->has_subst && (t->flags & TABLE_FLAG_NO_SUBST))
            return table_fail(t, "%s:%s, line %d: regular expression substitution is not allowed",
                              t->type, t->name, r->lineno);
        if (r->has_subst || strchr(r->result, '$'))
            substitute(r->result, key, ov, value);
        else
            str_set(value, r->result);
        return TABLE_FOUND;
    }
    str_release(&why);
    return TABLE_NOTFOUND;
}

static int pattern_changed(struct table *t)
{
    struct pattern_table *pt = t->priv;
    return table_stamp_changed(pt->path, &pt->stamp);
}

static void pattern_close(struct table *t)
{
    struct pattern_table *pt = t->priv;
    for (size_t i = 0; i < pt->n; i++) {
        if (pt->r[i].re)
            pt->eng->free(pt->r[i].re);
        free(pt->r[i].result);
    }
    free(pt->r);
    free(pt->path);
    free(pt);
    table_free(t);
}

static const struct table_ops pattern_ops = {
    .lookup = pattern_lookup,
    .close = pattern_close,
    .changed = pattern_changed,
};

struct table *table_pattern_open(const struct pattern_engine *eng, const char *name, int flags,
                                 struct str *err)
{
    struct pattern_table *pt = xcalloc(1, sizeof(*pt));
    pt->eng = eng;
    pt->path = xstrdup(name);
    table_stamp_take(name, &pt->stamp);
    struct table *t = table_alloc(eng->type, name, flags & ~TABLE_FLAG_FOLD_KEY, TABLE_PROP_PATTERN,
                                  &pattern_ops, pt);
    if (load_rules(pt, err) != 0) {
        pattern_close(t);
        return NULL;
    }
    return t;
}
