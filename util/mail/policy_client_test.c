/* Unit tests for policy_client: request encoding and sanitising, reply parsing (limits,
 * garbage, missing action), and the connection logic against a scripted server in a child
 * process (reuse, request_limit, max_idle, a server that closes, is down or stalls). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/str.h"
#include "mail/policy_client.h"

/* ---- encoding ---- */

static void test_request_encoding(void **state)
{
    (void)state;
    struct str r = STR_INIT;
    policy_request_add(&r, "request", "smtpd_access_policy");
    policy_request_add(&r, "helo_name",
                       "a\r\nb\tc\x7f"
                       "d\x01");
    policy_request_add(&r, "sender", NULL);
    policy_request_add(&r, "recipient", "\xc3\xa9t\xc3\xa9@example.com");
    policy_request_addl(&r, "size", 12345);
    policy_request_end(&r);
    assert_string_equal(r.data, "request=smtpd_access_policy\n"
                                "helo_name=a??b?c?d?\n"
                                "sender=\n"
                                "recipient=\xc3\xa9t\xc3\xa9@example.com\n"
                                "size=12345\n"
                                "\n");
    str_release(&r);
}

/* ---- parsing ---- */

static int parse(const char *text, struct str *action, struct str *err)
{
    str_clear(action);
    str_clear(err);
    return policy_reply_parse(text, strlen(text), action, err);
}

static void test_reply_parse(void **state)
{
    (void)state;
    struct str a = STR_INIT, e = STR_INIT;
    assert_int_equal(parse("action=DUNNO\n\n", &a, &e), POLICY_REPLY_OK);
    assert_string_equal(a.data, "DUNNO");
    assert_int_equal(parse("x=1\naction=REJECT no = way\n\n", &a, &e), POLICY_REPLY_OK);
    assert_string_equal(a.data, "REJECT no = way");
    assert_int_equal(parse("action=OK\naction=PREPEND X-A: b\n\n", &a, &e), POLICY_REPLY_OK);
    assert_string_equal(a.data, "PREPEND X-A: b");
    assert_int_equal(parse("action=\n\n", &a, &e), POLICY_REPLY_OK);
    assert_string_equal(a.data, "");
    assert_int_equal(parse("foo=bar\n\n", &a, &e), POLICY_REPLY_NO_ACTION);
    assert_int_equal(parse("\n", &a, &e), POLICY_REPLY_NO_ACTION);
    assert_int_equal(parse("actionDUNNO\n\n", &a, &e), POLICY_REPLY_BAD);
    assert_string_equal(e.data, "malformed reply line \"actionDUNNO\"");
    assert_int_equal(parse("=DUNNO\n\n", &a, &e), POLICY_REPLY_BAD);
    assert_int_equal(parse("action=DUNNO\n", &a, &e), POLICY_REPLY_BAD);
    assert_string_equal(e.data, "reply does not end in an empty line");
    assert_int_equal(parse("action=DUNNO", &a, &e), POLICY_REPLY_BAD);
    assert_int_equal(parse("action=DUNNO\n\nx=1\n\n", &a, &e), POLICY_REPLY_BAD);
    assert_string_equal(e.data, "data after the end of the reply");
    assert_int_equal(policy_reply_parse("action=OK\0x\n\n", 13, &a, &e), POLICY_REPLY_BAD);
    assert_string_equal(e.data, "NUL byte in reply");
    str_release(&a);
    str_release(&e);
}

static void test_reply_limits(void **state)
{
    (void)state;
    struct str t = STR_INIT, a = STR_INIT, e = STR_INIT;
    /* A line of exactly POLICY_LINE_LIMIT bytes passes, one more fails. */
    str_set(&t, "action=");
    while (t.len < POLICY_LINE_LIMIT)
        str_appendc(&t, 'x');
    str_append(&t, "\n\n");
    assert_int_equal(policy_reply_parse(t.data, t.len, &a, &e), POLICY_REPLY_OK);
    assert_int_equal(a.len, POLICY_LINE_LIMIT - 7);
    str_set(&t, "action=");
    while (t.len < POLICY_LINE_LIMIT + 1)
        str_appendc(&t, 'x');
    str_append(&t, "\n\n");
    assert_int_equal(policy_reply_parse(t.data, t.len, &a, &e), POLICY_REPLY_BAD);
    assert_string_equal(e.data, "reply line too long");
    /* POLICY_ATTR_LIMIT attributes pass, one more fails. */
    str_clear(&t);
    for (int i = 0; i < POLICY_ATTR_LIMIT - 1; i++)
        str_appendf(&t, "a%d=v\n", i);
    str_append(&t, "action=OK\n\n");
    assert_int_equal(policy_reply_parse(t.data, t.len, &a, &e), POLICY_REPLY_OK);
    str_set(&t, "extra=1\n");
    for (int i = 0; i < POLICY_ATTR_LIMIT - 1; i++)
        str_appendf(&t, "a%d=v\n", i);
    str_append(&t, "action=OK\n\n");
    assert_int_equal(policy_reply_parse(t.data, t.len, &a, &e), POLICY_REPLY_BAD);
    assert_string_equal(e.data, "too many attributes in reply");
    str_release(&t);
    str_release(&a);
    str_release(&e);
}

/* ---- connections: a scripted server ---- */

static char sock_path[64];
static pid_t server_pid;

/* Serves connections one at a time. The reply depends on the request's "recipient":
 * "stall" sleeps, "close" answers then closes, "none" answers without action, "long" sends an
 * endless line; anything else answers "action=DUNNO conn=N req=M". */
