/* log: formatting and delivery of log records to syslog, a log file and stderr.
 * One record is one write(2) to the file, so concurrent processes do not interleave lines.
 * Control characters in messages are replaced so no input can forge a second log line. */
#include "base/log.h"

#include "base/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

int msg_verbose;

#define LOG_FD_MIN 100

static char service_name[64] = "kestrel";
static char syslog_ident_name[64] = "postfix";
static char full_ident[160];
static int use_syslog;
static int use_stderr = 1;
static int log_fd = -1;
static void (*cleanup_fn)(void);
static void (*fatal_hook)(int);

static const char *const level_prefix[] = {"", "warning: ", "error: ", "fatal: ", "panic: "};

static void copy_name(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

void log_init(const char *service)
{
    const char *slash = strrchr(service, '/');
    copy_name(service_name, sizeof(service_name), slash ? slash + 1 : service);
}

const char *log_service(void)
{
    return service_name;
}

void log_set_syslog_name(const char *syslog_name)
{
    copy_name(syslog_ident_name, sizeof(syslog_ident_name), syslog_name);
    if (use_syslog) {
        closelog();
        use_syslog = 0;
    }
}

const char *log_syslog_name(void)
{
    return syslog_ident_name;
}

static const struct {
    const char *name;
    int value;
} facilities[] = {
    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}, {"auth", LOG_AUTH},
};

int log_open_syslog(const char *facility)
{
    int fac = -1;
    for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
        if (strcasecmp(facility, facilities[i].name) == 0)
            fac = facilities[i].value;
    if (fac < 0)
        return -1;
    snprintf(full_ident, sizeof(full_ident), "%s/%s", syslog_ident_name, service_name);
    openlog(full_ident, LOG_PID | LOG_NDELAY, fac);
    use_syslog = 1;
    return 0;
}

void log_close_syslog(void)
{
    if (use_syslog)
        closelog();
    use_syslog = 0;
}

int log_open_file(const char *path)
{
    /* /dev/stdout and /dev/stderr mean the descriptors we have, which an unprivileged process
     * may not be able to open again by name. */
    int fd = strcmp(path, "/dev/stdout") == 0 ? fcntl(1, F_DUPFD_CLOEXEC, 3)
             : strcmp(path, "/dev/stderr") == 0
                 ? fcntl(2, F_DUPFD_CLOEXEC, 3)
                 : open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    /* Keep the descriptor out of the low numbers a parent may hand to a child (master puts its
     * status pipe and listeners at 3, 4, ...), so those can never be mistaken for the log. */
    int high = fcntl(fd, F_DUPFD_CLOEXEC, LOG_FD_MIN);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    return 0;
}

void log_close_file(void)
{
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
}

void log_set_stderr(int on)
{
    use_stderr = on;
}

void log_set_cleanup(void (*fn)(void))
{
    cleanup_fn = fn;
}

void log_set_fatal_hook(void (*fn)(int))
{
    fatal_hook = fn;
}

/* Replace control characters so a message is always exactly one line. */
static void sanitize(struct str *s)
{
    for (size_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->data[i];
        if (c < 0x20 || c == 0x7f)
            s->data[i] = '?';
    }
}

static void write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void write_file_record(const struct str *text)
{
    char stamp[32], host[256];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
    if (gethostname(host, sizeof(host)) != 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    char *dot = strchr(host, '.');
    if (dot)
        *dot = 0;
    struct str line = STR_INIT;
    str_appendf(&line, "%s %s %s/%s[%ld]: %s\n", stamp, host, syslog_ident_name, service_name,
                (long)getpid(), str_cstr(text));
    write_all(log_fd, line.data, line.len);
    str_release(&line);
}

void msg_vlog(int level, const char *fmt, va_list ap)
{
    int saved_errno = errno;
    struct str text = STR_INIT;
    str_append(&text, level_prefix[level]);
    errno = saved_errno;
    str_vappendf(&text, fmt, ap);
    sanitize(&text);
    if (use_syslog) {
        static const int prio[] = {LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT};
        syslog(prio[level], "%s", str_cstr(&text));
    }
    if (log_fd >= 0)
        write_file_record(&text);
    if (use_stderr) {
        struct str line = STR_INIT;
        str_appendf(&line, "%s: %s\n", service_name, str_cstr(&text));
        write_all(2, line.data, line.len);
        str_release(&line);
    }
    str_release(&text);
    errno = saved_errno;
}

#define LOG_BODY(level)                                                                            \
    va_list ap;                                                                                    \
    va_start(ap, fmt);                                                                             \
    msg_vlog(level, fmt, ap);                                                                      \
    va_end(ap)

void msg_info(const char *fmt, ...)
{
    LOG_BODY(MSG_INFO);
}

void msg_warn(const char *fmt, ...)
{
    LOG_BODY(MSG_WARN);
}

void msg_error(const char *fmt, ...)
{
    LOG_BODY(MSG_ERROR);
}

static noreturn void fatal_exit(int status)
{
    static int exiting;
    if (!exiting++ && cleanup_fn)
        cleanup_fn();
    if (fatal_hook)
        fatal_hook(status);
    exit(status);
}

void msg_fatal(const char *fmt, ...)
{
    LOG_BODY(MSG_FATAL);
    fatal_exit(1);
}

void msg_fatal_status(int status, const char *fmt, ...)
{
    LOG_BODY(MSG_FATAL);
    fatal_exit(status);
}

void msg_panic(const char *fmt, ...)
{
    LOG_BODY(MSG_PANIC);
    if (fatal_hook)
        fatal_hook(2);
    abort();
}
