/* Unit tests for pipe: flags= letters, attribute parsing, argv macro expansion (every macro,
 * per-recipient fan-out, h/q/u) and the exit status mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pipe.h"

#include "base/exec.h"

#include <stdlib.h>
#include <string.h>

static void test_flags(void **state)
{
    (void)state;
    struct str err = STR_INIT;
    assert_int_equal(pipe_parse_flags("BDFORXhqu.>", &err),
                     PIPE_FLAG_B | PIPE_FLAG_D | PIPE_FLAG_F | PIPE_FLAG_O | PIPE_FLAG_R |
                         PIPE_FLAG_X | PIPE_FLAG_h | PIPE_FLAG_q | PIPE_FLAG_u | PIPE_FLAG_DOT |
                         PIPE_FLAG_QUOTE);
    assert_int_equal(pipe_parse_flags("Rz", &err), -1);
    str_clear(&err);
    pipe_unescape("a\\r\\n\\101\\\\", &err);
    assert_string_equal(err.data, "a\r\nA\\");
    str_release(&err);
}

static void test_args(void **state)
{
    (void)state;
    struct pipe_attr a;
    struct str err = STR_INIT;
    char *ok[] = {"flags=Rq",    "size=100",  "eol=\\r\\n", "null_sender=", "directory=/tmp",
                  "argv=/bin/x", "${sender}", "--",         "${recipient}"};
    assert_int_equal(pipe_args_parse(9, ok, 0, &a, &err), 0);
    assert_int_equal(a.flags, PIPE_FLAG_R | PIPE_FLAG_q);
    assert_int_equal(a.size_limit, 100);
    assert_string_equal(a.eol, "\r\n");
    assert_string_equal(a.null_sender, "");
    assert_string_equal(a.directory, "/tmp");
    assert_int_equal(a.argv->n, 4);
    assert_string_equal(a.argv->v[0], "/bin/x");
    pipe_attr_release(&a);
    char *noargv[] = {"flags=R"};
    assert_int_equal(pipe_args_parse(1, noargv, 0, &a, &err), -1);
    pipe_attr_release(&a);
    char *nouser[] = {"argv=/bin/x"};
    assert_int_equal(pipe_args_parse(1, nouser, 1, &a, &err), -1);
    assert_string_equal(err.data, "missing user= command-line attribute");
    pipe_attr_release(&a);
    char *root[] = {"user=root", "argv=/bin/x"};
    assert_int_equal(pipe_args_parse(2, root, 1, &a, &err), -1);
    pipe_attr_release(&a);
    char *bogus[] = {"colour=red", "argv=/bin/x"};
    assert_int_equal(pipe_args_parse(2, bogus, 0, &a, &err), -1);
    pipe_attr_release(&a);
    str_release(&err);
}

static char *expand(int flags, const char *const *args, const char *sender)
{
    struct deliver_rcpt rcpts[] = {
        {.address = "Joe+Ext@Example.COM", .orig = "Alias@Example.COM"},
        {.address = "a b@x.org", .orig = ""},
    };
    struct deliver_request rq = {.sender = (char *)sender,
                                 .nexthop = "MX.Example.COM",
                                 .queue_id = "0C261A1F0F",
                                 .client_address = "192.0.2.1",
                                 .client_name = "client.example",
                                 .client_helo = "helo.example",
                                 .client_protocol = "ESMTP",
                                 .sasl_method = "PLAIN",
                                 .sasl_username = "joe",
                                 .rcpts = rcpts,
                                 .nrcpt = 2};
    struct pipe_attr a = {.flags = flags, .argv = argv_new(), .null_sender = "MAILER-DAEMON"};
    for (size_t i = 0; args[i]; i++)
        argv_add(a.argv, args[i]);
    struct pipe_expand_ctx c = {.rq = &rq, .attr = &a, .delimiters = "+", .size = 1234};
    struct str err = STR_INIT, out = STR_INIT;
    struct argv *v = pipe_expand(&c, &err);
    if (v == NULL) {
        str_setf(&out, "ERROR %s", err.data);
    } else {
        for (size_t i = 0; i < v->n; i++)
            str_appendf(&out, "[%s]", v->v[i]);
        argv_free(v);
    }
    argv_free(a.argv);
    str_release(&err);
    char *r = strdup(out.data);
    str_release(&out);
    return r;
}

static void check(int flags, const char *const *args, const char *sender, const char *want)
{
    char *got = expand(flags, args, sender);
    assert_string_equal(got, want);
    free(got);
}

static void test_expand(void **state)
{
    (void)state;
    const char *msg[] = {"${sender}",
                         "$nexthop",
                         "$(size)",
                         "${client_address}",
                         "${client_hostname}",
                         "${client_helo}",
                         "${client_protocol}",
                         "${queue_id}",
                         "${sasl_method}",
                         "${sasl_username}",
                         "$$x",
                         NULL};
    check(0, msg, "s@x",
          "[s@x][MX.Example.COM][1234][192.0.2.1][client.example][helo.example]"
          "[ESMTP][0C261A1F0F][PLAIN][joe][$x]");
    const char *null[] = {"-f", "${sender}", NULL};
    check(0, null, "", "[-f][MAILER-DAEMON]");
    const char *rc[] = {
        "${recipient}",          "u=${user}", "${extension}", "${mailbox}", "${domain}",
        "${original_recipient}", NULL};
    check(0, rc, "s@x",
          "[Joe+Ext@Example.COM][a b@x.org][u=Joe][u=a b][Ext][][Joe+Ext][a b][Example.COM]"
          "[x.org][Alias@Example.COM][a b@x.org]");
    check(PIPE_FLAG_h | PIPE_FLAG_u, rc, "s@x",
          "[joe+ext@example.com][a b@x.org][u=joe][u=a b][ext][][joe+ext][a b][example.com]"
          "[x.org][alias@example.com][a b@x.org]");
    const char *q[] = {"${recipient}", "${nexthop}", NULL};
    check(PIPE_FLAG_q | PIPE_FLAG_h, q, "s@x",
          "[Joe+Ext@example.com][\"a b\"@x.org][mx.example.com]");
    const char *bad[] = {"${nosuch}", NULL};
    check(0, bad, "s@x", "ERROR unknown macro name: \"nosuch\"");
    const char *unterminated[] = {"${sender", NULL};
    check(0, unterminated, "s@x", "ERROR bad macro syntax in command argument: ${sender");
}

static void test_exit_mapping(void **state)
{
    (void)state;
    struct exec_result r = {.how = EXEC_EXITED, .exit_status = 0};
    struct str reason = STR_INIT;
    char dsn[16];
    assert_int_equal(pipe_map_result(&r, "/bin/x", "t", dsn, sizeof(dsn), &reason), DELIVER_SENT);
    assert_string_equal(reason.data, "delivered via t service");
    r.exit_status = 67;
    str_set(&r.output, "no\nsuch\n");
    assert_int_equal(pipe_map_result(&r, "/bin/x", "t", dsn, sizeof(dsn), &reason),
                     DELIVER_BOUNCED);
    assert_string_equal(dsn, "5.1.1");
    assert_string_equal(reason.data, "user unknown. Command output: no such ");
    r.exit_status = 75;
    str_clear(&r.output);
    assert_int_equal(pipe_map_result(&r, "/bin/x", "t", dsn, sizeof(dsn), &reason),
                     DELIVER_DEFERRED);
    assert_string_equal(reason.data, "temporary failure");
    r.exit_status = 2;
    str_set(&r.output, "5.7.1 go away");
    assert_int_equal(pipe_map_result(&r, "/bin/x", "t", dsn, sizeof(dsn), &reason),
                     DELIVER_BOUNCED);
    assert_string_equal(dsn, "5.7.1");
    assert_string_equal(reason.data,
                        "Command died with status 2: \"/bin/x\". Command output: go away");
    r.how = EXEC_SIGNALED;
    r.signo = 9;
    str_clear(&r.output);
    assert_int_equal(pipe_map_result(&r, "/bin/x", "t", dsn, sizeof(dsn), &reason),
                     DELIVER_DEFERRED);
    assert_string_equal(reason.data, "Command died with signal 9: \"/bin/x\"");
    r.how = EXEC_TIMEDOUT;
    assert_int_equal(pipe_map_result(&r, "/bin/x", "t", dsn, sizeof(dsn), &reason),
                     DELIVER_DEFERRED);
    assert_string_equal(reason.data, "Command time limit exceeded: \"/bin/x\"");
    str_release(&r.output);
    str_release(&reason);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_exit_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
