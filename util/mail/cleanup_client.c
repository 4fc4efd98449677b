/* cleanup_client: the submitting side of the cleanup protocol (docs/architecture.md): connect,
 * check the protocol name, send the flags, receive the queue ID, stream records, and wait for
 * the verdict. Every read and write is bounded by the caller's timeout. */
#include "mail/cleanup_client.h"

#include "base/attr_io.h"
#include "base/fdpass.h"
#include "base/mem.h"
#include "base/net.h"
#include "base/stream.h"
#include "mail/queue_record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cleanup_client {
    struct stream *stream;
    struct str buf; /* encoded records not yet written */
    int failed;     /* sticky write error */
};

#define CLIENT_FLUSH_AT 65536

static const char *const open_reply_names[] = {"queue_id", "status", "reason", NULL};
static const char *const final_reply_names[] = {"status", "reason", NULL};
static const char *const final_required[] = {"status", NULL};

static void set_why(struct str *why, const char *what, const char *detail)
{
    if (why)
        str_setf(why, "4.3.0 %s%s%s", what, detail && *detail ? ": " : "", detail ? detail : "");
}

/* Reads a reply list and checks it against the allowed names. */
static int get_reply(struct cleanup_client *c, struct attr_list *a, const char *const *allowed,
                     const char *const *required, struct str *why)
{
    struct str err = STR_INIT;
    int rc = attr_recv(c->stream, a, &attr_default_limits, &err);
    if (rc == 0)
        rc = attr_check(a, allowed, required, &err);
    if (rc < 0)
        set_why(why, "cleanup service", str_cstr(&err));
    str_release(&err);
    return rc;
}

/* status=/reason= of a reply into why; returns the status bits (CLEANUP_STAT_BAD if garbled). */
static int reply_status(const struct attr_list *a, struct str *why)
{
    long status;
    if (attr_get_long(a, "status", 0, 0x7fffffff, &status) < 0) {
        set_why(why, "cleanup service", "malformed status");
        return CLEANUP_STAT_BAD;
    }
    const char *reason = attr_get(a, "reason");
    if (why && status != 0) {
        if (reason && *reason && strpbrk(reason, "\r\n") == NULL)
            str_set(why, reason);
        else {
            const struct cleanup_stat_detail *d = cleanup_stat_detail((int)status);
            str_setf(why, "%s %s", d->dsn, d->text);
        }
    }
    return (int)status;
}

struct cleanup_client *cleanup_open(const char *endpoint, int flags, int timeout,
                                    struct str *queue_id, struct str *why)
{
    return cleanup_open_milters(endpoint, flags & ~CLEANUP_FLAG_SMTPD_MILTERS, timeout, NULL, 0,
                                queue_id, why);
}

struct cleanup_client *cleanup_open_milters(const char *endpoint, int flags, int timeout,
                                            const int *fds, size_t n, struct str *queue_id,
                                            struct str *why)
{
    if (fds)
        flags |= CLEANUP_FLAG_SMTPD_MILTERS;
    struct str err = STR_INIT;
    int fd = net_connect_unix(endpoint, timeout > 0 ? timeout * 1000 : -1, &err);
    if (fd < 0) {
        set_why(why, "cannot connect to the cleanup service", str_cstr(&err));
        str_release(&err);
        return NULL;
    }
    struct cleanup_client *c = xcalloc(1, sizeof(*c));
    c->stream = stream_fdopen(fd);
    stream_set_timeout(c->stream, timeout);
    struct attr_list *a = attr_list_new();
    int ok = 0;
    if (attr_expect_protocol(c->stream, "cleanup", &err) < 0) {
        set_why(why, "cleanup service", str_cstr(&err));
    } else {
        attr_add_long(a, "flags", flags);
        if (attr_send(c->stream, a) < 0)
            set_why(why, "cleanup service", "lost connection");
        else if (get_reply(c, a, open_reply_names, NULL, why) == 0) {
            const char *id = attr_get(a, "queue_id");
            if (id && *id && strpbrk(id, "/\r\n") == NULL) {
                if (queue_id)
                    str_set(queue_id, id);
                ok = 1;
            } else if (attr_get(a, "status"))
                reply_status(a, why);
            else
                set_why(why, "cleanup service", "no queue id");
        }
    }
    attr_list_free(a);
    if (ok && (flags & CLEANUP_FLAG_SMTPD_MILTERS) &&
        fdpass_send(stream_fd(c->stream), fds, n, timeout > 0 ? timeout * 1000 : -1, &err) < 0) {
        set_why(why, "cleanup service: milter hand-over", str_cstr(&err));
        ok = 0;
    }
    str_release(&err);
    if (!ok) {
        cleanup_abort(c);
        return NULL;
    }
    return c;
}

static void client_flush(struct cleanup_client *c)
{
    if (!c->failed && c->buf.len) {
        stream_write(c->stream, c->buf.data, c->buf.len);
        if (stream_flush(c->stream) < 0)
            c->failed = 1;
    }
    str_clear(&c->buf);
}

void cleanup_put(struct cleanup_client *c, int type, const void *data, size_t len)
{
    if (c->failed)
        return;
    rec_put(&c->buf, type, data, len);
    if (c->buf.len >= CLIENT_FLUSH_AT)
        client_flush(c);
}

void cleanup_puts(struct cleanup_client *c, int type, const char *text)
{
    cleanup_put(c, type, text, strlen(text));
}

int cleanup_finish(struct cleanup_client *c, struct str *why)
{
    cleanup_put(c, REC_END, "", 0);
    client_flush(c);
    int status = CLEANUP_STAT_WRITE;
    struct attr_list *a = attr_list_new();
    if (get_reply(c, a, final_reply_names, final_required, why) == 0)
        status = reply_status(a, why);
    else if (c->failed)
        set_why(why, "cleanup service", "lost connection");
    attr_list_free(a);
    if (status == 0 && why)
        str_clear(why);
    cleanup_abort(c);
    return status;
}

void cleanup_abort(struct cleanup_client *c)
{
    if (c == NULL)
        return;
    int fd = stream_release(c->stream);
    if (fd >= 0)
        close(fd);
    str_release(&c->buf);
    free(c);
}

void cleanup_put_filter(struct cleanup_client *c, const char *filter)
{
    if (filter == NULL || *filter == 0)
        return;
    struct str a = STR_INIT;
    str_setf(&a, "filter=%s", filter);
    cleanup_put(c, REC_ATTR, a.data, a.len);
    str_release(&a);
}
