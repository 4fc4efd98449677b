/* mailq_format: the mailq layout (postqueue -p), JSON lines with Postfix's field names
 * (postqueue -j), and the parser of per-message defer logs. */
#include "mail/mailq.h"

#include "base/codec.h"

#include <string.h>
#include <time.h>

#define MAILQ_RCPT_INDENT 41

const char *mailq_format_name(enum mailq_format format)
{
    return format == MAILQ_JSON ? "json" : "text";
}

int mailq_format_parse(const char *name, enum mailq_format *format)
{
    if (strcmp(name, "text") == 0)
        *format = MAILQ_TEXT;
    else if (strcmp(name, "json") == 0)
        *format = MAILQ_JSON;
    else
        return -1;
    return 0;
}

void mailq_format_header(struct str *out)
{
    str_append(out, "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n");
}

static char status_char(const char *queue)
{
    if (strcmp(queue, "active") == 0)
        return '*';
    if (strcmp(queue, "hold") == 0)
        return '!';
    return ' ';
}

void mailq_format_text(struct str *out, const struct mailq_msg *m)
{
    char when[64];
    time_t t = (time_t)m->arrival;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm);
    str_appendf(out, "%-10s%c %8ld %-20.20s %s\n", m->id, status_char(m->queue), m->size, when,
                m->sender[0] ? m->sender : "MAILER-DAEMON");
    const char *last_reason = "";
    for (size_t i = 0; i < m->rcpts->n; i++) {
        const char *reason = m->reasons->v[i];
        if (reason[0] && strcmp(reason, last_reason) != 0)
            str_appendf(out, "(%s)\n", reason);
        last_reason = reason;
        str_appendf(out, "%*s%s\n", MAILQ_RCPT_INDENT, "", m->rcpts->v[i]);
    }
    str_append(out, "\n");
}

void mailq_format_trailer(struct str *out, long long total_bytes, long count)
{
    if (count == 0)
        str_append(out, "Mail queue is empty\n");
    else
        str_appendf(out, "-- %lld Kbytes in %ld Request%s.\n", (total_bytes + 1023) / 1024, count,
                    count == 1 ? "" : "s");
}

static void json_string(struct str *out, const char *s)
{
    str_appendc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            str_appendf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            str_appendf(out, "\\u%04x", *p);
        else
            str_appendc(out, *p);
    }
    str_appendc(out, '"');
}

void mailq_format_json(struct str *out, const struct mailq_msg *m)
{
    str_append(out, "{\"queue_name\": ");
    json_string(out, m->queue);
    str_append(out, ", \"queue_id\": ");
    json_string(out, m->id);
    str_appendf(out,
                ", \"arrival_time\": %ld, \"message_size\": %ld, \"forced_expire\": %s, "
                "\"sender\": ",
                m->arrival, m->size, m->forced_expire ? "true" : "false");
    json_string(out, m->sender);
    str_append(out, ", \"recipients\": [");
    for (size_t i = 0; i < m->rcpts->n; i++) {
        str_append(out, i ? ", {\"address\": " : "{\"address\": ");
        json_string(out, m->rcpts->v[i]);
        if (m->reasons->v[i][0]) {
            str_append(out, ", \"delay_reason\": ");
            json_string(out, m->reasons->v[i]);
        }
        str_appendc(out, '}');
    }
    str_append(out, "]}\n");
}

/* Decodes %XX escapes of an attribute value; control characters become '?'. */
static void decode_value(const char *p, size_t n, struct str *out)
{
    str_clear(out);
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        if (c == '%' && i + 2 < n && hex_digit_value(p[i + 1]) >= 0 &&
            hex_digit_value(p[i + 2]) >= 0) {
            c = hex_digit_value(p[i + 1]) * 16 + hex_digit_value(p[i + 2]);
            i += 2;
        }
        str_appendc(out, c < 0x20 || c == 0x7f ? '?' : c);
    }
}

void mailq_parse_defer_log(const char *text, size_t len, struct argv *rcpts, struct argv *reasons)
{
    struct str rcpt = STR_INIT, reason = STR_INIT, value = STR_INIT;
    const char *end = text + len;
    while (text < end) {
        const char *nl = memchr(text, '\n', (size_t)(end - text));
        const char *stop = nl ? nl : end;
        const char *eq = memchr(text, '=', (size_t)(stop - text));
        if (stop == text) { /* an empty line ends one recipient's list */
            if (rcpt.len) {
                argv_add(rcpts, str_cstr(&rcpt));
                argv_add(reasons, str_cstr(&reason));
            }
            str_clear(&rcpt);
            str_clear(&reason);
        } else if (eq) {
            decode_value(eq + 1, (size_t)(stop - eq - 1), &value);
            if ((size_t)(eq - text) == 9 && memcmp(text, "recipient", 9) == 0)
                str_set(&rcpt, str_cstr(&value));
            else if ((size_t)(eq - text) == 6 && memcmp(text, "reason", 6) == 0)
                str_set(&reason, str_cstr(&value));
        }
        text = nl ? nl + 1 : end;
    }
    if (rcpt.len) {
        argv_add(rcpts, str_cstr(&rcpt));
        argv_add(reasons, str_cstr(&reason));
    }
    str_release(&rcpt);
    str_release(&reason);
    str_release(&value);
}
