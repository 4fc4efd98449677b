/* exec: fork/exec with fd hygiene, privilege switch, stdin feeding, bounded output capture and
 * a process-group kill on timeout. Exec failures travel back over a close-on-exec pipe. */
#include "base/exec.h"

#include "base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_OUTPUT_LIMIT 65536

void exec_spec_init(struct exec_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->stdin_fd = -1;
    spec->output_limit = DEFAULT_OUTPUT_LIMIT;
}

void exec_result_free(struct exec_result *res)
{
    str_release(&res->output);
}

struct argv *exec_env_filter(char *const *env, const char *const *names)
{
    struct argv *out = argv_new();
    for (size_t i = 0; names && names[i]; i++) {
        const char *name = names[i];
        if (strchr(name, '=')) {
            argv_add(out, name);
            continue;
        }
        size_t n = strlen(name);
        for (size_t j = 0; env && env[j]; j++) {
            if (strncmp(env[j], name, n) == 0 && env[j][n] == '=') {
                argv_add(out, env[j]);
                break;
            }
        }
    }
    return out;
}

/* ---- child side -------------------------------------------------------------------------- */

struct child_fds {
    int in;  /* becomes fd 0 */
    int out; /* becomes fds 1 and 2 */
    int err; /* exec error report, becomes fd 3 (close-on-exec) */
};

static void close_from(int low)
{
    if (close_range((unsigned)low, ~0U, 0) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = low; fd < max; fd++)
        close(fd);
}

static noreturn void child_fail(int errfd, int err)
{
    (void)!write(errfd, &err, sizeof(err));
    _exit(127);
}

static void child_setup_fds(struct child_fds *f)
{
    /* Move everything above 2 first so the dup2s below cannot clobber a source. */
    int in = fcntl(f->in, F_DUPFD, 10), out = fcntl(f->out, F_DUPFD, 10);
    int err = fcntl(f->err, F_DUPFD, 10);
    if (in < 0 || out < 0 || err < 0)
        child_fail(f->err, errno);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 || dup3(err, 3, O_CLOEXEC) < 0)
        child_fail(err, errno);
    f->err = 3;
    close_from(4);
}

static noreturn void child_run(const struct exec_spec *spec, struct child_fds *f)
{
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    child_setup_fds(f);
    if (spec->cwd && chdir(spec->cwd) < 0)
        child_fail(f->err, errno);
    if (spec->set_ids) {
        if (geteuid() != 0) {
            if (spec->uid != geteuid() || spec->gid != getegid())
                child_fail(f->err, EPERM);
        } else if (setgroups(1, &spec->gid) < 0 || setgid(spec->gid) < 0 || setuid(spec->uid) < 0) {
            child_fail(f->err, errno);
        }
    }
    static char *const empty_env[] = {NULL};
    char *const *envp = spec->envp ? spec->envp : empty_env;
    if (spec->command) {
        char *const sh[] = {"/bin/sh", "-c", (char *)spec->command, NULL};
        execve(sh[0], sh, envp);
    } else if (strchr(spec->argv[0], '/')) {
        execve(spec->argv[0], spec->argv, envp);
    } else {
        execvpe(spec->argv[0], spec->argv, envp);
    }
    child_fail(f->err, errno);
}

/* ---- parent side ------------------------------------------------------------------------- */

struct run {
    int out_fd;       /* read end of the child's stdout/stderr, -1 when at EOF */
    int in_fd;        /* our end of the child's stdin, -1 when done */
    const char *data; /* stdin bytes still to send */
    size_t left;
    size_t limit;
    struct exec_result *res;
};

static void read_output(struct run *r)
{
    char buf[4096];
    ssize_t n = read(r->out_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(r->out_fd);
        r->out_fd = -1;
        return;
    }
    size_t room = r->limit - r->res->output.len;
    if ((size_t)n > room)
        r->res->truncated = 1;
    str_appendn(&r->res->output, buf, (size_t)n < room ? (size_t)n : room);
}

static void write_input(struct run *r)
{
    ssize_t n = r->left ? send(r->in_fd, r->data, r->left, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n > 0) {
        r->data += n;
        r->left -= (size_t)n;
    }
    if (n <= 0 || r->left == 0) { /* done, or the child stopped reading */
        close(r->in_fd);
        r->in_fd = -1;
    }
}

