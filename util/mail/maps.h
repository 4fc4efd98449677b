/* maps: a parameter's list of lookup tables ("hash:/etc/postfix/virtual, pcre:/x") searched
 * in order, with Postfix's search orders for addresses, domains and SMTP clients.
 *
 * Every search asks all tables for one key before trying the next key, and the first table
 * that has a key wins. A table error stops the search: the answer is TABLE_ERROR (defer),
 * with maps_error() saying which parameter and table failed. Pattern tables (properties
 * TABLE_PROP_PATTERN: regexp:, pcre:, cidr:) are asked only with the whole input (the full
 * address, domain, client name or client address), never with the partial keys derived from
 * it, as in Postfix. */
#ifndef KESTREL_MAIL_MAPS_H
#define KESTREL_MAIL_MAPS_H

#include <stddef.h>

#include "base/str.h"
#include "mail/address.h"

struct table;

struct maps {
    char *title; /* the parameter name, for messages */
    struct table **tables;
    size_t n, cap;
    struct str error; /* the last TABLE_ERROR */
};

#define MAPS_MAX_TABLES 1000

/* value: "type:name" words separated by commas/white space ({ } groups honoured). flags:
 * TABLE_FLAG_* for table_open (Postfix folds keys: pass TABLE_FLAG_FOLD_KEY). A table that
 * cannot be opened becomes a surrogate whose lookups fail (TABLE_ERROR); an unbalanced brace or
 * a word that is not "type:name" is logged and becomes such a surrogate too. Never NULL. */
struct maps *maps_open(const char *param_name, const char *value, int flags);
/* Appends an open table (the maps take ownership). */
void maps_append(struct maps *m, struct table *t);
void maps_free(struct maps *m);
const char *maps_error(const struct maps *m);

/* One key: TABLE_FOUND (value set), TABLE_NOTFOUND or TABLE_ERROR. */
int maps_find(struct maps *m, const char *key, struct str *value);

enum maps_addr_style {
    MAPS_STYLE_ACCESS,  /* access(5): user@domain, domain (and parents), user@ */
    MAPS_STYLE_VIRTUAL, /* virtual(5), canonical(5): user@domain, user (local domains), @domain */
};

struct maps_addr_opts {
    enum maps_addr_style style;
    struct addr_ext_opts ext; /* recipient_delimiter: extensions are tried, then stripped */
    /* VIRTUAL: the domain is local ($myorigin, $mydestination, $inet_interfaces,
     * $proxy_interfaces), so "user+ext" and "user" are tried. */
    int domain_is_local;
    /* ACCESS: parent_domain_matches_subdomains includes smtpd_access_maps. */
    int parent_style;
    /* ACCESS: smtpd_null_access_lookup_key ("<>"): the key for the null sender; NULL: the
     * null address is not looked up (TABLE_NOTFOUND). */
    const char *null_key;
};

/* Address search orders (with user+ext@domain and recipient_delimiter "+"):
 *   ACCESS:  user+ext@domain, user@domain, domain (then parents: "example.com", "com" with
 *            parent_style, ".example.com", ".com" without), user+ext@, user@
 *   VIRTUAL: user+ext@domain, user@domain, [user+ext, user when domain_is_local], @domain
 * An address without domain: ACCESS user+ext, user, user+ext@, user@; VIRTUAL user+ext, user.
 * matched_key (may be NULL) receives the key that was found (lowercased when the table folds
 * keys). */
int maps_find_address(struct maps *m, const char *addr, const struct maps_addr_opts *opts,
                      struct str *value, struct str *matched_key);
/* The domain, then its parents as in ACCESS above. */
int maps_find_domain(struct maps *m, const char *domain, int parent_style, struct str *value,
                     struct str *matched_key);
/* The client name and its parents (as maps_find_domain; skipped when name is NULL or empty),
 * then the address and its prefixes: "1.2.3.4", "1.2.3", "1.2", "1"; IPv6 in the form given
 * (compressed, as the system prints it), shortened at each ':' from the right:
 * "2001:db8::1", "2001:db8:", "2001:db8", "2001". */
int maps_find_client(struct maps *m, const char *name, const char *addr, int parent_style,
                     struct str *value, struct str *matched_key);

#endif
