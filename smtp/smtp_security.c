/* smtp_security: STARTTLS and AUTH for the smtp/lmtp client. After the first EHLO it decides
 * the TLS policy of the connection (smtp_tls_security_level, per next hop
 * smtp_tls_policy_maps), runs STARTTLS through util/mail/tls.h and EHLO again (discarding
 * whatever the server sent before the handshake), then authenticates with the credentials
 * from smtp_sasl_password_maps (by sender with smtp_sender_dependent_authentication, by the
 * server's host name, by the next hop) through util/mail/sasl_client.h. Failures are
 * session failures with Postfix's texts; the caller moves on to the next server. */
#include "smtp.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/maps.h"
#include "mail/sasl_client.h"
#include "mail/tls.h"
#include "mail/tls_params.h"
#include "table/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SMTP_AUTH_STEPS_MAX 20 /* 334 challenges per AUTH */

/* Per-process state, set up on first use (after the skeleton dropped privileges). */
static struct {
    int loaded;
    struct tls_client_params tp;
    struct tls_client_ctx *ctx;
    int ctx_tried;
    struct maps *policy, *passwd;
    int note_offer;
} sec;

static void load(void)
{
    if (sec.loaded)
        return;
    sec.loaded = 1;
    struct str err = STR_INIT;
    if (tls_client_params_load(&sec.tp, smtp_cfg.prefix, &err) < 0)
        msg_fatal("%s", str_cstr(&err));
    str_release(&err);
    char name[64];
    if (sec.tp.policy_maps && *sec.tp.policy_maps) {
        snprintf(name, sizeof name, "%s_tls_policy_maps", smtp_cfg.prefix);
        sec.policy = maps_open(name, sec.tp.policy_maps, TABLE_FLAG_FOLD_KEY);
    }
    const char *pw = smtp_param("sasl_password_maps");
    if (smtp_cfg.sasl_enable && *pw) {
        snprintf(name, sizeof name, "%s_sasl_password_maps", smtp_cfg.prefix);
        sec.passwd = maps_open(name, pw, TABLE_FLAG_FOLD_KEY);
    } else if (smtp_cfg.sasl_enable)
        msg_warn("%s_sasl_auth_enable is set, but %s_sasl_password_maps is empty", smtp_cfg.prefix,
                 smtp_cfg.prefix);
    int v = 0;
    config_parse_bool(smtp_param("tls_note_starttls_offer"), &v);
    sec.note_offer = v;
}

static struct tls_client_ctx *tls_ctx(void)
{
    if (!sec.ctx_tried) {
        struct str err = STR_INIT;
        sec.ctx_tried = 1;
        sec.ctx = tls_client_init(&sec.tp, &err); /* logs its own warnings */
        str_release(&err);
    }
    return sec.ctx;
}

/* ---- the TLS policy of one connection --------------------------------------------------- */

struct policy {
    int level;
    struct str matches;    /* match= of the policy table (colon-separated), or empty */
    struct str servername; /* servername= of the policy table, or empty */
    int has_servername;
};

/* One policy table value: "level [name=value ...]". 0, or -1 with why. */
static int policy_parse(const char *value, struct policy *pol, struct str *why)
{
    struct argv *a = argv_split(value, " \t\r\n,");
    int rc = 0;
    if (a->n == 0 || (pol->level = tls_level_parse(a->v[0])) == TLS_LEV_INVALID) {
        str_setf(why, "invalid TLS security level \"%s\"", a->n ? a->v[0] : "");
        rc = -1;
    }
    for (size_t i = 1; rc == 0 && i < a->n; i++) {
        const char *w = a->v[i];
        if (strncasecmp(w, "match=", 6) == 0) {
            if (pol->matches.len)
                str_appendc(&pol->matches, ':');
            str_append(&pol->matches, w + 6);
        } else if (strncasecmp(w, "servername=", 11) == 0) {
            str_set(&pol->servername, w + 11);
            pol->has_servername = 1;
        } else if (strchr(w, '='))
            msg_warn("%s_tls_policy_maps: attribute \"%s\" is not supported and is ignored",
                     smtp_cfg.prefix, w);
        else {
            str_setf(why, "invalid attribute \"%s\"", w);
            rc = -1;
        }
    }
    argv_free(a);
    return rc;
}

/* The level and attributes for the next hop: the global level, overridden by the policy
 * table (the verbatim "[host]:port" next hop; a domain, then its parents as ".parent"). */
