/* smtp_reply: the EHLO keyword list of an SMTP/LMTP server reply (reading and parsing the
 * replies themselves is util/mail/smtp_proto). */
#include "smtp.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

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
