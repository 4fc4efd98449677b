/* Unit tests for smtpd_check: every restriction and access-map action with exact replies,
 * smtpd_delay_reject ordering, restriction classes, relay decisions for open-relay address
 * forms, recipient tables and configuration errors (inline: and cidr: tables, no DNS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/str.h"
#include "mail/config.h"
#include "smtpd_check.h"
#include "smtpd_check_fixture.h"

static const char *base_cf = "myhostname = mail.example.com\n"
                             "mydomain = example.com\n"
                             "mydestination = $myhostname, localhost, $mydomain\n"
                             "mynetworks = 127.0.0.1/32\n"
                             "inet_interfaces = 127.0.0.1\n"
                             "alias_maps =\n"
                             "local_recipient_maps = inline:{ webmaster=u, postmaster=u, haha=u, "
                             "user=u }\n";

/* Loads base_cf plus extra and compiles a checker (NULL and err on failure). */
static struct smtpd_checker *make(const char *extra, struct str *err)
{
    struct str text = STR_INIT;
    str_setf(&text, "%s%s", base_cf, extra);
    config_reset();
    assert_int_equal(config_load_text("main.cf", text.data, text.len, err), 0);
    str_release(&text);
    return smtpd_checker_new(err);
}

static void setup_with(const char *extra, const char *addr)
{
    fixture_setup(base_cf, extra, addr, "client.example.org");
}

/* The RCPT verdict for sender/recipient: "" when accepted, else the reply. */
static const char *rcpt(const char *sender, const char *recipient)
{
    ctx.sender = sender;
    ctx.recipient = recipient;
    if (smtpd_check_mail(checker, &ctx, &reply) == SMTPD_CHECK_REJECT)
        return reply.data;
    if (smtpd_check_rcpt(checker, &ctx, &reply) == SMTPD_CHECK_REJECT)
        return reply.data;
    return "";
}

/* ---- seed 000: sender and recipient access maps ---- */

static const char *seed000 =
    "smtpd_sender_restrictions = permit_mynetworks, check_sender_access inline:{ "
    "example.com=REJECT }, permit\n"
    "smtpd_recipient_restrictions = permit_mynetworks, check_recipient_access inline:{ "
    "postmaster@example.com=OK, webmaster@example.com=OK }, reject\n";

static void test_seed000_outside(void **state)
{
    (void)state;
    setup_with(seed000, "127.0.0.2");
    assert_string_equal(rcpt("test@gmail.com", "webmaster@example.com"), "");
    assert_string_equal(rcpt("test@gmail.com", "haha@example.com"),
                        "554 5.7.1 <haha@example.com>: Recipient address rejected: Access denied");
    assert_string_equal(rcpt("me@example.com", "webmaster@example.com"),
                        "554 5.7.1 <me@example.com>: Sender address rejected: Access denied");
    assert_string_equal(rcpt("me@sub.example.com", "webmaster@example.com"),
                        "554 5.7.1 <me@sub.example.com>: Sender address rejected: Access denied");
}

static void test_seed000_inside(void **state)
{
    (void)state;
    setup_with(seed000, "127.0.0.1");
    assert_string_equal(rcpt("me@example.com", "haha@example.com"), "");
    assert_string_equal(rcpt("me@example.com", "anyone@far.example"), "");
    assert_string_equal(
        rcpt("me@example.com", "nobody@example.com"),
        "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local "
        "recipient table");
}

/* ---- seed 003: check_client_access with IP and network prefix ---- */

static const char *seed003 = "smtpd_client_restrictions = check_client_access inline:{ "
                             "192.168.88.32=REJECT, 192.168.88=REJECT }\n";

static void test_client_access(void **state)
{
    (void)state;
    setup_with(seed003, "192.168.88.32");
    assert_int_equal(smtpd_check_client(checker, &ctx, &reply), SMTPD_CHECK_OK); /* delayed */
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "554 5.7.1 <unknown[192.168.88.32]>: Client host rejected: Access denied");
    ctx.client_addr = "192.168.88.7";
    ctx.client_name = "host7.example.net";
    assert_string_equal(
        rcpt("a@b.example", "user@example.com"),
        "554 5.7.1 <host7.example.net[192.168.88.7]>: Client host rejected: Access denied");
    ctx.client_addr = "192.168.89.1";
    assert_string_equal(rcpt("a@b.example", "user@example.com"), "");
}

static void test_client_access_no_delay(void **state)
{
    (void)state;
    struct str cf = STR_INIT;
    str_setf(&cf, "%ssmtpd_delay_reject = no\n", seed003);
    setup_with(cf.data, "192.168.88.1");
    str_release(&cf);
    assert_int_equal(smtpd_check_client(checker, &ctx, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.data,
                        "554 5.7.1 <unknown[192.168.88.1]>: Client host rejected: Access denied");
    /* Reported again at RCPT. */
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "554 5.7.1 <unknown[192.168.88.1]>: Client host rejected: Access denied");
}

