/* Unit tests for the TLS contexts and sessions: real handshakes between a server context and a
 * client context over a socketpair (the client runs in a thread), with a test CA, a server
 * certificate for mail.example.test and a client certificate made at run time. Covers
 * anonymous, trusted and verified connections, name matching, client-certificate
 * fingerprints, protocol restriction, resumption through a btree cache (tickets and session
 * ids), the handshake deadline, lost connections, the stream transport and the log lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/stream.h"
#include "mail/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char dir[] = "/tmp/tls_test.XXXXXX";
static char logpath[300];

/* ---- certificates ------------------------------------------------------------------------ */

static EVP_PKEY *make_key(int rsa)
{
    return rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
               : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san, X509 *issuer,
                       EVP_PKEY *issuer_key, int ca, long serial)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e =
        X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (san) {
        e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
    return x;
}

static void write_pem(const char *name, EVP_PKEY *key, X509 *c1, X509 *c2)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (key)
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (c1)
        PEM_write_X509(f, c1);
    if (c2)
        PEM_write_X509(f, c2);
    fclose(f);
}

static char client_fpt[200];

static void make_certs(void)
{
    EVP_PKEY *cak = make_key(0), *sk = make_key(0), *rk = make_key(1), *ck = make_key(0);
    X509 *ca = make_cert(cak, "Test CA", NULL, NULL, NULL, 1, 1);
    X509 *srv = make_cert(sk, "mail.example.test", "DNS:mail.example.test", ca, cak, 0, 2);
    X509 *rsa = make_cert(rk, "mail.example.test", "DNS:mail.example.test", ca, cak, 0, 3);
    X509 *cli = make_cert(ck, "client.example.test", NULL, ca, cak, 0, 4);
    X509 *self = make_cert(sk, "mail.example.test", "DNS:mail.example.test", NULL, NULL, 0, 5);
    write_pem("ca.pem", NULL, ca, NULL);
    write_pem("server.pem", sk, srv, ca);   /* ECDSA chain file: key, leaf, CA */
    write_pem("rsa.pem", rk, rsa, NULL);    /* RSA */
    write_pem("client.pem", ck, cli, NULL); /* client key and cert */
    write_pem("self.pem", sk, self, NULL);  /* self-signed */
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len;
    X509_digest(cli, EVP_sha256(), md, &len);
    struct str s = STR_INIT;
    tls_colon_hex(&s, md, len);
    snprintf(client_fpt, sizeof(client_fpt), "%s", str_cstr(&s));
    str_release(&s);
    X509_free(ca), X509_free(srv), X509_free(rsa), X509_free(cli), X509_free(self);
    EVP_PKEY_free(cak), EVP_PKEY_free(sk), EVP_PKEY_free(rk), EVP_PKEY_free(ck);
}

static char *path_of(const char *name)
{
    static char buf[8][400];
    static int n;
    char *p = buf[n++ % 8];
    snprintf(p, 400, "%s/%s", dir, name);
    return p;
}

/* ---- log capture ------------------------------------------------------------------------- */

static void log_reset(void)
{
    truncate(logpath, 0);
}

/* The log's lines without the "date host syslog/service[pid]: " prefix, joined by '\n'. */
static char *log_text(void)
{
    static char out[65536];
    char line[4096];
    out[0] = 0;
    FILE *f = fopen(logpath, "r");
    if (f == NULL)
        return out;
    while (fgets(line, sizeof(line), f)) {
        char *p = strstr(line, "]: ");
        strncat(out, p ? p + 3 : line, sizeof(out) - strlen(out) - 1);
    }
    fclose(f);
    return out;
}

/* ---- peers ------------------------------------------------------------------------------- */

struct peer {
    struct tls_client_ctx *ctx;
    struct tls_client_props props;
    int fd;
    long deadline;
    struct tls_session *s;
    struct str err;
    char reply[200];
};

static void *client_thread(void *arg)
{
    struct peer *p = arg;
    p->s = tls_client_start(p->ctx, p->fd, &p->props, p->deadline, &p->err);
    if (p->s) { /* one echo exchange through a stream, so tickets arrive */
        struct stream *st = stream_fdopen(p->fd);
        tls_stream_attach(st, p->s);
        stream_puts(st, "hello\r\n");
        struct str line = STR_INIT;
        if (stream_flush(st) == 0 && stream_getline(st, &line, 100) == STREAM_LINE)
            snprintf(p->reply, sizeof(p->reply), "%s", str_cstr(&line));
        str_release(&line);
        tls_session_shutdown(p->s, p->deadline);
        stream_release(st);
    }
    return NULL;
}

