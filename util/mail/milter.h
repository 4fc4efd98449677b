/* milter: the Sendmail milter client — a list of filters (smtpd_milters, non_smtpd_milters)
 * driven through the stages of one SMTP session, each call returning the combined verdict,
 * and at end of message the modification requests as a list of edits.
 *
 * Settings: the list is "unix:/path", "inet:host:port" or "{ inet:host:port, connect_timeout=10s,
 * command_timeout=.., content_timeout=.., default_action=accept|reject|tempfail|quarantine,
 * protocol=2..6 }"; the rest comes from main.cf (milter_protocol, milter_default_action,
 * milter_*_timeout, milter_*_macros, milter_macro_daemon_name, milter_macro_v).
 *
 * Use by smtpd (one struct milters per client connection):
 *
 *     struct milters *m = milters_create(config_get("smtpd_milters"), &err);   (NULL: bad list)
 *     milters_set_macro_lookup(m, my_lookup, ctx);  value of "i", "j", "_", "client_addr", ...
 *                                                   (names without braces; NULL = undefined)
 *     struct milter_verdict v;  milter_verdict_init(&v);
 *     milters_connect(m, name, addr, port, &v);   milters_helo(m, helo, &v);
 *     per message: milters_mail(m, args, &v); milters_rcpt(m, args, &v) ...; milters_data(m, &v);
 *                  milters_message(m, &content_ops, ctx, &v);   (headers, body, end of message)
 *                  milters_abort(m) after RSET or a refused/failed transaction;
 *     milters_unknown(m, "COMMAND args", &v) for an unrecognized command;
 *     milters_free(m) at the end of the session (sends QUIT).
 * After each call, v.action says what to do: MILTER_CONTINUE (go on), MILTER_ACCEPT (every
 * filter has accepted: no more milter calls are needed for this message), MILTER_REJECT /
 * MILTER_TEMPFAIL (answer with v.reply, a complete SMTP reply "550 5.7.1 ..." whose lines are
 * joined by CRLF; at RCPT only this recipient is refused), MILTER_DISCARD (accept and throw the
 * message away). v.quarantine is non-empty when the message must go to the hold queue (the
 * reason). A filter that cannot be reached, dies, times out or breaks the protocol gets its
 * default action, logged once. */
#ifndef KESTREL_MAIL_MILTER_H
#define KESTREL_MAIL_MILTER_H

#include "base/argv.h"
#include "base/str.h"

#include <stddef.h>

enum milter_action {
    MILTER_CONTINUE,
    MILTER_ACCEPT,
    MILTER_REJECT,
    MILTER_TEMPFAIL,
    MILTER_DISCARD,
};

struct milter_verdict {
    enum milter_action action;
    struct str reply;      /* REJECT/TEMPFAIL: the SMTP reply */
    struct str quarantine; /* non-empty: hold the message, with this reason */
    struct str filter;     /* the filter that decided (for logs) */
};
void milter_verdict_init(struct milter_verdict *v);
void milter_verdict_release(struct milter_verdict *v);

/* Modification requests at end of message. */
enum milter_edit_type {
    MILTER_EDIT_ADD_HEADER, /* name, value: append */
    MILTER_EDIT_INS_HEADER, /* index (0 = first), name, value */
    MILTER_EDIT_CHG_HEADER, /* index (1 = first with this name), name, value ("" deletes) */
    MILTER_EDIT_ADD_RCPT,   /* addr, args (ESMTP parameters or "") */
    MILTER_EDIT_DEL_RCPT,   /* addr */
    MILTER_EDIT_CHG_FROM,   /* addr, args */
};
struct milter_edit {
    enum milter_edit_type type;
    long index;
    char *name, *value; /* headers; value has folded lines joined by "\n" */
    char *addr, *args;  /* envelope; addr as the filter sent it (may have <>) */
};
#define MILTER_MAX_EDITS 10000

