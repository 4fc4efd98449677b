/* postfix: the control command of the mail system (Postfix's postfix(1)).
 * Usage: postfix [-c config_dir] [-Dv] command, where command is one of start, start-fg,
 * stop, abort, reload, flush, check, status, set-permissions, upgrade-configuration.
 * Messages go to the mail log as postfix-script and to stderr; exit status 0 on success, 1 on
 * failure (status: 1 when the mail system is not running). */
#include "postfix.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE                                                                                      \
    "usage: postfix [-c config_dir] [-Dv] start|start-fg|stop|abort|reload|flush|check|status|"    \
    "set-permissions|upgrade-configuration"

static const struct {
    const char *name;
    int (*run)(const struct postfix_env *env);
} commands[] = {
    {"start", postfix_start},
    {"start-fg", postfix_start_fg},
    {"stop", postfix_stop},
    {"abort", postfix_abort},
    {"reload", postfix_reload},
    {"flush", postfix_flush},
    {"check", postfix_check},
    {"status", postfix_status},
    {"set-permissions", postfix_set_permissions},
    {"upgrade-configuration", postfix_upgrade_configuration},
};

static int (*find_command(const char *name))(const struct postfix_env *)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].run;
    return NULL;
}

int main(int argc, char **argv)
{
    struct postfix_env env = {0};
    const char *dir = NULL;
    int ch, debug = 0;
    log_init("postfix-script");
    signal(SIGPIPE, SIG_IGN);
    while ((ch = getopt(argc, argv, "c:Dv")) != -1) {
        switch (ch) {
        case 'c':
            dir = optarg;
            break;
        case 'D':
            debug = 1;
            break;
        case 'v':
            msg_verbose++;
            env.verbose = 1;
            break;
        default:
            pf_fatal(USAGE);
        }
    }
    if (optind + 1 != argc)
        pf_fatal(USAGE);
    int (*run)(const struct postfix_env *) = find_command(argv[optind]);
    if (run == NULL)
        pf_fatal("unknown command: '%s'; %s", argv[optind], USAGE);
    struct str err = STR_INIT;
    if (config_load(dir, &err) < 0)
        pf_fatal("%s", err.data);
    /* Every program started from here (master, its services) reads the same configuration. */
    char *config_dir = xstrdup(config_directory());
    if (setenv("MAIL_CONFIG", config_dir, 1) < 0)
        pf_fatal("setenv MAIL_CONFIG: out of memory");
    postfix_log_open();
    if (debug)
        pf_warn("option -D is not supported; ignored");
    env.config_dir = config_dir;
    char *queue_dir = xstrdup(config_get("queue_directory"));
    char *daemon_dir = xstrdup(config_get("daemon_directory"));
    env.queue_dir = queue_dir;
    env.daemon_dir = daemon_dir;
    int status = run(&env);
    free(config_dir);
    free(queue_dir);
    free(daemon_dir);
    str_release(&err);
    return status;
}
