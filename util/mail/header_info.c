/* header_info: header-line syntax and a table of the headers with special roles. */
#include "mail/header_info.h"

#include <string.h>
#include <strings.h>

static const struct header_info known[] = {
    {"From", HDR_FROM, HDR_F_SENDER},
    {"Sender", HDR_SENDER, HDR_F_SENDER},
    {"Reply-To", HDR_REPLY_TO, HDR_F_SENDER},
    {"Errors-To", HDR_ERRORS_TO, HDR_F_SENDER},
    {"Return-Receipt-To", HDR_RETURN_RECEIPT_TO, HDR_F_SENDER},
    {"Return-Path", HDR_RETURN_PATH, HDR_F_SENDER},
    {"To", HDR_TO, HDR_F_RECIPIENT},
    {"Cc", HDR_CC, HDR_F_RECIPIENT},
    {"Bcc", HDR_BCC, HDR_F_RECIPIENT},
    {"Apparently-To", HDR_APPARENTLY_TO, HDR_F_RECIPIENT},
    {"Resent-From", HDR_RESENT_FROM, HDR_F_SENDER | HDR_F_RESENT},
    {"Resent-Sender", HDR_RESENT_SENDER, HDR_F_SENDER | HDR_F_RESENT},
    {"Resent-Reply-To", HDR_RESENT_REPLY_TO, HDR_F_SENDER | HDR_F_RESENT},
    {"Resent-To", HDR_RESENT_TO, HDR_F_RECIPIENT | HDR_F_RESENT},
    {"Resent-Cc", HDR_RESENT_CC, HDR_F_RECIPIENT | HDR_F_RESENT},
    {"Resent-Bcc", HDR_RESENT_BCC, HDR_F_RECIPIENT | HDR_F_RESENT},
    {"Date", HDR_DATE, 0},
    {"Resent-Date", HDR_RESENT_DATE, HDR_F_RESENT},
    {"Message-ID", HDR_MESSAGE_ID, 0},
    {"Resent-Message-ID", HDR_RESENT_MESSAGE_ID, HDR_F_RESENT},
    {"Received", HDR_RECEIVED, HDR_F_HOP},
    {"Delivered-To", HDR_DELIVERED_TO, HDR_F_HOP},
    {"MIME-Version", HDR_MIME_VERSION, HDR_F_MIME},
};

static const struct header_info other = {"", HDR_OTHER, 0};
static const struct header_info content = {"Content-", HDR_CONTENT, HDR_F_MIME};

size_t header_name_length(const char *line, size_t len, size_t *value_offset)
{
    size_t n = 0;
    while (n < len && line[n] > ' ' && line[n] < 0x7f && line[n] != ':')
        n++;
    if (n == 0)
        return 0;
    size_t i = n;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= len || line[i] != ':')
        return 0;
    if (value_offset)
        *value_offset = i + 1;
    return n;
}

int header_is_continuation(const char *line, size_t len)
{
    return len > 0 && (line[0] == ' ' || line[0] == '\t');
}

const struct header_info *header_info_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].name) == len && strncasecmp(known[i].name, name, len) == 0)
            return &known[i];
    if (len > 8 && strncasecmp(name, "Content-", 8) == 0)
        return &content;
    return &other;
}
