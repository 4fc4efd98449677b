/* log: the message interface every program uses, in the shape Postfix admins and their tools
 * (pflogsumm, fail2ban, logwatch) parse: "<syslog_name>/<service>[pid]: [warning: ]text".
 * Destinations: syslog, a plain file (maillog_file) and stderr, any combination. */
#ifndef KESTREL_BASE_LOG_H
#define KESTREL_BASE_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

extern int msg_verbose;

/* service: the program's name ("smtpd"). Logs to stderr only until a destination is opened. */
void log_init(const char *service);
const char *log_service(void);
void log_set_syslog_name(const char *syslog_name); /* default "postfix" */
const char *log_syslog_name(void);
/* facility: a syslog facility name such as "mail" or "local0"; returns -1 for an unknown name. */
int log_open_syslog(const char *facility);
void log_close_syslog(void);
/* Append to a file ("/dev/stdout" works); returns -1 and sets errno on failure. */
int log_open_file(const char *path);
void log_close_file(void);
void log_set_stderr(int on);
/* Called (once) before a fatal exit, e.g. to remove a half-written file. */
void log_set_cleanup(void (*fn)(void));
/* Replace exit() on fatal/panic (unit tests longjmp out of it). */
void log_set_fatal_hook(void (*fn)(int status));

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void msg_fatal_status(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
noreturn void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_vlog(int level, const char *fmt, va_list ap);

enum { MSG_INFO, MSG_WARN, MSG_ERROR, MSG_FATAL, MSG_PANIC };

#endif
