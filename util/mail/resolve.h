/* resolve: the queue manager's address resolver. A recipient address is assigned Postfix's
 * address class (ADDRESS_CLASS_README) and a delivery transport and next hop:
 *
 *   local            domain in mydestination, or [address] of inet_interfaces/proxy_interfaces,
 *                    or no domain             -> $local_transport (nexthop $myhostname)
 *   virtual alias    virtual_alias_domains    -> error: "5.1.1 User unknown in virtual alias
 *                                                table" (cleanup should have rewritten it)
 *   virtual mailbox  virtual_mailbox_domains  -> $virtual_transport
 *   relay            relay_domains            -> $relay_transport
 *   default          anything else            -> $default_transport
 *
 * A *_transport value may be "transport:nexthop". Non-local classes get $relayhost, else the
 * recipient domain, as next hop unless the transport value names one. transport_maps then
 * overrides, searched as transport(5) says: user+ext@domain, user@domain, domain, .parent
 * domains, "*" (pattern tables only see the full address); results "transport:nexthop",
 * ":nexthop", "transport:" and ":" (an empty part keeps what the class gave).
 * Unqualified addresses get @$myorigin first; routing operators (user%host@ours,
 * host!user@ours, user@host@ours) are applied with address_resolve(). */
#ifndef KESTREL_MAIL_RESOLVE_H
#define KESTREL_MAIL_RESOLVE_H

#include "base/str.h"

enum resolve_class {
    RESOLVE_CLASS_LOCAL,
    RESOLVE_CLASS_ALIAS,
    RESOLVE_CLASS_VIRTUAL,
    RESOLVE_CLASS_RELAY,
    RESOLVE_CLASS_DEFAULT,
};

struct resolve_reply {
    enum resolve_class addr_class;
    struct str transport; /* master.cf service name, e.g. "smtp", "local", "error" */
    struct str nexthop;   /* "example.com", "[host]:port", "mail.example.com", error text */
    struct str recipient; /* the address after routing operators and @$myorigin */
};

struct resolve_ctx;

/* Builds a resolver from the current configuration (config_get). Lists or tables that cannot
 * be loaded make every lookup a temporary failure. Never NULL. */
struct resolve_ctx *resolve_open(void);
void resolve_free(struct resolve_ctx *r);

void resolve_reply_init(struct resolve_reply *rp);
void resolve_reply_release(struct resolve_reply *rp);
/* Returns 0, or -1 with err set for a temporary failure (table error, routing loop). */
int resolve_recipient(struct resolve_ctx *r, const char *addr, struct resolve_reply *out,
                      struct str *err);
const char *resolve_class_name(enum resolve_class c);

/* Split a "transport:nexthop" value (used by *_transport parameters, transport(5) results and
 * content_filter): the part before the first ':' and the rest. No ':' means all transport. */
void resolve_split_transport(const char *value, struct str *transport, struct str *nexthop);

#endif
