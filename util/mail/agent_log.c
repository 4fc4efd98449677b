/* agent_log: formatting and logging the per-recipient delivery line of the delivery agents
 * (to=, orig_to=, relay=, delay=, delays=, dsn=, status=) exactly as pflogsumm reads it. */
#include "mail/agent_log.h"

#include "base/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

double agent_log_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

void agent_log_delay(struct str *out, double s)
{
    char buf[64];
    if (!(s > 0)) /* negative or NaN */
        s = 0;
    if (s > 1e11)
        s = 1e11;
    if (s >= 10)
        snprintf(buf, sizeof(buf), "%.0f", s);
    else if (s >= 1)
        snprintf(buf, sizeof(buf), "%.1f", s);
    else
        snprintf(buf, sizeof(buf), "%.2f", s);
    size_t n = strlen(buf);
    if (strchr(buf, '.')) {
        while (n > 0 && buf[n - 1] == '0')
            buf[--n] = 0;
        if (n > 0 && buf[n - 1] == '.')
            buf[--n] = 0;
    }
    str_append(out, buf);
}

void agent_log_format(struct str *out, const struct agent_log_info *in, double now)
{
    str_appendf(out, "%s: to=<%s>, ", in->queue_id, in->recipient);
    if (in->orig && *in->orig && strcasecmp(in->orig, in->recipient) != 0)
        str_appendf(out, "orig_to=<%s>, ", in->orig);
    str_appendf(out, "relay=%s, delay=", in->relay);
    agent_log_delay(out, now - in->arrival);
    str_append(out, ", delays=");
    agent_log_delay(out, in->queue_delay);
    str_appendc(out, '/');
    agent_log_delay(out, in->active_time);
    str_appendc(out, '/');
    agent_log_delay(out, in->conn_time);
    str_appendc(out, '/');
    agent_log_delay(out, now - in->started - in->conn_time);
    str_appendf(out, ", dsn=%s, status=%s", in->dsn, in->status);
    if (in->reason)
        str_appendf(out, " (%s)", in->reason);
}

void agent_log(const struct agent_log_info *info)
{
    struct str line = STR_INIT;
    agent_log_format(&line, info, agent_log_now());
    msg_info("%s", line.data);
    str_release(&line);
}