struct result {
    struct tls_session *server;
    struct str server_err;
    struct peer client;
};

static void server_params(struct tls_server_params *p)
{
    tls_server_params_defaults(p);
    p->level = TLS_LEV_MAY;
    tls_param_set(&p->c.chain_files, path_of("server.pem"));
    tls_param_set(&p->c.CAfile, path_of("ca.pem"));
    p->c.loglevel = 1;
}

static void client_params(struct tls_client_params *p, int with_ca)
{
    tls_client_params_defaults(p);
    p->level = TLS_LEV_MAY;
    if (with_ca)
        tls_param_set(&p->c.CAfile, path_of("ca.pem"));
    p->c.loglevel = 1;
}

/* Runs one connection: the server in this thread, the client in another; the server echoes
 * one line. */
static void run(struct tls_server_ctx *sctx, struct tls_client_ctx *cctx, int level,
                const char *host, const char *nexthop, struct result *r)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    memset(r, 0, sizeof(*r));
    r->client.ctx = cctx;
    r->client.fd = sv[1];
    r->client.deadline = deadline_after_ms(5000);
    r->client.props = (struct tls_client_props){.level = level,
                                                .host = host,
                                                .nexthop = nexthop,
                                                .namaddr = "mail.example.test[192.0.2.2]:25",
                                                .sni = tls_client_sni("hostname", host, nexthop)};
    pthread_t t;
    pthread_create(&t, NULL, client_thread, &r->client);
    r->server = tls_server_start(sctx, sv[0], "client.example[192.0.2.1]", deadline_after_ms(5000),
                                 &r->server_err);
    if (r->server) {
        struct stream *st = stream_fdopen(sv[0]);
        stream_set_timeout(st, 5);
        tls_stream_attach(st, r->server);
        struct str line = STR_INIT;
        if (stream_getline(st, &line, 100) == STREAM_LINE) {
            stream_write(st, line.data, line.len);
            stream_flush(st);
        }
        str_release(&line);
        stream_set_timeout(st, 1);
        char c;
        (void)stream_read(st, &c, 1); /* wait for the client's close_notify */
        tls_session_shutdown(r->server, deadline_after_ms(1000));
        stream_release(st);
    } else {
        shutdown(sv[0], SHUT_RDWR);
    }
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
}