static void test_client_access_cidr_and_names(void **state)
{
    (void)state;
    char path[] = "/tmp/smtpd_check_cidrXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *rules = "10.0.0.0/8 REJECT cidr says no\n";
    assert_int_equal(write(fd, rules, strlen(rules)), (ssize_t)strlen(rules));
    close(fd);
    struct str cf = STR_INIT;
    str_setf(&cf,
             "smtpd_client_restrictions = check_client_access cidr:%s, check_client_access "
             "inline:{ bad.example=REJECT }\n",
             path);
    setup_with(cf.data, "10.1.2.3");
    unlink(path);
    str_release(&cf);
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "554 5.7.1 <unknown[10.1.2.3]>: Client host rejected: cidr says no");
    ctx.client_addr = "172.16.0.1";
    ctx.client_name = "mx.sub.bad.example";
    assert_string_equal(
        rcpt("a@b.example", "user@example.com"),
        "554 5.7.1 <mx.sub.bad.example[172.16.0.1]>: Client host rejected: Access denied");
}

/* ---- access map actions ---- */

struct action_case {
    const char *value;
    const char *reply;
};

static void test_actions(void **state)
{
    (void)state;
    static const struct action_case cases[] = {
        {"OK", ""},
        {"DUNNO", "554 5.7.1 <x@far.example>: Relay access denied"},
        {"REJECT", "554 5.7.1 <x@far.example>: Recipient address rejected: Access denied"},
        {"REJECT go away", "554 5.7.1 <x@far.example>: Recipient address rejected: go away"},
        {"DEFER", "450 4.7.1 <x@far.example>: Recipient address rejected: Access denied"},
        {"DEFER later", "450 4.7.1 <x@far.example>: Recipient address rejected: later"},
        {"550 no such user", "550 5.7.1 <x@far.example>: Recipient address rejected: no such user"},
        {"550 5.1.1 gone", "550 5.1.1 <x@far.example>: Recipient address rejected: gone"},
        {"421 4.3.2 busy", "421 4.3.2 <x@far.example>: Recipient address rejected: busy"},
        {"450 5.1.1 mismatch",
         "450 4.7.1 <x@far.example>: Recipient address rejected: 5.1.1 mismatch"},
        {"450", "450 4.7.1 <x@far.example>: Recipient address rejected: Access denied"},
        {"600 bad", "451 4.3.5 Server configuration error"},
        {"FROBNICATE", "451 4.3.5 Server configuration error"},
        {"permit", ""},
        {"reject", "554 5.7.1 <x@far.example>: Recipient address rejected: Access denied"},
        {"permit_mynetworks, defer",
         "450 4.7.1 <x@far.example>: Recipient address rejected: Access denied"},
        {"DISCARD", ""},
        {"WARN watch this", "554 5.7.1 <x@far.example>: Relay access denied"},
        {"INFO note", "554 5.7.1 <x@far.example>: Relay access denied"},
        {"FILTER nofilter", "451 4.3.5 Server configuration error"},
        {"PREPEND no colon here", "451 4.3.5 Server configuration error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct str cf = STR_INIT;
        str_setf(&cf,
                 "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = "
                 "check_recipient_access inline:{ {x@far.example = %s} }, "
                 "reject_unauth_destination\n",
                 cases[i].value);
        setup_with(cf.data, "127.0.0.2");
        str_release(&cf);
        const char *got = rcpt("a@b.example", "x@far.example");
        if (strcmp(got, cases[i].reply) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].value, got, cases[i].reply);
    }
}

static void test_side_actions(void **state)
{
    (void)state;
    setup_with("smtpd_relay_restrictions =\n"
               "smtpd_recipient_restrictions = check_sender_access inline:{ "
               "{h@b.example = HOLD quarantine}, {f@b.example = FILTER smtp:[127.0.0.1]:10025}, "
               "{r@b.example = REDIRECT trap@example.com}, {p@b.example = PREPEND X-Tag: yes}, "
               "{c@b.example = BCC copy@example.com}, {d@b.example = DISCARD spam} }, "
               "permit_mynetworks, reject_unauth_destination\n",
               "127.0.0.2");
    assert_string_equal(rcpt("h@b.example", "user@example.com"), "");
    assert_int_equal(ctx.actions.hold, 1);
    assert_string_equal(ctx.actions.hold_reason.data, "quarantine");
    assert_string_equal(rcpt("f@b.example", "user@example.com"), "");
    assert_string_equal(ctx.actions.filter, "smtp:[127.0.0.1]:10025");
    assert_string_equal(rcpt("r@b.example", "user@example.com"), "");
    assert_string_equal(ctx.actions.redirect, "trap@example.com");
    assert_string_equal(rcpt("p@b.example", "user@example.com"), "");
    assert_string_equal(ctx.actions.prepend->v[0], "X-Tag: yes");
    assert_string_equal(rcpt("c@b.example", "user@example.com"), "");
    assert_string_equal(ctx.actions.bcc->v[0], "copy@example.com");
    /* DISCARD acts as OK: even a relay attempt is "accepted" and dropped. */
    assert_string_equal(rcpt("d@b.example", "x@far.example"), "");
    assert_int_equal(ctx.actions.discard, 1);
    smtpd_check_ctx_reset(&ctx);
    assert_int_equal(ctx.actions.discard, 0);
    assert_null(ctx.actions.filter);
}

