/* Unit tests for alias expansion (splitting, :include: rules, loops, restrictions), .forward
 * checks and forward_path expansion, recipient splitting and the sysexits mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "local.h"

#include "base/fsutil.h"
#include "table/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/local-alias-test-XXXXXX";

struct fixture {
    struct local_params p;
    struct mail_message m;
    struct local_result res;
    struct local_rcpt rc;
    size_t targets;
    struct table *aliases[1];
};

static void setup(struct fixture *f, const char *alias_text)
{
    memset(f, 0, sizeof(*f));
    f->p.myhostname = "example.com";
    f->p.myorigin = "example.com";
    f->p.recipient_delimiter = "+";
    f->p.mail_to_commands = EXP_ALIAS | EXP_FORWARD;
    f->p.mail_to_files = EXP_ALIAS | EXP_FORWARD;
    f->p.default_uid = geteuid();
    f->p.default_gid = getegid();
    struct str path = STR_INIT, spec = STR_INIT, err = STR_INIT;
    str_setf(&path, "%s/aliases", dir);
    assert_int_equal(fs_write_atomic(path.data, alias_text, strlen(alias_text), 0644, NULL), 0);
    str_setf(&spec, "texthash:%s", path.data);
    f->aliases[0] = table_open(spec.data, TABLE_FLAG_NO_SUBST | TABLE_FLAG_FOLD_KEY, &err);
    assert_non_null(f->aliases[0]);
    f->p.alias_tables = f->aliases;
    f->p.alias_count = 1;
    f->m.queue_id = "ABC";
    f->m.sender = "s@example.org";
    f->m.delivered = argv_new();
    result_init(&f->res);
    f->rc.address = f->rc.orig = f->rc.top = "top@example.com";
    f->rc.path = argv_new();
    f->rc.targets = &f->targets;
    f->rc.result = &f->res;
    f->rc.forward_to = argv_new();
    f->rc.seen = argv_new();
    f->rc.exp_class = EXP_ALIAS;
    str_release(&path);
    str_release(&spec);
    str_release(&err);
}

static void teardown(struct fixture *f)
{
    table_close(f->aliases[0]);
    argv_free(f->m.delivered);
    argv_free(f->rc.path);
    argv_free(f->rc.forward_to);
    argv_free(f->rc.seen);
    result_release(&f->res);
}

static void write_file(const char *name, const char *text, mode_t mode, struct str *path)
{
    str_setf(path, "%s/%s", dir, name);
    assert_int_equal(fs_write_atomic(path->data, text, strlen(text), mode, NULL), 0);
    chmod(path->data, mode);
}

static void test_split(void **state)
{
    (void)state;
    struct argv *a = alias_split(" a, \"|cmd x, y\" ,/f ,, :include:/x\n b", 0);
    assert_int_equal(a->n, 5);
    assert_string_equal(a->v[0], "a");
    assert_string_equal(a->v[1], "|cmd x, y");
    assert_string_equal(a->v[2], "/f");
    assert_string_equal(a->v[3], ":include:/x");
    assert_string_equal(a->v[4], "b");
    argv_free(a);
    a = alias_split("# comment\n  # more\nx\n\\me\n", 1);
    assert_int_equal(a->n, 2);
    assert_string_equal(a->v[1], "\\me");
    argv_free(a);
}

static void expand_one(struct fixture *f, const char *target)
{
    struct argv *t = argv_new();
    argv_add(t, target);
    expand_targets(&f->p, &f->m, &f->rc, t);
    argv_free(t);
}

static void test_include_rules(void **state)
{
    (void)state;
    struct fixture f;
    struct str path = STR_INIT, target = STR_INIT;
    setup(&f, "");
    expand_one(&f, ":include:relative/file");
    assert_int_equal(f.res.status, LOCAL_BOUNCED);
    assert_string_equal(f.res.dsn, "5.3.5");
    assert_string_equal(f.res.reason.data, "mail system configuration error: :include: file "
                                           "relative/file: path is not absolute");
    teardown(&f);

    setup(&f, "");
    write_file("ww", "/dev/null\n", 0666, &path);
    str_setf(&target, ":include:%s", path.data);
    expand_one(&f, target.data);
    assert_int_equal(f.res.status, LOCAL_BOUNCED);
    assert_non_null(strstr(f.res.reason.data, "file is world writable"));
    teardown(&f);

    setup(&f, "");
    str_setf(&target, ":include:%s", dir);
    expand_one(&f, target.data);
    assert_int_equal(f.res.status, LOCAL_BOUNCED);
    assert_non_null(strstr(f.res.reason.data, "not a regular file"));
    teardown(&f);

    setup(&f, "");
    str_setf(&path, "%s/self", dir);
    str_setf(&target, ":include:%s\n", path.data);
    write_file("self", target.data, 0644, &path);
    str_truncate(&target, target.len - 1);
    expand_one(&f, target.data);
    assert_int_equal(f.res.status, LOCAL_BOUNCED);
    assert_string_equal(f.res.dsn, "5.3.5");
    assert_non_null(strstr(f.res.reason.data, "too many levels of nesting"));
    teardown(&f);

    setup(&f, "");
    write_file("good", "# the bit bucket\n/dev/null\n", 0644, &path);
    str_setf(&target, ":include:%s", path.data);
    expand_one(&f, target.data);
    assert_int_equal(f.res.status, LOCAL_SENT);
    assert_string_equal(f.res.reason.data, "delivered to file: /dev/null");
    teardown(&f);
    str_release(&path);
    str_release(&target);
}

static void test_restrictions(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "");
    f.rc.exp_class = EXP_FORWARD;
    f.p.mail_to_commands = EXP_ALIAS;
    expand_one(&f, "|/bin/true");
    assert_int_equal(f.res.status, LOCAL_BOUNCED);
    assert_string_equal(f.res.dsn, "5.7.1");
    assert_string_equal(f.res.reason.data, "mail to command is restricted");
    teardown(&f);
    setup(&f, "");
    f.p.mail_to_files = 0;
    expand_one(&f, "/dev/null");
    assert_string_equal(f.res.reason.data, "mail to file is restricted");
    teardown(&f);
}

static void test_alias_loops(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "a b\nb c\nc a\nx y@remote.example, z@other.example, y@remote.example\n");
    deliver_address(&f.p, &f.m, &f.rc, "a@example.com", 0);
    assert_int_equal(f.res.status, LOCAL_BOUNCED);
    assert_string_equal(f.res.dsn, "5.4.6");
    assert_string_equal(f.res.reason.data, "mail forwarding loop for a@example.com");
    teardown(&f);

    setup(&f, "x y@remote.example, z@other.example, y@remote.example\n");
    deliver_address(&f.p, &f.m, &f.rc, "X@Example.COM", 0);
    assert_int_equal(f.rc.forward_to->n, 2);
    assert_string_equal(f.rc.forward_to->v[0], "y@remote.example");
    assert_string_equal(f.rc.forward_to->v[1], "z@other.example");
    assert_int_equal(f.res.status, -1);
    teardown(&f);

    /* A Delivered-To header naming the address: loop. */
    setup(&f, "");
    argv_add(f.m.delivered, "list@example.com");
    deliver_address(&f.p, &f.m, &f.rc, "List@example.com", 0);
    assert_string_equal(f.res.dsn, "5.4.6");
    teardown(&f);
}

