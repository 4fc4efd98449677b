/* codec: base64 (RFC 4648, standard alphabet) and hex encodings. Encoders append to `out`;
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

#endif
