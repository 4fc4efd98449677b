/* table_source: logical-line reader for table source files (continuations, comments, limits). */
#include "table/table_source.h"

#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int table_source_open(struct table_source *src, const char *path, struct str *err)
{
    memset(src, 0, sizeof(*src));
    if (strcmp(path, "-") == 0) {
        table_source_init_stream(src, stdin, "-");
        return 0;
    }
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        str_setf(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    table_source_init_stream(src, fp, path);
    src->owned = 1;
    return 0;
}

void table_source_init_stream(struct table_source *src, FILE *fp, const char *name)
{
    memset(src, 0, sizeof(*src));
    src->fp = fp;
    src->path = xstrdup(name);
}

/* Reads one physical line (without its newline) into out: 1, 0 at EOF, -1 error. */
static int read_physical(struct table_source *src, struct str *out, struct str *err)
{
    str_clear(out);
    int c, any = 0;
    while ((c = getc(src->fp)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (c == 0) {
            str_setf(err, "%s, line %d: NUL byte in input", src->path, src->lineno + 1);
            return -1;
        }
        if (out->len >= TABLE_SOURCE_LINE_LIMIT) {
            str_setf(err, "%s, line %d: line longer than %d bytes", src->path, src->lineno + 1,
                     TABLE_SOURCE_LINE_LIMIT);
            return -1;
        }
        str_appendc(out, c);
    }
    if (ferror(src->fp)) {
        str_setf(err, "read %s: %s", src->path, strerror(errno));
        return -1;
    }
    if (!any)
        return 0;
    src->lineno++;
    if (out->len && out->data[out->len - 1] == '\r')
        str_truncate(out, out->len - 1);
    return 1;
}

static int is_blank_or_comment(const struct str *s)
{
    const char *p = str_cstr(s);
    while (isspace((unsigned char)*p))
        p++;
    return *p == 0 || *p == '#';
}

/* Fetches the next non-blank, non-comment physical line into src->next. */
static int fill_next(struct table_source *src, struct str *err)
{
    if (src->have_next)
        return 1;
    if (src->eof)
        return 0;
    for (;;) {
        int rc = read_physical(src, &src->next, err);
        if (rc <= 0) {
            src->eof = rc == 0;
            return rc;
        }
        if (!is_blank_or_comment(&src->next)) {
            src->have_next = 1;
            return 1;
        }
    }
}

int table_source_next(struct table_source *src, struct str *line, struct str *err)
{
    int rc;
    for (;;) {
        if ((rc = fill_next(src, err)) <= 0)
            return rc;
        src->have_next = 0;
        if (!isspace((unsigned char)src->next.data[0]))
            break;
        /* A continuation with nothing to continue: Postfix ignores it too. */
    }
    str_clear(line);
    str_appendn(line, src->next.data, src->next.len);
    src->start = src->lineno;
    while ((rc = fill_next(src, err)) == 1 && isspace((unsigned char)src->next.data[0])) {
        src->have_next = 0;
        if (line->len + src->next.len >= TABLE_SOURCE_LINE_LIMIT) {
            str_setf(err, "%s, line %d: logical line longer than %d bytes", src->path, src->lineno,
                     TABLE_SOURCE_LINE_LIMIT);
            return -1;
        }
        str_appendn(line, src->next.data, src->next.len);
    }
    if (rc < 0)
        return -1;
    str_trim_right(line);
    return 1;
}

void table_source_close(struct table_source *src)
{
    if (src->fp && src->owned)
        fclose(src->fp);
    src->fp = NULL;
    str_release(&src->next);
    free(src->path);
    src->path = NULL;
}

int table_source_split(const char *line, struct str *key, struct str *value)
{
    while (isspace((unsigned char)*line))
        line++;
    size_t klen = strcspn(line, " \t\r\n\f\v");
    str_clear(key);
    str_appendn(key, line, klen);
    const char *v = line + klen;
    str_clear(value);
    if (*v == 0)
        return -1;
    while (isspace((unsigned char)*v))
        v++;
    str_set(value, v);
    str_trim_right(value);
    return 0;
}
