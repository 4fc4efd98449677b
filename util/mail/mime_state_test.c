/* Unit tests for the MIME state machine: header classes (primary, multipart part, nested
 * message), body offsets per segment, boundaries (quoted, nested, closed by an outer one,
 * trailing junk, truncated), multipart/digest, malformed header blocks, the nesting limit,
 * encoding domains, 8-bit data, header truncation, disabled MIME, very long lines, and the
 * primary-header entry points cleanup uses; and random input. Then input in pieces (queue
 * records, as the smtp client feeds it): headers joined across pieces, body pieces with their
 * offsets, boundaries only at a line's start, a header block ended by a long line, pieces at
 * the end of the input, and the same events as whole lines; which checks table a header's class
 * stands for; the block_end and part_end hooks. Each event is logged as one line of text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mail/mime_state.h"

#include <stdlib.h>
#include <string.h>

static struct str events;

static void on_header(void *ctx, enum mime_hdr_class cls, const struct header_info *hi,
                      struct str *text)
{
    (void)ctx;
    static const char *const names[] = {"MAIN", "MULT", "NEST"};
    str_appendf(&events, "%s%s|%s\n", names[cls], (hi->flags & HDR_F_MIME) ? "*" : "", text->data);
}

static void on_header_end(void *ctx)
{
    (void)ctx;
    str_append(&events, "HEADER END\n");
}

static void on_body(void *ctx, const char *line, size_t len, long offset)
{
    (void)ctx;
    str_appendf(&events, "BODY %ld|%.*s\n", offset, (int)(len > 60 ? 60 : len), line);
}

static void on_error(void *ctx, int code, const char *text, size_t len)
{
    (void)ctx;
    str_appendf(&events, "ERROR %s: %.*s\n", mime_state_detail(code)->text, (int)len, text);
}

static const struct mime_callbacks cbs = {
    .header = on_header, .header_end = on_header_end, .body = on_body, .error = on_error};

static struct mime_state *make_with(const struct mime_callbacks *cb, int options, int nesting,
                                    size_t header_limit, size_t bound_limit)
{
    struct mime_limits lim = {header_limit, bound_limit, nesting};
    str_set(&events, "");
    return mime_state_create(options, &lim, cb, NULL);
}

static struct mime_state *make(int options, int nesting, size_t header_limit, size_t bound_limit)
{
    return make_with(&cbs, options, nesting, header_limit, bound_limit);
}

/* Feeds text (lines separated by '\n') and the end of input. */
static int feed(struct mime_state *ms, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        mime_state_update(ms, p, n);
        p += n + (nl != NULL);
    }
    return mime_state_finish(ms);
}

static void expect(const char *want)
{
    if (strcmp(events.data, want) != 0)
        fail_msg("events differ:\n--- got\n%s--- want\n%s", events.data, want);
}

static void test_plain_message(void **state)
{
    (void)state;
    struct mime_state *ms = make(0, 100, 0, 0);
    assert_int_equal(feed(ms, "Subject: hi\n\tthere\nFrom : a@b\n\nline one\n\nthree\n"), 0);
    expect("MAIN|Subject: hi\n\tthere\n"
           "MAIN|From: a@b\n"
           "HEADER END\n"
           "BODY 0|\n"
           "BODY 1|line one\n"
           "BODY 10|\n"
           "BODY 11|three\n");
    mime_state_free(ms);
}

static const char *const multipart =
    "Subject: primary subject\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/(co\\m\\)ment)mumble mumble; boundary = \"ab\\cd\n"
    " ef\" mumble\n"
    "\n"
    "abcdef prolog\n"
    "\n"
    "--abcd ef\n"
    "content-type: message/rfc822; mumble\n"
    "\n"
    "subject: nested subject\n"
    "content-type: multipart/mumble; boundary(comment)=\"pqrs\"\n"
    "content-transfer-encoding: base64\n"
    "\n"
    "pqrs prolog\n"
    "\n"
    "--pqrs\n"
    "header: pqrs part 01\n"
    "\n"
    "body pqrs part 01\n"
    "\n"
    "--pqrs\n"
    "header: pqrs part 02\n"
    "\n"
    "body pqrs part 02\n"
    "\n"
    "--bogus-boundary\n"
    "header: wietse\n"
    "\n"
    "body asdasads\n"
    "\n"
    "--abcd ef\n"
    "header: abcdef part 02\n"
    "\n"
    "body abcdef part 02\n"
    "\n"
    "--abcd ef--\n"
    "\n"
    "epilog\n";

