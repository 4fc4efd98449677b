/* master_listen: opens the listeners of a service before any child exists — inet sockets on
 * inet_interfaces/inet_protocols, unix and datagram sockets and FIFOs under public/ and
 * private/ — owned by mail_owner when master runs as root. */
#include "master.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "mail/config.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_BACKLOG 100

static int add_inet(struct master_service *s, const char *host, const char *port, int protocols,
                    struct str *err)
{
    int n = net_listen_inet(host, port, protocols, LISTEN_BACKLOG, s->listen_fds + s->nlisten,
                            MASTER_MAX_LISTENERS - (size_t)s->nlisten, err);
    if (n < 0)
        return -1;
    s->nlisten += n;
    return 0;
}

/* inet_interfaces: "all", "loopback-only", or a list of addresses. */
static int open_inet(struct master_service *s, struct str *err)
{
    struct net_endpoint ep;
    memset(&ep, 0, sizeof(ep));
    int protocols = net_parse_protocols(config_get("inet_protocols"), err);
    if (protocols < 0)
        return -1;
    if (net_parse_endpoint(s->name, &ep, err) < 0 || ep.kind != NET_EP_INET) {
        if (ep.kind != NET_EP_INET)
            str_setf(err, "bad inet service name: %s", s->name);
        return -1;
    }
    int rc = 0;
    if (ep.host) {
        rc = add_inet(s, ep.host, ep.port, protocols, err);
    } else {
        struct argv *ifs = argv_split(config_get("inet_interfaces"), ", \t\r\n");
        for (size_t i = 0; i < ifs->n && rc == 0; i++) {
            if (strcmp(ifs->v[i], "all") == 0)
                rc = add_inet(s, NULL, ep.port, protocols, err);
            else if (strcmp(ifs->v[i], "loopback-only") == 0)
                rc = add_inet(s, "localhost", ep.port, protocols, err);
            else
                rc = add_inet(s, ifs->v[i], ep.port, protocols, err);
        }
        argv_free(ifs);
    }
    net_endpoint_free(&ep);
    return rc;
}

static void give_to_mail_owner(const char *path)
{
    if (geteuid() != 0)
        return;
    struct passwd *pw = getpwnam(config_get("mail_owner"));
    if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0)
        msg_warn("chown %s: %s", path, strerror(errno));
}

static int open_local(struct master_service *s, struct str *err)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/%s", s->private_flag ? "private" : "public", s->name);
    s->endpoint = str_steal(&path);
    int fd;
    if (strcmp(s->type, "fifo") == 0)
        fd = net_fifo_open_read(s->endpoint, s->private_flag ? 0600 : 0622, err);
    else if (strcmp(s->type, "unix-dgram") == 0)
        fd = net_bind_unix_dgram(s->endpoint, s->private_flag ? 0600 : 0666, err);
    else
        fd = net_listen_unix(s->endpoint, s->private_flag ? 0600 : 0666, LISTEN_BACKLOG, err);
    if (fd < 0)
        return -1;
    give_to_mail_owner(s->endpoint);
    s->listen_fds[s->nlisten++] = fd;
    return 0;
}

int master_listen_open(struct master_service *s, struct str *err)
{
    if (strcmp(s->type, "inet") == 0)
        return open_inet(s, err);
    if (strcmp(s->type, "unix") == 0 || strcmp(s->type, "fifo") == 0 ||
        strcmp(s->type, "unix-dgram") == 0 || strcmp(s->type, "pass") == 0)
        return open_local(s, err);
    str_setf(err, "unknown service type: %s", s->type);
    return -1;
}

void master_listen_close(struct master_service *s)
{
    for (int i = 0; i < s->nlisten; i++)
        close(s->listen_fds[i]);
    s->nlisten = 0;
}
