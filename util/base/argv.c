/* argv: string vectors with ownership of their elements. */
#include "base/argv.h"

#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

struct argv *argv_new(void)
{
    struct argv *a = xcalloc(1, sizeof(*a));
    a->v = xgrow(NULL, &a->cap, 1, sizeof(char *));
    a->v[0] = NULL;
    return a;
}

void argv_free(struct argv *a)
{
    if (a == NULL)
        return;
    argv_clear(a);
    free(a->v);
    free(a);
}

void argv_add_owned(struct argv *a, char *s)
{
    a->v = xgrow(a->v, &a->cap, a->n + 2, sizeof(char *));
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

void argv_add(struct argv *a, const char *s)
{
    argv_add_owned(a, xstrdup(s));
}

void argv_addn(struct argv *a, const char *s, size_t len)
{
    argv_add_owned(a, xstrndup(s, len));
}

void argv_clear(struct argv *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
    a->v[0] = NULL;
}

struct argv *argv_split(const char *text, const char *delims)
{
    struct argv *a = argv_new();
    const char *p = text;
    while (*p) {
        p += strspn(p, delims);
        size_t len = strcspn(p, delims);
        if (len)
            argv_addn(a, p, len);
        p += len;
    }
    return a;
}
