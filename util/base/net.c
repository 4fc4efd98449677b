/* net: socket creation, binding and timed connects for inet and unix-domain sockets, endpoint
 * string parsing and numeric address formatting. */
#include "base/net.h"

#include "base/argv.h"
#include "base/clock.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(struct str *why, int err, const char *fmt, const char *arg)
{
    if (why) {
        str_clear(why);
        str_appendf(why, fmt, arg);
        if (err)
            str_appendf(why, ": %s", strerror(err));
    }
    errno = err ? err : EINVAL;
    return -1;
}

/* ---- fd flags ---------------------------------------------------------------------------- */

int net_set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
    return fcntl(fd, F_SETFL, fl);
}

int net_set_cloexec(int fd, int on)
{
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0)
        return -1;
    fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
    return fcntl(fd, F_SETFD, fl);
}

/* ---- protocols and endpoints ------------------------------------------------------------- */

int net_parse_protocols(const char *value, struct str *why)
{
    struct argv *words = argv_split(value, ", \t");
    int mask = 0;
    for (size_t i = 0; i < words->n; i++) {
        const char *w = words->v[i];
        if (strcasecmp(w, "all") == 0)
            mask |= NET_ALL;
        else if (strcasecmp(w, "ipv4") == 0)
            mask |= NET_IPV4;
        else if (strcasecmp(w, "ipv6") == 0)
            mask |= NET_IPV6;
        else {
            fail(why, 0, "bad inet_protocols value: \"%s\"", w);
            argv_free(words);
            return -1;
        }
    }
    argv_free(words);
    return mask ? mask : fail(why, 0, "empty inet_protocols value%s", "");
}

static int parse_host_port(const char *text, struct net_endpoint *ep, struct str *why)
{
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':' || close[2] == 0)
            return fail(why, 0, "bad endpoint \"%s\": expected [host]:port", text);
        ep->host = xstrndup(text + 1, (size_t)(close - text - 1));
        ep->port = xstrdup(close + 2);
        ep->bracketed = 1;
        return 0;
    }
    colon = strrchr(text, ':');
    if (colon == NULL) {
        ep->port = xstrdup(text);
    } else {
        if (memchr(text, ':', (size_t)(colon - text)) != NULL)
            return fail(why, 0, "bad endpoint \"%s\": write an IPv6 address as [addr]:port", text);
        if (colon[1] == 0)
            return fail(why, 0, "bad endpoint \"%s\": missing port", text);
        if (colon > text)
            ep->host = xstrndup(text, (size_t)(colon - text));
        ep->port = xstrdup(colon + 1);
    }
    if (ep->port[0] == 0 || strchr(ep->port, ' ') != NULL)
        return fail(why, 0, "bad endpoint \"%s\": bad port", text);
    return 0;
}

int net_parse_endpoint(const char *text, struct net_endpoint *ep, struct str *why)
{
    memset(ep, 0, sizeof(*ep));
    if (strncmp(text, "unix:", 5) == 0 || text[0] == '/') {
        const char *path = text[0] == '/' ? text : text + 5;
        if (path[0] == 0)
            return fail(why, 0, "bad endpoint \"%s\": empty path", text);
        ep->kind = NET_EP_UNIX;
        ep->path = xstrdup(path);
        return 0;
    }
    if (strncmp(text, "inet:", 5) == 0)
        text += 5;
    ep->kind = NET_EP_INET;
    if (text[0] == 0 || parse_host_port(text, ep, why) < 0) {
        if (text[0] == 0)
            fail(why, 0, "bad endpoint \"%s\": empty", text);
        net_endpoint_free(ep);
        return -1;
    }
    return 0;
}

void net_endpoint_free(struct net_endpoint *ep)
{
    free(ep->host);
    free(ep->port);
    free(ep->path);
    memset(ep, 0, sizeof(*ep));
}

/* ---- address formatting ------------------------------------------------------------------ */

