/* smtpd_check: the access-control engine of smtpd — Postfix's restriction lists
 * (smtpd_client_restrictions, smtpd_helo_restrictions, smtpd_sender_restrictions,
 * smtpd_relay_restrictions, smtpd_recipient_restrictions, smtpd_data_restrictions,
 * smtpd_end_of_data_restrictions, smtpd_etrn_restrictions, smtpd_restriction_classes),
 * access maps, relay control, DNS and DNSBL checks.
 *
 * The protocol engine (smtpd_session.c and friends) fills a struct smtpd_check_ctx with what
 * it knows and calls one function per SMTP stage. Each returns SMTPD_CHECK_OK or
 * SMTPD_CHECK_REJECT with the full reply in `reply` ("554 5.7.1 <a@b>: Relay access denied").
 * With smtpd_delay_reject = yes the client, HELO and sender stages only record their verdict
 * and smtpd_check_rcpt() reports it, as Postfix does; the engine calls every stage regardless.
 * Actions that are not a reply (DISCARD, HOLD, FILTER, REDIRECT, PREPEND, BCC, WARN) collect
 * in ctx->actions for the engine and cleanup. */
#ifndef KESTREL_SMTPD_CHECK_H
#define KESTREL_SMTPD_CHECK_H

#include "base/argv.h"
#include "base/str.h"

enum { SMTPD_CHECK_OK = 0, SMTPD_CHECK_REJECT = 1 };

struct smtpd_check_actions {
    int discard;          /* DISCARD: accept and drop the message */
    int hold;             /* HOLD: put the message on hold */
    char *filter;         /* FILTER transport:nexthop (last one wins) */
    char *redirect;       /* REDIRECT address */
    struct argv *prepend; /* PREPEND header lines */
    struct argv *bcc;     /* BCC addresses */
    struct str discard_reason;
    struct str hold_reason;
};

struct smtpd_check_ctx {
    /* The client (set at connect). */
    const char *client_name;         /* verified name, or "unknown" */
    const char *reverse_client_name; /* PTR name, or "unknown" */
    const char *client_addr;
    const char *client_port;
    int client_name_status; /* 0 verified, 4 temporary failure, 5 no name */
    int reverse_name_status;
    /* The session. */
    const char *helo_name;   /* NULL before HELO/EHLO */
    const char *protocol;    /* "SMTP", "ESMTP", "ESMTPS", "ESMTPA", ... */
    int pipelining_seen;     /* the client talked out of turn (reject_unauth_pipelining) */
    int esmtp_pipelining;    /* the client used EHLO (may pipeline) */
    const char *sasl_method; /* NULL when not authenticated */
    const char *sasl_username;
    const char *sasl_sender;
    int tls_active;
    const char *ccert_fingerprint; /* NULL when no verified client certificate */
    const char *ccert_subject;
    /* The transaction. */
    const char *queue_id;  /* NULL before the queue file exists ("NOQUEUE") */
    const char *sender;    /* NULL before MAIL; "" for the null sender */
    const char *recipient; /* the RCPT being checked */
    int recipient_count;   /* accepted so far */
    long message_size;     /* SIZE= or 0 */
    const char *etrn_domain;
    /* Added for check_policy_service (the engine fills them when known; NULL/0 send ""/0). */
    const char *server_addr; /* the local end of the SMTP connection */
    const char *server_port;
    const char *ccert_issuer;
    const char *ccert_pubkey_fingerprint;
    const char *tls_protocol; /* "TLSv1.3" */
    const char *tls_cipher;
    int tls_keysize;
    const char *stress; /* "yes" when the server is under stress, else NULL */
    /* Results that are not replies. */
    struct smtpd_check_actions actions;
    int rewrite_local; /* smtpd_check_rewrite: the client matches local_header_rewrite_clients */
    /* Added by smtpd_check: the checker's per-session state (verdicts saved for
     * smtpd_delay_reject, defer_if_permit). Owned by smtpd_check_ctx_init/_release. */
    struct smtpd_check_priv *priv;
};

struct smtpd_checker;

