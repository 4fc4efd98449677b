/* maildrop: the maildrop file, the hand-over from sendmail through the set-group-id postdrop to
 * pickup (docs/architecture.md, "Local submission: the maildrop file").
 *
 * Record stream (queue-file record syntax, no V/C/T records):
 *     F (sender, exactly one, first)  A* (fullname, rewrite_context, dsn_envid, dsn_ret,
 *     submit_flags)  then per recipient D? N? R   M   L/P*   X   E
 * The checker below is the one rule set both postdrop (reading sendmail's stream) and pickup
 * (reading the file) apply; neither trusts the other side.
 *
 * Writing: maildrop_create() makes maildrop/<queue-id> with mode 0600; maildrop_finish() writes
 * the buffered records, fsyncs and only then sets mode 0700 ("ready"). */
#ifndef KESTREL_MAIL_MAILDROP_H
#define KESTREL_MAIL_MAILDROP_H

#include "base/str.h"
#include "mail/dsn.h"

#include <stddef.h>

#define MAILDROP_QUEUE "maildrop"
#define MAILDROP_ENVELOPE_LIMIT 4096    /* data bytes of one envelope record */
#define MAILDROP_RCPT_LIMIT 100000      /* recipients in one file */
#define MAILDROP_ATTR_LIMIT 20          /* A records in one file */
#define MAILDROP_FLAGS_ALLOWED (1 << 4) /* submit_flags may only carry CLEANUP_FLAG_EXTRACT */

enum maildrop_segment { MD_SEG_START, MD_SEG_ENVELOPE, MD_SEG_CONTENT, MD_SEG_FINAL, MD_SEG_DONE };

struct maildrop_check {
    enum maildrop_segment seg;
    size_t content_limit; /* data bytes of one L/P record */
    long long size_limit; /* content bytes in all (0: unlimited) */
    long long content_bytes;
    long rcpts, attrs;
    int pending_notify, pending_orcpt;
    int submit_flags; /* from the submit_flags attribute */
};

/* content_limit: the longest L/P record (line_length_limit); size_limit: message_size_limit. */
void maildrop_check_init(struct maildrop_check *c, size_t content_limit, long long size_limit);
/* The largest record data rec_get() should accept. */
size_t maildrop_record_limit(const struct maildrop_check *c);
/* Checks the next record. 0, or -1 with the reason in why (e.g. "unexpected record type 'V'"). */
int maildrop_check_record(struct maildrop_check *c, int type, const struct str *data,
                          struct str *why);
/* 1 once the E record was seen. */
int maildrop_check_complete(const struct maildrop_check *c);

/* 1 if text has no NUL, CR or LF (safe for an envelope record, a log line or a protocol). */
int maildrop_text_ok(const char *text, size_t len);

struct maildrop_writer {
    int fd;
    struct str id;   /* the file's name in maildrop/ */
    struct str path; /* <dir>/maildrop/<id> */
    struct str buf;
    int failed; /* sticky errno */
};

/* Creates <queue_dir>/maildrop/<id> (mode 0600). 0, or -1 with err set. */
int maildrop_create(struct maildrop_writer *w, const char *queue_dir, struct str *err);
void maildrop_put(struct maildrop_writer *w, int type, const void *data, size_t len);
/* Writes what is buffered, fsyncs, sets mode 0700 and closes; id and path stay valid until
 * maildrop_release(). 0, or -1 (file removed, writer released). */
int maildrop_finish(struct maildrop_writer *w, struct str *err);
/* Frees the id and path a finished writer keeps (for the caller's messages). */
void maildrop_release(struct maildrop_writer *w);
/* Removes the file and releases the writer. */
void maildrop_abort(struct maildrop_writer *w);

/* Sends a wake-up request to a trigger service (a FIFO or a unix stream socket, e.g.
 * "public/pickup", "public/qmgr"). 0, or -1 with why set (e.g. nothing listens). */
int mail_trigger(const char *endpoint, const char *req, size_t len, int timeout, struct str *why);

/* Modes of a maildrop file: being written (owner only), and complete. The owner-execute bit
 * marks it ready; it is readable by pickup, which runs as mail_owner while the file belongs to
 * the submitting user (maildrop/ itself cannot be listed by other users). */
#define MAILDROP_MODE_WRITING 0600
#define MAILDROP_MODE_READY 0744

#endif
