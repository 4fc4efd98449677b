/* config_check: validation of a whole configuration before it is used (postfix check, start
 * and reload; master's reload). Loads main.cf and master.cf and collects every problem, each as
 * one message "<file>, line N: reason":
 *   - main.cf and master.cf syntax;
 *   - $name expansion of every main.cf setting and master.cf -o value ($ loops);
 *   - typed parameters (boolean, number, time, size) that are set;
 *   - smtpd restriction lists and restriction classes (unknown names, missing arguments);
 *   - every type:table reference must open read-only. */
#ifndef KESTREL_MAIL_CONFIG_CHECK_H
#define KESTREL_MAIL_CONFIG_CHECK_H

#include "base/argv.h"
#include "mail/mastercf.h"

/* Upper bound on the problems collected; further ones are counted but not stored. */
#define CONFIG_CHECK_MAX_ERRORS 1000

/* Load <config_dir>/main.cf (NULL: $MAIL_CONFIG or the default, as config_load) and
 * <config_dir>/master.cf, then check both. Appends one message per problem to errors and
 * returns their number (0: the configuration is usable). On success of the main.cf parse the
 * configuration stays loaded, exactly as after config_load(). */
int config_check_dir(const char *config_dir, struct argv *errors);
/* Check the main.cf already loaded (config_load or config_load_text) and the parsed master.cf
 * m (may be NULL). Appends messages to errors; returns how many were added. */
int config_check_loaded(const struct mastercf *m, struct argv *errors);

#endif
