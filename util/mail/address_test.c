/* Unit tests for address parsing, quoting, extensions, the resolver's routing rules and header
 * address lists. The parser, resolver and header cases are table-driven: testdata/NAME.in is
 * run and the output compared with testdata/NAME.ref (KESTREL_UPDATE_GOLDEN=1 rewrites the
 * .ref files; review the diff before committing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/argv.h"
#include "base/str.h"
#include "mail/address.h"
#include "mail/address_header.h"

#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- golden-file machinery -------------------------------------------------------------- */

/* Finds testdata/<name> beside this source file: __FILE__ relative to the current directory
 * or to one of the executable's parent directories (the repository root). */
static int testdata_path(const char *name, struct str *path)
{
    char exe[PATH_MAX];
    char src[] = __FILE__;
    const char *dir = dirname(src);
    str_setf(path, "%s/testdata", dir);
    if (access(path->data, R_OK) == 0 || dir[0] == '/') {
        str_setf(path, "%s/testdata/%s", dir, name);
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    for (char *slash = strrchr(exe, '/'); slash != NULL; slash = strrchr(exe, '/')) {
        *slash = 0;
        str_setf(path, "%s/%s/testdata", exe, dir);
        if (access(path->data, R_OK) == 0) {
            str_setf(path, "%s/%s/testdata/%s", exe, dir, name);
            return 0;
        }
    }
    return -1;
}

static int read_file(const char *name, struct str *out)
{
    struct str path = STR_INIT;
    char buf[8192];
    size_t n;
    if (testdata_path(name, &path) != 0) {
        str_release(&path);
        return -1;
    }
    FILE *fp = fopen(path.data, "rb");
    str_release(&path);
    if (fp == NULL)
        return -1;
    str_clear(out);
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
        str_appendn(out, buf, n);
    fclose(fp);
    return 0;
}

static void write_file(const char *name, const struct str *data)
{
    struct str path = STR_INIT;
    assert_int_equal(testdata_path(name, &path), 0);
    FILE *fp = fopen(path.data, "wb");
    assert_non_null(fp);
    fwrite(data->data, 1, data->len, fp);
    fclose(fp);
    str_release(&path);
}

/* Escapes \t \r \n \0 \\ \xHH and the repeat macro {{N*text}}. */
static void unescape(const char *s, struct str *out)
{
    str_clear(out);
    while (*s) {
        if (s[0] == '{' && s[1] == '{') {
            char *star, *end;
            long n = strtol(s + 2, &star, 10);
            end = strstr(s, "}}");
            if (*star == '*' && end != NULL) {
                for (long i = 0; i < n; i++)
                    str_appendn(out, star + 1, (size_t)(end - star - 1));
                s = end + 2;
                continue;
            }
        }
        if (*s != '\\' || s[1] == 0) {
            str_appendc(out, (unsigned char)*s++);
            continue;
        }
        s++;
        switch (*s) {
        case 't':
            str_appendc(out, '\t');
            break;
        case 'r':
            str_appendc(out, '\r');
            break;
        case 'n':
            str_appendc(out, '\n');
            break;
        case '0':
            str_appendc(out, 0);
            break;
        case 'x': {
            char hex[3] = {s[1], s[2], 0};
            str_appendc(out, (int)strtol(hex, NULL, 16));
            s += 2;
            break;
        }
        default:
            str_appendc(out, (unsigned char)*s);
        }
        s++;
    }
}

/* A printable rendering, shortened when long. */
static void show(struct str *out, const char *s, size_t len)
{
    size_t shown = len > 120 ? 60 : len;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\')
            str_append(out, "\\\\");
        else if (c < 0x20 || c >= 0x7f)
            str_appendf(out, "\\x%02x", c);
        else
            str_appendc(out, c);
    }
    if (shown < len)
        str_appendf(out, "...[%zu bytes]", len);
}

typedef void (*golden_fn)(const char *line, const struct str *input, struct str *out);

