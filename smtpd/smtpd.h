/* smtpd.h: the SMTP server's internal interface — the per-process configuration, the session
 * state shared by the command handlers (smtpd_cmd_*.c), the reply and logging helpers
 * (smtpd_reply.c), ESMTP parameter parsing (smtpd_esmtp.c), the DATA/BDAT content reader
 * (smtpd_data.c), the cleanup submission (smtpd_txn.c) and the peer lookup (smtpd_peer.c). */
#ifndef KESTREL_SMTPD_H
#define KESTREL_SMTPD_H

#include <stddef.h>

#include "base/argv.h"
#include "base/str.h"
#include "base/stream.h"
#include "smtpd_check.h"

struct tls_session;
struct sasl_srv;
struct milters;
struct smtpd_proxy;

#if defined(__has_include)
#if __has_include("mail/dsn.h")
#include "mail/dsn.h"
#endif
#endif
#ifndef DSN_NOTIFY_NEVER
#define DSN_NOTIFY_NEVER (1 << 0)
#define DSN_NOTIFY_SUCCESS (1 << 1)
#define DSN_NOTIFY_FAILURE (1 << 2)
#define DSN_NOTIFY_DELAY (1 << 3)
#endif

/* smtpd_forbid_bare_newline */
enum { BARE_LF_NO, BARE_LF_NORMALIZE, BARE_LF_YES };

/* Configuration read once per process (no per-command parameter lookups). */
struct smtpd_conf {
    char *banner, *myhostname, *mail_name;
    long long message_size_limit;
    long line_length_limit;
    long recipient_limit, overshoot_limit;
    long soft_error_limit, hard_error_limit, junk_limit, error_sleep;
    long timeout, debug_peer_level;
    int helo_required, disable_vrfy, smtputf8_enable, peername_lookup, port_logging;
    int delay_open, strict_rfc821, allow_min_user, bare_lf;
    struct argv *discard_ehlo; /* lower-case keywords; "silent-discard" suppresses the log */
    struct argv *noop_commands;
    int tls_auth_only, sasl_enable, sasl_auth_header;
};
extern struct smtpd_conf smtpd_conf;
void smtpd_conf_load(void);

/* Per-command statistics for the "disconnect from ..." line. */
enum {
    CNT_HELO,
    CNT_EHLO,
    CNT_XFORWARD,
    CNT_STARTTLS,
    CNT_AUTH,
    CNT_MAIL,
    CNT_RCPT,
    CNT_DATA,
    CNT_BDAT,
    CNT_RSET,
    CNT_NOOP,
    CNT_VRFY,
    CNT_ETRN,
    CNT_QUIT,
    CNT_HELP,
    CNT_UNKNOWN,
    CNT_MAX
};
struct smtpd_count {
    int ok, total;
};

struct smtpd_state {
    struct stream *s;
    struct smtpd_checker *checker;
    struct smtpd_check_ctx ctx;
    /* The client. */
    char *name, *reverse_name, *addr, *port, *namaddr; /* namaddr: "name[addr]" (":port") */
    char *server_addr, *server_port;                   /* our end of the connection */
    int name_status, reverse_status;
    int network; /* the client is on a socket (not a stand-alone pipe) */
    /* The session. */
    char *helo; /* sanitised HELO/EHLO argument, NULL before */
    int esmtp;  /* EHLO was used */
    const char *protocol;
    const char *where; /* last command, for "lost connection after X" */
    int error_count, junk_count;
    struct smtpd_count counts[CNT_MAX];
    int quit;          /* 1: close after the reply */
    int access_denied; /* the client was rejected at connect (smtpd_delay_reject = no) */
    /* The transaction. */
    int in_mail;
    struct str sender;     /* internal form */
    int rcpt_count;        /* accepted */
    int rcpt_seen;         /* attempts including rejected (overshoot) */
    struct str first_rcpt; /* external form of the only recipient, for Received */
    long long size_param;
    int body_8bit, smtputf8;
    char *envid, *ret;
    struct cleanup_client *cl;
    struct smtpd_proxy *proxy; /* smtpd_proxy.c: the before-queue filter, instead of cl */
    struct str queue_id;
    struct argv *rcpts, *orcpts, *notifies; /* accepted recipients, sent at DATA time */
    /* TLS (smtpd_tls.c) and SASL (smtpd_sasl.c) */
    struct tls_session *tls; /* NULL before STARTTLS / without wrappermode */
    struct sasl_srv *sasl;   /* the SASL session (recreated when TLS starts) */
    int sasl_tls;            /* sasl was created with TLS active */
    char *sasl_method, *sasl_username, *sasl_sender;
    /* BDAT */
    int bdat_active, bdat_failed;
    struct smtpd_content *content;
    struct str reply_scratch;
    /* smtpd_milters (smtpd_milter.c) */
    struct milters *milters;
    const char *milter_rcpt; /* the recipient of the RCPT event, for {rcpt_addr} */
    int milter_in_msg;       /* MAIL was sent to the filters: abort at the end */
    int milter_discard;      /* a filter asked to discard the message */
    struct str milter_scratch;
    struct str milter_connect_reply, milter_helo_reply; /* refusals kept for MAIL FROM */
    /* XFORWARD (smtpd_xforward.c): forwarded attributes for the next transaction */
    struct str xf[7]; /* by XF_* bit position: NAME ADDR PORT PROTO HELO IDENT SOURCE */
    int xf_mask;
};

