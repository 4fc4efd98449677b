/* command_config: loading main.cf in a (possibly set-group-id) command-line program, with the
 * alternate_config_directories check, then opening the log. */
#include "mail/command_config.h"

#include "base/argv.h"
#include "base/log.h"
#include "base/str.h"
#include "mail/config.h"
#include "mail/paths.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A set-group-id run may only use the default configuration or one the administrator listed
 * in alternate_config_directories (read from the default main.cf). */
static void check_config_dir(const char *dir)
{
    if (dir == NULL || getegid() == getgid())
        return;
    const char *def = paths_default("config_directory");
    struct str err = STR_INIT;
    if (config_load(def, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    if (strcmp(dir, def) != 0) {
        struct argv *ok = argv_split(config_get("alternate_config_directories"), ", \t\r\n");
        int found = 0;
        for (size_t i = 0; i < ok->n && !found; i++)
            found = strcmp(ok->v[i], dir) == 0;
        argv_free(ok);
        if (!found)
            msg_fatal("unauthorized configuration directory: %s", dir);
    }
    str_release(&err);
}

void command_log_open(void)
{
    log_set_syslog_name(config_get("syslog_name"));
    const char *file = config_get("maillog_file");
    if (file && *file)
        log_open_file(file);
    else
        log_open_syslog(config_get("syslog_facility"));
}

void command_config_load(const char *dir)
{
    if (dir == NULL)
        dir = getenv("MAIL_CONFIG");
    check_config_dir(dir);
    struct str err = STR_INIT;
    if (config_load(dir, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    str_release(&err);
    command_log_open();
}
