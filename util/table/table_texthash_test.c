/* Unit tests for texthash: (table_texthash.c) and the source reader (table_source.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table.h"
#include "table/table_source.h"
#include "table/table_test_util.h"

#include <unistd.h>

static void test_texthash(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT, v = STR_INIT, k = STR_INIT;
    const char *text = "# access\n"
                       "Example.COM   OK\n"
                       "\n"
                       "   \n"
                       "spam.example  REJECT go\n"
                       "\taway\n"
                       "example.com   duplicate\n"
                       "keyonly\n";
    test_write(&spec, "texthash", "access", text, strlen(text));
    struct table *t = table_open(str_cstr(&spec), TABLE_FLAG_FOLD_KEY, &err);
    assert_non_null(t);
    assert_int_equal(table_lookup(t, "EXAMPLE.com", &v), TABLE_FOUND);
    assert_string_equal(str_cstr(&v), "OK");
    assert_int_equal(table_lookup(t, "spam.example", &v), TABLE_FOUND);
    assert_string_equal(str_cstr(&v), "REJECT go\taway");
    assert_int_equal(table_lookup(t, "keyonly", &v), TABLE_NOTFOUND);
    int n = 0;
    for (int first = 1; table_iterate(t, first, &k, &v) == TABLE_FOUND; first = 0)
        n++;
    assert_int_equal(n, 2);
    assert_int_equal(table_changed(t), 0);
    usleep(10000);
    test_write(&spec, "texthash", "access", "a b\n", 4);
    assert_int_equal(table_changed(t), 1);
    table_close(t);
    /* Without folding the key stays as written. */
    test_write(&spec, "texthash", "access", "MiXed v\n", 8);
    t = table_open(str_cstr(&spec), 0, &err);
    assert_int_equal(table_lookup(t, "MiXed", &v), TABLE_FOUND);
    assert_int_equal(table_lookup(t, "mixed", &v), TABLE_NOTFOUND);
    table_close(t);
    str_release(&spec);
    str_release(&err);
    str_release(&v);
    str_release(&k);
}

static void test_hostile(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT, v = STR_INIT, text = STR_INIT;
    assert_null(table_open("texthash:/nonexistent/x", 0, &err));
    assert_non_null(strstr(str_cstr(&err), "No such file"));
    test_write(&spec, "texthash", "nul", "a b\nc\0d e\n", 10);
    assert_null(table_open(str_cstr(&spec), 0, &err));
    assert_non_null(strstr(str_cstr(&err), "nul, line 2: NUL byte in input"));
    /* 100 KB key and value, continuation at end of file without newline. */
    for (int i = 0; i < 100000; i++)
        str_appendc(&text, 'k');
    str_append(&text, " ");
    for (int i = 0; i < 100000; i++)
        str_appendc(&text, 'v');
    str_append(&text, "\n more");
    test_write(&spec, "texthash", "long", text.data, text.len);
    struct table *t = table_open(str_cstr(&spec), 0, &err);
    assert_non_null(t);
    str_truncate(&text, 100000);
    assert_int_equal(table_lookup(t, str_cstr(&text), &v), TABLE_FOUND);
    assert_int_equal(v.len, 100005);
    assert_string_equal(v.data + 100000, " more");
    table_close(t);
    /* Over the logical line limit. */
    str_clear(&text);
    str_append(&text, "k ");
    for (int i = 0; i < TABLE_SOURCE_LINE_LIMIT + 10; i++)
        str_appendc(&text, 'v');
    test_write(&spec, "texthash", "huge", text.data, text.len);
    assert_null(table_open(str_cstr(&spec), 0, &err));
    assert_non_null(strstr(str_cstr(&err), "huge, line 1: line longer than"));
    str_release(&text);
    str_release(&spec);
    str_release(&err);
    str_release(&v);
}

static void test_source_lines(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT, line = STR_INIT;
    const char *text = "  lead\n# c\nA 1\r\n  2\n\n\tB\nC 3   \n";
    test_write(&spec, "x", "src", text, strlen(text));
    struct table_source src;
    assert_int_equal(table_source_open(&src, spec.data + 2, &err), 0);
    assert_int_equal(table_source_next(&src, &line, &err), 1);
    /* blank and comment lines are ignored, even inside a continued line */
    assert_string_equal(str_cstr(&line), "A 1  2\tB");
    assert_int_equal(src.start, 3);
    assert_int_equal(table_source_next(&src, &line, &err), 1);
    assert_string_equal(str_cstr(&line), "C 3");
    assert_int_equal(src.start, 7);
    assert_int_equal(table_source_next(&src, &line, &err), 0);
    table_source_close(&src);
    str_release(&spec);
    str_release(&err);
    str_release(&line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_texthash),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_source_lines),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
