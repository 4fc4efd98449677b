/* xtext: RFC 3461 xtext and RFC 6533 utf-8-addr-xtext/unitext encoding and strict decoding. */
#include "mail/xtext.h"

#include "mail/address.h"

#include <string.h>

static int hexval(int c, int upper_only)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (!upper_only && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static const char hexdigits[] = "0123456789ABCDEF";

int xtext_decode(const char *in, size_t len, struct str *out, struct str *err)
{
    str_clear(out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '+') {
            int hi = i + 2 < len ? hexval((unsigned char)in[i + 1], 0) : -1;
            int lo = i + 2 < len ? hexval((unsigned char)in[i + 2], 0) : -1;
            if (hi < 0 || lo < 0) {
                str_setf(err, "malformed xtext: bad '+' escape at offset %zu", i);
                return -1;
            }
            str_appendc(out, hi * 16 + lo);
            i += 2;
        } else if (c < '!' || c > '~' || c == '=') {
            str_setf(err, "malformed xtext: invalid character at offset %zu", i);
            return -1;
        } else {
            str_appendc(out, c);
        }
    }
    return 0;
}

void xtext_encode(const char *in, size_t len, struct str *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c < '!' || c > '~' || c == '+' || c == '=') {
            str_appendc(out, '+');
            str_appendc(out, hexdigits[c >> 4]);
            str_appendc(out, hexdigits[c & 15]);
        } else {
            str_appendc(out, c);
        }
    }
}

int xtext_has_controls(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

/* ---- RFC 6533 --------------------------------------------------------------------------- */

static int is_qchar(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '+' && c != '=' && c != '\\';
}

static void put_utf8(struct str *out, unsigned long cp)
{
    if (cp < 0x80) {
        str_appendc(out, (int)cp);
    } else if (cp < 0x800) {
        str_appendc(out, (int)(0xc0 | (cp >> 6)));
        str_appendc(out, (int)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        str_appendc(out, (int)(0xe0 | (cp >> 12)));
        str_appendc(out, (int)(0x80 | ((cp >> 6) & 0x3f)));
        str_appendc(out, (int)(0x80 | (cp & 0x3f)));
    } else {
        str_appendc(out, (int)(0xf0 | (cp >> 18)));
        str_appendc(out, (int)(0x80 | ((cp >> 12) & 0x3f)));
        str_appendc(out, (int)(0x80 | ((cp >> 6) & 0x3f)));
        str_appendc(out, (int)(0x80 | (cp & 0x3f)));
    }
}

/* "\x{HEX}" at in[i]; returns the length consumed or 0 when malformed. */
static size_t embedded(const char *in, size_t len, size_t i, unsigned long *cp)
{
    size_t j = i + 3, digits = 0;
    unsigned long v = 0;
    if (len - i < 5 || in[i + 1] != 'x' || in[i + 2] != '{')
        return 0;
    while (j < len && in[j] != '}') {
        int h = hexval((unsigned char)in[j], 1);
        if (h < 0 || ++digits > 6)
            return 0;
        v = v * 16 + (unsigned long)h;
        j++;
    }
    if (j >= len || digits < 2 || (digits > 2 && in[i + 3] == '0'))
        return 0;
    if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    if (v < 0x80 && is_qchar((unsigned char)v)) /* printable ASCII must not be escaped */
        return 0;
    *cp = v;
    return j + 1 - i;
}

/* Length of the valid UTF-8 sequence at in[i], or 0. */
static size_t utf8_len(const char *in, size_t len, size_t i)
{
    for (size_t n = 2; n <= 4 && i + n <= len; n++)
        if (address_valid_utf8(in + i, n))
            return n;
    return 0;
}

int utf8_addr_xtext_decode(const char *in, size_t len, int unitext, struct str *out,
                           struct str *err)
{
    str_clear(out);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)in[i];
        unsigned long cp;
        size_t n;
        if (c == '\\') {
            if ((n = embedded(in, len, i, &cp)) == 0) {
                str_setf(err, "malformed \\x{...} escape at offset %zu", i);
                return -1;
            }
            put_utf8(out, cp);
            i += n;
        } else if (is_qchar(c)) {
            str_appendc(out, c);
            i++;
        } else if (unitext && c >= 0x80 && (n = utf8_len(in, len, i)) > 0) {
            str_appendn(out, in + i, n);
            i += n;
        } else {
            str_setf(err, "invalid character at offset %zu", i);
            return -1;
        }
    }
    return 0;
}

int utf8_addr_xtext_encode(const char *in, size_t len, int unitext, struct str *out,
                           struct str *err)
{
    if (!address_valid_utf8(in, len)) {
        str_set(err, "not valid UTF-8");
        return -1;
    }
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)in[i];
        size_t n = c < 0x80 ? 1 : utf8_len(in, len, i);
        unsigned long cp = c;
        if (c == 0) {
            str_set(err, "NUL character");
            return -1;
        }
        if (is_qchar(c) || (unitext && c >= 0x80)) {
            str_appendn(out, in + i, n);
        } else {
            if (n > 1) {
                cp = c & (0xff >> (n + 1));
                for (size_t k = 1; k < n; k++)
                    cp = (cp << 6) | ((unsigned char)in[i + k] & 0x3f);
            }
            str_appendf(out, "\\x{%02lX}", cp);
        }
        i += n;
    }
    return 0;
}
