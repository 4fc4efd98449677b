/* attr: encoding, decoding and strict checking of attribute lists (the IPC message format). */
#include "base/attr.h"

#include "base/codec.h"
#include "base/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct attr_list *attr_list_new(void)
{
    struct attr_list *a = xcalloc(1, sizeof(*a));
    a->names = argv_new();
    a->values = argv_new();
    return a;
}

void attr_list_free(struct attr_list *a)
{
    if (a == NULL)
        return;
    argv_free(a->names);
    argv_free(a->values);
    free(a);
}

void attr_list_clear(struct attr_list *a)
{
    argv_clear(a->names);
    argv_clear(a->values);
}

void attr_addn(struct attr_list *a, const char *name, const char *value, size_t len)
{
    argv_add(a->names, name);
    argv_add_owned(a->values, xmemdup(value, len + 1));
    a->values->v[a->values->n - 1][len] = 0;
}

void attr_add(struct attr_list *a, const char *name, const char *value)
{
    attr_addn(a, name, value, strlen(value));
}

void attr_add_long(struct attr_list *a, const char *name, long value)
{
    struct str s = STR_INIT;
    str_appendf(&s, "%ld", value);
    attr_add(a, name, str_cstr(&s));
    str_release(&s);
}

const char *attr_get(const struct attr_list *a, const char *name)
{
    for (size_t i = 0; i < a->names->n; i++)
        if (strcmp(a->names->v[i], name) == 0)
            return a->values->v[i];
    return NULL;
}

int attr_get_long(const struct attr_list *a, const char *name, long min, long max, long *out)
{
    const char *v = attr_get(a, name);
    if (v == NULL || *v == 0)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*end || errno || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '%';
}

static void encode_value(const char *v, struct str *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (needs_escape(*p)) {
            str_appendc(out, '%');
            str_appendc(out, hex[*p >> 4]);
            str_appendc(out, hex[*p & 15]);
        } else {
            str_appendc(out, *p);
        }
    }
}

void attr_encode(const struct attr_list *a, struct str *out)
{
    for (size_t i = 0; i < a->names->n; i++) {
        str_append(out, a->names->v[i]);
        str_appendc(out, '=');
        encode_value(a->values->v[i], out);
        str_appendc(out, '\n');
    }
    str_appendc(out, '\n');
}

static int valid_name(const char *p, size_t len)
{
    if (len == 0 || len > ATTR_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
            return 0;
    return 1;
}

int attr_decode_line(const char *line, size_t len, struct str *name, struct str *value,
                     struct str *err)
{
    const char *eq = memchr(line, '=', len);
    if (eq == NULL || !valid_name(line, (size_t)(eq - line))) {
        str_set(err, "malformed attribute line");
        return -1;
    }
    str_clear(name);
    str_appendn(name, line, (size_t)(eq - line));
    str_clear(value);
    for (const char *p = eq + 1; p < line + len; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi = p + 2 < line + len ? hex_digit_value(p[1]) : -1;
            int lo = hi >= 0 ? hex_digit_value(p[2]) : -1;
            if (lo < 0) {
                str_setf(err, "bad %%-escape in attribute %s", str_cstr(name));
                return -1;
            }
            str_appendc(value, hi * 16 + lo);
            p += 2;
        } else if (c < 0x20 || c == 0x7f) {
            str_setf(err, "unescaped control character in attribute %s", str_cstr(name));
            return -1;
        } else {
            str_appendc(value, c);
        }
    }
    return 0;
}

static int in_list(const char *name, const char *const *list)
{
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

int attr_check(const struct attr_list *a, const char *const *allowed, const char *const *required,
               struct str *err)
{
    for (size_t i = 0; i < a->names->n; i++)
        if (!in_list(a->names->v[i], allowed)) {
            str_setf(err, "unexpected attribute: %s", a->names->v[i]);
            return -1;
        }
    for (; required && *required; required++)
        if (attr_get(a, *required) == NULL) {
            str_setf(err, "missing attribute: %s", *required);
            return -1;
        }
    return 0;
}
