/* match_list_mynetworks: the default mynetworks value computed from mynetworks_style and the
 * interface addresses, and the getifaddrs() wrapper that supplies them. */
#include "mail/match_list.h"

#include "base/mem.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static int class_prefix(const struct if_addr *a)
{
    unsigned char b = a->addr.bytes[0];
    if (a->addr.family != AF_INET)
        return a->prefix;
    if (b < 128)
        return 8;
    if (b < 192)
        return 16;
    if (b < 224)
        return 24;
    return a->prefix; /* class D/E: the subnet */
}

static void format_net(const struct ip_addr *a, int prefix, struct str *out)
{
    struct ip_addr net = *a;
    int bits = a->family == AF_INET ? 32 : 128;
    if (prefix < 0 || prefix > bits)
        prefix = bits;
    for (int i = prefix; i < bits; i++)
        net.bytes[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
    if (a->family == AF_INET6)
        str_appendc(out, '[');
    ip_addr_format(&net, out);
    if (a->family == AF_INET6)
        str_appendc(out, ']');
    str_appendf(out, "/%d", prefix);
}

/* 1 when word is already one of the space-separated words of s. */
static int has_word(const struct str *s, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = str_cstr(s); *p;) {
        size_t n = strcspn(p, " ");
        if (n == wl && memcmp(p, word, n) == 0)
            return 1;
        p += n;
        p += *p == ' ';
    }
    return 0;
}

int mynetworks_compute(const char *style, const struct if_addr *ifs, size_t n, struct str *out,
                       struct str *err)
{
    int mode;
    if (strcasecmp(style, "host") == 0)
        mode = 0;
    else if (strcasecmp(style, "subnet") == 0)
        mode = 1;
    else if (strcasecmp(style, "class") == 0)
        mode = 2;
    else {
        str_setf(err, "unknown mynetworks_style value: %s", style);
        return -1;
    }
    struct str net = STR_INIT, all = STR_INIT;
    for (size_t i = 0; i < n; i++) {
        int bits = ifs[i].addr.family == AF_INET ? 32 : 128;
        int prefix = mode == 0 ? bits : mode == 1 ? ifs[i].prefix : class_prefix(&ifs[i]);
        str_clear(&net);
        format_net(&ifs[i].addr, prefix, &net);
        if (has_word(&all, str_cstr(&net)))
            continue;
        if (all.len)
            str_appendc(&all, ' ');
        str_append(&all, str_cstr(&net));
    }
    str_append(out, str_cstr(&all));
    str_release(&net);
    str_release(&all);
    return 0;
}

static int mask_bits(const unsigned char *m, size_t len)
{
    int bits = 0;
    for (size_t i = 0; i < len; i++)
        for (int b = 7; b >= 0 && (m[i] >> b) & 1; b--)
            bits++;
    return bits;
}

long interface_addresses(struct if_addr **out, struct str *err)
{
    struct ifaddrs *list, *ifa;
    size_t n = 0, cap = 0;
    *out = NULL;
    if (getifaddrs(&list) != 0) {
        str_setf(err, "getifaddrs: %s", strerror(errno));
        return -1;
    }
    for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == NULL || ifa->ifa_netmask == NULL)
            continue;
        struct if_addr a;
        memset(&a, 0, sizeof(a));
        if (ifa->ifa_addr->sa_family == AF_INET) {
            a.addr.family = AF_INET;
            memcpy(a.addr.bytes, &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, 4);
            a.prefix =
                mask_bits((unsigned char *)&((struct sockaddr_in *)ifa->ifa_netmask)->sin_addr, 4);
        } else if (ifa->ifa_addr->sa_family == AF_INET6) {
            a.addr.family = AF_INET6;
            memcpy(a.addr.bytes, &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr, 16);
            a.prefix = mask_bits(
                (unsigned char *)&((struct sockaddr_in6 *)ifa->ifa_netmask)->sin6_addr, 16);
        } else {
            continue;
        }
        *out = xgrow(*out, &cap, n + 1, sizeof(**out));
        (*out)[n++] = a;
    }
    freeifaddrs(list);
    return (long)n;
}
