/* exec: run an external command safely, as the pipe/local delivery agents and table lookups
 * need: an argument vector (no shell) or "/bin/sh -c command", an explicit environment,
 * optional uid/gid switch, stdin from an fd or a buffer, stdout+stderr captured up to a limit,
 * and a wall-clock limit after which the whole process group is killed. The child gets only
 * fds 0-2 (everything else is closed), default signal dispositions and an empty signal mask.
 * exec_run() reaps its own child with waitpid(pid); a SIGCHLD handler must not reap it.
 * Without a time limit, exec_run() waits until every holder of the output pipe (including
 * background grandchildren) has closed it; set time_limit_ms for untrusted commands. */
#ifndef KESTREL_BASE_EXEC_H
#define KESTREL_BASE_EXEC_H

#include <stddef.h>
#include <sys/types.h>

#include "base/argv.h"
#include "base/str.h"

struct exec_spec {
    char *const *argv;   /* program and arguments; argv[0] without '/' is searched in PATH */
    const char *command; /* when set (argv ignored): run /bin/sh -c command */
    char *const *envp;   /* the child's environment; NULL gives an empty one */
    const char *cwd;     /* working directory; NULL keeps the current one */
    int set_ids;         /* switch to uid/gid; refused unless running as root */
    uid_t uid;
    gid_t gid;
    int stdin_fd; /* >= 0: the child's stdin; otherwise stdin_data (NULL: /dev/null) */
    const void *stdin_data;
    size_t stdin_len;
    size_t output_limit; /* bytes of stdout+stderr kept in the result; the rest is dropped */
    long time_limit_ms;  /* > 0: kill the process group after this long */
};

/* Defaults: no command, empty environment, stdin /dev/null, 64 KiB output, no time limit. */
void exec_spec_init(struct exec_spec *spec);

enum {
    EXEC_EXITED = 1,   /* exit_status is valid */
    EXEC_SIGNALED = 2, /* signo is valid */
    EXEC_TIMEDOUT = 3, /* killed after time_limit_ms */
};

struct exec_result {
    int how;
    int exit_status;
    int signo;
    int truncated;     /* output exceeded output_limit */
    struct str output; /* stdout and stderr, interleaved as written */
};

/* Returns 0 with *res filled (release it with exec_result_free()), or -1 when the command could
 * not be started (fork, pipe, uid switch, chdir or exec failure), with the reason in why. */
int exec_run(const struct exec_spec *spec, struct exec_result *res, struct str *why);
void exec_result_free(struct exec_result *res);

/* Build an environment from env: each entry of names is either "NAME" (copied from env when
 * set there) or "NAME=value" (set literally). The result's ->v is usable as envp. */
struct argv *exec_env_filter(char *const *env, const char *const *names);

#endif
