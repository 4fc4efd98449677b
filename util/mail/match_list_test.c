/* Unit tests for matching lists (domain, host/address, string kinds; files, tables, negation,
 * errors) and the mynetworks_style computation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cidr.h"
#include "base/str.h"
#include "mail/match_list.h"
#include "table/table.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct match_list *make(const char *value, enum match_kind kind, int flags)
{
    struct str err = STR_INIT;
    struct match_list *l = match_list_create("test_list", value, kind, flags, &err);
    if (l == NULL)
        fail_msg("create \"%s\": %s", value, str_cstr(&err));
    str_release(&err);
    return l;
}

static void create_fails(const char *value, enum match_kind kind, const char *want)
{
    struct str err = STR_INIT;
    struct match_list *l = match_list_create("mynetworks", value, kind, 0, &err);
    assert_null(l);
    if (strstr(str_cstr(&err), want) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", str_cstr(&err), want);
    assert_memory_equal(err.data, "mynetworks: ", 12);
    str_release(&err);
}

static void test_domain_strings(void **state)
{
    (void)state;
    const char *v = "Example.COM, .wild.example !bad.example.net,example.net";
    struct match_list *l = make(v, MATCH_KIND_DOMAIN, 0);
    assert_int_equal(match_list_match(l, "example.com", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "EXAMPLE.com", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "sub.example.com", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "wild.example", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "a.wild.example", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "a.b.Wild.Example", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "xwild.example", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "bad.example.net", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "example.net", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "notexample.com", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "", NULL), MATCH_NO);
    match_list_free(l);

    l = make(v, MATCH_KIND_DOMAIN, MATCH_FLAG_PARENT);
    assert_int_equal(match_list_match(l, "sub.example.com", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "a.b.example.com", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "notexample.com", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "a.wild.example", NULL), MATCH_YES);
    /* negation: the first match decides, subdomains of bad.example.net too */
    assert_int_equal(match_list_match(l, "x.bad.example.net", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "x.example.net", NULL), MATCH_YES);
    match_list_free(l);

    l = make("", MATCH_KIND_DOMAIN, 0);
    assert_int_equal(match_list_match(l, "example.com", NULL), MATCH_NO);
    match_list_free(l);
    l = make("!!example.com", MATCH_KIND_DOMAIN, 0);
    assert_int_equal(match_list_match(l, "example.com", NULL), MATCH_YES);
    match_list_free(l);
}

static void test_domain_tables(void **state)
{
    (void)state;
    const char *v = "inline:{ example.org=x, .dotted.example=x, Parent.Example=whatever }";
    struct match_list *l = make(v, MATCH_KIND_DOMAIN, 0);
    assert_int_equal(match_list_match(l, "Example.ORG", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "sub.example.org", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "a.dotted.example", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "a.b.dotted.example", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "dotted.example", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "a.parent.example", NULL), MATCH_NO);
    match_list_free(l);
    l = make(v, MATCH_KIND_DOMAIN, MATCH_FLAG_PARENT);
    assert_int_equal(match_list_match(l, "sub.example.org", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "a.b.parent.example", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "a.dotted.example", NULL), MATCH_NO);
    match_list_free(l);

    /* a negated table, then a catch-all */
    l = make("!inline:{ no.example=1 } .example", MATCH_KIND_DOMAIN, 0);
    assert_int_equal(match_list_match(l, "no.example", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "yes.example", NULL), MATCH_YES);
    match_list_free(l);
}

static void test_table_errors(void **state)
{
    (void)state;
    struct match_list *l = make("example.com, fail:broken, example.net", MATCH_KIND_DOMAIN, 0);
    assert_int_equal(match_list_match(l, "example.com", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "example.net", NULL), MATCH_ERROR);
    assert_int_equal(match_list_match(l, "other", NULL), MATCH_ERROR);
    assert_memory_equal(match_list_error(l), "test_list: fail:broken: ", 24);
    match_list_free(l);
    /* an unopenable table: the list works, its lookups fail */
    l = make("nosuchtype:/x 10.0.0.0/8", MATCH_KIND_HOSTADDR, 0);
    assert_int_equal(match_list_match(l, "host.example", "10.1.2.3"), MATCH_ERROR);
    assert_non_null(strstr(match_list_error(l), "unsupported dictionary type"));
    match_list_free(l);
    l = make("10.0.0.0/8 nosuchtype:/x", MATCH_KIND_HOSTADDR, 0);
    assert_int_equal(match_list_match(l, "host.example", "10.1.2.3"), MATCH_YES);
    match_list_free(l);
}

