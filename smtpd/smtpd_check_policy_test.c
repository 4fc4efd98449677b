/* Unit tests for check_policy_service: the exact request text with every attribute and
 * sanitised values, the instance attribute per message, and the server's actions applied as
 * access-map actions (against a scripted server in a child process), the default action, and
 * the { endpoint, name=value } form. */
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
#include "mail/config.h"
#include "smtpd_check_int.h"
#include "smtpd_check_fixture.h"

static char sock_path[64], log_path[64];
static pid_t server_pid;

static void setup_with(const char *extra)
{
    fixture_setup("myhostname = mail.example.com\nmydestination = example.com\n"
                  "inet_interfaces = 127.0.0.1\nalias_maps =\nlocal_recipient_maps =\n"
                  "compatibility_level = 3.6\nmail_version = 0.1.0\n"
                  "smtpd_policy_service_retry_delay = 0\n",
                  extra, "192.0.2.7", "client.example.org");
}

/* ---- the request ---- */

static void test_request_every_attribute(void **state)
{
    (void)state;
    setup_with("smtpd_recipient_restrictions = reject_unauth_destination\n");
    ctx.client_name = "client.example.org";
    ctx.reverse_client_name = "rev\r\n.example.org";
    ctx.client_port = "40000";
    ctx.server_addr = "192.0.2.1";
    ctx.server_port = "25";
    ctx.sender = "s@example.org\nrecipient=evil@x";
    ctx.recipient = "r@example.com";
    ctx.recipient_count = 3;
    ctx.queue_id = "4ABCDEF";
    ctx.message_size = 12345;
    ctx.etrn_domain = "";
    ctx.stress = "yes";
    ctx.sasl_method = "PLAIN";
    ctx.sasl_username = "u\x01ser";
    ctx.sasl_sender = "";
    ctx.tls_active = 1;
    ctx.ccert_subject = "cn";
    ctx.ccert_issuer = "ca";
    ctx.ccert_fingerprint = "AB:CD";
    ctx.ccert_pubkey_fingerprint = "EF:01";
    ctx.tls_protocol = "TLSv1.3";
    ctx.tls_cipher = "TLS_AES_256_GCM_SHA384";
    ctx.tls_keysize = 256;
    str_set(&ctx.priv->instance, "1.2.3.4");
    struct sc_eval ev = {.c = checker, .ctx = &ctx, .reply = &reply, .cmd = "END-OF-MESSAGE"};
    struct str req = STR_INIT;
    sc_policy_request(&ev, "submission", &req);
    assert_string_equal(req.data, "request=smtpd_access_policy\n"
                                  "protocol_state=END-OF-MESSAGE\n"
                                  "protocol_name=ESMTP\n"
                                  "client_address=192.0.2.7\n"
                                  "client_name=client.example.org\n"
                                  "client_port=40000\n"
                                  "reverse_client_name=rev??.example.org\n"
                                  "server_address=192.0.2.1\n"
                                  "server_port=25\n"
                                  "helo_name=client.example.org\n"
                                  "sender=s@example.org?recipient=evil@x\n"
                                  "recipient=r@example.com\n"
                                  "recipient_count=3\n"
                                  "queue_id=4ABCDEF\n"
                                  "instance=1.2.3.4\n"
                                  "size=12345\n"
                                  "etrn_domain=\n"
                                  "stress=yes\n"
                                  "sasl_method=PLAIN\n"
                                  "sasl_username=u?ser\n"
                                  "sasl_sender=\n"
                                  "ccert_subject=cn\n"
                                  "ccert_issuer=ca\n"
                                  "ccert_fingerprint=AB:CD\n"
                                  "ccert_pubkey_fingerprint=EF:01\n"
                                  "encryption_protocol=TLSv1.3\n"
                                  "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
                                  "encryption_keysize=256\n"
                                  "policy_context=submission\n"
                                  "compatibility_level=3.6\n"
                                  "mail_version=0.1.0\n"
                                  "\n");
    str_release(&req);
}

static const char *instance_of(const struct str *req, struct str *out)
{
    const char *p = strstr(req->data, "\ninstance=");
    assert_non_null(p);
    str_clear(out);
    str_appendn(out, p + 10, strcspn(p + 10, "\n"));
    return out->data;
}

