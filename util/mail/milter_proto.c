/* milter_proto: encoders for the milter commands and decoders/validators for the filter's
 * replies (docs/milter.md). Reply decoding dispatches through a table of per-reply parsers. */
#include "mail/milter_proto.h"

#include "base/stream.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

uint32_t milter_proto_actions(int version)
{
    uint32_t a = SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS |
                 SMFIF_QUARANTINE;
    if (version >= 6)
        a |= SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST;
    return a;
}

uint32_t milter_proto_steps(int version)
{
    uint32_t s = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY |
                 SMFIP_NOHDRS | SMFIP_NOEOH;
    if (version >= 3)
        s |= SMFIP_NR_HDR | SMFIP_NOUNKNOWN;
    if (version >= 4)
        s |= SMFIP_NODATA;
    if (version >= 6)
        s |= SMFIP_SKIP | SMFIP_RCPT_REJ | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
             SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY |
             SMFIP_HDR_LEADSPC;
    return s;
}

static void put_u32(struct str *out, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    str_appendn(out, b, 4);
}

static uint32_t get_u32(const char *p)
{
    const unsigned char *b = (const unsigned char *)p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put_cstr(struct str *out, const char *s)
{
    str_appendn(out, s ? s : "", strlen(s ? s : "") + 1);
}

void milter_pkt_put(struct str *out, int cmd, const void *data, size_t len)
{
    put_u32(out, (uint32_t)len + 1);
    str_appendc(out, cmd);
    if (len)
        str_appendn(out, data, len);
}

void milter_cmd_optneg(struct str *out, uint32_t version, uint32_t actions, uint32_t steps)
{
    struct str d = STR_INIT;
    put_u32(&d, version);
    put_u32(&d, actions);
    put_u32(&d, steps);
    milter_pkt_put(out, SMFIC_OPTNEG, d.data, d.len);
    str_release(&d);
}

void milter_cmd_connect(struct str *out, const char *host, int family, unsigned port,
                        const char *addr)
{
    struct str d = STR_INIT;
    put_cstr(&d, host);
    str_appendc(&d, family);
    if (family != 'U') {
        str_appendc(&d, (int)((port >> 8) & 0xff));
        str_appendc(&d, (int)(port & 0xff));
        put_cstr(&d, addr);
    }
    milter_pkt_put(out, SMFIC_CONNECT, d.data, d.len);
    str_release(&d);
}

void milter_cmd_helo(struct str *out, const char *helo)
{
    milter_pkt_put(out, SMFIC_HELO, helo, strlen(helo) + 1);
}

void milter_cmd_args(struct str *out, int cmd, const struct argv *args)
{
    struct str d = STR_INIT;
    str_set(&d, "");
    for (size_t i = 0; i < args->n; i++)
        put_cstr(&d, args->v[i]);
    milter_pkt_put(out, cmd, d.data, d.len);
    str_release(&d);
}

void milter_cmd_macros(struct str *out, int cmd, const struct argv *names,
                       const struct argv *values)
{
    struct str d = STR_INIT;
    str_appendc(&d, cmd);
    for (size_t i = 0; i < names->n && i < values->n; i++) {
        put_cstr(&d, names->v[i]);
        put_cstr(&d, values->v[i]);
    }
    milter_pkt_put(out, SMFIC_MACRO, d.data, d.len);
    str_release(&d);
}

void milter_cmd_header(struct str *out, const char *name, const char *value)
{
    struct str d = STR_INIT;
    put_cstr(&d, name);
    put_cstr(&d, value);
    milter_pkt_put(out, SMFIC_HEADER, d.data, d.len);
    str_release(&d);
}

void milter_cmd_body(struct str *out, const void *data, size_t len)
{
    milter_pkt_put(out, SMFIC_BODY, data, len);
}

void milter_cmd_simple(struct str *out, int cmd)
{
    milter_pkt_put(out, cmd, NULL, 0);
}

void milter_cmd_unknown(struct str *out, const char *command)
{
    milter_pkt_put(out, SMFIC_UNKNOWN, command, strlen(command) + 1);
}

int milter_pkt_read(struct stream *s, size_t limit, struct str *data, struct str *err)
{
    char hdr[5];
    int rc = stream_read_exact(s, hdr, 5);
    if (rc == 0) {
        uint32_t len = get_u32(hdr);
        if (len == 0 || len - 1 > limit) {
            str_setf(err, "reply packet length %lu out of range", (unsigned long)len);
            return -1;
        }
        str_clear(data);
        str_reserve(data, len - 1);
        if (len > 1) {
            rc = stream_read_exact(s, data->data, len - 1);
            if (rc == 0) {
                data->len = len - 1;
                data->data[data->len] = 0;
            }
        }
        if (rc == 0)
            return (unsigned char)hdr[4];
    }
    str_set(err, rc == STREAM_TIMEOUT ? "timeout" : "lost connection");
    return -1;
}

/* Takes one NUL-terminated string starting at *pos; -1 when unterminated or too long. */
static int take_cstr(const char *data, size_t len, size_t *pos, size_t limit, struct str *out)
{
    const char *p = data + *pos;
    const char *nul = memchr(p, 0, len - *pos);
    if (nul == NULL || (size_t)(nul - p) > limit)
        return -1;
    str_clear(out);
    str_appendn(out, p, (size_t)(nul - p));
    *pos += (size_t)(nul - p) + 1;
    return 0;
}

int milter_optneg_parse(const char *data, size_t len, struct milter_optneg *o, struct str *err)
{
    memset(o, 0, sizeof(*o));
    if (len < 12) {
        str_setf(err, "option negotiation reply too short (%zu bytes)", len);
        return -1;
    }
    o->version = get_u32(data);
    o->actions = get_u32(data + 4);
    o->steps = get_u32(data + 8);
    size_t pos = 12;
    struct str m = STR_INIT;
    while (pos < len) {
        uint32_t where = len - pos >= 4 ? get_u32(data + pos) : MILTER_STAGE_COUNT;
        pos += 4;
        if (where >= MILTER_STAGE_COUNT || pos > len ||
            take_cstr(data, len, &pos, MILTER_TEXT_LIMIT, &m) < 0 || o->macros[where]) {
            str_set(err, "malformed macro list in option negotiation reply");
            str_release(&m);
            milter_optneg_release(o);
            return -1;
        }
        o->macros[where] = str_steal(&m);
    }
    str_release(&m);
    return 0;
}

void milter_optneg_release(struct milter_optneg *o)
{
    for (int i = 0; i < MILTER_STAGE_COUNT; i++)
        free(o->macros[i]);
    memset(o, 0, sizeof(*o));
}

void milter_reply_release(struct milter_reply *r)
{
    str_release(&r->name);
    str_release(&r->value);
    str_release(&r->text);
    str_release(&r->body);
}

/* ---- reply parsers ---- */

typedef int (*reply_parser)(const char *, size_t, struct milter_reply *, struct str *);

static int p_empty(const char *d, size_t len, struct milter_reply *r, struct str *err)
{
    (void)d;
    (void)r;
    if (len == 0)
        return 0;
    str_set(err, "unexpected data in reply");
    return -1;
}

/* Exactly one string (the whole data, NUL-terminated). */
static int p_text(const char *d, size_t len, struct milter_reply *r, struct str *err)
{
    size_t pos = 0;
    if (len == 0 || take_cstr(d, len, &pos, MILTER_TEXT_LIMIT, &r->text) < 0 || pos != len) {
        str_set(err, "malformed text in reply");
        return -1;
    }
    return 0;
}

static int p_addr(const char *d, size_t len, struct milter_reply *r, struct str *err)
{
    if (p_text(d, len, r, err) < 0)
        return -1;
    if (r->text.len > 0)
        return 0;
    str_set(err, "empty address in reply");
    return -1;
}

static int p_replycode(const char *d, size_t len, struct milter_reply *r, struct str *err)
{
    if (p_text(d, len, r, err) < 0)
        return -1;
    return milter_replycode_check(r->text.data, r->text.len, err);
}

/* An address with optional ESMTP arguments. */
static int p_addr_args(const char *d, size_t len, struct milter_reply *r, struct str *err)
{
    size_t pos = 0;
    if (len == 0 || take_cstr(d, len, &pos, MILTER_TEXT_LIMIT, &r->text) < 0 || r->text.len == 0)
        goto bad;
    str_set(&r->value, "");
    if (pos < len && (take_cstr(d, len, &pos, MILTER_TEXT_LIMIT, &r->value) < 0 || pos != len))
        goto bad;
    return 0;
bad:
    str_set(err, "malformed address in reply");
    return -1;
}

static int valid_header_name(const struct str *n)
{
    if (n->len == 0)
        return 0;
    for (size_t i = 0; i < n->len; i++) {
        unsigned char c = (unsigned char)n->data[i];
        if (c <= 32 || c >= 127 || c == ':')
            return 0;
    }
    return 1;
}

static int header_fields(const char *d, size_t len, size_t pos, struct milter_reply *r,
                         struct str *err)
{
    if (take_cstr(d, len, &pos, MILTER_NAME_LIMIT, &r->name) < 0 ||
        take_cstr(d, len, &pos, MILTER_TEXT_LIMIT, &r->value) < 0 || pos != len ||
        !valid_header_name(&r->name)) {
        str_set(err, "malformed header in reply");
        return -1;
    }
    return 0;
}

static int p_header(const char *d, size_t len, struct milter_reply *r, struct str *err)
{
    return header_fields(d, len, 0, r, err);
}

static int p_index_header(const char *d, size_t len, struct milter_reply *r, struct str *err)
{
    if (len < 4) {
        str_set(err, "malformed header in reply");
        return -1;
    }
    uint32_t idx = get_u32(d);
    if (idx > 0x7fffffffu) {
        str_set(err, "header index out of range");
        return -1;
    }
    r->index = (long)idx;
    return header_fields(d, len, 4, r, err);
}

static int p_body(const char *d, size_t len, struct milter_reply *r, struct str *err)
{
    (void)err;
    str_clear(&r->body);
    str_appendn(&r->body, d, len);
    return 0;
}

static const struct {
    int cmd;
    reply_parser parse;
} parsers[] = {
    {SMFIR_ACCEPT, p_empty},
    {SMFIR_CONTINUE, p_empty},
    {SMFIR_DISCARD, p_empty},
    {SMFIR_REJECT, p_empty},
    {SMFIR_TEMPFAIL, p_empty},
    {SMFIR_PROGRESS, p_empty},
    {SMFIR_SKIP, p_empty},
    {SMFIR_SHUTDOWN, p_empty},
    {SMFIR_CONN_FAIL, p_empty},
    {SMFIR_REPLYCODE, p_replycode},
    {SMFIR_QUARANTINE, p_text},
    {SMFIR_ADDRCPT, p_addr},
    {SMFIR_DELRCPT, p_addr},
    {SMFIR_ADDRCPT_PAR, p_addr_args},
    {SMFIR_CHGFROM, p_addr_args},
    {SMFIR_ADDHEADER, p_header},
    {SMFIR_INSHEADER, p_index_header},
    {SMFIR_CHGHEADER, p_index_header},
    {SMFIR_REPLBODY, p_body},
};

int milter_reply_parse(int cmd, const char *data, size_t len, struct milter_reply *r,
                       struct str *err)
{
    r->cmd = cmd;
    r->index = 0;
    for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++)
        if (parsers[i].cmd == cmd) {
            if (len > MILTER_PKT_LIMIT) {
                str_set(err, "reply too long");
                return -1;
            }
            return parsers[i].parse(data, len, r, err);
        }
    if (cmd >= 32 && cmd < 127)
        str_setf(err, "unknown reply '%c'", cmd);
    else
        str_setf(err, "unknown reply 0x%02x", (unsigned)cmd);
    return -1;
}

