/* mime_state: the MIME structure state machine (see mime_state.h). States: a header block
 * (primary, after a multipart boundary, or at the start of an attached message) or a body. A
 * logical header is held until the next line shows it complete. At the end of a header block
 * the last Content-Type decides what follows: an attached message starts with its own header
 * block, a multipart opens a boundary level. In a body, a line that starts with "--" and one of
 * the open boundaries (innermost first) is a delimiter: it closes the levels inside it, and
 * either starts a part's header block or, with a trailing "--", closes its own level. Input in
 * pieces: a header-block line's start is collected until it tells what the line is; the rest of
 * the line then goes to the pending header or out as body pieces. */
#include "mail/mime_state.h"

#include "base/argv.h"
#include "base/mem.h"
#include "mail/mime_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum phase { PH_PRIMARY, PH_MULTIPART, PH_NESTED, PH_BODY };
enum ctype { CT_OTHER, CT_TEXT, CT_MESSAGE, CT_MULTIPART };
enum stype { ST_OTHER, ST_RFC822, ST_PARTIAL, ST_EXTERNAL };
/* Where the next input piece goes: a line's start, or the rest of a line whose start was a
 * piece: still to be told (collected), a header's, or body. */
enum line_mode { LN_START, LN_COLLECT, LN_HEADER, LN_BODY };

static const char *const enc_names[] = {"7bit", "8bit", "binary", "quoted-printable", "base64"};

struct level {
    char *boundary; /* its first boundary_limit bytes */
    size_t len, full_len;
    enum ctype part_ctype; /* a part's default: text/plain, or message/rfc822 in a digest */
    enum stype part_stype;
};

struct mime_state {
    int options, errors;
    struct mime_limits lim;
    struct mime_callbacks cb;
    void *ctx;
    enum phase phase;
    enum ctype ctype;
    enum stype stype;
    enum mime_encoding encoding;
    struct str hdr; /* the pending logical header */
    int pending;
    struct level *levels;
    size_t depth, cap;
    long body_offset;
    enum line_mode line_mode;
    struct str start; /* LN_COLLECT: the line's start so far */
};

static const struct mime_error_detail details[] = {
    /* most serious first */
    {MIME_ERR_NESTING, "5.6.0", "MIME nesting exceeds safety limit"},
    {MIME_ERR_TRUNC_HEADER, "5.6.0", "message header length exceeds safety limit"},
    {MIME_ERR_8BIT_IN_HEADER, "5.6.0", "improper use of 8-bit data in message header"},
    {MIME_ERR_8BIT_IN_7BIT_BODY, "5.6.0", "improper use of 8-bit data in message body"},
    {MIME_ERR_ENCODING_DOMAIN, "5.6.0", "invalid message/* or multipart/* encoding domain"},
};

const struct mime_error_detail *mime_state_detail(int errors)
{
    for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++)
        if (errors & details[i].code)
            return &details[i];
    return NULL;
}

enum mime_hdr_class mime_hdr_checks_class(enum mime_hdr_class cls, const struct header_info *hi)
{
    return (hi->flags & HDR_F_MIME) ? MIME_HDR_MULTIPART : cls;
}

static void report(struct mime_state *ms, int option, int code, const char *text, size_t len)
{
    if (!(ms->options & option) || (ms->errors & code))
        return;
    ms->errors |= code;
    if (ms->cb.error)
        ms->cb.error(ms->ctx, code, text, len);
}

static int has_8bit(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] & 0x80)
            return 1;
    return 0;
}

struct mime_state *mime_state_create(int options, const struct mime_limits *limits,
                                     const struct mime_callbacks *cb, void *ctx)
{
    struct mime_state *ms = xcalloc(1, sizeof(*ms));
    ms->options = options;
    ms->lim = *limits;
    if (ms->lim.header_limit == 0)
        ms->lim.header_limit = 102400;
    if (ms->lim.boundary_limit == 0)
        ms->lim.boundary_limit = 2048;
    ms->cb = *cb;
    ms->ctx = ctx;
    ms->phase = PH_PRIMARY;
    ms->ctype = CT_TEXT;
    return ms;
}

void mime_state_free(struct mime_state *ms)
{
    if (ms == NULL)
        return;
    for (size_t i = 0; i < ms->depth; i++)
        free(ms->levels[i].boundary);
    free(ms->levels);
    str_release(&ms->hdr);
    str_release(&ms->start);
    free(ms);
}