static void test_alias_extension_and_unknown(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "bucket+ext /dev/null\n");
    deliver_address(&f.p, &f.m, &f.rc, "Bucket+ext@example.com", 0);
    assert_int_equal(f.res.status, LOCAL_SENT);
    teardown(&f);
    setup(&f, "");
    deliver_address(&f.p, &f.m, &f.rc, "no-such-user-q+z@example.com", 0);
    assert_int_equal(f.res.status, LOCAL_BOUNCED);
    assert_string_equal(f.res.dsn, "5.1.1");
    assert_string_equal(f.res.reason.data, "unknown user: \"no-such-user-q\"");
    teardown(&f);
}

static void test_recipient_split(void **state)
{
    (void)state;
    struct local_params p = {.recipient_delimiter = "+-"};
    struct str u = STR_INIT, e = STR_INIT, d = STR_INIT;
    recipient_split(&p, "Joe-Foo+Bar@Example.COM", &u, &e, &d);
    assert_string_equal(u.data, "joe");
    assert_string_equal(e.data, "foo+bar");
    assert_string_equal(d.data, "example.com");
    recipient_split(&p, "+plain", &u, &e, &d);
    assert_string_equal(u.data, "+plain");
    assert_string_equal(str_cstr(&e), "");
    str_release(&u);
    str_release(&e);
    str_release(&d);
}