/* One line: "DDD" + (last ? ' ' or end : '-') + optional "C.S.D " enhanced code. */
static int check_line(const char *p, size_t n, const char *code, int last, struct str *err)
{
    if (n < 3 || (p[0] != '4' && p[0] != '5') || !isdigit((unsigned char)p[1]) ||
        !isdigit((unsigned char)p[2]) || (code && memcmp(p, code, 3) != 0)) {
        str_set(err, "bad SMTP reply code");
        return -1;
    }
    if (n > 3 && p[3] != (last ? ' ' : '-')) {
        str_set(err, "bad SMTP reply continuation");
        return -1;
    }
    if (!last && n == 3) {
        str_set(err, "bad SMTP reply continuation");
        return -1;
    }
    const char *t = p + 4, *end = p + n;
    if (t < end && isdigit((unsigned char)*t)) {
        const char *q = t;
        int parts = 0;
        while (q < end && parts < 3) {
            size_t d = 0;
            while (q + d < end && isdigit((unsigned char)q[d]))
                d++;
            if (d == 0 || d > 3)
                break;
            q += d;
            parts++;
            if (parts < 3 && q < end && *q == '.')
                q++;
            else
                break;
        }
        if (parts != 3 || (q < end && *q != ' ') || *t != p[0]) {
            str_set(err, "bad enhanced status code in SMTP reply");
            return -1;
        }
    }
    for (const char *c = p; c < end; c++)
        if (*c == '\r' || *c == '\n' || *c == 0) {
            str_set(err, "bad character in SMTP reply");
            return -1;
        }
    return 0;
}

int milter_replycode_check(const char *text, size_t len, struct str *err)
{
    if (memchr(text, 0, len)) {
        str_set(err, "NUL in SMTP reply");
        return -1;
    }
    if (len > MILTER_TEXT_LIMIT) {
        str_set(err, "SMTP reply too long");
        return -1;
    }
    const char *p = text, *end = text + len;
    int lines = 0;
    for (;;) {
        const char *crlf = NULL;
        for (const char *c = p; c + 1 < end; c++)
            if (c[0] == '\r' && c[1] == '\n') {
                crlf = c;
                break;
            }
        size_t n = crlf ? (size_t)(crlf - p) : (size_t)(end - p);
        if (++lines > 100 || check_line(p, n, lines > 1 ? text : NULL, crlf == NULL, err) < 0)
            return -1;
        if (crlf == NULL)
            return 0;
        p = crlf + 2;
        if (p == end) {
            str_set(err, "empty line in SMTP reply");
            return -1;
        }
    }
}
