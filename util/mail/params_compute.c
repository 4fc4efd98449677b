/* params_compute: defaults computed from the machine: its name, its interfaces and the
 * build's directory layout. */
#include "mail/params.h"

#include "base/mem.h"
#include "base/str.h"
#include "mail/paths.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char *hostname_override;
static char *cached_hostname;

void param_set_hostname(const char *name)
{
    free(hostname_override);
    hostname_override = name ? xstrdup(name) : NULL;
    free(cached_hostname);
    cached_hostname = NULL;
}

/* The machine's fully qualified name: gethostname(), else its canonical name from
 * getaddrinfo(), else the short name with ".localdomain" appended. */
static char *machine_fqdn(void)
{
    char buf[HOST_NAME_MAX + 2];
    if (hostname_override)
        snprintf(buf, sizeof(buf), "%s", hostname_override);
    else if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == 0)
        snprintf(buf, sizeof(buf), "localhost");
    buf[sizeof(buf) - 1] = 0;
    if (strchr(buf, '.') != NULL)
        return xstrdup(buf);
    if (hostname_override == NULL) {
        struct addrinfo hints = {0}, *res = NULL;
        hints.ai_flags = AI_CANONNAME;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(buf, NULL, &hints, &res) == 0 && res) {
            char *name = NULL;
            if (res->ai_canonname && strchr(res->ai_canonname, '.'))
                name = xstrdup(res->ai_canonname);
            freeaddrinfo(res);
            if (name)
                return name;
        }
    }
    struct str s = STR_INIT;
    str_setf(&s, "%s.localdomain", buf);
    return str_steal(&s);
}

const char *param_compute_myhostname(void)
{
    if (cached_hostname == NULL) {
        cached_hostname = machine_fqdn();
        for (char *p = cached_hostname; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    }
    return cached_hostname;
}

char *param_mydomain_of(const char *hostname)
{
    const char *dot = hostname ? strchr(hostname, '.') : NULL;
    if (dot == NULL || dot[1] == 0)
        return xstrdup("localdomain");
    return xstrdup(dot + 1);
}

const char *param_compute_mydomain(void)
{
    static char *cached;
    free(cached);
    cached = param_mydomain_of(param_compute_myhostname());
    return cached;
}

/* ---- mynetworks ---- */

static int prefix_of_mask(const unsigned char *mask, int bytes)
{
    int bits = 0;
    for (int i = 0; i < bytes; i++)
        for (int b = 7; b >= 0; b--)
            if (mask[i] & (1 << b))
                bits++;
    return bits;
}

static void apply_prefix(unsigned char *addr, int bytes, int prefix)
{
    for (int i = 0; i < bytes; i++) {
        int keep = prefix - i * 8;
        if (keep >= 8)
            continue;
        addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
    }
}

/* The class A/B/C network of an IPv4 address (class style). */
static int class_prefix(const unsigned char *addr)
{
    if (addr[0] < 128)
        return 8;
    if (addr[0] < 192)
        return 16;
    return 24;
}

static void add_network(struct str *out, int family, unsigned char *addr, int prefix)
{
    char text[INET6_ADDRSTRLEN];
    apply_prefix(addr, family == AF_INET ? 4 : 16, prefix);
    inet_ntop(family, addr, text, sizeof(text));
    const char *fmt = family == AF_INET ? "%s/%d" : "[%s]/%d";
    struct str item = STR_INIT;
    str_setf(&item, fmt, text, prefix);
    /* skip duplicates (several interfaces on one subnet) */
    const char *p = out->data;
    while (p && (p = strstr(p, item.data)) != NULL) {
        size_t n = item.len;
        if ((p == out->data || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) {
            str_release(&item);
            return;
        }
        p += n;
    }
    if (out->len)
        str_appendc(out, ' ');
    str_append(out, item.data);
    str_release(&item);
}

char *param_mynetworks_of(const char *style, const char *protocols)
{
    struct str out = STR_INIT;
    struct ifaddrs *ifa = NULL;
    int want4 = 1, want6 = 1;
    if (protocols && strcasecmp(protocols, "ipv4") == 0)
        want6 = 0;
    if (protocols && strcasecmp(protocols, "ipv6") == 0)
        want4 = 0;
    int host = style == NULL || strcasecmp(style, "host") == 0;
    int klass = style && strcasecmp(style, "class") == 0;
    if (getifaddrs(&ifa) != 0)
        return xstrdup("127.0.0.0/8");
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (i->ifa_addr == NULL)
            continue;
        if (i->ifa_addr->sa_family == AF_INET && want4) {
            unsigned char a[4], m[4];
            memcpy(a, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
            int prefix = 32;
            if (!host && i->ifa_netmask) {
                memcpy(m, &((struct sockaddr_in *)(void *)i->ifa_netmask)->sin_addr, 4);
                prefix = klass ? class_prefix(a) : prefix_of_mask(m, 4);
            }
            if (klass && a[0] == 127)
                prefix = 8;
            add_network(&out, AF_INET, a, prefix);
        } else if (i->ifa_addr->sa_family == AF_INET6 && want6) {
            unsigned char a[16], m[16];
            memcpy(a, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
            int prefix = 128;
            if (!host && i->ifa_netmask) {
                memcpy(m, &((struct sockaddr_in6 *)(void *)i->ifa_netmask)->sin6_addr, 16);
                prefix = prefix_of_mask(m, 16);
            }
            add_network(&out, AF_INET6, a, prefix);
        }
    }
    freeifaddrs(ifa);
    if (out.len == 0)
        str_set(&out, "127.0.0.0/8");
    return str_steal(&out);
}

const char *param_compute_mynetworks(void)
{
    static char *cached;
    if (cached == NULL)
        cached = param_mynetworks_of("host", "all");
    return cached;
}

/* ---- directories (relocatable, see paths.c) ---- */
#define DIR_COMPUTE(fn, name)                                                                      \
    const char *fn(void)                                                                           \
    {                                                                                              \
        return paths_default(name);                                                                \
    }
DIR_COMPUTE(param_compute_config_directory, "config_directory")
DIR_COMPUTE(param_compute_queue_directory, "queue_directory")
DIR_COMPUTE(param_compute_command_directory, "command_directory")
DIR_COMPUTE(param_compute_daemon_directory, "daemon_directory")
DIR_COMPUTE(param_compute_data_directory, "data_directory")
DIR_COMPUTE(param_compute_mail_spool_directory, "mail_spool_directory")
DIR_COMPUTE(param_compute_sendmail_path, "sendmail_path")
DIR_COMPUTE(param_compute_newaliases_path, "newaliases_path")
DIR_COMPUTE(param_compute_mailq_path, "mailq_path")