static void test_nested_structure(void **state)
{
    (void)state;
    struct mime_state *ms = make(MIME_OPT_REPORT_ENCODING_DOMAIN, 100, 0, 0);
    assert_int_equal(feed(ms, multipart), MIME_ERR_ENCODING_DOMAIN);
    expect("MAIN|Subject: primary subject\n"
           "MAIN*|MIME-Version: 1.0\n"
           "MAIN*|Content-Type: multipart/(co\\m\\)ment)mumble mumble; boundary = \"ab\\cd\n"
           " ef\" mumble\n"
           "HEADER END\n"
           "BODY 0|\n"
           "BODY 1|abcdef prolog\n"
           "BODY 15|\n"
           "BODY 16|--abcd ef\n"
           "MULT*|content-type: message/rfc822; mumble\n"
           "BODY 0|\n"
           "NEST|subject: nested subject\n"
           "NEST*|content-type: multipart/mumble; boundary(comment)=\"pqrs\"\n"
           "NEST*|content-transfer-encoding: base64\n"
           /* invalid, yet followed: hidden parts are still found */
           "ERROR invalid message/* or multipart/* encoding domain: base64\n"
           "BODY 0|\n"
           "BODY 1|pqrs prolog\n"
           "BODY 13|\n"
           "BODY 14|--pqrs\n"
           "MULT|header: pqrs part 01\n"
           "BODY 0|\n"
           "BODY 1|body pqrs part 01\n"
           "BODY 19|\n"
           "BODY 20|--pqrs\n"
           "MULT|header: pqrs part 02\n"
           "BODY 0|\n"
           "BODY 1|body pqrs part 02\n"
           "BODY 19|\n"
           "BODY 20|--bogus-boundary\n"
           "BODY 37|header: wietse\n"
           "BODY 52|\n"
           "BODY 53|body asdasads\n"
           "BODY 67|\n"
           /* the outer boundary closes the inner multipart */
           "BODY 68|--abcd ef\n"
           "MULT|header: abcdef part 02\n"
           "BODY 0|\n"
           "BODY 1|body abcdef part 02\n"
           "BODY 21|\n"
           "BODY 0|--abcd ef--\n"
           "BODY 12|\n"
           "BODY 13|epilog\n");
    assert_int_equal(mime_state_depth(ms), 0);
    mime_state_free(ms);
}

static void test_encoding_domain_not_reported_by_default(void **state)
{
    (void)state;
    struct mime_state *ms = make(0, 100, 0, 0);
    assert_int_equal(feed(ms, multipart), 0);
    assert_null(strstr(events.data, "ERROR"));
    mime_state_free(ms);
    ms = make(MIME_OPT_REPORT_ENCODING_DOMAIN, 100, 0, 0);
    assert_int_equal(feed(ms, "Content-Type: message/partial\nContent-Transfer-Encoding: 8bit\n"
                              "\nx\n"),
                     MIME_ERR_ENCODING_DOMAIN);
    mime_state_free(ms);
    ms = make(MIME_OPT_REPORT_ENCODING_DOMAIN, 100, 0, 0);
    assert_int_equal(feed(ms, "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n"
                              "\nx\n"),
                     0);
    mime_state_free(ms);
}

static void test_boundary_forms(void **state)
{
    (void)state;
    struct mime_state *ms = make(0, 100, 0, 0);
    feed(ms, "Content-Type: multipart/alternative; boundary=----=_Part_7.1\n"
             "\n"
             "------=_Part_7.1   \n" /* transport padding */
             "Content-Type: text/plain\n"
             "\n"
             "------=_Part_7.1x trailing text\n" /* still a delimiter: a prefix match */
             "X-Part: two\n"
             "\n"
             "-- \n"
             "------=_Part_7.1--junk\n"
             "X-Not: a header\n");
    expect("MAIN*|Content-Type: multipart/alternative; boundary=----=_Part_7.1\n"
           "HEADER END\n"
           "BODY 0|\n"
           "BODY 1|------=_Part_7.1   \n"
           "MULT*|Content-Type: text/plain\n"
           "BODY 0|\n"
           "BODY 1|------=_Part_7.1x trailing text\n"
           "MULT|X-Part: two\n"
           "BODY 0|\n"
           "BODY 1|-- \n"
           "BODY 0|------=_Part_7.1--junk\n"
           "BODY 23|X-Not: a header\n");
    mime_state_free(ms);
}

