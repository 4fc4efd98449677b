/* dns: resolver queries through libresolv (res_nquery) with a bounded per-process cache,
 * answer parsing for A/AAAA/MX/NS/TXT/PTR, client name lookups and DNS list queries. */
#include "mail/dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"

struct dns_cache_entry {
    char *name;
    enum dns_type type;
    int status;
    struct argv *values;
    time_t expires;
};

static struct dns_cache_entry dns_cache[DNS_CACHE_SIZE];
static size_t dns_cache_next;
static struct __res_state dns_res;
static int dns_ready;
static int dns_timeout = 5, dns_tries = 2;

static const int dns_qtypes[] = {
    [DNS_A] = ns_t_a,   [DNS_AAAA] = ns_t_aaaa, [DNS_MX] = ns_t_mx,
    [DNS_NS] = ns_t_ns, [DNS_TXT] = ns_t_txt,   [DNS_PTR] = ns_t_ptr,
};

void dns_set_timeout(int seconds, int tries)
{
    dns_timeout = seconds > 0 ? seconds : 1;
    dns_tries = tries > 0 ? tries : 1;
    if (dns_ready) {
        dns_res.retrans = dns_timeout;
        dns_res.retry = dns_tries;
    }
}

static int dns_init(struct str *err)
{
    if (dns_ready)
        return 0;
    memset(&dns_res, 0, sizeof dns_res);
    if (res_ninit(&dns_res) != 0) {
        str_set(err, "resolver initialization failed");
        return -1;
    }
    dns_res.retrans = dns_timeout;
    dns_res.retry = dns_tries;
    dns_res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
    dns_ready = 1;
    return 0;
}

void dns_cache_flush(void)
{
    for (size_t i = 0; i < DNS_CACHE_SIZE; i++) {
        free(dns_cache[i].name);
        if (dns_cache[i].values)
            argv_free(dns_cache[i].values);
        memset(&dns_cache[i], 0, sizeof dns_cache[i]);
    }
}

static struct dns_cache_entry *dns_cache_find(const char *name, enum dns_type type)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < DNS_CACHE_SIZE; i++) {
        struct dns_cache_entry *e = &dns_cache[i];
        if (e->name && e->type == type && e->expires > now && strcasecmp(e->name, name) == 0)
            return e;
    }
    return NULL;
}

static void dns_cache_store(const char *name, enum dns_type type, int status,
                            const struct argv *values, long ttl)
{
    struct dns_cache_entry *e = &dns_cache[dns_cache_next];
    dns_cache_next = (dns_cache_next + 1) % DNS_CACHE_SIZE;
    free(e->name);
    if (e->values)
        argv_free(e->values);
    e->name = xstrdup(name);
    e->type = type;
    e->status = status;
    e->values = argv_new();
    for (size_t i = 0; values && i < values->n; i++)
        argv_add(e->values, values->v[i]);
    if (ttl > DNS_CACHE_TTL_MAX)
        ttl = DNS_CACHE_TTL_MAX;
    e->expires = time(NULL) + (ttl > 0 ? ttl : 1);
}

/* One answer record's data as text; 0 when it was added to out. */
static int dns_rr_text(ns_msg *msg, ns_rr *rr, enum dns_type type, struct argv *out)
{
    const unsigned char *rd = ns_rr_rdata(*rr);
    size_t rdlen = ns_rr_rdlen(*rr);
    char buf[NS_MAXDNAME + 16];
    struct str txt = STR_INIT;

    switch (type) {
    case DNS_A:
    case DNS_AAAA:
        if (rdlen != (type == DNS_A ? 4u : 16u) ||
            !inet_ntop(type == DNS_A ? AF_INET : AF_INET6, rd, buf, sizeof buf))
            return -1;
        argv_add(out, buf);
        return 0;
    case DNS_MX: {
        if (rdlen < 3)
            return -1;
        unsigned pref = ns_get16(rd);
        char host[NS_MAXDNAME];
        if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rd + 2, host, sizeof host) < 0)
            return -1;
        struct str s = STR_INIT;
        str_setf(&s, "%u %s", pref, host[0] ? host : ".");
        argv_add_owned(out, str_steal(&s));
        return 0;
    }
    case DNS_NS:
    case DNS_PTR:
        if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rd, buf, sizeof buf) < 0)
            return -1;
        argv_add(out, buf);
        return 0;
    case DNS_TXT:
        for (size_t i = 0; i < rdlen;) {
            size_t n = rd[i++];
            if (i + n > rdlen)
                break;
            str_appendn(&txt, rd + i, n);
            i += n;
        }
        argv_add_owned(out, str_steal(&txt));
        return 0;
    }
    return -1;
}

