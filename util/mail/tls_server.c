/* tls_server: the SMTP server's TLS context (smtpd_tls_* parameters) and handshake: server
 * certificates, optional or required client certificates checked against the CAs, session
 * resumption through the shared session cache, and session tickets whose keys live in that
 * cache so that every smtpd process can decrypt them. */
#include "mail/tls_int.h"

#include "base/codec.h"
#include "base/log.h"
#include "base/mem.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICKET_NAME_LEN 16
#define TICKET_KEY_LEN 32

struct ticket_key {
    unsigned char name[TICKET_NAME_LEN];
    unsigned char aes[TICKET_KEY_LEN];
    unsigned char hmac[TICKET_KEY_LEN];
};

struct tls_server_ctx {
    SSL_CTX *ssl_ctx;
    int loglevel;
    int level;
    int ask_ccert, req_ccert;
    char *digest;
    struct tls_cache *cache;
    struct ticket_key key; /* the key new tickets are encrypted with */
    long long key_expiry;  /* 0: none yet */
};

/* ---- the session cache ------------------------------------------------------------------- */

static void session_key(const unsigned char *id, unsigned len, struct str *key)
{
    str_set(key, "smtpd:");
    hex_encode(key, id, len);
}

static int cache_new_cb(SSL *ssl, SSL_SESSION *sess)
{
    struct tls_server_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    unsigned len;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);
    unsigned char *der = NULL;
    int dlen = i2d_SSL_SESSION(sess, &der);
    if (dlen > 0 && len > 0) {
        struct str key = STR_INIT;
        session_key(id, len, &key);
        tls_cache_put(ctx->cache, str_cstr(&key), der, (size_t)dlen, 0);
        str_release(&key);
    }
    OPENSSL_free(der);
    return 0;
}

static SSL_SESSION *cache_get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    struct tls_server_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    struct str key = STR_INIT, der = STR_INIT;
    SSL_SESSION *sess = NULL;
    *copy = 0;
    session_key(id, (unsigned)len, &key);
    if (tls_cache_get(ctx->cache, str_cstr(&key), &der) == 0) {
        const unsigned char *p = (const unsigned char *)der.data;
        sess = d2i_SSL_SESSION(NULL, &p, (long)der.len);
    }
    str_release(&key);
    str_release(&der);
    return sess;
}

static void cache_remove_cb(SSL_CTX *ssl_ctx, SSL_SESSION *sess)
{
    struct tls_server_ctx *ctx = SSL_CTX_get_app_data(ssl_ctx);
    unsigned len;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);
    struct str key = STR_INIT;
    session_key(id, len, &key);
    tls_cache_remove(ctx->cache, str_cstr(&key));
    str_release(&key);
}

/* ---- session tickets --------------------------------------------------------------------- */

static void ticket_db_key(const unsigned char *name, struct str *key)
{
    str_set(key, "ticket-key:");
    hex_encode(key, name, TICKET_NAME_LEN);
}

/* The key for new tickets: the cache's current one, or a new one stored for the others. */
static int ticket_current(struct tls_server_ctx *ctx)
{
    long long now = time(NULL);
    if (ctx->key_expiry > now)
        return 0;
    long timeout = tls_cache_timeout(ctx->cache);
    struct str data = STR_INIT, key = STR_INIT;
    if (tls_cache_get(ctx->cache, "ticket-key-current", &data) == 0 &&
        data.len == sizeof(ctx->key)) {
        memcpy(&ctx->key, data.data, sizeof(ctx->key));
        ctx->key_expiry = now + timeout / 4 + 1; /* look again later for a newer key */
    } else if (RAND_bytes((unsigned char *)&ctx->key, sizeof(ctx->key)) == 1) {
        ctx->key_expiry = now + timeout;
        ticket_db_key(ctx->key.name, &key);
        tls_cache_put(ctx->cache, str_cstr(&key), &ctx->key, sizeof(ctx->key), 2 * timeout);
        tls_cache_put(ctx->cache, "ticket-key-current", &ctx->key, sizeof(ctx->key), timeout);
    } else {
        ctx->key_expiry = 0;
    }
    str_release(&data);
    str_release(&key);
    return ctx->key_expiry ? 0 : -1;
}

static int ticket_find(struct tls_server_ctx *ctx, const unsigned char *name,
                       struct ticket_key *out)
{
    if (ctx->key_expiry && memcmp(name, ctx->key.name, TICKET_NAME_LEN) == 0) {
        *out = ctx->key;
        return 0;
    }
    struct str data = STR_INIT, key = STR_INIT;
    ticket_db_key(name, &key);
    int rc =
        tls_cache_get(ctx->cache, str_cstr(&key), &data) == 0 && data.len == sizeof(*out) ? 0 : -1;
    if (rc == 0)
        memcpy(out, data.data, sizeof(*out));
    str_release(&data);
    str_release(&key);
    return rc;
}

static int ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cctx,
                     EVP_MAC_CTX *hctx, int enc)
{
    struct tls_server_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    struct ticket_key k;
    if (enc) {
        if (ticket_current(ctx) < 0 || RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1)
            return -1;
        k = ctx->key;
        memcpy(name, k.name, TICKET_NAME_LEN);
    } else if (ticket_find(ctx, name, &k) < 0) {
        return 0; /* unknown key: full handshake */
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof(k.hmac)),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_end()};
    int ok = enc ? EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv)
                 : EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv);
    OPENSSL_cleanse(&k, sizeof(k));
    if (!ok || !EVP_MAC_CTX_set_params(hctx, params))
        return -1;
    return 1;
}

