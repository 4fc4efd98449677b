/* Unit tests for hash: and btree: (table_db.c): build/commit, NUL-key compatibility, updates,
 * duplicates, deletion, iteration, changed, failed builds and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table.h"

#include <db.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/table_db_testXXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static void path(struct str *s, const char *type, const char *name)
{
    str_setf(s, "%s:%s/%s", type, dir, name);
}

static void build_and_query(const char *type)
{
    struct str spec = STR_INIT, err = STR_INIT, v = STR_INIT, k = STR_INIT;
    path(&spec, type, "map");
    int wflags = TABLE_FLAG_CREATE | TABLE_FLAG_FOLD_KEY | TABLE_FLAG_DUP_WARN | TABLE_FLAG_LOCK;
    struct table *t = table_open(str_cstr(&spec), wflags, &err);
    assert_non_null(t);
    assert_int_equal(table_update(t, "Example.COM", "OK"), 0);
    assert_int_equal(table_update(t, "1.2.3.4", "REJECT"), 0);
    assert_int_equal(table_update(t, "example.com", "second"), TABLE_DUPLICATE);
    assert_int_equal(table_commit(t, NULL), 0);
    table_close(t);

    t = table_open(str_cstr(&spec), TABLE_FLAG_FOLD_KEY | TABLE_FLAG_LOCK, &err);
    assert_non_null(t);
    assert_int_equal(table_lookup(t, "EXAMPLE.com", &v), TABLE_FOUND);
    assert_string_equal(str_cstr(&v), "OK");
    assert_int_equal(table_lookup(t, "1.2.3.4", &v), TABLE_FOUND);
    assert_string_equal(str_cstr(&v), "REJECT");
    assert_int_equal(table_lookup(t, "nope", &v), TABLE_NOTFOUND);
    int n = 0, first = 1;
    while (table_iterate(t, first, &k, &v) == TABLE_FOUND)
        n++, first = 0;
    assert_int_equal(n, 2);
    assert_int_equal(table_changed(t), 0);
    assert_int_equal(table_update(t, "a", "b"), TABLE_ERROR); /* read-only */
    table_close(t);
    str_release(&spec);
    str_release(&err);
    str_release(&v);
    str_release(&k);
}

static void test_hash(void **state)
{
    (void)state;
    build_and_query("hash");
}

static void test_btree(void **state)
{
    (void)state;
    build_and_query("btree");
}

/* A file written with NUL-terminated keys (postmap -N, or another postmap's default). */
static void test_nul_keys(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT, v = STR_INIT;
    path(&spec, "hash", "nul");
    struct table *t = table_open(str_cstr(&spec), TABLE_FLAG_CREATE | TABLE_FLAG_NUL_KEY, &err);
    assert_non_null(t);
    assert_int_equal(table_update(t, "withnul", "value"), 0);
    assert_int_equal(table_commit(t, NULL), 0);
    table_close(t);
    /* Check the raw file: the key really has a NUL. */
    struct str file = STR_INIT;
    str_setf(&file, "%s/nul.db", dir);
    DB *db;
    assert_int_equal(db_create(&db, NULL, 0), 0);
    assert_int_equal(db->open(db, NULL, str_cstr(&file), NULL, DB_HASH, DB_RDONLY, 0), 0);
    DBT k = {.data = "withnul", .size = 8}, d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(db->get(db, NULL, &k, &d, 0), 0);
    assert_int_equal(d.size, 6);
    db->close(db, 0);
    t = table_open(str_cstr(&spec), 0, &err);
    assert_int_equal(table_lookup(t, "withnul", &v), TABLE_FOUND);
    assert_string_equal(str_cstr(&v), "value");
    table_close(t);
    str_release(&file);
    str_release(&spec);
    str_release(&err);
    str_release(&v);
}

