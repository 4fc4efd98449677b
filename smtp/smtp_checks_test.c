/* Unit tests for smtp_checks: the actions a delivery agent carries out (REPLACE, PREPEND,
 * IGNORE, STRIP, WARN, INFO, DUNNO) and their log lines, folded headers matched as one, the
 * unsupported actions and bad action text (warnings, content unchanged), which table sees
 * which header (primary, MIME, nested) and body line, disable_mime_input_processing, a failing
 * table, and the lmtp_* names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "smtp.h"

#include "base/log.h"
#include "mail/config.h"
#include "mail/maps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/smtp_checks_XXXXXX";
static char logpath[256];
static struct str sent = STR_INIT; /* the output: '\n' after a line, '|' after a piece */
static struct str logged = STR_INIT;

static void out(void *ctx, const char *data, size_t len, int eol)
{
    (void)ctx;
    str_appendn(&sent, data, len);
    str_appendc(&sent, eol ? '\n' : '|');
}

/* A pcre table with these lines; returns the maps (title: name). */
static struct maps *table(const char *name, const char *text)
{
    char path[300], spec[320];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    snprintf(spec, sizeof spec, "pcre:%s", path);
    return maps_open(name, spec, 0);
}

static struct smtp_checks_config cfg;

static void reset_cfg(void)
{
    maps_free(cfg.header);
    maps_free(cfg.mime);
    maps_free(cfg.nested);
    maps_free(cfg.body);
    memset(&cfg, 0, sizeof cfg);
    cfg.mime_limits = (struct mime_limits){102400, 2048, 100};
    cfg.mime_options = 0;
}

/* Runs text ('\n' ends a line record, '\r' a piece) through the checks; returns the
 * smtp_checks_end() result. The output is in sent, the log in logged. */
static int run(const char *text)
{
    str_clear(&sent);
    str_clear(&logged);
    log_set_stderr(0);
    unlink(logpath);
    assert_int_equal(log_open_file(logpath), 0);
    struct smtp_checks *c = smtp_checks_new(&cfg, "4ABC123", out, NULL);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n\r");
        smtp_checks_put(c, p, n, p[n] != '\r');
        p += n + (p[n] != 0);
    }
    int rc = smtp_checks_end(c);
    smtp_checks_free(c);
    log_close_file();
    log_set_stderr(1);
    FILE *f = fopen(logpath, "r");
    char buf[4096];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
        str_appendn(&logged, buf, n);
    if (f)
        fclose(f);
    return rc;
}

static int has_log(const char *line)
{
    return strstr(str_cstr(&logged), line) != NULL;
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(logpath, sizeof logpath, "%s/log", dir);
    reset_cfg();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    reset_cfg();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    str_release(&sent);
    str_release(&logged);
    return 0;
}

static void test_header_actions(void **state)
{
    (void)state;
    reset_cfg();
    cfg.header = table("smtp_header_checks", "/^Subject: secret/ REPLACE Subject: [redacted]\n"
                                             "/^X-Drop:/ IGNORE\n"
                                             "/^X-Strip:/ STRIP removing it\n"
                                             "/^From:/ PREPEND X-Origin: checked\n"
                                             "/^To: (.*)/ WARN rcpt $1\n"
                                             "/^Cc:/ INFO\n"
                                             "/^Date:/ DUNNO\n"
                                             "/^X-Ok:/ OK\n");
    assert_int_equal(run("Subject: secret plans\n"
                         "X-Drop: a\n"
                         "\tcontinued\n"
                         "X-Strip: b\n"
                         "From: a@example.org\n"
                         "To: b@example.net\n"
                         "Cc: c@example.net\n"
                         "Date: today\n"
                         "X-Ok: yes\n"
                         "\n"
                         "Subject: secret in the body\n"),
                     0);
    assert_string_equal(sent.data, "Subject: [redacted]\n"
                                   "X-Origin: checked\n"
                                   "From: a@example.org\n"
                                   "To: b@example.net\n"
                                   "Cc: c@example.net\n"
                                   "Date: today\n"
                                   "X-Ok: yes\n"
                                   "\n"
                                   "Subject: secret in the body\n");
    assert_true(has_log(": 4ABC123: replace: header Subject: secret plans: Subject: [redacted]\n"));
    assert_true(has_log(": 4ABC123: strip: header X-Strip: b: removing it\n"));
    assert_true(has_log(": 4ABC123: prepend: header From: a@example.org: X-Origin: checked\n"));
    assert_true(has_log(": 4ABC123: warning: header To: b@example.net: rcpt b@example.net\n"));
    assert_true(has_log(": 4ABC123: info: header Cc: c@example.net\n"));
    assert_false(has_log("X-Drop")); /* IGNORE is not logged */
    assert_false(has_log("Date"));
}

