/* anvil_client: requests to the anvil service over its unix socket with the attribute
 * protocol (one request list, one reply list), reconnecting once when the server went away. */
#include "mail/anvil_client.h"

#include <stdlib.h>
#include <string.h>

#include "base/attr.h"
#include "base/attr_io.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "base/str.h"
#include "base/stream.h"

struct anvil_client {
    char *path;
    int timeout;
    struct stream *s;
};

struct anvil_client *anvil_client_new(const char *path, int timeout_s)
{
    struct anvil_client *a = xmalloc(sizeof *a);
    a->path = xstrdup(path);
    a->timeout = timeout_s > 0 ? timeout_s : 10;
    a->s = NULL;
    return a;
}

static void anvil_disconnect_stream(struct anvil_client *a)
{
    if (a->s)
        stream_close(a->s);
    a->s = NULL;
}

void anvil_client_free(struct anvil_client *a)
{
    if (!a)
        return;
    anvil_disconnect_stream(a);
    free(a->path);
    free(a);
}

static int anvil_open(struct anvil_client *a, struct str *err)
{
    if (a->s)
        return 0;
    int fd = net_connect_unix(a->path, a->timeout * 1000, err);
    if (fd < 0)
        return -1;
    a->s = stream_fdopen(fd);
    stream_set_timeout(a->s, a->timeout);
    /* No greeting: anvil is a SERVER_MULTI service, served only when a request arrives
     * (docs/anvil.md). */
    (void)err;
    return 0;
}

static int anvil_exchange(struct anvil_client *a, const char *request, const char *service,
                          const char *addr, struct anvil_counts *out)
{
    struct attr_list *req = attr_list_new(), *rep = attr_list_new();
    struct str err = STR_INIT, ident = STR_INIT;
    int rc = -1;
    str_setf(&ident, "%s:%s", service, addr);
    attr_add(req, "request", request);
    attr_add(req, "ident", ident.data);
    for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
        if (anvil_open(a, &err) < 0)
            break;
        if (attr_send(a->s, req) < 0 || attr_recv(a->s, rep, &attr_default_limits, &err) < 0) {
            anvil_disconnect_stream(a);
            continue;
        }
        long status = -1;
        if (attr_get_long(rep, "status", 0, 1, &status) < 0 || status != 0) {
            str_set(&err, "bad reply");
            break;
        }
        rc = 0;
    }
    if (rc < 0) {
        msg_warn("anvil %s: %s request for %s failed: %s", a->path, request, ident.data,
                 err.len ? err.data : "lost connection");
    } else if (out) {
        memset(out, 0, sizeof *out);
        attr_get_long(rep, "count", 0, 1L << 40, &out->count);
        attr_get_long(rep, "rate", 0, 1L << 40, &out->rate);
        attr_get_long(rep, "message", 0, 1L << 40, &out->messages);
        attr_get_long(rep, "recipient", 0, 1L << 40, &out->recipients);
        attr_get_long(rep, "newtls", 0, 1L << 40, &out->newtls);
        attr_get_long(rep, "auth", 0, 1L << 40, &out->auths);
    }
    attr_list_free(req);
    attr_list_free(rep);
    str_release(&err);
    str_release(&ident);
    return rc;
}

int anvil_report_connect(struct anvil_client *a, const char *service, const char *addr,
                         struct anvil_counts *out)
{
    return anvil_exchange(a, "connect", service, addr, out);
}

int anvil_report_disconnect(struct anvil_client *a, const char *service, const char *addr)
{
    return anvil_exchange(a, "disconnect", service, addr, NULL);
}

int anvil_report_message(struct anvil_client *a, const char *service, const char *addr,
                         struct anvil_counts *out)
{
    return anvil_exchange(a, "message", service, addr, out);
}

int anvil_report_recipient(struct anvil_client *a, const char *service, const char *addr,
                           struct anvil_counts *out)
{
    return anvil_exchange(a, "recipient", service, addr, out);
}

int anvil_report_newtls(struct anvil_client *a, const char *service, const char *addr,
                        struct anvil_counts *out)
{
    return anvil_exchange(a, "newtls", service, addr, out);
}

int anvil_report_auth(struct anvil_client *a, const char *service, const char *addr,
                      struct anvil_counts *out)
{
    return anvil_exchange(a, "auth", service, addr, out);
}

int anvil_lookup(struct anvil_client *a, const char *service, const char *addr,
                 struct anvil_counts *out)
{
    return anvil_exchange(a, "lookup", service, addr, out);
}
