/* params: fills struct local_params from main.cf, the one place the local delivery agent reads
 * configuration; the modules themselves take the struct (so unit tests need no main.cf). */
#include "local.h"

#include "base/lock.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "table/table.h"

#include <stdio.h>
#include <ctype.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "alias, forward, include" as an EXP_* mask. */
static int class_mask(const char *name)
{
    struct argv *words = argv_split(config_get(name), ", \t");
    int mask = 0;
    for (size_t i = 0; i < words->n; i++) {
        if (strcasecmp(words->v[i], "alias") == 0)
            mask |= EXP_ALIAS;
        else if (strcasecmp(words->v[i], "forward") == 0)
            mask |= EXP_FORWARD;
        else if (strcasecmp(words->v[i], "include") == 0)
            mask |= EXP_INCLUDE;
        else
            msg_warn("%s: unknown class \"%s\"", name, words->v[i]);
    }
    argv_free(words);
    return mask;
}

static int prepend_mask(void)
{
    struct argv *words = argv_split(config_get("prepend_delivered_header"), ", \t");
    int mask = 0;
    for (size_t i = 0; i < words->n; i++) {
        if (strcasecmp(words->v[i], "command") == 0)
            mask |= PREPEND_COMMAND;
        else if (strcasecmp(words->v[i], "file") == 0)
            mask |= PREPEND_FILE;
        else if (strcasecmp(words->v[i], "forward") == 0)
            mask |= PREPEND_FORWARD;
    }
    argv_free(words);
    return mask;
}

static void open_aliases(struct local_params *p)
{
    struct argv *specs = argv_split(config_get("alias_maps"), ", \t\n");
    p->alias_tables = xcalloc(specs->n + 1, sizeof(*p->alias_tables));
    for (size_t i = 0; i < specs->n; i++) {
        char *colon = strchr(specs->v[i], ':');
        struct str type = STR_INIT;
        str_appendn(&type, specs->v[i], colon ? (size_t)(colon - specs->v[i]) : 0);
        if (colon && table_type_find(type.data) == NULL && strcmp(type.data, "nis") == 0) {
            str_release(&type); /* Postfix's default names NIS, which we do not have */
            continue;
        }
        str_release(&type);
        p->alias_tables[p->alias_count++] =
            table_open_or_surrogate(specs->v[i], TABLE_FLAG_NO_SUBST | TABLE_FLAG_FOLD_KEY);
    }
    argv_free(specs);
}

void local_params_load(struct local_params *p)
{
    struct str why = STR_INIT;
    memset(p, 0, sizeof(*p));
    p->myhostname = config_get("myhostname");
    p->myorigin = config_get("myorigin");
    p->local_domains = argv_split(config_get("mydestination"), ", \t\n");
    for (size_t i = 0; i < p->local_domains->n; i++)
        for (char *c = p->local_domains->v[i]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    p->recipient_delimiter = config_get("recipient_delimiter");
    p->mail_spool_directory = config_get("mail_spool_directory");
    p->home_mailbox = config_get("home_mailbox");
    p->mailbox_command = config_get_raw("mailbox_command");
    p->lock_methods = lock_parse_methods(config_get("mailbox_delivery_lock"), &why);
    if (p->lock_methods < 0)
        msg_fatal("mailbox_delivery_lock: %s", str_cstr(&why));
    p->lock_timeout_ms =
        config_get_int("deliver_lock_attempts") * config_get_time("deliver_lock_delay") * 1000;
    p->stale_lock_time = (int)config_get_time("stale_lock_time");
    p->mailbox_size_limit = (long)config_get_size("mailbox_size_limit");
    open_aliases(p);
    p->forward_path = config_get_raw("forward_path");
    p->mail_to_commands = class_mask("allow_mail_to_commands");
    p->mail_to_files = class_mask("allow_mail_to_files");
    p->prepend_delivered = prepend_mask();
    struct passwd *pw = getpwnam(config_get("default_privs"));
    if (pw == NULL)
        msg_fatal("default_privs: unknown user \"%s\"", config_get("default_privs"));
    if (pw->pw_uid == 0)
        msg_fatal("default_privs: must not be a privileged account");
    p->default_uid = pw->pw_uid;
    p->default_gid = pw->pw_gid;
    p->luser_relay = config_get_raw("luser_relay");
    p->command_expansion_filter = config_get("command_expansion_filter");
    p->command_time_limit_ms = config_get_time("command_time_limit") * 1000;
    p->sendmail_path = config_get("sendmail_path");
    p->shell = config_get("local_command_shell");
    p->enable_original_recipient = config_get_bool("enable_original_recipient");
    p->export_environment = config_get("export_environment");
    str_release(&why);
}
