/* Unit tests for queue_layout: directory modes, idempotent creation, permission reset and the
 * warnings of the permission check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/argv.h"
#include "mail/queue_layout.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64];

static int setup(void **state)
{
    (void)state;
    strcpy(base, "/tmp/queue_layout_testXXXXXX");
    assert_non_null(mkdtemp(base));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void init(struct queue_layout *q, const char *sub)
{
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/%s", base, sub);
    struct str err = STR_INIT;
    struct passwd *pw = getpwuid(geteuid());
    struct group *gr = getgrgid(getegid());
    assert_int_equal(queue_layout_init(q, dir, pw->pw_name, gr->gr_name, &err), 0);
    str_release(&err);
}

static mode_t mode_of(const struct queue_layout *q, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", q->queue_dir, name);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_uid, geteuid());
    return st.st_mode & 07777;
}

static void collect(const char *text, void *ctx)
{
    argv_add(ctx, text);
}

static void test_modes(void **state)
{
    (void)state;
    struct queue_layout q;
    struct str err = STR_INIT;
    init(&q, "spool");
    mode_t old = umask(077);
    assert_int_equal(queue_layout_create(&q, &err), 0);
    umask(old);
    assert_int_equal(mode_of(&q, "maildrop"), 01730);
    assert_int_equal(mode_of(&q, "public"), 0710);
    assert_int_equal(mode_of(&q, "private"), 0700);
    assert_int_equal(mode_of(&q, "pid"), 0755);
    static const char *const plain[] = {"incoming", "active", "deferred", "hold",  "corrupt",
                                        "bounce",   "defer",  "trace",    "flush", "saved"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        assert_int_equal(mode_of(&q, plain[i]), 0700);
    assert_int_equal(queue_layout_ndirs, 14);
    /* A fresh layout gives no warnings. */
    struct argv *w = argv_new();
    queue_layout_check(&q, collect, w);
    assert_int_equal(w->n, 0);
    argv_free(w);
    queue_layout_release(&q);
    str_release(&err);
}

static void test_idempotent_and_keeps_existing(void **state)
{
    (void)state;
    struct queue_layout q;
    struct str err = STR_INIT;
    init(&q, "idem");
    assert_int_equal(queue_layout_create(&q, &err), 0);
    char path[256], file[300];
    snprintf(path, sizeof(path), "%s/incoming", q.queue_dir);
    snprintf(file, sizeof(file), "%s/incoming/ABCDEF", q.queue_dir);
    FILE *f = fopen(file, "w");
    fputs("x", f);
    fclose(f);
    chmod(path, 0750);
    assert_int_equal(queue_layout_create(&q, &err), 0); /* existing ones are left alone */
    assert_int_equal(mode_of(&q, "incoming"), 0750);
    assert_int_equal(access(file, F_OK), 0);
    snprintf(path, sizeof(path), "%s/hold", q.queue_dir);
    rmdir(path);
    assert_int_equal(queue_layout_create(&q, &err), 0); /* missing ones come back */
    assert_int_equal(mode_of(&q, "hold"), 0700);
    assert_int_equal(queue_layout_set_permissions(&q, &err), 0);
    assert_int_equal(mode_of(&q, "incoming"), 0700);
    assert_int_equal(access(file, F_OK), 0);
    queue_layout_release(&q);
    str_release(&err);
}

static void test_check_warnings(void **state)
{
    (void)state;
    struct queue_layout q;
    struct str err = STR_INIT;
    init(&q, "warn");
    assert_int_equal(queue_layout_create(&q, &err), 0);
    char path[256], want[300];
    snprintf(path, sizeof(path), "%s/incoming", q.queue_dir);
    chmod(path, 0702);
    snprintf(path, sizeof(path), "%s/deferred/A", q.queue_dir);
    assert_int_equal(mkdir(path, 0700), 0);
    chmod(path, 0770);
    struct argv *w = argv_new();
    queue_layout_check(&q, collect, w);
    assert_int_equal(w->n, 2);
    snprintf(want, sizeof(want), "group or other writable: %s/incoming", q.queue_dir);
    assert_string_equal(w->v[0], want);
    snprintf(want, sizeof(want), "group or other writable: %s/deferred/A", q.queue_dir);
    assert_string_equal(w->v[1], want);
    argv_free(w);
    /* A non-directory where a queue directory belongs is an error. */
    snprintf(path, sizeof(path), "%s/saved", q.queue_dir);
    rmdir(path);
    FILE *f = fopen(path, "w");
    fclose(f);
    assert_int_equal(queue_layout_create(&q, &err), -1);
    snprintf(want, sizeof(want), "%s: not a directory", path);
    assert_string_equal(err.data, want);
    queue_layout_release(&q);
    str_release(&err);
}

static void test_not_owned_when_root(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct queue_layout q;
    struct str err = STR_INIT;
    assert_int_equal(queue_layout_init(&q, "/nonexistent", "no-such-user-x", "root", &err), -1);
    assert_string_equal(err.data, "parameter mail_owner: unknown user name value: no-such-user-x");
    init(&q, "owned");
    assert_int_equal(queue_layout_create(&q, &err), 0);
    char path[256], want[300];
    snprintf(path, sizeof(path), "%s/active", q.queue_dir);
    assert_int_equal(chown(path, 65534, 0), 0);
    struct argv *w = argv_new();
    queue_layout_check(&q, collect, w);
    assert_int_equal(w->n, 1);
    snprintf(want, sizeof(want), "not owned by root: %s", path);
    assert_string_equal(w->v[0], want);
    argv_free(w);
    queue_layout_release(&q);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_idempotent_and_keeps_existing),
        cmocka_unit_test(test_check_warnings),
        cmocka_unit_test(test_not_owned_when_root),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