struct milter_edits {
    struct milter_edit *v;
    size_t n, cap;
    int body_replaced;
    struct str body;   /* the replacement body, lines ending in CRLF as sent */
    int leading_space; /* header values are sent with their leading space (HDR_LEADSPC) */
};
void milter_edits_release(struct milter_edits *e);
/* Iterates over the lines of a replacement body: returns 1 with line/len (without the line
 * end) and advances *pos, 0 at the end. */
int milter_body_line(const struct str *body, size_t *pos, const char **line, size_t *len);

/* The message content, supplied by the caller. header() returns 1 with the i-th header split
 * into name and value (the value as it follows the colon, folded lines joined by "\n"), 0 past
 * the last. body_rewind() starts the body over (0, or -1 on error); body_line() returns 1 with
 * one line (without line end), 0 at the end, -1 on error. apply() receives the edits of one
 * filter that accepted the message (they must be visible to the next filter's header()/body
 * calls); it returns 0, or -1 to stop (the verdict is then TEMPFAIL). */
struct milter_content_ops {
    int (*header)(void *ctx, size_t i, struct str *name, struct str *value);
    int (*body_rewind)(void *ctx);
    int (*body_line)(void *ctx, struct str *line);
    int (*apply)(void *ctx, const struct milter_edits *edits, const char *filter);
};

struct milters;

/* Parses the list (NULL or "" gives an empty list, which is not an error). NULL with err set
 * when the list or a per-filter setting is malformed, or it names more than
 * MILTER_HANDOVER_MAX filters. Nothing is connected until the first
 * event (milters_connect). */
struct milters *milters_create(const char *list, struct str *err);
/* Sends QUIT to every connected filter and frees everything. NULL is accepted. */
void milters_free(struct milters *m);
size_t milters_count(const struct milters *m);
void milters_set_macro_lookup(struct milters *m, const char *(*lookup)(const char *name, void *ctx),
                              void *ctx);
/* Largest replacement body accepted (default 64 MiB); more is a protocol error. */
void milters_set_body_limit(struct milters *m, size_t limit);

/* The events. Each resets v and returns v->action. addr may be NULL (unknown); port 0 then. */
enum milter_action milters_connect(struct milters *m, const char *client_name,
                                   const char *client_addr, unsigned port,
                                   struct milter_verdict *v);
enum milter_action milters_helo(struct milters *m, const char *helo, struct milter_verdict *v);
/* args[0] is the address (with or without <>), then the ESMTP parameters. */
enum milter_action milters_mail(struct milters *m, const struct argv *args,
                                struct milter_verdict *v);
enum milter_action milters_rcpt(struct milters *m, const struct argv *args,
                                struct milter_verdict *v);
enum milter_action milters_data(struct milters *m, struct milter_verdict *v);
enum milter_action milters_unknown(struct milters *m, const char *command,
                                   struct milter_verdict *v);
/* Headers, end of headers, body and end of message to each filter in turn; a filter's edits are
 * applied (ops->apply) before the next filter sees the message. */
enum milter_action milters_message(struct milters *m, const struct milter_content_ops *ops,
                                   void *ctx, struct milter_verdict *v);
/* The message is over (RSET, refused, or delivered): message-level state is reset. */
void milters_abort(struct milters *m);

/* ---- hand-over of the end-of-message stage from smtpd to the cleanup service ----
 * smtpd: milters_fds() gives one descriptor slot per filter (-1: not connected) to pass with
 * fdpass_send() when the cleanup connection opens; after DATA, milters_export() writes the
 * filters' state and the content-stage macro values as attribute text for the envelope.
 * cleanup: milters_import() rebuilds the list from that text and the received slots (it takes
 * them over: they are closed by milters_free, or at once when unused or on error) and then
 * calls milters_message() only. An imported list never sends QUIT: the sessions go on in smtpd.
 * The text comes from another process: anything malformed gives NULL with err set. */
#define MILTER_HANDOVER_MAX 32
size_t milters_fds(const struct milters *m, int *fds, size_t max);
void milters_export(struct milters *m, struct str *out);
struct milters *milters_import(const char *text, int *fds, size_t nfds, struct str *err);

#endif
