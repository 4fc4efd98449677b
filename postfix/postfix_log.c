/* postfix_log: messages of the postfix command in the shape of Postfix's postfix-script: to the
 * instance's log (syslog or maillog_file) under the name postfix-script, and the same line on
 * stderr prefixed with "<syslog_name>/postfix-script: ". */
#include "postfix.h"

#include "base/log.h"
#include "base/str.h"
#include "mail/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void postfix_log_open(void)
{
    log_set_syslog_name(config_get("syslog_name"));
    const char *file = config_get("maillog_file");
    if (file && *file) {
        if (log_open_file(file) < 0)
            msg_warn("open maillog_file %s: %s", file, strerror(errno));
    } else if (log_open_syslog(config_get("syslog_facility")) < 0) {
        msg_warn("unknown syslog_facility: %s", config_get("syslog_facility"));
    }
}

static void write_stderr(int level, const char *fmt, va_list ap)
{
    static const char *const prefix[] = {"", "warning: ", "error: ", "fatal: ", "panic: "};
    struct str line = STR_INIT;
    str_appendf(&line, "%s/%s: %s", log_syslog_name(), log_service(), prefix[level]);
    size_t start = line.len;
    str_vappendf(&line, fmt, ap);
    for (size_t i = start; i < line.len; i++)
        if ((unsigned char)line.data[i] < 0x20 || line.data[i] == 0x7f)
            line.data[i] = '?';
    str_appendc(&line, '\n');
    size_t off = 0;
    while (off < line.len) {
        ssize_t n = write(2, line.data + off, line.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    str_release(&line);
}

static void pf_vlog(int level, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    log_set_stderr(0);
    msg_vlog(level, fmt, ap);
    log_set_stderr(1);
    write_stderr(level, fmt, copy);
    va_end(copy);
}

#define PF_BODY(level)                                                                             \
    va_list ap;                                                                                    \
    va_start(ap, fmt);                                                                             \
    pf_vlog(level, fmt, ap);                                                                       \
    va_end(ap)

void pf_info(const char *fmt, ...)
{
    PF_BODY(MSG_INFO);
}

void pf_warn(const char *fmt, ...)
{
    PF_BODY(MSG_WARN);
}

void pf_error(const char *fmt, ...)
{
    PF_BODY(MSG_ERROR);
}

void pf_fatal(const char *fmt, ...)
{
    PF_BODY(MSG_FATAL);
    exit(1);
}