static void test_request_defaults_and_instance(void **state)
{
    (void)state;
    setup_with("smtpd_recipient_restrictions = reject_unauth_destination\n");
    ctx.recipient_count = 2; /* sent as 0 before DATA */
    struct sc_eval ev = {.c = checker, .ctx = &ctx, .reply = &reply, .cmd = "RCPT"};
    struct str req = STR_INIT, a = STR_INIT, b = STR_INIT;
    sc_policy_request(&ev, "", &req);
    static const char head[] = "request=smtpd_access_policy\n"
                               "protocol_state=RCPT\n"
                               "protocol_name=ESMTP\n"
                               "client_address=192.0.2.7\n"
                               "client_name=unknown\n"
                               "client_port=\n"
                               "reverse_client_name=unknown\n"
                               "server_address=\n"
                               "server_port=\n"
                               "helo_name=client.example.org\n"
                               "sender=\n"
                               "recipient=\n"
                               "recipient_count=0\n"
                               "queue_id=\n"
                               "instance=";
    static const char tail[] = "\nsize=0\n"
                               "etrn_domain=\n"
                               "stress=\n"
                               "sasl_method=\n"
                               "sasl_username=\n"
                               "sasl_sender=\n"
                               "ccert_subject=\n"
                               "ccert_issuer=\n"
                               "ccert_fingerprint=\n"
                               "ccert_pubkey_fingerprint=\n"
                               "encryption_protocol=\n"
                               "encryption_cipher=\n"
                               "encryption_keysize=0\n"
                               "policy_context=\n"
                               "compatibility_level=3.6\n"
                               "mail_version=0.1.0\n"
                               "\n";
    assert_int_equal(strncmp(req.data, head, strlen(head)), 0);
    instance_of(&req, &a);
    assert_true(a.len >= 7);
    assert_string_equal(req.data + strlen(head) + a.len, tail);
    /* The same instance for every request of the message, a new one for the next. */
    ev.cmd = "DATA";
    sc_policy_request(&ev, "", &req);
    assert_string_equal(instance_of(&req, &b), a.data);
    assert_non_null(strstr(req.data, "\nrecipient_count=2\n"));
    smtpd_check_ctx_reset(&ctx);
    sc_policy_request(&ev, "", &req);
    assert_string_not_equal(instance_of(&req, &b), a.data);
    str_release(&req);
    str_release(&a);
    str_release(&b);
}

/* ---- a scripted policy server ---- */

/* Answers each request with the text after "policy-" in the recipient's local part mapped by
 * the table below, and appends each request to log_path. */
static const struct {
    const char *rcpt, *reply;
} script[] = {
    {"reject", "action=REJECT go away\n\n"},
    {"reject2", "action=reject\n\n"},
    {"defer", "action=DEFER try later\n\n"},
    {"code", "action=550 5.7.23 SPF says no\n\n"},
    {"dunno", "action=DUNNO\n\n"},
    {"ok", "action=OK\n\n"},
    {"prepend", "action=PREPEND Received-SPF: Pass (test)\n\n"},
    {"hold", "action=HOLD\n\n"},
    {"discard", "action=DISCARD\n\n"},
    {"filter", "action=FILTER smtp:[127.0.0.1]:10025\n\n"},
    {"redirect", "action=REDIRECT other@example.com\n\n"},
    {"warn", "action=WARN look\n\n"},
    {"restr", "action=reject_unauth_destination\n\n"},
    {"bogus", "action=FROB it\n\n"},
    {"none", "foo=bar\n\n"},
    {"garbage", "this is not a reply\n\n"},
};

static void serve(int ls)
{
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            _exit(0);
        FILE *f = fdopen(fd, "r+");
        char line[4096], rcpt[128] = "";
        while (fgets(line, sizeof line, f)) {
            FILE *log = fopen(log_path, "a");
            fputs(line, log);
            fclose(log);
            if (strncmp(line, "recipient=", 10) == 0)
                snprintf(rcpt, sizeof rcpt, "%.*s", (int)strcspn(line + 10, "@\n"), line + 10);
            if (line[0] != '\n')
                continue;
            const char *r = "action=DUNNO\n\n";
            for (size_t i = 0; i < sizeof script / sizeof script[0]; i++)
                if (strcmp(script[i].rcpt, rcpt) == 0)
                    r = script[i].reply;
            fputs(r, f);
            fflush(f);
        }
        fclose(f);
    }
}

static int server_start(void **state)
{
    (void)state;
    snprintf(sock_path, sizeof sock_path, "/tmp/sc_policy_test.%d", (int)getpid());
    snprintf(log_path, sizeof log_path, "/tmp/sc_policy_test.%d.log", (int)getpid());
    unlink(log_path);
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
    teardown(state);
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    unlink(sock_path);
    unlink(log_path);
    return 0;
}

static const char *rcpt(const char *recipient)
{
    ctx.sender = "s@example.org";
    ctx.recipient = recipient;
    if (smtpd_check_rcpt(checker, &ctx, &reply) == SMTPD_CHECK_REJECT)
        return reply.data;
    return "";
}

