/* Unit tests for the main.cf grammar, $ expansion and the typed getters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/log.h"
#include "mail/config.h"
#include "mail/params.h"

#include <stdlib.h>
#include <string.h>

static jmp_buf fatal_jmp;
static void fatal_hook(int status)
{
    (void)status;
    longjmp(fatal_jmp, 1);
}

static void load(const char *text)
{
    struct str err = STR_INIT;
    config_reset();
    int rc = config_load_text("/etc/postfix/main.cf", text, strlen(text), &err);
    if (rc != 0)
        fail_msg("load failed: %s", str_cstr(&err));
    str_release(&err);
}

static const char *load_error(const char *text, size_t len)
{
    static struct str err;
    str_clear(&err);
    config_reset();
    assert_int_equal(config_load_text("/etc/postfix/main.cf", text, len, &err), -1);
    return str_cstr(&err);
}

static void test_grammar(void **state)
{
    (void)state;
    load("# comment\n\nfoo = one\n  two\n\tthree\nbar=x   \n  # indented comment\n"
         "foo = last wins  \nempty =\nlong = a\n# between\n  b\n");
    assert_string_equal(config_get_raw("foo"), "last wins");
    assert_string_equal(config_get_raw("bar"), "x");
    assert_string_equal(config_get_raw("empty"), "");
    assert_string_equal(config_get_raw("long"), "a b");
    assert_int_equal(config_set_line("foo"), 8);
    load("a = one\n  two\n");
    assert_string_equal(config_get("a"), "one two");
    load("x = a # not a comment\n");
    assert_string_equal(config_get("x"), "a # not a comment");
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(load_error("a = 1\n\nfoo\n", 11),
                        "/etc/postfix/main.cf, line 3: missing '=' after attribute name: \"foo\"");
    assert_string_equal(load_error("= 1\n", 4),
                        "/etc/postfix/main.cf, line 1: missing attribute name");
    assert_string_equal(
        load_error("  a = 1\n", 8),
        "/etc/postfix/main.cf, line 1: logical line must not start with white space");
    assert_string_equal(load_error("a = 1\nb = x\0y\n", 14),
                        "/etc/postfix/main.cf, line 2: NUL character in text");
    /* a failed load keeps the previous settings */
    load("keep = 1\n");
    struct str err = STR_INIT;
    assert_int_equal(config_load_text("m", "bad\n", 4, &err), -1);
    assert_string_equal(config_get("keep"), "1");
    str_release(&err);
}

static void test_long_line(void **state)
{
    (void)state;
    size_t n = 100 * 1024;
    char *text = malloc(n + 20);
    memcpy(text, "big = ", 6);
    memset(text + 6, 'x', n);
    strcpy(text + 6 + n, "\n");
    load(text);
    assert_int_equal(strlen(config_get("big")), n);
    free(text);
}

static void test_expansion(void **state)
{
    (void)state;
    load("a = A\nempty =\nb = <$a>\nc = ${a}$(a)\nd = ${a?set}${empty?no}\n"
         "e = ${a:no}${empty:unset}\nf = ${a?{yes}:{no}}/${empty?{yes}:{no}}\n"
         "g = ${empty?{x}}${a:{y}}${empty:{z}}\nh = $$a $ $\nunknown = [$nosuch]\n"
         "nested = ${a?{${b}}}\nspaces = ${a ? {1} : {2}}\n");
    assert_string_equal(config_get("b"), "<A>");
    assert_string_equal(config_get("c"), "AA");
    assert_string_equal(config_get("d"), "set");
    assert_string_equal(config_get("e"), "unset");
    assert_string_equal(config_get("f"), "yes/no");
    assert_string_equal(config_get("g"), "z");
    assert_string_equal(config_get("h"), "$a $ $");
    assert_string_equal(config_get("unknown"), "[]");
    assert_string_equal(config_get("nested"), "<A>");
    assert_null(config_get("nosuch"));
    assert_string_equal(config_get_raw("b"), "<$a>");
    struct str out = STR_INIT, err = STR_INIT;
    assert_int_equal(config_expand("x${a}y", &out, &err), 0);
    assert_string_equal(out.data, "xAy");
    str_clear(&out);
    assert_int_equal(config_expand("${a", &out, &err), -1);
    assert_non_null(strstr(err.data, "unbalanced"));
    str_release(&out);
    str_release(&err);
}

static void test_override_and_lazy(void **state)
{
    (void)state;
    load("a = $b\nb = 1\n");
    assert_string_equal(config_get("a"), "1");
    config_override("b", "2");
    assert_string_equal(config_get("a"), "2");
}

static void test_loop(void **state)
{
    (void)state;
    load("a = x$b\nb = $c\nc = ${a}\nself = $self\n");
    struct str err = STR_INIT;
    assert_null(config_get_checked("a", &err));
    assert_string_equal(err.data, "/etc/postfix/main.cf: parameter a: recursive $ expansion: "
                                  "$a -> $b -> $c -> $a");
    str_clear(&err);
    assert_null(config_get_checked("self", &err));
    assert_non_null(strstr(err.data, "parameter self"));
    log_set_stderr(0);
    if (setjmp(fatal_jmp) == 0) {
        config_get("b");
        fail_msg("loop was not fatal");
    }
    log_set_stderr(1);
    str_release(&err);
}

