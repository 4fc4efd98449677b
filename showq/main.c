/* showq: the queue listing service (Postfix's showq(8)), behind public/showq. It runs as
 * mail_owner, so postqueue -p / -j (and mailq, sendmail -bp) work for users who cannot read
 * the queue. Per connection (SERVER_SINGLE): send protocol=showq, read one request
 * format=text|json (strictly: nothing else, bounded in size and time), answer status=0, write
 * the listing exactly as postqueue prints it (util/mail/mailq.h) and close. */
#include "base/attr_io.h"
#include "base/clock.h"
#include "base/log.h"
#include "mail/config.h"
#include "mail/mailq.h"
#include "mail/queue_scan.h"
#include "service/server.h"

#include <string.h>
#include <sys/socket.h>

/* The request is one short line; a client gets this long to send it (ipc_timeout if shorter). */
#define SHOWQ_REQUEST_TIMEOUT 10
static const struct attr_limits request_limits = {64, 2};

/* The peer's uid for log lines, -1 when unknown. */
static long peer_uid(struct stream *client)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(stream_fd(client), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return -1;
    return (long)cred.uid;
}

/* Reads and checks the request: exactly one attribute, format=text or format=json. */
static int read_request(struct stream *client, enum mailq_format *format, struct str *err)
{
    static const char *const names[] = {"format", NULL};
    struct attr_list *a = attr_list_new();
    int rc = attr_recv(client, a, &request_limits, err);
    if (rc == 0 && attr_check(a, names, names, err) < 0)
        rc = -1;
    if (rc == 0 && a->names->n != 1) {
        str_set(err, "duplicate attribute: format");
        rc = -1;
    }
    if (rc == 0 && mailq_format_parse(attr_get(a, "format"), format) < 0) {
        str_setf(err, "bad format: %.30s", attr_get(a, "format"));
        rc = -1;
    }
    attr_list_free(a);
    return rc;
}

static int emit_client(void *ctx, const char *data, size_t len)
{
    stream_write(ctx, data, len);
    return stream_status(ctx) ? -1 : 0;
}

static int showq_serve(struct stream *client, const char *service)
{
    (void)service;
    enum mailq_format format = MAILQ_TEXT;
    struct str err = STR_INIT;
    int timeout = (int)config_get_time("ipc_timeout");
    stream_set_timeout(client, timeout);
    stream_set_deadline(client, now_ms() + 1000L * (timeout > 0 && timeout < SHOWQ_REQUEST_TIMEOUT
                                                        ? timeout
                                                        : SHOWQ_REQUEST_TIMEOUT));
    if (attr_send_protocol(client, MAILQ_PROTOCOL) < 0) {
        str_release(&err);
        return SERVER_CLOSE;
    }
    if (read_request(client, &format, &err) < 0) {
        msg_warn("malformed showq request from uid %ld: %s", peer_uid(client), str_cstr(&err));
        str_release(&err);
        return SERVER_CLOSE;
    }
    stream_set_deadline(client, -1); /* the listing is bounded by ipc_timeout per write */
    struct attr_list *ok = attr_list_new();
    attr_add(ok, "status", "0");
    struct queue_naming l;
    queue_scan_layout(&l);
    l.queue_directory = "."; /* the skeleton runs in the queue directory (or its chroot) */
    if (attr_send(client, ok) < 0 || mailq_list(&l, format, emit_client, client) < 0 ||
        stream_flush(client) < 0)
        msg_warn("write to client: %s",
                 stream_errno(client) ? strerror(stream_errno(client)) : "lost connection");
    attr_list_free(ok);
    str_release(&err);
    return SERVER_CLOSE;
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {.shape = SERVER_SINGLE, .serve = showq_serve};
    return server_main(argc, argv, &ops);
}
