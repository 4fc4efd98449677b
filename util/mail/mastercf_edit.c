/* mastercf_edit: rendering master.cf entries in the column layout, and the text edits behind
 * postconf -M/-F/-P (-e, -X, -#) that keep every other line, comment and layout. */
#include "mail/config.h"
#include "mail/config_parse.h"
#include "mail/mastercf.h"

#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

/* A word as written in master.cf: {...} when it holds white space or starts with '{'. */
static void append_word(struct str *out, const char *w, int override)
{
    int needs = *w == 0 || *w == '{' || strpbrk(w, " \t\n") != NULL;
    if (!needs) {
        str_append(out, w);
        return;
    }
    const char *eq = override ? strchr(w, '=') : NULL;
    if (eq)
        str_appendf(out, "{ %.*s = %s }", (int)(eq - w), w, eq + 1);
    else
        str_appendf(out, "{ %s }", w);
}

void mastercf_command_text(const struct mastercf_entry *e, struct str *out)
{
    for (size_t i = 0; i < e->argv->n; i++) {
        if (i)
            str_appendc(out, ' ');
        append_word(out, e->argv->v[i], i > 0 && strcmp(e->argv->v[i - 1], "-o") == 0);
    }
}

void mastercf_format(const struct mastercf_entry *e, int fold, struct str *out)
{
    size_t line_start = out->len;
    str_appendf(out, "%-10s %-5s %-7s %-7s %-7s %-7s %-7s %s", e->field[0], e->field[1],
                e->field[2], e->field[3], e->field[4], e->field[5], e->field[6], e->argv->v[0]);
    struct str w = STR_INIT;
    for (size_t i = 1; i < e->argv->n; i++) {
        str_clear(&w);
        int is_o = strcmp(e->argv->v[i], "-o") == 0 && i + 1 < e->argv->n;
        if (is_o) {
            str_append(&w, "-o ");
            append_word(&w, e->argv->v[++i], 1);
        } else {
            append_word(&w, e->argv->v[i], 0);
        }
        if (fold && (is_o || out->len - line_start + 1 + w.len > 80)) {
            str_append(out, "\n  ");
            line_start = out->len - 2;
        } else {
            str_appendc(out, ' ');
        }
        str_append(out, w.data);
    }
    str_release(&w);
}

/* Split "a/b[/c]" into parts; returns the part count (at most max). */
static size_t split_key(const char *key, char **parts, size_t max)
{
    size_t n = 0;
    const char *p = key;
    while (n < max) {
        const char *s = strchr(p, '/');
        if (s == NULL || n == max - 1) {
            parts[n++] = xstrdup(p);
            break;
        }
        parts[n++] = xstrndup(p, (size_t)(s - p));
        p = s + 1;
    }
    return n;
}

static void free_parts(char **parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
}

/* Index of the entry service/type in m, or -1. */
static long find_index(const struct mastercf *m, const char *service, const char *type)
{
    const struct mastercf_entry *e = mastercf_find(m, service, type);
    return e ? (long)(e - m->v) : -1;
}

/* Rebuild text with the group starting at `line` replaced by `repl` (NULL: removed;
 * comment: each line prefixed with '#'). */
static void replace_group(const char *text, size_t len, int line, const char *repl, int comment,
                          struct str *out)
{
    struct config_lline *ll;
    size_t n = config_split_lines(text, len, &ll);
    for (size_t i = 0; i < n; i++) {
        const char *s = text + ll[i].start, *e = text + ll[i].end;
        if (ll[i].line != line || !ll[i].is_setting) {
            str_appendn(out, s, (size_t)(e - s));
            continue;
        }
        if (comment) {
            config_comment_out(out, s, e);
        } else if (repl) {
            str_append(out, repl);
            str_appendc(out, '\n');
        }
    }
    free(ll);
}

int mastercf_edit_entry(const char *path, const char *text, size_t len, const char *entry,
                        struct str *out, struct str *err)
{
    struct mastercf *m = mastercf_parse(path, text, len, err);
    struct mastercf *n = m ? mastercf_parse("new entry", entry, strlen(entry), err) : NULL;
    int rc = -1;
    if (n && n->n != 1) {
        str_setf(err, "expected one master.cf entry: \"%s\"", entry);
    } else if (n) {
        struct str line = STR_INIT;
        mastercf_format(&n->v[0], 1, &line);
        long i = find_index(m, n->v[0].field[0], n->v[0].field[1]);
        if (i >= 0) {
            replace_group(text, len, m->v[i].line, line.data, 0, out);
        } else {
            str_appendn(out, text, len);
            if (len && text[len - 1] != '\n')
                str_appendc(out, '\n');
            str_appendf(out, "%s\n", line.data);
        }
        str_release(&line);
        rc = 0;
    }
    mastercf_free(m);
    mastercf_free(n);
    return rc;
}

int mastercf_remove_entry(const char *path, const char *text, size_t len, const char *key,
                          int comment, struct str *out, struct str *err)
{
    struct mastercf *m = mastercf_parse(path, text, len, err);
    if (m == NULL)
        return -1;
    char *parts[2];
    size_t np = split_key(key, parts, 2);
    long i = np == 2 ? find_index(m, parts[0], parts[1]) : -1;
    if (i < 0)
        str_appendn(out, text, len); /* like Postfix: nothing to do */
    else
        replace_group(text, len, m->v[i].line, NULL, comment, out);
    free_parts(parts, np);
    mastercf_free(m);
    return 0;
}