static void test_truncated_boundaries(void **state)
{
    (void)state;
    /* kept: the first 4 bytes; delimiters are still found, by their prefix */
    struct mime_state *ms = make(0, 100, 0, 4);
    feed(ms, "Content-Type: multipart/mixed; boundary=\"abcdefgh\"\n"
             "\n"
             "--abcdefgh\n"
             "Content-Type: text/plain\n"
             "\n"
             "--abcdefgh--\n"
             "X: y\n");
    assert_non_null(strstr(events.data, "MULT*|Content-Type: text/plain\n"));
    assert_non_null(strstr(events.data, "BODY 0|--abcdefgh--\nBODY 13|X: y\n"));
    assert_int_equal(mime_state_depth(ms), 0);
    mime_state_free(ms);
}

static void test_digest_and_missing_blank_line(void **state)
{
    (void)state;
    struct mime_state *ms = make(0, 100, 0, 0);
    feed(ms, "Content-Type: multipart/digest; boundary=d\n"
             "\n"
             "--d\n"
             "\n"
             "Subject: digested\n"
             "\n"
             "text\n"
             "--d\n"
             "no header here\n"
             "Subject: body text\n"
             "--d--\n");
    expect("MAIN*|Content-Type: multipart/digest; boundary=d\n"
           "HEADER END\n"
           "BODY 0|\n"
           "BODY 1|--d\n"
           "BODY 0|\n" /* no part headers: a digest part defaults to message/rfc822 */
           "NEST|Subject: digested\n"
           "BODY 0|\n"
           "BODY 1|text\n"
           "BODY 6|--d\n"
           "BODY 0|no header here\n" /* malformed part header block: the rest is body */
           "BODY 15|Subject: body text\n"
           "BODY 0|--d--\n");
    mime_state_free(ms);
}

