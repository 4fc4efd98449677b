/* str: dynamic byte strings. Always NUL-terminated (data[len] == 0) but may hold NUL bytes;
 * every append grows the buffer, so no input can overflow it. */
#ifndef KESTREL_BASE_STR_H
#define KESTREL_BASE_STR_H

#include <stdarg.h>
#include <stddef.h>

struct str {
    char *data;
    size_t len;
    size_t cap;
};

#define STR_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

struct str *str_new(size_t hint);
void str_free(struct str *s);    /* frees a str_new() string */
void str_release(struct str *s); /* frees the buffer of an embedded/STR_INIT string */
char *str_steal(struct str *s);  /* returns the buffer (caller frees) and empties s */
void str_clear(struct str *s);
void str_truncate(struct str *s, size_t len);
void str_reserve(struct str *s, size_t extra);
void str_append(struct str *s, const char *text);
void str_appendn(struct str *s, const void *data, size_t len);
void str_appendc(struct str *s, int ch);
void str_appendf(struct str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void str_vappendf(struct str *s, const char *fmt, va_list ap);
void str_set(struct str *s, const char *text);
void str_setf(struct str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the contents as a C string; "" for an empty, never-allocated string. */
const char *str_cstr(const struct str *s);
void str_lower(struct str *s);
/* Remove trailing white space. */
void str_trim_right(struct str *s);

#endif
