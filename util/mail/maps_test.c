/* Unit tests for maps: opening lists of tables, error propagation, and the exact key orders of
 * the address, domain and client searches (checked with a table that records its keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/argv.h"
#include "base/str.h"
#include "mail/maps.h"
#include "table/table.h"

#include <stdlib.h>
#include <string.h>

/* ---- a recording table: remembers every key, finds nothing ------------------------------ */

static int record_lookup(struct table *t, const char *key, struct str *value)
{
    (void)value;
    argv_add(t->priv, key);
    return TABLE_NOTFOUND;
}

static void record_close(struct table *t)
{
    table_free(t);
}

static const struct table_ops record_ops = {.lookup = record_lookup, .close = record_close};

static struct table *recorder(struct argv *log, int properties)
{
    return table_alloc("record", "x", 0, properties, &record_ops, log);
}

/* Joins the recorded keys with spaces and clears the log. */
static void expect_keys(struct argv *log, const char *want)
{
    struct str got = STR_INIT;
    for (size_t i = 0; i < log->n; i++) {
        if (i)
            str_appendc(&got, ' ');
        str_append(&got, log->v[i]);
    }
    if (strcmp(str_cstr(&got), want) != 0)
        fail_msg("keys:\n  got  \"%s\"\n  want \"%s\"", str_cstr(&got), want);
    argv_clear(log);
    str_release(&got);
}

struct fixture {
    struct maps *m;
    struct argv *fixed, *pattern;
    struct str value, key;
};

static struct fixture *fixture(void)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->fixed = argv_new();
    f->pattern = argv_new();
    f->m = maps_open("smtpd_access_maps", "", 0);
    maps_append(f->m, recorder(f->fixed, TABLE_PROP_FIXED));
    maps_append(f->m, recorder(f->pattern, TABLE_PROP_PATTERN));
    return f;
}

static void fixture_free(struct fixture *f)
{
    maps_free(f->m);
    argv_free(f->fixed);
    argv_free(f->pattern);
    str_release(&f->value);
    str_release(&f->key);
    free(f);
}

static void addr_keys(struct fixture *f, const char *addr, const struct maps_addr_opts *o,
                      const char *fixed, const char *pattern)
{
    assert_int_equal(maps_find_address(f->m, addr, o, &f->value, &f->key), TABLE_NOTFOUND);
    expect_keys(f->fixed, fixed);
    expect_keys(f->pattern, pattern);
}

static void test_access_order(void **state)
{
    (void)state;
    struct fixture *f = fixture();
    struct maps_addr_opts o = {MAPS_STYLE_ACCESS, {"+", NULL}, 0, 0, NULL};
    addr_keys(f, "user+ext@sub.example.com", &o,
              "user+ext@sub.example.com user@sub.example.com sub.example.com .example.com .com "
              "user+ext@ user@",
              "user+ext@sub.example.com");
    o.parent_style = 1;
    addr_keys(f, "user+ext@sub.example.com", &o,
              "user+ext@sub.example.com user@sub.example.com sub.example.com example.com com "
              "user+ext@ user@",
              "user+ext@sub.example.com");
    addr_keys(f, "user@example.com", &o, "user@example.com example.com com user@",
              "user@example.com");
    o.ext.delimiters = "+-";
    addr_keys(f, "owner-list@example.com", &o, "owner-list@example.com example.com com owner-list@",
              "owner-list@example.com");
    addr_keys(f, "a-b+c@x", &o, "a-b+c@x a@x x a-b+c@ a@", "a-b+c@x");
    o.ext.delimiters = NULL;
    addr_keys(f, "user+ext@x", &o, "user+ext@x x user+ext@", "user+ext@x");
    addr_keys(f, "postmaster", &o, "postmaster postmaster@", "postmaster");
    addr_keys(f, "user@[192.0.2.1]", &o, "user@[192.0.2.1] [192.0.2.1] user@", "user@[192.0.2.1]");
    /* the null sender: only with smtpd_null_access_lookup_key */
    addr_keys(f, "", &o, "", "");
    o.null_key = "<>";
    addr_keys(f, "", &o, "<>", "<>");
    /* quoted local parts are looked up in internal form */
    addr_keys(f, "a b@x", &o, "a b@x x a b@", "a b@x");
    fixture_free(f);
}