size_t mime_state_depth(const struct mime_state *ms)
{
    return ms->depth;
}

/* ---- boundary levels ---- */

static void push_level(struct mime_state *ms, const char *boundary, int digest, const char *hdr,
                       size_t hdr_len)
{
    if (ms->lim.nesting_limit <= 0 || ms->depth >= (size_t)ms->lim.nesting_limit) {
        report(ms, MIME_OPT_REPORT_NESTING, MIME_ERR_NESTING, hdr, hdr_len);
        return;
    }
    ms->levels = xgrow(ms->levels, &ms->cap, ms->depth + 1, sizeof(*ms->levels));
    struct level *l = &ms->levels[ms->depth++];
    l->full_len = strlen(boundary);
    l->len = l->full_len < ms->lim.boundary_limit ? l->full_len : ms->lim.boundary_limit;
    l->boundary = xstrndup(boundary, l->len);
    l->part_ctype = digest ? CT_MESSAGE : CT_TEXT;
    l->part_stype = digest ? ST_RFC822 : ST_OTHER;
}

static void pop_to(struct mime_state *ms, size_t depth)
{
    while (ms->depth > depth)
        free(ms->levels[--ms->depth].boundary);
}

/* ---- MIME headers ---- */

static int header_is(const char *text, size_t nlen, const char *name)
{
    return strlen(name) == nlen && strncasecmp(text, name, nlen) == 0;
}

/* A Content-Type header (text, len) whose value starts at voff. */
static void content_type(struct mime_state *ms, const char *text, size_t len, size_t voff)
{
    struct str type = STR_INIT, sub = STR_INIT;
    struct argv *boundaries = argv_new();
    if (mime_parse_content_type(text + voff, len - voff, &type, &sub, boundaries)) {
        ms->stype = ST_OTHER;
        if (strcmp(type.data, "text") == 0)
            ms->ctype = CT_TEXT;
        else if (strcmp(type.data, "message") == 0) {
            ms->ctype = CT_MESSAGE;
            if (strcmp(sub.data, "rfc822") == 0 || strcmp(sub.data, "global") == 0)
                ms->stype = ST_RFC822;
            else if (strcmp(sub.data, "partial") == 0)
                ms->stype = ST_PARTIAL;
            else if (strcmp(sub.data, "external-body") == 0)
                ms->stype = ST_EXTERNAL;
        } else if (strcmp(type.data, "multipart") == 0) {
            ms->ctype = CT_MULTIPART;
            /* several boundary parameters (illegal) each open a level, so that content hidden
             * behind any one of them is still found */
            for (size_t i = 0; i < boundaries->n; i++)
                push_level(ms, boundaries->v[i], strcmp(sub.data, "digest") == 0, text, len);
        } else
            ms->ctype = CT_OTHER;
    }
    argv_free(boundaries);
    str_release(&type);
    str_release(&sub);
}

static void content_encoding(struct mime_state *ms, const char *value, size_t len)
{
    struct str enc = STR_INIT;
    if (mime_parse_encoding(value, len, &enc))
        for (size_t i = 0; i < sizeof(enc_names) / sizeof(enc_names[0]); i++)
            if (strcmp(enc.data, enc_names[i]) == 0)
                ms->encoding = (enum mime_encoding)i;
    str_release(&enc);
}

/* Notes what a complete header says about the structure; returns its header_info. */
static const struct header_info *note_header(struct mime_state *ms, const char *text, size_t len)
{
    size_t voff = 0, nlen = header_name_length(text, len, &voff);
    if ((ms->options & MIME_OPT_REPORT_8BIT_IN_HEADER) && has_8bit(text, len))
        report(ms, MIME_OPT_REPORT_8BIT_IN_HEADER, MIME_ERR_8BIT_IN_HEADER, text, len);
    if (!(ms->options & MIME_OPT_DISABLE_MIME) && nlen > 0) {
        if (header_is(text, nlen, "Content-Type"))
            content_type(ms, text, len, voff);
        else if (header_is(text, nlen, "Content-Transfer-Encoding"))
            content_encoding(ms, text + voff, len - voff);
    }
    return header_info_find(text, nlen);
}

/* ---- header blocks ---- */