/* Pump stdin and output until output EOF; returns 0, or -1 when the deadline passed. */
static int pump(struct run *r, long deadline)
{
    while (r->out_fd >= 0) {
        struct pollfd p[2] = {{.fd = r->out_fd, .events = POLLIN},
                              {.fd = r->in_fd, .events = POLLOUT}};
        int n = poll(p, r->in_fd >= 0 ? 2 : 1, deadline_poll_ms(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || deadline_expired(deadline))
            return -1;
        if (p[0].revents)
            read_output(r);
        if (r->in_fd >= 0 && p[1].revents)
            write_input(r);
    }
    return 0;
}

/* Wait for the child until the deadline; returns 0 with *status, or -1 at the deadline. */
static int wait_child(pid_t pid, long deadline, int *status)
{
    for (;;) {
        pid_t w = waitpid(pid, status, deadline < 0 ? 0 : WNOHANG);
        if (w == pid)
            return 0;
        if (w < 0 && errno != EINTR)
            return 0; /* already reaped elsewhere: report what we have */
        if (deadline_expired(deadline))
            return -1;
        if (w == 0)
            poll(NULL, 0, 10);
    }
}

static void close_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

static void close_pair(int p[2])
{
    close_fd(p[0]);
    close_fd(p[1]);
}

/* Kill the process group after a timeout and reap the child. */
static void kill_child(struct exec_result *res, pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    res->how = EXEC_TIMEDOUT;
}

static int start_fail(struct str *why, const struct exec_spec *spec, int err)
{
    if (why) {
        str_clear(why);
        str_appendf(why, "execute %s: %s", spec->command ? "/bin/sh" : spec->argv[0],
                    strerror(err));
    }
    errno = err;
    return -1;
}

static void finish(struct exec_result *res, pid_t pid, long deadline)
{
    int status = 0;
    if (wait_child(pid, deadline, &status) < 0) {
        kill_child(res, pid);
        return;
    }
    if (WIFSIGNALED(status)) {
        res->how = EXEC_SIGNALED;
        res->signo = WTERMSIG(status);
    } else {
        res->how = EXEC_EXITED;
        res->exit_status = WEXITSTATUS(status);
    }
}

int exec_run(const struct exec_spec *spec, struct exec_result *res, struct str *why)
{
    memset(res, 0, sizeof(*res));
    if (spec->command == NULL && (spec->argv == NULL || spec->argv[0] == NULL)) {
        if (why)
            str_set(why, "execute: empty command");
        errno = EINVAL;
        return -1;
    }
    int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
    int devnull = -1;
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
        (spec->stdin_fd < 0 && spec->stdin_data &&
         socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0) ||
        (spec->stdin_fd < 0 && !spec->stdin_data &&
         (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)) {
        int e = errno;
        close_pair(out);
        close_pair(err);
        close_pair(in);
        return start_fail(why, spec, e);
    }
    struct child_fds cf = {spec->stdin_fd >= 0 ? spec->stdin_fd
                           : in[0] >= 0        ? in[0]
                                               : devnull,
                           out[1], err[1]};
    long deadline = spec->time_limit_ms > 0 ? deadline_after_ms(spec->time_limit_ms) : -1;
    pid_t pid = fork();
    if (pid == 0)
        child_run(spec, &cf);
    int fork_err = errno;
    if (devnull >= 0)
        close(devnull);
    close(out[1]);
    close(err[1]);
    close_fd(in[0]);
    if (pid < 0) {
        close(out[0]);
        close(err[0]);
        close_fd(in[1]);
        return start_fail(why, spec, fork_err);
    }
    setpgid(pid, pid);
    int child_errno = 0;
    ssize_t n;
    while ((n = read(err[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
        ;
    close(err[0]);
    struct run r = {out[0], in[1], spec->stdin_data, spec->stdin_len, spec->output_limit, res};
    if (n > 0) {
        close(out[0]);
        close_fd(in[1]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return start_fail(why, spec, child_errno);
    }
    int timed_out = pump(&r, deadline) < 0;
    close_fd(r.out_fd);
    close_fd(r.in_fd);
    if (timed_out)
        kill_child(res, pid);
    else
        finish(res, pid, deadline);
    return 0;
}
