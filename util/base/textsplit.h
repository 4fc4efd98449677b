/* textsplit: splitting configuration text into words, with Postfix's brace grouping:
 * "a, { b c }, d" is three words, the middle one "b c" (with strip) or "{ b c }". */
#ifndef KESTREL_BASE_TEXTSPLIT_H
#define KESTREL_BASE_TEXTSPLIT_H

#include "base/argv.h"
#include "base/str.h"

enum { SPLIT_KEEP_BRACES = 0, SPLIT_STRIP_BRACES = 1 };

/* Appends the words of text to out. Delimiters are any bytes in delims (e.g. ", \t\r\n").
 * Returns 0, or -1 with err set for an unbalanced brace. */
int split_words(const char *text, const char *delims, int how, struct argv *out, struct str *err);
/* If text is "{ inner }" (outer white space allowed), sets inner (trimmed) and returns 1;
 * returns 0 if text does not start with '{', -1 (err set) if the braces do not balance. */
int strip_braces(const char *text, struct str *inner, struct str *err);

#endif