static int dns_query(const char *name, enum dns_type type, struct argv *out, long *ttl,
                     struct str *err)
{
    unsigned char answer[NS_MAXMSG];
    int qtype = dns_qtypes[type];
    dns_res.res_h_errno = 0;
    int len = res_nquery(&dns_res, name, ns_c_in, qtype, answer, sizeof answer);
    if (len < 0) {
        switch (dns_res.res_h_errno) {
        case HOST_NOT_FOUND:
        case NO_DATA:
            *ttl = 60;
            return DNS_NOTFOUND;
        default:
            str_setf(err, "%s: %s", name, hstrerror(dns_res.res_h_errno));
            return DNS_RETRY;
        }
    }
    ns_msg msg;
    if (ns_initparse(answer, len, &msg) < 0) {
        str_setf(err, "%s: malformed DNS reply", name);
        return DNS_RETRY;
    }
    *ttl = DNS_CACHE_TTL_MAX;
    int count = ns_msg_count(msg, ns_s_an);
    for (int i = 0; i < count && out->n < DNS_MAX_ANSWERS; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
            break;
        if ((int)ns_rr_type(rr) != qtype || ns_rr_class(rr) != ns_c_in)
            continue;
        if (dns_rr_text(&msg, &rr, type, out) == 0 && (long)ns_rr_ttl(rr) < *ttl)
            *ttl = (long)ns_rr_ttl(rr);
    }
    if (out->n == 0) {
        *ttl = 60;
        return DNS_NOTFOUND;
    }
    return DNS_OK;
}

int dns_lookup(const char *name, enum dns_type type, struct argv *out, struct str *err)
{
    if (!name || !*name || strlen(name) > DNS_NAME_MAX) {
        str_set(err, "invalid domain name");
        return DNS_NOTFOUND;
    }
    struct dns_cache_entry *e = dns_cache_find(name, type);
    if (e) {
        for (size_t i = 0; i < e->values->n; i++)
            argv_add(out, e->values->v[i]);
        return e->status;
    }
    if (dns_init(err) < 0)
        return DNS_RETRY;
    struct argv *found = argv_new();
    long ttl = 60;
    int status = dns_query(name, type, found, &ttl, err);
    if (status != DNS_RETRY)
        dns_cache_store(name, type, status, found, ttl);
    for (size_t i = 0; i < found->n; i++)
        argv_add(out, found->v[i]);
    argv_free(found);
    if (msg_verbose)
        msg_info("dns_lookup: %s type %d: status %d, %zu answers", name, (int)type, status, out->n);
    return status;
}

int dns_lookup_addrs(const char *host, struct argv *out, struct str *err)
{
    int s4 = dns_lookup(host, DNS_A, out, err);
    int s6 = dns_lookup(host, DNS_AAAA, out, err);
    if (s4 == DNS_OK || s6 == DNS_OK)
        return DNS_OK;
    return (s4 == DNS_RETRY || s6 == DNS_RETRY) ? DNS_RETRY : DNS_NOTFOUND;
}

int dns_reverse_name(const char *addr, const char *suffix, struct str *out)
{
    unsigned char b[16];
    str_clear(out);
    if (inet_pton(AF_INET, addr, b) == 1) {
        str_setf(out, "%u.%u.%u.%u", b[3], b[2], b[1], b[0]);
        str_append(out, suffix ? "." : ".in-addr.arpa");
    } else if (inet_pton(AF_INET6, addr, b) == 1) {
        static const char hex[] = "0123456789abcdef";
        for (int i = 15; i >= 0; i--) {
            str_appendc(out, hex[b[i] & 15]);
            str_appendc(out, '.');
            str_appendc(out, hex[b[i] >> 4]);
            str_appendc(out, '.');
        }
        str_append(out, suffix ? "" : "ip6.arpa");
    } else {
        return -1;
    }
    if (suffix)
        str_append(out, suffix);
    return 0;
}

static int dns_same_addr(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
        return memcmp(x, y, 4) == 0;
    if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
        return memcmp(x, y, 16) == 0;
    return 0;
}

