/* smtp.h: the interface between the modules of the smtp/lmtp delivery agent: EHLO keywords
 * (smtp_reply.c; reply reading and DATA encoding are util/mail/smtp_proto), MX ordering
 * (smtp_mx.c), next hops, addresses and connecting (smtp_connect.c), the client protocol
 * (smtp_session.c), content checks (smtp_checks.c), the 8BITMIME downgrade (smtp_mime_out.c), the
 * connection cache (smtp_cache.c) and the per-request glue (smtp_deliver.c). */
#ifndef KESTREL_SMTP_SMTP_H
#define KESTREL_SMTP_SMTP_H

#include "base/argv.h"
#include "base/str.h"
#include "base/stream.h"
#include "mail/deliver_request.h"
#include "mail/mime_state.h"
#include "mail/smtp_proto.h"

#include <stddef.h>
#include <time.h>

/* ---- EHLO keywords (smtp_reply.c) ---- */
/* EHLO keywords (from the lines after the first). */
enum {
    SMTP_FEAT_PIPELINING = 1 << 0,
    SMTP_FEAT_SIZE = 1 << 1,
    SMTP_FEAT_8BITMIME = 1 << 2,
    SMTP_FEAT_DSN = 1 << 3,
    SMTP_FEAT_SMTPUTF8 = 1 << 4,
    SMTP_FEAT_CHUNKING = 1 << 5,
    SMTP_FEAT_STARTTLS = 1 << 6,
    SMTP_FEAT_AUTH = 1 << 7,
    SMTP_FEAT_ENHANCEDSTATUSCODES = 1 << 8,
};
/* Returns the SMTP_FEAT_* mask; *size gets the SIZE argument (0: none or unlimited).
 * discard: keywords to ignore (smtp_discard_ehlo_keywords), may be NULL. */
unsigned smtp_ehlo_features(const struct argv *lines, const char *discard, long *size);

/* ---- log and DSN texts (smtp_text.c) ---- */
/* Log and DSN texts. */
/* "host H[A] said: TEXT (in reply to CMD command)" */
void smtp_text_said(struct str *out, const char *host, const char *addr, const char *text,
                    const char *cmd);
/* ---- content checks (smtp_checks.c) ---- */
struct maps;
struct smtp_checks_config {
    struct maps *header, *mime, *nested, *body; /* NULL when not set */
    struct mime_limits mime_limits; /* header_size_limit, mime_boundary_length_limit, ... */
    int mime_options;               /* MIME_OPT_DISABLE_MIME (disable_mime_input_processing) */
};
/* The prefix_header_checks, prefix_mime_header_checks, prefix_nested_header_checks and
 * prefix_body_checks tables (prefix "smtp" or "lmtp"), opened once per process; NULL when
 * none is set. */
const struct smtp_checks_config *smtp_checks_config(const char *prefix);
/* Where checked content goes: a whole line (eol) or a piece of a long one. */
typedef void (*smtp_checks_out)(void *ctx, const char *data, size_t len, int eol);
struct smtp_checks;
struct smtp_checks *smtp_checks_new(const struct smtp_checks_config *cfg, const char *queue_id,
                                    smtp_checks_out out, void *ctx);
/* One content record (as queue_content_get() returns them). */
void smtp_checks_put(struct smtp_checks *c, const char *data, size_t len, int eol);
/* End of content: 0, or -1 when a table lookup failed (logged; the message must not go out). */
int smtp_checks_end(struct smtp_checks *c);
int smtp_checks_failed(const struct smtp_checks *c);
void smtp_checks_free(struct smtp_checks *c);

/* ---- 8BITMIME downgrade (smtp_mime_out.c) ---- */
/* Whether 8-bit content is converted for a server with these EHLO features: it is 8-bit, the
 * server does not announce 8BITMIME and disable_mime_output_conversion is off. */
int smtp_mime_out_wanted(unsigned features, int eightbit);
/* header_size_limit, mime_nesting_limit, mime_boundary_length_limit (read once). */
const struct mime_limits *smtp_mime_out_limits(void);
/* A converter whose 7-bit output goes to out (records as smtp_checks_out takes them). */
struct smtp_mime_out;
struct smtp_mime_out *smtp_mime_out_new(const struct mime_limits *lim, smtp_checks_out out,
                                        void *ctx);
