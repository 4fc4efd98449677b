/* paths: the built-in directory and program-path defaults (from the build's -DDEF_* settings),
 * relocated under <root> when the running executable lives in an installed tree under <root>. */
#ifndef KESTREL_MAIL_PATHS_H
#define KESTREL_MAIL_PATHS_H

/* Names accepted by paths_default(): config_directory, queue_directory, command_directory,
 * daemon_directory, data_directory, mail_spool_directory, sendmail_path, newaliases_path,
 * mailq_path. Returns NULL for any other name. */
const char *paths_default(const char *name);
/* The relocation root ("" when the executable is not in a relocated tree). */
const char *paths_root(void);
/* For tests: compute the root as if the executable were `exe` (NULL: /proc/self/exe). */
void paths_reset(const char *exe);

#endif