static void test_virtual_order(void **state)
{
    (void)state;
    struct fixture *f = fixture();
    struct maps_addr_opts o = {MAPS_STYLE_VIRTUAL, {"+", NULL}, 0, 0, "<>"};
    addr_keys(f, "user+ext@example.com", &o, "user+ext@example.com user@example.com @example.com",
              "user+ext@example.com");
    o.domain_is_local = 1;
    addr_keys(f, "user+ext@example.com", &o,
              "user+ext@example.com user@example.com user+ext user @example.com",
              "user+ext@example.com");
    addr_keys(f, "user@example.com", &o, "user@example.com user @example.com", "user@example.com");
    addr_keys(f, "user+ext", &o, "user+ext user", "user+ext");
    addr_keys(f, "", &o, "", ""); /* null_key is for access maps only */
    fixture_free(f);
}

static void test_domain_and_client_order(void **state)
{
    (void)state;
    struct fixture *f = fixture();
    assert_int_equal(maps_find_domain(f->m, "a.b.example.com", 0, &f->value, NULL), TABLE_NOTFOUND);
    expect_keys(f->fixed, "a.b.example.com .b.example.com .example.com .com");
    expect_keys(f->pattern, "a.b.example.com");
    assert_int_equal(maps_find_domain(f->m, "a.b.example.com", 1, &f->value, NULL), TABLE_NOTFOUND);
    expect_keys(f->fixed, "a.b.example.com b.example.com example.com com");
    expect_keys(f->pattern, "a.b.example.com");
    assert_int_equal(maps_find_domain(f->m, "localhost", 1, &f->value, NULL), TABLE_NOTFOUND);
    expect_keys(f->fixed, "localhost");
    expect_keys(f->pattern, "localhost");

    assert_int_equal(maps_find_client(f->m, "mail.example.com", "192.168.88.5", 0, &f->value, NULL),
                     TABLE_NOTFOUND);
    expect_keys(f->fixed, "mail.example.com .example.com .com 192.168.88.5 192.168.88 192.168 192");
    expect_keys(f->pattern, "mail.example.com 192.168.88.5");
    assert_int_equal(maps_find_client(f->m, "unknown", "2001:db8::1", 1, &f->value, NULL),
                     TABLE_NOTFOUND);
    expect_keys(f->fixed, "unknown 2001:db8::1 2001:db8: 2001:db8 2001");
    expect_keys(f->pattern, "unknown 2001:db8::1");
    assert_int_equal(maps_find_client(f->m, NULL, "1:2:3:4:5:6:7:8", 1, &f->value, NULL),
                     TABLE_NOTFOUND);
    expect_keys(f->fixed, "1:2:3:4:5:6:7:8 1:2:3:4:5:6:7 1:2:3:4:5:6 1:2:3:4:5 1:2:3:4 1:2:3 "
                          "1:2 1");
    expect_keys(f->pattern, "1:2:3:4:5:6:7:8");
    assert_int_equal(maps_find_client(f->m, "", NULL, 1, &f->value, NULL), TABLE_NOTFOUND);
    expect_keys(f->fixed, "");
    fixture_free(f);
}

