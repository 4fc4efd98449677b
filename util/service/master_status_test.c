/* Unit tests for master status lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "service/master_status.h"

#include <signal.h>
#include <unistd.h>

static void test_master_status(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(master_status_send(p[1], 1234, MASTER_STATUS_BUSY), 0);
    char buf[64];
    ssize_t n = read(p[0], buf, sizeof(buf));
    assert_int_equal(n, 10);
    pid_t pid;
    int st;
    assert_int_equal(master_status_parse(buf, (size_t)n - 1, &pid, &st), 0);
    assert_int_equal(pid, 1234);
    assert_int_equal(st, MASTER_STATUS_BUSY);
    assert_int_equal(master_status_parse("12 idle", 7, &pid, &st), 0);
    assert_int_equal(st, MASTER_STATUS_IDLE);
    assert_int_equal(master_status_parse("12 lazy", 7, &pid, &st), -1);
    assert_int_equal(master_status_parse("0 idle", 6, &pid, &st), -1);
    assert_int_equal(master_status_parse("x idle", 6, &pid, &st), -1);
    assert_int_equal(master_status_parse("99999999999 idle", 16, &pid, &st), -1);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(master_status_send(p[1], 1, MASTER_STATUS_IDLE), -1);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_master_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