static void test_null_sender_key(void **state)
{
    (void)state;
    setup_with("smtpd_sender_restrictions = check_sender_access inline:{ <>=REJECT }\n",
               "127.0.0.2");
    assert_string_equal(rcpt("", "user@example.com"),
                        "554 5.7.1 <>: Sender address rejected: Access denied");
    setup_with("smtpd_null_access_lookup_key = <null>\n"
               "smtpd_sender_restrictions = check_sender_access inline:{ <>=REJECT }\n",
               "127.0.0.2");
    assert_string_equal(rcpt("", "user@example.com"), "");
}

static void test_parent_domain_style(void **state)
{
    (void)state;
    const char *tbl = "smtpd_sender_restrictions = check_sender_access inline:{ "
                      "example.net=REJECT }\n";
    setup_with(tbl, "127.0.0.2");
    assert_string_equal(rcpt("a@sub.example.net", "user@example.com"),
                        "554 5.7.1 <a@sub.example.net>: Sender address rejected: Access denied");
    struct str cf = STR_INIT;
    str_setf(&cf, "%sparent_domain_matches_subdomains =\n", tbl);
    setup_with(cf.data, "127.0.0.2");
    str_release(&cf);
    assert_string_equal(rcpt("a@sub.example.net", "user@example.com"), "");
    assert_string_equal(rcpt("a@example.net", "user@example.com"),
                        "554 5.7.1 <a@example.net>: Sender address rejected: Access denied");
}

/* ---- restriction classes ---- */

static void test_restriction_classes(void **state)
{
    (void)state;
    setup_with("smtpd_restriction_classes = strict, lenient\n"
               "strict = reject_non_fqdn_sender, reject\n"
               "lenient = permit\n"
               "smtpd_recipient_restrictions = check_recipient_access inline:{ "
               "{user@example.com = strict}, {postmaster@example.com = lenient} }, "
               "reject_unauth_destination\n",
               "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "554 5.7.1 <user@example.com>: Recipient address rejected: Access denied");
    assert_string_equal(rcpt("a", "user@example.com"),
                        "504 5.5.2 <a>: Sender address rejected: need fully-qualified address");
    assert_string_equal(rcpt("a", "postmaster@example.com"), "");
}

static void test_class_loop(void **state)
{
    (void)state;
    setup_with("smtpd_restriction_classes = loop\nloop = loop\n"
               "smtpd_recipient_restrictions = loop, reject_unauth_destination\n",
               "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "451 4.3.5 Server configuration error");
}

static void test_config_errors(void **state)
{
    (void)state;
    struct str err = STR_INIT;
    struct smtpd_checker *c = make("smtpd_recipient_restrictions = permit_everyone\n", &err);
    assert_null(c);
    assert_string_equal(err.data,
                        "smtpd_recipient_restrictions: unknown restriction \"permit_everyone\"");
    c = make("smtpd_client_restrictions = check_client_access\n", &err);
    assert_null(c);
    assert_string_equal(err.data, "smtpd_client_restrictions: restriction \"check_client_access\" "
                                  "needs an argument");
    c = make("smtpd_relay_restrictions =\nsmtpd_recipient_restrictions =\n", &err);
    assert_null(c);
    str_release(&err);
}

/* ---- relay control ---- */

static const char *relay_cf = "relay_domains = relay.example\n"
                              "relay_recipient_maps =\n"
                              "smtpd_relay_restrictions = permit_mynetworks, "
                              "reject_unauth_destination\n";

static void test_open_relay_variants(void **state)
{
    (void)state;
    static const char *const denied[] = {
        "user@far.example",
        "user%far.example@example.com",
        "user@far.example@example.com",
        "far.example!user@example.com",
        "far.example!user",
        "user%far.example",
        "@example.com:user@far.example",
        "@example.com,@relay.example:user@far.example",
        "user@far.example.",
        "user@far.example..",
        "user%far.example@example.com.",
        "user@far.example@relay.example",
        "user%far.example@relay.example",
        "far.example!user@relay.example",
        "user@[192.0.2.1]",
        "user@example.com@far.example",
    };
    setup_with(relay_cf, "127.0.0.2");
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        struct str want = STR_INIT;
        str_setf(&want, "554 5.7.1 <%s>: Relay access denied", denied[i]);
        const char *got = rcpt("a@b.example", denied[i]);
        if (strcmp(got, want.data) != 0)
            fail_msg("%s: got \"%s\"", denied[i], got);
        str_release(&want);
    }
    assert_string_equal(rcpt("a@b.example", "user@relay.example"), "");
    assert_string_equal(rcpt("a@b.example", "user@sub.relay.example"), "");
    assert_string_equal(rcpt("a@b.example", "user@example.com"), "");
    assert_string_equal(rcpt("a@b.example", "user@example.com."), "");
    assert_string_equal(rcpt("a@b.example", "user@[127.0.0.1]"), "");
    assert_string_equal(rcpt("a@b.example", "user@MAIL.Example.COM"), "");
}

static void test_relay_inside(void **state)
{
    (void)state;
    setup_with(relay_cf, "127.0.0.1");
    assert_string_equal(rcpt("a@b.example", "user@far.example"), "");
    assert_string_equal(rcpt("a@b.example", "user%far.example@example.com"), "");
}

static void test_default_relay_restrictions(void **state)
{
    (void)state;
    setup_with("", "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@far.example"),
                        "454 4.7.1 <user@far.example>: Relay access denied");
    assert_string_equal(rcpt("a@b.example", "user@example.com"), "");
    setup_with("smtpd_recipient_restrictions = permit_auth_destination, reject\n", "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@example.com"), "");
    assert_string_equal(rcpt("a@b.example", "user%x@example.com"),
                        "454 4.7.1 <user%x@example.com>: Relay access denied");
}

