/* smtp_connect: next-hop syntax (domain, [host], host:port, [host]:port, inet:host:port,
 * unix:/path), the list of servers to try (MX lookup through util/mail/dns.h, fallback to the
 * host's own addresses, smtp_mx_address_limit, inet_protocols) and connecting to one of them
 * with smtp_bind_address and smtp_connect_timeout. */
#include "smtp.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "mail/config.h"
#include "mail/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void smtp_dest_release(struct smtp_dest *d)
{
    free(d->host);
    free(d->port);
    free(d->path);
    memset(d, 0, sizeof *d);
}

static int port_number(const char *text, const char *proto_default, struct str *out)
{
    char *end;
    long n = strtol(text, &end, 10);
    if (*text && !*end && n > 0 && n < 65536) {
        str_setf(out, "%ld", n);
        return 0;
    }
    struct servent *se = getservbyname(text, "tcp");
    if (se) {
        str_setf(out, "%d", ntohs((unsigned short)se->s_port));
        return 0;
    }
    if (strcmp(text, "smtp") == 0 || strcmp(text, "lmtp") == 0) {
        str_set(out, text[0] == 's' ? "25" : "24");
        return 0;
    }
    (void)proto_default;
    return -1;
}

int smtp_dest_parse(const char *nexthop, int lmtp, const char *def_port, struct smtp_dest *d,
                    struct str *err)
{
    memset(d, 0, sizeof *d);
    const char *p = nexthop;
    if (strncmp(p, "unix:", 5) == 0) {
        if (!p[5])
            return str_setf(err, "empty unix socket path in \"%s\"", nexthop), -1;
        d->is_unix = 1;
        d->path = xstrdup(p + 5);
        return 0;
    }
    if (strncmp(p, "inet:", 5) == 0)
        p += 5;
    struct str host = STR_INIT, port = STR_INIT;
    const char *portpart = NULL;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close || close == p + 1)
            return str_setf(err, "bad next hop \"%s\"", nexthop), -1;
        str_appendn(&host, p + 1, (size_t)(close - p - 1));
        if (close[1] == ':')
            portpart = close + 2;
        else if (close[1])
            return str_release(&host), str_setf(err, "bad next hop \"%s\"", nexthop), -1;
    } else {
        const char *colon = strrchr(p, ':');
        str_appendn(&host, p, colon ? (size_t)(colon - p) : strlen(p));
        portpart = colon ? colon + 1 : NULL;
        d->use_mx = !lmtp;
    }
    if (host.len == 0 || port_number(portpart ? portpart : def_port, def_port, &port) < 0) {
        str_release(&host);
        str_release(&port);
        return str_setf(err, "bad next hop \"%s\"", nexthop), -1;
    }
    d->host = str_steal(&host);
    d->port = str_steal(&port);
    return 0;
}

void smtp_targets_add(struct smtp_targets *t, const char *host, const char *addr, const char *port)
{
    t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof *t->v);
    t->v[t->n].host = xstrdup(host);
    t->v[t->n].addr = xstrdup(addr);
    t->v[t->n].port = xstrdup(port ? port : "");
    t->n++;
}

void smtp_targets_release(struct smtp_targets *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].host);
        free(t->v[i].addr);
        free(t->v[i].port);
    }
    free(t->v);
    memset(t, 0, sizeof *t);
}

static int family_allowed(const char *addr)
{
    struct str why = STR_INIT;
    int mask = net_parse_protocols(config_get("inet_protocols"), &why);
    str_release(&why);
    if (mask < 0)
        mask = NET_ALL;
    int v6 = strchr(addr, ':') != NULL;
    return (mask & (v6 ? NET_IPV6 : NET_IPV4)) != 0;
}

/* The addresses of one host: an IP literal as is, else DNS. 0, 4 or 5. */
static int host_addrs(const char *host, struct argv *out, struct str *reason)
{
    unsigned char buf[sizeof(struct in6_addr)];
    const char *h = strncasecmp(host, "ipv6:", 5) == 0 ? host + 5 : host;
    if (inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1) {
        argv_add(out, h);
        return 0;
    }
    struct str err = STR_INIT;
    int rc = dns_lookup_addrs(host, out, &err);
    if (rc == DNS_NOTFOUND)
        str_setf(reason,
                 "Host or domain name not found. Name service error for name=%s type=A: "
                 "Host not found",
                 host);
    else if (rc != DNS_OK)
        str_setf(reason,
                 "Host or domain name not found. Name service error for name=%s type=A: "
                 "Host not found, try again",
                 host);
    str_release(&err);
    return rc == DNS_OK ? 0 : rc == DNS_NOTFOUND ? 5 : 4;
}

static void add_host(struct smtp_targets *t, const char *host, const char *port,
                     const struct argv *addrs)
{
    long limit = smtp_cfg.mx_address_limit;
    for (size_t i = 0; i < addrs->n; i++) {
        if (limit > 0 && (long)t->n >= limit)
            return;
        if (family_allowed(addrs->v[i]))
            smtp_targets_add(t, host, addrs->v[i], port);
    }
}

