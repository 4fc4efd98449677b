/* Unit tests for the DNS-based restrictions of smtpd_check and for dns lookups: they need the
 * test DNS of tests/smtpd_access.zone, so they run under with-test-dns (KESTREL_TEST_DNS=1,
 * from tests/test_smtpd_access.py) and skip otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/argv.h"
#include "base/str.h"
#include "mail/config.h"
#include "mail/dns.h"
#include "smtpd_check.h"
#include "smtpd_check_fixture.h"

static const char *base_cf = "myhostname = mail.test.example\n"
                             "mydomain = test.example\n"
                             "mydestination = $myhostname, localhost\n"
                             "mynetworks = 127.0.0.1/32\n"
                             "inet_interfaces = 127.0.0.1\n"
                             "alias_maps =\nlocal_recipient_maps =\n";

static void setup_with(const char *extra, const char *addr)
{
    fixture_setup(base_cf, extra, addr, "helo.good.example");
}

static const char *rcpt(const char *sender, const char *recipient)
{
    ctx.sender = sender;
    ctx.recipient = recipient;
    return smtpd_check_rcpt(checker, &ctx, &reply) == SMTPD_CHECK_REJECT ? reply.data : "";
}

/* with-test-dns's dnsmasq may answer REFUSED (a temporary failure) rather than NXDOMAIN for
 * names outside its file: the tests check the reply for whichever the server gives. */
static int nxdomain(void)
{
    struct argv *a = argv_new();
    struct str err = STR_INIT;
    int s = dns_lookup("nowhere.example", DNS_A, a, &err);
    argv_free(a);
    str_release(&err);
    assert_true(s == DNS_NOTFOUND || s == DNS_RETRY);
    return s == DNS_NOTFOUND;
}

static void test_lookups(void **state)
{
    (void)state;
    struct argv *a = argv_new();
    struct str err = STR_INIT;
    assert_int_equal(dns_lookup("mx1.far.example", DNS_A, a, &err), DNS_OK);
    assert_string_equal(a->v[0], "127.0.0.10");
    argv_clear(a);
    assert_int_equal(dns_lookup("far.example", DNS_MX, a, &err), DNS_OK);
    assert_string_equal(a->v[0], "10 mx1.far.example");
    argv_clear(a);
    assert_int_equal(dns_lookup("2.0.0.127.zen.example", DNS_TXT, a, &err), DNS_OK);
    assert_string_equal(a->v[0], "Listed by zen, see http://zen.example/q?127.0.0.2");
    argv_clear(a);
    assert_int_equal(dns_lookup("2.0.0.127.in-addr.arpa", DNS_PTR, a, &err), DNS_OK);
    assert_string_equal(a->v[0], "client.example");
    argv_clear(a);
    assert_int_equal(dns_lookup("nowhere.example", DNS_A, a, &err),
                     nxdomain() ? DNS_NOTFOUND : DNS_RETRY);
    assert_int_equal(a->n, 0);

    /* Cached answers are the same. */
    assert_int_equal(dns_lookup("mx1.far.example", DNS_A, a, &err), DNS_OK);
    assert_string_equal(a->v[0], "127.0.0.10");
    argv_free(a);
    str_release(&err);
}

static void test_client_names(void **state)
{
    (void)state;
    struct str rev = STR_INIT, name = STR_INIT;
    int rs, ns;
    dns_client_names("127.0.0.2", &rev, &rs, &name, &ns);
    assert_string_equal(rev.data, "client.example");
    assert_string_equal(name.data, "client.example");
    assert_int_equal(rs, 0);
    assert_int_equal(ns, 0);
    dns_client_names("127.0.0.3", &rev, &rs, &name, &ns);
    assert_string_equal(rev.data, "liar.example");
    assert_string_equal(name.data, "unknown");
    assert_int_equal(rs, 0);
    assert_int_equal(ns, 5);
    dns_client_names("127.0.0.9", &rev, &rs, &name, &ns);
    assert_string_equal(rev.data, "unknown");
    assert_string_equal(name.data, "unknown");
    assert_int_equal(rs, nxdomain() ? 5 : 4);
    assert_int_equal(ns, rs);
    str_release(&rev);
    str_release(&name);
}