static void test_folded_header(void **state)
{
    (void)state;
    reset_cfg();
    cfg.header = table("smtp_header_checks", "/^Subject: one\\n\\ttwo$/ REPLACE Subject: both\n"
                                             "/^X-Long:/ WARN\n");
    /* The continuation is part of the header; a header in two records is one line. */
    assert_int_equal(run("Subject: one\n\ttwo\nX-Lo\rng: 0123456789012345678901234567890123456"
                         "789012345678901234567890123456789\n\nbody\n"),
                     0);
    assert_string_equal(sent.data, "Subject: both\n"
                                   "X-Long: 01234567890123456789012345678901234567890123456789"
                                   "01234567890123456789\n"
                                   "\n"
                                   "body\n");
    assert_true(has_log(": 4ABC123: replace: header Subject: one??two: Subject: both\n"));
    /* The logged header is cut at 60 bytes. */
    assert_true(has_log(": 4ABC123: warning: header X-Long: "
                        "0123456789012345678901234567890123456789012345678901\n"));
}

static void test_unsupported(void **state)
{
    (void)state;
    reset_cfg();
    cfg.header = table("smtp_header_checks", "/^X-1:/ REJECT go away\n"
                                             "/^X-2:/ DISCARD\n"
                                             "/^X-3:/ HOLD\n"
                                             "/^X-4:/ REDIRECT a@example.org\n"
                                             "/^X-5:/ FILTER smtp:[127.0.0.1]:10025\n"
                                             "/^X-6:/ BCC a@example.org\n"
                                             "/^X-7:/ PASS\n"
                                             "/^X-8:/ FROB it\n"
                                             "/^X-9:/ REPLACE\n"
                                             "/^X-10:/ REPLACE no label\n"
                                             "/^X-11:/ PREPEND no label\n");
    const char *text = "X-1: a\nX-2: a\nX-3: a\nX-4: a\nX-5: a\nX-6: a\nX-7: a\nX-8: a\n"
                       "X-9: a\nX-10: a\nX-11: a\n\nbody\n";
    assert_int_equal(run(text), 0);
    assert_string_equal(sent.data, text);
    assert_true(
        has_log("warning: unsupported command in smtp_header_checks map: REJECT go away\n"));
    assert_true(has_log("warning: unsupported command in smtp_header_checks map: DISCARD\n"));
    assert_true(has_log("warning: unsupported command in smtp_header_checks map: HOLD\n"));
    assert_true(has_log(
        "warning: unsupported command in smtp_header_checks map: REDIRECT a@example.org\n"));
    assert_true(has_log("warning: unsupported command in smtp_header_checks map: FILTER "
                        "smtp:[127.0.0.1]:10025\n"));
    assert_true(
        has_log("warning: unsupported command in smtp_header_checks map: BCC a@example.org\n"));
    assert_true(has_log("warning: unsupported command in smtp_header_checks map: PASS\n"));
    assert_true(has_log("warning: unsupported command in smtp_header_checks map: FROB it\n"));
    assert_true(has_log("warning: REPLACE action without text in smtp_header_checks map\n"));
    assert_true(has_log("warning: bad REPLACE header text \"no label\" in smtp_header_checks "
                        "map -- need \"headername: headervalue\"\n"));
    assert_true(has_log("warning: bad PREPEND header text \"no label\" in smtp_header_checks "
                        "map -- need \"headername: headervalue\"\n"));
}