void dns_client_names(const char *addr, struct str *reverse_name, int *reverse_status,
                      struct str *name, int *name_status)
{
    struct str q = STR_INIT, err = STR_INIT;
    struct argv *ptr = argv_new(), *addrs = argv_new();
    str_set(reverse_name, "unknown");
    str_set(name, "unknown");
    *reverse_status = *name_status = 5;
    if (dns_reverse_name(addr, NULL, &q) < 0)
        goto done;
    int s = dns_lookup(q.data, DNS_PTR, ptr, &err);
    if (s != DNS_OK || !dns_valid_hostname(ptr->v[0])) {
        *reverse_status = *name_status = (s == DNS_RETRY) ? 4 : 5;
        goto done;
    }
    str_set(reverse_name, ptr->v[0]);
    str_lower(reverse_name);
    *reverse_status = 0;
    s = dns_lookup_addrs(ptr->v[0], addrs, &err);
    if (s == DNS_RETRY) {
        *name_status = 4;
        goto done;
    }
    for (size_t i = 0; i < addrs->n; i++) {
        if (dns_same_addr(addrs->v[i], addr)) {
            str_set(name, reverse_name->data);
            *name_status = 0;
            break;
        }
    }
    if (*name_status != 0)
        msg_warn("hostname %s does not resolve to address %s", ptr->v[0], addr);
done:
    argv_free(ptr);
    argv_free(addrs);
    str_release(&q);
    str_release(&err);
}

/* One octet pattern: a number, or [a;b..c;...]. Advances *p. */
static int dns_octet_match(const char **p, unsigned value)
{
    const char *s = *p;
    if (*s != '[') {
        char *end;
        unsigned long n = strtoul(s, &end, 10);
        if (end == s || n > 255)
            return -1;
        *p = end;
        return n == value;
    }
    int hit = 0;
    s++;
    for (;;) {
        char *end;
        unsigned long lo = strtoul(s, &end, 10), hi;
        if (end == s || lo > 255)
            return -1;
        s = end;
        hi = lo;
        if (s[0] == '.' && s[1] == '.') {
            s += 2;
            hi = strtoul(s, &end, 10);
            if (end == s || hi > 255)
                return -1;
            s = end;
        }
        if (value >= lo && value <= hi)
            hit = 1;
        if (*s == ';') {
            s++;
            continue;
        }
        if (*s != ']')
            return -1;
        *p = s + 1;
        return hit;
    }
}

int dns_filter_match(const char *filter, const char *addr)
{
    unsigned char b[4];
    if (inet_pton(AF_INET, addr, b) != 1)
        return 0;
    const char *p = filter;
    int all = 1;
    for (int i = 0; i < 4; i++) {
        int m = dns_octet_match(&p, b[i]);
        if (m < 0)
            return -1;
        all &= m;
        if (i < 3 && *p++ != '.')
            return -1;
    }
    return *p ? -1 : all;
}

int dns_list_query(const char *query, const char *filter, struct str *addr, struct str *txt,
                   struct str *err)
{
    struct argv *a = argv_new(), *t = argv_new();
    int s = dns_lookup(query, DNS_A, a, err), result = DNS_NOTFOUND;
    str_clear(addr);
    str_clear(txt);
    if (s == DNS_RETRY)
        result = DNS_RETRY;
    for (size_t i = 0; s == DNS_OK && i < a->n; i++) {
        int m = filter ? dns_filter_match(filter, a->v[i]) : 1;
        if (m < 0)
            msg_warn("bad DNS list reply filter: %s", filter);
        if (m > 0) {
            str_set(addr, a->v[i]);
            result = DNS_OK;
            break;
        }
    }
    if (result == DNS_OK && dns_lookup(query, DNS_TXT, t, err) == DNS_OK)
        str_set(txt, t->v[0]);
    argv_free(a);
    argv_free(t);
    return result;
}

int dns_valid_hostname(const char *name)
{
    size_t len = strlen(name), label = 0;
    int alpha = 0;
    if (len == 0 || len > DNS_NAME_MAX)
        return 0;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            if (label == 0 || p[-1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
        if (c == '-' && label == 0)
            return 0;
        if (!(c >= '0' && c <= '9'))
            alpha = 1;
        if (++label > 63)
            return 0;
    }
    return alpha && name[len - 1] != '-';
}

int dns_valid_literal(const char *text)
{
    size_t len = strlen(text);
    unsigned char b[16];
    if (len < 3 || text[0] != '[' || text[len - 1] != ']' || len > 64)
        return 0;
    char buf[72];
    memcpy(buf, text + 1, len - 2);
    buf[len - 2] = 0;
    if (strncasecmp(buf, "IPv6:", 5) == 0)
        return inet_pton(AF_INET6, buf + 5, b) == 1;
    return inet_pton(AF_INET, buf, b) == 1;
}
