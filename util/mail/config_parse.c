/* config_parse: turns main.cf text into settings. A logical line starts with non-blank text
 * in column one; lines starting with white space continue it; lines whose first non-blank
 * character is '#' and blank lines are ignored. */
#include "mail/config_parse.h"
#include "mail/config.h"

#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Classify a physical line [p, e): 0 blank, 1 comment, 2 text in column one, 3 continuation. */
static int line_kind(const char *p, const char *e)
{
    const char *q = p;
    while (q < e && is_blank((unsigned char)*q))
        q++;
    if (q == e)
        return 0;
    if (*q == '#')
        return 1;
    return q == p ? 2 : 3;
}

static void append_trimmed(struct str *out, const char *p, const char *e)
{
    while (p < e && is_blank((unsigned char)*p))
        p++;
    while (e > p && is_blank((unsigned char)e[-1]))
        e--;
    if (out->len && p < e)
        str_appendc(out, ' ');
    str_appendn(out, p, (size_t)(e - p));
}

/* Split "name = value" and hand it to fn. */
static int setting(const char *path, struct str *ll, int line, config_setting_fn fn, void *ctx,
                   struct str *err)
{
    char *p = ll->data, *name = p;
    while (*p && !is_blank((unsigned char)*p) && *p != '=')
        p++;
    size_t nlen = (size_t)(p - name);
    while (is_blank((unsigned char)*p))
        p++;
    if (nlen == 0) {
        str_setf(err, "%s, line %d: missing attribute name", path, line);
        return -1;
    }
    if (*p != '=') {
        name[nlen] = 0;
        str_setf(err, "%s, line %d: missing '=' after attribute name: \"%s\"", path, line, name);
        return -1;
    }
    name[nlen] = 0;
    p++;
    while (is_blank((unsigned char)*p))
        p++;
    return fn(name, p, line, ctx) ? -1 : 0;
}

int config_parse(const char *path, const char *text, size_t len, config_setting_fn fn, void *ctx,
                 struct str *err)
{
    struct str ll = STR_INIT;
    int ll_line = 0, lineno = 0, rc = 0;
    const char *p = text, *end = text + len;
    if (len > (size_t)CONFIG_MAX_FILE) {
        str_setf(err, "%s: file too large (over %ld bytes)", path, CONFIG_MAX_FILE);
        return -1;
    }
    while (p < end && rc == 0) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (e == NULL)
            e = end;
        lineno++;
        if (memchr(p, 0, (size_t)(e - p)) != NULL) {
            str_setf(err, "%s, line %d: NUL character in text", path, lineno);
            rc = -1;
            break;
        }
        int kind = line_kind(p, e);
        if (kind == 2 || (kind == 3 && ll_line == 0)) {
            if (ll_line)
                rc = setting(path, &ll, ll_line, fn, ctx, err);
            if (rc == 0 && kind == 3) {
                str_setf(err, "%s, line %d: logical line must not start with white space", path,
                         lineno);
                rc = -1;
            }
            str_clear(&ll);
            ll_line = lineno;
            append_trimmed(&ll, p, e);
        } else if (kind == 3) {
            append_trimmed(&ll, p, e);
        }
        if (rc == 0 && ll.len > (size_t)CONFIG_MAX_LINE) {
            str_setf(err, "%s, line %d: logical line longer than %ld bytes", path, ll_line,
                     CONFIG_MAX_LINE);
            rc = -1;
        }
        p = e < end ? e + 1 : end;
    }
    if (rc == 0 && ll_line)
        rc = setting(path, &ll, ll_line, fn, ctx, err);
    str_release(&ll);
    return rc;
}

size_t config_split_lines(const char *text, size_t len, struct config_lline **out)
{
    size_t n = 0, cap = 0;
    struct config_lline *v = NULL;
    const char *p = text, *end = text + len;
    int lineno = 0;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        e = e ? e + 1 : end;
        lineno++;
        int kind = line_kind(p, e[-1] == '\n' ? e - 1 : e);
        size_t k = n;
        while (kind == 3 && k > 0 && !v[k - 1].is_setting)
            k--; /* comments and blank lines inside a continued setting belong to it */
        if (kind == 3 && k > 0) {
            v[k - 1].end = (size_t)(e - text);
            n = k;
        } else {
            v = xgrow(v, &cap, n + 1, sizeof(*v));
            v[n++] = (struct config_lline){(size_t)(p - text), (size_t)(e - text), lineno,
                                           kind == 2 || kind == 3};
        }
        p = e;
    }
    *out = v;
    return n;
}

void config_lline_name(const char *text, const struct config_lline *l, struct str *name)
{
    const char *p = text + l->start, *e = text + l->end;
    while (p < e && is_blank((unsigned char)*p))
        p++;
    const char *s = p;
    while (p < e && !is_blank((unsigned char)*p) && *p != '=' && *p != '\n')
        p++;
    str_clear(name);
    str_appendn(name, s, (size_t)(p - s));
}
