/* mime_state: a one-pass MIME structure parser (RFC 2045, RFC 2046) for content inspection, as
 * cleanup's header/body checks and the smtp client's smtp_*_checks need it. The caller feeds one
 * logical line at a time (without its line terminator, of any length), or the line in pieces
 * as queue file records hold it (mime_state_update_piece); the parser tells header
 * blocks from bodies, follows multipart boundaries (nested, quoted or not, matched as a prefix of
 * the line as RFC 2046 section 5.1.1 asks) and message/rfc822 attachments, and hands back each
 * logical header with its class and each body line with its offset in its body segment. The
 * content itself is passed on unchanged; only the callbacks may change a header's text. */
#ifndef KESTREL_MAIL_MIME_STATE_H
#define KESTREL_MAIL_MIME_STATE_H

#include "base/str.h"
#include "mail/header_info.h"

#include <stddef.h>

/* Where a header is: the message's own header section, the header block after a multipart
 * boundary, or the start of an attached (message/rfc822) message. */
enum mime_hdr_class { MIME_HDR_PRIMARY, MIME_HDR_MULTIPART, MIME_HDR_NESTED };

/* Options (mime_state_create). */
#define MIME_OPT_DISABLE_MIME                                                                      \
    (1 << 0) /* no Content-* processing: all after the primary                                     \
              * headers is body (disable_mime_input_processing) */
#define MIME_OPT_REPORT_NESTING (1 << 1)
#define MIME_OPT_REPORT_TRUNC_HEADER (1 << 2)
#define MIME_OPT_REPORT_8BIT_IN_HEADER (1 << 3)
#define MIME_OPT_REPORT_8BIT_IN_7BIT_BODY (1 << 4)
#define MIME_OPT_REPORT_ENCODING_DOMAIN (1 << 5)

/* Errors (each reported once, only when its REPORT option is set). */
#define MIME_ERR_NESTING (1 << 0)           /* multipart nested deeper than nesting_limit */
#define MIME_ERR_TRUNC_HEADER (1 << 1)      /* a header longer than header_limit (truncated) */
#define MIME_ERR_8BIT_IN_HEADER (1 << 2)    /* 8-bit data in a header */
#define MIME_ERR_8BIT_IN_7BIT_BODY (1 << 3) /* 8-bit data in content that is (by default) 7bit */
#define MIME_ERR_ENCODING_DOMAIN                                                                   \
    (1 << 4) /* message/ or multipart/ with a transformation                                       \
              * (base64, quoted-printable) as its encoding */

/* The class whose header_checks(5) table checks a header: a MIME header (Content-*,
 * MIME-Version) goes to mime_header_checks (MIME_HDR_MULTIPART) wherever it stands; any other
 * keeps its class (primary: header_checks, multipart part: mime_header_checks, attached
 * message: nested_header_checks). */
enum mime_hdr_class mime_hdr_checks_class(enum mime_hdr_class cls, const struct header_info *hi);

struct mime_error_detail {
    int code;
    const char *dsn;  /* RFC 3463 status */
    const char *text; /* as Postfix words it */
};

/* The most serious of the errors in the bit mask (NULL for 0). */
const struct mime_error_detail *mime_state_detail(int errors);

struct mime_limits {
    size_t header_limit;   /* bytes kept of one logical header (header_size_limit) */
    size_t boundary_limit; /* bytes kept of a boundary string (mime_boundary_length_limit) */
    int nesting_limit;     /* open multipart levels (mime_nesting_limit) */
};

/* A part's Content-Transfer-Encoding (7bit when absent or unknown). */
enum mime_encoding { MIME_ENC_7BIT, MIME_ENC_8BIT, MIME_ENC_BINARY, MIME_ENC_QP, MIME_ENC_BASE64 };

/* What a header block said, at its end (block_end). */
struct mime_block {
    enum mime_hdr_class cls; /* whose block it is */
    int composite;           /* multipart/ or message/: not encoded as a whole (RFC 2046) */
    enum mime_encoding encoding;
};

struct mime_callbacks {
    /* A complete logical header: "Name: value", physical lines joined by '\n', the obsolete
     * "Name :" normalised to "Name:". The callback may change the text. */
    void (*header)(void *ctx, enum mime_hdr_class cls, const struct header_info *hi,
                   struct str *text);
    /* The primary header section is over (before its separator line). May be NULL. */
    void (*header_end)(void *ctx);
    /* A body line: everything that is not a header, including the blank line after each
     * header block and the boundary lines. offset: the line's first byte from the start of its
     * body segment (the body after a header block, or after a closing boundary), counting
     * each line break as one byte. */
    void (*body)(void *ctx, const char *line, size_t len, long offset);
    /* The first error of each kind: its code and the offending text. May be NULL. */
    void (*error)(void *ctx, int code, const char *text, size_t len);
    /* Only with mime_state_update_piece: a piece of a body line that more of the line follows
     * (the line's last piece goes to body). offset as for body; a piece adds its length only,
     * the line break is counted after the last piece. May be NULL when no pieces are fed. */
    void (*body_piece)(void *ctx, const char *data, size_t len, long offset);
    /* Any header block is over (after header_end for the primary one; before the separator
     * line goes to body). May be NULL. */
    void (*block_end)(void *ctx, const struct mime_block *b);
    /* A multipart delimiter line is next (it goes to body): the part before it is over. May
     * be NULL. */
    void (*part_end)(void *ctx);
};

struct mime_state;

/* A parser at the start of a message (primary headers, text/plain 7bit). */
struct mime_state *mime_state_create(int options, const struct mime_limits *limits,
                                     const struct mime_callbacks *cb, void *ctx);
void mime_state_free(struct mime_state *ms);

/* One logical input line. Returns the errors so far. */
int mime_state_update(struct mime_state *ms, const char *line, size_t len);
/* Bytes of a header-block line that are enough to tell what it is (a header, a continuation,
 * or text that ends the block): mime_state_update_piece joins the pieces of a line this far. */
#define MIME_CLASSIFY_BYTES 1000

/* Input in records, as queue files hold it: a whole line (eol), or a piece of a long line that
 * more pieces follow (eol 0). In a header block a line's pieces are joined as far as
 * MIME_CLASSIFY_BYTES to tell what the line is, and a header's pieces make one header (up to
 * header_limit). Body lines go out piece by piece (body_piece, then body for the last one),
 * and only a line's first piece can be a boundary. mime_state_update is the same with eol
 * set. Returns the errors so far. */
int mime_state_update_piece(struct mime_state *ms, const char *data, size_t len, int eol);
/* The end of the input: a pending header goes out (also one whose line has no end yet).
 * Returns the errors so far. */
int mime_state_finish(struct mime_state *ms);

/* For a caller that collects and checks the primary header section itself (cleanup): one
 * primary logical header, noted for its Content-Type / Content-Transfer-Encoding (no header
 * callback); then the end of the section, whose separator line the caller writes itself (no
 * body callback; the first body line fed next is at offset 1). Both return the errors so far. */
int mime_state_primary_header(struct mime_state *ms, const char *text, size_t len);
int mime_state_primary_end(struct mime_state *ms);

/* Open multipart levels right now (for tests and diagnostics). */
size_t mime_state_depth(const struct mime_state *ms);

#endif
