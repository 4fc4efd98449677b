/* postfix: the interface between the modules of the postfix control command: its settings, the
 * postfix-script style messages (log and stderr) and the command handlers. */
#ifndef KESTREL_POSTFIX_POSTFIX_H
#define KESTREL_POSTFIX_POSTFIX_H

#include <stdnoreturn.h>
#include <sys/types.h>

/* How long `postfix stop` waits for the mail system to go away. */
#define POSTFIX_STOP_WAIT_SECONDS 10

struct postfix_env {
    const char *config_dir; /* as loaded (also exported as MAIL_CONFIG) */
    const char *queue_dir;
    const char *daemon_dir;
    int verbose;
};

/* Messages as "<syslog_name>/postfix-script[pid]: [warning: ]text" in the log, and
 * "<syslog_name>/postfix-script: [warning: ]text" on stderr (postfix_log.c). */
void postfix_log_open(void);
void pf_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pf_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void pf_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The master's pid when one runs for this queue directory, else 0 (postfix_control.c). */
pid_t postfix_master_pid(const struct postfix_env *env);

/* Command handlers: each returns the exit status. */
int postfix_start(const struct postfix_env *env);
int postfix_start_fg(const struct postfix_env *env);
int postfix_stop(const struct postfix_env *env);
int postfix_abort(const struct postfix_env *env);
int postfix_reload(const struct postfix_env *env);
int postfix_status(const struct postfix_env *env);
int postfix_flush(const struct postfix_env *env);
int postfix_check(const struct postfix_env *env);
int postfix_set_permissions(const struct postfix_env *env);
int postfix_upgrade_configuration(const struct postfix_env *env);

/* postfix_check.c: validate the configuration, printing each problem; 0 when usable. */
int postfix_validate(const struct postfix_env *env);
/* Create missing queue directories and print the permission warnings; 0, or -1 (printed). */
int postfix_queue_check(const struct postfix_env *env);

#endif