static void test_relay_code_parameter(void **state)
{
    (void)state;
    struct str cf = STR_INIT;
    str_setf(&cf, "%srelay_domains_reject_code = 550\n", relay_cf);
    setup_with(cf.data, "127.0.0.2");
    str_release(&cf);
    assert_string_equal(rcpt("a@b.example", "user@far.example"),
                        "550 5.7.1 <user@far.example>: Relay access denied");
}

static void test_permit_sasl_and_tls(void **state)
{
    (void)state;
    setup_with("smtpd_relay_restrictions = permit_sasl_authenticated, permit_tls_clientcerts, "
               "check_ccert_access inline:{ AA:BB=OK, CC:DD=REJECT }, reject_unauth_destination\n"
               "relay_clientcerts = inline:{ 11:22=ok }\n",
               "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "u@far.example"),
                        "554 5.7.1 <u@far.example>: Relay access denied");
    ctx.sasl_username = "joe";
    ctx.sasl_method = "PLAIN";
    assert_string_equal(rcpt("a@b.example", "u@far.example"), "");
    ctx.sasl_username = NULL;
    ctx.tls_active = 1;
    ctx.ccert_fingerprint = "11:22";
    assert_string_equal(rcpt("a@b.example", "u@far.example"), "");
    ctx.ccert_fingerprint = "aa:bb";
    assert_string_equal(rcpt("a@b.example", "u@far.example"), "");
    ctx.ccert_fingerprint = "CC:DD";
    assert_string_equal(rcpt("a@b.example", "u@far.example"),
                        "554 5.7.1 <unknown[127.0.0.2]>: Client host rejected: Access denied");
}

/* ---- recipient tables ---- */

static void test_recipient_tables(void **state)
{
    (void)state;
    setup_with("virtual_alias_domains = alias.example\n"
               "virtual_alias_maps = inline:{ a@alias.example=x@example.com, "
               "fwd@example.com=user@example.com }\n"
               "virtual_mailbox_domains = box.example\n"
               "virtual_mailbox_maps = inline:{ b@box.example=box/b/ }\n"
               "relay_domains = relay.example\n"
               "relay_recipient_maps = inline:{ c@relay.example=ok }\n",
               "127.0.0.2");
    assert_string_equal(rcpt("s@b.example", "a@alias.example"), "");
    assert_string_equal(rcpt("s@b.example", "zz@alias.example"),
                        "550 5.1.1 <zz@alias.example>: Recipient address rejected: User unknown in "
                        "virtual alias table");
    assert_string_equal(rcpt("s@b.example", "b@box.example"), "");
    assert_string_equal(rcpt("s@b.example", "zz@box.example"),
                        "550 5.1.1 <zz@box.example>: Recipient address rejected: User unknown in "
                        "virtual mailbox table");
    assert_string_equal(rcpt("s@b.example", "c@relay.example"), "");
    assert_string_equal(rcpt("s@b.example", "zz@relay.example"),
                        "550 5.1.1 <zz@relay.example>: Recipient address rejected: User unknown in "
                        "relay recipient table");
    assert_string_equal(rcpt("s@b.example", "fwd@example.com"), "");
    assert_string_equal(rcpt("s@b.example", "user+ext@example.com"),
                        "550 5.1.1 "
                        "<user+ext@example.com>: Recipient address rejected: User unknown in "
                        "local recipient table");
    assert_string_equal(rcpt("s@b.example", "|/bin/sh@example.com"),
                        "550 5.1.1 <|/bin/sh@example.com>: Recipient address rejected: User "
                        "unknown in local recipient table");
}

static void test_recipient_delimiter_and_errors(void **state)
{
    (void)state;
    setup_with("recipient_delimiter = +\n", "127.0.0.2");
    assert_string_equal(rcpt("s@b.example", "user+ext@example.com"), "");
    setup_with("local_recipient_maps = fail:broken\n", "127.0.0.2");
    assert_string_equal(rcpt("s@b.example", "user@example.com"),
                        "451 4.3.0 <user@example.com>: Temporary lookup failure");
    setup_with("local_recipient_maps =\n", "127.0.0.2");
    assert_string_equal(rcpt("s@b.example", "whoever@example.com"), "");
    setup_with("smtpd_reject_unlisted_recipient = no\n", "127.0.0.2");
    assert_string_equal(rcpt("s@b.example", "whoever@example.com"), "");
    setup_with("local_recipient_maps = proxy:inline:{ joe=1 } nis:mail.aliases\n", "127.0.0.2");
    assert_string_equal(rcpt("s@b.example", "joe@example.com"), "");
}