static void test_rbl(void **state)
{
    (void)state;
    setup_with("smtpd_client_restrictions = reject_rbl_client zen.example\n", "127.0.0.2");
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using "
                        "zen.example; Listed by zen, see http://zen.example/q?127.0.0.2");
    ctx.client_addr = "127.0.0.3";
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "554 5.7.1 Service unavailable; Client host [127.0.0.3] blocked using "
                        "zen.example");
    ctx.client_addr = "127.0.0.4";
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"), "");
    /* Reply filters. */
    setup_with("smtpd_client_restrictions = reject_rbl_client zen.example=127.0.0.[2..9]\n",
               "127.0.0.3");
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"), "");
    ctx.client_addr = "127.0.0.2";
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using "
                        "zen.example; Listed by zen, see http://zen.example/q?127.0.0.2");
    /* rbl_reply_maps and maps_rbl_reject_code. */
    setup_with("maps_rbl_reject_code = 550\nrbl_reply_maps = inline:{ {zen.example = $$rbl_code "
               "5.7.9 go away, $$client_address ($${rbl_reason?has reason})} }\n"
               "smtpd_recipient_restrictions = reject_rbl_client zen.example\n",
               "127.0.0.2");
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "550 5.7.9 go away, 127.0.0.2 (has reason)");
}

static void test_dnswl(void **state)
{
    (void)state;
    setup_with("smtpd_relay_restrictions = permit_dnswl_client dnswl.example, "
               "reject_unauth_destination\n",
               "127.0.0.2");
    assert_string_equal(rcpt("a@far.example", "user@far.example"), "");
    ctx.client_addr = "127.0.0.3";
    assert_string_equal(rcpt("a@far.example", "user@far.example"),
                        "554 5.7.1 <user@far.example>: Relay access denied");
}

static void test_rhsbl(void **state)
{
    (void)state;
    setup_with("smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = reject_rhsbl_sender "
               "dbl.example, "
               "reject_rhsbl_helo dbl.example, reject_rhsbl_recipient dbl.example, "
               "reject_rhsbl_client dbl.example, reject_rhsbl_reverse_client dbl.example, "
               "permit\n",
               "127.0.0.5");
    assert_string_equal(rcpt("a@spam.example", "user@mail.test.example"),
                        "554 5.7.1 Service unavailable; Sender address [spam.example] blocked "
                        "using dbl.example");
    ctx.helo_name = "spam.example";
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "554 5.7.1 Service unavailable; Helo command [spam.example] blocked "
                        "using dbl.example");
    ctx.helo_name = "helo.good.example";
    assert_string_equal(rcpt("a@far.example", "x@spam.example"),
                        "554 5.7.1 Service unavailable; Recipient address [spam.example] blocked "
                        "using dbl.example");
    ctx.client_name = "spam.example";
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "554 5.7.1 Service unavailable; Client host [spam.example] blocked "
                        "using dbl.example");
    ctx.client_name = "unknown";
    ctx.reverse_client_name = "spam.example";
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "554 5.7.1 Service unavailable; Unverified Client host [spam.example] "
                        "blocked using dbl.example");
}

static void test_unknown_domains(void **state)
{
    (void)state;
    setup_with("smtpd_relay_restrictions =\n"
               "smtpd_recipient_restrictions = reject_unknown_sender_domain, "
               "reject_unknown_recipient_domain, permit\n",
               "127.0.0.5");
    int nx = nxdomain();
    assert_string_equal(rcpt("a@far.example", "b@hostonly.example"), "");
    assert_string_equal(rcpt("a@nowhere.example", "b@far.example"),
                        nx ? "450 4.1.8 <a@nowhere.example>: Sender address rejected: Domain not "
                             "found"
                           : "450 4.4.3 <a@nowhere.example>: Sender address rejected: Domain not "
                             "found");
    assert_string_equal(rcpt("a@far.example", "b@nowhere.example"),
                        nx ? "450 4.1.2 <b@nowhere.example>: Recipient address rejected: Domain "
                             "not found"
                           : "450 4.4.3 <b@nowhere.example>: Recipient address rejected: Domain "
                             "not found");
    assert_string_equal(rcpt("", "b@far.example"), "");
    /* Local domains are not looked up. */
    assert_string_equal(rcpt("a@far.example", "b@localhost"), "");
    setup_with("unknown_address_reject_code = 550\nsmtpd_sender_restrictions = "
               "reject_unknown_sender_domain\n",
               "127.0.0.5");
    if (nx)
        assert_string_equal(rcpt("a@nowhere.example", "b@mail.test.example"),
                            "550 5.1.8 <a@nowhere.example>: Sender address rejected: Domain not "
                            "found");
    /* A later reject overrides the deferral of a temporary failure. */
    setup_with("smtpd_sender_restrictions = reject_unknown_sender_domain, reject\n", "127.0.0.5");
    assert_string_equal(rcpt("a@nowhere.example", "b@mail.test.example"),
                        nx ? "450 4.1.8 <a@nowhere.example>: Sender address rejected: Domain not "
                             "found"
                           : "554 5.7.1 <a@nowhere.example>: Sender address rejected: Access "
                             "denied");
}

