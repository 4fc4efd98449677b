/* tls_client: the SMTP client's TLS context (smtp_tls_* / lmtp_tls_* parameters) and
 * handshake: per-connection level (mandatory protocols and ciphers from encrypt up), SNI,
 * session reuse through the session cache, and the verify/secure/fingerprint checks of the
 * server certificate. */
#include "mail/tls_int.h"

#include "base/argv.h"
#include "base/log.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tls_client_ctx {
    SSL_CTX *ssl_ctx;
    struct tls_client_params p; /* copies of the list-valued settings */
    int loglevel;
    struct tls_cache *cache;
};

/* ---- session cache ----------------------------------------------------------------------- */

static int cache_new_cb(SSL *ssl, SSL_SESSION *sess)
{
    struct tls_client_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    struct tls_session *s = SSL_get_ex_data(ssl, tls_session_index());
    unsigned char *der = NULL;
    int dlen = i2d_SSL_SESSION(sess, &der);
    if (s && s->cache_key && dlen > 0)
        tls_cache_put(ctx->cache, s->cache_key, der, (size_t)dlen, 0);
    OPENSSL_free(der);
    return 0;
}

static void cache_reuse(struct tls_client_ctx *ctx, struct tls_session *s)
{
    struct str der = STR_INIT;
    if (tls_cache_get(ctx->cache, s->cache_key, &der) == 0) {
        const unsigned char *p = (const unsigned char *)der.data;
        SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, (long)der.len);
        if (sess) {
            SSL_set_session(s->ssl, sess);
            SSL_SESSION_free(sess);
        }
        ERR_clear_error();
    }
    str_release(&der);
}

/* ---- context ----------------------------------------------------------------------------- */

static struct tls_client_ctx *init_failed(struct tls_client_ctx *ctx, struct str *err)
{
    msg_warn("%s: disabling TLS support", str_cstr(err));
    tls_print_errors();
    tls_client_free(ctx);
    return NULL;
}

static void copy_params(struct tls_client_params *d, const struct tls_client_params *p)
{
    tls_client_params_defaults(d);
    d->level = p->level;
    d->c.loglevel = p->c.loglevel;
    tls_param_set(&d->c.fingerprint_digest, p->c.fingerprint_digest);
    tls_param_set(&d->verify_cert_match, p->verify_cert_match);
    tls_param_set(&d->secure_cert_match, p->secure_cert_match);
    tls_param_set(&d->fingerprint_match, p->fingerprint_match);
    tls_param_set(&d->c.protocols, p->c.protocols);
    tls_param_set(&d->c.mandatory_protocols, p->c.mandatory_protocols);
    tls_param_set(&d->c.ciphers, p->c.ciphers);
    tls_param_set(&d->c.mandatory_ciphers, p->c.mandatory_ciphers);
    tls_param_set(&d->c.exclude_ciphers, p->c.exclude_ciphers);
    tls_param_set(&d->c.mandatory_exclude_ciphers, p->c.mandatory_exclude_ciphers);
    for (int g = 0; g < TLS_GRADE_COUNT; g++) {
        free((char *)d->c.lists.list[g]);
        d->c.lists.list[g] = xstrdup(p->c.lists.list[g] ? p->c.lists.list[g] : "");
    }
}

struct tls_client_ctx *tls_client_init(const struct tls_client_params *p, struct str *err)
{
    struct tls_client_ctx *ctx = xcalloc(1, sizeof(*ctx));
    copy_params(&ctx->p, p);
    ctx->loglevel = p->c.loglevel;
    if (tls_digest_check(ctx->p.c.fingerprint_digest, err) < 0)
        return init_failed(ctx, err);
    ctx->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (ctx->ssl_ctx == NULL) {
        str_set(err, "cannot allocate client SSL_CTX");
        return init_failed(ctx, err);
    }
    SSL_CTX_set_app_data(ctx->ssl_ctx, ctx);
    /* Both settings are checked now; a connection applies the mandatory ones if needed. */
    if (tls_ctx_setup(ctx->ssl_ctx, &p->c, 1, err) < 0 ||
        tls_ctx_setup(ctx->ssl_ctx, &p->c, 0, err) < 0)
        return init_failed(ctx, err);
    if (tls_ctx_load_certs(ctx->ssl_ctx, &p->c, err) < 0 ||
        tls_ctx_load_CA(ctx->ssl_ctx, &p->c, err) < 0)
        return init_failed(ctx, err);
    SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER, tls_verify_callback);
    ctx->cache =
        tls_cache_open(p->c.cache_database, p->c.cache_timeout, "smtp_tls_session_cache_database");
    if (ctx->cache) {
        SSL_CTX_set_session_cache_mode(ctx->ssl_ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx->ssl_ctx, cache_new_cb);
    }
    ERR_clear_error();
    return ctx;
}

void tls_client_free(struct tls_client_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    tls_cache_close(ctx->cache);
    tls_client_params_free(&ctx->p);
    free(ctx);
}

/* ---- names ------------------------------------------------------------------------------- */

static int is_address(const char *name)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1 ||
           *name == '[';
}

const char *tls_client_sni(const char *servername, const char *host, const char *nexthop)
{
    const char *name = NULL;
    if (servername == NULL || *servername == 0)
        return NULL;
    if (strcasecmp(servername, "hostname") == 0)
        name = host;
    else if (strcasecmp(servername, "nexthop") == 0)
        name = nexthop;
    else
        name = servername;
    return name && *name && !is_address(name) ? name : NULL;
}