static void test_unlisted_sender_and_vrfy(void **state)
{
    (void)state;
    setup_with("smtpd_sender_restrictions = reject_unlisted_sender\n", "127.0.0.2");
    assert_string_equal(rcpt("ghost@example.com", "user@example.com"),
                        "550 5.1.0 <ghost@example.com>: Sender address rejected: User unknown in "
                        "local recipient table");
    assert_string_equal(rcpt("user@example.com", "user@example.com"), "");
    ctx.recipient = "ghost@example.com";
    assert_int_equal(smtpd_check_vrfy(checker, &ctx, &reply), SMTPD_CHECK_REJECT);
    ctx.recipient = "user@example.com";
    assert_int_equal(smtpd_check_vrfy(checker, &ctx, &reply), SMTPD_CHECK_OK);
    assert_string_equal(reply.data, "252 2.0.0 user@example.com");
}

/* ---- HELO, sender and recipient syntax ---- */

static void test_helo_checks(void **state)
{
    (void)state;
    setup_with("smtpd_helo_restrictions = reject_invalid_helo_hostname, "
               "reject_non_fqdn_helo_hostname\n",
               "127.0.0.2");
    ctx.helo_name = "localhost";
    assert_int_equal(smtpd_check_helo(checker, &ctx, &reply), SMTPD_CHECK_OK); /* delayed */
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified "
                        "hostname");
    ctx.helo_name = "bad_na me!";
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "501 5.5.2 <bad_na me!>: Helo command rejected: Invalid name");
    ctx.helo_name = "[192.0.2.1]";
    assert_string_equal(rcpt("a@b.example", "user@example.com"), "");
    ctx.helo_name = "[999.0.2.1]";
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "501 5.5.2 <[999.0.2.1]>: Helo command rejected: Invalid name");
    ctx.helo_name = "host.example.org.";
    assert_string_equal(rcpt("a@b.example", "user@example.com"), "");
    ctx.helo_name = NULL;
    assert_string_equal(rcpt("a@b.example", "user@example.com"), "");
}

