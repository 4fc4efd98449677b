/* command_config: main.cf and logging for the command-line programs that may run
 * set-group-id (postdrop, postqueue). The directory is -c, else $MAIL_CONFIG, else the
 * built-in default; a set-group-id run accepts only the default or a directory listed in
 * alternate_config_directories of the default main.cf, as Postfix does. */
#ifndef KESTREL_MAIL_COMMAND_CONFIG_H
#define KESTREL_MAIL_COMMAND_CONFIG_H

/* Loads the configuration and opens the log (maillog_file, else syslog); fatal on error. */
void command_config_load(const char *dir);
/* Opens the log as main.cf says (syslog_name; maillog_file, else syslog_facility). */
void command_log_open(void);

#endif