/* n nested multiparts, each with one text part. */
static void nested(struct str *msg, int n)
{
    str_set(msg, "Subject: deep\n");
    for (int i = 0; i < n; i++)
        str_appendf(msg, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
    str_append(msg, "Content-Type: text/plain\n\ninnermost\n");
    for (int i = n - 1; i >= 0; i--)
        str_appendf(msg, "--b%d--\n", i);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    struct str msg = STR_INIT;
    nested(&msg, 3);
    struct mime_state *ms = make(MIME_OPT_REPORT_NESTING, 3, 0, 0);
    assert_int_equal(feed(ms, msg.data), 0);
    assert_non_null(strstr(events.data, "MULT*|Content-Type: text/plain\n"));
    mime_state_free(ms);

    nested(&msg, 5);
    ms = make(MIME_OPT_REPORT_NESTING, 3, 0, 0);
    assert_int_equal(feed(ms, msg.data), MIME_ERR_NESTING);
    const char *err = strstr(events.data, "ERROR ");
    assert_non_null(err);
    assert_ptr_equal(err, strstr(events.data, "ERROR MIME nesting exceeds safety limit: "
                                              "Content-Type: multipart/mixed; boundary=\"b3\"\n"));
    assert_null(strstr(err + 1, "ERROR ")); /* reported once */
    mime_state_free(ms);

    ms = make(0, 3, 0, 0); /* not reported without the option, and still bounded */
    for (const char *p = msg.data; *p;) {
        const char *nl = strchr(p, '\n');
        mime_state_update(ms, p, (size_t)(nl - p));
        assert_true(mime_state_depth(ms) <= 3);
        p = nl + 1;
    }
    assert_int_equal(mime_state_finish(ms), 0);
    mime_state_free(ms);
    str_release(&msg);
}

static void test_disabled_mime(void **state)
{
    (void)state;
    struct mime_state *ms = make(MIME_OPT_DISABLE_MIME | MIME_OPT_REPORT_NESTING, 0, 0, 0);
    feed(ms, "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n");
    expect("MAIN*|Content-Type: multipart/mixed; boundary=b\n"
           "HEADER END\n"
           "BODY 0|\n"
           "BODY 1|--b\n"
           "BODY 5|Content-Type: text/plain\n"
           "BODY 30|\n"
           "BODY 31|x\n");
    mime_state_free(ms);
}

static void test_header_truncation_and_8bit(void **state)
{
    (void)state;
    struct mime_state *ms =
        make(MIME_OPT_REPORT_TRUNC_HEADER | MIME_OPT_REPORT_8BIT_IN_HEADER, 100, 16, 0);
    feed(ms, "Subject: 0123456789\n more\nX-A: \xc3\xa9\n\nbody \xc3\xa9\n");
    expect("ERROR message header length exceeds safety limit: Subject: 0123456\n"
           "MAIN|Subject: 0123456\n"
           "ERROR improper use of 8-bit data in message header: X-A: \xc3\xa9\n"
           "MAIN|X-A: \xc3\xa9\n"
           "HEADER END\n"
           "BODY 0|\n"
           "BODY 1|body \xc3\xa9\n");
    mime_state_free(ms);
    ms = make(MIME_OPT_REPORT_8BIT_IN_7BIT_BODY, 100, 0, 0);
    assert_int_equal(feed(ms, "Content-Transfer-Encoding: 8bit\n\nbody \xc3\xa9\n"), 0);
    mime_state_free(ms);
    ms = make(MIME_OPT_REPORT_8BIT_IN_7BIT_BODY, 100, 0, 0);
    assert_int_equal(feed(ms, "Subject: x\n\nbody \xc3\xa9\n"), MIME_ERR_8BIT_IN_7BIT_BODY);
    mime_state_free(ms);
}

static void test_long_lines(void **state)
{
    (void)state;
    size_t n = 3 * 1024 * 1024;
    char *big = malloc(n + 3);
    memset(big, 'x', n + 2);
    big[0] = big[1] = '-';
    struct mime_state *ms = make(0, 100, 0, 0);
    const char *head = "Content-Type: multipart/mixed; boundary=\"xxx\"";
    mime_state_update(ms, head, strlen(head));
    mime_state_update(ms, "", 0);
    mime_state_update(ms, big, n + 2); /* "--xxx...": a delimiter by its prefix */
    mime_state_update(ms, "X-Part: 1", 9);
    mime_state_update(ms, "", 0);
    mime_state_update(ms, big + 2, n); /* a long body line */
    mime_state_update(ms, "--xxx--", 7);
    mime_state_finish(ms);
    assert_non_null(strstr(events.data, "MULT|X-Part: 1\nBODY 0|\nBODY 1|xxx"));
    assert_non_null(strstr(events.data, "BODY 0|--xxx--\n"));
    assert_int_equal(mime_state_depth(ms), 0);
    mime_state_free(ms);
    free(big);
}

static void test_primary_entry_points(void **state)
{
    (void)state;
    struct mime_state *ms = make(0, 100, 0, 0);
    const char *h = "Content-Type: message/rfc822";
    mime_state_primary_header(ms, h, strlen(h));
    mime_state_primary_end(ms);
    feed(ms, "Subject: attached\n\nbody\n");
    expect("HEADER END\n"
           "NEST|Subject: attached\n"
           "BODY 0|\n"
           "BODY 1|body\n");
    mime_state_free(ms);
    ms = make(0, 100, 0, 0);
    mime_state_primary_end(ms);
    feed(ms, "first body line\nsecond\n");
    expect("HEADER END\nBODY 1|first body line\nBODY 17|second\n");
    mime_state_free(ms);
}

static void test_finish_flushes_pending_header(void **state)
{
    (void)state;
    struct mime_state *ms = make(0, 100, 0, 0);
    feed(ms, "Content-Type: multipart/mixed; boundary=b\n\n--b\nX-Last: 1\n\tfolded");
    assert_non_null(strstr(events.data, "BODY 1|--b\nMULT|X-Last: 1\n\tfolded\n"));
    mime_state_free(ms);
    ms = make(0, 100, 0, 0);
    feed(ms, "Subject: no body");
    expect("MAIN|Subject: no body\nHEADER END\n");
    mime_state_free(ms);
    ms = make(0, 100, 0, 0);
    feed(ms, "\tno header\n");
    expect("HEADER END\nBODY 0|\nBODY 1|\tno header\n");
    mime_state_free(ms);
}

/* Random input from whole MIME lines and random fragments: the parser must stay within its
 * limits (and the sanitizer build finds no memory error). */
static void random_line(unsigned *seed, struct str *line)
{
    static const char *const lines[] = {
        "Content-Type: multipart/mixed; boundary=a",
        "Content-Type: multipart/mixed; boundary=\"b\"",
        "Content-Type: multipart/digest; boundary=c",
        "Content-Type: message/rfc822",
        "",
        "",
        "--a",
        "--b",
        "--c",
        "--a--",
        "--b--",
        "--c--",
        " folded",
        "X-H: v",
        "body \xff",
        "Content-Transfer-Encoding: base64",
    };
    static const char *const frags[] = {
        "--", "a",  "b", "--a", "\"", " ",    "(",
        ")",  "\\", ";", "=",   ":",  "\xff", "Content-Type: multipart/x; boundary="};
    *seed = *seed * 1103515245 + 12345;
    str_set(line, "");
    if ((*seed >> 16) % 10 < 8) {
        *seed = *seed * 1103515245 + 12345;
        str_append(line, lines[(*seed >> 16) % (sizeof(lines) / sizeof(lines[0]))]);
        return;
    }
    for (int n = (int)((*seed >> 20) % 6); n > 0; n--) {
        *seed = *seed * 1103515245 + 12345;
        str_append(line, frags[(*seed >> 16) % (sizeof(frags) / sizeof(frags[0]))]);
    }
}

static void test_random_input(void **state)
{
    (void)state;
    unsigned seed = 12345;
    size_t deepest = 0;
    int errors = 0;
    struct str line = STR_INIT;
    const char *top = "Content-Type: multipart/mixed; boundary=a";
    for (int msg = 0; msg < 250; msg++) {
        struct mime_state *ms =
            make(MIME_OPT_REPORT_NESTING | MIME_OPT_REPORT_ENCODING_DOMAIN |
                     MIME_OPT_REPORT_TRUNC_HEADER | MIME_OPT_REPORT_8BIT_IN_HEADER |
                     MIME_OPT_REPORT_8BIT_IN_7BIT_BODY,
                 3, 64, 3);
        mime_state_update(ms, top, strlen(top));
        for (int i = 0; i < 200; i++) {
            random_line(&seed, &line);
            mime_state_update(ms, line.data, line.len);
            assert_true(mime_state_depth(ms) <= 3);
            if (mime_state_depth(ms) > deepest)
                deepest = mime_state_depth(ms);
        }
        errors |= mime_state_finish(ms);
        mime_state_free(ms);
    }
    str_release(&line);
    assert_int_equal(deepest, 3); /* the input did nest, up to the limit */
    assert_int_equal(errors & MIME_ERR_NESTING, MIME_ERR_NESTING);
}

/* ---- input in pieces ---- */

static void on_piece(void *ctx, const char *data, size_t len, long offset)
{
    (void)ctx;
    str_appendf(&events, "PIECE %ld|%.*s\n", offset, (int)(len > 60 ? 60 : len), data);
}

static const struct mime_callbacks piece_cbs = {.header = on_header,
                                                .header_end = on_header_end,
                                                .body = on_body,
                                                .error = on_error,
                                                .body_piece = on_piece};

static struct mime_state *make_pieces(int options, size_t header_limit)
{
    return make_with(&piece_cbs, options, 100, header_limit, 0);
}

/* Feeds text in records ('\n' ends a record that ends a line, '\r' one that more of the line
 * follows) and the end of input. */
static int feed_pieces(struct mime_state *ms, const char *text)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n\r");
        mime_state_update_piece(ms, p, n, p[n] != '\r');
        p += n + (p[n] != 0);
    }
    return mime_state_finish(ms);
}

