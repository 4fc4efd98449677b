/* smtpd_check_addr: relay control (mynetworks, the domain classes, reject/defer/permit_
 * auth_destination, permit_mx_backup), the recipient tables (local, virtual, relay), address
 * and HELO syntax checks, sender login ownership and multi-recipient bounces. */
#include "smtpd_check_int.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/dns.h"
#include "table/table.h"

static int sc_config_error(struct sc_eval *ev, const char *what)
{
    msg_warn("%s", what);
    return sc_reject(ev, 451, "4.3.0", "<%s>: %s rejected: Server configuration error", ev->rname,
                     ev->rclass);
}

int sc_permit_mynetworks(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    int m = match_list_match(ev->c->mynetworks, NULL, ev->ctx->client_addr);
    if (m == MATCH_ERROR)
        return sc_config_error(ev, match_list_error(ev->c->mynetworks));
    return m == MATCH_YES ? SMTPD_CHECK_OK : SMTPD_CHECK_DUNNO;
}

static int sc_is_interface(struct smtpd_checker *c, const char *literal)
{
    struct str a = STR_INIT;
    size_t len = strlen(literal);
    int found = 0;
    if (len < 3 || literal[len - 1] != ']')
        return 0;
    str_appendn(&a, literal + 1, len - 2);
    const char *p = strncasecmp(a.data, "IPv6:", 5) == 0 ? a.data + 5 : a.data;
    struct ip_addr x, y;
    if (ip_addr_parse(p, &x) == 0) {
        for (size_t i = 0; i < c->interfaces->n && !found; i++)
            found = ip_addr_parse(c->interfaces->v[i], &y) == 0 && x.family == y.family &&
                    memcmp(x.bytes, y.bytes, x.family == AF_INET ? 4 : 16) == 0;
    }
    str_release(&a);
    return found;
}

int sc_domain_class(struct smtpd_checker *c, const char *domain)
{
    if (!*domain)
        return SC_DOM_LOCAL;
    if (domain[0] == '[')
        return sc_is_interface(c, domain) ? SC_DOM_LOCAL : SC_DOM_OTHER;
    struct {
        struct match_list *l;
        int cls;
    } order[] = {{c->mydestination, SC_DOM_LOCAL},
                 {c->virtual_alias_domains, SC_DOM_VALIAS},
                 {c->virtual_mailbox_domains, SC_DOM_VMAILBOX},
                 {c->relay_domains, SC_DOM_RELAY}};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        int m = match_list_match(order[i].l, domain, NULL);
        if (m == MATCH_ERROR) {
            msg_warn("%s", match_list_error(order[i].l));
            return -1;
        }
        if (m == MATCH_YES)
            return order[i].cls;
    }
    return SC_DOM_OTHER;
}

static int sc_is_local_cb(const char *domain, void *ctx)
{
    return sc_domain_class(ctx, domain) == SC_DOM_LOCAL;
}

/* Resolves addr; local part into local (may be NULL), domain into domain. Returns 1 when the
 * address carried routing operators, 0 when not, -1 on error. */
static int sc_resolve2(struct smtpd_checker *c, const char *addr, struct str *local,
                       struct str *domain)
{
    struct addr_route_opts o = {c->allow_percent_hack, c->swap_bangpath, sc_is_local_cb, c};
    struct addr_resolved r;
    struct str err = STR_INIT;
    /* A source route "@a,@b:user@c" names the final destination user@c. */
    if (addr[0] == '@' && strchr(addr, ':'))
        addr = strchr(addr, ':') + 1;
    addr_resolved_init(&r);
    int rc = address_resolve(addr, &o, &r, &err);
    if (rc == 0) {
        str_set(domain, r.domain.data ? r.domain.data : "");
        str_lower(domain);
        if (local)
            str_set(local, r.local.data ? r.local.data : "");
        rc = r.routed ? 1 : 0;
    } else {
        msg_warn("%s: %s", addr, err.data);
    }
    addr_resolved_release(&r);
    str_release(&err);
    return rc;
}

int sc_resolve(struct smtpd_checker *c, const char *addr, struct str *domain)
{
    return sc_resolve2(c, addr, NULL, domain);
}

