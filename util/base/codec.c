/* codec: table-driven base64 and hex conversion with strict decoding. */
#include "base/codec.h"

#include <string.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 character, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

void base64_encode(struct str *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    str_reserve(out, (len + 2) / 3 * 4);
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        char quad[4] = {b64_alphabet[(v >> 18) & 63], b64_alphabet[(v >> 12) & 63],
                        i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=',
                        i + 2 < len ? b64_alphabet[v & 63] : '='};
        str_appendn(out, quad, 4);
    }
}

/* Decode one group of four; last says whether it is the final group. Returns bytes or -1. */
static int b64_quad(const unsigned char *q, int last, unsigned char bytes[3])
{
    int pad = (q[3] == '=') + (q[2] == '=' && q[3] == '=');
    if (pad > 0 && !last)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4 - pad; i++) {
        int d = b64_value(q[i]);
        if (d < 0)
            return -1;
        v = v << 6 | (unsigned)d;
    }
    v <<= 6 * pad;
    bytes[0] = (unsigned char)(v >> 16);
    bytes[1] = (unsigned char)(v >> 8);
    bytes[2] = (unsigned char)v;
    return 3 - pad;
}

int base64_decode(struct str *out, const char *text, size_t len)
{
    size_t start = out->len;
    if (len % 4 != 0)
        return -1;
    const unsigned char *t = (const unsigned char *)text;
    for (size_t i = 0; i < len; i += 4) {
        unsigned char bytes[3];
        int n = b64_quad(t + i, i + 4 == len, bytes);
        if (n < 0) {
            str_truncate(out, start);
            return -1;
        }
        str_appendn(out, bytes, (size_t)n);
    }
    return 0;
}

void hex_encode(struct str *out, const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    str_reserve(out, len * 2);
    for (size_t i = 0; i < len; i++) {
        char pair[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        str_appendn(out, pair, 2);
    }
}

int hex_digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(struct str *out, const char *text, size_t len)
{
    size_t start = out->len;
    if (len % 2 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_digit_value((unsigned char)text[i]);
        int lo = hex_digit_value((unsigned char)text[i + 1]);
        if (hi < 0 || lo < 0) {
            str_truncate(out, start);
            return -1;
        }
        str_appendc(out, hi << 4 | lo);
    }
    return 0;
}

/* ---- quoted-printable ---- */

void qp_encode_init(struct qp_state *q)
{
    q->col = 0;
    q->held = -1;
}

/* One output unit (a byte as is, or "=XX"): a soft line break first when it would not leave
 * room for the '=' of a later soft break. */
static void qp_put(struct qp_state *q, struct str *out, const char *unit, size_t n)
{
    if (q->col + n > QP_LINE_MAX - 1) {
        str_appendn(out, "=\n", 2);
        q->col = 0;
    }
    str_appendn(out, unit, n);
    q->col += n;
}

static void qp_escape(struct qp_state *q, struct str *out, unsigned char c)
{
    static const char digits[] = "0123456789ABCDEF";
    char unit[3] = {'=', digits[c >> 4], digits[c & 15]};
    qp_put(q, out, unit, 3);
}

static void qp_flush_held(struct qp_state *q, struct str *out)
{
    if (q->held >= 0) {
        char c = (char)q->held;
        q->held = -1;
        qp_put(q, out, &c, 1);
    }
}

void qp_encode_piece(struct qp_state *q, struct str *out, const void *data, size_t len, int eol)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        qp_flush_held(q, out); /* something follows it on the line */
        if (c == ' ' || c == '\t')
            q->held = c;
        else if (c >= 33 && c <= 126 && c != '=') {
            char ch = (char)c;
            qp_put(q, out, &ch, 1);
        } else
            qp_escape(q, out, c);
    }
    if (eol) {
        if (q->held >= 0) { /* white space at the end of a line is encoded */
            unsigned char c = (unsigned char)q->held;
            q->held = -1;
            qp_escape(q, out, c);
        }
        str_appendc(out, '\n');
        q->col = 0;
    }
}

void qp_encode(struct str *out, const void *data, size_t len)
{
    const char *p = data, *end = p + len;
    struct qp_state q;
    struct str lines = STR_INIT;
    qp_encode_init(&q);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        if (nl && stop > p && stop[-1] == '\r')
            stop--;
        qp_encode_piece(&q, &lines, p, (size_t)(stop - p), 1);
        if (!nl) /* the last line had no break */
            str_truncate(&lines, lines.len - 1);
        p = nl ? nl + 1 : end;
    }
    for (size_t i = 0; i < lines.len; i++) {
        if (lines.data[i] == '\n')
            str_appendc(out, '\r');
        str_appendc(out, lines.data[i]);
    }
    str_release(&lines);
}
