/* stream: bounded input/output buffers over a pluggable transport, with timeouts, sticky error
 * state and line reading that treats NUL as data. The default transport polls the fd and uses
 * non-blocking socket calls, so a deadline holds even on a blocking descriptor. */
#include "base/stream.h"

#include "base/mem.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct stream {
    int fd;
    int status;
    int err;
    int timeout_ms; /* per call; -1 none */
    long deadline;  /* absolute; -1 none */
    const struct stream_transport *tp;
    void *tp_ctx;
    size_t rpos, rend; /* unread input is in[rpos..rend) */
    size_t wlen;       /* buffered output */
    unsigned char in[STREAM_BUFSIZE];
    unsigned char out[STREAM_BUFSIZE];
};

/* ---- default fd transport ---------------------------------------------------------------- */

static int fd_wait(int fd, short events, long deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, deadline_poll_ms(deadline));
        if (n > 0)
            return 0;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR)
            return -1;
    }
}

static ssize_t fd_read(void *ctx, void *buf, size_t len, long deadline)
{
    int fd = *(int *)ctx;
    for (;;) {
        if (fd_wait(fd, POLLIN, deadline) < 0)
            return -1;
        ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
        if (n < 0 && errno == ENOTSOCK)
            n = read(fd, buf, len);
        if (n >= 0)
            return n;
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
    }
}

static ssize_t fd_write(void *ctx, const void *buf, size_t len, long deadline)
{
    int fd = *(int *)ctx;
    for (;;) {
        if (fd_wait(fd, POLLOUT, deadline) < 0)
            return -1;
        ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, buf, len);
        if (n > 0)
            return n;
        if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
    }
}

const struct stream_transport stream_fd_transport = {fd_read, fd_write};

/* ---- setup ------------------------------------------------------------------------------- */

struct stream *stream_fdopen(int fd)
{
    struct stream *s = xcalloc(1, sizeof(*s));
    s->fd = fd;
    s->timeout_ms = -1;
    s->deadline = -1;
    stream_set_transport(s, NULL, NULL);
    return s;
}

int stream_release(struct stream *s)
{
    int fd = s->fd;
    free(s);
    return fd;
}

void stream_close(struct stream *s)
{
    if (s == NULL)
        return;
    if (s->wlen > 0)
        (void)stream_flush(s);
    close(stream_release(s));
}

int stream_fd(const struct stream *s)
{
    return s->fd;
}

void stream_set_transport(struct stream *s, const struct stream_transport *t, void *ctx)
{
    s->tp = t ? t : &stream_fd_transport;
    s->tp_ctx = t ? ctx : &s->fd;
}

void stream_set_timeout(struct stream *s, int seconds)
{
    s->timeout_ms = seconds > 0 ? seconds * 1000 : -1;
}

void stream_set_deadline(struct stream *s, long deadline_ms)
{
    s->deadline = deadline_ms < 0 ? -1 : deadline_ms;
}

int stream_status(const struct stream *s)
{
    return s->status;
}

int stream_errno(const struct stream *s)
{
    return s->err;
}

void stream_clear_status(struct stream *s)
{
    s->status = 0;
    s->err = 0;
}

/* ---- transport calls --------------------------------------------------------------------- */

static long call_deadline(const struct stream *s)
{
    long per_call = s->timeout_ms < 0 ? -1 : now_ms() + s->timeout_ms;
    return deadline_min(per_call, s->deadline);
}

static int fail_code(struct stream *s, int err)
{
    if (s->err == 0)
        s->err = err;
    if (err == ETIMEDOUT) {
        s->status |= STREAM_ST_TIMEOUT;
        return STREAM_TIMEOUT;
    }
    s->status |= STREAM_ST_ERROR;
    return STREAM_ERROR;
}

/* The code a read must return given the sticky state, or 0 when reading may proceed. */
static int read_blocked(const struct stream *s)
{
    if (s->status & STREAM_ST_ERROR)
        return STREAM_ERROR;
    if (s->status & STREAM_ST_TIMEOUT)
        return STREAM_TIMEOUT;
    if (s->status & STREAM_ST_EOF)
        return STREAM_EOF;
    return 0;
}

