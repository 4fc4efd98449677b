/* tls: TLS for the SMTP server and client on OpenSSL. A context is built once per process
 * from a tls_server_params/tls_client_params (tls_params.h); each connection then runs a
 * handshake with a deadline over the connection's fd and becomes a tls_session, which plugs
 * under the connection's stream as its transport (tls_stream_attach), so the SMTP code keeps
 * reading and writing the same stream after STARTTLS.
 *
 * Log lines follow Postfix: "Anonymous TLS connection established from name[addr]: TLSv1.3
 * with cipher ... (256/256 bits) key-exchange X25519 server-signature ..." (loglevel >= 1),
 * "SSL_accept error from name[addr]: lost connection", "warning: TLS library problem: ...". */
#ifndef KESTREL_MAIL_TLS_H
#define KESTREL_MAIL_TLS_H

#include "base/str.h"
#include "base/stream.h"
#include "mail/tls_params.h"

struct tls_server_ctx;
struct tls_client_ctx;
struct tls_session;

/* ---- server ------------------------------------------------------------------------------ */

/* Builds the server context: certificates and keys (cert/key, eccert/eckey, dcert/dkey,
 * chain_files; RSA and ECDSA side by side), CA file/path for client certificates, protocols
 * and ciphers (the mandatory ones when level is encrypt), the session cache and tickets.
 * Returns NULL with err set (and warnings logged in Postfix's words) when TLS cannot be
 * offered: smtpd then answers STARTTLS with "454 4.7.0 TLS not available due to local
 * problem". */
struct tls_server_ctx *tls_server_init(const struct tls_server_params *p, struct str *err);
void tls_server_free(struct tls_server_ctx *ctx);

/* Runs the server handshake on fd until deadline_ms (absolute now_ms() time; -1 none).
 * namaddr is "name[addr]" for the log. On failure logs "SSL_accept error from ...", returns
 * NULL and sets err ("TLS handshake failed: ..."); the caller then drops the connection. */
struct tls_session *tls_server_start(struct tls_server_ctx *ctx, int fd, const char *namaddr,
                                     long deadline_ms, struct str *err);

/* ---- client ------------------------------------------------------------------------------ */

struct tls_client_ctx *tls_client_init(const struct tls_client_params *p, struct str *err);
void tls_client_free(struct tls_client_ctx *ctx);

/* One connection's policy (from the level and, later, smtp_tls_policy_maps). */
struct tls_client_props {
    int level;             /* TLS_LEV_MAY ... TLS_LEV_SECURE */
    const char *host;      /* the server's host name (MX name) */
    const char *nexthop;   /* the next-hop domain */
    const char *namaddr;   /* "host[addr]:port" for the log */
    const char *sni;       /* server name to send, or NULL (see tls_client_sni) */
    const char *matches;   /* verify/secure: match list (NULL: the level's parameter) */
    const char *cache_key; /* session cache key, or NULL to use namaddr */
};

/* The SNI name for smtp_tls_servername: "" none, "hostname" the host, "nexthop" the next-hop
 * domain, otherwise the value itself; NULL when nothing should be sent (also for address
 * literals). */
const char *tls_client_sni(const char *servername, const char *host, const char *nexthop);

/* Runs the client handshake and applies the level: verify/secure need a trusted chain and a
 * certificate name matching the match list (hostname, nexthop, dot-nexthop or literal names,
 * checked with X509_check_host); fingerprint needs a listed fingerprint. Logs
 * "Verified|Trusted|Untrusted|Anonymous TLS connection established to ...". On failure
 * returns NULL and sets err: "TLS handshake failed: ...", "Server certificate not trusted" or
 * "Server certificate not verified". */
struct tls_session *tls_client_start(struct tls_client_ctx *ctx, int fd,
                                     const struct tls_client_props *props, long deadline_ms,
                                     struct str *err);

/* ---- sessions ---------------------------------------------------------------------------- */

/* What the handshake produced. Strings are owned by the session (never NULL; "" if absent). */
struct tls_info {
    const char *protocol;              /* "TLSv1.3" */
    const char *cipher;                /* "TLS_AES_256_GCM_SHA384" */
    int cipher_bits;                   /* bits used */
    int cipher_alg_bits;               /* algorithm bits */
    const char *kex_details;           /* "key-exchange X25519 server-signature RSA-PSS (2048 bits)
                                          server-digest SHA256", or "" */
    int peer_cert;                     /* the peer presented a certificate */
    int peer_trusted;                  /* ... and its chain verified against the CAs */
    int peer_matched;                  /* client: the name (or fingerprint) matched the policy */
    const char *peer_CN;               /* subject common name */
    const char *issuer_CN;             /* issuer common name (or organization) */
    const char *peer_fingerprint;      /* digest of the certificate, "AB:CD:..." */
    const char *peer_pkey_fingerprint; /* digest of the public key */
    int reused;                        /* the session was resumed */
};
const struct tls_info *tls_session_info(const struct tls_session *s);

/* Use the session as the stream's transport. The caller first discards buffered plaintext
 * (stream_discard_input: pipelined commands after STARTTLS are never executed). */
void tls_stream_attach(struct stream *stream, struct tls_session *s);
extern const struct stream_transport tls_stream_transport;

/* Sends close_notify (best effort, until the deadline) without closing the fd. */
void tls_session_shutdown(struct tls_session *s, long deadline_ms);
/* Frees the session (the fd stays open; detach the stream first or close it). */
void tls_session_free(struct tls_session *s);

/* The text smtpd puts in its Received: header: "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
 * (256/256 bits)" followed by " key-exchange ..." when known. */
void tls_received_using(const struct tls_session *s, struct str *out);
/* The client-certificate comment for the Received: header: "No client certificate
 * requested", "Client did not present a certificate", or "Client CN \"cn\", Issuer \"cn\"
 * (verified OK)" / "(not verified)". */
void tls_received_ccert(const struct tls_session *s, int asked, struct str *out);

#endif
