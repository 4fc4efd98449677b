/* server: the service skeleton (interface and behaviour in server.h). This file holds the
 * start-up sequence and the serving loops for the three shapes. */
#include "service/server.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "mail/config.h"
#include "service/master_status.h"
#include "service/server_args.h"
#include "service/server_privs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdnoreturn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRIGGER_MAX 1024
#define TRIGGER_READ_TIMEOUT 5

static struct {
    const struct server_ops *ops;
    struct server_args args;
    struct event_loop *loop;
    volatile sig_atomic_t exit_requested;
    long use_count;
    long max_use;
    long max_idle;
    time_t idle_since;
    int clients; /* MULTI: connected clients */
} srv;

struct event_loop *server_event_loop(void)
{
    return srv.loop;
}

const char *server_service_name(void)
{
    return srv.args.service;
}

char **server_service_args(int *argc)
{
    *argc = srv.args.argc;
    return srv.args.argv;
}

void server_request_exit(void)
{
    srv.exit_requested = 1;
}

static noreturn void server_exit(void)
{
    if (srv.ops->pre_exit)
        srv.ops->pre_exit();
    exit(0);
}

static void report(int status)
{
    if (srv.args.standalone)
        return;
    if (master_status_send(MASTER_STATUS_FD, getpid(), status) < 0)
        srv.exit_requested = 1; /* master is gone: finish and leave */
}

/* SIGHUP (reload, or master gone): stop taking clients at once — the listeners are closed here,
 * in the handler, so a client of a removed service is refused rather than queued behind a long
 * session — and leave after the current client. */
static void on_hangup(int signo)
{
    (void)signo;
    srv.exit_requested = 1;
    for (int i = 0; i < srv.args.listen_count; i++)
        close(MASTER_LISTEN_FD + i);
}

/* After each client: count the use, and check every reason to leave. */
static void client_done(void)
{
    srv.use_count++;
    srv.idle_since = time(NULL);
    if (srv.max_use > 0 && srv.use_count >= srv.max_use)
        srv.exit_requested = 1;
}

static int should_leave(void)
{
    if (srv.exit_requested)
        return 1;
    if (srv.ops->should_exit && srv.ops->should_exit())
        return 1;
    return srv.max_idle > 0 && srv.clients == 0 && time(NULL) - srv.idle_since >= srv.max_idle;
}

/* ---- SINGLE ---------------------------------------------------------------------------- */

static void serve_one(int fd)
{
    report(MASTER_STATUS_BUSY);
    struct stream *client = stream_fdopen(fd);
    srv.ops->serve(client, srv.args.service);
    stream_close(client);
    client_done();
    report(MASTER_STATUS_IDLE);
}

static void single_accept(struct event_loop *loop, int lfd, int events, void *ctx)
{
    (void)loop;
    (void)events;
    (void)ctx;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return; /* another process took it, or the client went away */
    net_set_nonblock(fd, 0);
    serve_one(fd);
}

/* ---- MULTI ----------------------------------------------------------------------------- */

static void multi_readable(struct event_loop *loop, int fd, int events, void *ctx)
{
    (void)events;
    struct stream *client = ctx;
    /* Requests the client pipelined may already sit in the stream's buffer, where the event
     * loop cannot see them: serve until the buffer is empty. */
    int rc;
    do
        rc = srv.ops->serve(client, srv.args.service);
    while (rc == SERVER_KEEP && stream_status(client) == 0 && stream_pending(client) > 0);
    if (rc == SERVER_KEEP && stream_status(client) == 0)
        return;
    event_unwatch_fd(loop, fd);
    stream_close(client);
    if (--srv.clients == 0) {
        client_done();
        report(MASTER_STATUS_IDLE);
    }
}

static void multi_accept(struct event_loop *loop, int lfd, int events, void *ctx)
{
    (void)events;
    (void)ctx;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    net_set_nonblock(fd, 0);
    if (srv.clients++ == 0)
        report(MASTER_STATUS_BUSY);
    event_watch_fd(loop, fd, EVENT_READ, multi_readable, stream_fdopen(fd));
}

/* ---- TRIGGER --------------------------------------------------------------------------- */

static void fire(const char *data, size_t len)
{
    report(MASTER_STATUS_BUSY);
    srv.ops->trigger(data, len, srv.args.service);
    client_done();
    report(MASTER_STATUS_IDLE);
}

static void trigger_fifo(struct event_loop *loop, int fd, int events, void *ctx)
{
    (void)loop;
    (void)events;
    (void)ctx;
    char buf[TRIGGER_MAX];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0)
        fire(buf, (size_t)n);
}

static void trigger_socket(struct event_loop *loop, int lfd, int events, void *ctx)
{
    (void)loop;
    (void)events;
    (void)ctx;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    net_set_nonblock(fd, 0);
    struct stream *s = stream_fdopen(fd);
    stream_set_timeout(s, TRIGGER_READ_TIMEOUT);
    char buf[TRIGGER_MAX];
    ssize_t n = stream_read(s, buf, sizeof(buf));
    stream_close(s);
    if (n > 0)
        fire(buf, (size_t)n);
}

