/* address_header: RFC 5322 address-list header values (From:, To:, Cc:, Bcc:, Reply-To:,
 * Resent-*): display names, comments, quoted strings, angle addresses with obsolete routes,
 * groups ("undisclosed-recipients:;"), folded white space. Parsing is lenient like a mail
 * reader: unbalanced constructs are closed at the end of the value and flagged, never
 * fatal; a NUL byte is the only error. */
#ifndef KESTREL_MAIL_ADDRESS_HEADER_H
#define KESTREL_MAIL_ADDRESS_HEADER_H

#include <stddef.h>

#include "base/argv.h"
#include "base/str.h"

/* header_address_token_limit default. */
#define HDR_ADDR_TOKEN_LIMIT 10240

struct hdr_addr {
    char *addr;        /* internal form; "" for "<>" */
    char *display;     /* the phrase before "<...>" as written, trimmed; "" when none */
    char *group;       /* the group's display name as written, NULL outside a group */
    size_t start, end; /* the bytes of value the address occupies (rewrite replaces them) */
    int angle;         /* written as "<...>" */
    int malformed;     /* not a valid addr-spec; addr is a best-effort joining of its words */
};

struct hdr_addr_list {
    struct hdr_addr *v;
    size_t n, cap;
    int malformed; /* some construct was unbalanced, or the token limit was reached */
    int truncated; /* more than the token limit: the rest was ignored */
};

/* max_tokens: header_address_token_limit (0 = HDR_ADDR_TOKEN_LIMIT). Returns 0, or -1 with err
 * set when the value contains a NUL byte. */
int header_addr_parse(const char *value, size_t len, size_t max_tokens, struct hdr_addr_list *out,
                      struct str *err);
void hdr_addr_list_release(struct hdr_addr_list *l);

/* Appends the non-empty internal addresses (for sendmail -t). Returns as header_addr_parse. */
int header_addr_extract(const char *value, size_t len, size_t max_tokens, struct argv *out,
                        struct str *err);

/* Rewrites every well-formed address (malformed ones and "<>" are left alone): fn gets the internal
 * form and returns 1 with replacement set to a new internal address, or 0 to keep it. out gets the
 * value with each replaced address written in external (quoted) form and everything else (names,
 * comments, spacing) unchanged. Returns the number of replaced addresses, or -1 with err set. */
typedef int (*hdr_addr_rewrite_fn)(const char *internal, struct str *replacement, void *ctx);
int header_addr_rewrite(const char *value, size_t len, size_t max_tokens, hdr_addr_rewrite_fn fn,
                        void *ctx, struct str *out, struct str *err);

#endif
