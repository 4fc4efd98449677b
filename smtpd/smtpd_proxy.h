/* smtpd_proxy.h: the before-queue content filter client (smtpd_proxy_filter, Postfix's
 * SMTPD_PROXY_README). With a filter configured smtpd talks SMTP to the filter instead of
 * handing the message to cleanup: the hooks in smtpd_txn.c (open, content, finish, reset) and
 * smtpd_cmd_mail.c (each accepted RCPT) call the functions below; the filter's replies reach
 * the client, validated and sanitised. */
#ifndef KESTREL_SMTPD_PROXY_H
#define KESTREL_SMTPD_PROXY_H

#include <stddef.h>

#include "base/argv.h"
#include "base/str.h"
#include "mail/smtp_proto.h"
#include "mail/xforward.h"

struct smtpd_state;
struct smtpd_rcpt_params;
struct smtpd_content;

/* ---- the transaction (used by smtpd_txn.c and smtpd_cmd_mail.c) ---- */
/* 1 when smtpd_proxy_filter is set for this service (the parameters are read once). */
int smtpd_proxy_enabled(void);
/* Starts the transaction with the filter: connect, greeting, EHLO smtpd_proxy_ehlo, XFORWARD
 * when offered, MAIL FROM (with speed_adjust only remembered). 0, or -1 with the reply sent
 * to the client and nothing left open. Does nothing when already open. */
int smtpd_proxy_open(struct smtpd_state *st);
/* Relays an accepted RCPT TO; 0, or -1 with the filter's reply sent to the client. */
int smtpd_proxy_rcpt(struct smtpd_state *st, const char *rcpt, const struct smtpd_rcpt_params *p);
/* Sends DATA (expects 354), then the header lines (PREPEND actions, our Received header);
 * returns the content assembler that feeds the filter, or NULL with the reply sent. */
struct smtpd_content *smtpd_proxy_begin_content(struct smtpd_state *st);
/* Ends the content with "." and sends the filter's reply to the client (with speed_adjust:
 * connects and replays the whole transaction first); logs "proxy-accept"/"proxy-reject".
 * 0 when the filter accepted the message. */
int smtpd_proxy_finish(struct smtpd_state *st);
/* Ends the filter transaction: RSET (when unfinished) and QUIT outside DATA, then close. NULL
 * proxy (no filter transaction) is accepted. */
void smtpd_proxy_close(struct smtpd_state *st);

/* ---- pure parts (unit-tested) ---- */
/* What the caller expects of a filter reply: its class, or any final reply (2xx/4xx/5xx). */
enum { PROXY_WANT_OK = 2, PROXY_WANT_MORE = 3, PROXY_WANT_ANY = 0 };
/* The reply for when there is no usable filter reply (Postfix's CLEANUP_STAT_PROXY). */
#define SMTPD_PROXY_FAIL_REPLY "451 4.3.0 Error: queue file write error"
/* Judges a (well-formed) filter reply against the expectation: 0 when it is as expected; -1
 * when it is a rejection (4xx/5xx) the client gets as it is; -2 when it is unusable (a 2xx or
 * 3xx where another class was expected, a 3xx to end-of-data) and the client gets
 * SMTPD_PROXY_FAIL_REPLY instead. */
int smtpd_proxy_judge(const struct smtp_reply *r, int expect);
/* The client-facing form of a filter reply: one "NNN-text"/"NNN text" line each (without CRLF),
 * every byte that could break a reply line replaced with '?', cut to the lines that fit in
 * limit bytes (the first line always). */
void smtpd_proxy_client_lines(const struct smtp_reply *r, size_t limit, struct argv *out);
/* The commands relayed to the filter, rebuilt from what smtpd accepted (paths quoted, ENVID
 * and ORCPT xtext-encoded), so nothing a client sent goes to the filter unparsed. */
void smtpd_proxy_mail_cmd(const char *sender, long long size, int body_8bit, int smtputf8,
                          const char *ret, const char *envid, struct str *out);
void smtpd_proxy_rcpt_cmd(const char *rcpt, int notify, const char *orcpt, struct str *out);
/* One queue-file-style content piece in DATA form (CRLF, dot-stuffing): the assembler's emit. */
void smtpd_proxy_encode(struct smtp_text_state *ts, struct str *out, int type, const char *data,
                        size_t len);

#endif
