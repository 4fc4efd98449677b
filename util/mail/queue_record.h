/* queue_record: the typed records that make up a queue file (docs/architecture.md, "Queue file").
 *
 * A record is one type byte, the data length in decimal, ':', the data bytes, and '\n':
 *     F11:user@domain\n
 * The length makes any byte legal in the data; the final '\n' is a framing check. A reader
 * enforces a maximum length and rejects anything malformed as corrupt. */
#ifndef KESTREL_MAIL_QUEUE_RECORD_H
#define KESTREL_MAIL_QUEUE_RECORD_H

#include "base/str.h"

#include <sys/types.h>

/* Record types. Envelope segment: */
#define REC_VERSION 'V'   /* first record: format version ("1") */
#define REC_SIZE 'C'      /* fixed-width sizes, rewritten in place when the file is complete */
#define REC_TIME 'T'      /* arrival time "seconds.microseconds" */
#define REC_SENDER 'F'    /* envelope sender, internal form; empty for the null sender */
#define REC_ATTR 'A'      /* named attribute "name=value" (client, protocol, DSN ENVID/RET, ...) */
#define REC_ORIG 'O'      /* original recipient (before rewriting) of the next R record */
#define REC_DSN_ORCPT 'D' /* DSN ORCPT of the next R record ("type;address", decoded) */
#define REC_NOTIFY 'N'    /* DSN NOTIFY flags for the next R record (decimal bit mask) */
#define REC_RCPT 'R'      /* a recipient still to be delivered */
#define REC_DONE 'r'      /* a recipient that needs no more delivery attempts (flipped in place) */
#define REC_WARN 'W'      /* fixed-width time of the next delay warning; 0 when sent */
#define REC_CONTENT 'M'   /* start of the message content segment */
/* Content segment: */
#define REC_LINE 'L' /* a line of content, without its line ending */
#define REC_PART 'P' /* a piece of a long line; the next L or P record continues it */
/* Final segment: */
#define REC_XTRA 'X' /* start of the segment after the content (extracted information) */
#define REC_END 'E'  /* last record; a file without it is incomplete */

#define REC_EOF (-2)   /* clean end of file between records */
#define REC_ERROR (-1) /* malformed, truncated or too long: the file is corrupt */

/* Appends one encoded record to out. */
void rec_put(struct str *out, int type, const void *data, size_t len);
void rec_puts(struct str *out, int type, const char *text);
void rec_putf(struct str *out, int type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sequential reader over a file descriptor. */
struct rec_reader {
    int fd;
    off_t offset; /* file offset of the next unread byte */
    char buf[65536];
    size_t start, end;
    struct str error;
};

void rec_reader_init(struct rec_reader *r, int fd, off_t offset);
void rec_reader_release(struct rec_reader *r);
/* Reads the next record into data (at most `limit` data bytes). Returns the type, REC_EOF at a
 * clean end of file, or REC_ERROR with r->error set. *rec_offset (may be NULL) receives the
 * file offset of the record's type byte, for in-place updates. */
int rec_get(struct rec_reader *r, struct str *data, size_t limit, off_t *rec_offset);

/* Reads one record from a stream (the cleanup protocol carries records over a socket). Returns
 * the type, REC_EOF when the stream ended cleanly between records, or REC_ERROR with err set
 * ("lost connection", "timeout", "record too long", ...). Unknown types are errors. */
struct stream;
int rec_get_stream(struct stream *s, struct str *data, size_t limit, struct str *err);

#endif
