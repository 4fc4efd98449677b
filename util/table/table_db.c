/* table_db: Berkeley DB lookup tables. Reads try the key without and with a trailing NUL (files
 * made by any postmap); writes follow TABLE_FLAG_NUL_KEY. Builds (TABLE_FLAG_CREATE) go to a
 * temporary file renamed over name.db by commit, so readers never see a half-built table. */
#include "table/table_db.h"

#include "base/log.h"
#include "base/mem.h"

#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct db_table {
    DB *db;
    DBC *cursor;
    char *path; /* name.db */
    char *tmp;  /* the file being built, or NULL */
    int fd;     /* for locking */
    int locked; /* holds LOCK_EX for the whole session */
    struct table_stamp stamp;
};

static int db_lock(struct table *t, int how)
{
    struct db_table *d = t->priv;
    if (!(t->flags & TABLE_FLAG_LOCK) || d->locked || d->fd < 0)
        return 0;
    while (flock(d->fd, how) != 0)
        if (errno != EINTR)
            return table_fail(t, "lock %s: %s", d->path, strerror(errno));
    return 0;
}

static void db_unlock(struct table *t)
{
    struct db_table *d = t->priv;
    if ((t->flags & TABLE_FLAG_LOCK) && !d->locked && d->fd >= 0)
        flock(d->fd, LOCK_UN);
}

static void set_dbt(DBT *k, const char *s, int with_nul)
{
    memset(k, 0, sizeof(*k));
    k->data = (void *)s;
    k->size = (u_int32_t)(strlen(s) + (with_nul ? 1 : 0));
}

/* Copies a DBT into a string, dropping one trailing NUL. */
static void dbt_to_str(const DBT *v, struct str *out)
{
    size_t len = v->size;
    if (len && ((const char *)v->data)[len - 1] == 0)
        len--;
    str_clear(out);
    str_appendn(out, v->data, len);
}

static int db_lookup(struct table *t, const char *key, struct str *value)
{
    struct db_table *d = t->priv;
    if (db_lock(t, LOCK_SH) != 0)
        return TABLE_ERROR;
    int rc = DB_NOTFOUND;
    for (int nul = 0; nul < 2 && rc == DB_NOTFOUND; nul++) {
        DBT k, v;
        set_dbt(&k, key, nul);
        memset(&v, 0, sizeof(v));
        rc = d->db->get(d->db, NULL, &k, &v, 0);
        if (rc == 0)
            dbt_to_str(&v, value);
    }
    db_unlock(t);
    if (rc == 0)
        return TABLE_FOUND;
    if (rc == DB_NOTFOUND)
        return TABLE_NOTFOUND;
    return table_fail(t, "%s:%s: lookup error: %s", t->type, t->name, db_strerror(rc));
}

static int write_nul(const struct table *t)
{
    return (t->flags & TABLE_FLAG_NUL_KEY) != 0;
}

static int db_update(struct table *t, const char *key, const char *value)
{
    struct db_table *d = t->priv;
    DBT k, v;
    set_dbt(&k, key, write_nul(t));
    set_dbt(&v, value, write_nul(t));
    u_int32_t how = (t->flags & TABLE_FLAG_DUP_WARN) ? DB_NOOVERWRITE : 0;
    int rc = d->db->put(d->db, NULL, &k, &v, how);
    if (rc == DB_KEYEXIST)
        return TABLE_DUPLICATE;
    if (rc != 0)
        return table_fail(t, "%s:%s: update error: %s", t->type, t->name, db_strerror(rc));
    return 0;
}

static int db_remove(struct table *t, const char *key)
{
    struct db_table *d = t->priv;
    int found = 0;
    for (int nul = 0; nul < 2; nul++) {
        DBT k;
        set_dbt(&k, key, nul);
        int rc = d->db->del(d->db, NULL, &k, 0);
        if (rc == 0)
            found = 1;
        else if (rc != DB_NOTFOUND)
            return table_fail(t, "%s:%s: delete error: %s", t->type, t->name, db_strerror(rc));
    }
    return found ? TABLE_FOUND : TABLE_NOTFOUND;
}

static int db_iterate(struct table *t, int first, struct str *key, struct str *value)
{
    struct db_table *d = t->priv;
    int rc;
    if (first || d->cursor == NULL) {
        if (d->cursor)
            d->cursor->close(d->cursor);
        d->cursor = NULL;
        if ((rc = d->db->cursor(d->db, NULL, &d->cursor, 0)) != 0)
            return table_fail(t, "%s:%s: cursor: %s", t->type, t->name, db_strerror(rc));
        first = 1;
    }
    DBT k, v;
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    rc = d->cursor->get(d->cursor, &k, &v, first ? DB_FIRST : DB_NEXT);
    if (rc == DB_NOTFOUND)
        return TABLE_NOTFOUND;
    if (rc != 0)
        return table_fail(t, "%s:%s: read error: %s", t->type, t->name, db_strerror(rc));
    dbt_to_str(&k, key);
    dbt_to_str(&v, value);
    return TABLE_FOUND;
}

static int db_sync(struct table *t)
{
    struct db_table *d = t->priv;
    int rc = d->db->sync(d->db, 0);
    if (rc != 0)
        return table_fail(t, "%s:%s: sync: %s", t->type, t->name, db_strerror(rc));
    return 0;
}