static void test_update_remove_changed(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT, v = STR_INIT;
    path(&spec, "hash", "upd");
    struct table *r = NULL;
    struct table *w = table_open(str_cstr(&spec), TABLE_FLAG_WRITE, &err);
    assert_non_null(w);
    assert_int_equal(table_update(w, "k", "v1"), 0);
    assert_int_equal(table_update(w, "k", "v2"), 0); /* plain update replaces */
    assert_int_equal(table_sync(w), 0);
    r = table_open(str_cstr(&spec), 0, &err);
    assert_non_null(r);
    assert_int_equal(table_lookup(r, "k", &v), TABLE_FOUND);
    assert_string_equal(str_cstr(&v), "v2");
    assert_int_equal(table_remove(w, "k"), TABLE_FOUND);
    assert_int_equal(table_remove(w, "k"), TABLE_NOTFOUND);
    assert_int_equal(table_sync(w), 0);
    table_close(w);
    usleep(10000);
    /* Rebuild the file: the reader must notice. */
    w = table_open(str_cstr(&spec), TABLE_FLAG_CREATE, &err);
    assert_int_equal(table_update(w, "new", "x"), 0);
    assert_int_equal(table_commit(w, NULL), 0);
    table_close(w);
    assert_int_equal(table_changed(r), 1);
    table_close(r);
    str_release(&spec);
    str_release(&err);
    str_release(&v);
}

/* A build that is abandoned leaves the old table intact and no temporary file behind. */
static void test_abandoned_build(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT, v = STR_INIT;
    path(&spec, "hash", "keep");
    struct table *t = table_open(str_cstr(&spec), TABLE_FLAG_CREATE, &err);
    assert_int_equal(table_update(t, "old", "1"), 0);
    assert_int_equal(table_commit(t, NULL), 0);
    table_close(t);
    t = table_open(str_cstr(&spec), TABLE_FLAG_CREATE, &err);
    assert_int_equal(table_update(t, "new", "2"), 0);
    table_close(t); /* no commit */
    t = table_open(str_cstr(&spec), 0, &err);
    assert_int_equal(table_lookup(t, "old", &v), TABLE_FOUND);
    assert_int_equal(table_lookup(t, "new", &v), TABLE_NOTFOUND);
    table_close(t);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "ls %s | grep -q tmp", dir);
    assert_int_not_equal(system(cmd), 0);
    str_release(&spec);
    str_release(&err);
    str_release(&v);
}

static void test_hostile(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT, v = STR_INIT;
    path(&spec, "hash", "missing");
    assert_null(table_open(str_cstr(&spec), 0, &err));
    assert_non_null(strstr(str_cstr(&err), "No such file"));
    /* Not a database. */
    struct str file = STR_INIT;
    str_setf(&file, "%s/junk.db", dir);
    FILE *fp = fopen(str_cstr(&file), "w");
    fputs("this is not a database\n", fp);
    fclose(fp);
    path(&spec, "hash", "junk");
    assert_null(table_open(str_cstr(&spec), 0, &err));
    /* A hash file opened as btree. */
    path(&spec, "hash", "big");
    struct table *t = table_open(str_cstr(&spec), TABLE_FLAG_CREATE, &err);
    char *big = malloc(100001);
    memset(big, 'x', 100000);
    big[100000] = 0;
    assert_int_equal(table_update(t, big, big), 0);
    assert_int_equal(table_commit(t, NULL), 0);
    table_close(t);
    t = table_open(str_cstr(&spec), 0, &err);
    assert_int_equal(table_lookup(t, big, &v), TABLE_FOUND);
    assert_int_equal(v.len, 100000);
    table_close(t);
    path(&spec, "btree", "big");
    assert_null(table_open(str_cstr(&spec), 0, &err));
    free(big);
    str_release(&file);
    str_release(&spec);
    str_release(&err);
    str_release(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_btree),
        cmocka_unit_test(test_nul_keys),
        cmocka_unit_test(test_update_remove_changed),
        cmocka_unit_test(test_abandoned_build),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
