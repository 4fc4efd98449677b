/* smtp_mime_out: the 8BITMIME to 7BIT downgrade of outgoing content, for a server that does
 * not announce 8BITMIME (disable_mime_output_conversion = no). The content goes through the
 * MIME parser util/mail/mime_state; each header block is held until its end tells what the part
 * is. A multipart or message part is never encoded itself (RFC 2046): its children are, and an
 * 8bit/binary label on it becomes 7bit. A leaf part labelled 8bit or binary is converted to
 * quoted-printable; a leaf labelled 7bit (or not at all) is held until its body shows 8-bit
 * bytes (then converted) or ends without them (then sent as it was). Converting a part
 * replaces its Content-Transfer-Encoding header (or adds one) and, in a message's own header
 * block, adds "MIME-Version: 1.0" when there was none. 8-bit data in headers, preambles and
 * epilogues cannot be converted and goes out as it is, as in Postfix. */
#include "smtp.h"

#include "base/argv.h"
#include "base/codec.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/header_info.h"
#include "mail/mime_state.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A 7bit-labelled part held this long without 8-bit data is converted anyway (quoted-printable
 * of 7-bit text is still correct), so that memory stays bounded. */
#define HOLD_LIMIT (8 << 20)

enum mode {
    M_PASS, /* as it is */
    M_HOLD, /* a 7bit leaf: headers and body held until 8-bit data shows */
    M_QP    /* converted */
};

struct held_rec {
    size_t len;
    int eol;
};

struct smtp_mime_out {
    smtp_checks_out out;
    void *ctx;
    struct mime_state *ms;
    int errors;
    struct argv *hdrs; /* the header block being held */
    enum mime_hdr_class cls;
    enum mode mode;
    struct str held; /* M_HOLD: body records */
    struct held_rec *recs;
    size_t nrecs, cap;
    struct qp_state qp;
    int in_line; /* M_QP: a line was started by a piece */
    struct str enc;
};

static int has_8bit(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)data[i] & 0x80)
            return 1;
    return 0;
}

static int header_named(const char *text, const char *name)
{
    size_t nlen = header_name_length(text, strlen(text), NULL);
    return nlen == strlen(name) && strncasecmp(text, name, nlen) == 0;
}

/* ---- output ------------------------------------------------------------------------------ */

/* A logical header, one physical line at a time. */
static void put_header(struct smtp_mime_out *c, const char *h)
{
    for (;;) {
        const char *nl = strchr(h, '\n');
        size_t n = nl ? (size_t)(nl - h) : strlen(h);
        c->out(c->ctx, h, n, 1);
        if (!nl)
            break;
        h = nl + 1;
    }
}

/* The held header block goes out; with a new encoding (cte), its Content-Transfer-Encoding
 * headers give way to one with that value (MIME-Version added to a message's own block). */
static void put_headers(struct smtp_mime_out *c, const char *cte)
{
    int cte_done = 0, version = 0;
    for (size_t i = 0; i < c->hdrs->n; i++) {
        const char *h = c->hdrs->v[i];
        if (cte && header_named(h, "Content-Transfer-Encoding")) {
            if (!cte_done)
                put_header(c, cte);
            cte_done = 1;
            continue;
        }
        version |= header_named(h, "MIME-Version");
        put_header(c, h);
    }
    if (cte && !version && c->cls != MIME_HDR_MULTIPART)
        put_header(c, "MIME-Version: 1.0");
    if (cte && !cte_done)
        put_header(c, cte);
    argv_clear(c->hdrs);
}

/* Encoded lines go out; a line not finished yet goes out as a piece. */
static void put_encoded(struct smtp_mime_out *c, const char *data, size_t len, int eol)
{
    str_clear(&c->enc);
    qp_encode_piece(&c->qp, &c->enc, data, len, eol);
    const char *p = c->enc.data, *end = p + c->enc.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        c->out(c->ctx, p, nl ? (size_t)(nl - p) : (size_t)(end - p), nl != NULL);
        p = nl ? nl + 1 : end;
    }
    c->in_line = !eol;
}

static void start_qp(struct smtp_mime_out *c)
{
    put_headers(c, "Content-Transfer-Encoding: quoted-printable");
    qp_encode_init(&c->qp);
    c->in_line = 0;
    c->mode = M_QP;
}

/* A held part's body records go out, encoded or not. */
static void replay(struct smtp_mime_out *c, int encode)
{
    size_t off = 0;
    for (size_t i = 0; i < c->nrecs; i++) {
        const char *d = c->held.data + off;
        if (encode)
            put_encoded(c, d, c->recs[i].len, c->recs[i].eol);
        else
            c->out(c->ctx, d, c->recs[i].len, c->recs[i].eol);
        off += c->recs[i].len;
    }
    c->nrecs = 0;
    str_clear(&c->held);
}

