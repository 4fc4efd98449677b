/* tls_session: one TLS connection over a socket: a BIO that never blocks (MSG_DONTWAIT, no
 * SIGPIPE), the handshake and I/O loops that poll on WANT_READ/WANT_WRITE until a deadline,
 * the stream transport, shutdown, and Postfix-shaped error logging. */
#include "mail/tls_int.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- error reporting --------------------------------------------------------------------- */

void tls_print_errors(void)
{
    const char *file, *data;
    int line, flags;
    unsigned long code;
    char buf[256];
    while ((code = ERR_get_error_all(&file, &line, NULL, &data, &flags)) != 0) {
        ERR_error_string_n(code, buf, sizeof(buf));
        msg_warn("TLS library problem: %s:%s:%d:%s:", buf, file ? file : "", line,
                 (flags & ERR_TXT_STRING) && data ? data : "");
    }
}

/* ---- the socket BIO ---------------------------------------------------------------------- */

static int bio_write(BIO *b, const char *buf, int len)
{
    struct tls_session *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = send(s->fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        else
            s->last_errno = errno;
        return -1;
    }
    return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    struct tls_session *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = recv(s->fd, buf, (size_t)len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(b);
        else
            s->last_errno = errno;
        return -1;
    }
    if (n == 0)
        s->eof = 1;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num, (void)ptr;
    struct tls_session *s = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return s && s->eof;
    default:
        return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *bio_method(void)
{
    static BIO_METHOD *m;
    if (m == NULL) {
        m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kestrel socket");
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
    }
    return m;
}

/* ---- sessions ---------------------------------------------------------------------------- */

int tls_session_index(void)
{
    static int idx = -1;
    if (idx < 0)
        idx = SSL_get_ex_new_index(0, "kestrel session", NULL, NULL, NULL);
    return idx;
}

struct tls_session *tls_session_new(SSL_CTX *ctx, int fd, int server, const char *namaddr,
                                    int loglevel)
{
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL)
        return NULL;
    struct tls_session *s = xcalloc(1, sizeof(*s));
    s->ssl = ssl;
    s->fd = fd;
    s->server = server;
    s->loglevel = loglevel;
    s->namaddr = xstrdup(namaddr ? namaddr : "unknown");
    s->bio = BIO_new(bio_method());
    BIO_set_data(s->bio, s);
    SSL_set_bio(ssl, s->bio, s->bio);
    SSL_set_ex_data(ssl, tls_session_index(), s);
    if (server)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    tls_set_debug_callbacks(ssl, loglevel);
    static const char empty[] = "";
    s->info.protocol = s->info.cipher = s->info.kex_details = empty;
    s->info.peer_CN = s->info.issuer_CN = empty;
    s->info.peer_fingerprint = s->info.peer_pkey_fingerprint = empty;
    return s;
}

void tls_session_free(struct tls_session *s)
{
    if (s == NULL)
        return;
    SSL_free(s->ssl); /* frees the BIO */
    free(s->namaddr);
    free(s->cache_key);
    struct str *strs[] = {&s->protocol,  &s->cipher, &s->kex,      &s->peer_CN,
                          &s->issuer_CN, &s->fpt,    &s->pkey_fpt, &s->verify_issuer};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        str_release(strs[i]);
    free(s);
}

const struct tls_info *tls_session_info(const struct tls_session *s)
{
    return &s->info;
}