/* ---- context ----------------------------------------------------------------------------- */

static void setup_cache(struct tls_server_ctx *ctx, const struct tls_server_params *p)
{
    SSL_CTX *sc = ctx->ssl_ctx;
    static const unsigned char sid_ctx[] = "kestrel-smtpd";
    SSL_CTX_set_session_id_context(sc, sid_ctx, sizeof(sid_ctx) - 1);
    if (p->c.cache_timeout > 0)
        SSL_CTX_set_timeout(sc, p->c.cache_timeout);
    ctx->cache =
        tls_cache_open(p->c.cache_database, p->c.cache_timeout, "smtpd_tls_session_cache_database");
    if (ctx->cache) {
        SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL |
                                               SSL_SESS_CACHE_NO_AUTO_CLEAR);
        SSL_CTX_sess_set_new_cb(sc, cache_new_cb);
        SSL_CTX_sess_set_get_cb(sc, cache_get_cb);
        SSL_CTX_sess_set_remove_cb(sc, cache_remove_cb);
    }
    if (!p->tickets || p->c.cache_timeout <= 0)
        SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    else if (ctx->cache)
        SSL_CTX_set_tlsext_ticket_key_evp_cb(sc, ticket_cb);
}

/* Logs the reason (and OpenSSL's) the way Postfix does and returns NULL. */
static struct tls_server_ctx *init_failed(struct tls_server_ctx *ctx, struct str *err)
{
    msg_warn("%s: disabling TLS support", str_cstr(err));
    tls_print_errors();
    tls_server_free(ctx);
    return NULL;
}

struct tls_server_ctx *tls_server_init(const struct tls_server_params *p, struct str *err)
{
    struct tls_server_ctx *ctx = xcalloc(1, sizeof(*ctx));
    ctx->loglevel = p->c.loglevel;
    ctx->level = p->level;
    ctx->ask_ccert = p->ask_ccert || p->req_ccert;
    ctx->req_ccert = p->req_ccert;
    ctx->digest = xstrdup(p->c.fingerprint_digest ? p->c.fingerprint_digest : "sha256");
    if (tls_digest_check(ctx->digest, err) < 0)
        return init_failed(ctx, err);
    ctx->ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (ctx->ssl_ctx == NULL) {
        str_set(err, "cannot allocate server SSL_CTX");
        return init_failed(ctx, err);
    }
    SSL_CTX_set_app_data(ctx->ssl_ctx, ctx);
    if (tls_ctx_setup(ctx->ssl_ctx, &p->c, p->level == TLS_LEV_ENCRYPT, err) < 0)
        return init_failed(ctx, err);
    if (!tls_certs_configured(&p->c)) {
        str_set(err, "No server certs available. TLS won't be enabled");
        msg_warn("%s", str_cstr(err));
        tls_server_free(ctx);
        return NULL;
    }
    if (tls_ctx_load_certs(ctx->ssl_ctx, &p->c, err) < 0 ||
        tls_ctx_load_CA(ctx->ssl_ctx, &p->c, err) < 0)
        return init_failed(ctx, err);
    if (ctx->ask_ccert) {
        SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE,
                           tls_verify_callback);
        if (p->c.CAfile && *p->c.CAfile) {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(p->c.CAfile);
            if (names)
                SSL_CTX_set_client_CA_list(ctx->ssl_ctx, names);
        }
    }
    setup_cache(ctx, p);
    ERR_clear_error();
    return ctx;
}

void tls_server_free(struct tls_server_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    tls_cache_close(ctx->cache);
    OPENSSL_cleanse(&ctx->key, sizeof(ctx->key));
    free(ctx->digest);
    free(ctx);
}

/* ---- handshake --------------------------------------------------------------------------- */

struct tls_session *tls_server_start(struct tls_server_ctx *ctx, int fd, const char *namaddr,
                                     long deadline_ms, struct str *err)
{
    if (ctx->loglevel >= 2)
        msg_info("setting up TLS connection from %s", namaddr);
    struct tls_session *s = tls_session_new(ctx->ssl_ctx, fd, 1, namaddr, ctx->loglevel);
    if (s == NULL) {
        str_set(err, "TLS not available: cannot create SSL structure");
        tls_print_errors();
        return NULL;
    }
    if (tls_session_handshake(s, deadline_ms, err) < 0) {
        tls_session_free(s);
        return NULL;
    }
    tls_session_collect(s, ctx->digest);
    const struct tls_info *i = &s->info;
    if (ctx->loglevel >= 2 && i->reused)
        msg_info("%s: Reusing old session", s->namaddr);
    if (ctx->loglevel >= 2)
        tls_log_peer_cert(s);
    if (i->peer_cert && !i->peer_trusted &&
        (ctx->loglevel >= 2 || (ctx->loglevel >= 1 && ctx->req_ccert)))
        tls_log_verify_error(s);
    if (ctx->loglevel >= 1)
        tls_log_summary(s, !i->peer_cert ? "Anonymous" : i->peer_trusted ? "Trusted" : "Untrusted");
    return s;
}