static int policy_find(const struct smtp_conn *cx, struct policy *pol, struct smtp_fail *f)
{
    pol->level = sec.tp.level;
    if (!sec.policy || !cx->nexthop)
        return 0;
    struct str v = STR_INIT, why = STR_INIT;
    int rc = cx->nexthop[0] == '[' ? maps_find(sec.policy, cx->nexthop, &v)
                                   : maps_find_domain(sec.policy, cx->domain, 0, &v, NULL);
    int ret = 0;
    if (rc == TABLE_ERROR) {
        smtp_fail_set(f, 4, "4.3.0", "TLS policy lookup for %s: %s_tls_policy_maps lookup error",
                      cx->nexthop, smtp_cfg.prefix);
        ret = -1;
    } else if (rc == TABLE_FOUND && policy_parse(v.data, pol, &why) < 0) {
        msg_warn("%s_tls_policy_maps: %s for \"%s\"", smtp_cfg.prefix, why.data, cx->nexthop);
        smtp_fail_set(f, 4, "4.7.5", "TLS policy lookup for %s: %s", cx->nexthop, why.data);
        ret = -1;
    }
    str_release(&v);
    str_release(&why);
    return ret;
}

/* DANE needs a validating resolver, which this build lacks: "dane" is opportunistic TLS (as
 * Postfix does when the TLSA records are not DNSSEC-validated), "dane-only" defers. */
static int dane_fallback(struct policy *pol, struct smtp_fail *f)
{
    if (pol->level != TLS_LEV_DANE && pol->level != TLS_LEV_DANE_ONLY)
        return 0;
    struct str why = STR_INIT;
    tls_dane_supported(&why);
    if (pol->level == TLS_LEV_DANE_ONLY) {
        smtp_fail_set(f, 4, "4.7.5", "TLS is required, but DANE is not available: %s",
                      str_cstr(&why));
        str_release(&why);
        return -1;
    }
    static int warned;
    if (!warned++)
        msg_warn("%s; using TLS security level \"may\" instead of \"dane\"", str_cstr(&why));
    pol->level = TLS_LEV_MAY;
    str_release(&why);
    return 0;
}

/* ---- STARTTLS --------------------------------------------------------------------------- */

static int tls_failed(struct smtp_session *ss, const struct policy *pol, struct smtp_fail *f,
                      const char *dsn, const char *fmt, const char *arg)
{
    smtp_fail_set(f, 4, dsn, fmt, arg);
    if (!TLS_REQUIRED(pol->level)) {
        if (ss->broken)
            f->plain_retry = 1;
        else {
            f->status = 0; /* still a usable plaintext session */
            return 0;
        }
    }
    return -1;
}

/* The TLS handshake on the connection as it is (after STARTTLS, or at once in wrapper mode);
 * the session then runs over TLS. 0 (also when a failed "may" goes on in plaintext), or -1. */
static int tls_handshake(struct smtp_session *ss, const struct smtp_conn *cx,
                         const struct policy *pol, struct smtp_fail *f)
{
    struct tls_client_ctx *ctx = tls_ctx();
    if (!ctx)
        return tls_failed(ss, pol, f, "4.7.5", "TLS is required, but our TLS engine is %s",
                          "unavailable");
    const char *servername = pol->has_servername ? pol->servername.data : sec.tp.servername;
    struct tls_client_props props = {pol->level,
                                     ss->host,
                                     cx->domain,
                                     ss->relay,
                                     tls_client_sni(servername, ss->host, cx->domain),
                                     pol->matches.len ? pol->matches.data : NULL,
                                     NULL};
    struct str err = STR_INIT;
    long deadline =
        smtp_cfg.starttls_timeout > 0 ? now_ms() + smtp_cfg.starttls_timeout * 1000L : -1;
    ss->tls = tls_client_start(ctx, stream_fd(ss->s), &props, deadline, &err);
    if (!ss->tls) {
        ss->broken = 1; /* the connection is in an unknown state */
        int rc = tls_failed(ss, pol, f, "4.7.5", "%s",
                            strncmp(str_cstr(&err), "Server certificate", 18) == 0
                                ? err.data
                                : "Cannot start TLS: handshake failure");
        str_release(&err);
        return rc;
    }
    str_release(&err);
    tls_stream_attach(ss->s, ss->tls);
    return 0;
}

