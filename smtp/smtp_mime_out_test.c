/* Unit tests for smtp_mime_out (the 8BITMIME downgrade): a non-MIME 8-bit message gets
 * MIME-Version and a quoted-printable Content-Transfer-Encoding; 7-bit content goes out
 * unchanged; in a multipart only the 8-bit parts are converted and the container is relabelled
 * 7bit, never encoded; an attached message's own body is converted; base64 parts and 8-bit
 * headers stay as they are; long lines in pieces; too deep nesting is an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "smtp.h"

#include <stdlib.h>
#include <string.h>

static struct str sent = STR_INIT; /* the output: '\n' after each line */

static void out(void *ctx, const char *data, size_t len, int eol)
{
    (void)ctx;
    str_appendn(&sent, data, len);
    if (eol)
        str_appendc(&sent, '\n');
}

/* Converts text ('\n'-separated lines), each line fed in pieces of at most piece bytes
 * (0: whole lines). Returns the errors. */
static int convert_pieces(const char *text, size_t piece, int nesting)
{
    struct mime_limits lim = {102400, 2048, nesting};
    struct smtp_mime_out *c = smtp_mime_out_new(&lim, out, NULL);
    str_clear(&sent);
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t done = 0;
        while (piece && n - done > piece) {
            smtp_mime_out_put(c, p + done, piece, 0);
            done += piece;
        }
        smtp_mime_out_put(c, p + done, n - done, nl != NULL);
        p += n + (nl ? 1 : 0);
    }
    int errs = smtp_mime_out_end(c);
    smtp_mime_out_free(c);
    return errs;
}

static void expect(const char *in, const char *want)
{
    assert_int_equal(convert_pieces(in, 0, 100), 0);
    assert_string_equal(sent.data, want);
    /* the same in small pieces */
    assert_int_equal(convert_pieces(in, 7, 100), 0);
    assert_string_equal(sent.data, want);
}

static void test_plain_8bit(void **state)
{
    (void)state;
    expect("From: a@example.com\n"
           "Subject: test\n"
           "\n"
           "caf\xc3\xa9 = ok \n"
           "plain line\n",
           "From: a@example.com\n"
           "Subject: test\n"
           "MIME-Version: 1.0\n"
           "Content-Transfer-Encoding: quoted-printable\n"
           "\n"
           "caf=C3=A9 =3D ok=20\n"
           "plain line\n");
}

static void test_8bit_late_in_body(void **state)
{
    (void)state;
    /* the held 7-bit lines before the first 8-bit byte are encoded too */
    expect("Subject: t\n"
           "MIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\n"
           "\n"
           "a=b\n"
           "\xe2\x82\xac\n",
           "Subject: t\n"
           "MIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: quoted-printable\n"
           "\n"
           "a=3Db\n"
           "=E2=82=AC\n");
}

static void test_7bit_unchanged(void **state)
{
    (void)state;
    const char *msg = "Subject: t\n"
                      "\n"
                      "just = ascii \n"
                      "..dots\n";
    expect(msg, msg);
    /* a message with headers only */
    expect("Subject: t\n", "Subject: t\n");
}

static void test_8bit_label_replaced(void **state)
{
    (void)state;
    expect("MIME-Version: 1.0\n"
           "Content-Transfer-Encoding: 8bit\n"
           "Content-Type: text/plain; charset=iso-8859-1\n"
           "Content-Transfer-Encoding: binary\n"
           "\n"
           "\xe9t\xe9\n",
           "MIME-Version: 1.0\n"
           "Content-Transfer-Encoding: quoted-printable\n"
           "Content-Type: text/plain; charset=iso-8859-1\n"
           "\n"
           "=E9t=E9\n");
}