static const char *MIME_MSG = "Subject: outer\n"
                              "MIME-Version: 1.0\n"
                              "Content-Type: multipart/mixed; boundary=\"b\"\n"
                              "\n"
                              "--b\n"
                              "Content-Type: text/plain\n"
                              "Subject: part header\n"
                              "\n"
                              "text line\n"
                              "--b\n"
                              "Content-Type: message/rfc822\n"
                              "\n"
                              "Subject: inner\n"
                              "Content-Type: text/plain\n"
                              "\n"
                              "inner text line\n"
                              "--b--\n";

static void test_classes(void **state)
{
    (void)state;
    reset_cfg();
    cfg.header = table("smtp_header_checks", "/^Subject:/ WARN primary\n"
                                             "/^Content-Type:/ WARN primary\n");
    cfg.mime = table("smtp_mime_header_checks", "/^(Subject|Content-Type|MIME-Version):/ "
                                                "WARN mime\n");
    cfg.nested = table("smtp_nested_header_checks", "/^Subject:/ REPLACE Subject: nested\n"
                                                    "/^Content-Type:/ WARN nested\n");
    cfg.body = table("smtp_body_checks", "/^text line$/ REPLACE TEXT LINE\n"
                                         "/^--b$/ INFO boundary\n"
                                         "/^inner text line$/ PREPEND before inner\n"
                                         "/^Subject:/ WARN body\n");
    assert_int_equal(run(MIME_MSG), 0);
    assert_string_equal(sent.data, "Subject: outer\n"
                                   "MIME-Version: 1.0\n"
                                   "Content-Type: multipart/mixed; boundary=\"b\"\n"
                                   "\n"
                                   "--b\n"
                                   "Content-Type: text/plain\n"
                                   "Subject: part header\n"
                                   "\n"
                                   "TEXT LINE\n"
                                   "--b\n"
                                   "Content-Type: message/rfc822\n"
                                   "\n"
                                   "Subject: nested\n"
                                   "Content-Type: text/plain\n"
                                   "\n"
                                   "before inner\n"
                                   "inner text line\n"
                                   "--b--\n");
    /* Primary: smtp_header_checks, but MIME headers go to smtp_mime_header_checks. */
    assert_true(has_log(": warning: header Subject: outer: primary\n"));
    assert_true(has_log(": warning: header MIME-Version: 1.0: mime\n"));
    assert_true(has_log(": warning: header Content-Type: multipart/mixed; boundary=\"b\": mime\n"));
    /* Part headers: all smtp_mime_header_checks. */
    assert_true(has_log(": warning: header Content-Type: text/plain: mime\n"));
    assert_true(has_log(": warning: header Subject: part header: mime\n"));
    assert_true(has_log(": warning: header Content-Type: message/rfc822: mime\n"));
    /* A nested message: smtp_nested_header_checks, MIME headers excepted. */
    assert_true(has_log(": replace: header Subject: inner: Subject: nested\n"));
    assert_false(has_log(": warning: header Content-Type: text/plain: nested\n"));
    assert_false(has_log("header Subject: part header: primary"));
    assert_false(has_log("header Subject: inner: primary"));
    /* Body lines, boundaries included; never headers. */
    assert_true(has_log(": replace: body text line: TEXT LINE\n"));
    assert_true(has_log(": info: body --b: boundary\n"));
    assert_true(has_log(": prepend: body inner text line: before inner\n"));
    assert_false(has_log(": warning: body"));
}

