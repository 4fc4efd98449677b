/* smtpd_esmtp: the ESMTP parameters of MAIL FROM (SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH) and
 * RCPT TO (NOTIFY, ORCPT), each parsed by one table entry. xtext values are decoded and refused
 * when the decoded bytes hold CR, LF, NUL or other controls, so nothing a client sends here can
 * reach a queue file or a log line unchecked. Sizes that overflow are refused. */
#include "smtpd.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "mail/xtext.h"

#define ESMTP_MAX_VALUE 1000 /* longest parameter value accepted (ENVID is 100 by RFC) */

void smtpd_mail_params_init(struct smtpd_mail_params *p)
{
    memset(p, 0, sizeof(*p));
    p->size = -1;
}

void smtpd_mail_params_release(struct smtpd_mail_params *p)
{
    free(p->ret);
    free(p->envid);
    free(p->auth);
    smtpd_mail_params_init(p);
}

void smtpd_rcpt_params_init(struct smtpd_rcpt_params *p)
{
    memset(p, 0, sizeof(*p));
}

void smtpd_rcpt_params_release(struct smtpd_rcpt_params *p)
{
    free(p->orcpt);
    smtpd_rcpt_params_init(p);
}

struct esmtp_opts {
    long long size_limit;
    int dsn, utf8;
};

/* Decodes xtext and refuses controls; 0 or -1. */
static int decode_xtext(const char *v, struct str *out)
{
    struct str err = STR_INIT;
    int rc = xtext_decode(v, strlen(v), out, &err);
    str_release(&err);
    if (rc < 0 || xtext_has_controls(out->data ? out->data : "", out->len))
        return -1;
    return 0;
}

static int mail_size(const char *v, const struct esmtp_opts *o, struct smtpd_mail_params *p,
                     struct str *reply)
{
    if (!v || !*v || p->size >= 0 || strspn(v, "0123456789") != strlen(v)) {
        str_set(reply, "501 5.5.4 Bad message size syntax");
        return -1;
    }
    errno = 0;
    unsigned long long n = strtoull(v, NULL, 10);
    if (errno == ERANGE || n > (unsigned long long)0x7fffffffffffffffLL ||
        (o->size_limit > 0 && n > (unsigned long long)o->size_limit)) {
        str_set(reply, "552 5.3.4 Message size exceeds fixed limit");
        return -1;
    }
    p->size = (long long)n;
    return 0;
}

static int mail_body(const char *v, const struct esmtp_opts *o, struct smtpd_mail_params *p,
                     struct str *reply)
{
    (void)o;
    if (v && strcasecmp(v, "8BITMIME") == 0 && smtpd_ehlo_enabled("8bitmime")) {
        p->body_8bit = 1;
        return 0;
    }
    if (v && strcasecmp(v, "7BIT") == 0) {
        p->body_8bit = 0;
        return 0;
    }
    str_set(reply, "501 5.5.4 Bad BODY keyword: ");
    smtpd_sanitize(v ? v : "", v ? strlen(v) : 0, reply);
    return -1;
}

static int mail_smtputf8(const char *v, const struct esmtp_opts *o, struct smtpd_mail_params *p,
                         struct str *reply)
{
    if (v || !o->utf8) {
        str_set(reply, "555 5.5.4 Unsupported option: SMTPUTF8");
        return -1;
    }
    p->smtputf8 = 1;
    return 0;
}

static int mail_ret(const char *v, const struct esmtp_opts *o, struct smtpd_mail_params *p,
                    struct str *reply)
{
    (void)o;
    if (p->ret || !v || (strcasecmp(v, "FULL") != 0 && strcasecmp(v, "HDRS") != 0)) {
        str_set(reply, "501 5.5.4 Bad RET parameter syntax");
        return -1;
    }
    p->ret = xstrdup(strcasecmp(v, "FULL") == 0 ? "FULL" : "HDRS");
    return 0;
}

static int mail_envid(const char *v, const struct esmtp_opts *o, struct smtpd_mail_params *p,
                      struct str *reply)
{
    (void)o;
    struct str d = STR_INIT;
    if (p->envid || !v || !*v || strlen(v) > 100 || decode_xtext(v, &d) < 0 || d.len == 0) {
        str_release(&d);
        str_set(reply, "501 5.5.4 Bad ENVID parameter syntax");
        return -1;
    }
    p->envid = str_steal(&d);
    return 0;
}

static int mail_auth(const char *v, const struct esmtp_opts *o, struct smtpd_mail_params *p,
                     struct str *reply)
{
    (void)o;
    struct str d = STR_INIT;
    if (p->auth || !v || !*v || decode_xtext(v, &d) < 0) {
        str_release(&d);
        str_set(reply, "501 5.5.4 Bad AUTH parameter syntax");
        return -1;
    }
    p->auth = str_steal(&d);
    return 0;
}

struct mail_param {
    const char *name;
    int needs_dsn;
    int (*fn)(const char *v, const struct esmtp_opts *o, struct smtpd_mail_params *p,
              struct str *reply);
};

static const struct mail_param mail_params[] = {
    {"SIZE", 0, mail_size}, {"BODY", 0, mail_body},   {"SMTPUTF8", 0, mail_smtputf8},
    {"RET", 1, mail_ret},   {"ENVID", 1, mail_envid}, {"AUTH", 0, mail_auth},
};

