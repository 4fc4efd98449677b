/* master_spawn: starting children with their descriptors and arguments, reaping them, logging
 * abnormal exits in Postfix's words, and throttling a service whose command fails at start. */
#include "master.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "service/server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdnoreturn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct master_proc *procs;
static int proc_count;

struct master_proc *master_proc_find(pid_t pid)
{
    for (struct master_proc *p = procs; p; p = p->next)
        if (p->pid == pid)
            return p;
    return NULL;
}

int master_proc_count(void)
{
    return proc_count;
}

static struct argv *child_argv(const struct master_service *s)
{
    struct argv *a = argv_new();
    const char *slash = strrchr(s->path, '/');
    argv_add(a, slash ? slash + 1 : s->path);
    argv_add(a, "-n");
    argv_add(a, s->name);
    argv_add(a, "-t");
    argv_add(a, s->type);
    struct str n = STR_INIT;
    str_setf(&n, "%d", s->nlisten);
    argv_add(a, "-s");
    argv_add(a, str_cstr(&n));
    str_release(&n);
    if (s->unpriv_flag)
        argv_add(a, "-u");
    if (s->chroot_flag)
        argv_add(a, "-c");
    for (int i = 0; i < msg_verbose; i++)
        argv_add(a, "-v");
    for (size_t i = 0; i < s->args->n; i++)
        argv_add(a, s->args->v[i]);
    return a;
}

/* The environment children get: import_environment, plus MAIL_CONFIG. */
static struct argv *child_env(void)
{
    struct argv *names = argv_split(config_get("import_environment"), ", \t\r\n");
    struct argv *env = argv_new();
    for (size_t i = 0; i < names->n; i++) {
        const char *eq = strchr(names->v[i], '=');
        if (eq) {
            argv_add(env, names->v[i]);
        } else if (strcmp(names->v[i], "MAIL_CONFIG") != 0 && getenv(names->v[i])) {
            struct str kv = STR_INIT;
            str_setf(&kv, "%s=%s", names->v[i], getenv(names->v[i]));
            argv_add_owned(env, str_steal(&kv));
        }
    }
    struct str kv = STR_INIT;
    str_setf(&kv, "MAIL_CONFIG=%s", config_directory());
    argv_add_owned(env, str_steal(&kv));
    argv_free(names);
    return env;
}

/* In the child: put the status pipe at MASTER_STATUS_FD and the listeners after it. */
static void child_descriptors(const struct master_service *s)
{
    int tmp[MASTER_MAX_LISTENERS + 1];
    tmp[0] = fcntl(s->status_fd[1], F_DUPFD, 200);
    for (int i = 0; i < s->nlisten; i++)
        tmp[i + 1] = fcntl(s->listen_fds[i], F_DUPFD, 200);
    for (int i = 0; i <= s->nlisten; i++) {
        if (tmp[i] < 0 || dup2(tmp[i], MASTER_STATUS_FD + i) < 0)
            _exit(127);
    }
    /* Everything else closes at exec; until then the log file still works, so an exec
     * failure can be logged. */
    close_range((unsigned)(MASTER_STATUS_FD + s->nlisten + 1), ~0U, CLOSE_RANGE_CLOEXEC);
}

static noreturn void child_exec(const struct master_service *s, struct argv *args, struct argv *env)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    child_descriptors(s);
    execve(s->path, args->v, env->v);
    msg_error("exec %s: %s", s->path, strerror(errno)); /* not msg_fatal: no master cleanup */
    _exit(1);
}

static void throttle_end(struct event_loop *loop, void *ctx)
{
    struct master_service *s = ctx;
    s->throttled = 0;
    s->throttle_timer = 0;
    master_avail_update(loop, s);
}

static void throttle(struct event_loop *loop, struct master_service *s)
{
    if (s->throttled)
        return;
    s->throttled = 1;
    s->throttle_timer =
        event_timer_add(loop, config_get_time("service_throttle_time") * 1000L, 0, throttle_end, s);
    master_avail_update(loop, s);
}

void master_spawn(struct event_loop *loop, struct master_service *s)
{
    if (s->max_proc > 0 && s->total >= s->max_proc)
        return;
    struct argv *args = child_argv(s);
    struct argv *env = child_env();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(s, args, env);
    argv_free(args);
    argv_free(env);
    if (pid < 0) {
        msg_warn("%s: fork: %s -- throttling", s->path, strerror(errno));
        throttle(loop, s);
        return;
    }
    struct master_proc *p = xcalloc(1, sizeof(*p));
    p->pid = pid;
    p->service = s;
    p->avail = 1;
    p->next = procs;
    procs = p;
    proc_count++;
    s->total++;
    s->avail++;
    master_avail_update(loop, s);
}

static void unlink_proc(struct master_proc *dead)
{
    for (struct master_proc **pp = &procs; *pp; pp = &(*pp)->next)
        if (*pp == dead) {
            *pp = dead->next;
            proc_count--;
            return;
        }
}

static int log_exit(const struct master_service *s, pid_t pid, int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        msg_warn("process %s pid %ld exit status %d", s->path, (long)pid, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        msg_warn("process %s pid %ld killed by signal %d", s->path, (long)pid, WTERMSIG(status));
    return 1;
}

static void child_gone(struct event_loop *loop, struct master_proc *p, int status)
{
    struct master_service *s = p->service;
    int abnormal = log_exit(s, p->pid, status);
    unlink_proc(p);
    s->total--;
    if (p->avail)
        s->avail--;
    if (abnormal && p->use_count == 0 && !s->removed && !s->throttled) {
        msg_warn("%s: bad command startup -- throttling", s->path);
        throttle(loop, s);
    }
    free(p);
    if (s->removed && s->total == 0)
        master_config_forget(loop, s);
    else
        master_avail_update(loop, s);
}

void master_reap(struct event_loop *loop)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct master_proc *p = master_proc_find(pid);
        if (p)
            child_gone(loop, p, status);
    }
}

void master_signal_children(struct master_service *s, int signo)
{
    for (struct master_proc *p = procs; p; p = p->next)
        if (p->service == s)
            kill(p->pid, signo);
}

void master_signal_all(int signo)
{
    for (struct master_proc *p = procs; p; p = p->next)
        kill(p->pid, signo);
}

void master_cancel_throttle(struct event_loop *loop, struct master_service *s)
{
    if (s->throttle_timer)
        event_timer_cancel(loop, s->throttle_timer);
    s->throttle_timer = 0;
}