/* Apply fn to entry key's copy, then write the entry back in place. */
static int edit_in_place(const char *path, const char *text, size_t len, char **parts,
                         int (*fn)(struct mastercf_entry *, const char *, const char *,
                                   struct str *),
                         const char *value, struct str *out, struct str *err)
{
    struct mastercf *m = mastercf_parse(path, text, len, err);
    if (m == NULL)
        return -1;
    long i = find_index(m, parts[0], parts[1]);
    int rc = -1;
    if (i < 0) {
        str_setf(err, "%s: no entry \"%s/%s\"", path, parts[0], parts[1]);
    } else if (fn(&m->v[i], parts[2], value, err) == 0) {
        struct str line = STR_INIT, check = STR_INIT;
        mastercf_format(&m->v[i], 1, &line);
        replace_group(text, len, m->v[i].line, line.data, 0, out);
        struct mastercf *again = mastercf_parse(path, str_cstr(out), out->len, err);
        rc = again ? 0 : -1;
        mastercf_free(again);
        str_release(&line);
        str_release(&check);
    }
    mastercf_free(m);
    return rc;
}

static int set_field(struct mastercf_entry *e, const char *field, const char *value,
                     struct str *err)
{
    for (int f = 0; f < 7; f++) {
        if (strcmp(field, mastercf_field_names[f]) != 0)
            continue;
        if (*value == 0 || strpbrk(value, " \t\n")) {
            str_setf(err, "invalid value for field \"%s\": \"%s\"", field, value);
            return -1;
        }
        free(e->field[f]);
        e->field[f] = xstrdup(value);
        return 0;
    }
    if (strcmp(field, "command") == 0) {
        struct argv *words = argv_split(value, " \t\n");
        if (words->n == 0) {
            argv_free(words);
            str_setf(err, "invalid value for field \"command\": \"%s\"", value);
            return -1;
        }
        argv_free(e->argv);
        e->argv = words;
        return 0;
    }
    str_setf(err, "invalid field name: \"%s\"", field);
    return -1;
}

/* Set (value) or remove (NULL) the -o name override. */
static int set_param(struct mastercf_entry *e, const char *name, const char *value, struct str *err)
{
    if (*name == 0 || strpbrk(name, " \t\n=")) {
        str_setf(err, "invalid parameter name: \"%s\"", name);
        return -1;
    }
    size_t nl = strlen(name);
    struct argv *a = argv_new();
    int done = 0;
    for (size_t i = 0; i < e->argv->n; i++) {
        const char *w = e->argv->v[i];
        if (i > 0 && strcmp(w, "-o") == 0 && i + 1 < e->argv->n) {
            const char *o = e->argv->v[++i];
            if (strncmp(o, name, nl) == 0 && o[nl] == '=') {
                if (value && !done) {
                    argv_add(a, "-o");
                    struct str s = STR_INIT;
                    str_setf(&s, "%s=%s", name, value);
                    argv_add_owned(a, str_steal(&s));
                }
                done = 1;
                continue;
            }
            argv_add(a, "-o");
            argv_add(a, o);
            continue;
        }
        argv_add(a, w);
    }
    if (value && !done) { /* new options go after the existing ones, before other arguments */
        size_t at = 1;
        while (at + 1 < a->n && strcmp(a->v[at], "-o") == 0)
            at += 2;
        struct argv *b = argv_new();
        for (size_t i = 0; i < a->n; i++) {
            if (i == at) {
                argv_add(b, "-o");
                struct str s = STR_INIT;
                str_setf(&s, "%s=%s", name, value);
                argv_add_owned(b, str_steal(&s));
            }
            argv_add(b, a->v[i]);
        }
        if (at >= a->n) {
            argv_add(b, "-o");
            struct str s = STR_INIT;
            str_setf(&s, "%s=%s", name, value);
            argv_add_owned(b, str_steal(&s));
        }
        argv_free(a);
        a = b;
    }
    argv_free(e->argv);
    e->argv = a;
    return 0;
}

static int keyed_edit(const char *path, const char *text, size_t len, const char *key,
                      int (*fn)(struct mastercf_entry *, const char *, const char *, struct str *),
                      const char *value, struct str *out, struct str *err)
{
    char *parts[3];
    size_t np = split_key(key, parts, 3);
    int rc = -1;
    if (np != 3 || !*parts[0] || !*parts[1] || !*parts[2])
        str_setf(err, "invalid key (expected service/type/name): \"%s\"", key);
    else
        rc = edit_in_place(path, text, len, parts, fn, value, out, err);
    free_parts(parts, np);
    return rc;
}

int mastercf_edit_field(const char *path, const char *text, size_t len, const char *key,
                        const char *value, struct str *out, struct str *err)
{
    return keyed_edit(path, text, len, key, set_field, value, out, err);
}

int mastercf_edit_param(const char *path, const char *text, size_t len, const char *key,
                        const char *value, struct str *out, struct str *err)
{
    return keyed_edit(path, text, len, key, set_param, value, out, err);
}