static void golden(const char *name, golden_fn fn)
{
    struct str in = STR_INIT, ref = STR_INIT, out = STR_INIT, input = STR_INIT, fname = STR_INIT;
    str_setf(&fname, "%s.in", name);
    assert_int_equal(read_file(fname.data, &in), 0);
    for (char *line = in.data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        if (line[0] == '#')
            continue;
        unescape(line, &input);
        str_appendf(&out, "%s\n", line);
        fn(line, &input, &out);
    }
    str_setf(&fname, "%s.ref", name);
    if (getenv("KESTREL_UPDATE_GOLDEN")) {
        write_file(fname.data, &out);
    } else {
        assert_int_equal(read_file(fname.data, &ref), 0);
        if (ref.len != out.len || memcmp(ref.data, out.data, out.len) != 0) {
            size_t i = 0, line = 1;
            while (i < ref.len && i < out.len && ref.data[i] == out.data[i])
                line += ref.data[i++] == '\n';
            fail_msg("%s.ref differs at line %zu:\n%.300s\n--- got ---\n%.300s", name, line,
                     ref.data + i - (i > 0 && ref.data[i - 1] != '\n' ? 0 : 0), out.data + i);
        }
    }
    str_release(&in);
    str_release(&ref);
    str_release(&out);
    str_release(&input);
    str_release(&fname);
}

/* ---- envelope parser golden test -------------------------------------------------------- */

static void parse_case(const char *line, const struct str *unused, struct str *out)
{
    (void)unused;
    struct str input = STR_INIT, err = STR_INIT, ext = STR_INIT;
    struct addr_parsed p;
    const char *sp = strchr(line, ' ');
    size_t mlen = sp ? (size_t)(sp - line) : strlen(line);
    int flags = 0;
    if (strncmp(line, "strict", mlen) == 0)
        flags = ADDR_PARSE_STRICT;
    else if (strncmp(line, "minuser", mlen) == 0)
        flags = ADDR_PARSE_ALLOW_MIN_USER;
    unescape(sp ? sp + 1 : "", &input);
    addr_parsed_init(&p);
    if (address_parse_path(input.data ? input.data : "", input.len, flags, &p, &err) == 0) {
        address_quote(str_cstr(&p.addr), &ext);
        str_append(out, "  ok internal=");
        show(out, str_cstr(&p.addr), p.addr.len);
        str_append(out, " external=");
        show(out, str_cstr(&ext), ext.len);
        str_appendf(out, "%s%s%s%s\n", p.null_sender ? " null" : "", p.non_ascii ? " utf8" : "",
                    p.had_route ? " route" : "", p.had_domain ? " domain" : "");
    } else {
        str_appendf(out, "  error: %s\n", str_cstr(&err));
    }
    addr_parsed_release(&p);
    str_release(&input);
    str_release(&err);
    str_release(&ext);
}

static void test_parse_golden(void **state)
{
    (void)state;
    golden("address_parse", parse_case);
}

/* ---- resolver golden test ----------------------------------------------------------------- */

static int is_ours(const char *domain, void *ctx)
{
    (void)ctx;
    return strcasecmp(domain, "ours") == 0 || strcasecmp(domain, "ours.example") == 0 ||
           strcmp(domain, "[192.0.2.1]") == 0;
}

static void route_case(const char *line, const struct str *input, struct str *out)
{
    (void)line;
    struct addr_parsed p;
    struct str err = STR_INIT;
    addr_parsed_init(&p);
    if (address_parse_path(input->data, input->len, 0, &p, &err) != 0) {
        str_appendf(out, "  parse error: %s\n", str_cstr(&err));
    } else {
        for (int mode = 0; mode < 4; mode++) {
            struct addr_route_opts o = {mode & 1, (mode & 2) != 0, is_ours, NULL};
            struct addr_resolved r;
            addr_resolved_init(&r);
            str_appendf(out, "  %-2s ", mode == 0 ? "-" : mode == 1 ? "%" : mode == 2 ? "!" : "%!");
            if (address_resolve(str_cstr(&p.addr), &o, &r, &err) != 0)
                str_appendf(out, "error: %s\n", str_cstr(&err));
            else
                str_appendf(out, "local=\"%s\" domain=\"%s\" %s%s\n", str_cstr(&r.local),
                            str_cstr(&r.domain), r.local_domain ? "LOCAL" : "REMOTE",
                            r.routed ? " routed" : "");
            addr_resolved_release(&r);
        }
    }
    addr_parsed_release(&p);
    str_release(&err);
}