static void serve(int ls)
{
    for (long conn = 1;; conn++) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            _exit(0);
        FILE *f = fdopen(fd, "r+");
        char line[1024], rcpt[64] = "";
        long req = 0;
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "recipient=", 10) == 0)
                snprintf(rcpt, sizeof rcpt, "%.*s", (int)strcspn(line + 10, "\n"), line + 10);
            if (line[0] != '\n')
                continue;
            req++;
            if (strcmp(rcpt, "stall") == 0)
                sleep(3);
            if (strcmp(rcpt, "none") == 0)
                fprintf(f, "foo=bar\n\n");
            else if (strcmp(rcpt, "long") == 0)
                for (int i = 0; i < 10000; i++)
                    fputs("xxxxxxxxxx", f);
            else
                fprintf(f, "action=DUNNO conn=%ld req=%ld\n\n", conn, req);
            fflush(f);
            if (strcmp(rcpt, "close") == 0)
                break;
        }
        fclose(f);
    }
}

static int server_start(void **state)
{
    (void)state;
    snprintf(sock_path, sizeof sock_path, "/tmp/policy_client_test.%d", (int)getpid());
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    unlink(sock_path);
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(ls, 5), 0);
    server_pid = fork();
    assert_true(server_pid >= 0);
    if (server_pid == 0)
        serve(ls);
    close(ls);
    return 0;
}

static int server_stop(void **state)
{
    (void)state;
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    unlink(sock_path);
    return 0;
}

static struct policy_client *client(int request_limit, int max_idle, int try_limit)
{
    struct policy_client_opts o = {.timeout = 1,
                                   .max_idle = max_idle,
                                   .max_ttl = 1000,
                                   .try_limit = try_limit,
                                   .retry_delay = 0,
                                   .request_limit = request_limit};
    struct str ep = STR_INIT, err = STR_INIT;
    str_setf(&ep, "unix:%s", sock_path);
    struct policy_client *pc = policy_client_new(ep.data, &o, &err);
    assert_non_null(pc);
    str_release(&ep);
    str_release(&err);
    return pc;
}

static const char *ask(struct policy_client *pc, const char *rcpt, struct str *action)
{
    struct str req = STR_INIT;
    policy_request_add(&req, "request", "smtpd_access_policy");
    policy_request_add(&req, "recipient", rcpt);
    policy_request_end(&req);
    str_clear(action);
    int r = policy_client_query(pc, &req, action);
    str_release(&req);
    return r == POLICY_REPLY_OK ? action->data : r == POLICY_REPLY_NO_ACTION ? "(none)" : "(bad)";
}

static void test_reuse_and_limits(void **state)
{
    (void)state;
    struct str a = STR_INIT;
    struct policy_client *pc = client(0, 100, 1);
    assert_string_equal(ask(pc, "x", &a), "DUNNO conn=1 req=1");
    assert_string_equal(ask(pc, "x", &a), "DUNNO conn=1 req=2");
    assert_string_equal(ask(pc, "x", &a), "DUNNO conn=1 req=3");
    assert_int_equal(policy_client_connections(pc), 1);
    /* The server closes after answering: the next request reconnects at once. */
    assert_string_equal(ask(pc, "close", &a), "DUNNO conn=1 req=4");
    usleep(100000);
    assert_string_equal(ask(pc, "x", &a), "DUNNO conn=2 req=1");
    /* No action: reported, and the connection is not kept. */
    assert_string_equal(ask(pc, "none", &a), "(none)");
    assert_string_equal(ask(pc, "x", &a), "DUNNO conn=3 req=1");
    /* An endless line is a protocol error. */
    assert_string_equal(ask(pc, "long", &a), "(bad)");
    policy_client_free(pc);
    /* request_limit = 2. */
    pc = client(2, 100, 1);
    assert_string_equal(ask(pc, "x", &a), "DUNNO conn=4 req=1");
    assert_string_equal(ask(pc, "x", &a), "DUNNO conn=4 req=2");
    assert_string_equal(ask(pc, "x", &a), "DUNNO conn=5 req=1");
    assert_int_equal(policy_client_connections(pc), 2);
    policy_client_free(pc);
    /* max_idle = 1s. */
    pc = client(0, 1, 1);
    assert_string_equal(ask(pc, "x", &a), "DUNNO conn=6 req=1");
    sleep(1);
    assert_string_equal(ask(pc, "x", &a), "DUNNO conn=7 req=1");
    policy_client_free(pc);
    /* A stalled server: the timeout (1s) and a second try on a new connection. */
    pc = client(0, 100, 2);
    assert_string_equal(ask(pc, "stall", &a), "(bad)");
    assert_int_equal(policy_client_connections(pc), 2);
    policy_client_free(pc);
    str_release(&a);
}

static void test_server_down(void **state)
{
    (void)state;
    struct str a = STR_INIT, err = STR_INIT;
    struct policy_client_opts o = {.timeout = 1, .try_limit = 3};
    struct policy_client *pc = policy_client_new("unix:/nonexistent/policy", &o, &err);
    assert_string_equal(ask(pc, "x", &a), "(bad)");
    assert_int_equal(policy_client_connections(pc), 0);
    policy_client_free(pc);
    pc = policy_client_new("inet:127.0.0.1:1", &o, &err);
    assert_string_equal(ask(pc, "x", &a), "(bad)");
    policy_client_free(pc);
    assert_null(policy_client_new("inet:", &o, &err));
    str_release(&a);
    str_release(&err);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_encoding),
        cmocka_unit_test(test_reply_parse),
        cmocka_unit_test(test_reply_limits),
        cmocka_unit_test_setup_teardown(test_reuse_and_limits, server_start, server_stop),
        cmocka_unit_test(test_server_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
