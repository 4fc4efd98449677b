/* address_tok: the RFC 5322 lexer shared by the envelope parser, the header address-list
 * parser and address_unquote. Tokens are byte spans of the input; nothing is copied. */
#ifndef KESTREL_MAIL_ADDRESS_TOK_H
#define KESTREL_MAIL_ADDRESS_TOK_H

#include <stddef.h>

#include "base/str.h"

enum addr_tok_type {
    ATOK_ATOM,    /* run of atext (and 8-bit) bytes; '\' escapes the next byte */
    ATOK_QSTRING, /* "..." including the quotes */
    ATOK_LITERAL, /* [...] including the brackets */
    ATOK_COMMENT, /* (...) including the parentheses, nested */
    ATOK_SPECIAL, /* one of < > @ , ; : . ] ) */
    ATOK_SPACE,   /* white space (SP, HT; also CR LF in header mode) */
};

struct addr_tok {
    int type;
    int ch; /* the special character, for ATOK_SPECIAL */
    size_t start, end;
};

struct addr_toks {
    struct addr_tok *v;
    size_t n, cap;
    int malformed; /* header mode: something was unbalanced and closed at the end */
    size_t limit;  /* stop after this many tokens (0 = no limit) */
    int truncated; /* the limit was reached */
};

/* Lexer modes. */
#define ATOK_HEADER (1 << 0) /* folding white space ok; unbalanced constructs auto-closed */

/* Returns 0, or -1 with err set (envelope mode only; header mode never fails). */
int addr_tokenize(const char *s, size_t len, int mode, struct addr_toks *out, struct str *err);
void addr_toks_release(struct addr_toks *t);
/* Appends a token's value: quotes and escapes removed for atoms and quoted strings; literals
 * verbatim; specials as their character. */
void addr_tok_value(const char *s, const struct addr_tok *t, struct str *out);
/* Builds the internal form from the addr-spec tokens [from, to) (comments and space skipped).
 * Returns 0, or -1 with err set when the tokens are not word *("." word) ["@" domain]. */
int addr_toks_to_internal(const char *s, const struct addr_tok *v, size_t from, size_t to,
                          struct str *out, struct str *err);

#endif
