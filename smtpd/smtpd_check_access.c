/* smtpd_check_access: access(5) tables — check_{client,reverse_client_hostname,helo,sender,
 * recipient,ccert}_access, the MX/NS/A variants, and the actions a table result names. */
#include "smtpd_check_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "mail/dns.h"
#include "table/table.h"

/* Hosts and addresses examined by one check_*_{mx,ns,a}_access. */
#define SC_MAX_DNS_HOSTS 10
#define SC_MAX_DNS_ADDRS 20

static void sc_log_action(struct sc_eval *ev, const char *what, const char *rname,
                          const char *rclass, const char *text)
{
    struct str s = STR_INIT;
    str_setf(&s, "<%s>: %s %s", rname, rclass, text);
    sc_log(ev, what, s.data);
    str_release(&s);
}

/* "d.ddd.ddd" at the start of text: its length, else 0. */
static size_t sc_dsn_len(const char *t)
{
    size_t i = 0, n;
    if (!(t[0] == '2' || t[0] == '4' || t[0] == '5') || t[1] != '.')
        return 0;
    i = 2;
    for (int part = 0; part < 2; part++) {
        for (n = 0; isdigit((unsigned char)t[i]); i++, n++)
            ;
        if (n < 1 || n > 3)
            return 0;
        if (part == 0 && t[i++] != '.')
            return 0;
    }
    return (t[i] == 0 || t[i] == ' ' || t[i] == '\t') ? i : 0;
}

static int sc_numeric_result(struct sc_eval *ev, const char *value, const char *rname,
                             const char *rclass)
{
    if (!(isdigit((unsigned char)value[0]) && isdigit((unsigned char)value[1]) &&
          isdigit((unsigned char)value[2]) &&
          (value[3] == 0 || value[3] == ' ' || value[3] == '\t')))
        return -1;
    int code = atoi(value);
    if (code < 400 || code > 599)
        return -1;
    const char *t = value + 3;
    t += strspn(t, " \t");
    char dsn[16];
    size_t dl = sc_dsn_len(t);
    if (dl > 0 && dl < sizeof dsn && t[0] == value[0]) {
        memcpy(dsn, t, dl);
        dsn[dl] = 0;
        t += dl;
        t += strspn(t, " \t");
    } else {
        strcpy(dsn, code < 500 ? "4.7.1" : "5.7.1");
    }
    return sc_reject(ev, code, dsn, "<%s>: %s rejected: %s", rname, rclass,
                     *t ? t : "Access denied");
}

static int sc_bad_action(struct sc_eval *ev, const struct sc_item *it, const char *value)
{
    msg_warn("access table %s: unknown action \"%s\"", it->arg ? it->arg : "", value);
    str_set(ev->reply, "451 4.3.5 Server configuration error");
    return SMTPD_CHECK_REJECT;
}

/* Actions that do not end the list. Returns 1 when handled. */
static int sc_side_action(struct sc_eval *ev, const char *act, const char *text, const char *rname,
                          const char *rclass)
{
    struct smtpd_check_actions *a = &ev->ctx->actions;
    if (strcasecmp(act, "HOLD") == 0) {
        a->hold = 1;
        str_set(&a->hold_reason, *text ? text : "triggers HOLD action");
        sc_log_action(ev, "hold", rname, rclass, a->hold_reason.data);
    } else if (strcasecmp(act, "WARN") == 0) {
        sc_log_action(ev, "warn", rname, rclass, text);
    } else if (strcasecmp(act, "INFO") == 0) {
        sc_log_action(ev, "info", rname, rclass, text);
    } else if (strcasecmp(act, "FILTER") == 0) {
        if (!strchr(text, ':'))
            return -1;
        free(a->filter);
        a->filter = xstrdup(text);
        sc_log_action(ev, "filter", rname, rclass, text);
    } else if (strcasecmp(act, "REDIRECT") == 0) {
        if (!*text)
            return -1;
        free(a->redirect);
        a->redirect = xstrdup(text);
        sc_log_action(ev, "redirect", rname, rclass, text);
    } else if (strcasecmp(act, "PREPEND") == 0) {
        const char *colon = strchr(text, ':');
        if (!colon || colon == text || strcspn(text, " \t") < (size_t)(colon - text))
            return -1;
        if (!a->prepend)
            a->prepend = argv_new();
        argv_add(a->prepend, text);
    } else if (strcasecmp(act, "BCC") == 0) {
        if (!*text)
            return -1;
        if (!a->bcc)
            a->bcc = argv_new();
        argv_add(a->bcc, text);
    } else {
        return 0;
    }
    return 1;
}

