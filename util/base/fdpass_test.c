/* Unit tests for fdpass: descriptors arrive in their slots and work, the receiver reads no byte
 * past the hand-over, empty hand-overs, malformed maps, mismatched counts and timeouts fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/fdpass.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void test_slots_and_trailing_data(void **state)
{
    (void)state;
    int sv[2], p1[2], p2[2], out[FDPASS_SLOTS];
    struct str why = STR_INIT;
    pair(sv);
    assert_int_equal(pipe(p1), 0);
    assert_int_equal(pipe(p2), 0);
    int fds[3] = {p1[1], -1, p2[1]};
    assert_int_equal(fdpass_send(sv[0], fds, 3, 1000, &why), 0);
    assert_int_equal(write(sv[0], "after", 5), 5);
    assert_int_equal(fdpass_recv(sv[1], out, 1000, &why), 2);
    assert_true(out[0] >= 0);
    assert_int_equal(out[1], -1);
    assert_true(out[2] >= 0);
    for (int i = 3; i < FDPASS_SLOTS; i++)
        assert_int_equal(out[i], -1);
    assert_int_equal(write(out[2], "x", 1), 1); /* the received copy is the pipe */
    char c;
    assert_int_equal(read(p2[0], &c, 1), 1);
    assert_int_equal(c, 'x');
    char buf[8] = {0};
    assert_int_equal(read(sv[1], buf, sizeof(buf)), 5); /* nothing past the map was consumed */
    assert_string_equal(buf, "after");
    for (int i = 0; i < 2; i++)
        close(p1[i]), close(p2[i]), close(sv[i]);
    close(out[0]);
    close(out[2]);
    str_release(&why);
}

static void test_empty(void **state)
{
    (void)state;
    int sv[2], out[FDPASS_SLOTS];
    struct str why = STR_INIT;
    pair(sv);
    assert_int_equal(fdpass_send(sv[0], NULL, 0, 1000, &why), 0);
    assert_int_equal(fdpass_recv(sv[1], out, 1000, &why), 0);
    assert_int_equal(out[0], -1);
    close(sv[0]);
    close(sv[1]);
    str_release(&why);
}

static void test_malformed_and_mismatch(void **state)
{
    (void)state;
    int sv[2], out[FDPASS_SLOTS];
    char map[FDPASS_SLOTS];
    struct str why = STR_INIT;
    pair(sv);
    memset(map, '0', sizeof(map));
    map[3] = 'x';
    assert_int_equal(write(sv[0], map, sizeof(map)), (ssize_t)sizeof(map));
    assert_int_equal(fdpass_recv(sv[1], out, 1000, &why), -1);
    assert_string_equal(why.data, "malformed descriptor map");
    memset(map, '0', sizeof(map));
    map[0] = '1'; /* claims a descriptor that does not come */
    assert_int_equal(write(sv[0], map, sizeof(map)), (ssize_t)sizeof(map));
    assert_int_equal(fdpass_recv(sv[1], out, 1000, &why), -1);
    assert_string_equal(why.data, "descriptor count does not match the map");
    close(sv[0]);
    assert_int_equal(fdpass_recv(sv[1], out, 1000, &why), -1);
    assert_string_equal(why.data, "lost connection");
    close(sv[1]);
    str_release(&why);
}

static void test_timeout_and_too_many(void **state)
{
    (void)state;
    int sv[2], out[FDPASS_SLOTS], many[FDPASS_SLOTS + 1];
    struct str why = STR_INIT;
    pair(sv);
    assert_int_equal(fdpass_recv(sv[1], out, 50, &why), -1);
    assert_string_equal(why.data, "timeout");
    for (int i = 0; i <= FDPASS_SLOTS; i++)
        many[i] = -1;
    assert_int_equal(fdpass_send(sv[0], many, FDPASS_SLOTS + 1, 1000, &why), -1);
    close(sv[0]);
    close(sv[1]);
    str_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots_and_trailing_data),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_malformed_and_mismatch),
        cmocka_unit_test(test_timeout_and_too_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