static void test_multipart(void **state)
{
    (void)state;
    expect("MIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=\"b1\"\n"
           "Content-Transfer-Encoding: 8bit\n"
           "\n"
           "preamble\n"
           "--b1\n"
           "Content-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: 8bit\n"
           "\n"
           "\xc3\xbc\n"
           "--b1\n"
           "Content-Type: text/plain\n"
           "\n"
           "seven = bit \n"
           "--b1\n"
           "Content-Type: application/octet-stream\n"
           "Content-Transfer-Encoding: base64\n"
           "\n"
           "AAAA\n"
           "--b1\n"
           "Content-Type: text/plain; charset=utf-8\n"
           "\n"
           "unlabelled \xc3\xbc\n"
           "--b1--\n"
           "epilogue\n",
           "MIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=\"b1\"\n"
           "Content-Transfer-Encoding: 7bit\n"
           "\n"
           "preamble\n"
           "--b1\n"
           "Content-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: quoted-printable\n"
           "\n"
           "=C3=BC\n"
           "--b1\n"
           "Content-Type: text/plain\n"
           "\n"
           "seven = bit \n"
           "--b1\n"
           "Content-Type: application/octet-stream\n"
           "Content-Transfer-Encoding: base64\n"
           "\n"
           "AAAA\n"
           "--b1\n"
           "Content-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: quoted-printable\n"
           "\n"
           "unlabelled =C3=BC\n"
           "--b1--\n"
           "epilogue\n");
}

static void test_nested_message(void **state)
{
    (void)state;
    expect("MIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=b1\n"
           "\n"
           "--b1\n"
           "Content-Type: message/rfc822\n"
           "Content-Transfer-Encoding: 8bit\n"
           "\n"
           "Subject: inner \xc3\xa9\n"
           "\n"
           "inner body \xc3\xa9\n"
           "--b1\n"
           "Content-Type: text/plain\n"
           "\n"
           "ascii\n"
           "--b1--\n",
           "MIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=b1\n"
           "\n"
           "--b1\n"
           "Content-Type: message/rfc822\n"
           "Content-Transfer-Encoding: 7bit\n"
           "\n"
           "Subject: inner \xc3\xa9\n" /* 8-bit in a header: left as it is */
           "MIME-Version: 1.0\n"
           "Content-Transfer-Encoding: quoted-printable\n"
           "\n"
           "inner body =C3=A9\n"
           "--b1\n"
           "Content-Type: text/plain\n"
           "\n"
           "ascii\n"
           "--b1--\n");
}

static void test_long_line(void **state)
{
    (void)state;
    struct str in = STR_INIT, want = STR_INIT;
    str_set(&in, "Subject: t\n\n");
    str_set(&want,
            "Subject: t\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n");
    for (int i = 0; i < 100; i++)
        str_append(&in, "\xc3\xa9");
    str_append(&in, "\n");
    /* 200 escapes of 3 bytes: 25 per 76-byte line (75 + '=') */
    for (int l = 0; l < 8; l++) {
        for (int i = 0; i < 25; i++)
            str_append(&want, l * 25 + i < 200 ? ((l * 25 + i) % 2 ? "=A9" : "=C3") : "");
        str_append(&want, l < 7 ? "=\n" : "\n");
    }
    expect(in.data, want.data);
    str_release(&in);
    str_release(&want);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    const char *msg = "MIME-Version: 1.0\n"
                      "Content-Type: multipart/mixed; boundary=a\n"
                      "\n"
                      "--a\n"
                      "Content-Type: multipart/mixed; boundary=b\n"
                      "\n"
                      "--b\n"
                      "\n"
                      "\xc3\xa9\n"
                      "--b--\n"
                      "--a--\n";
    assert_int_equal(convert_pieces(msg, 0, 1), MIME_ERR_NESTING);
    assert_int_equal(convert_pieces(msg, 0, 2), 0);
    assert_non_null(strstr(sent.data, "\n=C3=A9\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_8bit),     cmocka_unit_test(test_8bit_late_in_body),
        cmocka_unit_test(test_7bit_unchanged), cmocka_unit_test(test_8bit_label_replaced),
        cmocka_unit_test(test_multipart),      cmocka_unit_test(test_nested_message),
        cmocka_unit_test(test_long_line),      cmocka_unit_test(test_nesting_limit),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    str_release(&sent);
    return rc;
}
