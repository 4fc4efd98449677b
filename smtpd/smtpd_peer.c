/* smtpd_peer: who is the client — address and port from the socket, the reverse (PTR) name
 * and the verified name (the PTR name whose forward lookup gives the address back), as
 * smtpd_peername_lookup asks. "unknown" when there is no name; status 4 for a temporary DNS
 * failure, 5 for none. A stand-alone run on a pipe is "localhost[127.0.0.1]". */
#include "smtpd.h"

#include "base/net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/mem.h"

static void unmap_v4(struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
        return;
    struct sockaddr_in s4;
    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    s4.sin_port = s6->sin6_port;
    memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
    memcpy(ss, &s4, sizeof(s4));
    *len = sizeof(s4);
}

/* 1 when a forward lookup of name gives addr back; sets *status. */
static int forward_confirms(const char *name, const char *addr, int *status)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0) {
        *status = rc == EAI_AGAIN ? 4 : 5;
        return 0;
    }
    int found = 0;
    for (struct addrinfo *a = res; a && !found; a = a->ai_next) {
        char buf[NI_MAXHOST];
        struct sockaddr_storage ss;
        socklen_t len = a->ai_addrlen;
        memcpy(&ss, a->ai_addr, len);
        unmap_v4(&ss, &len);
        if (getnameinfo((struct sockaddr *)&ss, len, buf, sizeof(buf), NULL, 0, NI_NUMERICHOST) ==
                0 &&
            strcmp(buf, addr) == 0)
            found = 1;
    }
    freeaddrinfo(res);
    *status = found ? 0 : 5;
    return found;
}

static void set_namaddr(struct smtpd_state *st)
{
    struct str s = STR_INIT;
    str_appendf(&s, "%s[%s]", st->name, st->addr);
    if (smtpd_conf.port_logging)
        str_appendf(&s, ":%s", st->port);
    st->namaddr = str_steal(&s);
}

/* Our end of the connection ("127.0.0.1", "0" when not on a socket). */
static void local_end(struct smtpd_state *st, int fd)
{
    struct str addr = STR_INIT, port = STR_INIT;
    if (net_local_addr(fd, &addr, &port) < 0) {
        str_set(&addr, "127.0.0.1");
        str_set(&port, "0");
    }
    st->server_addr = str_steal(&addr);
    st->server_port = str_steal(&port);
}

void smtpd_peer_init(struct smtpd_state *st, int fd)
{
    local_end(st, fd);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    st->name_status = st->reverse_status = 5;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
        st->name = xstrdup("localhost");
        st->reverse_name = xstrdup("localhost");
        st->addr = xstrdup("127.0.0.1");
        st->port = xstrdup("0");
        st->name_status = st->reverse_status = 0;
        set_namaddr(st);
        return;
    }
    st->network = 1;
    unmap_v4(&ss, &len);
    if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        strcpy(host, "unknown");
        strcpy(serv, "0");
    }
    st->addr = xstrdup(host);
    st->port = xstrdup(serv);
    st->name = xstrdup("unknown");
    st->reverse_name = xstrdup("unknown");
    if (smtpd_conf.peername_lookup) {
        int rc = getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL, 0, NI_NAMEREQD);
        if (rc == 0 && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789.-_") == strlen(host)) {
            free(st->reverse_name);
            st->reverse_name = xstrdup(host);
            st->reverse_status = 0;
            if (forward_confirms(host, st->addr, &st->name_status)) {
                free(st->name);
                st->name = xstrdup(host);
            }
        } else {
            st->reverse_status = st->name_status = rc == EAI_AGAIN ? 4 : 5;
        }
    }
    set_namaddr(st);
}
