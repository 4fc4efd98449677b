/* config_expand: the $name macro language of main.cf values: $name, ${name}, $(name),
 * ${name?value}, ${name:value}, ${name?{value}}, ${name:{value}}, ${name?{a}:{b}} and $$. */
#include "mail/config.h"
#include "mail/config_int.h"

#include <ctype.h>
#include <string.h>

static int name_char(int c)
{
    return isalnum(c) || c == '_';
}

/* Offset of the bracket closing the one at text[0] (same kind, nested), or -1. */
static long match_close(const char *text, size_t len)
{
    char open = text[0], close = open == '{' ? '}' : ')';
    int level = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == open)
            level++;
        else if (text[i] == close && --level == 0)
            return (long)i;
    }
    return -1;
}

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n'))
        p++;
    return p;
}

/* Parse "{a}" or "{a}:{b}" (b only when allow_else); 0 on success. */
static int parse_alternatives(const char *p, const char *e, int allow_else, struct str *a,
                              struct str *b, int *has_b)
{
    p = skip_ws(p, e);
    long c = match_close(p, (size_t)(e - p));
    if (c < 0)
        return -1;
    str_appendn(a, p + 1, (size_t)c - 1);
    p = skip_ws(p + c + 1, e);
    *has_b = 0;
    if (p < e && *p == ':' && allow_else) {
        p = skip_ws(p + 1, e);
        if (p >= e || *p != '{' || (c = match_close(p, (size_t)(e - p))) < 0)
            return -1;
        str_appendn(b, p + 1, (size_t)c - 1);
        *has_b = 1;
        p = skip_ws(p + c + 1, e);
    }
    return p == e ? 0 : -1;
}

/* The body of ${...} or $(...): name, optionally followed by ?value or :value. */
static int expand_braced(const char *body, size_t len, struct str *out, struct argv *chain,
                         struct str *err)
{
    const char *p = body, *e = body + len;
    while (p < e && name_char((unsigned char)*p))
        p++;
    struct str name = STR_INIT, a = STR_INIT, b = STR_INIT;
    str_appendn(&name, body, (size_t)(p - body));
    int rc = -1;
    if (name.len == 0 || (p < e && *p != '?' && *p != ':')) {
        str_setf(err, "bad macro reference: \"${%.*s}\"", (int)(len > 100 ? 100 : len), body);
        goto done;
    }
    const char *value = config_expand_name(name.data, chain, err);
    if (value == NULL)
        goto done;
    if (p == e) {
        str_append(out, value);
        rc = 0;
        goto done;
    }
    int want_set = *p == '?', has_b = 0;
    const char *rest = skip_ws(p + 1, e);
    if (rest < e && *rest == '{') {
        if (parse_alternatives(rest, e, want_set, &a, &b, &has_b) != 0) {
            str_setf(err, "bad conditional macro syntax: \"${%.*s}\"", (int)(len > 100 ? 100 : len),
                     body);
            goto done;
        }
    } else {
        str_appendn(&a, p + 1, (size_t)(e - p - 1));
    }
    int set = value[0] != 0;
    rc = 0;
    if (set == want_set)
        rc = config_expand_text(str_cstr(&a), out, chain, err);
    else if (has_b)
        rc = config_expand_text(str_cstr(&b), out, chain, err);
done:
    str_release(&name);
    str_release(&a);
    str_release(&b);
    return rc;
}

int config_expand_text(const char *text, struct str *out, struct argv *chain, struct str *err)
{
    const char *p = text;
    while (*p) {
        if (out->len > (size_t)CONFIG_MAX_VALUE) {
            str_setf(err, "expanded value longer than %ld bytes", CONFIG_MAX_VALUE);
            return -1;
        }
        const char *d = strchr(p, '$');
        if (d == NULL) {
            str_append(out, p);
            break;
        }
        str_appendn(out, p, (size_t)(d - p));
        p = d + 1;
        if (*p == '$') {
            str_appendc(out, '$');
            p++;
        } else if (*p == '{' || *p == '(') {
            long c = match_close(p, strlen(p));
            if (c < 0) {
                str_setf(err, "unbalanced '%c' in macro reference: \"%.100s\"", *p, d);
                return -1;
            }
            if (expand_braced(p + 1, (size_t)c - 1, out, chain, err) != 0)
                return -1;
            p += c + 1;
        } else if (name_char((unsigned char)*p)) {
            const char *s = p;
            while (name_char((unsigned char)*p))
                p++;
            struct str name = STR_INIT;
            str_appendn(&name, s, (size_t)(p - s));
            const char *v = config_expand_name(name.data, chain, err);
            str_release(&name);
            if (v == NULL)
                return -1;
            str_append(out, v);
        } else {
            str_appendc(out, '$');
        }
    }
    if (out->len > (size_t)CONFIG_MAX_VALUE) {
        str_setf(err, "expanded value longer than %ld bytes", CONFIG_MAX_VALUE);
        return -1;
    }
    return 0;
}

void config_collect_refs(const char *text, struct argv *names)
{
    for (const char *p = text; (p = strchr(p, '$')) != NULL;) {
        p++;
        if (*p == '$') {
            p++;
            continue;
        }
        if (*p == '{' || *p == '(')
            p++;
        const char *s = p;
        while (name_char((unsigned char)*p))
            p++;
        if (p > s)
            argv_addn(names, s, (size_t)(p - s));
    }
}
