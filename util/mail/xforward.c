/* xforward: building, announcing and parsing XFORWARD commands. */
#include "mail/xforward.h"

#include "base/textsplit.h"
#include "mail/dns.h"
#include "mail/xtext.h"

#include <string.h>
#include <strings.h>

static const char *const names[] = {"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"};
#define XF_COUNT (sizeof(names) / sizeof(names[0]))

unsigned xforward_features(const struct argv *ehlo_lines)
{
    unsigned mask = 0;
    for (size_t i = 1; ehlo_lines && i < ehlo_lines->n; i++) {
        struct argv *w = argv_split(ehlo_lines->v[i], " \t");
        if (w->n > 0 && strcasecmp(w->v[0], "XFORWARD") == 0)
            for (size_t k = 1; k < w->n; k++)
                for (size_t j = 0; j < XF_COUNT; j++)
                    if (strcasecmp(w->v[k], names[j]) == 0)
                        mask |= 1u << j;
        argv_free(w);
    }
    return mask;
}

/* 512 bytes per command line, less "XFORWARD" and CRLF. */
#define XF_PAYLOAD (512 - sizeof("XFORWARD\r\n") + 1)

static void flush(struct str *attrs, struct argv *out)
{
    struct str cmd = STR_INIT;
    if (attrs->len == 0)
        return;
    str_set(&cmd, "XFORWARD");
    str_appendn(&cmd, attrs->data, attrs->len);
    argv_add(out, str_cstr(&cmd));
    str_release(&cmd);
    str_clear(attrs);
}

void xforward_cmds(unsigned features, const struct xforward_attrs *a, struct argv *out)
{
    const char *values[XF_COUNT] = {a->name, a->addr,  a->port,  a->proto,
                                    a->helo, a->ident, a->source};
    struct str attrs = STR_INIT, one = STR_INIT;
    for (size_t j = 0; j < XF_COUNT; j++) {
        if (!(features & (1u << j)))
            continue;
        const char *v = values[j] && *values[j] ? values[j] : "[UNAVAILABLE]";
        str_setf(&one, " %s=", names[j]);
        xtext_encode(v, strlen(v), &one);
        if (one.len > XF_PAYLOAD) /* an absurd value: say it is unknown rather than break */
            str_setf(&one, " %s=[UNAVAILABLE]", names[j]);
        if (attrs.len + one.len > XF_PAYLOAD)
            flush(&attrs, out);
        str_appendn(&attrs, one.data, one.len);
    }
    flush(&attrs, out);
    str_release(&attrs);
    str_release(&one);
}

/* A decoded value is acceptable for its attribute (printable, bounded, and shaped right). */
static int valid(size_t j, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 255)
        return 0;
    for (const char *p = v; *p; p++) /* no control character may reach a log line */
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return 0;
    switch (1u << j) {
    case XF_NAME:
        return dns_valid_hostname(v);
    case XF_ADDR: {
        const char *a = strncasecmp(v, "IPv6:", 5) == 0 ? v + 5 : v;
        return strspn(a, "0123456789abcdefABCDEF.:") == strlen(a) && *a;
    }
    case XF_PORT:
        return strspn(v, "0123456789") == n && n <= 5;
    case XF_SOURCE:
        return strcasecmp(v, "LOCAL") == 0 || strcasecmp(v, "REMOTE") == 0;
    default:
        return 1;
    }
}

int xforward_parse(const char *args, struct str values[7], struct str *why)
{
    struct argv *w = argv_split(args, " \t");
    int mask = 0;
    struct str v = STR_INIT;
    for (size_t i = 0; i < w->n && mask >= 0; i++) {
        const char *eq = strchr(w->v[i], '=');
        size_t j = XF_COUNT;
        if (eq)
            for (j = 0; j < XF_COUNT; j++)
                if (strlen(names[j]) == (size_t)(eq - w->v[i]) &&
                    strncasecmp(w->v[i], names[j], strlen(names[j])) == 0)
                    break;
        if (j == XF_COUNT) {
            str_setf(why, "Bad XFORWARD attribute name: %.100s", w->v[i]);
            mask = -1;
        } else if (xtext_decode(eq + 1, strlen(eq + 1), &v, why) < 0 ||
                   (strcmp(v.data, "[UNAVAILABLE]") != 0 && strcmp(v.data, "[TEMPUNAVAIL]") != 0 &&
                    !valid(j, v.data))) {
            str_setf(why, "Bad %s syntax: %.100s", names[j], eq + 1);
            mask = -1;
        } else {
            int unknown = v.data[0] == '[';
            str_set(&values[j], unknown ? "" : v.data);
            mask |= 1 << j;
        }
    }
    if (mask == 0) {
        str_set(why, "Syntax: XFORWARD attribute=value...");
        mask = -1;
    }
    argv_free(w);
    str_release(&v);
    return mask;
}