static void flush_header(struct mime_state *ms)
{
    if (!ms->pending)
        return;
    ms->pending = 0;
    const struct header_info *hi = note_header(ms, ms->hdr.data, ms->hdr.len);
    if (ms->cb.header)
        ms->cb.header(ms->ctx, (enum mime_hdr_class)ms->phase, hi, &ms->hdr);
    str_clear(&ms->hdr);
}

/* Appends to the pending header what fits in header_limit. */
static void append_bounded(struct mime_state *ms, const char *text, size_t len)
{
    size_t room = ms->lim.header_limit > ms->hdr.len ? ms->lim.header_limit - ms->hdr.len : 0;
    str_appendn(&ms->hdr, text, len < room ? len : room);
    if (len > room)
        report(ms, MIME_OPT_REPORT_TRUNC_HEADER, MIME_ERR_TRUNC_HEADER, ms->hdr.data, ms->hdr.len);
}

/* A header's first line: "Name :" is normalised to "Name:". */
static void start_header(struct mime_state *ms, const char *line, size_t len, size_t nlen)
{
    const char *colon = memchr(line + nlen, ':', len - nlen);
    str_set(&ms->hdr, "");
    ms->pending = 1;
    append_bounded(ms, line, nlen);
    append_bounded(ms, colon, (size_t)(line + len - colon));
}

static void encoding_domain_check(struct mime_state *ms)
{
    int bad = 0;
    if (ms->ctype == CT_MESSAGE && (ms->stype == ST_PARTIAL || ms->stype == ST_EXTERNAL))
        bad = ms->encoding != MIME_ENC_7BIT; /* RFC 2046 section 5.2.2.1 and 5.2.3.1 */
    else if (ms->ctype == CT_MESSAGE || ms->ctype == CT_MULTIPART)
        bad = ms->encoding == MIME_ENC_QP || ms->encoding == MIME_ENC_BASE64;
    if (bad) {
        const char *name = enc_names[ms->encoding];
        report(ms, MIME_OPT_REPORT_ENCODING_DOMAIN, MIME_ERR_ENCODING_DOMAIN, name, strlen(name));
    }
}

static void set_type(struct mime_state *ms, enum phase ph, enum ctype ct, enum stype st)
{
    ms->phase = ph;
    ms->ctype = ct;
    ms->stype = st;
    ms->encoding = MIME_ENC_7BIT;
}

/* The end of a header block, by a blank line (blank) or by a line that is no header. */
static void end_header_block(struct mime_state *ms, int blank)
{
    if (ms->phase == PH_PRIMARY && ms->cb.header_end)
        ms->cb.header_end(ms->ctx);
    encoding_domain_check(ms);
    if (ms->cb.block_end) {
        struct mime_block b = {(enum mime_hdr_class)ms->phase,
                               ms->ctype == CT_MESSAGE || ms->ctype == CT_MULTIPART, ms->encoding};
        ms->cb.block_end(ms->ctx, &b);
    }
    ms->body_offset = 0;
    if (!blank)
        ms->phase = PH_BODY; /* malformed: what follows is body, whatever the type said */
    else if (ms->ctype == CT_MESSAGE && ms->stype == ST_RFC822)
        set_type(ms, PH_NESTED, CT_TEXT, ST_OTHER);
    else if (ms->ctype == CT_MULTIPART)
        set_type(ms, PH_BODY, CT_OTHER, ST_OTHER); /* the preamble */
    else
        ms->phase = PH_BODY;
}

/* A body line, or a piece of one that more of the line follows (!eol). */
static void body_out(struct mime_state *ms, const char *line, size_t len, int eol)
{
    void (*out)(void *, const char *, size_t, long) = eol ? ms->cb.body : ms->cb.body_piece;
    if (out)
        out(ms->ctx, line, len, ms->body_offset);
    ms->body_offset += (long)len + (eol ? 1 : 0);
}

/* A header-block line; returns 1 when it ended the block and is still to be handled as body. */
static int header_line(struct mime_state *ms, const char *line, size_t len)
{
    if (ms->pending && header_is_continuation(line, len)) {
        append_bounded(ms, "\n", 1);
        append_bounded(ms, line, len);
        return 0;
    }
    flush_header(ms);
    size_t nlen = header_name_length(line, len, NULL);
    if (nlen > 0) {
        start_header(ms, line, len, nlen);
        return 0;
    }
    int primary = ms->phase == PH_PRIMARY;
    end_header_block(ms, len == 0);
    if (primary && len > 0)
        body_out(ms, "", 0, 1); /* the missing separator */
    return 1;
}

