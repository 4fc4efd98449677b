/* queue_file: creating, publishing and reading queue files (format: docs/architecture.md).
 *
 * Writing: queue_file_create() makes a new file in a queue directory under a fresh queue ID;
 * records are buffered with queue_file_put(); queue_file_publish() writes the end record,
 * rewrites the size record, fsyncs and only then sets the "ready" mode bit. Until then readers
 * ignore the file; queue_file_abort() removes it.
 *
 * Reading: queue_file_read_envelope() validates the whole file (record order, legal types per
 * segment, the end record) and returns the envelope; anything wrong makes it "corrupt". */
#ifndef KESTREL_MAIL_QUEUE_FILE_H
#define KESTREL_MAIL_QUEUE_FILE_H

#include "base/argv.h"
#include "base/str.h"
#include "mail/queue_record.h"

#include <sys/types.h>

#define QUEUE_MODE_WRITING 0600
#define QUEUE_MODE_READY 0700

/* Where queue files live and how IDs look. */
struct queue_naming {
    const char *queue_directory;
    const char *hash_queue_names;
    int hash_queue_depth;
    int long_queue_ids;
};

struct queue_file_writer {
    int fd;
    struct str id;     /* queue ID */
    struct str path;   /* absolute path of the file */
    struct str buf;    /* records not yet written */
    off_t size_offset; /* where the C record's data starts */
    off_t content_offset;
    off_t written;
    long content_bytes;
    long recipients;
    int failed; /* sticky write error (errno) */
};

/* Creates a file in `queue` (e.g. "incoming") and writes the V, C and T records.
 * Returns 0, or -1 with err set (e.g. disk full). */
int queue_file_create(struct queue_file_writer *w, const struct queue_naming *layout,
                      const char *queue, struct str *err);
void queue_file_put(struct queue_file_writer *w, int type, const void *data, size_t len);
void queue_file_puts(struct queue_file_writer *w, int type, const char *text);
/* Record types count towards the size record automatically (R and L/P records). Call
 * queue_file_start_content() before the first content record. */
void queue_file_start_content(struct queue_file_writer *w);
/* Finishes the file; returns 0 when it is durable and ready, -1 (err set, file removed) if not. */
int queue_file_publish(struct queue_file_writer *w, struct str *err);
void queue_file_abort(struct queue_file_writer *w);

struct queue_rcpt {
    char *address; /* R/r record */
    char *orig;    /* O record (before rewriting) or NULL */
    char *orcpt;   /* D record (DSN ORCPT) or NULL */
    long notify;   /* N record, 0 when absent */
    off_t offset;  /* of the type byte, for marking it done */
    int done;      /* 'r' */
};

struct queue_envelope {
    long arrival_sec, arrival_usec;
    char *sender;
    struct argv *attr_names, *attr_values;
    struct queue_rcpt *rcpts;
    size_t nrcpt, rcpt_cap;
    off_t content_offset; /* offset of the first content record */
    long content_bytes;
    long warn_time;
    off_t warn_offset; /* of the W record's data, 0 if none */
};

/* Reads and validates a complete queue file from fd (from offset 0). Returns 0, or -1 with
 * err describing the corruption. limit bounds every record's length. */
int queue_file_read_envelope(int fd, size_t limit, struct queue_envelope *env, struct str *err);
void queue_envelope_release(struct queue_envelope *env);
const char *queue_envelope_attr(const struct queue_envelope *env, const char *name);
/* Reading the content: position a reader at env->content_offset, then call
 * queue_content_get() until it returns 0. It returns REC_LINE (a whole line, or the last piece
 * of a long one), REC_PART (a piece of a long line; more follows), 0 at the end of the content,
 * or REC_ERROR (reason in r->error). */
void queue_content_open(struct rec_reader *r, int fd, const struct queue_envelope *env);
int queue_content_get(struct rec_reader *r, struct str *data, size_t limit);
/* Marks the recipient done in place (a one-byte write, not synced: a mark lost in a crash
 * only repeats a delivery — at least once, never lost). Whoever keeps the file for a later
 * attempt fsyncs it first, so finished recipients stay finished. */
int queue_file_mark_done(int fd, const struct queue_rcpt *rcpt);

#endif
