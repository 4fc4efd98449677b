/* mime_scan: message content split the way header and body checks see it (header_checks(5)),
 * fed one record at a time. Out come logical headers — a header with its continuation lines,
 * joined by '\n', at most header_size_limit bytes (the rest is dropped, as Postfix does) —
 * classed as primary (the message's own headers), multipart (the headers of a MIME part) or
 * nested (the headers of an attached message: any message type but partial and external-body),
 * and everything else as body records, multipart boundaries included. The structure comes from
 * Content-Type (multipart types with boundary=, message types, multipart/digest's default part
 * type) and Content-Transfer-Encoding, up to mime_nesting_limit multipart levels. */
#ifndef KESTREL_MAIL_MIME_SCAN_H
#define KESTREL_MAIL_MIME_SCAN_H

#include "base/str.h"

#include <stddef.h>

enum mime_hdr_class { MIME_HDR_PRIMARY, MIME_HDR_MULTIPART, MIME_HDR_NESTED };

struct mime_scan_opts {
    size_t header_limit;   /* header_size_limit */
    size_t nesting_limit;  /* mime_nesting_limit: multipart levels */
    size_t boundary_limit; /* mime_boundary_length_limit: boundaries compare this far */
    int disable_mime;      /* disable_mime_input_processing: all after the headers is body */
};

struct mime_scan_ops {
    /* A complete logical header; the callee may change or empty the string. */
    void (*header)(void *ctx, enum mime_hdr_class cls, struct str *header);
    /* A body record: a whole line (eol), or a piece of a long line (more follows). */
    void (*body)(void *ctx, const char *data, size_t len, int eol);
};

struct mime_scan;

struct mime_scan *mime_scan_new(const struct mime_scan_opts *opts, const struct mime_scan_ops *ops,
                                void *ctx);
/* One record of content: a whole line (eol) or a piece of a long one. */
void mime_scan_put(struct mime_scan *ms, const char *data, size_t len, int eol);
/* End of content: delivers what is still pending (the last header). */
void mime_scan_end(struct mime_scan *ms);
void mime_scan_free(struct mime_scan *ms);

#endif