/* OK when the recipient is an authorized destination, DUNNO when not, REJECT on error. */
static int sc_auth_destination(struct sc_eval *ev, const char *rcpt)
{
    struct str domain = STR_INIT;
    int routed = sc_resolve(ev->c, rcpt, &domain), r = SMTPD_CHECK_DUNNO;
    if (routed < 0) {
        r = SMTPD_CHECK_DUNNO;
    } else if (domain.len == 0) {
        r = routed ? SMTPD_CHECK_DUNNO : SMTPD_CHECK_OK;
    } else if (!routed) {
        int cls = sc_domain_class(ev->c, domain.data);
        if (cls < 0)
            r = sc_reject(ev, 451, "4.3.0", "<%s>: Temporary lookup failure", rcpt);
        else if (cls != SC_DOM_OTHER)
            r = SMTPD_CHECK_OK;
    }
    str_release(&domain);
    return r;
}

static int sc_unauth(struct sc_eval *ev, int code, const char *dsn)
{
    const char *rcpt = ev->ctx->recipient;
    if (!rcpt)
        return SMTPD_CHECK_DUNNO;
    int r = sc_auth_destination(ev, rcpt);
    if (r == SMTPD_CHECK_REJECT)
        return r;
    if (r == SMTPD_CHECK_OK)
        return SMTPD_CHECK_DUNNO;
    return sc_reject(ev, code, dsn, "<%s>: Relay access denied", rcpt);
}

int sc_reject_unauth_destination(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return sc_unauth(ev, ev->c->relay_code, "5.7.1");
}

int sc_defer_unauth_destination(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return sc_unauth(ev, 454, "4.7.1");
}

int sc_permit_auth_destination(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    if (!ev->ctx->recipient)
        return SMTPD_CHECK_DUNNO;
    return sc_auth_destination(ev, ev->ctx->recipient);
}

/* ---- permit_mx_backup ---- */

static int sc_addr_is_mine(struct smtpd_checker *c, const char *addr)
{
    for (size_t i = 0; i < c->interfaces->n; i++)
        if (strcasecmp(c->interfaces->v[i], addr) == 0)
            return 1;
    return 0;
}

int sc_permit_mx_backup(struct sc_eval *ev, const struct sc_item *it)
{
    struct str domain = STR_INIT, err = STR_INIT;
    struct argv *mx = argv_new();
    int r = sc_permit_auth_destination(ev, it);
    if (r != SMTPD_CHECK_DUNNO || !ev->ctx->recipient ||
        sc_resolve(ev->c, ev->ctx->recipient, &domain) != 0 || domain.len == 0 ||
        domain.data[0] == '[')
        goto out;
    int s = dns_lookup(domain.data, DNS_MX, mx, &err);
    if (s == DNS_RETRY) {
        r = sc_defer_if(ev, &ev->dip, 450, "4.4.4",
                        "<%s>: %s rejected: Unable to look up mail exchanger information",
                        ev->rname, ev->rclass);
        goto out;
    }
    long best = 1L << 30, mine = -1;
    int best_ok = 0;
    for (size_t i = 0; s == DNS_OK && i < mx->n && i < 10; i++) {
        long pref = atol(mx->v[i]);
        const char *host = strchr(mx->v[i], ' ');
        struct argv *addrs = argv_new();
        if (host && dns_lookup_addrs(host + 1, addrs, &err) == DNS_OK) {
            int net_ok = 0;
            for (size_t j = 0; j < addrs->n; j++) {
                if (sc_addr_is_mine(ev->c, addrs->v[j]) && (mine < 0 || pref < mine))
                    mine = pref;
                if (match_list_match(ev->c->mx_backup_networks, NULL, addrs->v[j]) == MATCH_YES)
                    net_ok = 1;
            }
            if (pref < best) {
                best = pref;
                best_ok = net_ok;
            } else if (pref == best) {
                best_ok |= net_ok;
            }
        }
        argv_free(addrs);
    }
    /* Only as a backup: never when we are (one of) the best MX hosts. */
    if (mine >= 0 && mine > best) {
        const char *nets = config_get("permit_mx_backup_networks");
        r = (!*nets || best_ok) ? SMTPD_CHECK_OK : SMTPD_CHECK_DUNNO;
    }
out:
    argv_free(mx);
    str_release(&domain);
    str_release(&err);
    return r;
}

/* ---- recipient tables ---- */

