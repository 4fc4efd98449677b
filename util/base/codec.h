/* codec: base64 (RFC 4648, standard alphabet), hex and quoted-printable (RFC 2045 section 6.7,
 * encoding only) encodings. Encoders append to `out`;
 * decoders append and are strict: any character outside the alphabet, a length that is not a
 * multiple of four, or misplaced/excess '=' padding is rejected. */
#ifndef KESTREL_BASE_CODEC_H
#define KESTREL_BASE_CODEC_H

#include <stddef.h>

#include "base/str.h"

void base64_encode(struct str *out, const void *data, size_t len);
/* Returns 0, or -1 (out is then restored to its previous length). */
int base64_decode(struct str *out, const char *text, size_t len);
/* Lower-case hex. */
void hex_encode(struct str *out, const void *data, size_t len);
/* The value of one hex digit (either case), or -1. */
int hex_digit_value(int c);
/* Accepts either case; rejects odd length and non-hex characters. Returns 0 or -1. */
int hex_decode(struct str *out, const char *text, size_t len);

/* Quoted-printable, line by line, as a stream: a line may come in pieces. Printable ASCII
 * other than '=' stays as is, and so do space and tab unless they end a line; all else is
 * "=XX". An encoded line is cut by a soft line break ("=" at its end) to at most 76 bytes, and
 * an "=XX" is never cut. The output lines go to `out`, each followed by '\n' (the caller turns
 * that into its line break; encoded text never holds a raw '\n'). */
struct qp_state {
    size_t col; /* bytes on the current output line */
    int held;   /* a space or tab that may end the line (not yet written), or -1 */
};
#define QP_LINE_MAX 76
void qp_encode_init(struct qp_state *q);
/* A piece of an input line (no line terminator); eol: the line ends after it. */
void qp_encode_piece(struct qp_state *q, struct str *out, const void *data, size_t len, int eol);
/* A whole text: CRLF (or a lone LF) is a hard line break and goes out as CRLF; a final line
 * without a break gets none. */
void qp_encode(struct str *out, const void *data, size_t len);

#endif