static void test_route_golden(void **state)
{
    (void)state;
    golden("address_route", route_case);
}

static void test_route_limit(void **state)
{
    (void)state;
    struct str a = STR_INIT, err = STR_INIT;
    struct addr_route_opts o = {1, 1, is_ours, NULL};
    struct addr_resolved r;
    str_set(&a, "user");
    for (int i = 0; i < 200; i++)
        str_append(&a, "@ours");
    addr_resolved_init(&r);
    assert_int_equal(address_resolve(a.data, &o, &r, &err), -1);
    assert_string_equal(err.data, "too many routing operators in address");
    addr_resolved_release(&r);
    str_release(&a);
    str_release(&err);
}

/* ---- header golden test ------------------------------------------------------------------- */

static int rewrite(const char *internal, struct str *repl, void *ctx)
{
    (void)ctx;
    const char *at = strrchr(internal, '@');
    if (at == NULL) {
        str_setf(repl, "%s@example.org", internal);
        return 1;
    }
    if (strcasecmp(at + 1, "old.example") == 0) {
        str_appendn(repl, internal, (size_t)(at - internal));
        str_append(repl, "@new.example");
        return 1;
    }
    return 0;
}

static void header_case(const char *line, const struct str *input, struct str *out)
{
    (void)line;
    struct hdr_addr_list l = {0};
    struct str err = STR_INIT, rw = STR_INIT;
    const char *value = input->data ? input->data : "";
    if (header_addr_parse(value, input->len, 0, &l, &err) != 0) {
        str_appendf(out, "  error: %s\n", str_cstr(&err));
        str_release(&err);
        return;
    }
    str_appendf(out, "  %zu address(es)%s%s\n", l.n, l.malformed ? " malformed" : "",
                l.truncated ? " truncated" : "");
    for (size_t i = 0; i < l.n && i < 12; i++) {
        struct hdr_addr *h = &l.v[i];
        str_append(out, "  - addr=");
        show(out, h->addr, strlen(h->addr));
        if (*h->display) {
            str_append(out, " display=");
            show(out, h->display, strlen(h->display));
        }
        if (h->group)
            str_appendf(out, " group=%s", h->group);
        str_appendf(out, " span=%zu-%zu%s%s\n", h->start, h->end, h->angle ? " angle" : "",
                    h->malformed ? " malformed" : "");
    }
    int n = header_addr_rewrite(value, input->len, 0, rewrite, NULL, &rw, &err);
    str_appendf(out, "  rewrite(%d): ", n);
    show(out, rw.data ? rw.data : "", rw.len);
    str_appendc(out, '\n');
    hdr_addr_list_release(&l);
    str_release(&err);
    str_release(&rw);
}

static void test_header_golden(void **state)
{
    (void)state;
    golden("address_header", header_case);
}

static void test_header_extract(void **state)
{
    (void)state;
    struct argv *a = argv_new();
    struct str err = STR_INIT;
    const char *v = "A <a@x>, undisclosed-recipients:;, \"b c\"@y (B), G: d@z, <>;";
    assert_int_equal(header_addr_extract(v, strlen(v), 0, a, &err), 0);
    assert_int_equal(a->n, 3);
    assert_string_equal(a->v[0], "a@x");
    assert_string_equal(a->v[1], "b c@y");
    assert_string_equal(a->v[2], "d@z");
    assert_int_equal(header_addr_extract("a\0b", 3, 0, a, &err), -1);
    assert_string_equal(err.data, "NUL byte in address");
    /* the token limit */
    argv_clear(a);
    assert_int_equal(header_addr_extract("a, b, c, d", 10, 4, a, &err), 0);
    assert_int_equal(a->n, 2);
    argv_free(a);
    str_release(&err);
}

