/* master: the resident process manager. Reads main.cf and master.cf, opens every listener,
 * starts service processes on demand within their limits, restarts them, and reloads or stops
 * on signals. Usage: master [-c config_dir] [-d] [-i] [-t] [-w] [-v]
 *   -d  stay in the foreground     -i  foreground, as init/container process (start-fg)
 *   -t  test: exit 0 when no master runs for this queue, 1 when one does
 *   -w  detach, but wait until the mail system is up (what `postfix start` uses) */
#include "master.h"

#include "base/log.h"
#include "mail/config.h"
#include "mail/queue_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct options {
    const char *config_dir;
    int foreground, test, wait;
};

static int ready_fd = -1; /* -w: tells the waiting parent that start-up is complete */

static void parse_options(int argc, char **argv, struct options *o)
{
    int c;
    memset(o, 0, sizeof(*o));
    while ((c = getopt(argc, argv, "c:ditvwe:s")) != -1) {
        switch (c) {
        case 'c':
            o->config_dir = optarg;
            break;
        case 'd':
        case 'i':
            o->foreground = 1;
            break;
        case 't':
            o->test = 1;
            break;
        case 'w':
            o->wait = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'e':
        case 's':
            break;
        default:
            msg_fatal("usage: master [-c config_dir] [-d] [-i] [-t] [-v] [-w]");
        }
    }
}

static void setup_logging(int foreground)
{
    log_set_syslog_name(config_get("syslog_name"));
    const char *file = config_get("maillog_file");
    if (file && *file) {
        if (log_open_file(file) < 0)
            msg_fatal("open maillog_file %s: %s", file, strerror(errno));
    } else {
        log_open_syslog(config_get("syslog_facility"));
    }
    log_set_stderr(foreground && isatty(2) && !(file && *file));
}

/* Detach from the terminal; with -w the parent waits for the child's verdict. */
static void detach(int wait)
{
    int p[2] = {-1, -1};
    if (wait && pipe(p) < 0)
        msg_fatal("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        msg_fatal("fork: %s", strerror(errno));
    if (pid > 0) {
        char ok = 0;
        if (wait) {
            close(p[1]);
            ok = read(p[0], &ok, 1) == 1 && ok == 'y';
            _exit(ok ? 0 : 1);
        }
        _exit(0);
    }
    if (wait) {
        close(p[0]);
        ready_fd = p[1];
    }
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        if (!wait)
            dup2(null, 2);
        if (null > 2)
            close(null);
    }
}

static void report_ready(void)
{
    if (ready_fd < 0)
        return;
    if (write(ready_fd, "y", 1) != 1)
        msg_warn("cannot notify the waiting parent");
    close(ready_fd);
    ready_fd = -1;
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, 2);
        close(null);
    }
}

static void on_reload(struct event_loop *loop, int signo, void *ctx)
{
    (void)signo;
    (void)ctx;
    master_config_reload(loop);
}

static void on_child(struct event_loop *loop, int signo, void *ctx)
{
    (void)signo;
    (void)ctx;
    master_reap(loop);
}

static void on_terminate(struct event_loop *loop, int signo, void *ctx)
{
    (void)ctx;
    msg_info("terminating on signal %d", signo);
    master_config_stop(loop);
    master_pid_remove();
    exit(0);
}

/* The queue directory layout (util/mail/queue_layout.h): missing directories are created, so
 * a master started without `postfix start` still finds pid/, public/ and private/. */
static void make_runtime_dirs(void)
{
    struct queue_layout q;
    struct str err = STR_INIT;
    if (queue_layout_init(&q, config_get("queue_directory"), config_get("mail_owner"),
                          config_get("setgid_group"), &err) < 0 ||
        queue_layout_create(&q, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    queue_layout_release(&q);
    str_release(&err);
}

static int test_running(void)
{
    pid_t pid;
    return master_pid_running(MASTER_PID_FILE, &pid) ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct options o;
    struct str err = STR_INIT;
    log_init("master");
    parse_options(argc, argv, &o);
    if (config_load(o.config_dir, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    const char *queue_dir = config_get("queue_directory");
    if (chdir(queue_dir) < 0)
        msg_fatal("chdir %s: %s", queue_dir, strerror(errno));
    if (o.test)
        return test_running();
    if (!o.foreground)
        detach(o.wait);
    setup_logging(o.foreground);
    umask(022);
    make_runtime_dirs();
    if (master_pid_lock(MASTER_PID_FILE, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    log_set_cleanup(master_pid_remove);
    signal(SIGPIPE, SIG_IGN);
    struct event_loop *loop = event_loop_new();
    event_watch_signal(loop, SIGHUP, on_reload, NULL);
    event_watch_signal(loop, SIGCHLD, on_child, NULL);
    event_watch_signal(loop, SIGTERM, on_terminate, NULL);
    event_watch_signal(loop, SIGINT, on_terminate, NULL);
    if (master_config_start(loop, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    msg_info("daemon started -- version %s, configuration %s", config_get("mail_version"),
             config_directory());
    report_ready();
    event_loop_run(loop);
    return 0;
}