static int handshake(struct smtp_session *ss, const struct smtp_conn *cx, const struct policy *pol,
                     struct smtp_fail *f)
{
    struct tls_client_ctx *ctx = tls_ctx();
    if (!ctx)
        return tls_failed(ss, pol, f, "4.7.5", "TLS is required, but our TLS engine is %s",
                          "unavailable");
    struct smtp_reply r;
    smtp_reply_init(&r);
    smtp_chat_send(ss, smtp_cfg.helo_timeout, "STARTTLS");
    if (smtp_chat_read(ss, smtp_cfg.helo_timeout, "sending STARTTLS", &r, f) < 0) {
        smtp_reply_release(&r);
        return tls_failed(ss, pol, f, f->dsn.data, "%s", f->reason.data);
    }
    if (r.code / 100 != 2) {
        struct str text = STR_INIT;
        str_setf(&text, "TLS is required, but host %s[%s] refused to start TLS: %s", ss->host,
                 ss->addr, r.text.data);
        int rc = tls_failed(ss, pol, f, "4.7.4", "%s", text.data);
        str_release(&text);
        smtp_reply_release(&r);
        return rc;
    }
    smtp_reply_release(&r);
    stream_discard_input(ss->s); /* nothing sent before the handshake counts */
    int rc = tls_handshake(ss, cx, pol, f);
    if (rc != 0 || !ss->tls)
        return rc;
    ss->features = 0;
    return smtp_session_helo(ss, "ESMTP", f);
}

static int starttls(struct smtp_session *ss, const struct smtp_conn *cx, struct smtp_fail *f)
{
    if (ss->tls) /* wrapper mode: TLS from the start */
        return 0;
    struct policy pol = {TLS_LEV_NONE, STR_INIT, STR_INIT, 0};
    int rc = policy_find(cx, &pol, f) < 0 || dane_fallback(&pol, f) < 0 ? -1 : 0;
    if (rc == 0 && cx->plaintext && !TLS_REQUIRED(pol.level))
        pol.level = TLS_LEV_NONE;
    if (rc == 0 && pol.level == TLS_LEV_NONE) {
        if (sec.note_offer && (ss->features & SMTP_FEAT_STARTTLS))
            msg_info("Host offered STARTTLS: [%s]", ss->host);
    } else if (rc == 0 && !(ss->features & SMTP_FEAT_STARTTLS)) {
        if (TLS_REQUIRED(pol.level)) {
            smtp_fail_set(f, 4, "4.7.4", "TLS is required, but was not offered by host %s[%s]",
                          ss->host, ss->addr);
            rc = -1;
        }
    } else if (rc == 0)
        rc = handshake(ss, cx, &pol, f);
    str_release(&pol.matches);
    str_release(&pol.servername);
    return rc;
}

/* ---- AUTH ------------------------------------------------------------------------------- */

/* "user:password" for this session: by sender, by the server's name, by the next hop.
 * 1 found, 0 none, -1 table error. */
static int credentials(const struct smtp_session *ss, const struct smtp_conn *cx, struct str *v)
{
    int rc = TABLE_NOTFOUND;
    if (smtp_cfg.sender_auth && cx->sender && *cx->sender) {
        struct maps_addr_opts o = {0};
        o.style = MAPS_STYLE_VIRTUAL;
        rc = maps_find_address(sec.passwd, cx->sender, &o, v, NULL);
    }
    if (rc == TABLE_NOTFOUND)
        rc = maps_find(sec.passwd, ss->host, v);
    if (rc == TABLE_NOTFOUND && cx->nexthop)
        rc = maps_find(sec.passwd, cx->nexthop, v);
    return rc == TABLE_FOUND ? 1 : rc == TABLE_ERROR ? -1 : 0;
}

/* The AUTH dialogue after the command was sent: 0 on 235, else -1 with f set. */
static int auth_dialogue(struct smtp_session *ss, struct sasl_cli *c, struct smtp_fail *f)
{
    struct smtp_reply r;
    struct str resp = STR_INIT, why = STR_INIT;
    smtp_reply_init(&r);
    int rc = -1;
    for (int step = 0; step <= SMTP_AUTH_STEPS_MAX; step++) {
        if (smtp_chat_read(ss, smtp_cfg.helo_timeout, "performing the AUTH handshake", &r, f) < 0)
            break;
        if (r.code == 235) {
            rc = 0;
            break;
        }
        if (r.code == 334 && step < SMTP_AUTH_STEPS_MAX) {
            if (sasl_cli_step(c, r.lines->n ? r.lines->v[0] : "", &resp, &why) < 0) {
                smtp_chat_send(ss, smtp_cfg.helo_timeout, "*");
                ss->broken = 1; /* the server's answer to "*" is not read */
                smtp_fail_set(f, 4, "4.7.0",
                              "SASL authentication failed; cannot authenticate to server "
                              "%s[%s]: %s",
                              ss->host, ss->addr, why.data);
                break;
            }
            smtp_chat_send(ss, smtp_cfg.helo_timeout, resp.data);
            continue;
        }
        int st = r.code / 100 == 5 ? 5 : 4;
        struct str dsn = STR_INIT;
        str_set(&dsn, r.dsn.data);
        if (st == 5 && smtp_cfg.sasl_soft_bounce)
            st = 4, dsn.data[0] = '4';
        smtp_fail_set(f, st, dsn.data, "SASL authentication failed; server %s[%s] said: %s",
                      ss->host, ss->addr, r.text.data);
        str_release(&dsn);
        break;
    }
    smtp_reply_release(&r);
    str_release(&resp);
    str_release(&why);
    return rc;
}