/* Splits "KEY=VALUE" in place. */
static char *split_value(char *word)
{
    char *eq = strchr(word, '=');
    if (!eq)
        return NULL;
    *eq = 0;
    return eq + 1;
}

static void unsupported(const char *key, struct str *reply)
{
    str_set(reply, "555 5.5.4 Unsupported option: ");
    smtpd_sanitize(key, strlen(key), reply);
}

int smtpd_parse_mail_params(const char *args, long long size_limit, int dsn, int utf8,
                            struct smtpd_mail_params *p, struct str *reply)
{
    struct esmtp_opts o = {size_limit, dsn, utf8};
    char *copy = xstrdup(args), *save = NULL, *w;
    int rc = 0;
    for (w = strtok_r(copy, " \t", &save); w && rc == 0; w = strtok_r(NULL, " \t", &save)) {
        char *v = split_value(w);
        const struct mail_param *mp = NULL;
        if (v && strlen(v) > ESMTP_MAX_VALUE) {
            str_set(reply, "501 5.5.4 Error: parameter value too long");
            rc = -1;
            break;
        }
        for (size_t i = 0; i < sizeof(mail_params) / sizeof(mail_params[0]); i++)
            if (strcasecmp(w, mail_params[i].name) == 0 && (!mail_params[i].needs_dsn || dsn))
                mp = &mail_params[i];
        if (!mp) {
            unsupported(w, reply);
            rc = -1;
        } else {
            rc = mp->fn(v, &o, p, reply);
        }
    }
    free(copy);
    return rc;
}

/* NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY. */
static int rcpt_notify(const char *v, struct smtpd_rcpt_params *p)
{
    static const struct {
        const char *name;
        int bit;
    } kw[] = {{"NEVER", DSN_NOTIFY_NEVER},
              {"SUCCESS", DSN_NOTIFY_SUCCESS},
              {"FAILURE", DSN_NOTIFY_FAILURE},
              {"DELAY", DSN_NOTIFY_DELAY}};
    if (p->notify || !v || !*v)
        return -1;
    char *copy = xstrdup(v), *save = NULL, *w;
    int mask = 0, ok = 1;
    for (w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int bit = 0;
        for (size_t i = 0; i < 4; i++)
            if (strcasecmp(w, kw[i].name) == 0)
                bit = kw[i].bit;
        if (!bit || (mask & bit))
            ok = 0;
        mask |= bit;
    }
    free(copy);
    if (!ok || mask == 0 || v[strlen(v) - 1] == ',' || v[0] == ',' ||
        ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER))
        return -1;
    p->notify = mask;
    return 0;
}

/* ORCPT=addr-type;xtext (rfc822 with xtext, utf-8 with utf-8-addr-xtext/unitext). */
static int rcpt_orcpt(const char *v, struct smtpd_rcpt_params *p)
{
    const char *semi = v ? strchr(v, ';') : NULL;
    if (p->orcpt || !semi || semi == v || !semi[1])
        return -1;
    struct str type = STR_INIT, d = STR_INIT, err = STR_INIT;
    str_appendn(&type, v, (size_t)(semi - v));
    int rc = -1;
    for (size_t i = 0; i < type.len; i++)
        if (!isalnum((unsigned char)type.data[i]) && type.data[i] != '-')
            goto out;
    if (strcasecmp(type.data, "rfc822") == 0)
        rc = decode_xtext(semi + 1, &d);
    else if (strcasecmp(type.data, "utf-8") == 0)
        rc = utf8_addr_xtext_decode(semi + 1, strlen(semi + 1), 1, &d, &err) < 0 ||
                     xtext_has_controls(str_cstr(&d), d.len)
                 ? -1
                 : 0;
    if (rc == 0) {
        str_lower(&type);
        str_appendc(&type, ';');
        str_appendn(&type, d.data, d.len);
        p->orcpt = str_steal(&type);
    }
out:
    str_release(&type);
    str_release(&d);
    str_release(&err);
    return rc;
}

int smtpd_parse_rcpt_params(const char *args, int dsn, struct smtpd_rcpt_params *p,
                            struct str *reply)
{
    char *copy = xstrdup(args), *save = NULL, *w;
    int rc = 0;
    for (w = strtok_r(copy, " \t", &save); w && rc == 0; w = strtok_r(NULL, " \t", &save)) {
        char *v = split_value(w);
        if (v && strlen(v) > ESMTP_MAX_VALUE) {
            str_set(reply, "501 5.5.4 Error: parameter value too long");
            rc = -1;
        } else if (dsn && strcasecmp(w, "NOTIFY") == 0) {
            if ((rc = rcpt_notify(v, p)) < 0)
                str_set(reply, "501 5.5.4 Error: Bad NOTIFY parameter syntax");
        } else if (dsn && strcasecmp(w, "ORCPT") == 0) {
            if ((rc = rcpt_orcpt(v, p)) < 0)
                str_set(reply, "501 5.5.4 Error: Bad ORCPT parameter syntax");
        } else {
            unsupported(w, reply);
            rc = -1;
        }
    }
    free(copy);
    return rc;
}