static int sc_find(struct sc_eval *ev, struct maps *m, const char *addr, int domain_is_local)
{
    struct maps_addr_opts o;
    struct str v = STR_INIT;
    memset(&o, 0, sizeof o);
    o.style = MAPS_STYLE_VIRTUAL;
    o.ext.delimiters = ev->c->delimiters;
    o.ext.double_bounce = ev->c->double_bounce;
    o.domain_is_local = domain_is_local;
    int s = maps_find_address(m, addr, &o, &v, NULL);
    if (s == TABLE_ERROR)
        msg_warn("%s lookup error for \"%s\": %s", m->title, addr, maps_error(m));
    str_release(&v);
    return s;
}

int sc_rcpt_maps(struct sc_eval *ev, const char *addr, const char *rclass, int sender)
{
    struct smtpd_checker *c = ev->c;
    struct str local = STR_INIT, domain = STR_INIT, full = STR_INIT;
    int r = SMTPD_CHECK_DUNNO, s = TABLE_NOTFOUND, code = 0;
    const char *table = NULL;
    if (!*addr || (!sender && c->no_unknown_rcpt) || sc_resolve2(c, addr, &local, &domain) < 0)
        goto out;
    int cls = sc_domain_class(c, domain.data);
    str_setf(&full, "%s%s%s", local.data, domain.len ? "@" : "", domain.data);
    if (cls < 0) {
        s = TABLE_ERROR;
    } else if (cls != SC_DOM_OTHER && c->virtual_alias->n &&
               (s = sc_find(ev, c->virtual_alias, full.data, cls == SC_DOM_LOCAL)) !=
                   TABLE_NOTFOUND) {
        /* A virtual alias makes any address valid. */
    } else if (cls == SC_DOM_LOCAL && c->local_rcpt->n) {
        s = sc_find(ev, c->local_rcpt, full.data, 1);
        code = c->unknown_local_code, table = "local recipient table";
    } else if (cls == SC_DOM_VALIAS) {
        s = c->virtual_alias->n ? TABLE_NOTFOUND : TABLE_FOUND;
        code = c->unknown_valias_code, table = "virtual alias table";
    } else if (cls == SC_DOM_VMAILBOX && c->virtual_mailbox->n) {
        s = sc_find(ev, c->virtual_mailbox, full.data, 0);
        code = c->unknown_vmailbox_code, table = "virtual mailbox table";
    } else if (cls == SC_DOM_RELAY && c->relay_rcpt->n) {
        s = sc_find(ev, c->relay_rcpt, full.data, 0);
        code = c->unknown_relay_code, table = "relay recipient table";
    }
    if (s == TABLE_ERROR)
        r = sc_reject(ev, 451, "4.3.0", "<%s>: Temporary lookup failure", addr);
    else if (s == TABLE_NOTFOUND && table)
        r = c->show_unknown_table
                ? sc_reject(ev, code, sender ? "5.1.0" : "5.1.1",
                            "<%s>: %s rejected: User unknown in %s", addr, rclass, table)
                : sc_reject(ev, code, sender ? "5.1.0" : "5.1.1", "<%s>: %s rejected: User unknown",
                            addr, rclass);
out:
    str_release(&local);
    str_release(&domain);
    str_release(&full);
    return r;
}

int sc_reject_unlisted_sender(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    if (!ev->ctx->sender || !*ev->ctx->sender)
        return SMTPD_CHECK_DUNNO;
    return sc_rcpt_maps(ev, ev->ctx->sender, "Sender address", 1);
}

int sc_reject_unlisted_recipient(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    if (!ev->ctx->recipient)
        return SMTPD_CHECK_DUNNO;
    return sc_rcpt_maps(ev, ev->ctx->recipient, "Recipient address", 0);
}

/* ---- syntax ---- */

static int sc_fqdn_address(const char *addr)
{
    const char *at = strrchr(addr, '@');
    if (!at || !at[1])
        return 0;
    if (at[1] == '[')
        return dns_valid_literal(at + 1);
    struct str d = STR_INIT;
    str_set(&d, at + 1);
    while (d.len && d.data[d.len - 1] == '.')
        str_truncate(&d, d.len - 1);
    int ok = d.len && dns_valid_hostname(d.data) && strchr(d.data, '.');
    str_release(&d);
    return ok;
}

int sc_reject_non_fqdn_sender(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    const char *s = ev->ctx->sender;
    if (!s || !*s || sc_fqdn_address(s))
        return SMTPD_CHECK_DUNNO;
    return sc_reject(ev, ev->c->non_fqdn_code, "5.5.2",
                     "<%s>: Sender address rejected: need fully-qualified address", s);
}