static int db_changed(struct table *t)
{
    struct db_table *d = t->priv;
    return table_stamp_changed(d->path, &d->stamp);
}

static int apply_owner(struct table *t, const char *path, const struct table_owner *o)
{
    if (o == NULL)
        return 0;
    if (o->mode >= 0 && chmod(path, (mode_t)o->mode) != 0)
        return table_fail(t, "chmod %s: %s", path, strerror(errno));
    if ((o->uid >= 0 || o->gid >= 0) && chown(path, (uid_t)o->uid, (gid_t)o->gid) != 0)
        return table_fail(t, "chown %s: %s", path, strerror(errno));
    return 0;
}

static int db_commit(struct table *t, const struct table_owner *owner)
{
    struct db_table *d = t->priv;
    if (d->tmp == NULL)
        return db_sync(t);
    if (d->cursor)
        d->cursor->close(d->cursor);
    d->cursor = NULL;
    /* Close before the rename: Berkeley DB may flush pages by file name. */
    int rc = d->db->close(d->db, 0);
    d->db = NULL;
    if (rc != 0)
        return table_fail(t, "%s:%s: close: %s", t->type, t->name, db_strerror(rc));
    if (apply_owner(t, d->tmp, owner) != 0)
        return TABLE_ERROR;
    if (rename(d->tmp, d->path) != 0)
        return table_fail(t, "rename %s to %s: %s", d->tmp, d->path, strerror(errno));
    free(d->tmp);
    d->tmp = NULL;
    table_stamp_take(d->path, &d->stamp);
    return 0;
}

static void db_close(struct table *t)
{
    struct db_table *d = t->priv;
    if (d->cursor)
        d->cursor->close(d->cursor);
    if (d->db)
        d->db->close(d->db, 0);
    if (d->tmp) {
        unlink(d->tmp);
        free(d->tmp);
    }
    free(d->path);
    free(d);
    table_free(t);
}

static const struct table_ops db_ops = {
    .lookup = db_lookup,
    .update = db_update,
    .remove = db_remove,
    .iterate = db_iterate,
    .sync = db_sync,
    .close = db_close,
    .changed = db_changed,
    .commit = db_commit,
};

static const struct table_ops db_ro_ops = {
    .lookup = db_lookup,
    .iterate = db_iterate,
    .close = db_close,
    .changed = db_changed,
};

/* Berkeley DB's own diagnostics: the return codes are reported instead; shown with -v. */
static void db_errcall(const DB_ENV *env, const char *prefix, const char *text)
{
    (void)env;
    (void)prefix;
    if (msg_verbose)
        msg_info("berkeley db: %s", text);
}

/* Opens the DB file and, for writers, takes the session's exclusive lock. */
static int open_file(struct table *t, int dbtype, struct str *err)
{
    struct db_table *d = t->priv;
    const char *file = d->tmp ? d->tmp : d->path;
    u_int32_t how = DB_RDONLY;
    if (d->tmp)
        how = DB_CREATE | DB_EXCL;
    else if (t->flags & TABLE_FLAG_WRITE)
        how = (t->flags & TABLE_FLAG_MUST_EXIST) ? 0 : DB_CREATE;
    int rc = db_create(&d->db, NULL, 0);
    if (rc == 0)
        d->db->set_errcall(d->db, db_errcall);
    if (rc == 0)
        rc = d->db->open(d->db, NULL, file, NULL, (DBTYPE)dbtype, how, 0644);
    if (rc != 0) {
        str_setf(err, "open database %s: %s", file, rc > 0 ? strerror(rc) : db_strerror(rc));
        return -1;
    }
    if (d->db->fd(d->db, &d->fd) != 0)
        d->fd = -1;
    if ((t->flags & (TABLE_FLAG_WRITE | TABLE_FLAG_CREATE)) && (t->flags & TABLE_FLAG_LOCK) &&
        d->fd >= 0) {
        if (flock(d->fd, LOCK_EX) != 0) {
            str_setf(err, "lock %s: %s", file, strerror(errno));
            return -1;
        }
        d->locked = 1;
    }
    return 0;
}

struct table *table_db_open(const char *type, int dbtype, const char *name, int flags,
                            struct str *err)
{
    struct db_table *d = xcalloc(1, sizeof(*d));
    d->fd = -1;
    struct str path = STR_INIT;
    str_setf(&path, "%s.db", name);
    d->path = str_steal(&path);
    if (flags & TABLE_FLAG_CREATE) {
        str_setf(&path, "%s.%ld.tmp", d->path, (long)getpid());
        d->tmp = str_steal(&path);
        unlink(d->tmp);
    }
    int writable = flags & (TABLE_FLAG_WRITE | TABLE_FLAG_CREATE);
    struct table *t =
        table_alloc(type, name, flags, TABLE_PROP_FIXED, writable ? &db_ops : &db_ro_ops, d);
    if (open_file(t, dbtype, err) != 0) {
        if (d->tmp && d->db == NULL)
            unlink(d->tmp);
        db_close(t);
        return NULL;
    }
    table_stamp_take(d->path, &d->stamp);
    return t;
}
