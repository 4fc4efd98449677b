/* spawn.h: the spawn service (Postfix spawn(8)): runs a command for each connection with the
 * client socket as its standard input and output, e.g. a policy server for smtpd. */
#ifndef KESTREL_SPAWN_SPAWN_H
#define KESTREL_SPAWN_SPAWN_H

#include "base/argv.h"
#include "mail/command_attrs.h"
#include "base/str.h"

#include <sys/types.h>

struct spawn_attr {
    struct command_user user; /* user= */
    struct argv *argv;        /* argv= and what follows */
};

/* Parses user= and argv= (the rest of the line). am_root: user= is required, never root.
 * Returns 0 or -1 with err set. */
int spawn_args_parse(int argc, char *const *argv, int am_root, struct spawn_attr *a,
                     struct str *err);
void spawn_attr_release(struct spawn_attr *a);

enum { SPAWN_EXITED = 1, SPAWN_SIGNALED = 2, SPAWN_TIMEDOUT = 3 };
struct spawn_result {
    int how;
    int status; /* exit status or signal */
};
/* Runs the command with in_fd as fd 0 and out_fd as fd 1; its stderr is logged line by line
 * (at most 64 KiB). The process group is killed after time_limit_ms (> 0). Returns 0 with res
 * set, or -1 with why set (fork, pipe, exec failure). */
int spawn_run(const struct spawn_attr *a, int in_fd, int out_fd, long time_limit_ms,
              struct spawn_result *res, struct str *why);
/* Logs an abnormal exit (non-zero status, signal, time limit) as a warning. */
void spawn_log_result(const char *command, const struct spawn_result *res);

#endif