static void test_pieces_headers_and_body(void **state)
{
    (void)state;
    struct mime_state *ms = make_pieces(MIME_OPT_REPORT_8BIT_IN_7BIT_BODY, 0);
    /* a header name split between pieces, a folded header in pieces, a long body line */
    assert_int_equal(feed_pieces(ms, "Subj\rect: a\rb\n\tc\rd\nFrom :\r x\n\nlong\rer\rline\n"
                                     "short\nabc\r\xc3\xa9\n"),
                     MIME_ERR_8BIT_IN_7BIT_BODY);
    expect("MAIN|Subject: ab\n\tcd\n"
           "MAIN|From: x\n"
           "HEADER END\n"
           "BODY 0|\n"
           "PIECE 1|long\n"
           "PIECE 5|er\n"
           "BODY 7|line\n"
           "BODY 12|short\n"
           "PIECE 18|abc\n"
           /* 8-bit data in a later piece is found too */
           "ERROR improper use of 8-bit data in message body: \xc3\xa9\n"
           "BODY 21|\xc3\xa9\n");
    mime_state_free(ms);
}

static void test_pieces_boundaries(void **state)
{
    (void)state;
    struct mime_state *ms = make_pieces(0, 0);
    feed_pieces(ms, "Content-Type: multipart/mixed; boundary=b\n"
                    "\n"
                    "--b\rjunk\n" /* a delimiter in a line's first piece */
                    "X-A: 1\n"
                    "\n"
                    "text\r--b\n" /* not at a line's start: no delimiter */
                    "--\rb\n"     /* a delimiter split between pieces is not seen */
                    "--b--\rtail\n"
                    "X-B: 2\n");
    expect("MAIN*|Content-Type: multipart/mixed; boundary=b\n"
           "HEADER END\n"
           "BODY 0|\n"
           "PIECE 1|--b\n"
           "BODY 4|junk\n"
           "MULT|X-A: 1\n"
           "BODY 0|\n"
           "PIECE 1|text\n"
           "BODY 5|--b\n"
           "PIECE 9|--\n"
           "BODY 11|b\n"
           "PIECE 0|--b--\n"
           "BODY 5|tail\n"
           "BODY 10|X-B: 2\n");
    assert_int_equal(mime_state_depth(ms), 0);
    mime_state_free(ms);
}

