/* smtp_proto: the client side of SMTP shared by the smtp/lmtp delivery agent and smtpd's
 * before-queue filter proxy (smtpd_proxy_filter): reading and parsing server replies (RFC 5321
 * 4.2, multi-line replies, RFC 3463 enhanced status codes; every reply bounded in line length
 * and line count) and message content in DATA form (CRLF line ends, dot-stuffing). */
#ifndef KESTREL_MAIL_SMTP_PROTO_H
#define KESTREL_MAIL_SMTP_PROTO_H

#include <stddef.h>

#include "base/argv.h"
#include "base/str.h"
#include "base/stream.h"

/* ---- replies ---- */
#define SMTP_REPLY_LINE_MAX 2048 /* bytes per reply line */
#define SMTP_REPLY_LINES_MAX 100 /* lines per reply */

struct smtp_reply {
    int code;           /* 250 */
    struct str dsn;     /* enhanced code of the first line, else derived "2.0.0" */
    struct str text;    /* the whole reply, lines joined by a space: "250 2.0.0 Ok" */
    struct argv *lines; /* each line's text after "250-" / "250 " */
};
void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_release(struct smtp_reply *r);
/* One reply line: "NNN-text" or "NNN text" (or bare "NNN"). Returns 0, or -1 when malformed.
 * *more is 1 for a continuation line. */
int smtp_reply_parse_line(const char *line, int *code, int *more, const char **text);
/* Reads one complete reply. Returns 0, STREAM_EOF, STREAM_ERROR, STREAM_TIMEOUT, or
 * SMTP_REPLY_BAD (malformed, too long, too many lines, inconsistent codes). */
enum { SMTP_REPLY_BAD = -10 };
int smtp_reply_read(struct stream *s, struct smtp_reply *r);
/* The enhanced status code at the start of text that agrees with the reply class, else
 * "<class>.0.0". */
void smtp_reply_dsn(int code, const char *text, struct str *dsn);

/* ---- message text ---- */
struct smtp_text_state {
    int bol;    /* at the beginning of an output line */
    size_t col; /* bytes on the current output line */
};
void smtp_text_init(struct smtp_text_state *st);
/* Appends a piece of message content to out in SMTP DATA form: CRLF line ends, a leading
 * '.' doubled, lines longer than limit (0: none) broken with CRLF SPACE. eol: the piece
 * ends a line (REC_LINE) rather than continuing (REC_PART). */
void smtp_text_put(struct smtp_text_state *st, struct str *out, const char *data, size_t len,
                   int eol, size_t limit);
/* The "." line that ends DATA (after an unfinished last line, a CRLF first). */
void smtp_text_end(struct smtp_text_state *st, struct str *out);

#endif