/* Does the certificate match one of the strategies (hostname, nexthop, dot-nexthop) or
 * literal names (".domain" matches any sub-domain) in list? */
static int match_names(X509 *cert, const char *list, const struct tls_client_props *props)
{
    struct argv *a = argv_split(list ? list : "", " \t\r\n,:");
    struct str name = STR_INIT;
    int matched = 0;
    for (size_t i = 0; i < a->n && !matched; i++) {
        const char *m = a->v[i];
        if (strcasecmp(m, "hostname") == 0)
            str_set(&name, props->host ? props->host : "");
        else if (strcasecmp(m, "nexthop") == 0)
            str_set(&name, props->nexthop ? props->nexthop : "");
        else if (strcasecmp(m, "dot-nexthop") == 0)
            str_setf(&name, ".%s", props->nexthop ? props->nexthop : "");
        else
            str_set(&name, m);
        if (name.len == 0 || strcmp(name.data, ".") == 0)
            continue;
        matched = X509_check_host(cert, name.data, name.len, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                                  NULL) == 1;
    }
    ERR_clear_error();
    str_release(&name);
    argv_free(a);
    return matched;
}

static int match_fingerprints(const struct tls_info *i, const char *list)
{
    struct argv *a = argv_split(list ? list : "", " \t\r\n,|");
    int matched = 0;
    for (size_t n = 0; n < a->n && !matched; n++)
        matched = strcasecmp(a->v[n], i->peer_fingerprint) == 0 ||
                  strcasecmp(a->v[n], i->peer_pkey_fingerprint) == 0;
    argv_free(a);
    return matched;
}

/* ---- handshake --------------------------------------------------------------------------- */

static int check_peer(struct tls_client_ctx *ctx, struct tls_session *s,
                      const struct tls_client_props *props)
{
    struct tls_info *i = &s->info;
    X509 *cert = SSL_get0_peer_certificate(s->ssl);
    if (cert == NULL)
        return 0;
    if (props->level == TLS_LEV_FINGERPRINT)
        i->peer_matched =
            match_fingerprints(i, props->matches ? props->matches : ctx->p.fingerprint_match);
    else if (TLS_MUST_MATCH(props->level) && i->peer_trusted)
        i->peer_matched = match_names(cert,
                                      props->matches                   ? props->matches
                                      : props->level == TLS_LEV_SECURE ? ctx->p.secure_cert_match
                                                                       : ctx->p.verify_cert_match,
                                      props);
    return i->peer_matched;
}

/* The level's verdict: 0, or -1 with err set. */
static int apply_policy(const struct tls_session *s, int level, struct str *err)
{
    const struct tls_info *i = &s->info;
    if (level == TLS_LEV_FINGERPRINT && !i->peer_matched) {
        str_set(err, "Server certificate not verified");
        return -1;
    }
    if (TLS_MUST_TRUST(level) && !i->peer_trusted) {
        str_set(err, "Server certificate not trusted");
        return -1;
    }
    if (TLS_MUST_MATCH(level) && !i->peer_matched) {
        str_set(err, "Server certificate not verified");
        return -1;
    }
    return 0;
}

static void log_result(struct tls_client_ctx *ctx, const struct tls_session *s, int level)
{
    const struct tls_info *i = &s->info;
    if (ctx->loglevel >= 2 && i->reused)
        msg_info("%s: Reusing old session", s->namaddr);
    if (ctx->loglevel >= 2)
        tls_log_peer_cert(s);
    if (i->peer_cert && !i->peer_trusted &&
        (ctx->loglevel >= 2 || (ctx->loglevel >= 1 && TLS_MUST_TRUST(level))))
        tls_log_verify_error(s);
    if (ctx->loglevel >= 1)
        tls_log_summary(s, !i->peer_cert     ? "Anonymous"
                           : i->peer_matched ? "Verified"
                           : i->peer_trusted ? "Trusted"
                                             : "Untrusted");
}

struct tls_session *tls_client_start(struct tls_client_ctx *ctx, int fd,
                                     const struct tls_client_props *props, long deadline_ms,
                                     struct str *err)
{
    const char *namaddr = props->namaddr ? props->namaddr : "unknown";
    if (ctx->loglevel >= 2)
        msg_info("setting up TLS connection to %s", namaddr);
    struct tls_session *s = tls_session_new(ctx->ssl_ctx, fd, 0, namaddr, ctx->loglevel);
    if (s == NULL) {
        str_set(err, "TLS not available: cannot create SSL structure");
        tls_print_errors();
        return NULL;
    }
    if (TLS_REQUIRED(props->level) && tls_ssl_setup(s->ssl, &ctx->p.c, 1, err) < 0) {
        tls_session_free(s);
        return NULL;
    }
    if (props->sni && *props->sni)
        SSL_set_tlsext_host_name(s->ssl, props->sni);
    if (ctx->cache) {
        struct str key = STR_INIT;
        str_setf(&key, "smtp:%s&%s&%s", props->cache_key ? props->cache_key : namaddr,
                 tls_level_name(props->level), props->sni ? props->sni : "");
        s->cache_key = str_steal(&key);
        cache_reuse(ctx, s);
    }
    if (tls_session_handshake(s, deadline_ms, err) < 0) {
        tls_session_free(s);
        return NULL;
    }
    tls_session_collect(s, ctx->p.c.fingerprint_digest);
    check_peer(ctx, s, props);
    log_result(ctx, s, props->level);
    if (apply_policy(s, props->level, err) < 0) {
        tls_session_shutdown(s, deadline_ms);
        tls_session_free(s);
        return NULL;
    }
    return s;
}