int sc_table_result(struct sc_eval *ev, const struct sc_item *it, const char *value,
                    const char *rname, const char *rclass, const char *key)
{
    char act[32];
    size_t n = strcspn(value, " \t");
    const char *text = value + n;
    text += strspn(text, " \t");
    (void)key;
    if (n == 0)
        return sc_bad_action(ev, it, value);
    int r = sc_numeric_result(ev, value, rname, rclass);
    if (r >= 0)
        return r;
    if (n < sizeof act) {
        memcpy(act, value, n);
        act[n] = 0;
        if (strcasecmp(act, "OK") == 0)
            return SMTPD_CHECK_OK;
        if (strcasecmp(act, "DUNNO") == 0)
            return SMTPD_CHECK_DUNNO;
        if (strcasecmp(act, "REJECT") == 0)
            return sc_reject(ev, ev->c->access_reject_code, "5.7.1", "<%s>: %s rejected: %s", rname,
                             rclass, *text ? text : "Access denied");
        if (strcasecmp(act, "DEFER") == 0)
            return sc_reject(ev, ev->c->access_defer_code, "4.7.1", "<%s>: %s rejected: %s", rname,
                             rclass, *text ? text : "Access denied");
        if (strcasecmp(act, "DEFER_IF_REJECT") == 0 || strcasecmp(act, "DEFER_IF_PERMIT") == 0)
            return sc_defer_if(ev, strcasecmp(act, "DEFER_IF_REJECT") == 0 ? &ev->dir : &ev->dip,
                               ev->c->access_defer_code, "4.7.1", "<%s>: %s rejected: %s", rname,
                               rclass, *text ? text : "Service unavailable");
        if (strcasecmp(act, "DISCARD") == 0) {
            ev->ctx->actions.discard = 1;
            str_set(&ev->ctx->actions.discard_reason, *text ? text : "triggers DISCARD action");
            sc_log_action(ev, "discard", rname, rclass, ev->ctx->actions.discard_reason.data);
            return SMTPD_CHECK_OK;
        }
        int side = sc_side_action(ev, act, text, rname, rclass);
        if (side > 0)
            return SMTPD_CHECK_DUNNO;
        if (side < 0)
            return sc_bad_action(ev, it, value);
    }
    int known;
    r = sc_eval_words(ev, value, &known);
    if (known)
        return r;
    return sc_bad_action(ev, it, value);
}

static int sc_lookup_error(struct sc_eval *ev, const struct sc_item *it, const char *rname,
                           const char *rclass)
{
    msg_warn("%s: %s lookup error: %s", it->name, it->arg, maps_error(it->maps));
    return sc_reject(ev, 451, "4.3.0", "<%s>: %s rejected: Server configuration error", rname,
                     rclass);
}

/* Finishes a lookup: FOUND -> the action, ERROR -> deferral. */
static int sc_found(struct sc_eval *ev, const struct sc_item *it, int status, const char *value,
                    const char *rname, const char *rclass, const char *key)
{
    if (status == TABLE_FOUND)
        return sc_table_result(ev, it, value, rname, rclass, key);
    if (status == TABLE_ERROR)
        return sc_lookup_error(ev, it, rname, rclass);
    return SMTPD_CHECK_DUNNO;
}

static int sc_client_lookup(struct sc_eval *ev, const struct sc_item *it, const char *name)
{
    struct str v = STR_INIT, k = STR_INIT;
    char *id = xstrdup(sc_client_id(ev));
    const char *n = name && strcmp(name, "unknown") != 0 ? name : NULL;
    int s = maps_find_client(it->maps, n, ev->ctx->client_addr ? ev->ctx->client_addr : "",
                             ev->c->access_parent_style, &v, &k);
    int r = sc_found(ev, it, s, v.data, id, "Client host", k.data);
    free(id);
    str_release(&v);
    str_release(&k);
    return r;
}

