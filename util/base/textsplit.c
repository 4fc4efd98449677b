/* textsplit: word splitting that honours balanced { } groups, shared by every configuration
 * syntax that nests lists (inline: tables, unionmap:, master.cf -o { }, milter settings). */
#include "base/textsplit.h"

#include <ctype.h>
#include <string.h>

/* Returns the length of the balanced group starting at p[0] == '{', or 0 if unbalanced. */
static size_t group_length(const char *p)
{
    int depth = 0;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] == '{')
            depth++;
        else if (p[i] == '}' && --depth == 0)
            return i + 1;
    }
    return 0;
}

static void add_trimmed(struct argv *out, const char *p, size_t len)
{
    while (len && isspace((unsigned char)*p))
        p++, len--;
    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    argv_addn(out, p, len);
}

int split_words(const char *text, const char *delims, int how, struct argv *out, struct str *err)
{
    const char *p = text;
    while (*p) {
        p += strspn(p, delims);
        if (*p == 0)
            break;
        if (*p == '{') {
            size_t len = group_length(p);
            if (len == 0) {
                str_setf(err, "unbalanced '{' in \"%s\"", text);
                return -1;
            }
            if (how == SPLIT_STRIP_BRACES)
                add_trimmed(out, p + 1, len - 2);
            else
                argv_addn(out, p, len);
            p += len;
            continue;
        }
        if (*p == '}') {
            str_setf(err, "unexpected '}' in \"%s\"", text);
            return -1;
        }
        size_t len = strcspn(p, delims);
        const char *brace = memchr(p, '{', len);
        if (brace) { /* word{group}: keep the group attached to its word */
            size_t glen = group_length(brace);
            if (glen == 0) {
                str_setf(err, "unbalanced '{' in \"%s\"", text);
                return -1;
            }
            len = (size_t)(brace - p) + glen;
            len += strcspn(p + len, delims);
        }
        argv_addn(out, p, len);
        p += len;
    }
    return 0;
}

int strip_braces(const char *text, struct str *inner, struct str *err)
{
    while (isspace((unsigned char)*text))
        text++;
    if (*text != '{')
        return 0;
    size_t len = group_length(text);
    if (len == 0) {
        str_setf(err, "unbalanced '{' in \"%s\"", text);
        return -1;
    }
    const char *rest = text + len;
    while (isspace((unsigned char)*rest))
        rest++;
    if (*rest) {
        str_setf(err, "text after '}' in \"%s\"", text);
        return -1;
    }
    str_clear(inner);
    const char *p = text + 1;
    size_t n = len - 2;
    while (n && isspace((unsigned char)*p))
        p++, n--;
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    str_appendn(inner, p, n);
    return 1;
}
