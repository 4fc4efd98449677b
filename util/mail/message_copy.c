/* message_copy: what final delivery (local, virtual) adds to and checks in a message: the
 * Delivered-To headers already present (loop detection), the prepended From_/Return-Path/
 * X-Original-To/Delivered-To lines, and copying the queue file content to a file or into memory
 * with mbox ">From " quoting, through a bounded writer that tests can make fail. */
#include "mail/message_copy.h"

#include "base/mem.h"
#include "mail/queue_record.h"

#include <stdio.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

ssize_t (*message_write_hook)(int fd, const void *buf, size_t len);

/* ---- Delivered-To scan ---------------------------------------------------------------------- */

/* Records the value of a header line when it is Delivered-To. */
static void note_delivered(struct mail_message *m, const struct str *line)
{
    static const char name[] = "delivered-to:";
    if (line->len < sizeof(name) - 1 || strncasecmp(line->data, name, sizeof(name) - 1) != 0)
        return;
    const char *v = line->data + sizeof(name) - 1;
    while (*v == ' ' || *v == '\t')
        v++;
    struct str val = STR_INIT;
    str_append(&val, v);
    str_trim_right(&val);
    str_lower(&val);
    if (m->delivered->n < MESSAGE_MAX_DELIVERED)
        argv_add(m->delivered, str_cstr(&val));
    str_release(&val);
}

int message_scan_delivered(struct mail_message *m, struct str *err)
{
    if (m->delivered == NULL)
        m->delivered = argv_new();
    struct rec_reader *r = xmalloc(sizeof(*r));
    struct str piece = STR_INIT, line = STR_INIT;
    int rc = 0, type;
    queue_content_open(r, m->fd, m->env);
    while ((type = queue_content_get(r, &piece, MESSAGE_MAX_LINE)) > 0) {
        if (line.len < 4096)
            str_appendn(&line, piece.data, piece.len);
        str_clear(&piece);
        if (type == REC_PART)
            continue;
        if (line.len == 0)
            break; /* end of the headers */
        note_delivered(m, &line);
        str_clear(&line);
    }
    if (type == REC_ERROR) {
        str_set(err, str_cstr(&r->error));
        rc = -1;
    }
    rec_reader_release(r);
    free(r);
    str_release(&piece);
    str_release(&line);
    return rc;
}

int message_has_delivered(const struct mail_message *m, const char *addr)
{
    for (size_t i = 0; m->delivered && i < m->delivered->n; i++)
        if (strcasecmp(m->delivered->v[i], addr) == 0)
            return 1;
    return 0;
}

/* ---- prepended lines --------------------------------------------------------------------------
 */

void message_prepend(struct str *out, const struct mail_message *m, const char *delivered,
                     const char *orig, int flags)
{
    if (flags & COPY_FROM_LINE) {
        char date[64];
        struct tm tm;
        localtime_r(&m->now, &tm);
        strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
        str_appendf(out, "From %s  %s\n", *m->sender ? m->sender : "MAILER-DAEMON", date);
    }
    if (flags & COPY_RETURN_PATH)
        str_appendf(out, "Return-Path: <%s>\n", m->sender);
    if ((flags & COPY_ORIG_RCPT) && orig && *orig)
        str_appendf(out, "X-Original-To: %s\n", orig);
    if ((flags & COPY_DELIVERED) && delivered && *delivered)
        str_appendf(out, "Delivered-To: %s\n", delivered);
}

/* ---- bounded output ----------------------------------------------------------------------------
 */

static int out_flush(struct message_out *o)
{
    size_t done = 0;
    while (done < o->buf.len) {
        ssize_t n = message_write_hook
                        ? message_write_hook(o->fd, o->buf.data + done, o->buf.len - done)
                        : write(o->fd, o->buf.data + done, o->buf.len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        done += (size_t)n;
    }
    str_clear(&o->buf);
    return 0;
}

static int out_write(struct message_out *o, const void *data, size_t len)
{
    if (o->limit > 0 && o->pos + (off_t)len > o->limit) {
        errno = EFBIG;
        return -1;
    }
    str_appendn(&o->buf, data, len);
    o->pos += (off_t)len;
    return o->buf.len >= 65536 ? out_flush(o) : 0;
}

/* ---- copying ------------------------------------------------------------------------------------
 */

/* Walks the content, calling emit() for each byte range; quoting at line starts. */
typedef int (*emit_fn)(void *ctx, const void *data, size_t len);

static int walk_content(struct mail_message *m, int flags, emit_fn emit, void *ctx, struct str *err)
{
    struct rec_reader *r = xmalloc(sizeof(*r));
    struct str data = STR_INIT;
    int type, at_start = 1, rc = 0;
    queue_content_open(r, m->fd, m->env);
    while ((type = queue_content_get(r, &data, MESSAGE_MAX_LINE)) > 0) {
        if (at_start && (flags & COPY_QUOTE) && data.len >= 5 &&
            memcmp(data.data, "From ", 5) == 0 && emit(ctx, ">", 1) < 0)
            goto write_error;
        if (emit(ctx, data.data, data.len) < 0)
            goto write_error;
        at_start = (type != REC_PART);
        if (at_start && emit(ctx, "\n", 1) < 0)
            goto write_error;
        str_clear(&data);
    }
    if (type == REC_ERROR) {
        str_setf(err, "error reading queue file: %s", str_cstr(&r->error));
        errno = EIO;
        rc = -1;
    }
    goto done;
write_error:
    str_setf(err, "error writing message: %s", strerror(errno));
    rc = -1;
done:
    rec_reader_release(r);
    free(r);
    str_release(&data);
    return rc;
}

static int emit_out(void *ctx, const void *data, size_t len)
{
    return out_write(ctx, data, len);
}

int message_copy(struct mail_message *m, struct message_out *out, const char *delivered,
                 const char *orig, int flags, struct str *err)
{
    struct str head = STR_INIT;
    message_prepend(&head, m, delivered, orig, flags);
    int rc = out_write(out, head.data ? head.data : "", head.len);
    str_release(&head);
    if (rc < 0) {
        str_setf(err, "error writing message: %s", strerror(errno));
        return -1;
    }
    if (walk_content(m, flags, emit_out, out, err) < 0)
        return -1;
    if ((flags & COPY_BLANK) && out_write(out, "\n", 1) < 0) {
        str_setf(err, "error writing message: %s", strerror(errno));
        return -1;
    }
    if (out_flush(out) < 0) {
        str_setf(err, "error writing message: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int emit_str(void *ctx, const void *data, size_t len)
{
    str_appendn(ctx, data, len);
    return 0;
}

int message_copy_to_str(struct mail_message *m, struct str *out, const char *delivered,
                        const char *orig, int flags, struct str *err)
{
    message_prepend(out, m, delivered, orig, flags);
    if (walk_content(m, flags, emit_str, out, err) < 0)
        return -1;
    if (flags & COPY_BLANK)
        str_appendc(out, '\n');
    return 0;
}
