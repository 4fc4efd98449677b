/* maildrop: checking and writing maildrop files (sendmail -> postdrop -> pickup), and sending
 * wake-up triggers to FIFO or unix-socket trigger services. */
#include "mail/maildrop.h"

#include "base/net.h"
#include "mail/queue_id.h"
#include "mail/queue_record.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- checking ------------------------------------------------------------------------------ */

static const char *const allowed_attrs[] = {"fullname", "rewrite_context", "dsn_envid",
                                            "dsn_ret",  "submit_flags",    NULL};

void maildrop_check_init(struct maildrop_check *c, size_t content_limit, long long size_limit)
{
    memset(c, 0, sizeof(*c));
    c->content_limit = content_limit ? content_limit : 2048;
    c->size_limit = size_limit;
}

size_t maildrop_record_limit(const struct maildrop_check *c)
{
    return c->content_limit > MAILDROP_ENVELOPE_LIMIT ? c->content_limit : MAILDROP_ENVELOPE_LIMIT;
}

int maildrop_text_ok(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] == 0 || text[i] == '\r' || text[i] == '\n')
            return 0;
    return 1;
}

/* A decimal number 0..max with no sign, spaces or leading junk. */
static int small_number(const struct str *data, long max, long *out)
{
    if (data->len == 0 || data->len > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < data->len; i++) {
        if (data->data[i] < '0' || data->data[i] > '9')
            return -1;
        v = v * 10 + (data->data[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static const char *check_attr(struct maildrop_check *c, const struct str *data)
{
    const char *eq = memchr(data->data, '=', data->len);
    if (eq == NULL || eq == data->data)
        return "malformed attribute record";
    size_t nlen = (size_t)(eq - data->data);
    int known = 0;
    for (int i = 0; allowed_attrs[i] && !known; i++)
        known = strlen(allowed_attrs[i]) == nlen && memcmp(allowed_attrs[i], data->data, nlen) == 0;
    if (!known)
        return "attribute not allowed";
    if (++c->attrs > MAILDROP_ATTR_LIMIT)
        return "too many attribute records";
    if (nlen == 12 && memcmp(data->data, "submit_flags", 12) == 0) {
        struct str v = {(char *)eq + 1, data->len - nlen - 1, 0};
        long flags;
        if (small_number(&v, 1 << 30, &flags) < 0 || (flags & ~(long)MAILDROP_FLAGS_ALLOWED))
            return "bad submit_flags attribute";
        c->submit_flags = (int)flags;
    }
    return NULL;
}

static const char *check_envelope(struct maildrop_check *c, int type, const struct str *data)
{
    long notify;
    switch (type) {
    case REC_ATTR:
        return check_attr(c, data);
    case REC_DSN_ORCPT:
        if (c->pending_orcpt++)
            return "misplaced DSN original recipient record";
        return NULL;
    case REC_NOTIFY:
        if (c->pending_notify++)
            return "misplaced notify record";
        if (small_number(data, DSN_NOTIFY_ALL, &notify) < 0 || notify == 0 ||
            ((notify & DSN_NOTIFY_NEVER) && notify != DSN_NOTIFY_NEVER))
            return "bad notify record";
        return NULL;
    case REC_RCPT:
        if (data->len == 0)
            return "empty recipient record";
        if (++c->rcpts > MAILDROP_RCPT_LIMIT)
            return "too many recipients";
        c->pending_orcpt = c->pending_notify = 0;
        return NULL;
    case REC_CONTENT:
        if (c->pending_orcpt || c->pending_notify)
            return "DSN record without recipient";
        c->seg = MD_SEG_CONTENT;
        return NULL;
    }
    return "unexpected record type";
}

static const char *check_content(struct maildrop_check *c, int type, const struct str *data)
{
    if (type == REC_XTRA) {
        c->seg = MD_SEG_FINAL;
        return NULL;
    }
    if (type != REC_LINE && type != REC_PART)
        return "unexpected record type";
    if (data->len > c->content_limit)
        return "content record too long";
    c->content_bytes += (long long)data->len + (type == REC_LINE);
    if (c->size_limit > 0 && c->content_bytes > c->size_limit)
        return "message too large";
    return NULL;
}

static const char *check_one(struct maildrop_check *c, int type, const struct str *data)
{
    int envelope = c->seg == MD_SEG_START || c->seg == MD_SEG_ENVELOPE;
    if (envelope && data->len > MAILDROP_ENVELOPE_LIMIT)
        return "envelope record too long";
    if (envelope && !maildrop_text_ok(data->data, data->len))
        return "control character in envelope record";
    if ((type == REC_CONTENT || type == REC_XTRA || type == REC_END) && data->len)
        return "marker record with data";
    switch (c->seg) {
    case MD_SEG_START:
        if (type != REC_SENDER)
            return "first record is not the sender";
        c->seg = MD_SEG_ENVELOPE;
        return NULL;
    case MD_SEG_ENVELOPE:
        return check_envelope(c, type, data);
    case MD_SEG_CONTENT:
        return check_content(c, type, data);
    case MD_SEG_FINAL:
        if (type != REC_END)
            return "unexpected record type";
        c->seg = MD_SEG_DONE;
        return NULL;
    case MD_SEG_DONE:
        return "data after end record";
    }
    return "bad state";
}

int maildrop_check_record(struct maildrop_check *c, int type, const struct str *data,
                          struct str *why)
{
    const char *reason = check_one(c, type, data);
    if (reason == NULL)
        return 0;
    if (strcmp(reason, "unexpected record type") == 0 && type > 32 && type < 127)
        str_setf(why, "%s '%c'", reason, type);
    else
        str_set(why, reason);
    return -1;
}

int maildrop_check_complete(const struct maildrop_check *c)
{
    return c->seg == MD_SEG_DONE;
}

/* ---- writing ------------------------------------------------------------------------------- */

static int name_file(struct maildrop_writer *w, const char *dir, const char *tmp, struct str *err)
{
    struct stat st;
    if (fstat(w->fd, &st) < 0) {
        str_setf(err, "fstat %s: %s", tmp, strerror(errno));
        return -1;
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        queue_id_make(&w->id, st.st_ino, (long)tv.tv_sec, (long)tv.tv_usec, 0);
        str_setf(&w->path, "%s/%s", dir, str_cstr(&w->id));
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, str_cstr(&w->path), RENAME_NOREPLACE) == 0)
            return 0;
        if (errno != EEXIST) {
            str_setf(err, "rename %s to %s: %s", tmp, str_cstr(&w->path), strerror(errno));
            return -1;
        }
        usleep(1);
    }
    str_setf(err, "cannot find a unique name for %s", tmp);
    return -1;
}

int maildrop_create(struct maildrop_writer *w, const char *queue_dir, struct str *err)
{
    memset(w, 0, sizeof(*w));
    struct str dir = STR_INIT, tmp = STR_INIT;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    str_setf(&dir, "%s/%s", queue_dir, MAILDROP_QUEUE);
    str_setf(&tmp, "%s/.tmp.%ld.%ld", str_cstr(&dir), (long)getpid(), (long)tv.tv_usec);
    w->fd = open(str_cstr(&tmp), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                 MAILDROP_MODE_WRITING);
    int rc = -1;
    if (w->fd < 0) {
        str_setf(err, "create file %s: %s", str_cstr(&tmp), strerror(errno));
    } else if ((rc = name_file(w, str_cstr(&dir), str_cstr(&tmp), err)) < 0) {
        unlink(str_cstr(&tmp));
        close(w->fd);
        w->fd = -1;
        str_release(&w->path);
    }
    str_release(&dir);
    str_release(&tmp);
    return rc;
}

static void flush_buf(struct maildrop_writer *w)
{
    size_t off = 0;
    while (off < w->buf.len && !w->failed) {
        ssize_t n = write(w->fd, w->buf.data + off, w->buf.len - off);
        if (n < 0 && errno != EINTR)
            w->failed = errno;
        else if (n > 0)
            off += (size_t)n;
    }
    str_clear(&w->buf);
}

void maildrop_put(struct maildrop_writer *w, int type, const void *data, size_t len)
{
    rec_put(&w->buf, type, data, len);
    if (w->buf.len >= 65536)
        flush_buf(w);
}

void maildrop_release(struct maildrop_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    str_release(&w->buf);
    str_release(&w->path);
    str_release(&w->id);
}

void maildrop_abort(struct maildrop_writer *w)
{
    if (w->path.len)
        unlink(str_cstr(&w->path));
    maildrop_release(w);
}

int maildrop_finish(struct maildrop_writer *w, struct str *err)
{
    flush_buf(w);
    /* As for queue files: the ready mode and the data become durable in one fsync; pickup
     * validates every file, so an incomplete one is never passed on. */
    if (!w->failed && fchmod(w->fd, MAILDROP_MODE_READY) < 0)
        w->failed = errno;
    if (!w->failed && fsync(w->fd) < 0)
        w->failed = errno;
    if (w->failed) {
        str_setf(err, "write %s: %s", str_cstr(&w->path), strerror(w->failed));
        maildrop_abort(w);
        return -1;
    }
    close(w->fd);
    w->fd = -1;
    str_release(&w->buf);
    return 0;
}

/* ---- triggers ------------------------------------------------------------------------------ */

static int write_all(int fd, const char *req, size_t len, int timeout, struct str *why,
                     const char *endpoint)
{
    size_t off = 0;
    while (off < len) {
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, timeout * 1000) <= 0) {
            str_setf(why, "write %s: timeout", endpoint);
            return -1;
        }
        ssize_t n = write(fd, req + off, len - off);
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            str_setf(why, "write %s: %s", endpoint, strerror(errno));
            return -1;
        }
        if (n > 0)
            off += (size_t)n;
    }
    return 0;
}

int mail_trigger(const char *endpoint, const char *req, size_t len, int timeout, struct str *why)
{
    struct stat st;
    if (stat(endpoint, &st) < 0) {
        str_setf(why, "%s: %s", endpoint, strerror(errno));
        return -1;
    }
    int fd;
    if (S_ISFIFO(st.st_mode)) {
        /* Non-blocking open fails with ENXIO when no reader has the FIFO open. */
        fd = open(endpoint, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            str_setf(why, "open %s: %s", endpoint, strerror(errno));
            return -1;
        }
    } else if ((fd = net_connect_unix(endpoint, timeout * 1000, why)) < 0) {
        return -1;
    }
    int rc = write_all(fd, req, len, timeout > 0 ? timeout : 1, why, endpoint);
    close(fd);
    return rc;
}