/* ---- quoting, splitting, extensions ------------------------------------------------------ */

static void check_quote(const char *internal, const char *external)
{
    struct str q = STR_INIT, u = STR_INIT, err = STR_INIT;
    address_quote(internal, &q);
    assert_string_equal(str_cstr(&q), external);
    assert_int_equal(address_unquote(q.data ? q.data : "", q.len, &u, &err), 0);
    assert_string_equal(str_cstr(&u), internal);
    str_release(&q);
    str_release(&u);
    str_release(&err);
}

static void test_quote(void **state)
{
    (void)state;
    check_quote("user@x", "user@x");
    check_quote("a b@x", "\"a b\"@x");
    check_quote("a\"b@x", "\"a\\\"b\"@x");
    check_quote("a\\b@x", "\"a\\\\b\"@x");
    check_quote("user@other@ours", "\"user@other\"@ours");
    check_quote("a..b@x", "\"a..b\"@x");
    check_quote(".a@x", "\".a\"@x");
    check_quote("a.@x", "\"a.\"@x");
    check_quote("@x", "\"\"@x");
    check_quote("first.last@x", "first.last@x");
    check_quote("!#$%&'*+-/=?^_`{|}~@x", "!#$%&'*+-/=?^_`{|}~@x");
    check_quote("j\xc3\xb6rg@x", "j\xc3\xb6rg@x");
    check_quote("a,b@x", "\"a,b\"@x");
    check_quote("postmaster", "postmaster");
    check_quote("a b", "\"a b\"");
    check_quote("user@[1.2.3.4]", "user@[1.2.3.4]");
    struct str q = STR_INIT, err = STR_INIT;
    address_quote("", &q);
    assert_int_equal(q.len, 0);
    assert_int_equal(address_unquote("\"a b\" @ x (comment)", 19, &q, &err), 0);
    assert_string_equal(q.data, "a b@x");
    assert_int_equal(address_unquote("a b@x", 5, &q, &err), -1);
    assert_int_equal(address_unquote("\"a@x", 4, &q, &err), -1);
    assert_string_equal(err.data, "unbalanced quote");
    str_release(&q);
    str_release(&err);
}

static void test_split(void **state)
{
    (void)state;
    struct str l = STR_INIT, d = STR_INIT, a = STR_INIT;
    assert_int_equal(address_split("user@other@Ours.Example", &l, &d), 1);
    assert_string_equal(l.data, "user@other");
    assert_string_equal(d.data, "Ours.Example");
    assert_int_equal(address_split("postmaster", &l, &d), 0);
    assert_string_equal(l.data, "postmaster");
    assert_string_equal(str_cstr(&d), "");
    str_set(&a, "User@Other@Ours.EXAMPLE");
    address_lower_domain(&a);
    assert_string_equal(a.data, "User@Other@ours.example");
    assert_int_equal(address_domain_is_literal("[1.2.3.4]"), 1);
    assert_int_equal(address_domain_is_literal("[IPv6:::1]"), 1);
    assert_int_equal(address_domain_is_literal("example.com"), 0);
    assert_int_equal(address_domain_is_literal("["), 0);
    assert_int_equal(address_is_non_ascii("abc", 3), 0);
    assert_int_equal(address_is_non_ascii("a\xc3\xb6", 3), 1);
    assert_int_equal(address_valid_utf8("a\xc3\xb6", 3), 1);
    assert_int_equal(address_valid_utf8("a\xc3", 2), 0);
    assert_int_equal(address_valid_utf8("\xe0\x80\x80", 3), 0);
    str_release(&l);
    str_release(&d);
    str_release(&a);
}

