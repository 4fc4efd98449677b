/* smtpd_xforward: the XFORWARD command (Postfix's XFORWARD_README) for clients listed in
 * smtpd_authorized_xforward_hosts — typically the SMTP content filter re-injecting mail. The
 * forwarded client and queue ID are logged with the transaction that follows
 * ("ID: client=localhost[127.0.0.1], orig_queue_id=X, orig_client=name[addr]") and forgotten
 * when it ends. What the connection really is stays what smtpd checks and records. */
#include "smtpd.h"

#include <string.h>

#include "base/log.h"
#include "mail/config.h"
#include "mail/match_list.h"
#include "mail/xforward.h"

int smtpd_xforward_allowed(struct smtpd_state *st)
{
    static struct match_list *hosts;
    static int loaded;
    if (!loaded) {
        struct str err = STR_INIT;
        const char *v = config_get("smtpd_authorized_xforward_hosts");
        loaded = 1;
        if (v && *v)
            hosts = match_list_create("smtpd_authorized_xforward_hosts", v, MATCH_KIND_HOSTADDR, 0,
                                      &err);
        if (v && *v && hosts == NULL)
            msg_warn("%s", err.data);
        str_release(&err);
    }
    return hosts && match_list_match(hosts, st->name, st->addr) == MATCH_YES;
}

int smtpd_cmd_xforward(struct smtpd_state *st, const char *args)
{
    if (!smtpd_xforward_allowed(st)) {
        smtpd_reply(st, "550 5.7.0 Error: insufficient authorization");
        return -1;
    }
    if (st->in_mail) {
        smtpd_reply(st, "503 5.5.1 Error: MAIL transaction in progress");
        return -1;
    }
    struct str why = STR_INIT;
    int mask = xforward_parse(args, st->xf, &why);
    if (mask < 0) {
        smtpd_reply(st, "501 5.5.4 %s", why.data);
        str_release(&why);
        return -1;
    }
    st->xf_mask |= mask;
    str_release(&why);
    smtpd_reply(st, "250 2.0.0 Ok");
    return 0;
}

void smtpd_xforward_log(const struct smtpd_state *st, struct str *line)
{
    enum { NAME = 0, ADDR = 1, IDENT = 5 };
    if ((st->xf_mask & XF_IDENT) && st->xf[IDENT].len) {
        str_append(line, ", orig_queue_id=");
        smtpd_sanitize(st->xf[IDENT].data, st->xf[IDENT].len, line);
    }
    if (st->xf_mask & (XF_NAME | XF_ADDR)) {
        const char *name = st->xf[NAME].len ? st->xf[NAME].data : "unknown";
        const char *addr = st->xf[ADDR].len ? st->xf[ADDR].data : "unknown";
        str_append(line, ", orig_client=");
        smtpd_sanitize(name, strlen(name), line);
        str_append(line, "[");
        smtpd_sanitize(addr, strlen(addr), line);
        str_append(line, "]");
    }
}

void smtpd_xforward_reset(struct smtpd_state *st)
{
    for (int i = 0; i < 7; i++)
        str_release(&st->xf[i]);
    st->xf_mask = 0;
}
