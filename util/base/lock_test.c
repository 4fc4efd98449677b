/* Unit tests for lock: method parsing, fcntl contention across processes with timeouts, flock
 * contention between open files, dot-lock exclusion and stale dot-lock removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/clock.h"
#include "base/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

static char path[64];

static int setup(void **state)
{
    (void)state;
    strcpy(path, "/tmp/kestrel-lock-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char name[80];
    snprintf(name, sizeof(name), "%s.lock", path);
    unlink(name);
    return unlink(path);
}

static void test_parse(void **state)
{
    (void)state;
    struct str why = STR_INIT;
    assert_int_equal(lock_parse_methods("fcntl, dotlock", &why),
                     LOCK_METHOD_FCNTL | LOCK_METHOD_DOTLOCK);
    assert_int_equal(lock_parse_methods("flock", &why), LOCK_METHOD_FLOCK);
    assert_int_equal(lock_parse_methods("fcntl bogus", &why), -1);
    assert_string_equal(str_cstr(&why), "unknown lock method bogus: Invalid argument");
    str_release(&why);
}

static void test_fcntl_contention(void **state)
{
    (void)state;
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDWR);
        if (lock_fd(fd, LOCK_METHOD_FCNTL, LOCK_MODE_EXCLUSIVE, 0, NULL) < 0)
            _exit(1);
        (void)!write(go[1], "x", 1);
        usleep(400 * 1000); /* hold, then exit (releasing the lock) */
        _exit(0);
    }
    char c;
    assert_int_equal(read(go[0], &c, 1), 1);
    int fd = open(path, O_RDWR);
    struct str why = STR_INIT;
    assert_int_equal(lock_fd(fd, LOCK_METHOD_FCNTL, LOCK_MODE_EXCLUSIVE, 0, &why), -1);
    assert_int_equal(errno, EAGAIN);
    assert_string_equal(str_cstr(&why), "lock with fcntl: Resource temporarily unavailable");
    long t0 = now_ms();
    assert_int_equal(lock_fd(fd, LOCK_METHOD_FCNTL, LOCK_MODE_SHARED, 100, &why), -1);
    assert_true(now_ms() - t0 >= 100);
    /* Waiting long enough succeeds once the holder exits. */
    assert_int_equal(lock_fd(fd, LOCK_METHOD_FCNTL, LOCK_MODE_EXCLUSIVE, 3000, &why), 0);
    assert_int_equal(unlock_fd(fd, LOCK_METHOD_FCNTL), 0);
    int st;
    waitpid(pid, &st, 0);
    assert_int_equal(st, 0);
    close(fd);
    close(go[0]);
    close(go[1]);
    str_release(&why);
}

static void test_flock_contention(void **state)
{
    (void)state;
    int a = open(path, O_RDWR), b = open(path, O_RDWR);
    assert_int_equal(lock_fd(a, LOCK_METHOD_FLOCK, LOCK_MODE_SHARED, 0, NULL), 0);
    assert_int_equal(lock_fd(b, LOCK_METHOD_FLOCK, LOCK_MODE_SHARED, 0, NULL), 0);
    assert_int_equal(unlock_fd(b, LOCK_METHOD_FLOCK), 0);
    assert_int_equal(lock_fd(b, LOCK_METHOD_FLOCK, LOCK_MODE_EXCLUSIVE, 120, NULL), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(unlock_fd(a, LOCK_METHOD_FLOCK), 0);
    assert_int_equal(lock_fd(b, LOCK_METHOD_FLOCK, LOCK_MODE_EXCLUSIVE, 0, NULL), 0);
    assert_int_equal(lock_fd(a, LOCK_METHOD_DOTLOCK, LOCK_MODE_EXCLUSIVE, 0, NULL), -1);
    close(a);
    close(b);
}

static void test_dotlock(void **state)
{
    (void)state;
    struct str why = STR_INIT;
    char name[80];
    snprintf(name, sizeof(name), "%s.lock", path);
    assert_int_equal(dotlock_acquire(path, 0, 0, &why), 0);
    assert_int_equal(access(name, F_OK), 0);
    long t0 = now_ms();
    assert_int_equal(dotlock_acquire(path, 600, 150, &why), -1);
    assert_true(now_ms() - t0 >= 150);
    assert_int_equal(errno, EAGAIN);
    char expect[160];
    snprintf(expect, sizeof(expect), "lock file held: %s: Resource temporarily unavailable", name);
    assert_string_equal(str_cstr(&why), expect);
    /* Age the lock beyond the stale limit: it is removed and taken over. */
    struct utimbuf old = {time(NULL) - 1000, time(NULL) - 1000};
    assert_int_equal(utime(name, &old), 0);
    assert_int_equal(dotlock_acquire(path, 600, 0, &why), 0);
    struct stat st;
    assert_int_equal(stat(name, &st), 0);
    assert_true(time(NULL) - st.st_mtime < 100);
    assert_int_equal(dotlock_release(path), 0);
    assert_int_equal(access(name, F_OK), -1);
    assert_int_equal(dotlock_release(path), -1);
    /* A lock in a missing directory is an error, not a wait. */
    assert_int_equal(dotlock_acquire("/nonexistent-dir/x", 0, 1000, &why), -1);
    assert_int_equal(errno, ENOENT);
    str_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test_setup_teardown(test_fcntl_contention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flock_contention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dotlock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
