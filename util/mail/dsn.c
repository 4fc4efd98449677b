/* dsn: NOTIFY masks and enhanced status code helpers. */
#include "mail/dsn.h"

#include <ctype.h>
#include <string.h>

int dsn_notify_wants(long notify, int kind)
{
    if (notify == 0)
        return kind == DSN_NOTIFY_FAILURE || kind == DSN_NOTIFY_DELAY;
    if (notify & DSN_NOTIFY_NEVER)
        return 0;
    return (notify & kind) != 0;
}

static size_t digits(const char *p, size_t max)
{
    size_t n = 0;
    while (n < max && isdigit((unsigned char)p[n]))
        n++;
    return n;
}

int dsn_code_valid(const char *text, size_t *len)
{
    const char *p = text;
    if (*p != '2' && *p != '4' && *p != '5')
        return 0;
    p++;
    for (int part = 0; part < 2; part++) {
        if (*p++ != '.')
            return 0;
        size_t n = digits(p, 3);
        if (n == 0)
            return 0;
        p += n;
    }
    if (*p != 0 && *p != ' ' && *p != '\t')
        return 0;
    if (len)
        *len = (size_t)(p - text);
    return 1;
}

void dsn_split(const char *text, const char *def, struct str *code, struct str *rest)
{
    size_t n;
    if (dsn_code_valid(text, &n)) {
        str_clear(code);
        str_appendn(code, text, n);
        text += n;
        while (*text == ' ' || *text == '\t')
            text++;
    } else {
        str_set(code, def);
    }
    str_set(rest, text);
}
