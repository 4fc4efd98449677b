/* Unit tests for regexp: and pcre: (table_pattern.c, table_regexp.c, table_pcre.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table.h"
#include "table/table_test_util.h"

static const char *types[] = {"regexp", "pcre"};

/* Opens a table of the given type from text; NULL (err set) when it does not open. */
static struct table *open_text(const char *type, const char *text, int flags, struct str *err)
{
    struct str spec = STR_INIT;
    test_write(&spec, type, "rules", text, strlen(text));
    struct table *t = table_open(str_cstr(&spec), flags, err);
    str_release(&spec);
    return t;
}

static void expect(struct table *t, const char *key, int status, const char *value)
{
    struct str v = STR_INIT;
    assert_int_equal(table_lookup(t, key, &v), status);
    if (value)
        assert_string_equal(str_cstr(&v), value);
    str_release(&v);
}

static void test_rules(void **state)
{
    (void)state;
    const char *text = "# header checks\n"
                       "/^Subject: (.*)viagra(.*)/ REJECT spam: $1[viagra]${2}\n"
                       "/^From: .*@(example)\\.com$/  OK from $1 costs $$5\n"
                       "\n"
                       "/^X-Case: Exact/i  exact case\n"
                       "/^X-Case: /  any case\n"
                       "!/@/ no at sign\n"
                       "/^multi/ first\n"
                       "  continued\n"
                       "/^multi/ second\n";
    for (int i = 0; i < 2; i++) {
        struct str err = STR_INIT;
        struct table *t = open_text(types[i], text, TABLE_FLAG_FOLD_KEY, &err);
        assert_non_null(t);
        expect(t, "Subject: buy VIAGRA now@", TABLE_FOUND, "REJECT spam: buy [viagra] now@");
        expect(t, "from: joe@EXAMPLE.com", TABLE_FOUND, "OK from EXAMPLE costs $5");
        expect(t, "X-Case: Exact@", TABLE_FOUND, "exact case");
        expect(t, "X-Case: exact@", TABLE_FOUND, "any case");
        expect(t, "no-at-here", TABLE_FOUND, "no at sign");
        expect(t, "multi@", TABLE_FOUND, "first  continued");
        expect(t, "nothing@", TABLE_NOTFOUND, NULL);
        table_close(t);
        str_release(&err);
    }
}

static void test_if_endif(void **state)
{
    (void)state;
    const char *text = "if /^From:/\n"
                       "if !/example\\.com/\n"
                       "/./ outsider\n"
                       "endif\n"
                       "/./ insider\n"
                       "endif\n"
                       "/./ not a from\n";
    for (int i = 0; i < 2; i++) {
        struct str err = STR_INIT;
        struct table *t = open_text(types[i], text, 0, &err);
        assert_non_null(t);
        expect(t, "From: a@other.org", TABLE_FOUND, "outsider");
        expect(t, "From: a@example.com", TABLE_FOUND, "insider");
        expect(t, "To: a@example.com", TABLE_FOUND, "not a from");
        table_close(t);
        str_release(&err);
    }
}

static void test_deep_nesting(void **state)
{
    (void)state;
    struct str text = STR_INIT, err = STR_INIT;
    for (int d = 0; d < 900; d++)
        str_append(&text, "if /a/\n");
    str_append(&text, "/a/ deep\n");
    for (int d = 0; d < 900; d++)
        str_append(&text, "endif\n");
    struct table *t = open_text("regexp", str_cstr(&text), 0, &err);
    assert_non_null(t);
    expect(t, "a", TABLE_FOUND, "deep");
    expect(t, "b", TABLE_NOTFOUND, NULL);
    table_close(t);
    str_clear(&text);
    for (int d = 0; d < 1001; d++)
        str_append(&text, "if /a/\n");
    assert_null(open_text("pcre", str_cstr(&text), 0, &err));
    assert_non_null(strstr(str_cstr(&err), "line 1001: IF nesting deeper than 1000"));
    /* Unbalanced: a stray endif is ignored, a missing one closes at the end. */
    t = open_text("regexp", "endif\nif /x/\n/x/ yes\n", 0, &err);
    assert_non_null(t);
    expect(t, "x", TABLE_FOUND, "yes");
    table_close(t);
    str_release(&text);
    str_release(&err);
}