static event_fd_fn listener_callback(int fd)
{
    struct stat st;
    switch (srv.ops->shape) {
    case SERVER_SINGLE:
        return single_accept;
    case SERVER_MULTI:
        return multi_accept;
    case SERVER_TRIGGER:
        return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) ? trigger_fifo : trigger_socket;
    }
    return single_accept;
}

/* ---- stand-alone mode (-S): stdin/stdout are the client -------------------------------- */

static ssize_t stdio_read(void *ctx, void *buf, size_t len, long deadline)
{
    (void)ctx;
    (void)deadline;
    return read(0, buf, len);
}

static ssize_t stdio_write(void *ctx, const void *buf, size_t len, long deadline)
{
    (void)ctx;
    (void)deadline;
    return write(1, buf, len);
}

static const struct stream_transport stdio_transport = {stdio_read, stdio_write};

static noreturn void serve_standalone(void)
{
    if (srv.ops->shape == SERVER_TRIGGER) {
        srv.ops->trigger("W", 1, srv.args.service);
        server_exit();
    }
    struct stream *client = stream_fdopen(0);
    stream_set_transport(client, &stdio_transport, NULL);
    srv.ops->serve(client, srv.args.service);
    stream_flush(client);
    stream_release(client);
    server_exit();
}

/* ---- start-up -------------------------------------------------------------------------- */

static void load_configuration(void)
{
    struct str err = STR_INIT;
    if (config_load(NULL, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    config_override("service_name", srv.args.service);
    config_override("process_name", log_service());
    for (size_t i = 0; i < srv.args.overrides->n; i++) {
        char *copy = xstrdup(srv.args.overrides->v[i]);
        char *eq = strchr(copy, '=');
        *eq = 0;
        config_override(copy, eq + 1);
        free(copy);
    }
    str_release(&err);
    msg_verbose = srv.args.verbose;
}

static void setup_logging(const char *program)
{
    log_init(program);
    log_set_syslog_name(config_get("syslog_name"));
    const char *file = config_get("maillog_file");
    if (file && *file) {
        if (log_open_file(file) < 0)
            msg_fatal("open maillog_file %s: %s", file, strerror(errno));
    } else if (log_open_syslog(config_get("syslog_facility")) < 0) {
        msg_warn("unknown syslog_facility \"%s\", using mail", config_get("syslog_facility"));
        log_open_syslog("mail");
    }
    log_set_stderr(srv.args.standalone && isatty(2));
}

/* SIGTERM keeps its default action: master's stop ends every child at once. */
static void setup_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_hangup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    srv.loop = event_loop_new();
}

static void watch_listeners(void)
{
    for (int i = 0; i < srv.args.listen_count; i++) {
        int fd = MASTER_LISTEN_FD + i;
        net_set_cloexec(fd, 1);
        event_watch_fd(srv.loop, fd, EVENT_READ, listener_callback(fd), NULL);
    }
    net_set_cloexec(MASTER_STATUS_FD, 1);
}

int server_main(int argc, char **argv, const struct server_ops *ops)
{
    srv.ops = ops;
    log_init(argv[0]);
    if (server_parse_args(argc, argv, &srv.args) < 0)
        return 2;
    load_configuration();
    setup_logging(argv[0]);
    const char *queue_dir = config_get("queue_directory");
    if (chdir(queue_dir) < 0)
        msg_fatal("chdir %s: %s", queue_dir, strerror(errno));
    setup_signals();
    if (ops->pre_init)
        ops->pre_init(srv.args.service);
    /* master.cf's unpriv column (-u): most services become mail_owner; those marked "n"
     * (local, virtual, pipe) stay root to act as each recipient and drop per delivery. */
    if (srv.args.unprivileged)
        server_drop_privileges(config_get("mail_owner"), queue_dir, srv.args.chroot);
    else if (srv.args.chroot && geteuid() == 0)
        msg_fatal("service %s: chroot requires the unprivileged (unpriv=y) mode", srv.args.service);
    if (!srv.args.standalone)
        prctl(PR_SET_PDEATHSIG, SIGHUP); /* after the uid change, which clears it */
    if (ops->post_init)
        ops->post_init(srv.args.service);
    if (srv.args.standalone)
        serve_standalone();
    srv.max_use = ops->max_idle < 0 ? 0 : config_get_int("max_use");
    srv.max_idle = ops->max_idle < 0 ? 0
                   : ops->max_idle   ? ops->max_idle
                                     : config_get_time("max_idle");
    srv.idle_since = time(NULL);
    watch_listeners();
    if (!srv.args.standalone && getppid() == 1)
        msg_fatal("master is not running");
    while (!should_leave())
        event_loop_run_once(srv.loop, 1000);
    server_exit();
}
