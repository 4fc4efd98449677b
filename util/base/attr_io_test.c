/* Unit tests for attribute lists over streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/attr_io.h"

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

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_recv_handshake),
        cmocka_unit_test(test_limits_and_eof),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