int sc_check_client_access(struct sc_eval *ev, const struct sc_item *it)
{
    return sc_client_lookup(ev, it, ev->ctx->client_name);
}

int sc_check_reverse_client_access(struct sc_eval *ev, const struct sc_item *it)
{
    return sc_client_lookup(ev, it, ev->ctx->reverse_client_name);
}

int sc_check_helo_access(struct sc_eval *ev, const struct sc_item *it)
{
    const char *helo = ev->ctx->helo_name;
    if (!helo || !*helo)
        return SMTPD_CHECK_DUNNO;
    struct str v = STR_INIT, k = STR_INIT;
    int s = maps_find_domain(it->maps, helo, ev->c->access_parent_style, &v, &k);
    int r = sc_found(ev, it, s, v.data, helo, "Helo command", k.data);
    str_release(&v);
    str_release(&k);
    return r;
}

static int sc_address_lookup(struct sc_eval *ev, const struct sc_item *it, const char *addr,
                             const char *rclass)
{
    struct maps_addr_opts o;
    memset(&o, 0, sizeof o);
    o.style = MAPS_STYLE_ACCESS;
    o.ext.delimiters = ev->c->delimiters;
    o.ext.double_bounce = ev->c->double_bounce;
    o.parent_style = ev->c->access_parent_style;
    o.null_key = *ev->c->null_key ? ev->c->null_key : NULL;
    struct str v = STR_INIT, k = STR_INIT;
    int s = maps_find_address(it->maps, addr, &o, &v, &k);
    int r = sc_found(ev, it, s, v.data, addr, rclass, k.data);
    str_release(&v);
    str_release(&k);
    return r;
}

int sc_check_sender_access(struct sc_eval *ev, const struct sc_item *it)
{
    if (!ev->ctx->sender)
        return SMTPD_CHECK_DUNNO;
    return sc_address_lookup(ev, it, ev->ctx->sender, "Sender address");
}

int sc_check_recipient_access(struct sc_eval *ev, const struct sc_item *it)
{
    if (!ev->ctx->recipient)
        return SMTPD_CHECK_DUNNO;
    return sc_address_lookup(ev, it, ev->ctx->recipient, "Recipient address");
}

int sc_check_ccert_access(struct sc_eval *ev, const struct sc_item *it)
{
    const char *fp = ev->ctx->ccert_fingerprint;
    if (!ev->ctx->tls_active || !fp)
        return SMTPD_CHECK_DUNNO;
    struct str v = STR_INIT;
    char *id = xstrdup(sc_client_id(ev));
    int s = maps_find(it->maps, fp, &v);
    int r = sc_found(ev, it, s, v.data, id, "Client host", fp);
    free(id);
    str_release(&v);
    return r;
}

/* ---- check_*_{mx,ns,a}_access ---- */

/* The subject of a DNS-based access check: its domain, reply name and class. */
static int sc_dns_subject(struct sc_eval *ev, const char *name, struct str *domain,
                          const char **rname, const char **rclass)
{
    const struct smtpd_check_ctx *ctx = ev->ctx;
    const char *at;
    if (strncmp(name, "check_client_", 13) == 0 ||
        strncmp(name, "check_reverse_client_", 21) == 0) {
        const char *n = name[6] == 'c' ? ctx->client_name : ctx->reverse_client_name;
        if (!n || strcmp(n, "unknown") == 0)
            return 0;
        str_set(domain, n);
        *rname = sc_client_id(ev);
        *rclass = "Client host";
    } else if (strncmp(name, "check_helo_", 11) == 0) {
        if (!ctx->helo_name || ctx->helo_name[0] == '[')
            return 0;
        str_set(domain, ctx->helo_name);
        *rname = ctx->helo_name;
        *rclass = "Helo command";
    } else {
        const char *addr = strncmp(name, "check_sender_", 13) == 0 ? ctx->sender : ctx->recipient;
        if (!addr || !(at = strrchr(addr, '@')) || !at[1] || at[1] == '[')
            return 0;
        str_set(domain, at + 1);
        *rname = addr;
        *rclass = name[6] == 's' ? "Sender address" : "Recipient address";
    }
    while (domain->len && domain->data[domain->len - 1] == '.')
        str_truncate(domain, domain->len - 1);
    return domain->len > 0;
}

