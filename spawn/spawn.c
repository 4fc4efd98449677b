/* spawn: the command attributes (user=, argv=) and running the command on a client socket: a
 * child with the socket as fds 0 and 1, stderr into a pipe that is logged, the user's ids, a new
 * process group killed at the time limit, and the exit status reported. */
#include "spawn.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STDERR_LIMIT 65536

int spawn_args_parse(int argc, char *const *argv, int am_root, struct spawn_attr *a,
                     struct str *err)
{
    memset(a, 0, sizeof(*a));
    a->argv = argv_new();
    int i = 0;
    for (; i < argc && strncmp(argv[i], "argv=", 5) != 0; i++) {
        if (strncmp(argv[i], "user=", 5) == 0) {
            if (command_user_parse(argv[i] + 5, &a->user, err) < 0)
                return -1;
        } else {
            str_setf(err, "unknown attribute name: %s", argv[i]);
            return -1;
        }
    }
    return command_argv_take(argc, argv, i, am_root, &a->user, a->argv, err);
}

void spawn_attr_release(struct spawn_attr *a)
{
    argv_free(a->argv);
    memset(a, 0, sizeof(*a));
}

static _Noreturn void child(const struct spawn_attr *a, int in_fd, int out_fd, int err_fd)
{
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(127);
    closefrom(3);
    if (a->user.set && geteuid() == 0 &&
        (setgroups(1, &a->user.gid) < 0 || setgid(a->user.gid) < 0 || setuid(a->user.uid) < 0)) {
        dprintf(2, "cannot switch to uid %ld: %s\n", (long)a->user.uid, strerror(errno));
        _exit(75);
    }
    execvp(a->argv->v[0], a->argv->v);
    dprintf(2, "cannot execute %s: %s\n", a->argv->v[0], strerror(errno));
    _exit(127);
}

/* Logs complete lines of buf (and the rest when final). */
static void log_lines(const char *cmd, struct str *buf, int final)
{
    char *start = buf->data, *nl;
    size_t left = buf->len;
    while (left > 0 && ((nl = memchr(start, '\n', left)) != NULL || final)) {
        size_t n = nl ? (size_t)(nl - start) : left;
        msg_warn("%s: %.*s", cmd, (int)n, start);
        left -= n + (nl ? 1 : 0);
        start += n + (nl ? 1 : 0);
    }
    memmove(buf->data, start, left);
    buf->len = left;
    buf->data[left] = 0;
}

int spawn_run(const struct spawn_attr *a, int in_fd, int out_fd, long time_limit_ms,
              struct spawn_result *res, struct str *why)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        str_setf(why, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        str_setf(why, "fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0)
        child(a, in_fd, out_fd, p[1]);
    setpgid(pid, pid);
    close(p[1]);
    long long deadline = time_limit_ms > 0 ? now_ms() + time_limit_ms : 0;
    struct str buf = STR_INIT;
    size_t total = 0;
    int open_pipe = 1, timed_out = 0, wstatus;
    str_append(&buf, "");
    for (;;) {
        pid_t w = waitpid(pid, &wstatus, WNOHANG);
        if (w == pid && !open_pipe)
            break;
        long long left = deadline ? deadline - now_ms() : 1000;
        if (deadline && left <= 0 && !timed_out) {
            kill(-pid, SIGKILL);
            timed_out = 1;
        }
        if (w == pid) {
            open_pipe = 0; /* drain what is there without waiting for grandchildren */
        }
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        int n = open_pipe ? poll(&pf, 1, (int)(left > 100 ? 100 : left < 1 ? 1 : left)) : 0;
        if (n > 0) {
            char chunk[4096];
            ssize_t r = read(p[0], chunk, sizeof(chunk));
            if (r <= 0) {
                open_pipe = 0;
            } else if (total < STDERR_LIMIT) {
                total += (size_t)r;
                str_appendn(&buf, chunk, (size_t)r);
                log_lines(a->argv->v[0], &buf, 0);
            }
        } else if (!open_pipe && w != pid) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (w == pid)
            break;
    }
    log_lines(a->argv->v[0], &buf, 1);
    close(p[0]);
    str_release(&buf);
    kill(-pid, SIGKILL); /* leftovers of the process group */
    if (timed_out) {
        res->how = SPAWN_TIMEDOUT;
        res->status = 0;
    } else if (WIFSIGNALED(wstatus)) {
        res->how = SPAWN_SIGNALED;
        res->status = WTERMSIG(wstatus);
    } else {
        res->how = SPAWN_EXITED;
        res->status = WEXITSTATUS(wstatus);
    }
    return 0;
}

void spawn_log_result(const char *command, const struct spawn_result *res)
{
    if (res->how == SPAWN_TIMEDOUT)
        msg_warn("command %s time limit exceeded", command);
    else if (res->how == SPAWN_SIGNALED)
        msg_warn("command %s killed by signal %d", command, res->status);
    else if (res->status != 0)
        msg_warn("command %s exit status %d", command, res->status);
}
