/* Unit tests for attribute lists over streams and for master status lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "service/attr_io.h"
#include "service/master_status.h"

#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static void pair(struct stream **a, struct stream **b)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *a = stream_fdopen(sv[0]);
    *b = stream_fdopen(sv[1]);
    stream_set_timeout(*a, 2);
    stream_set_timeout(*b, 2);
}

static void test_send_recv_handshake(void **state)
{
    (void)state;
    struct stream *srv, *cli;
    pair(&srv, &cli);
    struct str err = STR_INIT;
    assert_int_equal(attr_send_protocol(srv, "cleanup"), 0);
    assert_int_equal(attr_expect_protocol(cli, "cleanup", &err), 0);
    struct attr_list *out = attr_list_new(), *in = attr_list_new();
    attr_add(out, "sender", "a\nb");
    attr_add(out, "empty", "");
    assert_int_equal(attr_send(cli, out), 0);
    assert_int_equal(attr_recv(srv, in, &attr_default_limits, &err), 0);
    assert_string_equal(attr_get(in, "sender"), "a\nb");
    assert_string_equal(attr_get(in, "empty"), "");
    assert_int_equal(attr_send_protocol(srv, "qmgr"), 0);
    assert_int_equal(attr_expect_protocol(cli, "cleanup", &err), -1);
    assert_string_equal(str_cstr(&err), "unexpected protocol: qmgr (expected cleanup)");
    attr_list_free(out);
    attr_list_free(in);
    stream_close(srv);
    stream_close(cli);
    str_release(&err);
}

static void test_limits_and_eof(void **state)
{
    (void)state;
    struct stream *srv, *cli;
    pair(&srv, &cli);
    struct str err = STR_INIT;
    struct attr_list *in = attr_list_new();
    struct attr_limits small = {16, 2};
    stream_puts(cli, "name=this value is far too long\n\n");
    stream_flush(cli);
    assert_int_equal(attr_recv(srv, in, &small, &err), -1);
    assert_string_equal(str_cstr(&err), "attribute line too long");
    stream_discard_input(srv);
    stream_puts(cli, "a=1\nb=2\nc=3\n\n");
    stream_flush(cli);
    assert_int_equal(attr_recv(srv, in, &small, &err), -1);
    assert_string_equal(str_cstr(&err), "too many attributes");
    stream_discard_input(srv);
    stream_puts(cli, "a=1\n");
    stream_close(cli);
    assert_int_equal(attr_recv(srv, in, &small, &err), -1);
    assert_string_equal(str_cstr(&err), "lost connection");
    attr_list_free(in);
    stream_close(srv);
    str_release(&err);
}

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
    assert_int_equal(master_status_send(p[1], 1, MASTER_STATUS_IDLE), -1);
    close(p[1]);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_recv_handshake),
        cmocka_unit_test(test_limits_and_eof),
        cmocka_unit_test(test_master_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
