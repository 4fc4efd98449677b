/* cidr: parsing and matching of IP network prefixes for mynetworks, cidr: tables and the like. */
#include "base/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int ip_addr_parse(const char *text, struct ip_addr *out)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t len = strlen(text);
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->bytes) == 1) {
        out->family = AF_INET;
        return 0;
    }
    unsigned char v6[16];
    if (strchr(buf, ':') && inet_pton(AF_INET6, buf, v6) == 1) {
        if (memcmp(v6, v4_mapped_prefix, 12) == 0) {
            out->family = AF_INET;
            memcpy(out->bytes, v6 + 12, 4);
        } else {
            out->family = AF_INET6;
            memcpy(out->bytes, v6, 16);
        }
        return 0;
    }
    return -1;
}

void ip_addr_format(const struct ip_addr *a, struct str *out)
{
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(a->family, a->bytes, buf, sizeof(buf)) == NULL)
        strcpy(buf, "?");
    str_append(out, buf);
}

static int family_bits(int family)
{
    return family == AF_INET ? 32 : 128;
}

static int host_bits_zero(const struct ip_addr *a, int prefix)
{
    int bits = family_bits(a->family);
    for (int i = prefix; i < bits; i++)
        if (a->bytes[i / 8] & (0x80 >> (i % 8)))
            return 0;
    return 1;
}

static int parse_prefix(const char *text, int max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*text == 0 || *end || errno || v < 0 || v > max || *text == '+' || *text == '-')
        return -1;
    return (int)v;
}

int cidr_parse(const char *text, struct cidr *out, struct str *err)
{
    struct str addr = STR_INIT;
    const char *slash = strrchr(text, '/');
    str_appendn(&addr, text, slash ? (size_t)(slash - text) : strlen(text));
    int rc = ip_addr_parse(str_cstr(&addr), &out->net);
    str_release(&addr);
    if (rc < 0) {
        str_setf(err, "bad network address: \"%s\"", text);
        return -1;
    }
    int max = family_bits(out->net.family);
    out->prefix = slash ? parse_prefix(slash + 1, max) : max;
    if (out->prefix < 0) {
        str_setf(err, "bad network mask length in \"%s\"", text);
        return -1;
    }
    if (!host_bits_zero(&out->net, out->prefix)) {
        str_setf(err, "non-null host address bits in \"%s\"", text);
        return -1;
    }
    return 0;
}

int cidr_contains(const struct cidr *c, const struct ip_addr *a)
{
    if (a->family != c->net.family)
        return 0;
    int full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(a->bytes, c->net.bytes, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a->bytes[full] & mask) == (c->net.bytes[full] & mask);
}

int cidr_match_text(const struct cidr *c, const char *addr_text)
{
    struct ip_addr a;
    return ip_addr_parse(addr_text, &a) == 0 && cidr_contains(c, &a);
}