/* Compiles the restriction lists and opens the tables once per process (not per command).
 * NULL with err set on a configuration error (unknown restriction, bad table). */
struct smtpd_checker *smtpd_checker_new(struct str *err);
void smtpd_checker_free(struct smtpd_checker *c);
/* 1 when a table the checker uses changed on disk (the process should exit after the session). */
int smtpd_checker_changed(struct smtpd_checker *c);

void smtpd_check_ctx_init(struct smtpd_check_ctx *ctx);
/* Clears the transaction part (after RSET, a finished message, or STARTTLS). */
void smtpd_check_ctx_reset(struct smtpd_check_ctx *ctx);
void smtpd_check_ctx_release(struct smtpd_check_ctx *ctx);

int smtpd_check_client(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);
int smtpd_check_helo(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);
int smtpd_check_mail(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);
int smtpd_check_rcpt(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);
int smtpd_check_data(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);
int smtpd_check_eod(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);
int smtpd_check_etrn(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);
/* VRFY: 252/550 per local_recipient_maps and the recipient checks. */
int smtpd_check_vrfy(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);
/* Recipient validity alone (local_recipient_maps, virtual maps, relay_recipient_maps):
 * SMTPD_CHECK_REJECT with "550 5.1.1 <a@b>: Recipient address rejected: User unknown in local
 * recipient table" etc. Used by smtpd_check_rcpt at the point Postfix applies it. */
int smtpd_check_rcpt_maps(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);

/* At MAIL: local_header_rewrite_clients. Sets ctx->rewrite_local (cleanup then rewrites and
 * completes the headers in the "local" context, else "remote"); SMTPD_CHECK_REJECT with
 * "451 4.3.0 Temporary lookup error" when a table fails. */
int smtpd_check_rewrite(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);

/* 1 when the client matches debug_peer_list (the engine raises msg_verbose). */
int smtpd_check_debug_peer(struct smtpd_checker *c, const struct smtpd_check_ctx *ctx);

/* Added by smtpd_check: per-client event limits through the anvil service (private/anvil).
 * Clients matching smtpd_client_event_limit_exceptions are never limited; when anvil cannot be
 * reached the limits are not enforced (logged). service is the master.cf service name (the
 * anvil key is "service:addr"), e.g. "smtp".
 * At connect (after the client address is known): connection count and rate limits;
 * SMTPD_CHECK_REJECT with "421 4.7.0 myhostname Error: too many connections from ADDR" —
 * the engine sends it and closes the connection. */
int smtpd_check_connect_limits(struct smtpd_checker *c, struct smtpd_check_ctx *ctx,
                               const char *service, struct str *reply);
/* At disconnect, for every connection that smtpd_check_connect_limits counted. */
void smtpd_check_disconnect_limits(struct smtpd_checker *c, struct smtpd_check_ctx *ctx);
/* At MAIL: smtpd_client_message_rate_limit ("450 4.7.1 Error: too much mail from ADDR"). */
int smtpd_check_message_limit(struct smtpd_checker *c, struct smtpd_check_ctx *ctx,
                              struct str *reply);
/* At RCPT, before smtpd_check_rcpt: smtpd_client_recipient_rate_limit
 * ("450 4.7.1 Error: too many recipients from ADDR"). */
int smtpd_check_recipient_limit(struct smtpd_checker *c, struct smtpd_check_ctx *ctx,
                                struct str *reply);
/* Before STARTTLS: smtpd_client_new_tls_session_rate_limit, looked up without counting
 * ("454 4.7.0 Error: too many new TLS sessions from ADDR"). */
int smtpd_check_newtls_limit(struct smtpd_checker *c, struct smtpd_check_ctx *ctx,
                             struct str *reply);
/* After a handshake that created a new (not resumed) session: count it. */
void smtpd_check_newtls_count(struct smtpd_checker *c, struct smtpd_check_ctx *ctx);
/* At AUTH: smtpd_client_auth_rate_limit ("450 4.7.1 Error: too many AUTH commands from ADDR"). */
int smtpd_check_auth_limit(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply);

#endif
