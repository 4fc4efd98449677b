/* smtp_reply: reading and parsing SMTP/LMTP server replies (RFC 5321 4.2, multi-line replies,
 * RFC 3463 enhanced status codes) and the EHLO keyword list. Every reply is bounded in line
 * length and line count. */
#include "smtp.h"

#include "base/log.h"
#include "mail/dsn.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

void smtp_reply_init(struct smtp_reply *r)
{
    r->code = 0;
    r->dsn = (struct str)STR_INIT;
    r->text = (struct str)STR_INIT;
    r->lines = argv_new();
}

void smtp_reply_release(struct smtp_reply *r)
{
    str_release(&r->dsn);
    str_release(&r->text);
    argv_free(r->lines);
    r->lines = NULL;
}

int smtp_reply_parse_line(const char *line, int *code, int *more, const char **text)
{
    if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
        !isdigit((unsigned char)line[2]))
        return -1;
    if (line[0] < '2' || line[0] > '5')
        return -1;
    *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (line[3] == 0) {
        *more = 0;
        *text = line + 3;
        return 0;
    }
    if (line[3] != ' ' && line[3] != '-')
        return -1;
    *more = line[3] == '-';
    *text = line + 4;
    return 0;
}

void smtp_reply_dsn(int code, const char *text, struct str *dsn)
{
    size_t len = 0;
    char cls = (char)('0' + code / 100);
    if (dsn_code_valid(text, &len) && text[0] == cls && (text[len] == 0 || text[len] == ' ')) {
        str_clear(dsn);
        str_appendn(dsn, text, len);
        return;
    }
    str_setf(dsn, "%c.0.0", cls);
}

static int read_line(struct stream *s, struct str *line)
{
    str_clear(line);
    int rc = stream_getline(s, line, SMTP_REPLY_LINE_MAX);
    if (rc == STREAM_PARTIAL)
        return SMTP_REPLY_BAD;
    if (rc == STREAM_EOF)
        return STREAM_EOF;
    if (rc < 0)
        return rc;
    while (line->len && (line->data[line->len - 1] == '\n' || line->data[line->len - 1] == '\r'))
        line->data[--line->len] = 0;
    return 0;
}

int smtp_reply_read(struct stream *s, struct smtp_reply *r)
{
    struct str line = STR_INIT;
    int rc = 0, more = 1;
    r->code = 0;
    str_clear(&r->text);
    argv_clear(r->lines);
    for (size_t n = 0; more; n++) {
        int code;
        const char *text;
        if (n >= SMTP_REPLY_LINES_MAX) {
            rc = SMTP_REPLY_BAD;
            break;
        }
        if ((rc = read_line(s, &line)) != 0)
            break;
        if (smtp_reply_parse_line(line.data, &code, &more, &text) < 0 ||
            (r->code && code != r->code)) {
            rc = SMTP_REPLY_BAD;
            break;
        }
        r->code = code;
        argv_add(r->lines, text);
        if (r->text.len)
            str_appendc(&r->text, ' ');
        str_append(&r->text, line.data);
    }
    if (rc == 0)
        smtp_reply_dsn(r->code, r->lines->v[0], &r->dsn);
    str_release(&line);
    return rc;
}

/* ---- EHLO keywords ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    unsigned bit;
} ehlo_keywords[] = {
    {"PIPELINING", SMTP_FEAT_PIPELINING},
    {"SIZE", SMTP_FEAT_SIZE},
    {"8BITMIME", SMTP_FEAT_8BITMIME},
    {"DSN", SMTP_FEAT_DSN},
    {"SMTPUTF8", SMTP_FEAT_SMTPUTF8},
    {"CHUNKING", SMTP_FEAT_CHUNKING},
    {"STARTTLS", SMTP_FEAT_STARTTLS},
    {"AUTH", SMTP_FEAT_AUTH},
    {"ENHANCEDSTATUSCODES", SMTP_FEAT_ENHANCEDSTATUSCODES},
};

static int discarded(const char *discard, const char *word, size_t len)
{
    if (!discard)
        return 0;
    struct argv *list = argv_split(discard, ", \t\r\n");
    int hit = 0;
    for (size_t i = 0; i < list->n && !hit; i++)
        hit = strlen(list->v[i]) == len && strncasecmp(list->v[i], word, len) == 0;
    argv_free(list);
    return hit;
}

unsigned smtp_ehlo_features(const struct argv *lines, const char *discard, long *size)
{
    unsigned mask = 0;
    *size = 0;
    for (size_t i = 1; i < lines->n; i++) {
        const char *p = lines->v[i];
        size_t len = strcspn(p, " =");
        if (discarded(discard, p, len))
            continue;
        for (size_t k = 0; k < sizeof ehlo_keywords / sizeof ehlo_keywords[0]; k++) {
            if (strlen(ehlo_keywords[k].name) != len ||
                strncasecmp(ehlo_keywords[k].name, p, len) != 0)
                continue;
            mask |= ehlo_keywords[k].bit;
            if (ehlo_keywords[k].bit == SMTP_FEAT_SIZE && p[len] == ' ') {
                long v = 0;
                const char *q = p + len + 1;
                while (isdigit((unsigned char)*q) && v < 1000000000000L)
                    v = v * 10 + (*q++ - '0');
                *size = v;
            }
        }
    }
    return mask;
}
