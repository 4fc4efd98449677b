/* table_tool: postmap/postalias -q, -q -, -s and -d over one or more tables. */
#include "table/table_tool.h"

#include "table/table.h"

#include "base/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define TOOL_KEY_LIMIT (1024 * 1024) /* longest key line read from standard input */

struct tables {
    struct table **t;
    size_t n;
};

static int open_all(char **specs, size_t n, int flags, struct tables *ts, struct str *err)
{
    ts->t = xcalloc(n ? n : 1, sizeof(*ts->t));
    ts->n = 0;
    for (size_t i = 0; i < n; i++) {
        if ((ts->t[i] = table_open(specs[i], flags, err)) == NULL)
            return -1;
        ts->n = i + 1;
    }
    return 0;
}

static void close_all(struct tables *ts)
{
    for (size_t i = 0; i < ts->n; i++)
        table_close(ts->t[i]);
    free(ts->t);
}

/* Looks key up in the tables in order: 0 found, 1 not, -1 error. */
static int lookup_all(struct tables *ts, const char *key, struct str *value, struct str *err)
{
    for (size_t i = 0; i < ts->n; i++) {
        int rc = table_lookup(ts->t[i], key, value);
        if (rc == TABLE_FOUND)
            return 0;
        if (rc == TABLE_ERROR) {
            str_setf(err, "table %s:%s: query error: %s", ts->t[i]->type, ts->t[i]->name,
                     str_cstr(&ts->t[i]->error));
            return -1;
        }
    }
    return 1;
}

int table_tool_query(char **specs, size_t n, int flags, const char *key, FILE *out, struct str *err)
{
    struct tables ts;
    struct str value = STR_INIT;
    int rc = open_all(specs, n, flags, &ts, err);
    if (rc == 0 && (rc = lookup_all(&ts, key, &value, err)) == 0)
        fprintf(out, "%s\n", str_cstr(&value));
    close_all(&ts);
    str_release(&value);
    return rc;
}

/* Reads one line without its newline: 1, 0 at EOF, -1 too long. */
static int read_line(FILE *in, struct str *line)
{
    int c, any = 0;
    str_clear(line);
    while ((c = getc(in)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (line->len >= TOOL_KEY_LIMIT)
            return -1;
        str_appendc(line, c);
    }
    if (line->len && line->data[line->len - 1] == '\r')
        str_truncate(line, line->len - 1);
    return any;
}

struct query_state {
    struct tables ts;
    struct str value;
    FILE *out;
    int found;
};

static int query_one(struct query_state *q, const char *key, struct str *err)
{
    int rc = lookup_all(&q->ts, key, &q->value, err);
    if (rc == 0) {
        fprintf(q->out, "%s\t%s\n", key, str_cstr(&q->value));
        q->found = 1;
    }
    return rc < 0 ? -1 : 0;
}

/* Message mode: headers (logical lines, continuations joined with newlines) then body lines. */
static int query_message(struct query_state *q, int input, FILE *in, struct str *err)
{
    struct str line = STR_INIT, header = STR_INIT;
    int rc, in_body = 0, status = 0;
    while (status == 0 && (rc = read_line(in, &line)) != 0) {
        if (rc < 0) {
            str_setf(err, "standard input: line longer than %d bytes", TOOL_KEY_LIMIT);
            status = -1;
            break;
        }
        int cont = !in_body && line.len && (line.data[0] == ' ' || line.data[0] == '\t');
        if (!in_body && header.len && !cont) {
            if (input & TABLE_TOOL_HEADERS)
                status = query_one(q, str_cstr(&header), err);
            str_clear(&header);
        }
        if (status != 0)
            break;
        if (in_body) {
            if (input & TABLE_TOOL_BODY)
                status = query_one(q, str_cstr(&line), err);
        } else if (line.len == 0) {
            in_body = 1;
        } else {
            if (cont)
                str_appendc(&header, '\n');
            str_appendn(&header, line.data, line.len);
        }
    }
    if (status == 0 && header.len && (input & TABLE_TOOL_HEADERS))
        status = query_one(q, str_cstr(&header), err);
    str_release(&line);
    str_release(&header);
    return status;
}

static int query_lines(struct query_state *q, FILE *in, struct str *err)
{
    struct str line = STR_INIT;
    int rc, status = 0;
    while (status == 0 && (rc = read_line(in, &line)) != 0) {
        if (rc < 0) {
            str_setf(err, "standard input: line longer than %d bytes", TOOL_KEY_LIMIT);
            status = -1;
        } else if (line.len) {
            status = query_one(q, str_cstr(&line), err);
        }
    }
    str_release(&line);
    return status;
}

int table_tool_query_stream(char **specs, size_t n, int flags, int input, FILE *in, FILE *out,
                            struct str *err)
{
    struct query_state q = {.out = out, .value = STR_INIT};
    int rc = open_all(specs, n, flags, &q.ts, err);
    if (rc == 0)
        rc = input ? query_message(&q, input, in, err) : query_lines(&q, in, err);
    close_all(&q.ts);
    str_release(&q.value);
    if (rc < 0)
        return -1;
    return q.found ? 0 : 1;
}

int table_tool_dump(char **specs, size_t n, int flags, FILE *out, struct str *err)
{
    struct tables ts;
    struct str key = STR_INIT, value = STR_INIT;
    int rc = open_all(specs, n, flags, &ts, err);
    for (size_t i = 0; rc == 0 && i < ts.n; i++) {
        int r, first = 1;
        while ((r = table_iterate(ts.t[i], first, &key, &value)) == TABLE_FOUND) {
            fprintf(out, "%s\t%s\n", str_cstr(&key), str_cstr(&value));
            first = 0;
        }
        if (r == TABLE_ERROR) {
            str_set(err, str_cstr(&ts.t[i]->error));
            rc = -1;
        }
    }
    close_all(&ts);
    str_release(&key);
    str_release(&value);
    return rc;
}

static int delete_key(struct tables *ts, const char *key, int *found, struct str *err)
{
    for (size_t i = 0; i < ts->n; i++) {
        int rc = table_remove(ts->t[i], key);
        if (rc == TABLE_ERROR) {
            str_set(err, str_cstr(&ts->t[i]->error));
            return -1;
        }
        if (rc == TABLE_FOUND)
            *found = 1;
    }
    return 0;
}

int table_tool_delete(char **specs, size_t n, int flags, const char *key, FILE *in, struct str *err)
{
    struct tables ts;
    struct str line = STR_INIT;
    int found = 0;
    int rc = open_all(specs, n, flags | TABLE_FLAG_WRITE | TABLE_FLAG_MUST_EXIST | TABLE_FLAG_LOCK,
                      &ts, err);
    if (rc == 0 && strcmp(key, "-") != 0)
        rc = delete_key(&ts, key, &found, err);
    else if (rc == 0) {
        int r;
        while (rc == 0 && (r = read_line(in, &line)) != 0) {
            if (r < 0) {
                str_setf(err, "standard input: line longer than %d bytes", TOOL_KEY_LIMIT);
                rc = -1;
            } else if (line.len) {
                rc = delete_key(&ts, str_cstr(&line), &found, err);
            }
        }
    }
    for (size_t i = 0; rc == 0 && i < ts.n; i++)
        if (table_sync(ts.t[i]) != 0) {
            str_set(err, str_cstr(&ts.t[i]->error));
            rc = -1;
        }
    close_all(&ts);
    str_release(&line);
    if (rc < 0)
        return -1;
    return found ? 0 : 1;
}
