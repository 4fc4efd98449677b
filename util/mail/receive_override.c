/* receive_override: parses receive_override_options (once per value: smtpd asks per connection
 * and per transaction) and applies it to cleanup flags. */
#include "mail/receive_override.h"

#include "base/argv.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/cleanup_client.h"
#include "mail/config.h"

#include <stdlib.h>
#include <string.h>

static const char *const known[] = {"no_unknown_recipient_checks", "no_address_mappings",
                                    "no_header_body_checks", "no_milters", NULL};

/* The options as a bit mask of known[] positions; unknown words are warned about once. */
static unsigned options(void)
{
    static char *parsed; /* the value the mask was computed from */
    static unsigned mask;
    const char *value = config_get("receive_override_options");
    value = value ? value : "";
    if (parsed && strcmp(parsed, value) == 0)
        return mask;
    free(parsed);
    parsed = xstrdup(value);
    mask = 0;
    struct argv *words = argv_split(value, ", \t\r\n");
    for (size_t i = 0; i < words->n; i++) {
        size_t k = 0;
        while (known[k] && strcmp(known[k], words->v[i]) != 0)
            k++;
        if (known[k])
            mask |= 1u << k;
        else
            msg_warn("unknown receive_override_options value \"%s\" -- ignored", words->v[i]);
    }
    argv_free(words);
    return mask;
}

int receive_override_has(const char *option)
{
    unsigned mask = options();
    for (size_t k = 0; known[k]; k++)
        if (strcmp(known[k], option) == 0)
            return (mask >> k) & 1;
    return 0;
}

int receive_override_flags(int flags)
{
    if (receive_override_has("no_address_mappings"))
        flags &= ~CLEANUP_FLAG_MAP_OK;
    if (receive_override_has("no_header_body_checks"))
        flags &= ~CLEANUP_FLAG_FILTER;
    if (receive_override_has("no_milters"))
        flags &= ~CLEANUP_FLAG_MILTER;
    return flags;
}