static int authenticate(struct smtp_session *ss, const struct smtp_conn *cx, struct smtp_fail *f)
{
    if (!smtp_cfg.sasl_enable || !sec.passwd || !(ss->features & SMTP_FEAT_AUTH) ||
        !ss->auth_mechs || !*ss->auth_mechs)
        return 0;
    struct str cred = STR_INIT, why = STR_INIT, cmd = STR_INIT;
    int found = credentials(ss, cx, &cred), rc = 0;
    if (found < 0) {
        smtp_fail_set(f, 4, "4.3.0", "%s_sasl_password_maps lookup error", smtp_cfg.prefix);
        rc = -1;
    }
    struct sasl_cli *c = NULL;
    if (found > 0) {
        char *colon = strchr(cred.data, ':');
        if (colon)
            *colon = 0;
        const struct tls_info *ti = ss->tls ? tls_session_info(ss->tls) : NULL;
        const char *opts = smtp_param(ti && ti->peer_matched ? "sasl_tls_verified_security_options"
                                      : ti                   ? "sasl_tls_security_options"
                                                             : "sasl_security_options");
        struct sasl_cli_params p = {ss->auth_mechs,
                                    cred.data,
                                    colon ? colon + 1 : "",
                                    smtp_param("sasl_mechanism_filter"),
                                    opts,
                                    "smtp",
                                    ss->host,
                                    NULL,
                                    NULL,
                                    ss->addr,
                                    ss->port,
                                    0,
                                    ti ? ti->cipher_bits : 0};
        c = sasl_cli_new(&p, &why);
        if (!c || sasl_cli_start(c, &cmd, &why) < 0) {
            smtp_fail_set(f, 4, "4.7.0",
                          "SASL authentication failed; cannot authenticate to server %s[%s]: %s",
                          ss->host, ss->addr, str_cstr(&why));
            rc = -1;
        } else {
            smtp_chat_send(ss, smtp_cfg.helo_timeout, cmd.data);
            rc = auth_dialogue(ss, c, f);
            ss->authenticated = rc == 0;
        }
    }
    sasl_cli_free(c);
    str_release(&cred);
    str_release(&why);
    str_release(&cmd);
    return rc;
}

/* ---- entry points ----------------------------------------------------------------------- */

int smtp_session_wrapper(struct smtp_session *ss, const struct smtp_conn *cx, struct smtp_fail *f)
{
    load();
    struct policy pol = {TLS_LEV_NONE, STR_INIT, STR_INIT, 0};
    int rc = policy_find(cx, &pol, f) < 0 || dane_fallback(&pol, f) < 0 ? -1 : 0;
    if (rc == 0 && !TLS_REQUIRED(pol.level)) {
        static int warned;
        if (!warned++)
            msg_warn("smtp_tls_wrappermode requires smtp_tls_security_level = encrypt or "
                     "stronger -- using \"encrypt\"");
        pol.level = TLS_LEV_ENCRYPT;
    }
    if (rc == 0)
        rc = tls_handshake(ss, cx, &pol, f);
    str_release(&pol.matches);
    str_release(&pol.servername);
    return rc;
}

int smtp_session_security(struct smtp_session *ss, const struct smtp_conn *cx, struct smtp_fail *f)
{
    load();
    if (starttls(ss, cx, f) < 0)
        return -1;
    return authenticate(ss, cx, f);
}

void smtp_security_close(struct smtp_session *ss)
{
    if (!ss->tls)
        return;
    if (!ss->broken && stream_flush(ss->s) == 0)
        tls_session_shutdown(ss->tls, now_ms() + 2000);
    stream_set_transport(ss->s, NULL, NULL);
    tls_session_free(ss->tls);
    ss->tls = NULL;
}

void smtp_security_cache_key(const char *sender, struct str *key)
{
    if (smtp_cfg.sasl_enable && smtp_cfg.sender_auth)
        str_appendf(key, ":%s", sender ? sender : "");
}
