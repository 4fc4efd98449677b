/* Unit tests for mime_scan: logical headers from folded lines, header classes (primary,
 * multipart part headers, nested message headers), boundaries as body, multipart/digest's
 * default, encoded message parts, header_size_limit, records split inside a line, text that
 * ends a header section, disable_mime_input_processing and mime_nesting_limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/mime_scan.h"

#include <string.h>

/* Each event: "P|Subject: x" (P/M/N: primary, multipart, nested header), "B|text$" (a body
 * record ending a line) or "B|text+" (a piece of a line), one per line. */
static struct str events = STR_INIT;

static void on_header(void *ctx, enum mime_hdr_class cls, struct str *h)
{
    (void)ctx;
    str_appendf(&events, "%c|%s\n", "PMN"[cls], h -> data);
}

static void on_body(void *ctx, const char *data, size_t len, int eol)
{
    (void)ctx;
    str_append(&events, "B|");
    str_appendn(&events, data, len);
    str_append(&events, eol ? "$\n" : "+\n");
}

static const struct mime_scan_ops ops = {on_header, on_body};

/* Feeds text line by line ('\n' ends a record that ends a line; '\r' ends a piece). */
static const char *scan(const struct mime_scan_opts *o, const char *text)
{
    struct mime_scan_opts def = {102400, 100, 2048, 0};
    struct mime_scan *ms = mime_scan_new(o ? o : &def, &ops, NULL);
    str_clear(&events);
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, "\n\r");
        mime_scan_put(ms, p, n, p[n] != '\r');
        p += n + (p[n] != 0);
    }
    mime_scan_end(ms);
    mime_scan_free(ms);
    return str_cstr(&events);
}

static void test_plain(void **state)
{
    (void)state;
    assert_string_equal(scan(NULL, "Subject: a\n\tb\n  c\nTo: x\n\nhello\n\nbye\n"),
                        "P|Subject: a\n\tb\n  c\n"
                        "P|To: x\n"
                        "B|$\n"
                        "B|hello$\n"
                        "B|$\n"
                        "B|bye$\n");
    /* MIME headers among the primary ones are still primary here (the caller decides). */
    assert_string_equal(scan(NULL, "MIME-Version: 1.0\nContent-Type: text/plain\n\nx\n"),
                        "P|MIME-Version: 1.0\nP|Content-Type: text/plain\nB|$\nB|x$\n");
}

static void test_text_ends_headers(void **state)
{
    (void)state;
    /* A line that is neither a header nor a continuation ends the headers and is body. */
    assert_string_equal(scan(NULL, "Subject: a\nnot a header\nX-Y: z\n"),
                        "P|Subject: a\nB|not a header$\nB|X-Y: z$\n");
    /* A continuation before any header is not one. */
    assert_string_equal(scan(NULL, " lead\nSubject: a\n"), "B| lead$\nB|Subject: a$\n");
    /* Content without a final line end. */
    assert_string_equal(scan(NULL, "Subject: a\n\nlast\r"), "P|Subject: a\nB|$\nB|last+\n");
    assert_string_equal(scan(NULL, "Subject: a\r"), "P|Subject: a\n");
}

static void test_pieces(void **state)
{
    (void)state;
    /* A header line in several records is one header; a long body line stays in pieces. */
    assert_string_equal(scan(NULL, "Subj\rect: a\rb\n\tc\n\nlong\rer\rline\n"),
                        "P|Subject: ab\n\tc\nB|$\nB|long+\nB|er+\nB|line$\n");
}

static void test_header_limit(void **state)
{
    (void)state;
    struct mime_scan_opts o = {12, 100, 2048, 0};
    assert_string_equal(scan(&o, "Subject: abcdefgh\n\tmore\nTo: x\n\nbody text that is long\n"),
                        "P|Subject: abc\nP|To: x\nB|$\nB|body text that is long$\n");
}

static const char *MULTI = "From: a\n"
                           "Content-Type: multipart/mixed;\n"
                           "\tboundary=\"=-b1\" (comment)\n"
                           "\n"
                           "preamble\n"
                           "--=-b1\n"
                           "Content-Type: text/plain\n"
                           "X-Part: 1\n"
                           "\n"
                           "part one\n"
                           "--=-b1\n"
                           "Content-Type: message/rfc822\n"
                           "\n"
                           "Subject: inner\n"
                           "Content-Type: text/plain\n"
                           "\n"
                           "inner body\n"
                           "--=-b1--\n"
                           "epilogue\n"
                           "Subject: not a header\n";

