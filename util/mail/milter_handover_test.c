/* Unit tests for milter_handover: smtpd's filter state and content-stage macros survive the
 * export/import round trip with the connections in their slots; the imported list never sends
 * QUIT; malformed state from another process is refused and its descriptors are closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/config.h"
#include "mail/milter_int.h"
#include "mail/xtext.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *lookup(const char *name, void *ctx)
{
    (void)ctx;
    return strcmp(name, "i") == 0 ? "ABC123" : strcmp(name, "auth_authen") == 0 ? "alice" : NULL;
}

static int setup(void **state)
{
    (void)state;
    struct str err = STR_INIT;
    const char *cf = "milter_end_of_data_macros = i {auth_authen}\nmyhostname = h.example\n"
                     "milter_macro_defaults = site=north, {auth_authen}=nobody\n";
    assert_int_equal(config_load_text("main.cf", cf, strlen(cf), &err), 0);
    str_release(&err);
    return 0;
}

static int fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct str err = STR_INIT, text = STR_INIT;
    struct milters *m = milters_create("unix:/tmp/a.sock, { inet:127.0.0.1:7357, "
                                       "default_action=accept, content_timeout=7s }",
                                       &err);
    assert_non_null(m);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    m->v[0].state = F_READY;
    m->v[0].s = stream_fdopen(sv[0]);
    m->v[0].actions = 0x1ff;
    m->v[0].steps = 0x10;
    m->v[1].state = F_FAILED;
    milters_set_macro_lookup(m, lookup, NULL);
    int fds[MILTER_HANDOVER_MAX];
    assert_int_equal(milters_fds(m, fds, MILTER_HANDOVER_MAX), 2);
    assert_int_equal(fds[0], sv[0]);
    assert_int_equal(fds[1], -1);
    milters_export(m, &text);
    assert_null(strpbrk(text.data, " \r\n\t")); /* one printable line */

    int passed[MILTER_HANDOVER_MAX];
    for (int i = 0; i < MILTER_HANDOVER_MAX; i++)
        passed[i] = -1;
    passed[0] = dup(sv[0]);
    struct milters *c = milters_import(text.data, passed, MILTER_HANDOVER_MAX, &err);
    assert_non_null(c);
    assert_int_equal(passed[0], -1); /* taken over */
    assert_int_equal(milters_count(c), 2);
    assert_string_equal(c->v[0].endpoint, "unix:/tmp/a.sock");
    assert_int_equal(c->v[0].state, F_READY);
    assert_int_equal(c->v[0].actions, 0x1ff);
    assert_int_equal(c->v[0].steps, 0x10);
    assert_non_null(c->v[0].s);
    assert_string_equal(c->v[1].endpoint, "inet:127.0.0.1:7357");
    assert_int_equal(c->v[1].state, F_FAILED);
    assert_int_equal(c->v[1].default_action, DA_ACCEPT);
    assert_int_equal(c->v[1].content_to, 7);
    assert_string_equal(milter_macro_value(c, "auth_authen"), "alice");
    assert_string_equal(milter_macro_value(c, "i"), "ABC123");
    assert_string_equal(milter_macro_value(m, "site"), "north"); /* milter_macro_defaults */
    assert_null(milter_macro_value(m, "sit"));
    int cfd = stream_fd(c->v[0].s);
    milters_free(c); /* borrowed: closes its copy, sends nothing */
    assert_false(fd_open(cfd));
    char b;
    assert_int_equal(recv(sv[1], &b, 1, MSG_DONTWAIT), -1); /* no QUIT arrived */
    milters_free(m);
    close(sv[1]);
    str_release(&text);
    str_release(&err);
}

static void expect_refused(const char *plain)
{
    struct str err = STR_INIT, x = STR_INIT;
    xtext_encode(plain, strlen(plain), &x);
    int fds[MILTER_HANDOVER_MAX];
    for (int i = 0; i < MILTER_HANDOVER_MAX; i++)
        fds[i] = -1;
    fds[0] = open("/dev/null", O_RDONLY);
    int fd = fds[0];
    assert_null(milters_import(x.data, fds, MILTER_HANDOVER_MAX, &err));
    assert_true(err.len > 0);
    assert_false(fd_open(fd)); /* closed on refusal */
    str_release(&x);
    str_release(&err);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_refused("filter=9 6 0 0 1 1 1 0 unix:/x\n\n");   /* bad state */
    expect_refused("filter=1 7 0 0 1 1 1 0 unix:/x\n\n");   /* bad version */
    expect_refused("filter=1 6 0 0 1 1 1 0 unix:/x y\n\n"); /* two endpoints */
    expect_refused("filter=1 6 0 0 1 1 1 0\n\n");           /* no endpoint */
    expect_refused("nonsense=1\n\n");                       /* unknown attribute */
    expect_refused("macro=novalue\n\n");                    /* no '=' */
    expect_refused("filter_macros=eoh i\n\n");              /* before any filter */
    expect_refused("body_limit=x\n\n");
    struct str err = STR_INIT;
    int fds[MILTER_HANDOVER_MAX] = {-1};
    assert_null(milters_import("bad+zz", fds, 1, &err)); /* broken xtext */
    str_release(&err);
}

static void test_list_fits_the_handover(void **state)
{
    (void)state;
    struct str list = STR_INIT, err = STR_INIT;
    for (int i = 0; i < MILTER_HANDOVER_MAX; i++)
        str_appendf(&list, "unix:/tmp/m%d ", i);
    struct milters *m = milters_create(list.data, &err);
    assert_non_null(m);
    assert_int_equal(milters_count(m), MILTER_HANDOVER_MAX);
    milters_free(m);
    str_append(&list, "unix:/tmp/one-too-many");
    assert_null(milters_create(list.data, &err));
    assert_string_equal(err.data, "more than 32 milters");
    str_release(&list);
    str_release(&err);
}

static void test_unused_slots_closed(void **state)
{
    (void)state;
    struct str err = STR_INIT, x = STR_INIT;
    const char *plain = "filter=4 6 0 0 1 1 1 1 unix:/x\n\n"; /* failed filter: fd unused */
    xtext_encode(plain, strlen(plain), &x);
    int fds[MILTER_HANDOVER_MAX];
    for (int i = 0; i < MILTER_HANDOVER_MAX; i++)
        fds[i] = -1;
    fds[0] = open("/dev/null", O_RDONLY);
    fds[5] = open("/dev/null", O_RDONLY);
    int a = fds[0], b = fds[5];
    struct milters *m = milters_import(x.data, fds, MILTER_HANDOVER_MAX, &err);
    assert_non_null(m);
    assert_false(fd_open(a));
    assert_false(fd_open(b));
    assert_int_equal(m->v[0].state, F_FAILED);
    milters_free(m);
    str_release(&x);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_unused_slots_closed),
        cmocka_unit_test(test_list_fits_the_handover),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