static void test_errors(void **state)
{
    (void)state;
    struct str err = STR_INIT;
    for (int i = 0; i < 2; i++) {
        assert_null(open_text(types[i], "/ok/ fine\n/a(b/ broken\n", 0, &err));
        assert_non_null(strstr(str_cstr(&err), "/rules, line 2: "));
        assert_null(open_text(types[i], "/(a)/ $2\n", 0, &err));
        assert_non_null(strstr(str_cstr(&err), "line 1: $2 is out of range"));
        assert_null(open_text(types[i], "!/(a)/ $1\n", 0, &err));
        assert_null(open_text(types[i], "/a/q x\n", 0, &err));
        assert_non_null(strstr(str_cstr(&err), "option \"q\""));
        assert_null(open_text(types[i], "/unterminated x\n", 0, &err));
        assert_non_null(strstr(str_cstr(&err), "missing closing '/'"));
        assert_null(open_text(types[i], "/a/\n", 0, &err));
        assert_non_null(strstr(str_cstr(&err), "missing result"));
        assert_null(open_text(types[i], "plain text\n", 0, &err));
        assert_null(open_text(types[i], "if /a/ extra\nendif\n", 0, &err));
        struct str spec = STR_INIT;
        str_setf(&spec, "%s:%s/does-not-exist", types[i], test_dir);
        assert_null(table_open(str_cstr(&spec), 0, &err));
        assert_non_null(strstr(str_cstr(&err), "No such file"));
        str_release(&spec);
    }
    str_release(&err);
}

static void test_no_subst(void **state)
{
    (void)state;
    struct str err = STR_INIT;
    for (int i = 0; i < 2; i++) {
        struct table *t =
            open_text(types[i], "/^(x)/ got $1\n/^y/ plain\n", TABLE_FLAG_NO_SUBST, &err);
        assert_non_null(t);
        expect(t, "xx", TABLE_ERROR, NULL);
        assert_non_null(strstr(str_cstr(&t->error), "substitution is not allowed"));
        expect(t, "yy", TABLE_FOUND, "plain");
        table_close(t);
    }
    str_release(&err);
}

static void test_hostile_input(void **state)
{
    (void)state;
    struct str text = STR_INIT, err = STR_INIT, spec = STR_INIT, key = STR_INIT;
    /* A 100 KB pattern line: POSIX regexps take it; PCRE2 may refuse it as too large, but
     * then with an error naming the file and line. */
    str_append(&text, "/^");
    for (int i = 0; i < 100000; i++)
        str_appendc(&text, 'a');
    str_append(&text, "$/ long\n");
    for (int i = 0; i < 100000; i++)
        str_appendc(&key, 'a');
    struct table *t = open_text("regexp", str_cstr(&text), 0, &err);
    assert_non_null(t);
    expect(t, str_cstr(&key), TABLE_FOUND, "long");
    table_close(t);
    t = open_text("pcre", str_cstr(&text), 0, &err);
    if (t == NULL)
        assert_non_null(strstr(str_cstr(&err), "rules, line 1: pcre"));
    else
        expect(t, str_cstr(&key), TABLE_FOUND, "long");
    table_close(t);
    /* A 100 KB result and a 100 KB key. */
    str_setf(&text, "/^a+$/ %s\n", str_cstr(&key));
    for (int i = 0; i < 2; i++) {
        t = open_text(types[i], str_cstr(&text), 0, &err);
        assert_non_null(t);
        expect(t, str_cstr(&key), TABLE_FOUND, str_cstr(&key));
        table_close(t);
    }
    /* NUL byte. */
    test_write(&spec, "pcre", "nul", "/a/ x\n/b\0/ y\n", 13);
    assert_null(table_open(str_cstr(&spec), 0, &err));
    assert_non_null(strstr(str_cstr(&err), "nul, line 2: NUL byte"));
    /* A continuation as the last line, without newline; a file without rules. */
    t = open_text("regexp", "/a/ x\n   y", 0, &err);
    assert_non_null(t);
    expect(t, "a", TABLE_FOUND, "x   y");
    table_close(t);
    t = open_text("regexp", "   orphan continuation\n", 0, &err);
    assert_non_null(t);
    expect(t, "a", TABLE_NOTFOUND, NULL);
    table_close(t);
    str_release(&text);
    str_release(&err);
    str_release(&spec);
    str_release(&key);
}

static void test_pcre_flags(void **state)
{
    (void)state;
    struct str err = STR_INIT;
    struct table *t = open_text("pcre",
                                "/a . b/x spaced\n"
                                "/^c.d$/s dotall\n"
                                "/^(e+?)/U greedy $1\n"
                                "/^line$/m multi\n"
                                "/\\d+/X digits\n",
                                0, &err);
    assert_non_null(t);
    expect(t, "a-b", TABLE_FOUND, "spaced");
    expect(t, "c\nd", TABLE_FOUND, "dotall");
    expect(t, "eee", TABLE_FOUND, "greedy eee");
    expect(t, "x\nline\ny", TABLE_FOUND, "multi");
    expect(t, "n42", TABLE_FOUND, "digits");
    table_close(t);
    t = open_text("regexp", "/^c.d$/ nl\n/^line$/m multi\n", 0, &err);
    assert_non_null(t);
    expect(t, "c\nd", TABLE_FOUND, "nl");
    expect(t, "x\nline\ny", TABLE_FOUND, "multi");
    table_close(t);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),        cmocka_unit_test(test_if_endif),
        cmocka_unit_test(test_deep_nesting), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_no_subst),     cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_pcre_flags),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