/* ---- bodies ---- */

/* A delimiter line of one of the open levels: the level index, else -1. */
static long find_boundary(const struct mime_state *ms, const char *line, size_t len)
{
    if (ms->depth == 0 || len < 3 || line[0] != '-' || line[1] != '-')
        return -1;
    for (size_t i = ms->depth; i-- > 0;) {
        const struct level *l = &ms->levels[i];
        if (len - 2 >= l->len && memcmp(line + 2, l->boundary, l->len) == 0)
            return (long)i;
    }
    return -1;
}

static void check_8bit_body(struct mime_state *ms, const char *text, size_t len)
{
    if ((ms->options & MIME_OPT_REPORT_8BIT_IN_7BIT_BODY) && ms->encoding == MIME_ENC_7BIT &&
        has_8bit(text, len))
        report(ms, MIME_OPT_REPORT_8BIT_IN_7BIT_BODY, MIME_ERR_8BIT_IN_7BIT_BODY, text, len);
}

/* A body line, or its first piece (!eol). */
static void body_line(struct mime_state *ms, const char *line, size_t len, int eol)
{
    check_8bit_body(ms, line, len);
    long i = find_boundary(ms, line, len);
    if (i >= 0) {
        const struct level *l = &ms->levels[i];
        if (ms->cb.part_end)
            ms->cb.part_end(ms->ctx);
        /* a close delimiter: "--" after the whole boundary, even if only a prefix was kept */
        size_t end = 2 + l->full_len;
        if (len >= end + 2 && line[end] == '-' && line[end + 1] == '-') {
            pop_to(ms, (size_t)i);
            set_type(ms, PH_BODY, CT_OTHER, ST_OTHER); /* the epilogue */
            ms->body_offset = 0;
        } else {
            pop_to(ms, (size_t)i + 1);
            set_type(ms, PH_MULTIPART, l->part_ctype, l->part_stype);
        }
    }
    body_out(ms, line, len, eol);
}

/* ---- input ---- */

/* A whole line, or the start of one (!eol: at least MIME_CLASSIFY_BYTES, or all there is at
 * the end of the input); then says where the rest of the line goes. */
static enum line_mode line_start(struct mime_state *ms, const char *line, size_t len, int eol)
{
    if (ms->phase != PH_BODY && header_line(ms, line, len) == 0)
        return LN_HEADER;
    body_line(ms, line, len, eol);
    return LN_BODY;
}

int mime_state_update(struct mime_state *ms, const char *line, size_t len)
{
    return mime_state_update_piece(ms, line, len, 1);
}

int mime_state_update_piece(struct mime_state *ms, const char *data, size_t len, int eol)
{
    switch (ms->line_mode) {
    case LN_START:
        if (eol || ms->phase == PH_BODY) {
            ms->line_mode = line_start(ms, data, len, eol);
            break;
        }
        str_set(&ms->start, "");
        ms->line_mode = LN_COLLECT;
        /* FALLTHROUGH */
    case LN_COLLECT:
        str_appendn(&ms->start, data, len);
        if (eol || ms->start.len >= MIME_CLASSIFY_BYTES)
            ms->line_mode = line_start(ms, ms->start.data, ms->start.len, eol);
        break;
    case LN_HEADER:
        append_bounded(ms, data, len);
        break;
    case LN_BODY:
        check_8bit_body(ms, data, len);
        body_out(ms, data, len, eol);
        break;
    }
    if (eol)
        ms->line_mode = LN_START;
    return ms->errors;
}

int mime_state_finish(struct mime_state *ms)
{
    if (ms->line_mode == LN_COLLECT && ms->start.len > 0)
        line_start(ms, ms->start.data, ms->start.len, 0);
    ms->line_mode = LN_START;
    if (ms->phase != PH_BODY) {
        flush_header(ms);
        end_header_block(ms, 0);
    }
    return ms->errors;
}

int mime_state_primary_header(struct mime_state *ms, const char *text, size_t len)
{
    if (ms->phase == PH_PRIMARY)
        note_header(ms, text, len);
    return ms->errors;
}

int mime_state_primary_end(struct mime_state *ms)
{
    if (ms->phase == PH_PRIMARY) {
        flush_header(ms);
        end_header_block(ms, 1);
        ms->body_offset = 1; /* the caller's separator line */
    }
    return ms->errors;
}
