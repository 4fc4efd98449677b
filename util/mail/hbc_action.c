/* hbc_action: parsing a header/body check table value into its action and text. */
#include "mail/hbc_action.h"

#include "mail/header_info.h"

#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    enum hbc_verb verb;
} verbs[] = {
    {"BCC", HBC_BCC},         {"DISCARD", HBC_DISCARD},   {"DUNNO", HBC_DUNNO},
    {"OK", HBC_DUNNO},        {"FILTER", HBC_FILTER},     {"HOLD", HBC_HOLD},
    {"IGNORE", HBC_IGNORE},   {"INFO", HBC_INFO},         {"PASS", HBC_PASS},
    {"PREPEND", HBC_PREPEND}, {"REDIRECT", HBC_REDIRECT}, {"REJECT", HBC_REJECT},
    {"REPLACE", HBC_REPLACE}, {"STRIP", HBC_STRIP},       {"WARN", HBC_WARN},
};

void hbc_action_parse(const char *value, struct hbc_action *a)
{
    size_t n = strcspn(value, " \t");
    const char *text = value + n;
    text += strspn(text, " \t");
    a->verb = HBC_UNKNOWN;
    a->name = value;
    a->name_len = n;
    a->text = text;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strlen(verbs[i].name) == n && strncasecmp(verbs[i].name, value, n) == 0) {
            a->verb = verbs[i].verb;
            break;
        }
}

int hbc_header_text_ok(const char *text)
{
    return header_name_length(text, strlen(text), NULL) > 0;
}
