/* match_list: Postfix's matching lists (mydestination, relay_domains, mynetworks,
 * debug_peer_list, permit_mx_backup_networks, smtpd_client_event_limit_exceptions, ...).
 *
 * A list is words separated by commas and/or white space ({ } groups honoured). A word is
 *   pattern        a domain/host name, a ".domain" suffix, or an address/network pattern
 *                  ("1.2.3.4", "[::1]", "127.0.0.0/8", "[2001:db8::]/32", "2001:db8::/32");
 *   /file/name     the file's words are spliced in (one or more per line, '#' comments);
 *   type:table     a lookup: a key that is found matches (the value is ignored);
 *   !word          negation: when word matches, the answer is "no match".
 * The first word that matches decides. Matching is case-insensitive.
 *
 * Domain matching (MATCH_KIND_DOMAIN, and the name part of MATCH_KIND_HOSTADDR): "example.com"
 * matches itself and, with MATCH_FLAG_PARENT (parent_domain_matches_subdomains lists the
 * parameter), its subdomains; ".example.com" matches subdomains (either way). A table is
 * asked for the name, then for each parent domain: "example.com", "com" with
 * MATCH_FLAG_PARENT, ".example.com", ".com" without. Pattern tables (regexp:, pcre:, cidr:)
 * are asked once with the whole name.
 * Address matching (MATCH_KIND_ADDR, and the address part of MATCH_KIND_HOSTADDR): address
 * and network patterns; a table is asked for the address text.
 * A table lookup error makes the answer MATCH_ERROR (the caller must defer), never MATCH_NO. */
#ifndef KESTREL_MAIL_MATCH_LIST_H
#define KESTREL_MAIL_MATCH_LIST_H

#include <stddef.h>

#include "base/cidr.h"
#include "base/str.h"

enum match_kind {
    MATCH_KIND_STRING,   /* exact, case-insensitive strings (e.g. authorized_*_users) */
    MATCH_KIND_DOMAIN,   /* domain names (mydestination, relay_domains) */
    MATCH_KIND_HOSTADDR, /* client name and address (mynetworks, debug_peer_list) */
    MATCH_KIND_ADDR,     /* addresses and networks only */
};

#define MATCH_FLAG_PARENT (1 << 0) /* parent_domain_matches_subdomains includes this list */

enum { MATCH_ERROR = -1, MATCH_NO = 0, MATCH_YES = 1 };

/* Limits. */
#define MATCH_MAX_FILE_DEPTH 8    /* /file/name inside /file/name ... */
#define MATCH_MAX_NEGATIONS 16    /* "!!!x" */
#define MATCH_MAX_ENTRIES 1000000 /* words after file expansion */

struct match_list;
struct table;

/* Returns NULL with err set ("mynetworks: bad network pattern: ...") on a syntax error, an
 * unreadable /file/name, or an unbalanced brace. A table that cannot be opened does not fail
 * the list: it is logged and its lookups answer MATCH_ERROR. */
struct match_list *match_list_create(const char *param_name, const char *value,
                                     enum match_kind kind, int flags, struct str *err);
/* name: the domain / string / client hostname; addr: the client address (HOSTADDR, ADDR).
 * Either may be NULL when the kind does not use it. */
int match_list_match(struct match_list *l, const char *name, const char *addr);
/* Appends an already open table (the list takes ownership), e.g. one built by a program. */
void match_list_append_table(struct match_list *l, struct table *t, int negate);
/* Text of the last MATCH_ERROR, prefixed with the parameter name. */
const char *match_list_error(const struct match_list *l);
void match_list_free(struct match_list *l);

/* 1 when param_name is one of the words of parent_domain_matches_subdomains' value. */
int match_parent_style(const char *pdms_value, const char *param_name);

/* mynetworks from mynetworks_style ("host", "subnet", "class") and the interface addresses.
 * Host: each address (/32, /128); subnet: the network of each address and netmask; class:
 * the IPv4 class A/B/C network (subnet for IPv6 and class D/E). IPv6 is written "[net]/len".
 * Appends the networks to out separated by spaces (duplicates dropped). Returns 0, or -1 with
 * err set for an unknown style. */
struct if_addr {
    struct ip_addr addr;
    int prefix; /* netmask length */
};
int mynetworks_compute(const char *style, const struct if_addr *ifs, size_t n, struct str *out,
                       struct str *err);
/* The host's interface addresses (getifaddrs). Returns the count (array in *out, free()),
 * or -1 with err set. */
long interface_addresses(struct if_addr **out, struct str *err);

#endif
