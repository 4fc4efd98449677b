/* Unit tests for resolve: address classes, *_transport defaults, relayhost, transport_maps
 * search order, routing operators and @$myorigin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/config.h"
#include "mail/resolve.h"

#include <stdio.h>
#include <string.h>

static const char *base_cf = "myhostname = mail.example.com\n"
                             "mydomain = example.com\n"
                             "myorigin = example.com\n"
                             "mydestination = example.com, localhost\n"
                             "inet_interfaces = 192.0.2.1\n"
                             "virtual_alias_domains = alias.test\n"
                             "virtual_mailbox_domains = vbox.test\n"
                             "relay_domains = relay.test\n"
                             "recipient_delimiter = +\n";

static struct resolve_ctx *setup_cf(const char *extra)
{
    char text[4096];
    struct str err = STR_INIT;
    snprintf(text, sizeof(text), "%s%s", base_cf, extra);
    config_reset();
    assert_int_equal(config_load_text("main.cf", text, strlen(text), &err), 0);
    str_release(&err);
    return resolve_open();
}

static void expect(struct resolve_ctx *r, const char *addr, enum resolve_class cls,
                   const char *transport, const char *nexthop, const char *rcpt)
{
    struct resolve_reply rp;
    struct str err = STR_INIT;
    resolve_reply_init(&rp);
    assert_int_equal(resolve_recipient(r, addr, &rp, &err), 0);
    assert_int_equal(rp.addr_class, cls);
    assert_string_equal(str_cstr(&rp.transport), transport);
    assert_string_equal(str_cstr(&rp.nexthop), nexthop);
    assert_string_equal(str_cstr(&rp.recipient), rcpt);
    resolve_reply_release(&rp);
    str_release(&err);
}

static void test_classes(void **state)
{
    (void)state;
    struct resolve_ctx *r = setup_cf("");
    expect(r, "joe@example.com", RESOLVE_CLASS_LOCAL, "local", "mail.example.com",
           "joe@example.com");
    expect(r, "joe@[192.0.2.1]", RESOLVE_CLASS_LOCAL, "local", "mail.example.com",
           "joe@[192.0.2.1]");
    expect(r, "joe@alias.test", RESOLVE_CLASS_ALIAS, "error",
           "5.1.1 User unknown in virtual alias table", "joe@alias.test");
    expect(r, "joe@vbox.test", RESOLVE_CLASS_VIRTUAL, "virtual", "vbox.test", "joe@vbox.test");
    expect(r, "joe@relay.test", RESOLVE_CLASS_RELAY, "relay", "relay.test", "joe@relay.test");
    expect(r, "joe@other.test", RESOLVE_CLASS_DEFAULT, "smtp", "other.test", "joe@other.test");
    expect(r, "joe", RESOLVE_CLASS_LOCAL, "local", "mail.example.com", "joe@example.com");
    resolve_free(r);
}

static void test_relayhost_and_transport_params(void **state)
{
    (void)state;
    struct resolve_ctx *r = setup_cf("relayhost = [gw.example.net]:2525\n"
                                     "virtual_transport = lmtp:unix:/run/lmtp\n");
    expect(r, "joe@other.test", RESOLVE_CLASS_DEFAULT, "smtp", "[gw.example.net]:2525",
           "joe@other.test");
    expect(r, "joe@relay.test", RESOLVE_CLASS_RELAY, "relay", "[gw.example.net]:2525",
           "joe@relay.test");
    expect(r, "joe@vbox.test", RESOLVE_CLASS_VIRTUAL, "lmtp", "unix:/run/lmtp", "joe@vbox.test");
    expect(r, "joe@example.com", RESOLVE_CLASS_LOCAL, "local", "mail.example.com",
           "joe@example.com");
    resolve_free(r);
    r = setup_cf("relayhost = gw.example.net\ndefault_transport = smtp:[own.example.net]\n");
    expect(r, "joe@other.test", RESOLVE_CLASS_DEFAULT, "smtp", "[own.example.net]",
           "joe@other.test");
    resolve_free(r);
}

static void test_transport_maps_order(void **state)
{
    (void)state;
    struct resolve_ctx *r =
        setup_cf("transport_maps = inline:{ joe+x@t.test=a:one, joe@t.test=b:two, t.test=c:three, "
                 ".sub.test=d:four, *=e:five, other@t.test=:six, keep@t.test=f: }\n");
    expect(r, "joe+x@t.test", RESOLVE_CLASS_DEFAULT, "a", "one", "joe+x@t.test");
    expect(r, "joe+y@t.test", RESOLVE_CLASS_DEFAULT, "b", "two", "joe+y@t.test");
    expect(r, "ann@t.test", RESOLVE_CLASS_DEFAULT, "c", "three", "ann@t.test");
    expect(r, "ann@a.b.sub.test", RESOLVE_CLASS_DEFAULT, "d", "four", "ann@a.b.sub.test");
    expect(r, "ann@sub.test", RESOLVE_CLASS_DEFAULT, "e", "five", "ann@sub.test");
    expect(r, "other@t.test", RESOLVE_CLASS_DEFAULT, "smtp", "six", "other@t.test");
    expect(r, "keep@t.test", RESOLVE_CLASS_DEFAULT, "f", "t.test", "keep@t.test");
    expect(r, "joe@example.com", RESOLVE_CLASS_LOCAL, "e", "five", "joe@example.com");
    resolve_free(r);
}

static void test_routing_operators(void **state)
{
    (void)state;
    struct resolve_ctx *r = setup_cf("allow_percent_hack = yes\nswap_bangpath = yes\n");
    expect(r, "user%other.test@example.com", RESOLVE_CLASS_DEFAULT, "smtp", "other.test",
           "user@other.test");
    expect(r, "other.test!user@example.com", RESOLVE_CLASS_DEFAULT, "smtp", "other.test",
           "user@other.test");
    expect(r, "user@other.test@example.com", RESOLVE_CLASS_DEFAULT, "smtp", "other.test",
           "user@other.test");
    expect(r, "user%other.test", RESOLVE_CLASS_DEFAULT, "smtp", "other.test", "user@other.test");
    resolve_free(r);
}

static void test_table_error_defers(void **state)
{
    (void)state;
    struct resolve_ctx *r = setup_cf("transport_maps = hash:/nonexistent/transport\n");
    struct resolve_reply rp;
    struct str err = STR_INIT;
    resolve_reply_init(&rp);
    assert_int_equal(resolve_recipient(r, "a@b.test", &rp, &err), -1);
    assert_non_null(strstr(err.data, "transport_maps"));
    resolve_reply_release(&rp);
    str_release(&err);
    resolve_free(r);
}

static void test_split(void **state)
{
    (void)state;
    struct str t = STR_INIT, n = STR_INIT;
    resolve_split_transport("smtp:[h]:25", &t, &n);
    assert_string_equal(t.data, "smtp");
    assert_string_equal(n.data, "[h]:25");
    resolve_split_transport("local", &t, &n);
    assert_string_equal(t.data, "local");
    assert_string_equal(str_cstr(&n), "");
    str_release(&t);
    str_release(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_relayhost_and_transport_params),
        cmocka_unit_test(test_transport_maps_order),
        cmocka_unit_test(test_routing_operators),
        cmocka_unit_test(test_table_error_defers),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
