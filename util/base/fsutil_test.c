/* Unit tests for fsutil: mkdir -p, size-limited reads, atomic writes, and safe-open refusing
 * symlinks, hard links, non-regular files and foreign owners. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/kestrel-fs-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static const char *at(const char *name)
{
    static char buf[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
    return buf[i];
}

static void test_mkdir_p(void **state)
{
    (void)state;
    struct str why = STR_INIT;
    assert_int_equal(fs_mkdir_p(at("a/b/c"), 0750, &why), 0);
    struct stat st;
    assert_int_equal(stat(at("a/b/c"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0750);
    assert_int_equal(fs_mkdir_p(at("a/b/c/"), 0750, &why), 0); /* exists: fine */
    close(open(at("file"), O_CREAT | O_WRONLY, 0600));
    assert_int_equal(fs_mkdir_p(at("file/sub"), 0750, &why), -1);
    char expect[300];
    snprintf(expect, sizeof(expect), "create directory %s: Not a directory", at("file"));
    assert_string_equal(str_cstr(&why), expect);
    str_release(&why);
}

static void test_read_write(void **state)
{
    (void)state;
    struct str why = STR_INIT, out = STR_INIT;
    assert_int_equal(fs_write_atomic(at("conf"), "a\0b\n", 4, 0640, &why), 0);
    assert_int_equal(fs_write_atomic(at("conf"), "new\n", 4, 0640, &why), 0);
    assert_int_equal(fs_read_file(at("conf"), 4, &out, &why), 0);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "new\n", 4);
    struct stat st;
    assert_int_equal(stat(at("conf"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(access(at("conf.tmp"), F_OK), -1);
    str_clear(&out);
    assert_int_equal(fs_read_file(at("conf"), 3, &out, &why), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(fs_read_file(at("missing"), 3, &out, &why), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(fs_write_atomic(at("nodir/x"), "x", 1, 0600, &why), -1);
    assert_int_equal(fs_fsync_dir(dir, &why), 0);
    char *d = fs_dirname("/var/mail/bob");
    assert_string_equal(d, "/var/mail");
    free(d);
    d = fs_dirname("bob");
    assert_string_equal(d, ".");
    free(d);
    d = fs_dirname("/bob");
    assert_string_equal(d, "/");
    free(d);
    str_release(&why);
    str_release(&out);
}

static void test_safe_open_create_and_reopen(void **state)
{
    (void)state;
    struct str why = STR_INIT;
    struct stat st;
    int created = -1;
    int fd = fs_safe_open(at("mbox"), O_WRONLY | O_APPEND | O_CREAT, 0600, getuid(), getgid(), &st,
                          &created, &why);
    assert_true(fd >= 0);
    assert_int_equal(created, 1);
    assert_int_equal(write(fd, "From x\n", 7), 7);
    close(fd);
    fd = fs_safe_open(at("mbox"), O_WRONLY | O_APPEND | O_CREAT, 0600, getuid(), getgid(), &st,
                      &created, &why);
    assert_true(fd >= 0);
    assert_int_equal(created, 0);
    assert_int_equal(st.st_size, 7);
    close(fd);
    /* O_EXCL means "must be new". */
    assert_int_equal(fs_safe_open(at("mbox"), O_WRONLY | O_CREAT | O_EXCL, 0600, FS_ANY_UID,
                                  (gid_t)-1, NULL, NULL, &why),
                     -1);
    assert_int_equal(errno, EEXIST);
    /* Without O_CREAT a missing file is an error. */
    assert_int_equal(
        fs_safe_open(at("none"), O_WRONLY, 0600, FS_ANY_UID, (gid_t)-1, NULL, NULL, &why), -1);
    assert_int_equal(errno, ENOENT);
    /* O_TRUNC happens after the checks. */
    fd = fs_safe_open(at("mbox"), O_WRONLY | O_TRUNC, 0600, FS_ANY_UID, (gid_t)-1, &st, NULL, &why);
    assert_true(fd >= 0);
    struct stat now;
    fstat(fd, &now);
    assert_int_equal(now.st_size, 0);
    close(fd);
    str_release(&why);
}

static void expect_refusal(const char *path, uid_t uid, const char *reason)
{
    struct str why = STR_INIT;
    int fd =
        fs_safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600, uid, (gid_t)-1, NULL, NULL, &why);
    assert_int_equal(fd, -1);
    char expect[400];
    snprintf(expect, sizeof(expect), "open %s: %s", path, reason);
    assert_string_equal(str_cstr(&why), expect);
    str_release(&why);
}

static void test_safe_open_refusals(void **state)
{
    (void)state;
    close(open(at("target"), O_CREAT | O_WRONLY, 0600));
    assert_int_equal(symlink(at("target"), at("link")), 0);
    expect_refusal(at("link"), FS_ANY_UID, "is a symbolic link");
    /* A dangling symlink is not followed to create its target either. */
    assert_int_equal(symlink(at("nowhere"), at("dangling")), 0);
    expect_refusal(at("dangling"), FS_ANY_UID, "is a symbolic link");
    assert_int_equal(access(at("nowhere"), F_OK), -1);
    assert_int_equal(link(at("target"), at("hard")), 0);
    expect_refusal(at("hard"), FS_ANY_UID, "has 2 hard links");
    expect_refusal(at("target"), FS_ANY_UID, "has 2 hard links");
    unlink(at("hard"));
    assert_int_equal(mkfifo(at("fifo"), 0600), 0);
    expect_refusal(at("fifo"), FS_ANY_UID, "not a regular file");
    expect_refusal(dir, FS_ANY_UID, "not a regular file");
    char reason[64];
    snprintf(reason, sizeof(reason), "owned by uid %lu, not 12345", (unsigned long)getuid());
    expect_refusal(at("target"), 12345, reason);
    struct str why = STR_INIT;
    int fd = fs_safe_open(at("target"), O_RDONLY, 0, getuid(), (gid_t)-1, NULL, NULL, &why);
    assert_true(fd >= 0);
    close(fd);
    str_release(&why);
}

static void test_safe_open_chown_when_root(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct str why = STR_INIT;
    struct stat st;
    int fd = fs_safe_open(at("owned"), O_WRONLY | O_CREAT, 0600, 4242, 4343, &st, NULL, &why);
    assert_true(fd >= 0);
    assert_int_equal(st.st_uid, 4242);
    assert_int_equal(st.st_gid, 4343);
    close(fd);
    fd = fs_safe_open(at("owned"), O_WRONLY | O_CREAT, 0600, 4242, 4343, NULL, NULL, &why);
    assert_true(fd >= 0);
    close(fd);
    str_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_safe_open_create_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_safe_open_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_safe_open_chown_when_root, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
