/* message_copy: the message side of final delivery shared by local and virtual: a validated
 * queue file being delivered, the Delivered-To headers it already carries (loop detection),
 * the lines a delivery agent prepends (From_, Return-Path, X-Original-To, Delivered-To), and
 * copying the content to a file (bounded, failure-injectable writer) or into memory, with mbox
 * ">From " quoting when asked. */
#ifndef KESTREL_MAIL_MESSAGE_COPY_H
#define KESTREL_MAIL_MESSAGE_COPY_H

#include "base/argv.h"
#include "base/str.h"
#include "mail/queue_file.h"

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define MESSAGE_MAX_LINE (1L << 20) /* one content record */
#define MESSAGE_MAX_DELIVERED 100   /* Delivered-To headers remembered for loop checks */

/* The message being delivered: the validated queue file. */
struct mail_message {
    int fd;
    const struct queue_envelope *env;
    const char *queue_id;
    const char *sender;     /* envelope sender; "" for the null sender */
    struct argv *delivered; /* lowercased Delivered-To values found in the headers */
    time_t now;             /* the delivery time (From_ line, maildir names) */
};

enum {
    COPY_FROM_LINE = 1, /* mbox "From sender  date" line */
    COPY_QUOTE = 2,     /* ">From " quoting */
    COPY_BLANK = 4,     /* empty line after the message */
    COPY_RETURN_PATH = 8,
    COPY_DELIVERED = 16,
    COPY_ORIG_RCPT = 32,
};
#define COPY_MBOX                                                                                  \
    (COPY_FROM_LINE | COPY_QUOTE | COPY_BLANK | COPY_RETURN_PATH | COPY_DELIVERED | COPY_ORIG_RCPT)
#define COPY_MAILDIR (COPY_RETURN_PATH | COPY_DELIVERED | COPY_ORIG_RCPT)

/* Fills m->delivered from the message headers. Returns 0 or -1 (err set: queue file error). */
int message_scan_delivered(struct mail_message *m, struct str *err);
/* Nonzero when the message already has "Delivered-To: addr" (case-insensitive). */
int message_has_delivered(const struct mail_message *m, const char *addr);
/* Appends the prepended lines (From_, Return-Path, X-Original-To, Delivered-To) to out. */
void message_prepend(struct str *out, const struct mail_message *m, const char *delivered,
                     const char *orig, int flags);

/* An output file with a size limit. */
struct message_out {
    int fd;
    off_t limit; /* file size limit (0: none) */
    off_t pos;   /* current file offset (the caller sets it to the start position) */
    struct str buf;
};
/* Tests set this to make writes fail (return -1 with errno set). */
extern ssize_t (*message_write_hook)(int fd, const void *buf, size_t len);
/* Copies the message to out with flags; returns 0, or -1 with errno set (EFBIG past the
 * limit) and err holding a reason ("error writing message: ..."). */
int message_copy(struct mail_message *m, struct message_out *out, const char *delivered,
                 const char *orig, int flags, struct str *err);
/* The whole message (with prepended headers) in memory, for commands and forwarding. */
int message_copy_to_str(struct mail_message *m, struct str *out, const char *delivered,
                        const char *orig, int flags, struct str *err);

#endif
