/* deliver_log: formatting of the to=<...>, relay=..., delay=..., status=... log line. */
#include "mail/deliver_log.h"

#include "base/log.h"
#include "mail/address.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

double deliver_log_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

void deliver_log_delay(struct str *out, double s)
{
    char buf[64];
    if (!(s > 0))
        s = 0;
    if (s >= 1e9)
        s = 1e9;
    if (s >= 10)
        snprintf(buf, sizeof(buf), "%.0f", s);
    else if (s >= 1)
        snprintf(buf, sizeof(buf), "%.1f", s);
    else
        snprintf(buf, sizeof(buf), "%.2f", s);
    /* Trim trailing zeros of the fraction, and a bare point. */
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf);
        while (end > dot + 1 && end[-1] == '0')
            *--end = 0;
        if (end == dot + 1)
            *dot = 0;
    }
    str_append(out, buf);
}

/* started 0: d is what remains of the total delay (qmgr, error, discard); else d is the
 * agent's own time (local, pipe, virtual). Addresses are quoted in every case, as Postfix's
 * info_log_address_format = external does. */
static void format_line(struct str *out, const struct deliver_log_info *in, double started,
                        double now)
{
    str_clear(out);
    str_appendf(out, "%s: to=<", in->queue_id);
    address_quote(in->recipient, out); /* external form */
    str_append(out, ">");
    if (in->orig && *in->orig && strcasecmp(in->orig, in->recipient) != 0) {
        str_append(out, ", orig_to=<");
        address_quote(in->orig, out);
        str_append(out, ">");
    }
    str_appendf(out, ", relay=%s, delay=", in->relay ? in->relay : "none");
    double total = in->arrival > 0 ? now - in->arrival : 0;
    deliver_log_delay(out, total);
    double d = started > 0 ? now - started - in->conn_time
                           : total - in->queue_delay - in->active_time - in->conn_time;
    const double parts[4] = {in->queue_delay, in->active_time, in->conn_time, d};
    str_append(out, ", delays=");
    for (int i = 0; i < 4; i++) {
        if (i)
            str_appendc(out, '/');
        deliver_log_delay(out, parts[i]);
    }
    str_appendf(out, ", dsn=%s, status=%s", in->dsn, in->status);
    if (in->reason)
        str_appendf(out, " (%s)", in->reason);
}

void deliver_log_format(struct str *out, const struct deliver_log_info *info, double now)
{
    format_line(out, info, 0, now);
}

void deliver_log_agent_format(struct str *out, const struct deliver_log_info *info, double started,
                              double now)
{
    format_line(out, info, started, now);
}

void deliver_log_agent(const struct deliver_log_info *info, double started)
{
    struct str line = STR_INIT;
    format_line(&line, info, started, deliver_log_now());
    msg_info("%s", str_cstr(&line));
    str_release(&line);
}

void deliver_log(const struct deliver_log_info *info)
{
    deliver_log_agent(info, 0);
}