static void check_ext(const char *delims, const char *local, const char *user, const char *ext,
                      int split)
{
    struct addr_ext_opts o = {delims, NULL};
    struct str u = STR_INIT, e = STR_INIT;
    char d = 'x';
    assert_int_equal(address_split_ext(local, &o, &u, &e, &d), split);
    assert_string_equal(str_cstr(&u), user);
    assert_string_equal(str_cstr(&e), ext);
    if (!split)
        assert_int_equal(d, 0);
    str_release(&u);
    str_release(&e);
}

static void test_extensions(void **state)
{
    (void)state;
    check_ext("+", "user+ext", "user", "ext", 1);
    check_ext("+", "user+a+b", "user", "a+b", 1);
    check_ext("+", "user", "user", "", 0);
    check_ext("+", "user+", "user", "", 1);
    check_ext("+", "+", "+", "", 0);
    check_ext("+", "+foo", "+foo", "", 0);
    check_ext("+-", "user-ext", "user", "ext", 1);
    check_ext("+-", "user+a-b", "user", "a-b", 1);
    check_ext("+-", "user-a+b", "user", "a+b", 1);
    check_ext("+-", "owner-list", "owner-list", "", 0);
    check_ext("+-", "Owner-List", "Owner-List", "", 0);
    check_ext("+-", "list-request", "list-request", "", 0);
    check_ext("+-", "-request", "-request", "", 0);
    check_ext("+", "owner+x", "owner", "x", 1);
    check_ext("-", "owner-list", "owner-list", "", 0);
    check_ext("+", "owner-list+x", "owner-list", "x", 1);
    check_ext("+", "postmaster", "postmaster", "", 0);
    check_ext("+", "PostMaster", "PostMaster", "", 0);
    check_ext("-", "MAILER-DAEMON", "MAILER-DAEMON", "", 0);
    check_ext("-", "double-bounce", "double-bounce", "", 0);
    check_ext("", "user+ext", "user+ext", "", 0);
    check_ext(NULL, "user+ext", "user+ext", "", 0);
    struct addr_ext_opts o = {"+", NULL};
    struct str out = STR_INIT, ext = STR_INIT;
    char d;
    assert_int_equal(address_split_ext("a+b", &o, NULL, NULL, &d), 1);
    assert_int_equal(d, '+');
    assert_int_equal(address_strip_ext("user+foo@Example.com", &o, &out, &ext), 1);
    assert_string_equal(out.data, "user@Example.com");
    assert_string_equal(ext.data, "foo");
    assert_int_equal(address_strip_ext("user@x", &o, &out, &ext), 0);
    assert_string_equal(out.data, "user@x");
    assert_int_equal(address_strip_ext("user+x", &o, &out, &ext), 1);
    assert_string_equal(out.data, "user");
    struct addr_ext_opts o2 = {"-", "bounce-me"};
    assert_int_equal(address_split_ext("Bounce-Me", &o2, &out, NULL, NULL), 0);
    str_release(&out);
    str_release(&ext);
}

static void test_path_length(void **state)
{
    (void)state;
    const char *a = "<a b@x> SIZE=10";
    assert_int_equal(address_path_length(a, strlen(a)), 7);
    a = "<\"a>b\"@x> BODY=8BITMIME";
    assert_int_equal(address_path_length(a, strlen(a)), 9);
    a = "user@x SIZE=1";
    assert_int_equal(address_path_length(a, strlen(a)), 6);
    a = "\"a b\"@x SIZE=1";
    assert_int_equal(address_path_length(a, strlen(a)), 7);
    a = "<a@x (c>d)> X";
    assert_int_equal(address_path_length(a, strlen(a)), 11);
    a = "<a@x";
    assert_int_equal(address_path_length(a, strlen(a)), 4);
    a = "<> SIZE=0";
    assert_int_equal(address_path_length(a, strlen(a)), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_golden),   cmocka_unit_test(test_route_golden),
        cmocka_unit_test(test_route_limit),    cmocka_unit_test(test_header_golden),
        cmocka_unit_test(test_header_extract), cmocka_unit_test(test_quote),
        cmocka_unit_test(test_split),          cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_path_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