static void test_pieces_long_header_block_lines(void **state)
{
    (void)state;
    /* A line that is no header ends the block once MIME_CLASSIFY_BYTES show it: that much goes
     * out as one piece, the rest piece by piece. */
    struct str text = STR_INIT, want = STR_INIT;
    str_set(&text, "X-A: 1\n");
    for (int i = 0; i < 3; i++) {
        str_appendf(&text, "%0500d", i);
        str_appendc(&text, i < 2 ? '\r' : '\n');
    }
    struct mime_state *ms = make_pieces(0, 0);
    feed_pieces(ms, text.data);
    str_setf(&want, "MAIN|X-A: 1\nHEADER END\nBODY 0|\nPIECE 1|%060d\nBODY 1001|%060d\n", 0, 0);
    expect(want.data);
    mime_state_free(ms);

    /* A header longer than MIME_CLASSIFY_BYTES in pieces: one header, cut at header_limit. */
    str_set(&text, "Subject: ");
    for (int i = 0; i < 3; i++) {
        str_appendf(&text, "%0500d", i);
        str_appendc(&text, i < 2 ? '\r' : '\n');
    }
    str_append(&text, "\nbody\n");
    ms = make_pieces(MIME_OPT_REPORT_TRUNC_HEADER, 1200);
    assert_int_equal(feed_pieces(ms, text.data), MIME_ERR_TRUNC_HEADER);
    str_set(&want, "MAIN|Subject: ");
    str_appendf(&want, "%0500d%0500d%0191d\nHEADER END\nBODY 0|\nBODY 1|body\n", 0, 1, 0);
    const char *main = strstr(events.data, "MAIN|");
    assert_non_null(main);
    assert_string_equal(main, want.data);
    assert_non_null(strstr(events.data, "ERROR message header length exceeds safety limit"));
    mime_state_free(ms);
    str_release(&text);
    str_release(&want);
}

static void test_pieces_at_end(void **state)
{
    (void)state;
    struct mime_state *ms = make_pieces(0, 0);
    feed_pieces(ms, "Subject: a\n\nlast\r");
    expect("MAIN|Subject: a\nHEADER END\nBODY 0|\nPIECE 1|last\n");
    mime_state_free(ms);
    ms = make_pieces(0, 0);
    feed_pieces(ms, "Subject: a\rb\r");
    expect("MAIN|Subject: ab\nHEADER END\n");
    mime_state_free(ms);
    ms = make_pieces(0, 0);
    feed_pieces(ms, "Content-Type: multipart/mixed; boundary=b\n\n--b\nX-Part: 1\n\tmo\rre\r");
    assert_non_null(strstr(events.data, "BODY 1|--b\nMULT|X-Part: 1\n\tmore\n"));
    mime_state_free(ms);
}