/* The hosts to examine: MX hosts (or the domain), NS hosts (walking up), or the domain. */
static int sc_dns_hosts(const char *kind, const char *domain, struct argv *hosts)
{
    struct argv *rr = argv_new();
    struct str err = STR_INIT;
    int s = DNS_NOTFOUND;
    if (strcmp(kind, "mx") == 0) {
        s = dns_lookup(domain, DNS_MX, rr, &err);
        for (size_t i = 0; s == DNS_OK && i < rr->n && hosts->n < SC_MAX_DNS_HOSTS; i++) {
            const char *h = strchr(rr->v[i], ' ');
            if (h && strcmp(h + 1, ".") != 0)
                argv_add(hosts, h + 1);
        }
        if (s == DNS_NOTFOUND) {
            argv_add(hosts, domain);
            s = DNS_OK;
        }
    } else if (strcmp(kind, "ns") == 0) {
        for (const char *d = domain; d && *d; d = strchr(d, '.') ? strchr(d, '.') + 1 : NULL) {
            s = dns_lookup(d, DNS_NS, rr, &err);
            if (s != DNS_NOTFOUND)
                break;
        }
        for (size_t i = 0; s == DNS_OK && i < rr->n && hosts->n < SC_MAX_DNS_HOSTS; i++)
            argv_add(hosts, rr->v[i]);
    } else {
        argv_add(hosts, domain);
        s = DNS_OK;
    }
    argv_free(rr);
    str_release(&err);
    return s;
}

static int sc_dns_host_check(struct sc_eval *ev, const struct sc_item *it, const char *host,
                             int check_name, const char *rname, const char *rclass)
{
    struct str v = STR_INIT;
    int r = SMTPD_CHECK_DUNNO, s;
    if (check_name) {
        s = maps_find_domain(it->maps, host, ev->c->access_parent_style, &v, NULL);
        r = sc_found(ev, it, s, v.data, rname, rclass, host);
    }
    struct argv *addrs = argv_new();
    struct str err = STR_INIT;
    if (r == SMTPD_CHECK_DUNNO && dns_lookup_addrs(host, addrs, &err) == DNS_OK) {
        for (size_t i = 0; i < addrs->n && i < SC_MAX_DNS_ADDRS && r == SMTPD_CHECK_DUNNO; i++) {
            s = maps_find_client(it->maps, NULL, addrs->v[i], ev->c->access_parent_style, &v, NULL);
            r = sc_found(ev, it, s, v.data, rname, rclass, addrs->v[i]);
        }
    }
    argv_free(addrs);
    str_release(&err);
    str_release(&v);
    return r;
}

int sc_check_mx_ns_a_access(struct sc_eval *ev, const struct sc_item *it)
{
    struct str domain = STR_INIT;
    const char *rname0 = NULL, *rclass = NULL;
    const char *kind = strstr(it->name, "_mx_access")   ? "mx"
                       : strstr(it->name, "_ns_access") ? "ns"
                                                        : "a";
    if (!sc_dns_subject(ev, it->name, &domain, &rname0, &rclass)) {
        str_release(&domain);
        return SMTPD_CHECK_DUNNO;
    }
    char *rname = xstrdup(rname0);
    struct argv *hosts = argv_new();
    int r = SMTPD_CHECK_DUNNO;
    if (sc_dns_hosts(kind, domain.data, hosts) == DNS_OK) {
        for (size_t i = 0; i < hosts->n && r == SMTPD_CHECK_DUNNO; i++) {
            r = sc_dns_host_check(ev, it, hosts->v[i], kind[0] != 'a', rname, rclass);
            if (r == SMTPD_CHECK_OK) {
                msg_warn("%s: OK is not allowed as a result of %s; treated as DUNNO", it->arg,
                         it->name);
                r = SMTPD_CHECK_DUNNO;
            }
        }
    }
    argv_free(hosts);
    free(rname);
    str_release(&domain);
    return r;
}
