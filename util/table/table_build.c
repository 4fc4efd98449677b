/* table_build: source-text parsing (postmap and aliases syntax), atomic table builds with
 * Postfix's ownership/permission rules, and incremental updates. */
#include "table/table_build.h"

#include "base/log.h"
#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "name: value" with an optionally quoted name. 0, or -1 when there is no colon. */
static int split_alias(const char *line, struct str *key, struct str *value)
{
    const char *p = line;
    str_clear(key);
    while (isspace((unsigned char)*p))
        p++;
    int quoted = 0;
    for (; *p && (quoted || *p != ':'); p++) {
        if (*p == '"') {
            quoted = !quoted;
            continue;
        }
        if (*p == '\\' && quoted && p[1])
            p++;
        str_appendc(key, *p);
    }
    if (*p != ':' || quoted)
        return -1;
    str_trim_right(key);
    for (p++; isspace((unsigned char)*p);)
        p++;
    str_set(value, p);
    str_trim_right(value);
    return key->len && value->len ? 0 : -1;
}

int table_build_next(struct table_source *src, const struct table_build_opts *o, struct str *key,
                     struct str *value, int *lineno, struct str *err)
{
    struct str line = STR_INIT;
    int rc;
    while ((rc = table_source_next(src, &line, err)) == 1) {
        *lineno = src->start;
        if (o->syntax == TABLE_SYNTAX_ALIASES) {
            if (split_alias(str_cstr(&line), key, value) == 0)
                break;
            msg_warn("%s, line %d: need name:value pair", src->path, src->start);
            continue;
        }
        if (table_source_split(str_cstr(&line), key, value) == 0 && value->len)
            break;
        msg_warn("%s, line %d: expected format: key whitespace value", src->path, src->start);
    }
    if (rc == 1 && o->fold)
        str_lower(key);
    str_release(&line);
    return rc;
}

int table_build_flags(const struct table_build_opts *o)
{
    int flags = o->replace ? TABLE_FLAG_DUP_REPLACE : TABLE_FLAG_DUP_WARN;
    flags |= o->nul ? TABLE_FLAG_NUL_KEY : TABLE_FLAG_NO_NUL_KEY;
    if (o->fold)
        flags |= TABLE_FLAG_FOLD_KEY;
    return flags | TABLE_FLAG_LOCK;
}

/* Copies records from src into t. 0 or -1 (err set). */
static int copy_records(struct table *t, struct table_source *src, const struct table_build_opts *o,
                        struct str *err)
{
    struct str key = STR_INIT, value = STR_INIT;
    int lineno = 0, rc;
    while ((rc = table_build_next(src, o, &key, &value, &lineno, err)) == 1) {
        int u = table_update(t, str_cstr(&key), str_cstr(&value));
        if (u == TABLE_DUPLICATE && !o->quiet)
            msg_warn("%s, line %d: duplicate entry: \"%s\"", src->path, lineno, str_cstr(&key));
        if (u == TABLE_ERROR) {
            str_set(err, str_cstr(&t->error));
            rc = -1;
            break;
        }
    }
    str_release(&key);
    str_release(&value);
    return rc < 0 ? -1 : 0;
}

/* Splits "type:name"; a spec without a colon is taken as hash:name. */
static void split_spec(const char *spec, struct str *type, const char **name)
{
    const char *colon = strchr(spec, ':');
    str_clear(type);
    const char *slash = strchr(spec, '/');
    if (colon == NULL || (slash && slash < colon)) {
        str_set(type, "hash");
        *name = spec;
        return;
    }
    str_appendn(type, spec, (size_t)(colon - spec));
    *name = colon + 1;
}

/* Permissions of the new file: an existing table keeps its own; a new one follows the source. */
static void choose_owner(const char *name, const struct stat *src_st,
                         const struct table_build_opts *o, struct table_owner *own)
{
    struct str target = STR_INIT;
    struct stat st;
    str_setf(&target, "%s.db", name);
    const struct stat *from = stat(str_cstr(&target), &st) == 0 ? &st : NULL;
    str_release(&target);
    own->uid = own->gid = -1;
    if (from) {
        own->mode = (int)(from->st_mode & 07777);
    } else {
        own->mode = o->default_mode ? 0644 : (int)(0600 | (src_st->st_mode & 0044));
        from = src_st;
    }
    if (geteuid() == 0 && !o->keep_root) {
        own->uid = (long)from->st_uid;
        own->gid = (long)from->st_gid;
    }
}

int table_build(const char *spec, const struct table_build_opts *o, struct str *err)
{
    struct str type = STR_INIT, full = STR_INIT;
    const char *name;
    split_spec(spec, &type, &name);
    if (strcmp(str_cstr(&type), "hash") != 0 && strcmp(str_cstr(&type), "btree") != 0) {
        str_setf(err, "unsupported dictionary type for building: %s", str_cstr(&type));
        str_release(&type);
        return -1;
    }
    struct table_source src;
    struct stat st;
    int rc = -1;
    if (table_source_open(&src, name, err) != 0)
        goto out;
    if (fstat(fileno(src.fp), &st) != 0) {
        str_setf(err, "stat %s: %s", name, strerror(errno));
        table_source_close(&src);
        goto out;
    }
    str_setf(&full, "%s:%s", str_cstr(&type), name);
    struct table *t = table_open(str_cstr(&full), table_build_flags(o) | TABLE_FLAG_CREATE, err);
    if (t != NULL) {
        rc = copy_records(t, &src, o, err);
        if (rc == 0 && o->syntax == TABLE_SYNTAX_ALIASES && table_update(t, "@", "@") < 0)
            rc = -1, str_set(err, str_cstr(&t->error));
        struct table_owner own;
        choose_owner(name, &st, o, &own);
        if (rc == 0 && table_commit(t, &own) != 0)
            rc = -1, str_set(err, str_cstr(&t->error));
        table_close(t);
    }
    table_source_close(&src);
out:
    str_release(&type);
    str_release(&full);
    return rc;
}

int table_build_incremental(const char *spec, FILE *in, const struct table_build_opts *o,
                            struct str *err)
{
    struct str type = STR_INIT, full = STR_INIT;
    const char *name;
    split_spec(spec, &type, &name);
    str_setf(&full, "%s:%s", str_cstr(&type), name);
    str_release(&type);
    struct table *t = table_open(str_cstr(&full), table_build_flags(o) | TABLE_FLAG_WRITE, err);
    str_release(&full);
    if (t == NULL)
        return -1;
    struct table_source src;
    table_source_init_stream(&src, in, "-");
    int rc = copy_records(t, &src, o, err);
    if (rc == 0 && table_sync(t) != 0)
        rc = -1, str_set(err, str_cstr(&t->error));
    table_source_close(&src);
    table_close(t);
    return rc;
}
