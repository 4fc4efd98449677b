/* Unit tests for table_build (source parsing in both syntaxes, atomic builds, incremental
 * updates) and table_tool (query, dump, delete output shapes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table.h"
#include "table/table_build.h"
#include "table/table_test_util.h"
#include "table/table_tool.h"

static void test_alias_records(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT, k = STR_INIT, v = STR_INIT;
    const char *text = "Root: a, b\n"
                       "\"Quoted Name\": c\n"
                       "\"q\\\"x\": d\n"
                       "nocolon\n"
                       "empty:\n"
                       "pipe: \"|cmd arg\",\n"
                       "  /file\n";
    test_write(&spec, "x", "aliases", text, strlen(text));
    struct table_source src;
    assert_int_equal(table_source_open(&src, spec.data + 2, &err), 0);
    struct table_build_opts o = {.syntax = TABLE_SYNTAX_ALIASES, .fold = 1};
    int line;
    static const char *want[][2] = {
        {"root", "a, b"}, {"quoted name", "c"}, {"q\"x", "d"}, {"pipe", "\"|cmd arg\",  /file"}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(table_build_next(&src, &o, &k, &v, &line, &err), 1);
        assert_string_equal(str_cstr(&k), want[i][0]);
        assert_string_equal(str_cstr(&v), want[i][1]);
    }
    assert_int_equal(line, 6);
    assert_int_equal(table_build_next(&src, &o, &k, &v, &line, &err), 0);
    table_source_close(&src);
    str_release(&spec);
    str_release(&err);
    str_release(&k);
    str_release(&v);
}

static void test_build_tool(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT;
    test_write(&spec, "btree", "al", "root: x\nabuse: root\n", 20);
    struct table_build_opts o = {.syntax = TABLE_SYNTAX_ALIASES, .fold = 1};
    assert_int_equal(table_build(str_cstr(&spec), &o, &err), 0);
    char *specs[] = {spec.data};
    char buf[256] = "";
    FILE *out = fmemopen(buf, sizeof(buf), "w");
    assert_int_equal(table_tool_dump(specs, 1, 0, out, &err), 0);
    fclose(out);
    assert_string_equal(buf, "@\t@\nabuse\troot\nroot\tx\n"); /* btree: sorted */
    out = fmemopen(buf, sizeof(buf), "w");
    assert_int_equal(table_tool_query(specs, 1, TABLE_FLAG_FOLD_KEY, "ROOT", out, &err), 0);
    assert_int_equal(table_tool_query(specs, 1, 0, "nobody", out, &err), 1);
    fclose(out);
    assert_string_equal(buf, "x\n");
    FILE *in = fmemopen("abuse\nnobody\n", 13, "r");
    out = fmemopen(buf, sizeof(buf), "w");
    assert_int_equal(table_tool_query_stream(specs, 1, 0, TABLE_TOOL_LINES, in, out, &err), 0);
    fclose(out);
    fclose(in);
    assert_string_equal(buf, "abuse\troot\n");
    in = fmemopen("new: y\n", 7, "r");
    assert_int_equal(table_build_incremental(str_cstr(&spec), in, &o, &err), 0);
    fclose(in);
    assert_int_equal(table_tool_delete(specs, 1, 0, "abuse", NULL, &err), 0);
    assert_int_equal(table_tool_delete(specs, 1, 0, "abuse", NULL, &err), 1);
    out = fmemopen(buf, sizeof(buf), "w");
    assert_int_equal(table_tool_dump(specs, 1, 0, out, &err), 0);
    fclose(out);
    assert_string_equal(buf, "@\t@\nnew\ty\nroot\tx\n");
    /* Types that cannot be built or listed. */
    struct str other = STR_INIT;
    str_setf(&other, "cidr:%s", spec.data + 6);
    assert_int_equal(table_build(str_cstr(&other), &o, &err), -1);
    char *inl[] = {"static:x"};
    out = fmemopen(buf, sizeof(buf), "w");
    assert_int_equal(table_tool_dump(inl, 1, 0, out, &err), -1);
    fclose(out);
    assert_non_null(strstr(str_cstr(&err), "does not support sequential access"));
    str_release(&other);
    str_release(&spec);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alias_records),
        cmocka_unit_test(test_build_tool),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