static void test_disable_mime(void **state)
{
    (void)state;
    reset_cfg();
    cfg.mime_options = MIME_OPT_DISABLE_MIME;
    cfg.header = table("smtp_header_checks", "/^Subject:/ WARN primary\n");
    cfg.mime = table("smtp_mime_header_checks", "/^Content-Type:/ WARN mime\n");
    cfg.nested = table("smtp_nested_header_checks", "/^Subject:/ WARN nested\n");
    cfg.body = table("smtp_body_checks", "/^(Subject|Content-Type):/ WARN body\n");
    assert_int_equal(run(MIME_MSG), 0);
    assert_string_equal(sent.data, MIME_MSG);
    /* The primary headers still go to their tables (MIME ones to the mime table) ... */
    assert_true(has_log(": warning: header Subject: outer: primary\n"));
    assert_true(has_log(": warning: header Content-Type: multipart/mixed; boundary=\"b\": mime\n"));
    /* ... but part and attached message headers are body lines. */
    assert_true(has_log(": warning: body Content-Type: text/plain: body\n"));
    assert_true(has_log(": warning: body Subject: part header: body\n"));
    assert_true(has_log(": warning: body Subject: inner: body\n"));
    assert_false(has_log(": warning: header Subject: inner"));
    assert_false(has_log(": warning: header Content-Type: text/plain"));
}

static void test_body_pieces_and_drop(void **state)
{
    (void)state;
    reset_cfg();
    cfg.body = table("smtp_body_checks", "/^drop me$/ IGNORE\n"
                                         "/^piece/ REPLACE PIECE\n");
    assert_int_equal(run("Subject: x\n\nkeep\ndrop me\npiece one\rpiece two\n\n"), 0);
    /* Each record of a long line is checked on its own, as Postfix does. */
    assert_string_equal(sent.data, "Subject: x\n\nkeep\nPIECE|PIECE\n\n");
    assert_false(has_log("drop me"));
}

static void test_table_error(void **state)
{
    (void)state;
    reset_cfg();
    cfg.header = maps_open("smtp_header_checks", "fail:broken", 0);
    assert_int_equal(run("Subject: a\nTo: b\n\nbody\n"), -1);
    assert_string_equal(sent.data, "");
    assert_true(has_log("warning: 4ABC123: smtp_header_checks lookup error: "));
    /* A body table failing half-way stops the output there. */
    reset_cfg();
    cfg.body = maps_open("smtp_body_checks", "fail:broken", 0);
    assert_int_equal(run("Subject: a\n\nbody\nmore\n"), -1);
    assert_string_equal(sent.data, "Subject: a\n\n");
}

static void test_config_names(void **state)
{
    (void)state;
    struct str err = STR_INIT;
    const char *text = "smtp_header_checks = inline:{ {Subject: x = WARN} }\n"
                       "lmtp_header_checks = inline:{ {Subject: y = WARN} }\n"
                       "lmtp_body_checks = inline:{ {z = WARN} }\n"
                       "header_size_limit = 5000\n";
    assert_int_equal(config_load_text("main.cf", text, strlen(text), &err), 0);
    const struct smtp_checks_config *c = smtp_checks_config("lmtp");
    assert_non_null(c);
    assert_string_equal(c->header->title, "lmtp_header_checks");
    assert_string_equal(c->body->title, "lmtp_body_checks");
    assert_null(c->mime); /* no default from lmtp_header_checks, as in Postfix */
    assert_null(c->nested);
    assert_int_equal(c->mime_limits.header_limit, 5000);
    assert_int_equal(c->mime_limits.nesting_limit, 100);
    assert_int_equal(c->mime_limits.boundary_limit, 2048);
    assert_int_equal(c->mime_options & MIME_OPT_DISABLE_MIME, 0);
    str_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_actions),       cmocka_unit_test(test_folded_header),
        cmocka_unit_test(test_unsupported),          cmocka_unit_test(test_classes),
        cmocka_unit_test(test_body_pieces_and_drop), cmocka_unit_test(test_table_error),
        cmocka_unit_test(test_config_names),         cmocka_unit_test(test_disable_mime),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