static void setup_policy(const char *form)
{
    struct str cf = STR_INIT;
    str_setf(&cf,
             "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks, "
             "check_policy_service %s\n",
             form);
    setup_with(cf.data);
    str_release(&cf);
}

static void test_actions(void **state)
{
    (void)state;
    struct str form = STR_INIT;
    str_setf(&form, "unix:%s", sock_path);
    setup_policy(form.data);
    assert_string_equal(rcpt("reject@example.com"),
                        "554 5.7.1 <reject@example.com>: Recipient address rejected: go away");
    assert_string_equal(rcpt("reject2@example.com"),
                        "554 5.7.1 <reject2@example.com>: Recipient address rejected: "
                        "Access denied");
    assert_string_equal(rcpt("defer@example.com"),
                        "450 4.7.1 <defer@example.com>: Recipient address rejected: try later");
    assert_string_equal(rcpt("code@example.com"),
                        "550 5.7.23 <code@example.com>: Recipient address rejected: SPF says no");
    assert_string_equal(rcpt("restr@far.example"),
                        "554 5.7.1 <restr@far.example>: Relay access denied");
    assert_string_equal(rcpt("bogus@example.com"), "451 4.3.5 Server configuration error");
    assert_string_equal(rcpt("dunno@example.com"), "");
    assert_string_equal(rcpt("ok@example.com"), "");
    assert_string_equal(rcpt("warn@example.com"), "");
    assert_string_equal(rcpt("prepend@example.com"), "");
    assert_non_null(ctx.actions.prepend);
    assert_string_equal(ctx.actions.prepend->v[0], "Received-SPF: Pass (test)");
    assert_string_equal(rcpt("hold@example.com"), "");
    assert_true(ctx.actions.hold);
    assert_string_equal(rcpt("filter@example.com"), "");
    assert_string_equal(ctx.actions.filter, "smtp:[127.0.0.1]:10025");
    assert_string_equal(rcpt("redirect@example.com"), "");
    assert_string_equal(ctx.actions.redirect, "other@example.com");
    assert_string_equal(rcpt("discard@example.com"), "");
    assert_true(ctx.actions.discard);
    /* No action, or garbage: the default action. */
    assert_string_equal(rcpt("none@example.com"),
                        "451 4.3.5 <none@example.com>: Recipient address rejected: Server "
                        "configuration problem");
    assert_string_equal(rcpt("garbage@example.com"),
                        "451 4.3.5 <garbage@example.com>: Recipient address rejected: Server "
                        "configuration problem");
    /* One connection for everything up to "none" (which closes it), then one for each of the
     * two tries of "garbage" (smtpd_policy_service_try_limit = 2). */
    assert_int_equal(sc_policy_connections(checker, form.data), 3);
    str_release(&form);
}

static void test_brace_form(void **state)
{
    (void)state;
    struct str form = STR_INIT, spec = STR_INIT;
    str_setf(&spec,
             "unix:%s, timeout=5s, default_action=DUNNO, policy_context=submission, "
             "try_limit=1",
             sock_path);
    str_setf(&form, "{ %s }", spec.data);
    setup_policy(form.data);
    assert_string_equal(rcpt("garbage@example.com"), "");
    assert_string_equal(rcpt("reject@example.com"),
                        "554 5.7.1 <reject@example.com>: Recipient address rejected: go away");
    FILE *f = fopen(log_path, "r");
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    assert_non_null(strstr(buf, "\npolicy_context=submission\n"));
    assert_int_equal(sc_policy_connections(checker, spec.data), 2);
    /* A bad option: a configuration error. */
    setup_policy("{ unix:/x, frob=1 }");
    assert_string_equal(rcpt("a@example.com"), "451 4.3.5 Server configuration error");
    str_release(&form);
    str_release(&spec);
}

static void test_server_down_default_action(void **state)
{
    (void)state;
    setup_policy("inet:127.0.0.1:1");
    assert_string_equal(rcpt("a@example.com"), "451 4.3.5 <a@example.com>: Recipient address "
                                               "rejected: Server configuration problem");
    setup_policy("{ inet:127.0.0.1:1, default_action=REJECT policy down }");
    assert_string_equal(rcpt("a@example.com"),
                        "554 5.7.1 <a@example.com>: Recipient address rejected: policy down");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_request_every_attribute, teardown),
        cmocka_unit_test_teardown(test_request_defaults_and_instance, teardown),
        cmocka_unit_test_setup_teardown(test_actions, server_start, server_stop),
        cmocka_unit_test_setup_teardown(test_brace_form, server_start, server_stop),
        cmocka_unit_test_teardown(test_server_down_default_action, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
