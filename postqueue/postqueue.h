/* postqueue: listing (-p, -j) and flushing (-f, -i, -s) the mail queue. Internal interface:
 * loading one queued message with its deferral reasons, and the Postfix output formats. */
#ifndef KESTREL_POSTQUEUE_H
#define KESTREL_POSTQUEUE_H

#include "base/argv.h"
#include "base/str.h"
#include "mail/queue_file.h"

struct pq_msg {
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
int pq_load(const struct queue_naming *l, const char *queue, const char *id, const char *rel,
            struct pq_msg *m, struct str *err);
void pq_msg_release(struct pq_msg *m);

/* The mailq layout. */
void pq_format_header(struct str *out);
void pq_format_text(struct str *out, const struct pq_msg *m);
void pq_format_trailer(struct str *out, long long total_bytes, long count);
/* postqueue -j: one JSON object per line. */
void pq_format_json(struct str *out, const struct pq_msg *m);
/* Parses a defer log (attribute lists with recipient= and reason=) into rcpt -> reason. */
void pq_parse_defer_log(const char *text, size_t len, struct argv *rcpts, struct argv *reasons);

#endif
