/* receive_override: parses receive_override_options and applies it to cleanup flags. */
#include "mail/receive_override.h"

#include "base/argv.h"
#include "base/log.h"
#include "mail/cleanup_client.h"
#include "mail/config.h"

#include <string.h>

static const char *const known[] = {"no_unknown_recipient_checks", "no_address_mappings",
                                    "no_header_body_checks", "no_milters", NULL};

int receive_override_has(const char *option)
{
    static int warned;
    const char *value = config_get("receive_override_options");
    struct argv *words = argv_split(value ? value : "", ", \t\r\n");
    int found = 0;
    for (size_t i = 0; i < words->n; i++) {
        size_t k = 0;
        while (known[k] && strcmp(known[k], words->v[i]) != 0)
            k++;
        if (known[k] == NULL && !warned)
            msg_warn("unknown receive_override_options value \"%s\" -- ignored", words->v[i]);
        if (strcmp(words->v[i], option) == 0)
            found = 1;
    }
    warned = 1;
    argv_free(words);
    return found;
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
