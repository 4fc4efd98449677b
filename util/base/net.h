/* net: socket helpers. Listening and connecting over inet (IPv4/IPv6) and unix-domain sockets,
 * endpoint strings as written in main.cf/master.cf ("host:port", "[ipv6]:port", "port",
 * "unix:/path", "inet:host:port"), address formatting, fd flags and FIFOs.
 * Failures return -1 and put a human-readable reason in `why` (may be NULL), e.g.
 * "connect to 127.0.0.1:25: Connection refused". All returned fds are close-on-exec. */
#ifndef KESTREL_BASE_NET_H
#define KESTREL_BASE_NET_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "base/str.h"

/* Address families allowed (inet_protocols). */
enum {
    NET_IPV4 = 1,
    NET_IPV6 = 2,
    NET_ALL = NET_IPV4 | NET_IPV6,
};

/* Parse an inet_protocols value: "all", "ipv4", "ipv6", "ipv4, ipv6" (comma/space list).
 * Returns a NET_* mask, or -1 with the reason in why. */
int net_parse_protocols(const char *value, struct str *why);

enum { NET_EP_INET = 1, NET_EP_UNIX = 2 };

struct net_endpoint {
    int kind;      /* NET_EP_INET or NET_EP_UNIX */
    char *host;    /* inet: NULL for "any"/unspecified; without brackets */
    char *port;    /* inet: service name or number */
    char *path;    /* unix */
    int bracketed; /* inet: the host was written as [host] */
};

/* Parse an endpoint. Bare "port" gives host NULL; "/path" is taken as unix. Returns 0 or -1. */
int net_parse_endpoint(const char *text, struct net_endpoint *ep, struct str *why);
void net_endpoint_free(struct net_endpoint *ep);

/* Listen on host (NULL, "" or "*" for every address) and port for the families in protocols.
 * Stores up to max_fds sockets in fds (one per address, IPv6 sockets are V6ONLY) and returns
 * how many, or -1. Sockets are non-blocking with SO_REUSEADDR. */
int net_listen_inet(const char *host, const char *port, int protocols, int backlog, int *fds,
                    size_t max_fds, struct str *why);
/* Listen on a unix stream socket (an existing socket file is replaced), chmod to mode.
 * The socket is non-blocking. */
int net_listen_unix(const char *path, mode_t mode, int backlog, struct str *why);
/* Bind a unix datagram socket (an existing socket file is replaced), chmod to mode. */
int net_bind_unix_dgram(const char *path, mode_t mode, struct str *why);

/* Connect with a timeout (milliseconds; < 0 means none). The result is a blocking socket.
 * Every resolved address allowed by protocols is tried in turn; the last failure is reported. */
int net_connect_inet(const char *host, const char *port, int protocols, int timeout_ms,
                     struct str *why);
int net_connect_unix(const char *path, int timeout_ms, struct str *why);
int net_connect_endpoint(const struct net_endpoint *ep, int protocols, int timeout_ms,
                         struct str *why);

/* Format an address: numeric addr (IPv4-mapped IPv6 as IPv4; unix: the path) and port
 * ("" for unix). Either output may be NULL. Returns 0 or -1 for an unknown family. */
int net_format_addr(const struct sockaddr *sa, socklen_t len, struct str *addr, struct str *port);
/* The same for the local/peer address of a connected socket. */
int net_peer_addr(int fd, struct str *addr, struct str *port);
int net_local_addr(int fd, struct str *addr, struct str *port);

int net_set_nonblock(int fd, int on);
int net_set_cloexec(int fd, int on);

/* Create the FIFO (mode) if it is missing and open it for reading without blocking. It is opened
 * read-write so the reader does not see end-of-file each time a writer goes away. Refuses a
 * path that is not a FIFO. */
int net_fifo_open_read(const char *path, mode_t mode, struct str *why);

#endif
