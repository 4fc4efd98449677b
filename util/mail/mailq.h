/* mailq: the queue listing shared by the showq service and postqueue -p / -j (when the mail
 * system is down). Loading one queued message with its deferral reasons, walking the queues,
 * and Postfix's two output formats: the classic mailq layout and JSON lines. */
#ifndef KESTREL_MAIL_MAILQ_H
#define KESTREL_MAIL_MAILQ_H

#include "base/argv.h"
#include "base/str.h"
#include "mail/queue_file.h"

/* The showq protocol (docs/architecture.md): the server sends protocol=showq, the client one
 * list format=text|json, the server status=0 and then the listing until it closes. */
#define MAILQ_PROTOCOL "showq"

enum mailq_format { MAILQ_TEXT, MAILQ_JSON };

/* "text" or "json". */
const char *mailq_format_name(enum mailq_format format);
/* 0 with *format set for "text" or "json", -1 for anything else. */
int mailq_format_parse(const char *name, enum mailq_format *format);

struct mailq_msg {
    char *queue, *id;
    long arrival; /* seconds */
    long size;    /* message content bytes */
    int forced_expire;
    char *sender;         /* "" for the null sender */
    struct argv *rcpts;   /* recipients still to be delivered */
    struct argv *reasons; /* per recipient: delay reason, "" when none */
};

/* Loads <queue>/<id> (rel: its path relative to the queue directory) and, for deferred mail,
 * the reasons in defer/<id>. 0, or -1 with err set (corrupt or vanished file). */
int mailq_load(const struct queue_naming *l, const char *queue, const char *id, const char *rel,
               struct mailq_msg *m, struct str *err);
void mailq_msg_release(struct mailq_msg *m);

/* Called with each piece of the listing (one message, the header, the trailer); returns 0, or
 * -1 to stop (e.g. the reader went away). */
typedef int (*mailq_emit_fn)(void *ctx, const char *data, size_t len);

/* Lists incoming, active, deferred and hold (maildrop files are not queue files) in format.
 * Returns 0, or -1 when emit stopped the listing. */
int mailq_list(const struct queue_naming *l, enum mailq_format format, mailq_emit_fn emit,
               void *ctx);

/* The mailq layout. */
void mailq_format_header(struct str *out);
void mailq_format_text(struct str *out, const struct mailq_msg *m);
void mailq_format_trailer(struct str *out, long long total_bytes, long count);
/* postqueue -j: one JSON object per line. */
void mailq_format_json(struct str *out, const struct mailq_msg *m);
/* Parses a defer log (attribute lists with recipient= and reason=) into rcpt -> reason. */
void mailq_parse_defer_log(const char *text, size_t len, struct argv *rcpts, struct argv *reasons);

#endif