/* Joins body pieces, so that events in pieces compare with events from whole lines. */
static struct str joined;
static long joined_offset = -1;

static void on_piece_join(void *ctx, const char *data, size_t len, long offset)
{
    (void)ctx;
    if (joined_offset < 0)
        joined_offset = offset;
    str_appendn(&joined, data, len);
}

static void on_body_join(void *ctx, const char *line, size_t len, long offset)
{
    if (joined_offset < 0) {
        on_body(ctx, line, len, offset);
        return;
    }
    str_appendn(&joined, line, len);
    on_body(ctx, joined.data, joined.len, joined_offset);
    str_set(&joined, "");
    joined_offset = -1;
}

static void test_pieces_as_lines(void **state)
{
    (void)state;
    /* Every line in pieces of at most 20 bytes (all boundary lines fit in one): the same
     * headers, body lines, offsets and errors as from whole lines. */
    struct mime_state *ms = make(MIME_OPT_REPORT_ENCODING_DOMAIN, 100, 0, 0);
    feed(ms, multipart);
    mime_state_free(ms);
    struct str want = STR_INIT;
    str_set(&want, events.data);

    const struct mime_callbacks join_cbs = {.header = on_header,
                                            .header_end = on_header_end,
                                            .body = on_body_join,
                                            .error = on_error,
                                            .body_piece = on_piece_join};
    str_set(&joined, "");
    ms = make_with(&join_cbs, MIME_OPT_REPORT_ENCODING_DOMAIN, 100, 0, 0);
    int pieces = 0;
    for (const char *p = multipart; *p;) {
        size_t n = strcspn(p, "\n");
        for (size_t off = 0; off < n || off == 0; off += 20) {
            size_t k = n - off < 20 ? n - off : 20;
            mime_state_update_piece(ms, p + off, k, off + k == n);
            pieces += off + k < n;
        }
        p += n + (p[n] != 0);
    }
    assert_int_equal(mime_state_finish(ms), MIME_ERR_ENCODING_DOMAIN);
    mime_state_free(ms);
    assert_true(pieces > 5);
    if (strcmp(events.data, want.data) != 0)
        fail_msg("events differ:\n--- got\n%s--- want\n%s", events.data, want.data);
    str_release(&want);
    str_release(&joined);
}

static void test_content_types(void **state)
{
    (void)state;
    /* message/partial, message/external-body and other message types are body */
    struct mime_state *ms = make(0, 100, 0, 0);
    feed(ms, "Content-Type: Message/Partial; id=1\n\nSubject: x\n");
    expect("MAIN*|Content-Type: Message/Partial; id=1\nHEADER END\nBODY 0|\nBODY 1|Subject: x\n");
    mime_state_free(ms);
    ms = make(0, 100, 0, 0);
    feed(ms, "Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n");
    expect("MAIN*|Content-Type: message/delivery-status\nHEADER END\nBODY 0|\n"
           "BODY 1|Reporting-MTA: dns; x\n");
    mime_state_free(ms);
    /* type names in any case */
    ms = make(0, 100, 0, 0);
    feed(ms, "Content-Type: MESSAGE/RFC822\n\nSubject: x\n\nb\n");
    expect("MAIN*|Content-Type: MESSAGE/RFC822\nHEADER END\nBODY 0|\nNEST|Subject: x\nBODY 0|\n"
           "BODY 1|b\n");
    mime_state_free(ms);
    /* a multipart without a boundary has no parts */
    ms = make(0, 100, 0, 0);
    feed(ms, "Content-Type: multipart/mixed\n\n--\n--x\nA: b\n");
    expect("MAIN*|Content-Type: multipart/mixed\nHEADER END\nBODY 0|\nBODY 1|--\nBODY 4|--x\n"
           "BODY 8|A: b\n");
    mime_state_free(ms);
    /* an attached message with a (wrong) transfer encoding is still followed, as Postfix does:
     * headers hidden in it are found */
    ms = make(0, 100, 0, 0);
    feed(ms, "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nSubject: x\n");
    expect("MAIN*|Content-Type: message/rfc822\nMAIN*|Content-Transfer-Encoding: base64\n"
           "HEADER END\nBODY 0|\nNEST|Subject: x\n");
    mime_state_free(ms);
}

