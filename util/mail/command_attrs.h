/* command_attrs: the master.cf attributes of services that run external commands (pipe(8),
 * spawn(8)): "user=name[:group]" (never a privileged user or group) and the trailing
 * "argv=command args..." that takes every remaining argument. */
#ifndef KESTREL_MAIL_COMMAND_ATTRS_H
#define KESTREL_MAIL_COMMAND_ATTRS_H

#include "base/argv.h"
#include "base/str.h"

#include <sys/types.h>

struct command_user {
    int set; /* a user= attribute was given */
    uid_t uid;
    gid_t gid;
};

/* Parses the value of user=; 0, or -1 with err set (unknown or privileged user/group). */
int command_user_parse(const char *value, struct command_user *u, struct str *err);
/* argv[i] must be "argv=command": appends the command and every later argument to out.
 * 0, or -1 with err set when argv= is missing or empty. With am_root, a missing user=
 * is an error too (commands never run as root). */
int command_argv_take(int argc, char *const *argv, int i, int am_root, const struct command_user *u,
                      struct argv *out, struct str *err);

#endif
