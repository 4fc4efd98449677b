/* sm_input: reading a message as sendmail does: LF or CRLF lines, a leading "From " line
 * dropped, a lone "." ending the input unless -i, over-long lines split into records; and the
 * header tracking that -t needs to know whether any recipient exists. */
#include "sendmail.h"

#include "mail/address_header.h"
#include "mail/queue_record.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

int sm_getline(FILE *in, struct str *line, size_t limit, int *had_cr)
{
    str_clear(line);
    *had_cr = 0;
    int c;
    while ((c = getc(in)) != EOF) {
        if (c == '\n') {
            if (line->len && line->data[line->len - 1] == '\r') {
                str_truncate(line, line->len - 1);
                *had_cr = 1;
            }
            return 1;
        }
        if (line->len >= limit) {
            /* A piece of a long line; a CRLF right after it ends the line in the next call. */
            ungetc(c, in);
            return 2;
        }
        str_appendc(line, c);
    }
    return line->len ? 1 : 0;
}

int sm_read_message(FILE *in, const struct sm_input_opts *o, sm_put_fn put, void *ctx)
{
    struct str line = STR_INIT;
    int first = 1, continued = 0, had_cr, rc, result = 0;
    size_t limit = o->line_limit ? o->line_limit : 2048;
    while ((rc = sm_getline(in, &line, limit, &had_cr)) != 0) {
        if (!continued && rc == 1 && o->dot_ends && line.len == 1 && line.data[0] == '.') {
            result = 1;
            break;
        }
        if (first && o->from_ok && rc == 1 && strncmp(line.data, "From ", 5) == 0) {
            first = 0;
            continue;
        }
        first = 0;
        const char *p = line.data ? line.data : "";
        size_t n = line.len;
        if (!continued && o->unstuff && n && p[0] == '.') {
            p++;
            n--;
        }
        put(ctx, rc == 1 ? REC_LINE : REC_PART, p, n);
        continued = rc == 2;
    }
    if (continued)
        put(ctx, REC_LINE, "", 0);
    if (ferror(in))
        result = -1;
    str_release(&line);
    return result;
}

/* ---- headers (-t) -------------------------------------------------------------------------- */

static const char *const rcpt_headers[] = {"to",        "cc",         "bcc", "resent-to",
                                           "resent-cc", "resent-bcc", NULL};

void sm_headers_init(struct sm_headers *h, size_t limit)
{
    memset(h, 0, sizeof(*h));
    h->in_headers = 1;
    h->limit = limit ? limit : 102400;
}

static void header_done(struct sm_headers *h)
{
    const char *text = str_cstr(&h->current);
    const char *colon = strchr(text, ':');
    if (colon == NULL)
        return;
    size_t nlen = (size_t)(colon - text);
    while (nlen && (text[nlen - 1] == ' ' || text[nlen - 1] == '\t'))
        nlen--;
    for (int i = 0; rcpt_headers[i]; i++) {
        if (strlen(rcpt_headers[i]) == nlen && strncasecmp(text, rcpt_headers[i], nlen) == 0) {
            struct argv *found = argv_new();
            struct str err = STR_INIT;
            size_t vlen = h->current.len - (size_t)(colon + 1 - text);
            if (header_addr_extract(colon + 1, vlen, 0, found, &err) == 0)
                h->rcpts += (long)found->n;
            argv_free(found);
            str_release(&err);
        }
    }
    str_clear(&h->current);
}

/* A header line starts with a field name (printable, no space) followed by ':'. */
static int is_header_start(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] > 32 && p[i] < 127 && p[i] != ':')
        i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i > 0 && i < n && p[i] == ':';
}

int sm_headers_put(struct sm_headers *h, int type, const char *data, size_t len)
{
    if (!h->in_headers)
        return 0;
    int starts = !h->current.len || h->current.data[h->current.len - 1] == '\n';
    if (starts) {
        int folded = len && (data[0] == ' ' || data[0] == '\t') && h->current.len;
        if (!folded) {
            if (h->current.len)
                header_done(h);
            if (!is_header_start(data, len)) {
                h->in_headers = 0;
                return 1;
            }
        }
    }
    if (h->current.len < h->limit)
        str_appendn(&h->current, data, len);
    if (type == REC_LINE)
        str_appendc(&h->current, '\n');
    return 0;
}

void sm_headers_finish(struct sm_headers *h)
{
    if (h->in_headers && h->current.len)
        header_done(h);
    h->in_headers = 0;
}

void sm_headers_release(struct sm_headers *h)
{
    str_release(&h->current);
}