static void test_multipart(void **state)
{
    (void)state;
    assert_string_equal(scan(NULL, MULTI), "P|From: a\n"
                                           "P|Content-Type: multipart/mixed;\n"
                                           "\tboundary=\"=-b1\" (comment)\n"
                                           "B|$\n"
                                           "B|preamble$\n"
                                           "B|--=-b1$\n"
                                           "M|Content-Type: text/plain\n"
                                           "M|X-Part: 1\n"
                                           "B|$\n"
                                           "B|part one$\n"
                                           "B|--=-b1$\n"
                                           "M|Content-Type: message/rfc822\n"
                                           "B|$\n"
                                           "N|Subject: inner\n"
                                           "N|Content-Type: text/plain\n"
                                           "B|$\n"
                                           "B|inner body$\n"
                                           "B|--=-b1--$\n"
                                           "B|epilogue$\n"
                                           "B|Subject: not a header$\n");
    /* Without MIME processing everything after the primary headers is body. */
    struct mime_scan_opts o = {102400, 100, 2048, 1};
    const char *r = scan(&o, MULTI);
    assert_non_null(strstr(r, "B|--=-b1$\nB|Content-Type: text/plain$\nB|X-Part: 1$\n"));
    assert_null(strstr(r, "M|"));
    assert_null(strstr(r, "N|"));
}

static void test_nesting(void **state)
{
    (void)state;
    const char *text = "Content-Type: multipart/mixed; boundary=outer\n"
                       "\n"
                       "--outer\n"
                       "Content-Type: multipart/alternative; boundary=\"inner\"\n"
                       "\n"
                       "--inner\n"
                       "X-A: 1\n"
                       "\n"
                       "a\n"
                       "--outer\n" /* ends the inner level too */
                       "X-B: 2\n"
                       "\n"
                       "--inner\n" /* no longer a boundary */
                       "--outer--\n"
                       "--outer\n" /* the level has ended */
                       "X-C: 3\n";
    assert_string_equal(scan(NULL, text), "P|Content-Type: multipart/mixed; boundary=outer\n"
                                          "B|$\n"
                                          "B|--outer$\n"
                                          "M|Content-Type: multipart/alternative; "
                                          "boundary=\"inner\"\n"
                                          "B|$\n"
                                          "B|--inner$\n"
                                          "M|X-A: 1\n"
                                          "B|$\n"
                                          "B|a$\n"
                                          "B|--outer$\n"
                                          "M|X-B: 2\n"
                                          "B|$\n"
                                          "B|--inner$\n"
                                          "B|--outer--$\n"
                                          "B|--outer$\n"
                                          "B|X-C: 3$\n");
    /* mime_nesting_limit 1: the inner multipart is not followed. */
    struct mime_scan_opts o = {102400, 1, 2048, 0};
    const char *r = scan(&o, text);
    assert_non_null(strstr(r, "B|--inner$\nB|X-A: 1$\n"));
}

static void test_digest_and_encoding(void **state)
{
    (void)state;
    /* Parts of a digest are messages unless they say otherwise. */
    assert_string_equal(scan(NULL, "Content-Type: multipart/digest; boundary=d\n"
                                   "\n"
                                   "--d\n"
                                   "\n"
                                   "Subject: m1\n"
                                   "\n"
                                   "x\n"
                                   "--d\n"
                                   "Content-Type: text/plain\n"
                                   "\n"
                                   "Subject: text\n"
                                   "--d--\n"),
                        "P|Content-Type: multipart/digest; boundary=d\n"
                        "B|$\n"
                        "B|--d$\n"
                        "B|$\n"
                        "N|Subject: m1\n"
                        "B|$\n"
                        "B|x$\n"
                        "B|--d$\n"
                        "M|Content-Type: text/plain\n"
                        "B|$\n"
                        "B|Subject: text$\n"
                        "B|--d--$\n");
    /* An encoded message, message/partial and a multipart without a boundary are body. */
    assert_string_equal(scan(NULL, "Content-Type: message/rfc822\n"
                                   "Content-Transfer-Encoding: base64\n"
                                   "\n"
                                   "Subject: x\n"),
                        "P|Content-Type: message/rfc822\n"
                        "P|Content-Transfer-Encoding: base64\n"
                        "B|$\n"
                        "B|Subject: x$\n");
    assert_string_equal(scan(NULL, "Content-Type: Message/Partial; id=1\n\nSubject: x\n"),
                        "P|Content-Type: Message/Partial; id=1\nB|$\nB|Subject: x$\n");
    assert_string_equal(scan(NULL, "Content-Type: MESSAGE/RFC822\n\nSubject: x\n\nb\n"),
                        "P|Content-Type: MESSAGE/RFC822\nB|$\nN|Subject: x\nB|$\nB|b$\n");
    assert_string_equal(scan(NULL, "Content-Type: multipart/mixed\n\n--\n--x\nA: b\n"),
                        "P|Content-Type: multipart/mixed\nB|$\nB|--$\nB|--x$\nB|A: b$\n");
}

static void test_boundary_limit(void **state)
{
    (void)state;
    /* Boundaries compare as far as mime_boundary_length_limit. */
    struct mime_scan_opts o = {102400, 100, 3, 0};
    assert_string_equal(scan(&o, "Content-Type: multipart/mixed; boundary=abcdef\n"
                                 "\n"
                                 "--abcXYZ\n"
                                 "A: 1\n"),
                        "P|Content-Type: multipart/mixed; boundary=abcdef\n"
                        "B|$\n"
                        "B|--abcXYZ$\n"
                        "M|A: 1\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_text_ends_headers),
        cmocka_unit_test(test_pieces),
        cmocka_unit_test(test_header_limit),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_digest_and_encoding),
        cmocka_unit_test(test_boundary_limit),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    str_release(&events);
    return rc;
}