static void test_hostaddr(void **state)
{
    (void)state;
    const char *v = "127.0.0.0/8 [::1]/128, 192.168.1.0/24 !10.0.0.1 10.0.0.0/8 "
                    "[2001:db8::]/32 fe80::/10 .trusted.example 172.16.5.5 [172.16.6.6]";
    struct match_list *l = make(v, MATCH_KIND_HOSTADDR, 0);
    assert_int_equal(match_list_match(l, "unknown", "127.0.0.1"), MATCH_YES);
    assert_int_equal(match_list_match(l, "unknown", "::1"), MATCH_YES);
    assert_int_equal(match_list_match(l, "unknown", "::2"), MATCH_NO);
    assert_int_equal(match_list_match(l, "unknown", "192.168.1.77"), MATCH_YES);
    assert_int_equal(match_list_match(l, "unknown", "192.168.2.1"), MATCH_NO);
    assert_int_equal(match_list_match(l, "unknown", "10.0.0.1"), MATCH_NO);
    assert_int_equal(match_list_match(l, "unknown", "10.0.0.2"), MATCH_YES);
    assert_int_equal(match_list_match(l, "unknown", "2001:DB8:1::5"), MATCH_YES);
    assert_int_equal(match_list_match(l, "unknown", "fe80::1"), MATCH_YES);
    assert_int_equal(match_list_match(l, "unknown", "::ffff:127.0.0.2"), MATCH_YES);
    assert_int_equal(match_list_match(l, "mail.trusted.example", "203.0.113.9"), MATCH_YES);
    assert_int_equal(match_list_match(l, "trusted.example", "203.0.113.9"), MATCH_NO);
    assert_int_equal(match_list_match(l, NULL, "172.16.5.5"), MATCH_YES);
    assert_int_equal(match_list_match(l, NULL, "172.16.6.6"), MATCH_YES);
    assert_int_equal(match_list_match(l, NULL, "172.16.6.7"), MATCH_NO);
    assert_int_equal(match_list_match(l, NULL, "garbage"), MATCH_NO);
    assert_int_equal(match_list_match(l, NULL, NULL), MATCH_NO);
    match_list_free(l);

    /* a table is asked for the name (and parents) and the address */
    l = make("inline:{ 192.0.2.7=ok, client.example=ok }", MATCH_KIND_HOSTADDR, MATCH_FLAG_PARENT);
    assert_int_equal(match_list_match(l, "unknown", "192.0.2.7"), MATCH_YES);
    assert_int_equal(match_list_match(l, "a.client.example", "192.0.2.8"), MATCH_YES);
    assert_int_equal(match_list_match(l, "unknown", "192.0.2.8"), MATCH_NO);
    match_list_free(l);
}

static void test_addr_and_string(void **state)
{
    (void)state;
    struct match_list *l = make("10.0.0.0/8, inline:{ 192.0.2.1=x }", MATCH_KIND_ADDR, 0);
    assert_int_equal(match_list_match(l, "ignored.example", "10.9.9.9"), MATCH_YES);
    assert_int_equal(match_list_match(l, NULL, "192.0.2.1"), MATCH_YES);
    assert_int_equal(match_list_match(l, NULL, "192.0.2.2"), MATCH_NO);
    match_list_free(l);
    create_fails("10.0.0.0/8 example.com", MATCH_KIND_ADDR, "non-address pattern");

    l = make("Root, !nobody, inline:{ Alice=1 }, static:x", MATCH_KIND_STRING, 0);
    assert_int_equal(match_list_match(l, "root", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "NOBODY", NULL), MATCH_NO);
    assert_int_equal(match_list_match(l, "alice", NULL), MATCH_YES);
    assert_int_equal(match_list_match(l, "x.root", NULL), MATCH_YES); /* static: matches all */
    match_list_free(l);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    create_fails("1.2.3.4/33", MATCH_KIND_HOSTADDR, "bad address pattern");
    create_fails("10.0.0.1/8", MATCH_KIND_HOSTADDR, "bad address pattern");
    create_fails("[::1/128", MATCH_KIND_HOSTADDR, "bad address pattern");
    create_fails("[1.2.3.4]/x", MATCH_KIND_HOSTADDR, "bad address pattern");
    create_fails("inline:{ a=b", MATCH_KIND_DOMAIN, "unbalanced '{'");
    create_fails("a, }", MATCH_KIND_DOMAIN, "unexpected '}'");
    create_fails("/nonexistent/kestrel/list", MATCH_KIND_DOMAIN,
                 "open /nonexistent/kestrel/list: No such file");
    create_fails("!", MATCH_KIND_DOMAIN, "'!' without a pattern");
    create_fails("!!!!!!!!!!!!!!!!!!x", MATCH_KIND_DOMAIN, "too many '!'");
}