int sc_reject_non_fqdn_recipient(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    const char *s = ev->ctx->recipient;
    if (!s || sc_fqdn_address(s))
        return SMTPD_CHECK_DUNNO;
    return sc_reject(ev, ev->c->non_fqdn_code, "5.5.2",
                     "<%s>: Recipient address rejected: need fully-qualified address", s);
}

/* 1 valid host name or address literal, 0 not. */
static int sc_helo_valid(const char *helo, int need_dot)
{
    if (helo[0] == '[')
        return dns_valid_literal(helo);
    struct str d = STR_INIT;
    str_set(&d, helo);
    if (d.len && d.data[d.len - 1] == '.')
        str_truncate(&d, d.len - 1);
    int ok = d.len && dns_valid_hostname(d.data) && (!need_dot || strchr(d.data, '.'));
    str_release(&d);
    return ok;
}

int sc_reject_invalid_helo(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    const char *h = ev->ctx->helo_name;
    if (!h || sc_helo_valid(h, 0))
        return SMTPD_CHECK_DUNNO;
    return sc_reject(ev, ev->c->invalid_hostname_code, "5.5.2",
                     "<%s>: Helo command rejected: Invalid name", h);
}

int sc_reject_non_fqdn_helo(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    const char *h = ev->ctx->helo_name;
    if (!h || sc_helo_valid(h, 1))
        return SMTPD_CHECK_DUNNO;
    return sc_reject(ev, ev->c->non_fqdn_code, "5.5.2",
                     "<%s>: Helo command rejected: need fully-qualified hostname", h);
}

/* ---- sender login maps ---- */

static int sc_owner_listed(const char *owners, const char *login)
{
    struct argv *w = argv_split(owners, ", \t");
    int found = 0;
    for (size_t i = 0; i < w->n && !found; i++)
        found = strcasecmp(w->v[i], login) == 0;
    argv_free(w);
    return found;
}

int sc_sender_login_mismatch(struct sc_eval *ev, const struct sc_item *it)
{
    const char *sender = ev->ctx->sender, *login = ev->ctx->sasl_username;
    if (!sender)
        return SMTPD_CHECK_DUNNO;
    if (login && !*login)
        login = NULL;
    int authd = !strncmp(it->name, "reject_authenticated", 20) ||
                !strcmp(it->name, "reject_sender_login_mismatch") ||
                !strcmp(it->name, "reject_known_sender_login_mismatch");
    int unauthd = !strncmp(it->name, "reject_unauthenticated", 22) ||
                  !strcmp(it->name, "reject_sender_login_mismatch") ||
                  !strcmp(it->name, "reject_known_sender_login_mismatch");
    int known_only = !strcmp(it->name, "reject_known_sender_login_mismatch");
    struct maps_addr_opts o;
    struct str v = STR_INIT;
    memset(&o, 0, sizeof o);
    o.style = MAPS_STYLE_VIRTUAL;
    o.ext.delimiters = ev->c->delimiters;
    int s = *sender ? maps_find_address(ev->c->sender_login, sender, &o, &v, NULL) : TABLE_NOTFOUND;
    int r = SMTPD_CHECK_DUNNO;
    if (s == TABLE_ERROR)
        r = sc_reject(ev, 451, "4.3.0", "<%s>: Sender address rejected: Temporary lookup failure",
                      sender);
    else if (login && authd && (s == TABLE_FOUND ? !sc_owner_listed(v.data, login) : !known_only))
        r = sc_reject(ev, 553, "5.7.1", "<%s>: Sender address rejected: not owned by user %s",
                      sender, login);
    else if (!login && unauthd && s == TABLE_FOUND)
        r = sc_reject(ev, 553, "5.7.1", "<%s>: Sender address rejected: not logged in", sender);
    str_release(&v);
    return r;
}

int sc_reject_multi_recipient_bounce(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    const struct smtpd_check_ctx *ctx = ev->ctx;
    int limit = strcmp(ev->cmd, "RCPT") == 0 ? 0 : 1;
    if (!ctx->sender || *ctx->sender || ctx->recipient_count <= limit)
        return SMTPD_CHECK_DUNNO;
    return sc_reject(ev, ev->c->multi_bounce_code, "5.5.3",
                     "<%s>: %s rejected: Multi-recipient bounce", ev->rname, ev->rclass);
}
