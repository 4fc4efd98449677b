/* address_ext: recipient_delimiter address extensions ("user+ext@domain"), with the exceptions
 * Postfix documents: special role names and mailing-list style names are never split. */
#include "mail/address.h"

#include <string.h>
#include <strings.h>

static int never_split(const char *local, const struct addr_ext_opts *opts)
{
    const char *dbl = opts->double_bounce ? opts->double_bounce : "double-bounce";
    size_t len = strlen(local);
    if (strcasecmp(local, "postmaster") == 0 || strcasecmp(local, "MAILER-DAEMON") == 0 ||
        strcasecmp(local, dbl) == 0)
        return 1;
    if (strchr(opts->delimiters, '-') != NULL) {
        if (strncasecmp(local, "owner-", 6) == 0)
            return 1;
        if (len > 8 && strcasecmp(local + len - 8, "-request") == 0)
            return 1;
    }
    return 0;
}

int address_split_ext(const char *local, const struct addr_ext_opts *opts, struct str *user,
                      struct str *ext, char *delim)
{
    size_t pos = 0;
    int split = opts != NULL && opts->delimiters != NULL && *opts->delimiters != 0 &&
                !never_split(local, opts);
    if (split) {
        pos = strcspn(local, opts->delimiters);
        split = pos > 0 && local[pos] != 0; /* no split of "+foo" or of a name without one */
    }
    if (user) {
        str_clear(user);
        str_appendn(user, local, split ? pos : strlen(local));
    }
    if (ext) {
        str_clear(ext);
        if (split)
            str_append(ext, local + pos + 1);
    }
    if (delim)
        *delim = split ? local[pos] : 0;
    return split;
}

int address_strip_ext(const char *addr, const struct addr_ext_opts *opts, struct str *out,
                      struct str *ext)
{
    struct str local = STR_INIT, domain = STR_INIT;
    int has_domain = address_split(addr, &local, &domain);
    int split = address_split_ext(str_cstr(&local), opts, out, ext, NULL);
    if (has_domain) {
        str_appendc(out, '@');
        str_append(out, str_cstr(&domain));
    }
    str_release(&local);
    str_release(&domain);
    return split;
}
