/* tls_int: what the TLS modules share internally (not for callers outside util/mail/tls_*):
 * the session object, the handshake engine, context building and the session cache. */
#ifndef KESTREL_MAIL_TLS_INT_H
#define KESTREL_MAIL_TLS_INT_H

#include "mail/tls.h"

#include <openssl/ssl.h>

struct tls_session {
    SSL *ssl;
    BIO *bio;
    int fd;
    int server;
    int loglevel;
    int last_errno; /* errno of the last failed socket call in the BIO */
    int eof;        /* the peer closed the connection */
    char *namaddr;
    char *cache_key; /* client: the session cache key, or NULL */
    struct tls_info info;
    /* storage behind info's strings */
    struct str protocol, cipher, kex, peer_CN, issuer_CN, fpt, pkey_fpt;
    /* first chain verification error seen by the verify callback */
    int verify_error, verify_depth;
    struct str verify_issuer;
};

/* Log every queued OpenSSL error as "warning: TLS library problem: ...", and clear them. */
void tls_print_errors(void);

/* A session on fd (the fd is not made non-blocking; the BIO uses MSG_DONTWAIT). */
struct tls_session *tls_session_new(SSL_CTX *ctx, int fd, int server, const char *namaddr,
                                    int loglevel);
/* Runs the handshake until done or the deadline. 0, or -1 after logging "SSL_accept error
 * from"/"SSL_connect error to" and setting err. */
int tls_session_handshake(struct tls_session *s, long deadline_ms, struct str *err);
/* Fills s->info after the handshake (digest: the fingerprint digest name). */
void tls_session_collect(struct tls_session *s, const char *digest);
/* "<Label> TLS connection established from|to <namaddr>: ..." */
void tls_log_summary(const struct tls_session *s, const char *label);
/* Log the first chain verification error ("server|client certificate verification failed
 * for ..."). */
void tls_log_verify_error(const struct tls_session *s);
/* Loglevel >= 2: "<namaddr>: Trusted|Untrusted: subject_CN=..., issuer=..., fingerprint=...". */
void tls_log_peer_cert(const struct tls_session *s);
/* The verify callback that records the first error and lets the handshake go on. */
int tls_verify_callback(int ok, X509_STORE_CTX *store);
/* Loglevel >= 3/4: handshake states and packet summaries. */
void tls_set_debug_callbacks(SSL *ssl, int loglevel);
int tls_session_index(void); /* SSL ex_data index holding the tls_session */

/* Context building shared by server and client: protocols and ciphers (mandatory ones when
 * `mandatory`), certificates and keys, CAfile/CApath. 0, or -1 with err set and the reasons
 * logged. */
int tls_ctx_setup(SSL_CTX *ctx, const struct tls_common_params *c, int mandatory, struct str *err);
/* The same for one connection (a client's per-destination level). */
int tls_ssl_setup(SSL *ssl, const struct tls_common_params *c, int mandatory, struct str *err);
int tls_ctx_load_certs(SSL_CTX *ctx, const struct tls_common_params *c, struct str *err);
int tls_ctx_load_CA(SSL_CTX *ctx, const struct tls_common_params *c, struct str *err);
/* Whether any certificate is configured. */
int tls_certs_configured(const struct tls_common_params *c);

/* The session cache: a table opened per operation with an exclusive lock, so several
 * processes share it. NULL when spec is empty or the table cannot be opened (warned). */
struct tls_cache;
struct tls_cache *tls_cache_open(const char *spec, long timeout, const char *param_name);
void tls_cache_close(struct tls_cache *cache);
/* Stores data with an expiry of now + lifetime (0: the cache timeout). */
void tls_cache_put(struct tls_cache *cache, const char *key, const void *data, size_t len,
                   long lifetime);
/* 0 with data set when found and not expired; -1 otherwise. */
int tls_cache_get(struct tls_cache *cache, const char *key, struct str *data);
void tls_cache_remove(struct tls_cache *cache, const char *key);
long tls_cache_timeout(const struct tls_cache *cache);

#endif
