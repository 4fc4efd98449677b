/* cleanup_out: content output — lines split into P/L pieces at line_length_limit, headers
 * written one physical line at a time, and message_size_limit. Body lines come here through
 * cleanup_mime.c (MIME structure, header and body checks). */
#include "cleanup.h"

#include "base/mem.h"

#include <string.h>

void cleanup_out_line(struct cleanup_state *st, const char *line, size_t len)
{
    if (st->status || st->discard)
        return;
    if (st->spooling) {
        cleanup_milter_spool_line(st, line, len);
        return;
    }
    size_t piece = cleanup_cfg.line_length_limit > 0 ? (size_t)cleanup_cfg.line_length_limit : len;
    while (len > piece && piece > 0) {
        queue_file_put(st->w, REC_PART, line, piece);
        line += piece;
        len -= piece;
    }
    queue_file_put(st->w, REC_LINE, line, len);
    if (cleanup_cfg.message_size_limit > 0 && st->w->content_bytes > cleanup_cfg.message_size_limit)
        cleanup_fail(st, CLEANUP_STAT_SIZE, NULL);
}

void cleanup_out_header(struct cleanup_state *st, const struct str *hdr)
{
    const char *p = hdr->data, *end = hdr->data + hdr->len;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        cleanup_out_line(st, p, nl ? (size_t)(nl - p) : (size_t)(end - p));
        if (nl == NULL)
            break;
        p = nl + 1;
    }
}