/* One content record (a whole line, or a piece of a long one: eol 0). */
void smtp_mime_out_put(struct smtp_mime_out *c, const char *data, size_t len, int eol);
/* The MIME_ERR_* mask so far (MIME nesting too deep: the message cannot be converted). */
int smtp_mime_out_errors(const struct smtp_mime_out *c);
/* End of content: the rest goes out; returns the errors. */
int smtp_mime_out_end(struct smtp_mime_out *c);
void smtp_mime_out_free(struct smtp_mime_out *c);

/* ---- MX ordering (smtp_mx.c) ---- */
enum { SMTP_MX_OK = 0, SMTP_MX_NULL = 1, SMTP_MX_SELF = 2, SMTP_MX_BAD = -1 };
/* answers: "preference host" strings. hosts receives the host names in preference order,
 * equal preferences shuffled when randomize (rnd: a random source, NULL = random()); when
 * myname is one of the hosts, the hosts with that preference or more are dropped
 * (SMTP_MX_SELF when none remain). A lone "0 ." is a null MX (SMTP_MX_NULL). */
int smtp_mx_order(const struct argv *answers, int randomize, long (*rnd)(void), const char *myname,
                  struct argv *hosts);

/* ---- next hops and connecting (smtp_connect.c) ---- */
struct smtp_dest {
    int is_unix;
    int use_mx;
    char *host; /* domain or host name, without brackets */
    char *port; /* numeric */
    char *path; /* unix socket */
};
int smtp_dest_parse(const char *nexthop, int lmtp, const char *def_port, struct smtp_dest *d,
                    struct str *err);
void smtp_dest_release(struct smtp_dest *d);

struct smtp_target {
    char *host, *addr; /* addr: numeric IP, or the socket path */
    char *port;
};
struct smtp_targets {
    struct smtp_target *v;
    size_t n, cap;
};
void smtp_targets_add(struct smtp_targets *t, const char *host, const char *addr, const char *port);
void smtp_targets_release(struct smtp_targets *t);
/* Fills targets for dest. Returns 0, or the failure: 4 (temporary) / 5 (permanent) with the
 * DSN code and reason. */
int smtp_dest_targets(const struct smtp_dest *d, struct smtp_targets *t, struct str *dsn,
                      struct str *reason);
/* Connect to one target within timeout seconds. Returns a connected fd, or -1 with why
 * ("connect to H[A]:P: Connection refused"). */
int smtp_connect_target(const struct smtp_target *t, int timeout, struct str *why);

/* ---- settings (smtp_deliver.c) ---- */
struct smtp_settings {
    int lmtp;
    const char *prefix; /* "smtp" or "lmtp" parameter prefix */
    int connect_timeout, helo_timeout, mail_timeout, rcpt_timeout, data_init_timeout,
        data_xfer_timeout, data_done_timeout, quit_timeout, rset_timeout, xforward_timeout;
    int never_ehlo, always_ehlo, skip_5xx_greeting, skip_quit_response;
    long line_limit;
    const char *helo_name;
    const char *discard_ehlo;
    long mx_address_limit, mx_session_limit;
    int cache_on_demand;
    const char *cache_destinations;
    long cache_time_limit, reuse_time_limit, reuse_count_limit;
    int starttls_timeout;
    int tls_wrappermode; /* smtp_tls_wrappermode: TLS from the first byte (SMTPS, port 465) */
    int sasl_enable, sasl_soft_bounce, sender_auth;
    int send_xforward; /* smtp_send_xforward_command */
};
extern struct smtp_settings smtp_cfg;
/* The value of <prefix>_name ("smtp_" or "lmtp_"), else of smtp_name (LMTP lacks a few);
 * "" when neither is set. */
const char *smtp_param(const char *name);
void smtp_settings_load(int lmtp);

