/* dns: DNS lookups for smtpd's access control (A, AAAA, MX, NS, TXT, PTR) through the system
 * resolver library (libresolv res_nquery), with bounded timeouts and a small per-process
 * cache; reverse and forward-confirmed client names; DNS list (DNSBL/RHSBL) queries. */
#ifndef KESTREL_MAIL_DNS_H
#define KESTREL_MAIL_DNS_H

#include "base/argv.h"
#include "base/str.h"

/* Results. */
enum { DNS_RETRY = -1, DNS_OK = 0, DNS_NOTFOUND = 1 /* NXDOMAIN or no data of that type */ };

enum dns_type { DNS_A, DNS_AAAA, DNS_MX, DNS_NS, DNS_TXT, DNS_PTR };

/* Limits: answers kept per query, cache entries, seconds a cached answer lives at most. */
#define DNS_MAX_ANSWERS 64
#define DNS_CACHE_SIZE 256
#define DNS_CACHE_TTL_MAX 300
#define DNS_NAME_MAX 255

/* Looks name up. out receives (in answer order) addresses as text for A/AAAA, host names for
 * NS/PTR, "preference host" for MX ("0 ." is a null MX), the joined strings of each TXT
 * record. CNAMEs are followed by the resolver. err receives a reason on DNS_RETRY. */
int dns_lookup(const char *name, enum dns_type type, struct argv *out, struct str *err);
/* Resolver settings: per-try timeout in seconds and number of tries (defaults 5 and 2). */
void dns_set_timeout(int seconds, int tries);
/* Drops every cached answer. */
void dns_cache_flush(void);

/* A/AAAA addresses of a host ("host has an address"): DNS_OK with both families in out. */
int dns_lookup_addrs(const char *host, struct argv *out, struct str *err);

/* The reverse-DNS name for addr: "4.3.2.1.in-addr.arpa" or the IPv6 nibble form; with a
 * non-NULL suffix, the reversed address is followed by "." suffix (DNSBL queries).
 * Returns -1 when addr is not an IP address. */
int dns_reverse_name(const char *addr, const char *suffix, struct str *out);

/* Client names as smtpd wants them. reverse_name: the first PTR name ("unknown" when none);
 * name: the PTR name when one of its A/AAAA records is addr (forward-confirmed), else
 * "unknown". Statuses: 0 found, 4 temporary failure, 5 permanent (no name / no match). */
void dns_client_names(const char *addr, struct str *reverse_name, int *reverse_status,
                      struct str *name, int *name_status);

/* A DNS list query: "<what>.<domain>" A records (what is the reversed client address for
 * DNSBL, a domain name for RHSBL). filter: NULL, or "127.0.0.2" / "127.0.0.[2..11;20]" style
 * (each octet a number or a [list] of numbers and lo..hi ranges). Returns DNS_OK when a
 * matching record exists (the first matching address in addr, the TXT text in txt when any),
 * DNS_NOTFOUND, or DNS_RETRY. */
int dns_list_query(const char *query, const char *filter, struct str *addr, struct str *txt,
                   struct str *err);
/* 1 when the address text matches the filter (syntax above); -1 on a bad filter. */
int dns_filter_match(const char *filter, const char *addr);

/* Syntax checks used by the HELO restrictions. */
int dns_valid_hostname(const char *name); /* letters, digits, '-', '.', labels <= 63, <= 255 */
int dns_valid_literal(const char *text);  /* "[1.2.3.4]" or "[IPv6:...]" */

#endif
