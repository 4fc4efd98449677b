/* smtpd_conf: the smtpd parameters, read once per process into struct smtpd_conf. */
#include "smtpd.h"

#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"

struct smtpd_conf smtpd_conf;

static int bare_lf_mode(const char *v)
{
    int b;
    if (strcasecmp(v, "normalize") == 0)
        return BARE_LF_NORMALIZE;
    if (config_parse_bool(v, &b) == 0)
        return b ? BARE_LF_YES : BARE_LF_NO;
    msg_warn("smtpd_forbid_bare_newline: unknown value \"%s\"; using \"normalize\"", v);
    return BARE_LF_NORMALIZE;
}

static char *get_str(const char *name)
{
    const char *v = config_get(name);
    return xstrdup(v ? v : "");
}

void smtpd_conf_load(void)
{
    struct smtpd_conf *c = &smtpd_conf;
    c->banner = get_str("smtpd_banner");
    c->myhostname = get_str("myhostname");
    c->mail_name = get_str("mail_name");
    c->message_size_limit = config_get_size("message_size_limit");
    c->line_length_limit = config_get_int("line_length_limit");
    if (c->line_length_limit < 80)
        c->line_length_limit = 80;
    c->recipient_limit = config_get_int("smtpd_recipient_limit");
    c->overshoot_limit = config_get_int("smtpd_recipient_overshoot_limit");
    c->soft_error_limit = config_get_int("smtpd_soft_error_limit");
    c->hard_error_limit = config_get_int("smtpd_hard_error_limit");
    c->junk_limit = config_get_int("smtpd_junk_command_limit");
    c->error_sleep = config_get_time("smtpd_error_sleep_time");
    c->timeout = config_get_time("smtpd_timeout");
    if (c->timeout <= 0)
        c->timeout = 300;
    c->debug_peer_level = config_get_int("debug_peer_level");
    c->helo_required = config_get_bool("smtpd_helo_required");
    c->disable_vrfy = config_get_bool("disable_vrfy_command");
    c->smtputf8_enable = config_get_bool("smtputf8_enable");
    c->peername_lookup = config_get_bool("smtpd_peername_lookup");
    c->port_logging = config_get_bool("smtpd_client_port_logging");
    c->delay_open = config_get_bool("smtpd_delay_open_until_valid_rcpt");
    c->strict_rfc821 = config_get_bool("strict_rfc821_envelopes");
    c->allow_min_user = config_get_bool("allow_min_user");
    c->bare_lf = bare_lf_mode(config_get("smtpd_forbid_bare_newline"));
    c->discard_ehlo = argv_split(config_get("smtpd_discard_ehlo_keywords"), " \t,");
}