/* ---- the session (smtp_session.c) ---- */
struct tls_session;
struct smtp_session {
    struct stream *s;
    struct tls_session *tls; /* after STARTTLS */
    char *auth_mechs;        /* the EHLO AUTH list, or NULL */
    int authenticated;
    char *host, *addr, *port;
    char *relay; /* "host[addr]:port" (LMTP over unix: "host[path]") */
    char *key;   /* cache key: transport and next hop */
    unsigned features;
    unsigned xforward; /* XF_* attributes the server accepts in XFORWARD */
    long size_limit;
    time_t created;
    long uses;
    int broken; /* unusable after the current transaction */
};
/* A session-level failure: the soft/hard class, code and reason. */
struct smtp_fail {
    int status; /* 0 none, 4, 5 */
    struct str dsn, reason;
    int plain_retry; /* TLS failed at level may: reconnect to this server without TLS */
};
void smtp_fail_set(struct smtp_fail *f, int status, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* What a connection is for: the next hop (as qmgr or smtp_fallback_relay gave it), its domain
 * or host without brackets and port, and the sender (sender-dependent authentication). */
struct smtp_conn {
    const char *nexthop;
    const char *domain;
    const char *sender;
    int plaintext; /* do not attempt STARTTLS (the retry after a failed handshake at "may") */
};
/* Takes ownership of fd; reads the greeting and does EHLO/HELO/LHLO, then STARTTLS and AUTH as
 * the policy says. NULL on failure (f set). */
struct smtp_session *smtp_session_open(int fd, const struct smtp_target *t,
                                       const struct smtp_conn *cx, struct smtp_fail *f);
/* The protocol primitives smtp_security.c shares: a reply within timeout (f set with Postfix's
 * wording for phase on failure), a command line, and EHLO/LHLO again (after STARTTLS). */
int smtp_chat_read(struct smtp_session *ss, int timeout, const char *phase, struct smtp_reply *r,
                   struct smtp_fail *f);
void smtp_chat_send(struct smtp_session *ss, int timeout, const char *line);
int smtp_session_helo(struct smtp_session *ss, const char *greeting, struct smtp_fail *f);

/* ---- STARTTLS and AUTH (smtp_security.c) ---- */
/* After EHLO: the TLS policy for the next hop (smtp_tls_security_level, smtp_tls_policy_maps),
 * STARTTLS and EHLO again, then AUTH with the credentials of smtp_sasl_password_maps. 0 to go
 * on, -1 with f set to give up on this server (f->plain_retry: try it again in plaintext). */
int smtp_session_security(struct smtp_session *ss, const struct smtp_conn *cx, struct smtp_fail *f);
/* smtp_tls_wrappermode: the TLS handshake right after the connection is made, before the
 * greeting (the policy's level, raised to "encrypt": plaintext is not possible). 0, or -1 with
 * f set. */
int smtp_session_wrapper(struct smtp_session *ss, const struct smtp_conn *cx, struct smtp_fail *f);
/* Ends TLS on a session being closed (close_notify) and frees it. */
void smtp_security_close(struct smtp_session *ss);
/* The part of the cache key that depends on the sender (sender-dependent authentication). */
void smtp_security_cache_key(const char *sender, struct str *key);
void smtp_session_close(struct smtp_session *ss, int quit);
/* RSET before reuse: 0 when the server said 2xx. */
int smtp_session_rset(struct smtp_session *ss);

/* One message's transaction. */
struct smtp_message {
    const struct deliver_request *rq;
    const char *sender;     /* after generic rewriting */
    char *const *rcpts;     /* after generic rewriting, rq->nrcpt of them */
    int fd;                 /* the queue file */
    const void *env;        /* struct queue_envelope * */
    long size;              /* content bytes */
    int eightbit, smtputf8; /* content has 8-bit bytes; envelope needs SMTPUTF8 */
};
struct smtp_rcpt_result {
    int status; /* 0: pending; else 2, 4, 5 */
    struct str dsn, reason;
};
/* Runs one transaction. Recipients get final results unless the session failed before any
 * recipient had one: then it returns with f set (the caller may try another server) and
 * every result still pending. */
void smtp_session_deliver(struct smtp_session *ss, const struct smtp_message *m,
                          struct smtp_rcpt_result *res, struct smtp_fail *f);

/* ---- connection cache (smtp_cache.c) ---- */
/* An idle session for key, or NULL. The session is checked with RSET first. */
struct smtp_session *smtp_cache_get(const char *key);
/* Keeps ss (idle) if the limits allow; else closes it with QUIT. */
void smtp_cache_put(struct smtp_session *ss, const char *nexthop);
/* Closes every cached session (QUIT). */
void smtp_cache_flush(void);

/* ---- the request (smtp_deliver.c) ---- */
void smtp_deliver(const struct deliver_request *rq, struct deliver_reply *rp, void *ctx);

#endif