static void write_tmp(char *path, const char *text)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_files(void **state)
{
    (void)state;
    char inner[] = "/tmp/kestrel-ml-inner-XXXXXX", outer[] = "/tmp/kestrel-ml-outer-XXXXXX";
    char self[] = "/tmp/kestrel-ml-self-XXXXXX";
    struct str text = STR_INIT, err = STR_INIT;
    write_tmp(inner, "# networks\n  # indented comment\n192.168.0.0/16\n\n!10.1.0.0/16\n");
    str_setf(&text, "%s\nexample.com 10.0.0.0/8\n   other.example, !neg.example\n", inner);
    write_tmp(outer, text.data);
    str_setf(&text, "!%s 172.16.0.0/12", outer);
    struct match_list *l = make(text.data, MATCH_KIND_HOSTADDR, 0);
    /* the whole file is negated */
    assert_int_equal(match_list_match(l, "example.com", "203.0.113.1"), MATCH_NO);
    assert_int_equal(match_list_match(l, "x", "192.168.3.4"), MATCH_NO);
    assert_int_equal(match_list_match(l, "x", "10.1.2.3"), MATCH_YES); /* !! */
    assert_int_equal(match_list_match(l, "x", "10.2.2.3"), MATCH_NO);  /* ! */
    assert_int_equal(match_list_match(l, "x", "172.16.1.1"), MATCH_YES);
    match_list_free(l);
    str_setf(&text, "%s", outer);
    l = make(text.data, MATCH_KIND_HOSTADDR, 0);
    assert_int_equal(match_list_match(l, "Other.Example", "203.0.113.1"), MATCH_YES);
    assert_int_equal(match_list_match(l, "neg.example", "203.0.113.1"), MATCH_NO);
    assert_int_equal(match_list_match(l, "x", "192.168.3.4"), MATCH_YES);
    assert_int_equal(match_list_match(l, "x", "10.1.2.3"), MATCH_NO);
    match_list_free(l);
    /* a file that includes itself */
    str_setf(&text, "a.example\n%s\n", self);
    FILE *fp = fdopen(mkstemp(self), "w");
    assert_non_null(fp);
    str_setf(&text, "a.example\n%s\n", self);
    fputs(text.data, fp);
    fclose(fp);
    assert_null(match_list_create("relay_domains", self, MATCH_KIND_DOMAIN, 0, &err));
    assert_non_null(strstr(err.data, "files nested too deeply"));
    unlink(inner);
    unlink(outer);
    unlink(self);
    str_release(&text);
    str_release(&err);
}

/* A pattern table: answers for any key that contains "spam" and records how often asked. */
static int pattern_calls;
static int pattern_lookup(struct table *t, const char *key, struct str *value)
{
    (void)t;
    pattern_calls++;
    str_set(value, "x");
    return strstr(key, "spam") ? TABLE_FOUND : TABLE_NOTFOUND;
}
static void pattern_close(struct table *t)
{
    table_free(t);
}
static const struct table_ops pattern_ops = {.lookup = pattern_lookup, .close = pattern_close};

static void test_pattern_table(void **state)
{
    (void)state;
    struct match_list *l = make("", MATCH_KIND_DOMAIN, MATCH_FLAG_PARENT);
    match_list_append_table(
        l, table_alloc("testpat", "x", 0, TABLE_PROP_PATTERN, &pattern_ops, NULL), 0);
    pattern_calls = 0;
    assert_int_equal(match_list_match(l, "a.b.c.example", NULL), MATCH_NO);
    assert_int_equal(pattern_calls, 1);
    assert_int_equal(match_list_match(l, "spam.example", NULL), MATCH_YES);
    match_list_free(l);
}

