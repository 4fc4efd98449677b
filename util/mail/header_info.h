/* header_info: recognising RFC 5322 header lines and the headers mail programs treat specially
 * (sender and recipient address headers, Resent- variants, hop counters). */
#ifndef KESTREL_MAIL_HEADER_INFO_H
#define KESTREL_MAIL_HEADER_INFO_H

#include <stddef.h>

/* Header flags. */
#define HDR_F_SENDER (1 << 0)    /* holds sender addresses (From, Sender, Reply-To, ...) */
#define HDR_F_RECIPIENT (1 << 1) /* holds recipient addresses (To, Cc, Bcc, ...) */
#define HDR_F_RESENT (1 << 2)    /* a Resent- header */
#define HDR_F_HOP (1 << 3)       /* counts towards hopcount_limit (Received, Delivered-To) */
#define HDR_F_MIME (1 << 4)      /* a MIME header (MIME-Version, Content-*) */

enum header_id {
    HDR_OTHER,
    HDR_FROM,
    HDR_SENDER,
    HDR_REPLY_TO,
    HDR_ERRORS_TO,
    HDR_RETURN_RECEIPT_TO,
    HDR_RETURN_PATH,
    HDR_TO,
    HDR_CC,
    HDR_BCC,
    HDR_APPARENTLY_TO,
    HDR_RESENT_FROM,
    HDR_RESENT_SENDER,
    HDR_RESENT_REPLY_TO,
    HDR_RESENT_TO,
    HDR_RESENT_CC,
    HDR_RESENT_BCC,
    HDR_DATE,
    HDR_RESENT_DATE,
    HDR_MESSAGE_ID,
    HDR_RESENT_MESSAGE_ID,
    HDR_RECEIVED,
    HDR_DELIVERED_TO,
    HDR_MIME_VERSION,
    HDR_CONTENT,
};

struct header_info {
    const char *name;
    enum header_id id;
    int flags;
};

/* Length of the header name when line starts a header ("Name:" or "Name :"; the name is
 * printable ASCII other than ':'), else 0. *value_offset (may be NULL) receives the offset just
 * after the ':'. */
size_t header_name_length(const char *line, size_t len, size_t *value_offset);
/* 1 when the line continues the previous header (starts with space or tab). */
int header_is_continuation(const char *line, size_t len);
/* The known header of that name (case-insensitive), or a static HDR_OTHER entry. Names that
 * begin with "Content-" are HDR_CONTENT. */
const struct header_info *header_info_find(const char *name, size_t len);

#endif