/* ---- replies and logging (smtpd_reply.c) ---- */
/* Sends one reply line (CRLF added). A 4xx/5xx reply counts as an error; beyond
 * smtpd_soft_error_limit the reply is delayed by smtpd_error_sleep_time. */
void smtpd_reply(struct smtpd_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends text to out with every byte that could break a reply, header or log line (controls,
 * DEL, invalid UTF-8) replaced with '?'. */
void smtpd_sanitize(const char *text, size_t len, struct str *out);
/* "NOQUEUE: reject: RCPT from name[addr]: <reply>; from=<x> to=<y> proto=ESMTP helo=<h>" */
void smtpd_log_reject(struct smtpd_state *st, const char *stage, const char *reply, const char *to);
/* The same with another action word ("milter-reject", "milter-discard", ...). */
void smtpd_log_action(struct smtpd_state *st, const char *action, const char *stage,
                      const char *reply, const char *to);
/* The disconnect statistics: "ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4". */
void smtpd_format_counts(const struct smtpd_state *st, struct str *out);

/* ---- command handlers (smtpd_cmd_*.c); return 0 on success, -1 when the reply was an error */
/* A handler's result when the connection broke mid-command (lost or timed out). */
#define SMTPD_GONE (-2)
typedef int (*smtpd_cmd_fn)(struct smtpd_state *st, const char *args);
int smtpd_cmd_helo(struct smtpd_state *st, const char *args);
int smtpd_cmd_ehlo(struct smtpd_state *st, const char *args);
int smtpd_cmd_mail(struct smtpd_state *st, const char *args);
int smtpd_cmd_rcpt(struct smtpd_state *st, const char *args);
int smtpd_cmd_data(struct smtpd_state *st, const char *args);
int smtpd_cmd_bdat(struct smtpd_state *st, const char *args);
int smtpd_cmd_rset(struct smtpd_state *st, const char *args);
int smtpd_cmd_noop(struct smtpd_state *st, const char *args);
int smtpd_cmd_quit(struct smtpd_state *st, const char *args);
int smtpd_cmd_vrfy(struct smtpd_state *st, const char *args);
int smtpd_cmd_etrn(struct smtpd_state *st, const char *args);
int smtpd_cmd_help(struct smtpd_state *st, const char *args);
int smtpd_cmd_starttls(struct smtpd_state *st, const char *args);
int smtpd_cmd_auth(struct smtpd_state *st, const char *args);
/* Runs one access-control stage; on rejection sends and logs the reply and returns -1. */
int smtpd_run_check(struct smtpd_state *st,
                    int (*fn)(struct smtpd_checker *, struct smtpd_check_ctx *, struct str *),
                    const char *stage, const char *to);
/* ---- smtpd_milters (smtpd_milter.c); the stage functions return 0 to go on, -1 when the
 * filters' reject or tempfail was sent as the reply. */
/* Session start: creates the list (unless receive_override_options has no_milters) and sends
 * the connect event. A refusal there or at HELO is logged and answered at MAIL FROM, as
 * Postfix does; -1 only for a 421 (sent; the session ends). */
int smtpd_milter_connect(struct smtpd_state *st);
int smtpd_milter_helo(struct smtpd_state *st, const char *verb);
int smtpd_milter_mail(struct smtpd_state *st, const char *params);
int smtpd_milter_rcpt(struct smtpd_state *st, const char *rcpt, const char *params);
int smtpd_milter_data(struct smtpd_state *st, const char *verb);
int smtpd_milter_unknown(struct smtpd_state *st, const char *line);
/* End of a transaction (RSET, refusal, or delivered): the filters forget the message. */
void smtpd_milter_abort(struct smtpd_state *st);
/* Hand-over to cleanup: descriptor slots at open, then the state (empty without milters). */
size_t smtpd_milter_fds(struct smtpd_state *st, int *fds, size_t max);
void smtpd_milter_export(struct smtpd_state *st, struct str *out);
/* Session end (QUIT to the filters). */
void smtpd_milter_end(struct smtpd_state *st);

/* ---- XFORWARD (smtpd_xforward.c) ---- */
int smtpd_cmd_xforward(struct smtpd_state *st, const char *args);
/* The client is in smtpd_authorized_xforward_hosts (EHLO then announces XFORWARD). */
int smtpd_xforward_allowed(struct smtpd_state *st);
/* ", orig_queue_id=X, orig_client=name[addr]" for the client= line, when forwarded. */
void smtpd_xforward_log(const struct smtpd_state *st, struct str *line);
/* The transaction is over: the forwarded attributes are forgotten. */
void smtpd_xforward_reset(struct smtpd_state *st);

/* ---- TLS (smtpd_tls.c) ---- */
/* Process set-up from the smtpd_tls_* parameters (pre_init: keys are read while privileged).
 * A failure leaves TLS unavailable: STARTTLS then gets 454, a wrapper-mode session ends. */
void smtpd_tls_init(void);
/* 1 when STARTTLS is to be advertised (level may/encrypt, not yet active, not discarded). */
int smtpd_tls_available(const struct smtpd_state *st);
/* 1 when the security level requires TLS before mail commands (smtpd_tls_security_level =
 * encrypt, smtpd_enforce_tls) and TLS is not active yet. */
int smtpd_tls_required(const struct smtpd_state *st);
/* Wrapper mode (smtpd_tls_wrappermode): the handshake before the greeting; 0, or -1 when the
 * session is to end (logged). Does nothing without wrapper mode. */
int smtpd_tls_wrapper_start(struct smtpd_state *st);
/* Ends TLS at the end of the session (close_notify after QUIT, so the session can be
 * resumed) and restores the plain transport. */
void smtpd_tls_end(struct smtpd_state *st);
/* The Received: header lines TLS adds (smtpd_tls_received_header), each without newline. */
void smtpd_tls_received(const struct smtpd_state *st, struct argv *lines);

/* ---- SASL (smtpd_sasl.c) ---- */
/* Process set-up when smtpd_sasl_auth_enable = yes; failures are logged and AUTH is then not
 * offered. */
void smtpd_sasl_init(void);
/* 1 when AUTH is to be advertised (enabled, not hidden by smtpd_tls_auth_only before TLS,
 * mechanisms available); line/broken_line get the EHLO keyword lines. */
int smtpd_sasl_available(const struct smtpd_state *st);
int smtpd_sasl_ehlo_lines(struct smtpd_state *st, struct str *line, struct str *broken_line);
/* Forgets the authentication (STARTTLS) and frees the SASL session. */
void smtpd_sasl_reset(struct smtpd_state *st);
/* The protocol name with RFC 3848 suffixes: ESMTP, ESMTPS, ESMTPA, ESMTPSA. */
void smtpd_update_protocol(struct smtpd_state *st);
/* 1 when the EHLO keyword is enabled (smtpd_discard_ehlo_keywords etc.). */
int smtpd_ehlo_enabled(const char *keyword);

/* ---- ESMTP parameters (smtpd_esmtp.c) ---- */
struct smtpd_mail_params {
    long long size; /* -1 when absent */
    int body_8bit;  /* BODY=8BITMIME */
    int smtputf8;
    char *ret;   /* "FULL" / "HDRS" */
    char *envid; /* decoded */
    char *auth;  /* decoded AUTH= mailbox ("<>" allowed) */
};
struct smtpd_rcpt_params {
    int notify;  /* DSN_NOTIFY_* mask, 0 when absent */
    char *orcpt; /* "type;decoded-address" */
};
void smtpd_mail_params_init(struct smtpd_mail_params *p);
void smtpd_mail_params_release(struct smtpd_mail_params *p);
void smtpd_rcpt_params_init(struct smtpd_rcpt_params *p);
void smtpd_rcpt_params_release(struct smtpd_rcpt_params *p);
/* Parse the parameters after the path. Return 0, or -1 with the complete reply in reply
 * ("555 5.5.4 Unsupported option: FOO"). dsn: DSN is enabled; utf8: SMTPUTF8 enabled. */
int smtpd_parse_mail_params(const char *args, long long size_limit, int dsn, int utf8,
                            struct smtpd_mail_params *p, struct str *reply);
int smtpd_parse_rcpt_params(const char *args, int dsn, struct smtpd_rcpt_params *p,
                            struct str *reply);

/* ---- message content (smtpd_data.c) ---- */
/* The content assembler: bytes in, queue-file lines out (REC_LINE / REC_PART pieces of at
 * most line_length_limit bytes), CRLF and bare CR/LF handled per smtpd_forbid_bare_newline. */
typedef void (*smtpd_emit_fn)(void *ctx, int type, const char *data, size_t len);
struct smtpd_content {
    struct str line;
    size_t line_limit;
    int bare_lf_mode;
    int pending_cr;       /* the previous byte was a CR not yet known to be followed by LF */
    int bare_lf;          /* a bare LF was seen */
    int bare_cr;          /* a bare CR was seen */
    long long bytes;      /* content bytes emitted (line lengths + 1 per line end) */
    long long size_limit; /* 0: none */
    int too_big;          /* the limit was passed: nothing more is emitted */
    smtpd_emit_fn emit;
    void *ctx;
};
void smtpd_content_init(struct smtpd_content *c, size_t line_limit, int bare_lf_mode,
                        long long size_limit, smtpd_emit_fn emit, void *ctx);
void smtpd_content_release(struct smtpd_content *c);
void smtpd_content_feed(struct smtpd_content *c, const char *data, size_t len);
/* End of content: a final line without its ending is emitted (BDAT). */
void smtpd_content_end(struct smtpd_content *c);

/* Reads DATA content from the stream up to <CR><LF>.<CR><LF> (only that sequence ends it),
 * undoing dot-stuffing, into the assembler. Returns 0 at the end of data, or STREAM_EOF /
 * STREAM_ERROR / STREAM_TIMEOUT. */
int smtpd_read_data(struct stream *s, struct smtpd_content *c);

/* ---- the transaction (smtpd_txn.c) ---- */
/* Opens the cleanup connection when not yet open; -1 with the reply sent on failure. */
int smtpd_txn_open(struct smtpd_state *st);
void smtpd_txn_add_rcpt(struct smtpd_state *st, const char *rcpt,
                        const struct smtpd_rcpt_params *p);
/* Writes the Received header and starts the content; returns the assembler, or NULL when the
 * before-queue filter refused DATA (the reply was sent). */
struct smtpd_content *smtpd_txn_begin_content(struct smtpd_state *st);
/* Our Received: header, one line each (without newline); " id QUEUEID" only with a queue file. */
void smtpd_txn_received(const struct smtpd_state *st, struct argv *lines);
/* Finishes the message after the content (reply sent); 0 when queued. */
int smtpd_txn_finish(struct smtpd_state *st);
/* Drops the transaction (cleanup_abort when open) and resets its state. */
void smtpd_txn_reset(struct smtpd_state *st);

/* ---- the client (smtpd_peer.c) ---- */
/* Fills name/reverse_name/addr/port and the statuses from the socket (or "unknown"/"127.0.0.1"
 * for a stand-alone run on a pipe). */
void smtpd_peer_init(struct smtpd_state *st, int fd);

/* ---- the session (smtpd_session.c) ---- */
void smtpd_session(struct stream *s, struct smtpd_checker *checker);
/* Splits a command line into verb and arguments; for tests. Returns the table index or -1. */
int smtpd_cmd_lookup(const char *line, const char **args);
/* 1 when the line looks like HTTP/proxy traffic or a mail header sent as a command. */
int smtpd_is_junk_probe(const char *line);

#endif
