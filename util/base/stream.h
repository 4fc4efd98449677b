/* stream: buffered bidirectional byte streams over a file descriptor, with per-call timeouts
 * and an overall deadline. Every protocol (SMTP server and client, IPC, milter) reads and
 * writes through this interface. The byte transport is pluggable so TLS can be slid under an
 * open stream (e.g. after STARTTLS).
 *
 * Buffers are bounded (STREAM_BUFSIZE each way); input never grows memory. Reading from the
 * fd first flushes pending output, so a request/response peer never deadlocks, while input that
 * is already buffered (SMTP pipelining) is consumed without flushing. */
#ifndef KESTREL_BASE_STREAM_H
#define KESTREL_BASE_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "base/clock.h"
#include "base/str.h"

#define STREAM_BUFSIZE 8192

/* Results of stream_getline() (and of stream_getc()/stream_read_exact() for the negatives). */
enum {
    STREAM_LINE = 1,     /* a complete line ending in '\n' was appended */
    STREAM_PARTIAL = 2,  /* `limit` bytes appended without '\n'; the rest stays buffered */
    STREAM_EOF = -1,     /* end of input; the line may hold a final unterminated fragment */
    STREAM_ERROR = -2,   /* I/O error (stream_errno() tells which) */
    STREAM_TIMEOUT = -3, /* the per-call timeout or the overall deadline passed */
};

/* Sticky status bits reported by stream_status(). */
enum {
    STREAM_ST_EOF = 1,
    STREAM_ST_ERROR = 2,
    STREAM_ST_TIMEOUT = 4,
};

/* A byte transport. read/write return the number of bytes moved (>0), 0 for end of input
 * (read only), or -1 with errno set; errno ETIMEDOUT means the deadline passed. deadline_ms is
 * absolute CLOCK_MONOTONIC milliseconds, or -1 for none. */
struct stream_transport {
    ssize_t (*read)(void *ctx, void *buf, size_t len, long deadline_ms);
    ssize_t (*write)(void *ctx, const void *buf, size_t len, long deadline_ms);
};

struct stream;

struct stream *stream_fdopen(int fd);
/* Flushes pending output (errors ignored; call stream_flush() first to see them), closes the
 * fd and frees the stream. NULL is accepted. */
void stream_close(struct stream *s);
/* Frees the stream without flushing or closing; returns the fd. */
int stream_release(struct stream *s);
int stream_fd(const struct stream *s);

/* ctx is passed to the transport's functions; NULL transport restores the fd transport. */
void stream_set_transport(struct stream *s, const struct stream_transport *t, void *ctx);
/* The default transport: poll(2) on the fd, honoring the deadline. ctx is a pointer to int fd. */
extern const struct stream_transport stream_fd_transport;

/* Time allowed to each read/write call (seconds; <= 0 disables). */
void stream_set_timeout(struct stream *s, int seconds);
/* Absolute overall deadline (now_ms() clock; -1 disables). The earlier limit wins. */
void stream_set_deadline(struct stream *s, long deadline_ms);

/* Reading. */
int stream_getline(struct stream *s, struct str *line, size_t limit);
/* Returns >= 1 bytes, 0 at end of input, or -1 on error/timeout (see stream_status()). */
ssize_t stream_read(struct stream *s, void *buf, size_t len);
/* Returns 0 when all len bytes were read, else STREAM_EOF/STREAM_ERROR/STREAM_TIMEOUT. */
int stream_read_exact(struct stream *s, void *buf, size_t len);
/* Returns a byte 0..255, or STREAM_EOF/STREAM_ERROR/STREAM_TIMEOUT. */
int stream_getc(struct stream *s);
/* Bytes read from the transport but not yet consumed. */
size_t stream_pending(const struct stream *s);
/* Throw away buffered input (e.g. plaintext pipelined after STARTTLS). */
void stream_discard_input(struct stream *s);

/* Writing (buffered; errors are sticky and reported by stream_flush()/stream_status()). */
void stream_write(struct stream *s, const void *data, size_t len);
void stream_puts(struct stream *s, const char *text);
void stream_printf(struct stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes buffered for output but not yet written. */
size_t stream_unflushed(const struct stream *s);
/* Returns 0 when everything buffered was written, -1 on error or timeout. */
int stream_flush(struct stream *s);

/* Sticky STREAM_ST_* bits; 0 when all is well. */
int stream_status(const struct stream *s);
/* errno of the first error (ETIMEDOUT for a timeout), 0 when none. */
int stream_errno(const struct stream *s);
/* Clear EOF/error/timeout state (e.g. to keep reading a terminal after ^D). */
void stream_clear_status(struct stream *s);

#endif