static void test_depth_limit(void **state)
{
    (void)state;
    struct str text = STR_INIT, err = STR_INIT;
    for (int i = 0; i < 150; i++)
        str_appendf(&text, "p%d = $p%d\n", i, i + 1);
    str_append(&text, "p150 = end\n");
    load(text.data);
    assert_null(config_get_checked("p0", &err));
    assert_non_null(strstr(err.data, "unreasonable macro call nesting"));
    assert_string_equal(config_get("p60"), "end");
    /* exponential fan-out stays fast thanks to the cache */
    str_clear(&text);
    for (int i = 0; i < 60; i++)
        str_appendf(&text, "q%d = $q%d$q%d\n", i, i + 1, i + 1);
    str_append(&text, "q60 =\n");
    load(text.data);
    assert_string_equal(config_get("q0"), "");
    str_release(&text);
    str_release(&err);
}

static void expect_fatal(const char *name)
{
    log_set_stderr(0);
    if (setjmp(fatal_jmp) == 0) {
        (void)config_get_int(name);
        log_set_stderr(1);
        fail_msg("%s did not fail", name);
    }
    log_set_stderr(1);
}

static void test_typed(void **state)
{
    (void)state;
    load("t1 = yes\nt2 = FALSE\nn = -42\nqueue_run_delay = 5m\nmaximal_queue_lifetime = 2\n"
         "bounce_queue_lifetime = 1w\nmessage_size_limit = 123456789012\nbadint = 12x\n"
         "smtpd_timeout = 7\n");
    assert_int_equal(config_get_bool("t1"), 1);
    assert_int_equal(config_get_bool("t2"), 0);
    assert_int_equal(config_get_bool("biff"), 1);
    assert_int_equal(config_get_int("n"), -42);
    assert_int_equal(config_get_time("queue_run_delay"), 300);
    assert_int_equal(config_get_time("maximal_queue_lifetime"), 2 * 86400); /* default unit d */
    assert_int_equal(config_get_time("bounce_queue_lifetime"), 7 * 86400);
    assert_int_equal(config_get_time("smtpd_timeout"), 7);
    assert_int_equal(config_get_time("delay_warning_time"), 0);
    assert_int_equal(config_get_size("message_size_limit"), 123456789012LL);
    assert_int_equal(config_get_int("smtpd_hard_error_limit"), 20);
    expect_fatal("badint");
    long t;
    int b;
    long long z;
    assert_int_equal(config_parse_time("10x", 's', &t), -1);
    assert_int_equal(config_parse_time("10ss", 's', &t), -1);
    assert_int_equal(config_parse_time("", 's', &t), -1);
    assert_int_equal(config_parse_time("99999999999999999999", 's', &t), -1);
    assert_int_equal(config_parse_bool("maybe", &b), -1);
    assert_int_equal(config_parse_size("-1", &z), -1);
    assert_int_equal(config_parse_int("", &t), -1);
}

static void test_edit_text(void **state)
{
    (void)state;
    const char *text = "# head\na = 1\n  cont\n# mid\nb = 2\na = dup\nc = 3";
    struct config_edit set[] = {{"a", "new"}, {"z", "added"}};
    struct str out = STR_INIT;
    config_edit_text(text, strlen(text), CONFIG_EDIT_SET, set, 2, &out);
    assert_string_equal(out.data, "# head\na = new\n# mid\nb = 2\nc = 3\nz = added\n");
    str_clear(&out);
    struct config_edit rm[] = {{"b", NULL}, {"a", NULL}};
    config_edit_text(text, strlen(text), CONFIG_EDIT_REMOVE, rm, 2, &out);
    assert_string_equal(out.data, "# head\n# mid\nc = 3");
    str_clear(&out);
    config_edit_text(text, strlen(text), CONFIG_EDIT_COMMENT, rm, 1, &out);
    assert_string_equal(out.data, "# head\na = 1\n  cont\n# mid\n#b = 2\na = dup\nc = 3");
    str_release(&out);
}

static void test_unused_refs(void **state)
{
    (void)state;
    struct argv *a = argv_new();
    config_collect_refs("$x ${y?z} $(w) $$no $", a);
    assert_int_equal(a->n, 3);
    assert_string_equal(a->v[0], "x");
    assert_string_equal(a->v[1], "y");
    assert_string_equal(a->v[2], "w");
    argv_free(a);
}

int main(void)
{
    log_set_fatal_hook(fatal_hook);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar),           cmocka_unit_test(test_errors),
        cmocka_unit_test(test_long_line),         cmocka_unit_test(test_expansion),
        cmocka_unit_test(test_override_and_lazy), cmocka_unit_test(test_loop),
        cmocka_unit_test(test_depth_limit),       cmocka_unit_test(test_typed),
        cmocka_unit_test(test_edit_text),         cmocka_unit_test(test_unused_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