/* Refill the empty input buffer. Returns 0 or a STREAM_EOF/ERROR/TIMEOUT code. */
static int fill(struct stream *s)
{
    int code = read_blocked(s);
    if (code)
        return code;
    if (s->wlen > 0 && stream_flush(s) < 0)
        return read_blocked(s);
    ssize_t n = s->tp->read(s->tp_ctx, s->in, sizeof(s->in), call_deadline(s));
    if (n < 0)
        return fail_code(s, errno);
    if (n == 0) {
        s->status |= STREAM_ST_EOF;
        return STREAM_EOF;
    }
    s->rpos = 0;
    s->rend = (size_t)n;
    return 0;
}

/* ---- reading ----------------------------------------------------------------------------- */

int stream_getline(struct stream *s, struct str *line, size_t limit)
{
    size_t taken = 0;
    while (taken < limit) {
        if (s->rpos == s->rend) {
            int code = fill(s);
            if (code)
                return code;
        }
        size_t avail = s->rend - s->rpos;
        size_t want = limit - taken < avail ? limit - taken : avail;
        const unsigned char *start = s->in + s->rpos;
        const unsigned char *nl = memchr(start, '\n', want);
        size_t n = nl ? (size_t)(nl - start) + 1 : want;
        str_appendn(line, start, n);
        s->rpos += n;
        taken += n;
        if (nl)
            return STREAM_LINE;
    }
    return STREAM_PARTIAL;
}

ssize_t stream_read(struct stream *s, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (s->rpos == s->rend) {
        int code = fill(s);
        if (code)
            return code == STREAM_EOF ? 0 : -1;
    }
    size_t avail = s->rend - s->rpos;
    size_t n = len < avail ? len : avail;
    memcpy(buf, s->in + s->rpos, n);
    s->rpos += n;
    return (ssize_t)n;
}

int stream_read_exact(struct stream *s, void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = stream_read(s, p, len);
        if (n <= 0)
            return n == 0 ? STREAM_EOF : read_blocked(s);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int stream_getc(struct stream *s)
{
    if (s->rpos == s->rend) {
        int code = fill(s);
        if (code)
            return code;
    }
    return s->in[s->rpos++];
}

size_t stream_pending(const struct stream *s)
{
    return s->rend - s->rpos;
}

void stream_discard_input(struct stream *s)
{
    s->rpos = s->rend = 0;
}

/* ---- writing ----------------------------------------------------------------------------- */

static int write_all(struct stream *s, const unsigned char *p, size_t len)
{
    long deadline = call_deadline(s);
    while (len > 0) {
        ssize_t n = s->tp->write(s->tp_ctx, p, len, deadline);
        if (n <= 0) {
            fail_code(s, n < 0 ? errno : EIO);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int stream_flush(struct stream *s)
{
    if (s->status & (STREAM_ST_ERROR | STREAM_ST_TIMEOUT))
        return -1;
    size_t len = s->wlen;
    s->wlen = 0;
    return len ? write_all(s, s->out, len) : 0;
}

void stream_write(struct stream *s, const void *data, size_t len)
{
    if (s->status & (STREAM_ST_ERROR | STREAM_ST_TIMEOUT))
        return;
    if (s->wlen + len <= sizeof(s->out)) {
        memcpy(s->out + s->wlen, data, len);
        s->wlen += len;
        return;
    }
    if (stream_flush(s) < 0)
        return;
    if (len >= sizeof(s->out)) {
        (void)write_all(s, data, len);
        return;
    }
    memcpy(s->out, data, len);
    s->wlen = len;
}

void stream_puts(struct stream *s, const char *text)
{
    stream_write(s, text, strlen(text));
}

void stream_printf(struct stream *s, const char *fmt, ...)
{
    struct str buf = STR_INIT;
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&buf, fmt, ap);
    va_end(ap);
    stream_write(s, buf.data, buf.len);
    str_release(&buf);
}

size_t stream_unflushed(const struct stream *s)
{
    return s->wlen;
}
