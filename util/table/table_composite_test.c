/* Unit tests for unionmap:, pipemap: (table_composite.c), environ: and unix:. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table.h"
#include "table/table_test_util.h"

#include <pwd.h>
#include <unistd.h>

static void expect(const char *spec, const char *key, int status, const char *value)
{
    struct str err = STR_INIT, v = STR_INIT;
    struct table *t = table_open(spec, TABLE_FLAG_FOLD_KEY, &err);
    if (t == NULL)
        fail_msg("open %s: %s", spec, str_cstr(&err));
    assert_int_equal(table_lookup(t, key, &v), status);
    if (value)
        assert_string_equal(str_cstr(&v), value);
    table_close(t);
    str_release(&err);
    str_release(&v);
}

static void test_unionmap(void **state)
{
    (void)state;
    expect("unionmap:{inline:{a=1, b=2}, inline:{a=3}, static:s}", "A", TABLE_FOUND, "1,3,s");
    expect("unionmap:{inline:{a=1}, inline:{b=2}}", "b", TABLE_FOUND, "2");
    expect("unionmap:{inline:{a=1}, inline:{b=2}}", "c", TABLE_NOTFOUND, NULL);
    expect("unionmap:{inline:{a=1}, fail:x}", "a", TABLE_ERROR, NULL);
    expect("unionmap:{ unionmap:{inline:{a=1}, inline:{a=2}}, inline:{ {a = x, y} } }", "a",
           TABLE_FOUND, "1,2,x, y");
}

static void test_pipemap(void **state)
{
    (void)state;
    expect("pipemap:{inline:{a=b}, inline:{b=c}, inline:{c=done}}", "a", TABLE_FOUND, "done");
    expect("pipemap:{inline:{a=b}, inline:{x=y}}", "a", TABLE_NOTFOUND, NULL);
    expect("pipemap:{inline:{a=b}, fail:x}", "a", TABLE_ERROR, NULL);
}

static void test_composite_errors(void **state)
{
    (void)state;
    struct str err = STR_INIT, deep = STR_INIT;
    assert_null(table_open("unionmap:{inline:{a=1}", 0, &err));
    assert_null(table_open("unionmap:inline:{a=1}", 0, &err));
    assert_non_null(strstr(str_cstr(&err), "enclosed in { }"));
    assert_null(table_open("pipemap:{}", 0, &err));
    assert_null(table_open("pipemap:{inline:{a=1}, nosuch:x}", 0, &err));
    assert_non_null(strstr(str_cstr(&err), "unsupported dictionary type: nosuch"));
    assert_null(table_open("unionmap:{inline:{a=1}}}", 0, &err));
    for (int i = 0; i < 40; i++)
        str_append(&deep, "unionmap:{");
    str_append(&deep, "static:x");
    for (int i = 0; i < 40; i++)
        str_append(&deep, "}");
    assert_null(table_open(str_cstr(&deep), 0, &err));
    assert_non_null(strstr(str_cstr(&err), "nested deeper"));
    str_release(&err);
    str_release(&deep);
}

static void test_changed(void **state)
{
    (void)state;
    struct str spec = STR_INIT, err = STR_INIT, u = STR_INIT;
    test_write(&spec, "texthash", "m", "a 1\n", 4);
    str_setf(&u, "unionmap:{inline:{a=0}, %s}", str_cstr(&spec));
    struct table *t = table_open(str_cstr(&u), 0, &err);
    assert_non_null(t);
    assert_int_equal(table_changed(t), 0);
    usleep(10000);
    test_write(&spec, "texthash", "m", "a 22\n", 5);
    assert_int_equal(table_changed(t), 1);
    table_close(t);
    str_release(&spec);
    str_release(&err);
    str_release(&u);
}

static void test_environ_unix(void **state)
{
    (void)state;
    setenv("KESTREL_TEST_VAR", "Value 1", 1);
    expect("environ:", "KESTREL_TEST_VAR", TABLE_FOUND, "Value 1");
    expect("environ:", "KESTREL_NO_SUCH_VAR", TABLE_NOTFOUND, NULL);
    struct passwd *pw = getpwuid(0);
    assert_non_null(pw);
    struct str line = STR_INIT;
    str_setf(&line, "%s:%s:0:%ld:%s:%s:%s", pw->pw_name, pw->pw_passwd, (long)pw->pw_gid,
             pw->pw_gecos, pw->pw_dir, pw->pw_shell);
    expect("unix:passwd.byname", pw->pw_name, TABLE_FOUND, str_cstr(&line));
    expect("unix:passwd.byname", "no-such-user-kestrel", TABLE_NOTFOUND, NULL);
    expect("unix:group.byname", "root", TABLE_FOUND, NULL);
    struct str err = STR_INIT, v = STR_INIT;
    struct table *t = table_open("unix:group.byname", 0, &err);
    assert_int_equal(table_lookup(t, "root", &v), TABLE_FOUND);
    assert_int_equal(strncmp(str_cstr(&v), "root:", 5), 0);
    assert_non_null(strstr(str_cstr(&v), ":0:"));
    table_close(t);
    assert_null(table_open("unix:shadow.byname", 0, &err));
    str_release(&line);
    str_release(&err);
    str_release(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unionmap),         cmocka_unit_test(test_pipemap),
        cmocka_unit_test(test_composite_errors), cmocka_unit_test(test_changed),
        cmocka_unit_test(test_environ_unix),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
