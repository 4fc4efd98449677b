/* config_int: the interface between the config store (config.c) and the expansion engine
 * (config_expand.c); not for use outside util/mail/config*.c. */
#ifndef KESTREL_MAIL_CONFIG_INT_H
#define KESTREL_MAIL_CONFIG_INT_H

#include "base/argv.h"
#include "base/str.h"

/* The expanded value of a parameter ("" when unknown); chain holds the names being expanded.
 * NULL on error (loop, nesting, bad syntax) with the reason in err. */
const char *config_expand_name(const char *name, struct argv *chain, struct str *err);
/* Expand text, appending to out. */
int config_expand_text(const char *text, struct str *out, struct argv *chain, struct str *err);

#endif