static void test_parent_style(void **state)
{
    (void)state;
    const char *pdms = "debug_peer_list,fast_flush_domains mynetworks, "
                       "permit_mx_backup_networks qmqpd_authorized_clients relay_domains "
                       "smtpd_access_maps";
    assert_int_equal(match_parent_style(pdms, "relay_domains"), 1);
    assert_int_equal(match_parent_style(pdms, "mynetworks"), 1);
    assert_int_equal(match_parent_style(pdms, "mydestination"), 0);
    assert_int_equal(match_parent_style(pdms, "relay"), 0);
    assert_int_equal(match_parent_style("", "relay_domains"), 0);
    assert_int_equal(match_parent_style(NULL, "relay_domains"), 0);
}

static struct if_addr ifa(const char *text, int prefix)
{
    struct if_addr a;
    memset(&a, 0, sizeof(a));
    assert_int_equal(ip_addr_parse(text, &a.addr), 0);
    a.prefix = prefix;
    return a;
}

static void test_mynetworks(void **state)
{
    (void)state;
    struct if_addr ifs[] = {
        ifa("127.0.0.1", 8),     ifa("192.168.1.10", 24), ifa("10.1.2.3", 16),
        ifa("172.20.1.1", 24),   ifa("::1", 128),         ifa("fe80::1:2", 64),
        ifa("192.168.1.11", 24), ifa("224.0.0.5", 28),
    };
    size_t n = sizeof(ifs) / sizeof(ifs[0]);
    struct str out = STR_INIT, err = STR_INIT;
    assert_int_equal(mynetworks_compute("host", ifs, n, &out, &err), 0);
    assert_string_equal(out.data, "127.0.0.1/32 192.168.1.10/32 10.1.2.3/32 172.20.1.1/32 "
                                  "[::1]/128 [fe80::1:2]/128 192.168.1.11/32 224.0.0.5/32");
    str_clear(&out);
    assert_int_equal(mynetworks_compute("subnet", ifs, n, &out, &err), 0);
    assert_string_equal(out.data, "127.0.0.0/8 192.168.1.0/24 10.1.0.0/16 172.20.1.0/24 "
                                  "[::1]/128 [fe80::]/64 224.0.0.0/28");
    str_clear(&out);
    assert_int_equal(mynetworks_compute("CLASS", ifs, n, &out, &err), 0);
    assert_string_equal(out.data, "127.0.0.0/8 192.168.1.0/24 10.0.0.0/8 172.20.0.0/16 "
                                  "[::1]/128 [fe80::]/64 224.0.0.0/28");
    assert_int_equal(mynetworks_compute("nets", ifs, n, &out, &err), -1);
    assert_string_equal(err.data, "unknown mynetworks_style value: nets");
    /* the computed value is a valid list */
    str_clear(&out);
    assert_int_equal(mynetworks_compute("subnet", ifs, n, &out, &err), 0);
    struct match_list *l = make(out.data, MATCH_KIND_HOSTADDR, 0);
    assert_int_equal(match_list_match(l, "x", "192.168.1.200"), MATCH_YES);
    assert_int_equal(match_list_match(l, "x", "fe80::99"), MATCH_YES);
    assert_int_equal(match_list_match(l, "x", "10.2.0.1"), MATCH_NO);
    match_list_free(l);

    struct if_addr *mine = NULL;
    long count = interface_addresses(&mine, &err);
    assert_true(count >= 0);
    int loopback = 0;
    for (long i = 0; i < count; i++)
        loopback |= mine[i].addr.family == AF_INET && mine[i].addr.bytes[0] == 127;
    if (count > 0)
        assert_true(loopback);
    free(mine);
    str_release(&out);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_strings),  cmocka_unit_test(test_domain_tables),
        cmocka_unit_test(test_table_errors),    cmocka_unit_test(test_hostaddr),
        cmocka_unit_test(test_addr_and_string), cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_files),           cmocka_unit_test(test_pattern_table),
        cmocka_unit_test(test_parent_style),    cmocka_unit_test(test_mynetworks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
