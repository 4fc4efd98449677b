/* str: growable byte strings used wherever input sizes are not known in advance. */
#include "base/str.h"

#include "base/mem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct str *str_new(size_t hint)
{
    struct str *s = xcalloc(1, sizeof(*s));
    str_reserve(s, hint);
    return s;
}

void str_free(struct str *s)
{
    if (s == NULL)
        return;
    free(s->data);
    free(s);
}

void str_release(struct str *s)
{
    free(s->data);
    s->data = NULL;
    s->len = s->cap = 0;
}

char *str_steal(struct str *s)
{
    str_reserve(s, 0);
    char *p = s->data;
    s->data = NULL;
    s->len = s->cap = 0;
    return p;
}

void str_reserve(struct str *s, size_t extra)
{
    s->data = xgrow(s->data, &s->cap, s->len + extra + 1, 1);
    s->data[s->len] = 0;
}

void str_clear(struct str *s)
{
    str_truncate(s, 0);
}

void str_truncate(struct str *s, size_t len)
{
    if (len < s->len)
        s->len = len;
    if (s->data)
        s->data[s->len] = 0;
}

void str_appendn(struct str *s, const void *data, size_t len)
{
    str_reserve(s, len);
    if (len)
        memcpy(s->data + s->len, data, len);
    s->len += len;
    s->data[s->len] = 0;
}

void str_append(struct str *s, const char *text)
{
    str_appendn(s, text, strlen(text));
}

void str_appendc(struct str *s, int ch)
{
    str_reserve(s, 1);
    s->data[s->len++] = (char)ch;
    s->data[s->len] = 0;
}

void str_vappendf(struct str *s, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return;
    str_reserve(s, (size_t)n);
    vsnprintf(s->data + s->len, (size_t)n + 1, fmt, ap);
    s->len += (size_t)n;
}

void str_appendf(struct str *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(s, fmt, ap);
    va_end(ap);
}

void str_set(struct str *s, const char *text)
{
    str_clear(s);
    str_append(s, text);
}

void str_setf(struct str *s, const char *fmt, ...)
{
    va_list ap;
    str_clear(s);
    va_start(ap, fmt);
    str_vappendf(s, fmt, ap);
    va_end(ap);
}

const char *str_cstr(const struct str *s)
{
    return s->data ? s->data : "";
}

void str_lower(struct str *s)
{
    for (size_t i = 0; i < s->len; i++)
        s->data[i] = (char)tolower((unsigned char)s->data[i]);
}

void str_trim_right(struct str *s)
{
    while (s->len > 0 && isspace((unsigned char)s->data[s->len - 1]))
        s->len--;
    if (s->data)
        s->data[s->len] = 0;
}