/* Waits until the fd is ready for what OpenSSL wants. 0, or -1 with errno ETIMEDOUT. */
static int wait_for(struct tls_session *s, int ssl_error, long deadline)
{
    struct pollfd p = {.fd = s->fd, .events = ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN};
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

/* One OpenSSL operation retried until it completes or fails: returns its result (> 0 on
 * success) and the SSL error in *ssl_error; on timeout *ssl_error is SSL_ERROR_SYSCALL with
 * s->last_errno ETIMEDOUT. */
static int run_op(struct tls_session *s, int (*op)(SSL *, void *, int), void *buf, int len,
                  long deadline, int *ssl_error)
{
    for (;;) {
        ERR_clear_error();
        s->last_errno = 0;
        int r = op(s->ssl, buf, len);
        if (r > 0) {
            *ssl_error = SSL_ERROR_NONE;
            return r;
        }
        int e = SSL_get_error(s->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            *ssl_error = e;
            return r;
        }
        if (wait_for(s, e, deadline) < 0) {
            s->last_errno = errno;
            *ssl_error = SSL_ERROR_SYSCALL;
            return -1;
        }
    }
}

static int op_handshake(SSL *ssl, void *buf, int len)
{
    (void)buf, (void)len;
    return SSL_do_handshake(ssl);
}

static int op_read(SSL *ssl, void *buf, int len)
{
    return SSL_read(ssl, buf, len);
}

static int op_write(SSL *ssl, void *buf, int len)
{
    return SSL_write(ssl, buf, len);
}

static int op_shutdown(SSL *ssl, void *buf, int len)
{
    (void)buf, (void)len;
    int r = SSL_shutdown(ssl);
    return r == 0 ? 1 : r; /* our close_notify went out: enough */
}

/* The reason of the first queued OpenSSL error ("unsupported protocol"), or NULL. */
static const char *first_reason(void)
{
    unsigned long code = ERR_peek_error();
    const char *r = code ? ERR_reason_error_string(code) : NULL;
    return r;
}

int tls_session_handshake(struct tls_session *s, long deadline_ms, struct str *err)
{
    int e;
    int r = run_op(s, op_handshake, NULL, 0, deadline_ms, &e);
    if (r > 0)
        return 0;
    const char *what = s->server ? "SSL_accept error from" : "SSL_connect error to";
    const char *reason = first_reason();
    if (s->eof) { /* OpenSSL 3 calls this an unexpected EOF (and may fail sending an alert) */
        ERR_clear_error();
        str_setf(err, "TLS handshake failed: lost connection");
        msg_info("%s %s: lost connection", what, s->namaddr);
    } else if (reason) {
        str_setf(err, "TLS handshake failed: %s", reason);
        msg_info("%s %s: %d", what, s->namaddr, r);
        tls_print_errors();
    } else if (s->last_errno != 0) {
        str_setf(err, "TLS handshake failed: %s", strerror(s->last_errno));
        msg_info("%s %s: %s", what, s->namaddr, strerror(s->last_errno));
    } else {
        str_setf(err, "TLS handshake failed: lost connection");
        msg_info("%s %s: lost connection", what, s->namaddr);
    }
    ERR_clear_error();
    return -1;
}

/* ---- stream transport -------------------------------------------------------------------- */

static ssize_t transport_io(struct tls_session *s, int (*op)(SSL *, void *, int), void *buf,
                            size_t len, long deadline)
{
    int e;
    int chunk = len > (1 << 30) ? (1 << 30) : (int)len;
    int r = run_op(s, op, buf, chunk, deadline, &e);
    if (r > 0)
        return r;
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && s->last_errno == 0 && s->eof))
        return op == op_read ? 0 : (errno = EPIPE, -1);
    if (e == SSL_ERROR_SYSCALL && s->last_errno != 0) {
        errno = s->last_errno;
        return -1;
    }
    if (s->loglevel >= 1 || ERR_peek_error())
        tls_print_errors();
    errno = EPROTO;
    return -1;
}

static ssize_t transport_read(void *ctx, void *buf, size_t len, long deadline_ms)
{
    return transport_io(ctx, op_read, buf, len, deadline_ms);
}

static ssize_t transport_write(void *ctx, const void *buf, size_t len, long deadline_ms)
{
    return transport_io(ctx, op_write, (void *)buf, len, deadline_ms);
}

const struct stream_transport tls_stream_transport = {transport_read, transport_write};

void tls_stream_attach(struct stream *stream, struct tls_session *s)
{
    stream_set_transport(stream, &tls_stream_transport, s);
}

void tls_session_shutdown(struct tls_session *s, long deadline_ms)
{
    int e;
    if (s == NULL || SSL_in_init(s->ssl))
        return;
    (void)run_op(s, op_shutdown, NULL, 0, deadline_ms, &e);
    ERR_clear_error();
}

/* ---- Received: header texts -------------------------------------------------------------- */

void tls_received_using(const struct tls_session *s, struct str *out)
{
    const struct tls_info *i = &s->info;
    str_appendf(out, "%s with cipher %s (%d/%d bits)", i->protocol, i->cipher, i->cipher_bits,
                i->cipher_alg_bits);
    if (*i->kex_details)
        str_appendf(out, " %s", i->kex_details);
}

void tls_received_ccert(const struct tls_session *s, int asked, struct str *out)
{
    const struct tls_info *i = &s->info;
    if (!asked)
        str_append(out, "No client certificate requested");
    else if (!i->peer_cert)
        str_append(out, "Client did not present a certificate");
    else
        str_appendf(out, "Client CN \"%s\", Issuer \"%s\" (%s)", i->peer_CN, i->issuer_CN,
                    i->peer_trusted ? "verified OK" : "not verified");
}
