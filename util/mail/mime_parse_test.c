/* Unit tests for Content-Type and Content-Transfer-Encoding value parsing: comments, quoted
 * strings with quoted pairs and folding, unquoted boundary values, several boundaries, and
 * malformed values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/mime_parse.h"

#include <string.h>

struct ct {
    int rc;
    struct str type, sub;
    struct argv *b;
};

static void parse(struct ct *c, const char *value)
{
    c->type = (struct str)STR_INIT;
    c->sub = (struct str)STR_INIT;
    c->b = argv_new();
    c->rc = mime_parse_content_type(value, strlen(value), &c->type, &c->sub, c->b);
}

static void release(struct ct *c)
{
    str_release(&c->type);
    str_release(&c->sub);
    argv_free(c->b);
}

static void test_simple_types(void **state)
{
    (void)state;
    struct ct c;
    parse(&c, " Text/PLAIN; charset=us-ascii");
    assert_int_equal(c.rc, 1);
    assert_string_equal(c.type.data, "text");
    assert_string_equal(c.sub.data, "plain");
    assert_int_equal(c.b->n, 0);
    release(&c);
    parse(&c, "message");
    assert_int_equal(c.rc, 1);
    assert_string_equal(c.type.data, "message");
    assert_string_equal(c.sub.data, "");
    release(&c);
    parse(&c, "  (only a comment) ");
    assert_int_equal(c.rc, 0);
    release(&c);
    parse(&c, "; boundary=x");
    assert_int_equal(c.rc, 0);
    release(&c);
}

static void test_comments_quotes_and_folding(void **state)
{
    (void)state;
    struct ct c;
    /* the example of Postfix's own MIME test: comments with quoted pairs, spaces around '=',
     * a quoted pair and a fold inside the quoted boundary, junk after it */
    parse(&c, " multipart/(co\\m\\)ment)mumble mumble; boundary = \"ab\\cd\n ef\" mumble");
    assert_int_equal(c.rc, 1);
    assert_string_equal(c.type.data, "multipart");
    assert_string_equal(c.sub.data, "mumble");
    assert_int_equal(c.b->n, 1);
    assert_string_equal(c.b->v[0], "abcd ef");
    release(&c);
    parse(&c, "multipart/mumble; boundary(comment)=\"pqrs\"");
    assert_int_equal(c.b->n, 1);
    assert_string_equal(c.b->v[0], "pqrs");
    release(&c);
    parse(&c, "multipart/mixed;\n\tBOUNDARY=\"a;b (c)\";charset=x");
    assert_int_equal(c.b->n, 1);
    assert_string_equal(c.b->v[0], "a;b (c)");
    release(&c);
}

static void test_unquoted_and_several_boundaries(void **state)
{
    (void)state;
    struct ct c;
    parse(&c, "multipart/alternative; boundary=----=_Part_0_1.2; x=y");
    assert_int_equal(c.b->n, 1);
    assert_string_equal(c.b->v[0], "----=_Part_0_1.2");
    release(&c);
    parse(&c, "multipart/mixed; boundary=one; foo; boundary=\"two\"; bar=; boundary=");
    assert_int_equal(c.b->n, 2);
    assert_string_equal(c.b->v[0], "one");
    assert_string_equal(c.b->v[1], "two");
    release(&c);
    parse(&c, "multipart/mixed; boundary=\"unterminated");
    assert_string_equal(c.b->v[0], "unterminated");
    release(&c);
    parse(&c, "multipart/mixed (unterminated; boundary=x");
    assert_string_equal(c.sub.data, "mixed");
    assert_int_equal(c.b->n, 0);
    release(&c);
}

static void test_encoding(void **state)
{
    (void)state;
    struct str e = STR_INIT;
    assert_int_equal(mime_parse_encoding(" (c) Base64 (x)", 15, &e), 1);
    assert_string_equal(e.data, "base64");
    assert_int_equal(mime_parse_encoding("\n\tQuoted-Printable", 18, &e), 1);
    assert_string_equal(e.data, "quoted-printable");
    assert_int_equal(mime_parse_encoding("  ", 2, &e), 0);
    assert_int_equal(mime_parse_encoding("\"7bit\"", 6, &e), 0);
    str_release(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_types),
        cmocka_unit_test(test_comments_quotes_and_folding),
        cmocka_unit_test(test_unquoted_and_several_boundaries),
        cmocka_unit_test(test_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