/* The current part is over. */
static void end_part(struct smtp_mime_out *c)
{
    if (c->mode == M_HOLD) { /* no 8-bit data: as it was */
        put_headers(c, NULL);
        replay(c, 0);
    } else if (c->mode == M_QP && c->in_line)
        put_encoded(c, "", 0, 1);
    c->mode = M_PASS;
}

/* ---- parser callbacks -------------------------------------------------------------------- */

static void on_header(void *ctx, enum mime_hdr_class cls, const struct header_info *hi,
                      struct str *text)
{
    (void)cls;
    (void)hi;
    struct smtp_mime_out *c = ctx;
    argv_addn(c->hdrs, text->data, text->len);
}

static void on_block_end(void *ctx, const struct mime_block *b)
{
    struct smtp_mime_out *c = ctx;
    c->cls = b->cls;
    if (b->composite) {
        int relabel = b->encoding == MIME_ENC_8BIT || b->encoding == MIME_ENC_BINARY;
        put_headers(c, relabel ? "Content-Transfer-Encoding: 7bit" : NULL);
        c->mode = M_PASS;
    } else if (b->encoding == MIME_ENC_8BIT || b->encoding == MIME_ENC_BINARY)
        start_qp(c);
    else if (b->encoding == MIME_ENC_7BIT)
        c->mode = M_HOLD;
    else { /* already quoted-printable or base64 */
        put_headers(c, NULL);
        c->mode = M_PASS;
    }
}

static void body_rec(struct smtp_mime_out *c, const char *data, size_t len, int eol)
{
    if (c->mode == M_HOLD) {
        if (!has_8bit(data, len) && c->held.len + len <= HOLD_LIMIT) {
            c->recs = xgrow(c->recs, &c->cap, c->nrecs + 1, sizeof *c->recs);
            c->recs[c->nrecs++] = (struct held_rec){len, eol};
            str_appendn(&c->held, data, len);
            return;
        }
        start_qp(c);
        replay(c, 1);
    }
    if (c->mode == M_QP)
        put_encoded(c, data, len, eol);
    else
        c->out(c->ctx, data, len, eol);
}

static void on_body(void *ctx, const char *line, size_t len, long offset)
{
    (void)offset;
    body_rec(ctx, line, len, 1);
}

static void on_body_piece(void *ctx, const char *data, size_t len, long offset)
{
    (void)offset;
    body_rec(ctx, data, len, 0);
}

static void on_part_end(void *ctx)
{
    end_part(ctx);
}

static const struct mime_callbacks callbacks = {.header = on_header,
                                                .body = on_body,
                                                .body_piece = on_body_piece,
                                                .block_end = on_block_end,
                                                .part_end = on_part_end};

/* ---- interface --------------------------------------------------------------------------- */

int smtp_mime_out_wanted(unsigned features, int eightbit)
{
    static int disabled = -1;
    if (disabled < 0)
        disabled = config_get_bool("disable_mime_output_conversion");
    return eightbit && !(features & SMTP_FEAT_8BITMIME) && !disabled;
}

const struct mime_limits *smtp_mime_out_limits(void)
{
    static struct mime_limits lim;
    static int loaded;
    if (!loaded) {
        loaded = 1;
        lim.header_limit = (size_t)config_get_size("header_size_limit");
        lim.nesting_limit = config_get_int("mime_nesting_limit");
        lim.boundary_limit = (size_t)config_get_int("mime_boundary_length_limit");
    }
    return &lim;
}

struct smtp_mime_out *smtp_mime_out_new(const struct mime_limits *lim, smtp_checks_out out,
                                        void *ctx)
{
    struct smtp_mime_out *c = xcalloc(1, sizeof *c);
    c->out = out;
    c->ctx = ctx;
    c->hdrs = argv_new();
    c->cls = MIME_HDR_PRIMARY;
    c->mode = M_PASS;
    c->held = (struct str)STR_INIT;
    c->enc = (struct str)STR_INIT;
    c->ms = mime_state_create(MIME_OPT_REPORT_NESTING, lim, &callbacks, c);
    return c;
}

void smtp_mime_out_put(struct smtp_mime_out *c, const char *data, size_t len, int eol)
{
    if (!c->errors)
        c->errors = mime_state_update_piece(c->ms, data, len, eol);
}

int smtp_mime_out_errors(const struct smtp_mime_out *c)
{
    return c->errors;
}

int smtp_mime_out_end(struct smtp_mime_out *c)
{
    if (!c->errors)
        c->errors = mime_state_finish(c->ms);
    if (!c->errors) {
        if (c->hdrs->n) /* cannot happen: every header block ends */
            put_headers(c, NULL);
        end_part(c);
    }
    return c->errors;
}

void smtp_mime_out_free(struct smtp_mime_out *c)
{
    if (!c)
        return;
    mime_state_free(c->ms);
    argv_free(c->hdrs);
    str_release(&c->held);
    str_release(&c->enc);
    free(c->recs);
    free(c);
}
