/* hbc_action: the actions of header and body check tables (header_checks(5)) — the action
 * word and its text in a table value, and the header-label check for the text that REPLACE
 * and PREPEND put into a message header. Shared by the programs that apply such tables:
 * cleanup (every action) and the smtp/lmtp delivery agent (the subset allowed there). */
#ifndef KESTREL_MAIL_HBC_ACTION_H
#define KESTREL_MAIL_HBC_ACTION_H

#include <stddef.h>

enum hbc_verb {
    HBC_UNKNOWN = 0,
    HBC_BCC,
    HBC_DISCARD,
    HBC_DUNNO, /* also OK, the old name */
    HBC_FILTER,
    HBC_HOLD,
    HBC_IGNORE,
    HBC_INFO,
    HBC_PASS,
    HBC_PREPEND,
    HBC_REDIRECT,
    HBC_REJECT,
    HBC_REPLACE,
    HBC_STRIP,
    HBC_WARN,
};

struct hbc_action {
    enum hbc_verb verb;
    const char *name; /* the action word as the table spells it (not NUL-terminated) */
    size_t name_len;
    const char *text; /* what follows the word and its white space; "" when none */
};

/* Splits a table value into the action word (case-insensitive) and its text. The pointers
 * point into value. */
void hbc_action_parse(const char *value, struct hbc_action *a);

/* 1 when text begins with a header label ("Name:"), as REPLACE and PREPEND need in a header
 * context. */
int hbc_header_text_ok(const char *text);

#endif