static void result_free(struct result *r)
{
    tls_session_free(r->server);
    tls_session_free(r->client.s);
    str_release(&r->server_err);
    str_release(&r->client.err);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_anonymous(void **state)
{
    (void)state;
    struct tls_server_params sp;
    struct tls_client_params cp;
    struct str err = STR_INIT;
    server_params(&sp);
    client_params(&cp, 0);
    struct tls_server_ctx *s = tls_server_init(&sp, &err);
    struct tls_client_ctx *c = tls_client_init(&cp, &err);
    assert_non_null(s);
    assert_non_null(c);
    log_reset();
    struct result r;
    run(s, c, TLS_LEV_MAY, "mail.example.test", "example.test", &r);
    assert_non_null(r.server);
    assert_non_null(r.client.s);
    assert_string_equal(r.client.reply, "hello\r\n");
    const struct tls_info *i = tls_session_info(r.server);
    assert_string_equal(i->protocol, "TLSv1.3");
    assert_string_equal(i->cipher, "TLS_AES_256_GCM_SHA384");
    assert_int_equal(i->cipher_bits, 256);
    assert_int_equal(i->peer_cert, 0);
    const struct tls_info *ci = tls_session_info(r.client.s);
    assert_int_equal(ci->peer_cert, 1);
    assert_int_equal(ci->peer_trusted, 0);
    assert_string_equal(ci->peer_CN, "mail.example.test");
    assert_string_equal(ci->issuer_CN, "Test CA");
    assert_non_null(strstr(
        log_text(),
        "Untrusted TLS connection established to mail.example.test[192.0.2.2]:25: TLSv1.3 with "
        "cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature "
        "ECDSA (P-256) server-digest SHA256\n"));
    assert_non_null(
        strstr(log_text(),
               "Anonymous TLS connection established from client.example[192.0.2.1]: TLSv1.3 with "
               "cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature "
               "ECDSA (P-256) server-digest SHA256\n"));
    struct str text = STR_INIT;
    tls_received_using(r.server, &text);
    assert_string_equal(str_cstr(&text),
                        "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
                        "X25519 server-signature ECDSA (P-256) server-digest SHA256");
    str_clear(&text);
    tls_received_ccert(r.server, 0, &text);
    assert_string_equal(str_cstr(&text), "No client certificate requested");
    str_release(&text);
    result_free(&r);
    tls_server_free(s);
    tls_client_free(c);
    tls_server_params_free(&sp);
    tls_client_params_free(&cp);
    str_release(&err);
}

/* One client connection at a level against the standard server; returns the client error. */
static void verify_case(int level, const char *host, const char *nexthop, const char *matches,
                        int with_ca, const char *want_err, const char *want_label)
{
    struct tls_server_params sp;
    struct tls_client_params cp;
    struct str err = STR_INIT;
    server_params(&sp);
    client_params(&cp, with_ca);
    struct tls_server_ctx *s = tls_server_init(&sp, &err);
    struct tls_client_ctx *c = tls_client_init(&cp, &err);
    log_reset();
    struct result r;
    memset(&r, 0, sizeof(r));
    (void)matches;
    run(s, c, level, host, nexthop, &r);
    if (want_err) {
        assert_null(r.client.s);
        assert_string_equal(str_cstr(&r.client.err), want_err);
    } else {
        assert_non_null(r.client.s);
        assert_int_equal(tls_session_info(r.client.s)->peer_matched, TLS_MUST_MATCH(level));
    }
    char want[200];
    snprintf(want, sizeof(want), "%s TLS connection established to mail.example.test", want_label);
    assert_non_null(strstr(log_text(), want));
    result_free(&r);
    tls_server_free(s);
    tls_client_free(c);
    tls_server_params_free(&sp);
    tls_client_params_free(&cp);
    str_release(&err);
}

static void test_verify_levels(void **state)
{
    (void)state;
    verify_case(TLS_LEV_VERIFY, "mail.example.test", "example.test", NULL, 1, NULL, "Verified");
    verify_case(TLS_LEV_SECURE, "mx.other.test", "example.test", NULL, 1, NULL, "Verified");
    verify_case(TLS_LEV_VERIFY, "mx.other.test", "example.test", NULL, 1,
                "Server certificate not verified", "Trusted");
    verify_case(TLS_LEV_SECURE, "mail.example.test", "other.test", NULL, 1,
                "Server certificate not verified", "Trusted");
    verify_case(TLS_LEV_VERIFY, "mail.example.test", "example.test", NULL, 0,
                "Server certificate not trusted", "Untrusted");
    assert_non_null(strstr(log_text(), "server certificate verification failed for "
                                       "mail.example.test[192.0.2.2]:25: self-signed "
                                       "certificate\n"));
    verify_case(TLS_LEV_ENCRYPT, "whatever", "example.test", NULL, 1, NULL, "Trusted");
}

static void test_client_cert(void **state)
{
    (void)state;
    struct tls_server_params sp;
    struct tls_client_params cp;
    struct str err = STR_INIT;
    server_params(&sp);
    sp.ask_ccert = 1;
    tls_param_set(&sp.c.chain_files, NULL);
    tls_param_set(&sp.c.cert_file, path_of("rsa.pem")); /* RSA and ECDSA side by side */
    tls_param_set(&sp.c.eccert_file, path_of("server.pem"));
    client_params(&cp, 1);
    tls_param_set(&cp.c.cert_file, path_of("client.pem"));
    struct tls_server_ctx *s = tls_server_init(&sp, &err);
    assert_non_null(s);
    struct tls_client_ctx *c = tls_client_init(&cp, &err);
    log_reset();
    struct result r;
    run(s, c, TLS_LEV_VERIFY, "mail.example.test", "example.test", &r);
    assert_non_null(r.server);
    const struct tls_info *i = tls_session_info(r.server);
    assert_int_equal(i->peer_cert, 1);
    assert_int_equal(i->peer_trusted, 1);
    assert_string_equal(i->peer_CN, "client.example.test");
    assert_string_equal(i->peer_fingerprint, client_fpt);
    assert_non_null(strstr(log_text(), "Trusted TLS connection established from "
                                       "client.example[192.0.2.1]: TLSv1.3 with cipher "
                                       "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
                                       "X25519 server-signature ECDSA (P-256) server-digest "
                                       "SHA256 client-signature ECDSA (P-256) client-digest "
                                       "SHA256\n"));
    struct str text = STR_INIT;
    tls_received_ccert(r.server, 1, &text);
    assert_string_equal(str_cstr(&text),
                        "Client CN \"client.example.test\", Issuer \"Test CA\" (verified OK)");
    str_release(&text);
    result_free(&r);
    tls_server_free(s);
    tls_client_free(c);
    tls_server_params_free(&sp);
    tls_client_params_free(&cp);
    str_release(&err);
}

static void test_protocol_mismatch(void **state)
{
    (void)state;
    struct tls_server_params sp;
    struct tls_client_params cp;
    struct str err = STR_INIT;
    server_params(&sp);
    sp.level = TLS_LEV_ENCRYPT;
    tls_param_set(&sp.c.mandatory_protocols, ">=TLSv1.3");
    client_params(&cp, 1);
    tls_param_set(&cp.c.protocols, "<=TLSv1.2");
    struct tls_server_ctx *s = tls_server_init(&sp, &err);
    struct tls_client_ctx *c = tls_client_init(&cp, &err);
    log_reset();
    struct result r;
    run(s, c, TLS_LEV_MAY, "mail.example.test", "example.test", &r);
    assert_null(r.server);
    assert_null(r.client.s);
    assert_string_equal(str_cstr(&r.server_err), "TLS handshake failed: unsupported protocol");
    assert_string_equal(str_cstr(&r.client.err),
                        "TLS handshake failed: tlsv1 alert protocol version");
    const char *log = log_text();
    assert_non_null(strstr(log, "SSL_accept error from client.example[192.0.2.1]: -1\n"));
    assert_non_null(strstr(log, "warning: TLS library problem: error:0A000102:SSL "
                                "routines::unsupported protocol:"));
    assert_non_null(strstr(log, "SSL_connect error to mail.example.test[192.0.2.2]:25: -1\n"));
    result_free(&r);
    tls_server_free(s);
    tls_client_free(c);
    tls_server_params_free(&sp);
    tls_client_params_free(&cp);
    str_release(&err);
}

static void resume_case(int tickets)
{
    struct tls_server_params sp;
    struct tls_client_params cp;
    struct str err = STR_INIT;
    char spec[400];
    snprintf(spec, sizeof(spec), "btree:%s/smtpd_scache%d", dir, tickets);
    server_params(&sp);
    sp.tickets = tickets;
    tls_param_set(&sp.c.cache_database, spec);
    snprintf(spec, sizeof(spec), "btree:%s/smtp_scache%d", dir, tickets);
    client_params(&cp, 1);
    tls_param_set(&cp.c.cache_database, spec);
    for (int round = 0; round < 2; round++) {
        /* fresh contexts each time: as if separate smtpd and smtp processes */
        struct tls_server_ctx *s = tls_server_init(&sp, &err);
        struct tls_client_ctx *c = tls_client_init(&cp, &err);
        struct result r;
        run(s, c, TLS_LEV_VERIFY, "mail.example.test", "example.test", &r);
        assert_non_null(r.server);
        assert_non_null(r.client.s);
        assert_int_equal(tls_session_info(r.server)->reused, round);
        assert_int_equal(tls_session_info(r.client.s)->reused, round);
        result_free(&r);
        tls_server_free(s);
        tls_client_free(c);
    }
    tls_server_params_free(&sp);
    tls_client_params_free(&cp);
    str_release(&err);
}

static void test_resumption(void **state)
{
    (void)state;
    resume_case(0);
    resume_case(1);
}

static void test_bad_cache(void **state)
{
    (void)state;
    struct tls_server_params sp;
    struct str err = STR_INIT;
    server_params(&sp);
    tls_param_set(&sp.c.cache_database, "btree:/nonexistent/dir/scache");
    log_reset();
    struct tls_server_ctx *s = tls_server_init(&sp, &err);
    assert_non_null(s);
    assert_non_null(strstr(log_text(), "warning: smtpd_tls_session_cache_database: open "
                                       "database /nonexistent/dir/scache.db: "));
    assert_non_null(strstr(log_text(), ": TLS session caching disabled\n"));
    tls_server_free(s);
    tls_server_params_free(&sp);
    str_release(&err);
}

static void test_deadline_and_lost(void **state)
{
    (void)state;
    struct tls_server_params sp;
    struct str err = STR_INIT;
    server_params(&sp);
    struct tls_server_ctx *s = tls_server_init(&sp, &err);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    log_reset();
    long start = now_ms();
    struct tls_session *t =
        tls_server_start(s, sv[0], "client.example[192.0.2.1]", deadline_after_ms(300), &err);
    long took = now_ms() - start;
    assert_null(t);
    assert_true(took >= 280 && took < 2000);
    assert_string_equal(str_cstr(&err), "TLS handshake failed: Connection timed out");
    assert_string_equal(log_text(),
                        "SSL_accept error from client.example[192.0.2.1]: Connection timed out\n");
    close(sv[1]);
    log_reset();
    t = tls_server_start(s, sv[0], "client.example[192.0.2.1]", deadline_after_ms(1000), &err);
    assert_null(t);
    assert_string_equal(str_cstr(&err), "TLS handshake failed: lost connection");
    assert_string_equal(log_text(),
                        "SSL_accept error from client.example[192.0.2.1]: lost connection\n");
    close(sv[0]);
    tls_server_free(s);
    tls_server_params_free(&sp);
    str_release(&err);
}

static void test_init_errors(void **state)
{
    (void)state;
    struct tls_server_params sp;
    struct str err = STR_INIT;
    server_params(&sp);
    tls_param_set(&sp.c.chain_files, NULL);
    log_reset();
    assert_null(tls_server_init(&sp, &err));
    assert_string_equal(log_text(), "warning: No server certs available. TLS won't be enabled\n");
    tls_param_set(&sp.c.cert_file, path_of("missing.pem"));
    log_reset();
    assert_null(tls_server_init(&sp, &err));
    char want[600];
    snprintf(want, sizeof(want),
             "warning: cannot get RSA certificate from file \"%s\": disabling TLS support\n",
             path_of("missing.pem"));
    assert_non_null(strstr(log_text(), want));
    tls_param_set(&sp.c.cert_file, path_of("client.pem"));
    tls_param_set(&sp.c.key_file, path_of("rsa.pem"));
    assert_null(tls_server_init(&sp, &err));
    tls_param_set(&sp.c.cert_file, path_of("rsa.pem"));
    tls_param_set(&sp.c.key_file, NULL);
    tls_param_set(&sp.c.protocols, "!TLSv9");
    assert_null(tls_server_init(&sp, &err));
    assert_string_equal(str_cstr(&err),
                        "invalid TLS protocol list \"!TLSv9\": unknown protocol \"!TLSv9\"");
    tls_server_params_free(&sp);
    str_release(&err);
}

static void test_sni(void **state)
{
    (void)state;
    assert_null(tls_client_sni("", "mx.example", "example"));
    assert_string_equal(tls_client_sni("hostname", "mx.example", "example"), "mx.example");
    assert_string_equal(tls_client_sni("nexthop", "mx.example", "example"), "example");
    assert_string_equal(tls_client_sni("other.test", "mx.example", "example"), "other.test");
    assert_null(tls_client_sni("hostname", "192.0.2.1", "example"));
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(logpath, sizeof(logpath), "%s/log", dir);
    log_init("tls_test");
    log_set_stderr(0);
    assert_int_equal(log_open_file(logpath), 0);
    make_certs();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anonymous),
        cmocka_unit_test(test_verify_levels),
        cmocka_unit_test(test_client_cert),
        cmocka_unit_test(test_protocol_mismatch),
        cmocka_unit_test(test_resumption),
        cmocka_unit_test(test_bad_cache),
        cmocka_unit_test(test_deadline_and_lost),
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_sni),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
