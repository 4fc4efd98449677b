/* xtext: RFC 3461 xtext (ORCPT=, ENVID=) and the RFC 6533 utf-8-addr-xtext and
 * utf-8-addr-unitext forms. Decoders refuse malformed input; xtext_has_controls() tells whether
 * a decoded value holds bytes that must never reach a queue file or a log line. */
#ifndef KESTREL_MAIL_XTEXT_H
#define KESTREL_MAIL_XTEXT_H

#include <stddef.h>

#include "base/str.h"

/* xtext: "+XX" (two hex digits; lowercase accepted) for bytes outside '!'..'~' and for '+'
 * and '='. Decoding fails (-1, err set) on a malformed "+XX", or on a raw byte outside
 * '!'..'~' or '='. Output may contain NUL bytes (check with xtext_has_controls). */
int xtext_decode(const char *in, size_t len, struct str *out, struct str *err);
void xtext_encode(const char *in, size_t len, struct str *out);

/* 1 when the bytes contain NUL, CR, LF or any other C0 control or DEL. */
int xtext_has_controls(const char *s, size_t len);

/* RFC 6533: "\x{HEX}" (2 to 6 upper-case hex digits, a Unicode scalar value) escapes; raw bytes
 * are ASCII '!'..'~' except '+', '=' and '\'. utf-8-addr-unitext also allows raw UTF-8.
 * Decoding yields UTF-8; it fails on a malformed escape, a surrogate or value above U+10FFFF,
 * a forbidden raw byte, or (unitext) invalid UTF-8. */
int utf8_addr_xtext_decode(const char *in, size_t len, int unitext, struct str *out,
                           struct str *err);
/* Encodes UTF-8 input (returns -1 with err set when it is not valid UTF-8). unitext: keep
 * non-ASCII characters raw. */
int utf8_addr_xtext_encode(const char *in, size_t len, int unitext, struct str *out,
                           struct str *err);

#endif
