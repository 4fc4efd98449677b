/* mime_parse: the values of the MIME headers the structure depends on (RFC 2045 section 5.1 and
 * 6.1): Content-Type (type, subtype, boundary parameters) and Content-Transfer-Encoding. Values
 * are tokenised with RFC 822 rules: white space and folding, (nested (comments)), "quoted
 * \"strings\"" and the RFC 2045 tspecials. */
#ifndef KESTREL_MAIL_MIME_PARSE_H
#define KESTREL_MAIL_MIME_PARSE_H

#include "base/argv.h"
#include "base/str.h"

#include <stddef.h>

/* Parses a Content-Type value (the text after the colon). type and subtype receive the
 * lowercased tokens ("" when absent); every non-empty boundary parameter's value (token or
 * quoted string, unquoted and unfolded) is added to boundaries in order. Returns 0 when the
 * value has no type token (then nothing is set). */
int mime_parse_content_type(const char *value, size_t len, struct str *type, struct str *subtype,
                            struct argv *boundaries);

/* The first token of a Content-Transfer-Encoding value, lowercased. 0 when there is none. */
int mime_parse_encoding(const char *value, size_t len, struct str *out);

#endif
