/* queue_record: encoding of queue file records and a bounded, validating sequential reader.
 * The reader trusts nothing in the file: lengths are checked against a limit, the framing
 * newline is verified, and truncation is an error, not an end of file. */
#include "mail/queue_record.h"

#include "base/stream.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

void rec_put(struct str *out, int type, const void *data, size_t len)
{
    str_appendf(out, "%c%zu:", type, len);
    str_appendn(out, data, len);
    str_appendc(out, '\n');
}

void rec_puts(struct str *out, int type, const char *text)
{
    rec_put(out, type, text, strlen(text));
}

void rec_putf(struct str *out, int type, const char *fmt, ...)
{
    struct str tmp = STR_INIT;
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&tmp, fmt, ap);
    va_end(ap);
    rec_put(out, type, tmp.data, tmp.len);
    str_release(&tmp);
}

void rec_reader_init(struct rec_reader *r, int fd, off_t offset)
{
    r->fd = fd;
    r->offset = offset;
    r->start = r->end = 0;
    r->error = (struct str)STR_INIT;
}

void rec_reader_release(struct rec_reader *r)
{
    str_release(&r->error);
}

/* Makes sure the buffer holds unread bytes: 0, -1 at end of file, -2 on a read error. */
static int fill(struct rec_reader *r)
{
    if (r->start < r->end)
        return 0;
    ssize_t n;
    do
        n = read(r->fd, r->buf, sizeof(r->buf));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -2;
    if (n == 0)
        return -1;
    r->start = 0;
    r->end = (size_t)n;
    return 0;
}

/* Returns the next byte, -1 at end of file, -2 on a read error. */
static int next_byte(struct rec_reader *r)
{
    int rc = fill(r);
    if (rc < 0)
        return rc;
    r->offset++;
    return (unsigned char)r->buf[r->start++];
}

static int fail(struct rec_reader *r, const char *what, off_t at)
{
    str_setf(&r->error, "%s at offset %lld", what, (long long)at);
    return REC_ERROR;
}

static int valid_type(int c)
{
    return c > 0 && strchr("VCTFAODNRrWMLPXE", c) != NULL;
}

int rec_get(struct rec_reader *r, struct str *data, size_t limit, off_t *rec_offset)
{
    off_t at = r->offset;
    if (rec_offset)
        *rec_offset = at;
    int type = next_byte(r);
    if (type == -1)
        return REC_EOF;
    if (type == -2)
        return fail(r, "read error", at);
    if (!valid_type(type))
        return fail(r, "unknown record type", at);
    size_t len = 0;
    int c, digits = 0;
    while ((c = next_byte(r)) >= '0' && c <= '9') {
        if (++digits > 12 || (len = len * 10 + (size_t)(c - '0')) > limit)
            return fail(r, "record too long", at);
    }
    if (c != ':' || digits == 0)
        return fail(r, c < 0 ? "truncated record" : "malformed record length", at);
    str_clear(data);
    str_reserve(data, len);
    while (len > 0) {
        if (fill(r) < 0)
            return fail(r, "truncated record", at);
        size_t avail = r->end - r->start;
        size_t take = avail < len ? avail : len;
        str_appendn(data, r->buf + r->start, take);
        r->start += take;
        r->offset += (off_t)take;
        len -= take;
    }
    if (next_byte(r) != '\n')
        return fail(r, "missing record terminator", at);
    return type;
}

/* Stream reading: the same framing as rec_get, from a buffered socket stream. */
static int stream_fail(struct str *err, const char *what, int rc)
{
    if (rc == STREAM_TIMEOUT)
        str_set(err, "timeout");
    else if (rc == STREAM_EOF || rc == STREAM_ERROR)
        str_set(err, "lost connection");
    else
        str_set(err, what);
    return REC_ERROR;
}

int rec_get_stream(struct stream *s, struct str *data, size_t limit, struct str *err)
{
    int type = stream_getc(s);
    if (type == STREAM_EOF)
        return REC_EOF;
    if (type < 0)
        return stream_fail(err, "", type);
    if (!valid_type(type))
        return stream_fail(err, "unknown record type", 0);
    size_t len = 0;
    int c, digits = 0;
    while ((c = stream_getc(s)) >= '0' && c <= '9') {
        if (++digits > 12 || (len = len * 10 + (size_t)(c - '0')) > limit)
            return stream_fail(err, "record too long", 0);
    }
    if (c < 0)
        return stream_fail(err, "", c);
    if (c != ':' || digits == 0)
        return stream_fail(err, "malformed record length", 0);
    str_clear(data);
    str_reserve(data, len + 1);
    if (len > 0) {
        int rc = stream_read_exact(s, data->data, len);
        if (rc != 0)
            return stream_fail(err, "", rc);
        data->len = len;
        data->data[len] = 0;
    }
    c = stream_getc(s);
    if (c < 0)
        return stream_fail(err, "", c);
    if (c != '\n')
        return stream_fail(err, "missing record terminator", 0);
    return type;
}