static int mx_targets(const struct smtp_dest *d, struct smtp_targets *t, struct str *dsn,
                      struct str *reason)
{
    struct argv *mx = argv_new(), *hosts = argv_new(), *addrs = argv_new();
    struct str err = STR_INIT;
    int rc = dns_lookup(d->host, DNS_MX, mx, &err), out = 0;
    if (rc == DNS_RETRY) {
        str_set(dsn, "4.4.3");
        str_setf(reason,
                 "Host or domain name not found. Name service error for name=%s "
                 "type=MX: Host not found, try again",
                 d->host);
        out = 4;
    } else if (rc == DNS_NOTFOUND) {
        argv_add(hosts, d->host); /* no MX: the domain's own addresses */
    } else {
        int o = smtp_mx_order(mx, config_get_bool("smtp_randomize_addresses"), NULL,
                              config_get("myhostname"), hosts);
        if (o == SMTP_MX_NULL) {
            str_set(dsn, "5.1.0");
            str_setf(reason, "Domain %s does not accept mail (nullMX)", d->host);
            out = 5;
        } else if (o == SMTP_MX_SELF) {
            str_set(dsn, "5.4.6");
            str_setf(reason, "mail for %s loops back to myself", d->host);
            out = 5;
        }
    }
    int last = 0;
    for (size_t i = 0; out == 0 && i < hosts->n; i++) {
        argv_clear(addrs);
        last = host_addrs(hosts->v[i], addrs, reason);
        add_host(t, hosts->v[i], d->port, addrs);
    }
    if (out == 0 && t->n == 0) {
        out = last ? last : 4;
        str_set(dsn, out == 5 ? "5.4.4" : "4.4.3");
        if (!reason->len)
            str_setf(reason, "no usable address for %s", d->host);
    }
    argv_free(mx);
    argv_free(hosts);
    argv_free(addrs);
    str_release(&err);
    return out;
}

int smtp_dest_targets(const struct smtp_dest *d, struct smtp_targets *t, struct str *dsn,
                      struct str *reason)
{
    if (d->is_unix) {
        smtp_targets_add(t, config_get("myhostname"), d->path, "");
        return 0;
    }
    if (d->use_mx)
        return mx_targets(d, t, dsn, reason);
    struct argv *addrs = argv_new();
    int rc = host_addrs(d->host, addrs, reason);
    if (rc == 0)
        add_host(t, d->host, d->port, addrs);
    if (rc == 0 && t->n == 0) {
        rc = 4;
        str_setf(reason, "no usable address for %s", d->host);
    }
    if (rc)
        str_set(dsn, rc == 5 ? "5.4.4" : "4.4.3");
    argv_free(addrs);
    return rc;
}

/* ---- connecting ------------------------------------------------------------------------- */

static int wait_connected(int fd, int timeout)
{
    struct pollfd p = {fd, POLLOUT, 0};
    int n;
    do
        n = poll(&p, 1, timeout > 0 ? timeout * 1000 : -1);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return errno = ETIMEDOUT, -1;
    int err = 0;
    socklen_t len = sizeof err;
    if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -1;
    return err ? (errno = err, -1) : 0;
}

static int bind_local(int fd, int family)
{
    const char *b = config_get(family == AF_INET6 ? "smtp_bind_address6" : "smtp_bind_address");
    if (smtp_cfg.lmtp)
        b = config_get(family == AF_INET6 ? "lmtp_bind_address6" : "lmtp_bind_address");
    if (!b || !*b)
        return 0;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, b, &s6->sin6_addr) != 1)
            return 0; /* not ours to use for this family */
        len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        if (inet_pton(AF_INET, b, &s4->sin_addr) != 1)
            return 0;
        len = sizeof *s4;
    }
    return bind(fd, (struct sockaddr *)&ss, len);
}

static int make_addr(const struct smtp_target *t, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (!t->port[0]) {
        struct sockaddr_un *su = (struct sockaddr_un *)ss;
        if (strlen(t->addr) >= sizeof su->sun_path)
            return errno = ENAMETOOLONG, -1;
        su->sun_family = AF_UNIX;
        strcpy(su->sun_path, t->addr);
        *len = sizeof *su;
        return 0;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    unsigned short port = (unsigned short)atoi(t->port);
    if (inet_pton(AF_INET, t->addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        *len = sizeof *s4;
    } else if (inet_pton(AF_INET6, t->addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        *len = sizeof *s6;
    } else
        return errno = EINVAL, -1;
    return 0;
}

int smtp_connect_target(const struct smtp_target *t, int timeout, struct str *why)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = -1;
    if (make_addr(t, &ss, &len) == 0 &&
        (fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) >= 0 &&
        (ss.ss_family == AF_UNIX || bind_local(fd, ss.ss_family) == 0) &&
        (connect(fd, (struct sockaddr *)&ss, len) == 0 ||
         (errno == EINPROGRESS && wait_connected(fd, timeout) == 0))) {
        net_set_nonblock(fd, 0);
        return fd;
    }
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (t->port[0])
        str_setf(why, "connect to %s[%s]:%s: %s", t->host, t->addr, t->port,
                 e == ETIMEDOUT ? "Connection timed out" : strerror(e));
    else
        str_setf(why, "connect to %s[%s]: %s", t->host, t->addr, strerror(e));
    return -1;
}
