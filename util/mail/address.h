/* address: RFC 5321/5322 mail addresses.
 *
 * Internal form: the local part unquoted ("a b@x", "user@other@ours"), an '@', the domain as
 * written (letters keep their case; "[1.2.3.4]" literals keep their brackets). The LAST '@'
 * separates local part and domain. The null sender is the empty string. External form: the
 * local part quoted when RFC 5322 dot-atom rules require it ("\"a b\"@x").
 *
 * Envelope paths (MAIL FROM / RCPT TO arguments):
 *   strict  (strict_rfc821_envelopes = yes): exactly "<" [source-route ":"] [mailbox] ">",
 *           no white space, comments or phrases.
 *   lenient (the default): white space around tokens, (comments), a phrase before the
 *           "<...>" ("Name <user@x>"), and no brackets at all ("user@x") are accepted.
 * Both modes: source routes "@a,@b:" are removed; NUL, CR, LF and other control characters
 * (TAB only as white space between tokens, never quoted or escaped), unbalanced
 * quotes/brackets/parentheses, comments nested deeper than ADDR_MAX_COMMENT_DEPTH, more than
 * one address, a malformed source route, an empty local part before '@' or one without any
 * word ("..@x"), an empty domain after '@', a malformed "[...]" literal (only IPv4 and
 * "IPv6:" are accepted), malformed UTF-8 and (unless ADDR_PARSE_ALLOW_MIN_USER) a leading '-'
 * are errors. An unquoted '@' inside the local part is kept ("user@other@ours": the last '@'
 * separates the domain); address_resolve() deals with it. There is no length limit here:
 * the SMTP line length limit bounds the input (the parser is linear).
 * Unusual dots in the local part ("a..b", "a.@x", as some mobile carriers issue) are accepted.
 * Domain words must consist of letters, digits, '-', '_' or 8-bit bytes (strict mode only).
 *
 * Open-relay safety: address_resolve() applies Postfix's resolver rules to an internal
 * address and tells the final destination domain; see below. */
#ifndef KESTREL_MAIL_ADDRESS_H
#define KESTREL_MAIL_ADDRESS_H

#include <stddef.h>

#include "base/str.h"

/* Parse flags. */
#define ADDR_PARSE_STRICT (1 << 0)         /* strict_rfc821_envelopes */
#define ADDR_PARSE_ALLOW_MIN_USER (1 << 1) /* allow_min_user: a leading '-' is fine */

/* Limits that protect the parser. */
#define ADDR_MAX_COMMENT_DEPTH 64

struct addr_parsed {
    struct str addr; /* internal form; empty for the null sender */
    int null_sender; /* the path was "<>" */
    int non_ascii;   /* 8-bit bytes present (needs SMTPUTF8); they are valid UTF-8 */
    int had_route;   /* a source route was removed */
    int had_domain;  /* an '@' domain was present */
};

void addr_parsed_init(struct addr_parsed *p);
void addr_parsed_release(struct addr_parsed *p);

/* Parses the path of len bytes (may contain NULs, which are refused). Returns 0, or -1 with
 * err set to a short reason ("unbalanced quote", "NUL byte in address", ...). */
int address_parse_path(const char *text, size_t len, int flags, struct addr_parsed *out,
                       struct str *err);

/* Length of the path at the start of an SMTP command argument ("<a b@x> SIZE=10" -> 7):
 * up to the '>' that closes the leading '<' (quotes and comments honoured) or, without '<',
 * up to the first white space outside quotes. */
size_t address_path_length(const char *args, size_t len);

/* External <-> internal form. address_quote appends to out. address_unquote parses an
 * addr-spec in external form (quoted strings, comments and white space allowed) and returns
 * 0, or -1 with err set. */
void address_quote(const char *internal, struct str *out);
int address_unquote(const char *external, size_t len, struct str *out, struct str *err);
/* 1 when the local part needs quotes in external form. */
int address_local_needs_quote(const char *local, size_t len);

/* Splits at the last '@'. Returns 1 and sets both when there is a domain, else 0 (local = all,
 * domain empty). Either output may be NULL. */
int address_split(const char *addr, struct str *local, struct str *domain);
/* Lowercases (ASCII) the domain part of an internal address in place. */
void address_lower_domain(struct str *addr);
/* 1 when the domain is an address literal "[...]". */
int address_domain_is_literal(const char *domain);
/* 1 when the text has a byte >= 0x80. */
int address_is_non_ascii(const char *text, size_t len);
/* 1 when the bytes are valid UTF-8 (no overlongs, surrogates or values above U+10FFFF). */
int address_valid_utf8(const char *text, size_t len);

/* Address extensions (recipient_delimiter). The delimiter set may have several characters
 * ("+-"). The local part is split at the first delimiter character, except:
 *   postmaster, MAILER-DAEMON and the double-bounce name (any case) are never split;
 *   with '-' in the set, "owner-*" and "*-request" are not split (mailing-list names);
 *   a local part that starts with a delimiter ("+", "+foo") is not split.
 * "user+" splits into "user" and an empty extension. Returns 1 when split (user, ext and
 * *delim set; any may be NULL), 0 when not (user = local part, ext empty). */
struct addr_ext_opts {
    const char *delimiters;    /* recipient_delimiter; NULL or "" = no extensions */
    const char *double_bounce; /* double_bounce_sender; NULL = "double-bounce" */
};
int address_split_ext(const char *local, const struct addr_ext_opts *opts, struct str *user,
                      struct str *ext, char *delim);
/* Same on a whole address: "user+ext@domain" -> "user@domain"; returns 1 when stripped. */
int address_strip_ext(const char *addr, const struct addr_ext_opts *opts, struct str *out,
                      struct str *ext);

/* The resolver's view of routing operators in an internal address.
 * Repeatedly: trailing dots are removed from the domain; when the domain is local (the
 * callback says so) and the local part still names another destination ("user@host" with a
 * non-empty host, "user%host" with allow_percent_hack, "host!user" with swap_bangpath) the
 * local domain is dropped and the rest examined again; an
 * address without domain becomes "user@host" from "user%host" (percent hack, the rightmost
 * '%') or "host!user" (swap_bangpath, the leftmost '!').
 * So "user%other@ours", "\"user@other\"@ours", "other!user@ours", "user@other@ours" all resolve
 * to the destination "other" and must pass the relay checks for "other". */
struct addr_route_opts {
    int allow_percent_hack;
    int swap_bangpath;
    /* 1 when the (trailing-dot-free) domain is one of ours (mydestination, virtual, ...). */
    int (*is_local)(const char *domain, void *ctx);
    void *ctx;
};

struct addr_resolved {
    struct str local;  /* final local part */
    struct str domain; /* final domain, "" when none (an unqualified local name) */
    int local_domain;  /* the final domain is local (or there is none) */
    int routed;        /* the input local part had '@', '%' or '!' (sender-specified routing) */
    int rounds;        /* how many local domains were removed */
};

#define ADDR_MAX_ROUTE_ROUNDS 64

void addr_resolved_init(struct addr_resolved *r);
void addr_resolved_release(struct addr_resolved *r);
/* Returns 0, or -1 with err set when there are more than ADDR_MAX_ROUTE_ROUNDS rounds. */
int address_resolve(const char *addr, const struct addr_route_opts *opts, struct addr_resolved *out,
                    struct str *err);

#endif