static void test_helo_no_delay_and_access(void **state)
{
    (void)state;
    setup_with("smtpd_delay_reject = no\nsmtpd_helo_restrictions = check_helo_access inline:{ "
               "{example.com = REJECT You are not me} }, reject_invalid_hostname\n",
               "127.0.0.2");
    ctx.helo_name = "mail.example.com";
    assert_int_equal(smtpd_check_helo(checker, &ctx, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.data,
                        "554 5.7.1 <mail.example.com>: Helo command rejected: You are not me");
    ctx.helo_name = "x\r\ny";
    assert_int_equal(smtpd_check_helo(checker, &ctx, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.data, "501 5.5.2 <x??y>: Helo command rejected: Invalid name");
}

static void test_non_fqdn_addresses(void **state)
{
    (void)state;
    setup_with("smtpd_recipient_restrictions = reject_non_fqdn_sender, "
               "reject_non_fqdn_recipient, permit_mynetworks, reject_unauth_destination\n",
               "127.0.0.1");
    assert_string_equal(rcpt("joe", "user@example.com"),
                        "504 5.5.2 <joe>: Sender address rejected: need fully-qualified address");
    assert_string_equal(rcpt("joe@localhost", "user@example.com"),
                        "504 5.5.2 <joe@localhost>: Sender address rejected: need "
                        "fully-qualified address");
    assert_string_equal(rcpt("", "user@example.com"), "");
    assert_string_equal(rcpt("a@b.example", "user"),
                        "504 5.5.2 <user>: Recipient address rejected: need fully-qualified "
                        "address");
    assert_string_equal(rcpt("a@b.example", "user@[127.0.0.1]"), "");
}

/* ---- generic restrictions and their modifiers ---- */

static void test_defer_if_permit(void **state)
{
    (void)state;
    setup_with("smtpd_client_restrictions = defer_if_permit\n", "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "450 4.7.1 <unknown[127.0.0.2]>: Client host rejected: defer_if_permit "
                        "requested");
    /* A later reject wins over defer_if_permit. */
    setup_with("smtpd_client_restrictions = defer_if_permit\n"
               "smtpd_recipient_restrictions = reject\n",
               "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "554 5.7.1 <user@example.com>: Recipient address rejected: Access denied");
}

static void test_defer_if_reject(void **state)
{
    (void)state;
    setup_with("smtpd_recipient_restrictions = defer_if_reject, reject\n", "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "450 4.7.1 <user@example.com>: Recipient address rejected: "
                        "defer_if_reject requested");
    setup_with("smtpd_recipient_restrictions = defer_if_reject, permit\n", "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@example.com"), "");
}

static void test_warn_if_reject(void **state)
{
    (void)state;
    setup_with("smtpd_recipient_restrictions = warn_if_reject, reject, "
               "reject_non_fqdn_sender\n",
               "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@example.com"), "");
    assert_string_equal(rcpt("a", "user@example.com"),
                        "504 5.5.2 <a>: Sender address rejected: need fully-qualified address");
}

static void test_defer_and_codes(void **state)
{
    (void)state;
    /* The defer/reject restrictions use defer_code/reject_code; the DEFER/REJECT table actions
     * (any case) use access_map_defer_code/access_map_reject_code. */
    setup_with("defer_code = 451\nreject_code = 550\naccess_map_reject_code = 553\n"
               "smtpd_restriction_classes = d, r\nd = defer\nr = reject\n"
               "smtpd_sender_restrictions = check_sender_access inline:{ a@b.example=d, "
               "c@b.example=r, e@b.example=defer, g@b.example=reject }\n",
               "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "451 4.7.1 <a@b.example>: Sender address rejected: Access denied");
    assert_string_equal(rcpt("c@b.example", "user@example.com"),
                        "550 5.7.1 <c@b.example>: Sender address rejected: Access denied");
    assert_string_equal(rcpt("e@b.example", "user@example.com"),
                        "450 4.7.1 <e@b.example>: Sender address rejected: Access denied");
    assert_string_equal(rcpt("g@b.example", "user@example.com"),
                        "553 5.7.1 <g@b.example>: Sender address rejected: Access denied");
    setup_with("soft_bounce = yes\nsmtpd_recipient_restrictions = reject\n", "127.0.0.2");
    assert_string_equal(rcpt("a@b.example", "user@example.com"),
                        "454 4.7.1 <user@example.com>: Recipient address rejected: Access denied");
}

static void test_unauth_pipelining_and_data(void **state)
{
    (void)state;
    setup_with("smtpd_data_restrictions = reject_unauth_pipelining, "
               "reject_multi_recipient_bounce\n",
               "127.0.0.2");
    ctx.sender = "";
    ctx.recipient_count = 1;
    assert_int_equal(smtpd_check_data(checker, &ctx, &reply), SMTPD_CHECK_OK);
    ctx.recipient_count = 2;
    assert_int_equal(smtpd_check_data(checker, &ctx, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.data,
                        "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce");
    ctx.pipelining_seen = 1;
    assert_int_equal(smtpd_check_data(checker, &ctx, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.data, "503 5.5.0 <DATA>: Data command rejected: Improper use of "
                                    "SMTP command pipelining");
}

static void test_multi_recipient_bounce_rcpt(void **state)
{
    (void)state;
    setup_with("smtpd_recipient_restrictions = reject_multi_recipient_bounce, permit\n",
               "127.0.0.2");
    ctx.recipient_count = 0;
    assert_string_equal(rcpt("", "user@example.com"), "");
    ctx.recipient_count = 1;
    assert_string_equal(rcpt("", "postmaster@example.com"),
                        "550 5.5.3 <postmaster@example.com>: Recipient address rejected: "
                        "Multi-recipient bounce");
    assert_string_equal(rcpt("a@b.example", "postmaster@example.com"), "");
}

static void test_eod_and_etrn(void **state)
{
    (void)state;
    setup_with("smtpd_end_of_data_restrictions = check_client_access inline:{ "
               "127.0.0.2=REJECT }\nsmtpd_etrn_restrictions = permit_mynetworks, reject\n",
               "127.0.0.2");
    assert_int_equal(smtpd_check_eod(checker, &ctx, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.data,
                        "554 5.7.1 <unknown[127.0.0.2]>: Client host rejected: Access denied");
    ctx.etrn_domain = "far.example";
    assert_int_equal(smtpd_check_etrn(checker, &ctx, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.data,
                        "554 5.7.1 <far.example>: Etrn command rejected: Access denied");
    ctx.client_addr = "127.0.0.1";
    assert_int_equal(smtpd_check_etrn(checker, &ctx, &reply), SMTPD_CHECK_OK);
}

static void test_sender_login_mismatch(void **state)
{
    (void)state;
    setup_with("smtpd_sender_login_maps = inline:{ {joe@example.com = joe, admin}, "
               "@shared.example=team }\n"
               "smtpd_sender_restrictions = reject_sender_login_mismatch\n",
               "127.0.0.2");
    assert_string_equal(rcpt("joe@example.com", "user@example.com"),
                        "553 5.7.1 <joe@example.com>: Sender address rejected: not logged in");
    assert_string_equal(rcpt("other@b.example", "user@example.com"), "");
    ctx.sasl_username = "admin";
    assert_string_equal(rcpt("joe@example.com", "user@example.com"), "");
    assert_string_equal(rcpt("x@shared.example", "user@example.com"),
                        "553 5.7.1 <x@shared.example>: Sender address rejected: not owned by user "
                        "admin");
    assert_string_equal(rcpt("other@b.example", "user@example.com"),
                        "553 5.7.1 <other@b.example>: Sender address rejected: not owned by user "
                        "admin");
    setup_with("smtpd_sender_login_maps = inline:{ joe@example.com=joe }\n"
               "smtpd_sender_restrictions = reject_known_sender_login_mismatch\n",
               "127.0.0.2");
    ctx.sasl_username = "bob";
    assert_string_equal(rcpt("other@b.example", "user@example.com"), "");
    assert_string_equal(rcpt("joe@example.com", "user@example.com"),
                        "553 5.7.1 <joe@example.com>: Sender address rejected: not owned by user "
                        "bob");
}

static void test_inet_interfaces_and_sasl_access(void **state)
{
    (void)state;
    setup_with("smtpd_relay_restrictions = permit_inet_interfaces, check_sasl_access inline:{ "
               "{bad = REJECT no relay for you}, good=OK }, reject_unauth_destination\n",
               "127.0.0.1");
    assert_string_equal(rcpt("a@b.example", "u@far.example"), "");
    ctx.client_addr = "127.0.0.2";
    assert_string_equal(rcpt("a@b.example", "u@far.example"),
                        "554 5.7.1 <u@far.example>: Relay access denied");
    ctx.sasl_username = "good";
    assert_string_equal(rcpt("a@b.example", "u@far.example"), "");
    ctx.sasl_username = "bad";
    assert_string_equal(rcpt("a@b.example", "u@far.example"),
                        "554 5.7.1 <unknown[127.0.0.2]>: Client host rejected: no relay for you");
}

static void test_policy_service_down(void **state)
{
    (void)state;
    /* No server at private/policy: the default action after the tries (smtpd_check_policy_test
     * covers the server's answers). */
    setup_with("smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service "
               "unix:private/policy\n"
               "smtpd_policy_service_retry_delay = 0\n",
               "127.0.0.2");
    assert_string_equal(
        rcpt("a@b.example", "user@example.com"),
        "451 4.3.5 <user@example.com>: Recipient address rejected: Server configuration problem");
}

static void test_debug_peer_and_exceptions(void **state)
{
    (void)state;
    setup_with("debug_peer_list = 127.0.0.2, .debug.example\n", "127.0.0.2");
    assert_int_equal(smtpd_check_debug_peer(checker, &ctx), 1);
    ctx.client_addr = "127.0.0.3";
    assert_int_equal(smtpd_check_debug_peer(checker, &ctx), 0);
    ctx.client_name = "x.debug.example";
    assert_int_equal(smtpd_check_debug_peer(checker, &ctx), 1);
    /* Limits are off by default apart from the count limit; an excepted client never asks. */
    ctx.client_addr = "127.0.0.1";
    assert_int_equal(smtpd_check_connect_limits(checker, &ctx, "smtp", &reply), SMTPD_CHECK_OK);
    smtpd_check_disconnect_limits(checker, &ctx);
}

static void test_changed(void **state)
{
    (void)state;
    char path[] = "/tmp/smtpd_check_testXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "bad.example REJECT\n", 19), 19);
    close(fd);
    struct str cf = STR_INIT;
    str_setf(&cf, "smtpd_sender_restrictions = check_sender_access texthash:%s\n", path);
    setup_with(cf.data, "127.0.0.2");
    assert_string_equal(rcpt("a@bad.example", "user@example.com"),
                        "554 5.7.1 <a@bad.example>: Sender address rejected: Access denied");
    assert_int_equal(smtpd_checker_changed(checker), 0);
    FILE *f = fopen(path, "a");
    fputs("worse.example REJECT\n\n\n", f);
    fclose(f);
    assert_int_equal(smtpd_checker_changed(checker), 1);
    unlink(path);
    str_release(&cf);
}

/* ---- event limits with a fake anvil ---- */

/* A child process answering anvil requests on a unix socket: connections count up, each
 * request type has its own rate counter. */
static pid_t fake_anvil(const char *path)
{
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    unlink(path);
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(ls, 5), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0) {
        close(ls);
        return pid;
    }
    long count = 0, rate = 0, msg = 0, rcpt = 0;
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            _exit(0);
        FILE *f = fdopen(fd, "r+");
        char line[512], req[64] = "";
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "request=", 8) == 0)
                snprintf(req, sizeof req, "%.*s", (int)strcspn(line + 8, "\n"), line + 8);
            if (line[0] != '\n')
                continue;
            if (strcmp(req, "connect") == 0)
                count++, rate++;
            else if (strcmp(req, "disconnect") == 0)
                count--;
            else if (strcmp(req, "message") == 0)
                msg++;
            else if (strcmp(req, "recipient") == 0)
                rcpt++;
            fprintf(f, "status=0\ncount=%ld\nrate=%ld\nmessage=%ld\nrecipient=%ld\n\n", count, rate,
                    msg, rcpt);
            fflush(f);
        }
        fclose(f);
    }
}

static void test_event_limits(void **state)
{
    (void)state;
    char path[] = "/tmp/smtpd_check_anvil_XXXXXX";
    int tmp = mkstemp(path);
    close(tmp);
    pid_t pid = fake_anvil(path);
    setenv("KESTREL_ANVIL_PATH", path, 1);
    setup_with("smtpd_client_connection_count_limit = 2\n"
               "smtpd_client_connection_rate_limit = 3\n"
               "smtpd_client_message_rate_limit = 1\n"
               "smtpd_client_recipient_rate_limit = 2\n",
               "127.0.0.2");
    assert_int_equal(smtpd_check_connect_limits(checker, &ctx, "smtp", &reply), SMTPD_CHECK_OK);
    assert_int_equal(smtpd_check_connect_limits(checker, &ctx, "smtp", &reply), SMTPD_CHECK_OK);
    assert_int_equal(smtpd_check_connect_limits(checker, &ctx, "smtp", &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.data,
                        "421 4.7.0 mail.example.com Error: too many connections from 127.0.0.2");
    smtpd_check_disconnect_limits(checker, &ctx); /* count 2 */
    smtpd_check_disconnect_limits(checker, &ctx); /* reported once: no-op */
    assert_int_equal(smtpd_check_connect_limits(checker, &ctx, "smtp", &reply),
                     SMTPD_CHECK_REJECT);         /* count 3 > 2 */
    smtpd_check_disconnect_limits(checker, &ctx); /* count 2 */
    assert_int_equal(smtpd_check_message_limit(checker, &ctx, &reply), SMTPD_CHECK_OK);
    assert_int_equal(smtpd_check_message_limit(checker, &ctx, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.data, "450 4.7.1 Error: too much mail from 127.0.0.2");
    assert_int_equal(smtpd_check_recipient_limit(checker, &ctx, &reply), SMTPD_CHECK_OK);
    assert_int_equal(smtpd_check_recipient_limit(checker, &ctx, &reply), SMTPD_CHECK_OK);
    assert_int_equal(smtpd_check_recipient_limit(checker, &ctx, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.data, "450 4.7.1 Error: too many recipients from 127.0.0.2");
    /* mynetworks is excepted by default. */
    ctx.client_addr = "127.0.0.1";
    assert_int_equal(smtpd_check_message_limit(checker, &ctx, &reply), SMTPD_CHECK_OK);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(path);
    /* Without anvil the limits are not enforced. */
    ctx.client_addr = "127.0.0.2";
    assert_int_equal(smtpd_check_message_limit(checker, &ctx, &reply), SMTPD_CHECK_OK);
    unsetenv("KESTREL_ANVIL_PATH");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_seed000_outside, teardown),
        cmocka_unit_test_teardown(test_seed000_inside, teardown),
        cmocka_unit_test_teardown(test_client_access, teardown),
        cmocka_unit_test_teardown(test_client_access_no_delay, teardown),
        cmocka_unit_test_teardown(test_client_access_cidr_and_names, teardown),
        cmocka_unit_test_teardown(test_actions, teardown),
        cmocka_unit_test_teardown(test_side_actions, teardown),
        cmocka_unit_test_teardown(test_null_sender_key, teardown),
        cmocka_unit_test_teardown(test_parent_domain_style, teardown),
        cmocka_unit_test_teardown(test_restriction_classes, teardown),
        cmocka_unit_test_teardown(test_class_loop, teardown),
        cmocka_unit_test_teardown(test_config_errors, teardown),
        cmocka_unit_test_teardown(test_open_relay_variants, teardown),
        cmocka_unit_test_teardown(test_relay_inside, teardown),
        cmocka_unit_test_teardown(test_default_relay_restrictions, teardown),
        cmocka_unit_test_teardown(test_relay_code_parameter, teardown),
        cmocka_unit_test_teardown(test_permit_sasl_and_tls, teardown),
        cmocka_unit_test_teardown(test_recipient_tables, teardown),
        cmocka_unit_test_teardown(test_recipient_delimiter_and_errors, teardown),
        cmocka_unit_test_teardown(test_unlisted_sender_and_vrfy, teardown),
        cmocka_unit_test_teardown(test_helo_checks, teardown),
        cmocka_unit_test_teardown(test_helo_no_delay_and_access, teardown),
        cmocka_unit_test_teardown(test_non_fqdn_addresses, teardown),
        cmocka_unit_test_teardown(test_defer_if_permit, teardown),
        cmocka_unit_test_teardown(test_defer_if_reject, teardown),
        cmocka_unit_test_teardown(test_warn_if_reject, teardown),
        cmocka_unit_test_teardown(test_defer_and_codes, teardown),
        cmocka_unit_test_teardown(test_unauth_pipelining_and_data, teardown),
        cmocka_unit_test_teardown(test_multi_recipient_bounce_rcpt, teardown),
        cmocka_unit_test_teardown(test_eod_and_etrn, teardown),
        cmocka_unit_test_teardown(test_sender_login_mismatch, teardown),
        cmocka_unit_test_teardown(test_inet_interfaces_and_sasl_access, teardown),
        cmocka_unit_test_teardown(test_policy_service_down, teardown),
        cmocka_unit_test_teardown(test_debug_peer_and_exceptions, teardown),
        cmocka_unit_test_teardown(test_changed, teardown),
        cmocka_unit_test_teardown(test_event_limits, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