static void test_checks_class(void **state)
{
    (void)state;
    const char *names[] = {"Subject", "Content-Type", "MIME-Version", "content-id", "X-Mime"};
    const enum mime_hdr_class mime = MIME_HDR_MULTIPART;
    const enum mime_hdr_class want[][3] = {
        {MIME_HDR_PRIMARY, MIME_HDR_MULTIPART, MIME_HDR_NESTED}, /* Subject: as it stands */
        {mime, mime, mime},                                      /* MIME headers: mime */
        {mime, mime, mime},
        {mime, mime, mime},
        {MIME_HDR_PRIMARY, MIME_HDR_MULTIPART, MIME_HDR_NESTED},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct header_info *hi = header_info_find(names[i], strlen(names[i]));
        for (int c = MIME_HDR_PRIMARY; c <= MIME_HDR_NESTED; c++)
            assert_int_equal(mime_hdr_checks_class((enum mime_hdr_class)c, hi), want[i][c]);
    }
}

static int teardown(void **state)
{
    (void)state;
    str_release(&events);
    return 0;
}

/* ---- block_end and part_end (the smtp client's 8BITMIME downgrade) ---- */

static void on_block_end(void *ctx, const struct mime_block *b)
{
    (void)ctx;
    static const char *const names[] = {"MAIN", "MULT", "NEST"};
    str_appendf(&events, "BLOCK END %s composite=%d enc=%d\n", names[b->cls], b->composite,
                (int)b->encoding);
}

static void on_part_end(void *ctx)
{
    (void)ctx;
    str_append(&events, "PART END\n");
}

static void test_block_and_part_end(void **state)
{
    (void)state;
    const struct mime_callbacks hooks = {
        .header = on_header, .body = on_body, .block_end = on_block_end, .part_end = on_part_end};
    struct mime_state *ms = make_with(&hooks, 0, 10, 1000, 100);
    feed(ms, "Content-Type: multipart/mixed; boundary=b\n"
             "\n"
             "--b\n"
             "Content-Type: message/rfc822\n"
             "Content-Transfer-Encoding: 8bit\n"
             "\n"
             "Subject: in\n"
             "\n"
             "x\n"
             "--b\n"
             "Content-Transfer-Encoding: base64\n"
             "\n"
             "--b--\n"
             "epi\n");
    mime_state_free(ms);
    expect("MAIN*|Content-Type: multipart/mixed; boundary=b\n"
           "BLOCK END MAIN composite=1 enc=0\n"
           "BODY 0|\n"
           "PART END\n"
           "BODY 1|--b\n"
           "MULT*|Content-Type: message/rfc822\n"
           "MULT*|Content-Transfer-Encoding: 8bit\n"
           "BLOCK END MULT composite=1 enc=1\n"
           "BODY 0|\n"
           "NEST|Subject: in\n"
           "BLOCK END NEST composite=0 enc=0\n"
           "BODY 0|\n"
           "BODY 1|x\n"
           "PART END\n"
           "BODY 3|--b\n"
           "MULT*|Content-Transfer-Encoding: base64\n"
           "BLOCK END MULT composite=0 enc=4\n"
           "BODY 0|\n"
           "PART END\n"
           "BODY 0|--b--\n"
           "BODY 6|epi\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_message),
        cmocka_unit_test(test_nested_structure),
        cmocka_unit_test(test_encoding_domain_not_reported_by_default),
        cmocka_unit_test(test_boundary_forms),
        cmocka_unit_test(test_truncated_boundaries),
        cmocka_unit_test(test_digest_and_missing_blank_line),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_disabled_mime),
        cmocka_unit_test(test_header_truncation_and_8bit),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_primary_entry_points),
        cmocka_unit_test(test_finish_flushes_pending_header),
        cmocka_unit_test(test_random_input),
        cmocka_unit_test(test_pieces_headers_and_body),
        cmocka_unit_test(test_pieces_boundaries),
        cmocka_unit_test(test_pieces_long_header_block_lines),
        cmocka_unit_test(test_pieces_at_end),
        cmocka_unit_test(test_pieces_as_lines),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_checks_class),
        cmocka_unit_test(test_block_and_part_end),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