static void test_found_and_values(void **state)
{
    (void)state;
    struct str v = STR_INIT, k = STR_INIT;
    struct maps *m = maps_open("smtpd_client_restrictions",
                               "inline:{ 192.168.88=OK, .Example.com=REJECT, { spam@=DISCARD } },"
                               " inline:{ { 192.168.88.7=REJECT local }, user@x=second }",
                               TABLE_FLAG_FOLD_KEY);
    /* the seed tutorials: a network prefix key */
    assert_int_equal(maps_find_client(m, "unknown", "192.168.88.7", 0, &v, &k), TABLE_FOUND);
    assert_string_equal(v.data, "REJECT local"); /* the full address is tried first */
    assert_string_equal(k.data, "192.168.88.7");
    assert_int_equal(maps_find_client(m, "unknown", "192.168.88.9", 0, &v, &k), TABLE_FOUND);
    assert_string_equal(v.data, "OK");
    assert_string_equal(k.data, "192.168.88");
    assert_int_equal(maps_find_client(m, "unknown", "192.168.8.9", 0, &v, &k), TABLE_NOTFOUND);
    assert_int_equal(maps_find_client(m, "Host.EXAMPLE.com", "10.0.0.1", 0, &v, &k), TABLE_FOUND);
    assert_string_equal(v.data, "REJECT");
    assert_string_equal(k.data, ".example.com");
    struct maps_addr_opts o = {MAPS_STYLE_ACCESS, {"+", NULL}, 0, 0, NULL};
    assert_int_equal(maps_find_address(m, "Spam+x@Elsewhere.ORG", &o, &v, &k), TABLE_FOUND);
    assert_string_equal(v.data, "DISCARD");
    assert_string_equal(k.data, "spam@");
    assert_int_equal(maps_find_address(m, "user@x", &o, &v, &k), TABLE_FOUND);
    assert_string_equal(v.data, "second");
    assert_int_equal(maps_find(m, "USER@X", &v), TABLE_FOUND);
    assert_int_equal(maps_find(m, "nobody", &v), TABLE_NOTFOUND);
    assert_string_equal(maps_error(m), "");
    maps_free(m);
    maps_free(maps_open("empty", "", 0));
    str_release(&v);
    str_release(&k);
}

static void test_errors(void **state)
{
    (void)state;
    struct str v = STR_INIT, k = STR_INIT;
    struct maps *m = maps_open("virtual_alias_maps",
                               "inline:{ a@x=first }, fail:down, "
                               "inline:{ b@x=never }",
                               0);
    struct maps_addr_opts o = {MAPS_STYLE_VIRTUAL, {"+", NULL}, 1, 0, NULL};
    assert_int_equal(maps_find_address(m, "a@x", &o, &v, &k), TABLE_FOUND);
    assert_string_equal(v.data, "first");
    assert_int_equal(maps_find_address(m, "b@x", &o, &v, &k), TABLE_ERROR);
    assert_string_equal(maps_error(m),
                        "virtual_alias_maps: fail:down: fail:down: table lookup failed (as "
                        "configured)");
    assert_int_equal(maps_find(m, "c", &v), TABLE_ERROR);
    assert_int_equal(maps_find_domain(m, "x.y", 1, &v, NULL), TABLE_ERROR);
    assert_int_equal(maps_find_client(m, "x.y", "1.2.3.4", 1, &v, NULL), TABLE_ERROR);
    maps_free(m);

    m = maps_open("canonical_maps", "nosuchtype:/etc/postfix/x", 0);
    assert_int_equal(maps_find(m, "a", &v), TABLE_ERROR);
    assert_non_null(strstr(maps_error(m), "canonical_maps: surrogate:/etc/postfix/x: "));
    assert_non_null(strstr(maps_error(m), "unsupported dictionary type: nosuchtype"));
    maps_free(m);

    m = maps_open("canonical_maps", "inline:{ a=b", 0);
    assert_int_equal(maps_find(m, "a", &v), TABLE_ERROR);
    assert_non_null(strstr(maps_error(m), "canonical_maps: unbalanced '{'"));
    maps_free(m);

    m = maps_open("canonical_maps", "notatable", 0);
    assert_int_equal(maps_find(m, "a", &v), TABLE_ERROR);
    assert_non_null(strstr(maps_error(m), "need \"type:name\""));
    maps_free(m);
    str_release(&v);
    str_release(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_order),
        cmocka_unit_test(test_virtual_order),
        cmocka_unit_test(test_domain_and_client_order),
        cmocka_unit_test(test_found_and_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