int net_format_addr(const struct sockaddr *sa, socklen_t len, struct str *addr, struct str *port)
{
    char buf[INET6_ADDRSTRLEN];
    unsigned p = 0;
    if (addr)
        str_clear(addr);
    if (port)
        str_clear(port);
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
        p = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, buf, sizeof(buf));
        else
            inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
        p = ntohs(in6->sin6_port);
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        size_t n = len > off ? strnlen(un->sun_path, len - off) : 0;
        if (addr)
            str_appendn(addr, un->sun_path, n);
        return 0;
    } else {
        return -1;
    }
    if (addr)
        str_append(addr, buf);
    if (port)
        str_appendf(port, "%u", p);
    return 0;
}

static int format_sock(int fd, int peer, struct str *addr, struct str *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
                  : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (rc < 0)
        return -1;
    return net_format_addr((struct sockaddr *)&ss, len, addr, port);
}

int net_peer_addr(int fd, struct str *addr, struct str *port)
{
    return format_sock(fd, 1, addr, port);
}

int net_local_addr(int fd, struct str *addr, struct str *port)
{
    return format_sock(fd, 0, addr, port);
}

/* "addr:port" or "[addr]:port" for messages. */
static void addr_text(const struct sockaddr *sa, socklen_t len, struct str *out)
{
    struct str a = STR_INIT, p = STR_INIT;
    net_format_addr(sa, len, &a, &p);
    str_clear(out);
    if (strchr(str_cstr(&a), ':'))
        str_appendf(out, "[%s]:%s", str_cstr(&a), str_cstr(&p));
    else
        str_appendf(out, "%s:%s", str_cstr(&a), str_cstr(&p));
    str_release(&a);
    str_release(&p);
}

/* ---- resolving --------------------------------------------------------------------------- */

static int resolve(const char *host, const char *port, int protocols, int passive,
                   struct addrinfo **res, struct str *why)
{
    struct addrinfo hints = {0};
    hints.ai_family = protocols == NET_IPV4   ? AF_INET
                      : protocols == NET_IPV6 ? AF_INET6
                                              : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
    if (host && (host[0] == 0 || strcmp(host, "*") == 0))
        host = NULL;
    int rc = getaddrinfo(host, port, &hints, res);
    if (rc != 0) {
        if (why) {
            str_clear(why);
            str_appendf(why, "resolve %s:%s: %s", host ? host : "*", port,
                        rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        }
        errno = EINVAL;
        return -1;
    }
    return 0;
}

static int family_allowed(int family, int protocols)
{
    return (family == AF_INET && (protocols & NET_IPV4)) ||
           (family == AF_INET6 && (protocols & NET_IPV6));
}

/* ---- listening --------------------------------------------------------------------------- */

static int listen_one(const struct addrinfo *ai, int backlog, struct str *why)
{
    struct str where = STR_INIT;
    addr_text(ai->ai_addr, ai->ai_addrlen, &where);
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int on = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0) {
            str_release(&where);
            return fd;
        }
    }
    int err = errno;
    if (fd >= 0)
        close(fd);
    fail(why, err, "bind %s", str_cstr(&where));
    str_release(&where);
    return -1;
}

int net_listen_inet(const char *host, const char *port, int protocols, int backlog, int *fds,
                    size_t max_fds, struct str *why)
{
    struct addrinfo *res;
    if (resolve(host, port, protocols, 1, &res, why) < 0)
        return -1;
    size_t n = 0;
    for (struct addrinfo *ai = res; ai && n < max_fds; ai = ai->ai_next) {
        if (!family_allowed(ai->ai_family, protocols))
            continue;
        int fd = listen_one(ai, backlog, why);
        if (fd < 0) {
            while (n > 0)
                close(fds[--n]);
            freeaddrinfo(res);
            return -1;
        }
        fds[n++] = fd;
    }
    freeaddrinfo(res);
    if (n == 0)
        return fail(why, EAFNOSUPPORT, "listen on %s: no usable address", port);
    return (int)n;
}

