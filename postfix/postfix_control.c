/* postfix_control: the commands that act on a running (or not running) master: start,
 * start-fg, stop, abort, reload, status and flush. The master is found through its locked pid
 * file, never by process name. */
#include "postfix.h"

#include "base/str.h"
#include "service/master_pid.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pid_t postfix_master_pid(const struct postfix_env *env)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/%s", env->queue_dir, MASTER_PID_FILE);
    pid_t pid = 0;
    if (!master_pid_running(path.data, &pid))
        pid = 0;
    str_release(&path);
    return pid;
}

static pid_t must_be_running(const struct postfix_env *env)
{
    pid_t pid = postfix_master_pid(env);
    if (pid <= 0)
        pf_fatal("the Postfix mail system is not running");
    return pid;
}

/* Everything start and start-fg do before the master runs. */
static void prepare_start(const struct postfix_env *env)
{
    if (postfix_master_pid(env) > 0)
        pf_fatal("the Postfix mail system is already running");
    if (postfix_validate(env) != 0)
        pf_fatal("configuration errors: not starting the Postfix mail system");
    if (postfix_queue_check(env) != 0)
        pf_fatal("mail system startup failed");
}

static void master_argv(const struct postfix_env *env, const char *mode, char **argv,
                        struct str *path)
{
    str_setf(path, "%s/master", env->daemon_dir);
    argv[0] = path->data;
    argv[1] = (char *)mode;
    argv[2] = env->verbose ? "-v" : NULL;
    argv[3] = NULL;
}

int postfix_start(const struct postfix_env *env)
{
    prepare_start(env);
    pf_info("starting the Postfix mail system");
    struct str path = STR_INIT;
    char *argv[4];
    master_argv(env, "-w", argv, &path);
    pid_t pid = fork();
    if (pid < 0)
        pf_fatal("fork: %s", strerror(errno));
    if (pid == 0) {
        execv(argv[0], argv);
        pf_error("execute %s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            pf_fatal("waitpid: %s", strerror(errno));
    str_release(&path);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        pf_fatal("mail system startup failed");
    return 0;
}

int postfix_start_fg(const struct postfix_env *env)
{
    prepare_start(env);
    pf_info("starting the Postfix mail system");
    struct str path = STR_INIT;
    char *argv[4];
    master_argv(env, "-i", argv, &path);
    execv(argv[0], argv);
    pf_fatal("execute %s: %s", argv[0], strerror(errno));
}

/* 1 when a live (not zombie) process is in process group pgid. Zombies count as gone: an
 * orphaned master is reaped by init, which may take a while. Without /proc: kill(-pgid, 0). */
static int group_alive(pid_t pgid)
{
    DIR *dp = opendir("/proc");
    if (dp == NULL)
        return !(kill(-pgid, 0) < 0 && errno == ESRCH);
    struct dirent *de;
    int alive = 0;
    char path[64], buf[512];
    while (!alive && (de = readdir(dp)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%.20s/stat", de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        /* pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses. */
        char *rp = strrchr(buf, ')');
        char state;
        long ppid, pgrp;
        if (rp && sscanf(rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
            state != 'Z' && state != 'X')
            alive = 1;
    }
    closedir(dp);
    return alive;
}

/* Master gone, and (when it led a process group, as after `master -w`) its children too. */
static int all_gone(pid_t pid, const struct postfix_env *env)
{
    return postfix_master_pid(env) <= 0 && !group_alive(pid);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int postfix_stop(const struct postfix_env *env)
{
    pid_t pid = must_be_running(env);
    pf_info("stopping the Postfix mail system");
    if (kill(pid, SIGTERM) < 0)
        pf_fatal("kill %ld: %s", (long)pid, strerror(errno));
    for (int tick = 1; tick <= POSTFIX_STOP_WAIT_SECONDS * 10; tick++) {
        sleep_ms(100);
        if (all_gone(pid, env))
            return 0;
        if (tick % 10 == 0)
            pf_info("waiting for the Postfix mail system to terminate");
    }
    pf_warn("stopping the Postfix mail system with force");
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    return 0;
}

int postfix_abort(const struct postfix_env *env)
{
    pid_t pid = must_be_running(env);
    pf_info("aborting the Postfix mail system");
    if (kill(pid, SIGTERM) < 0)
        pf_fatal("kill %ld: %s", (long)pid, strerror(errno));
    return 0;
}

int postfix_reload(const struct postfix_env *env)
{
    pid_t pid = must_be_running(env);
    if (postfix_validate(env) != 0)
        pf_fatal("configuration errors: not refreshing the Postfix mail system");
    pf_info("refreshing the Postfix mail system");
    if (kill(pid, SIGHUP) < 0)
        pf_fatal("kill %ld: %s", (long)pid, strerror(errno));
    return 0;
}

int postfix_status(const struct postfix_env *env)
{
    pid_t pid = postfix_master_pid(env);
    if (pid <= 0) {
        pf_info("the Postfix mail system is not running");
        return 1;
    }
    pf_info("the Postfix mail system is running: PID: %ld", (long)pid);
    return 0;
}

/* Send one trigger byte to a unix-socket (or FIFO) service endpoint; 0 on success. */
static int send_trigger(const char *path, char byte)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode)) {
        int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        int ok = fd >= 0 && write(fd, &byte, 1) == 1;
        if (fd >= 0)
            close(fd);
        return ok ? 0 : -1;
    }
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path))
        return -1;
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
             send(fd, &byte, 1, MSG_NOSIGNAL) == 1;
    close(fd);
    return ok ? 0 : -1;
}

int postfix_flush(const struct postfix_env *env)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/public/qmgr", env->queue_dir);
    int rc = send_trigger(path.data, 'F');
    str_release(&path);
    if (rc < 0)
        pf_fatal("Cannot flush mail queue - mail system is down");
    return 0;
}
