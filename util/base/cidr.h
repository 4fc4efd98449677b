/* cidr: IPv4/IPv6 addresses and network prefixes ("192.168.1.0/24", "[2001:db8::]/32",
 * "2001:db8::/32", a bare address = a host prefix) and matching an address against them. */
#ifndef KESTREL_BASE_CIDR_H
#define KESTREL_BASE_CIDR_H

#include "base/str.h"

struct ip_addr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char bytes[16];
};

struct cidr {
    struct ip_addr net;
    int prefix; /* 0..32 or 0..128 */
};

/* Parses an address; "[...]" brackets and IPv4-mapped IPv6 (::ffff:a.b.c.d, taken as IPv4) ok. */
int ip_addr_parse(const char *text, struct ip_addr *out);
void ip_addr_format(const struct ip_addr *a, struct str *out);
/* Returns 0, or -1 with err set (bad address, bad prefix length, non-zero host bits). */
int cidr_parse(const char *text, struct cidr *out, struct str *err);
int cidr_contains(const struct cidr *c, const struct ip_addr *a);
/* Convenience: 1 if the address text is inside the prefix, 0 if not or unparsable. */
int cidr_match_text(const struct cidr *c, const char *addr_text);

#endif