static void test_unknown_helo_and_client(void **state)
{
    (void)state;
    setup_with("smtpd_helo_restrictions = reject_unknown_helo_hostname\n"
               "smtpd_client_restrictions = reject_unknown_reverse_client_hostname, "
               "reject_unknown_client_hostname\n",
               "127.0.0.2");
    struct str rev = STR_INIT, name = STR_INIT;
    dns_client_names("127.0.0.2", &rev, &ctx.reverse_name_status, &name, &ctx.client_name_status);
    ctx.client_name = name.data;
    ctx.reverse_client_name = rev.data;
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"), "");
    ctx.helo_name = "nowhere.example"; /* NXDOMAIN rejects, a temporary error defers */
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "450 4.7.1 <nowhere.example>: Helo command rejected: Host not found");
    ctx.helo_name = "[127.0.0.2]";
    ctx.client_addr = "127.0.0.3";
    dns_client_names("127.0.0.3", &rev, &ctx.reverse_name_status, &name, &ctx.client_name_status);
    ctx.client_name = name.data;
    ctx.reverse_client_name = rev.data;
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.3]");
    ctx.client_addr = "127.0.0.9";
    dns_client_names("127.0.0.9", &rev, &ctx.reverse_name_status, &name, &ctx.client_name_status);
    ctx.client_name = name.data;
    ctx.reverse_client_name = rev.data;
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "450 4.7.25 Client host rejected: cannot find your reverse hostname, "
                        "[127.0.0.9]");
    str_release(&rev);
    str_release(&name);
}

static void test_mx_a_access(void **state)
{
    (void)state;
    setup_with("smtpd_relay_restrictions =\nsmtpd_sender_restrictions = check_sender_mx_access "
               "inline:{ {127.0.0.10=REJECT "
               "bad mx} }, check_sender_a_access inline:{ {192.0.2.5=REJECT bad host} }\n"
               "smtpd_recipient_restrictions = check_recipient_mx_access inline:{ "
               "mx1.far.example=OK }, permit\n",
               "127.0.0.5");
    assert_string_equal(rcpt("a@far.example", "user@mail.test.example"),
                        "554 5.7.1 <a@far.example>: Sender address rejected: bad mx");
    assert_string_equal(rcpt("a@hostonly.example", "user@mail.test.example"),
                        "554 5.7.1 <a@hostonly.example>: Sender address rejected: bad host");
    /* OK is not allowed as an MX access result: DUNNO. */
    assert_string_equal(rcpt("a@nowhere.example", "user@far.example"), "");
}

static void test_mx_backup(void **state)
{
    (void)state;
    setup_with("smtpd_relay_restrictions = permit_mx_backup, reject_unauth_destination\n",
               "127.0.0.5");
    assert_string_equal(rcpt("a@far.example", "user@backup.example"), "");
    assert_string_equal(rcpt("a@far.example", "user@primary.example"),
                        "554 5.7.1 <user@primary.example>: Relay access denied");
    assert_string_equal(rcpt("a@far.example", "user@far.example"),
                        "554 5.7.1 <user@far.example>: Relay access denied");
    assert_string_equal(rcpt("a@far.example", "user%x@backup.example"),
                        "554 5.7.1 <user%x@backup.example>: Relay access denied");
    setup_with("permit_mx_backup_networks = 192.0.2.0/24\n"
               "smtpd_relay_restrictions = permit_mx_backup, reject_unauth_destination\n",
               "127.0.0.5");
    assert_string_equal(rcpt("a@far.example", "user@backup.example"),
                        "554 5.7.1 <user@backup.example>: Relay access denied");
}

int main(void)
{
    if (!getenv("KESTREL_TEST_DNS")) {
        printf("smtpd_check_dns_test: skipped (runs under with-test-dns from "
               "tests/test_smtpd_access.py)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_client_names),
        cmocka_unit_test_teardown(test_rbl, teardown),
        cmocka_unit_test_teardown(test_dnswl, teardown),
        cmocka_unit_test_teardown(test_rhsbl, teardown),
        cmocka_unit_test_teardown(test_unknown_domains, teardown),
        cmocka_unit_test_teardown(test_unknown_helo_and_client, teardown),
        cmocka_unit_test_teardown(test_mx_a_access, teardown),
        cmocka_unit_test_teardown(test_mx_backup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