static int unix_addr(const char *path, struct sockaddr_un *sun, struct str *why)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path))
        return fail(why, ENAMETOOLONG, "unix socket %s", path);
    strcpy(sun->sun_path, path);
    return 0;
}

static int bind_unix(const char *path, int type, mode_t mode, struct str *why)
{
    struct sockaddr_un sun;
    if (unix_addr(path, &sun, why) < 0)
        return -1;
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return fail(why, errno, "socket for %s", path);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, mode) < 0) {
        int err = errno;
        close(fd);
        return fail(why, err, "bind %s", path);
    }
    return fd;
}

int net_listen_unix(const char *path, mode_t mode, int backlog, struct str *why)
{
    int fd = bind_unix(path, SOCK_STREAM, mode, why);
    if (fd >= 0 && listen(fd, backlog) < 0) {
        int err = errno;
        close(fd);
        return fail(why, err, "listen %s", path);
    }
    return fd;
}

int net_bind_unix_dgram(const char *path, mode_t mode, struct str *why)
{
    return bind_unix(path, SOCK_DGRAM, mode, why);
}

/* ---- connecting -------------------------------------------------------------------------- */

/* Connect fd (non-blocking) before the deadline; returns 0 or an errno value. */
static int timed_connect(int fd, const struct sockaddr *sa, socklen_t len, long deadline)
{
    if (connect(fd, sa, len) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EAGAIN && errno != EINTR)
        return errno;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n;
    while ((n = poll(&p, 1, deadline_poll_ms(deadline))) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return errno;
    if (n == 0)
        return ETIMEDOUT;
    int err = 0;
    socklen_t elen = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        return errno;
    return err;
}

static int connect_addr(const struct sockaddr *sa, socklen_t len, int family, long deadline,
                        const char *where, struct str *why)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return fail(why, errno, "socket for %s", where);
    int err = timed_connect(fd, sa, len, deadline);
    if (err == 0 && net_set_nonblock(fd, 0) == 0)
        return fd;
    if (err == 0)
        err = errno;
    close(fd);
    return fail(why, err, "connect to %s", where);
}

int net_connect_inet(const char *host, const char *port, int protocols, int timeout_ms,
                     struct str *why)
{
    struct addrinfo *res;
    if (resolve(host ? host : "localhost", port, protocols, 0, &res, why) < 0)
        return -1;
    long deadline = deadline_after_ms(timeout_ms);
    struct str where = STR_INIT;
    int fd = fail(why, EAFNOSUPPORT, "connect to %s: no usable address", port);
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        if (!family_allowed(ai->ai_family, protocols))
            continue;
        if (deadline_expired(deadline))
            break;
        addr_text(ai->ai_addr, ai->ai_addrlen, &where);
        fd = connect_addr(ai->ai_addr, ai->ai_addrlen, ai->ai_family, deadline, str_cstr(&where),
                          why);
    }
    str_release(&where);
    freeaddrinfo(res);
    return fd;
}

int net_connect_unix(const char *path, int timeout_ms, struct str *why)
{
    struct sockaddr_un sun;
    if (unix_addr(path, &sun, why) < 0)
        return -1;
    return connect_addr((struct sockaddr *)&sun, sizeof(sun), AF_UNIX,
                        deadline_after_ms(timeout_ms), path, why);
}

int net_connect_endpoint(const struct net_endpoint *ep, int protocols, int timeout_ms,
                         struct str *why)
{
    if (ep->kind == NET_EP_UNIX)
        return net_connect_unix(ep->path, timeout_ms, why);
    return net_connect_inet(ep->host, ep->port, protocols, timeout_ms, why);
}

/* ---- FIFOs ------------------------------------------------------------------------------- */

int net_fifo_open_read(const char *path, mode_t mode, struct str *why)
{
    if (mkfifo(path, mode) < 0 && errno != EEXIST)
        return fail(why, errno, "create fifo %s", path);
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return fail(why, errno, "open fifo %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
        close(fd);
        return fail(why, 0, "open fifo %s: not a fifo", path);
    }
    return fd;
}