static void test_forward_paths_and_checks(void **state)
{
    (void)state;
    const char *names[] = {"home", "user", "extension", "recipient_delimiter", NULL};
    const char *with[] = {"/h", "u", "ext", "+", NULL};
    const char *without[] = {"/h", "u", "", "", NULL};
    const char *fp = "$home/.forward${recipient_delimiter}${extension}, $home/.forward, "
                     "/var/fw/${extension?x-$extension}${extension:plain}";
    struct argv *a = forward_paths(fp, names, with);
    assert_int_equal(a->n, 3);
    assert_string_equal(a->v[0], "/h/.forward+ext");
    assert_string_equal(a->v[1], "/h/.forward");
    assert_string_equal(a->v[2], "/var/fw/x-ext");
    argv_free(a);
    a = forward_paths(fp, names, without);
    assert_int_equal(a->n, 2);
    assert_string_equal(a->v[0], "/h/.forward");
    assert_string_equal(a->v[1], "/var/fw/plain");
    argv_free(a);

    struct str path = STR_INIT, text = STR_INIT, why = STR_INIT, link = STR_INIT;
    write_file("fwd", "u@x\n", 0644, &path);
    assert_int_equal(forward_read(path.data, geteuid(), &text, &why), 1);
    assert_string_equal(text.data, "u@x\n");
    uid_t other = geteuid() == 0 ? 12345 : geteuid() + 1;
    if (geteuid() == 0) {
        assert_int_equal(chown(path.data, other, (gid_t)-1), 0);
        assert_int_equal(forward_read(path.data, other, &text, &why), 1);
        assert_int_equal(forward_read(path.data, 54321, &text, &why), 0); /* bad owner */
        assert_int_equal(chown(path.data, 0, (gid_t)-1), 0);
    } else {
        assert_int_equal(forward_read(path.data, other, &text, &why), 0);
    }
    chmod(path.data, 0664);
    assert_int_equal(forward_read(path.data, geteuid(), &text, &why), 0); /* group writable */
    chmod(path.data, 0644);
    str_setf(&link, "%s/fwd-link", dir);
    assert_int_equal(symlink(path.data, link.data), 0);
    assert_int_equal(forward_read(link.data, geteuid(), &text, &why), 0); /* symlink */
    str_setf(&link, "%s/missing", dir);
    assert_int_equal(forward_read(link.data, geteuid(), &text, &why), 0);
    str_release(&path);
    str_release(&text);
    str_release(&why);
    str_release(&link);
}

static void test_sysexits(void **state)
{
    (void)state;
    char dsn[16];
    const char *text;
    assert_int_equal(sysexits_map(75, dsn, sizeof(dsn), &text), LOCAL_DEFERRED);
    assert_string_equal(dsn, "4.3.0");
    assert_string_equal(text, "temporary failure");
    assert_int_equal(sysexits_map(67, dsn, sizeof(dsn), &text), LOCAL_BOUNCED);
    assert_string_equal(dsn, "5.1.1");
    assert_int_equal(sysexits_map(1, dsn, sizeof(dsn), &text), LOCAL_BOUNCED);
    assert_string_equal(dsn, "5.3.0");
    assert_null(text);
    assert_int_equal(sysexits_map(0, dsn, sizeof(dsn), &text), LOCAL_SENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_include_rules),
        cmocka_unit_test(test_restrictions),
        cmocka_unit_test(test_alias_loops),
        cmocka_unit_test(test_alias_extension_and_unknown),
        cmocka_unit_test(test_recipient_split),
        cmocka_unit_test(test_forward_paths_and_checks),
        cmocka_unit_test(test_sysexits),
    };
    if (mkdtemp(dir) == NULL)
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
