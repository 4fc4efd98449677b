/* smtpd_check_dns: restrictions that ask DNS — unknown HELO/sender/recipient domains, unknown
 * client names, DNSBL (reject_rbl_client, permit_dnswl_client) and RHSBL lists with
 * "=127.0.0.x" reply filters, rbl_reply_maps and default_rbl_reply templates. */
#include "smtpd_check_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "mail/dns.h"
#include "table/table.h"

/* Outcome of "does this domain exist for mail": DNS_OK, DNS_NOTFOUND, DNS_RETRY, or 2 for a
 * null MX. */
static int sc_domain_exists(const char *domain, int mx_first)
{
    struct argv *a = argv_new();
    struct str err = STR_INIT;
    int s_mx = DNS_NOTFOUND, s;
    if (mx_first) {
        s_mx = dns_lookup(domain, DNS_MX, a, &err);
        if (s_mx == DNS_OK && a->n == 1 && strcmp(strchr(a->v[0], ' ') + 1, ".") == 0)
            s_mx = 2;
    }
    s = s_mx;
    if (s != DNS_OK && s != 2) {
        /* Any address record also proves the domain (an MX failure notwithstanding). */
        s = dns_lookup_addrs(domain, a, &err);
        if (s != DNS_OK && !mx_first)
            s_mx = dns_lookup(domain, DNS_MX, a, &err), s = s_mx == DNS_OK ? DNS_OK : s;
        if (s != DNS_OK && s_mx == DNS_RETRY)
            s = DNS_RETRY;
    }
    argv_free(a);
    str_release(&err);
    return s;
}

int sc_reject_unknown_helo(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    const char *h = ev->ctx->helo_name;
    if (!h || !*h || h[0] == '[')
        return SMTPD_CHECK_DUNNO;
    int s = sc_domain_exists(h, 0);
    if (s == DNS_RETRY)
        return sc_defer_if(ev, &ev->dip, 450, "4.7.1",
                           "<%s>: Helo command rejected: Host not found", h);
    if (s == DNS_NOTFOUND)
        return sc_reject(ev, ev->c->unknown_hostname_code, "4.7.1",
                         "<%s>: Helo command rejected: Host not found", h);
    return SMTPD_CHECK_DUNNO;
}

static int sc_unknown_domain(struct sc_eval *ev, const char *addr, const char *rclass, int sender)
{
    struct str domain = STR_INIT;
    int r = SMTPD_CHECK_DUNNO;
    if (!addr || !*addr || sc_resolve(ev->c, addr, &domain) < 0 || domain.len == 0 ||
        domain.data[0] == '[')
        goto out;
    if (!sender) {
        int cls = sc_domain_class(ev->c, domain.data);
        if (cls == SC_DOM_LOCAL || cls == SC_DOM_VALIAS || cls == SC_DOM_VMAILBOX)
            goto out;
    }
    int s = sc_domain_exists(domain.data, 1);
    if (s == DNS_RETRY)
        r = sc_defer_if(ev, &ev->dip, 450, "4.4.3", "<%s>: %s rejected: Domain not found", addr,
                        rclass);
    else if (s == DNS_NOTFOUND)
        r = sc_reject(ev, ev->c->unknown_address_code, sender ? "4.1.8" : "4.1.2",
                      "<%s>: %s rejected: Domain not found", addr, rclass);
    else if (s == 2)
        r = sc_reject(ev, ev->c->nullmx_code, sender ? "5.1.8" : "5.1.10",
                      "<%s>: %s rejected: Domain %s does not accept mail (nullMX)", addr, rclass,
                      domain.data);
out:
    str_release(&domain);
    return r;
}

int sc_reject_unknown_sender_domain(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return sc_unknown_domain(ev, ev->ctx->sender, "Sender address", 1);
}

int sc_reject_unknown_recipient_domain(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return sc_unknown_domain(ev, ev->ctx->recipient, "Recipient address", 0);
}

static int sc_unknown_name(struct sc_eval *ev, int status, const char *what)
{
    const char *addr = ev->ctx->client_addr ? ev->ctx->client_addr : "";
    if (status == 0)
        return SMTPD_CHECK_DUNNO;
    return sc_reject(ev, status == 4 ? 450 : ev->c->unknown_client_code, "4.7.25",
                     "Client host rejected: cannot find your %s, [%s]", what, addr);
}

int sc_reject_unknown_client(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return sc_unknown_name(ev, ev->ctx->client_name_status, "hostname");
}

int sc_reject_unknown_reverse_client(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return sc_unknown_name(ev, ev->ctx->reverse_name_status, "reverse hostname");
}

/* ---- templates ---- */

static const char *sc_var(const char *name, size_t len, const char *const *names,
                          const char *const *values)
{
    for (size_t i = 0; names[i]; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return values[i];
    return NULL;
}

void sc_expand_template(const char *tmpl, const char *const *names, const char *const *values,
                        struct str *out)
{
    str_clear(out);
    for (const char *p = tmpl; *p;) {
        if (*p != '$') {
            str_appendc(out, *p++);
            continue;
        }
        p++;
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (!end) {
                str_append(out, p - 1);
                break;
            }
            size_t n = strcspn(p + 1, "?:}");
            const char *v = sc_var(p + 1, n, names, values);
            const char op = p[1 + n];
            if (op == '?' || op == ':') {
                struct str inner = STR_INIT, text = STR_INIT;
                str_appendn(&inner, p + 2 + n, (size_t)(end - (p + 2 + n)));
                if ((op == '?') == (v && *v)) {
                    sc_expand_template(inner.data, names, values, &text);
                    str_append(out, text.data);
                }
                str_release(&inner);
                str_release(&text);
            } else if (v) {
                str_append(out, v);
            }
            p = end + 1;
        } else {
            size_t n = 0;
            while (isalnum((unsigned char)p[n]) || p[n] == '_')
                n++;
            const char *v = sc_var(p, n, names, values);
            if (v)
                str_append(out, v);
            p += n;
        }
    }
}

/* Rejects with a DNS list reply (rbl_reply_maps or default_rbl_reply). */
static int sc_rbl_reject(struct sc_eval *ev, const char *list, const char *rbl_class,
                         const char *what, const char *reason)
{
    struct smtpd_checker *c = ev->c;
    struct str tmpl = STR_INIT, out = STR_INIT;
    char code[8];
    snprintf(code, sizeof code, "%d", c->rbl_code);
    if (maps_find(c->rbl_reply, list, &tmpl) != TABLE_FOUND)
        str_set(&tmpl, c->default_rbl_reply);
    const struct smtpd_check_ctx *x = ev->ctx;
    const char *names[] = {
        "rbl_code", "rbl_class",      "rbl_what",    "rbl_domain",          "rbl_reason",
        "rbl_txt",  "client_address", "client_name", "reverse_client_name", "helo_name",
        "sender",   "recipient",      NULL};
    const char *values[] = {code,
                            rbl_class,
                            what,
                            list,
                            reason,
                            reason,
                            x->client_addr ? x->client_addr : "",
                            sc_client_name(x),
                            x->reverse_client_name ? x->reverse_client_name : "unknown",
                            x->helo_name ? x->helo_name : "",
                            x->sender ? x->sender : "",
                            x->recipient ? x->recipient : "",
                            NULL};
    sc_expand_template(tmpl.data, names, values, &out);
    int n = atoi(out.data);
    const char *rest = out.data;
    if (n >= 400 && n <= 599 && out.len > 3 && out.data[3] == ' ')
        rest = out.data + 4;
    else
        n = c->rbl_code;
    char dsn[16] = "5.7.1";
    size_t dl = strspn(rest, "0123456789.");
    if (dl >= 5 && dl < sizeof dsn && rest[1] == '.' && (rest[dl] == ' ' || !rest[dl])) {
        memcpy(dsn, rest, dl);
        dsn[dl] = 0;
        rest += dl + (rest[dl] == ' ');
    }
    int r = sc_reject(ev, n, dsn, "%s", rest);
    str_release(&tmpl);
    str_release(&out);
    return r;
}

/* "zen.example=127.0.0.2" -> list and filter. */
static void sc_split_list(const char *arg, struct str *list, struct str *filter)
{
    const char *eq = strchr(arg, '=');
    str_clear(list);
    str_clear(filter);
    if (eq) {
        str_appendn(list, arg, (size_t)(eq - arg));
        str_set(filter, eq + 1);
    } else {
        str_set(list, arg);
    }
}

static int sc_dnsbl(struct sc_eval *ev, const struct sc_item *it, struct str *list,
                    struct str *reason)
{
    struct str filter = STR_INIT, q = STR_INIT, addr = STR_INIT, err = STR_INIT;
    int s = DNS_NOTFOUND;
    sc_split_list(it->arg, list, &filter);
    if (ev->ctx->client_addr && dns_reverse_name(ev->ctx->client_addr, list->data, &q) == 0) {
        s = dns_list_query(q.data, filter.len ? filter.data : NULL, &addr, reason, &err);
        if (s == DNS_RETRY)
            msg_warn("%s: DNS list lookup error: %s", list->data, err.data);
    }
    str_release(&filter);
    str_release(&q);
    str_release(&addr);
    str_release(&err);
    return s;
}

int sc_reject_rbl_client(struct sc_eval *ev, const struct sc_item *it)
{
    struct str list = STR_INIT, reason = STR_INIT;
    int r = SMTPD_CHECK_DUNNO;
    if (sc_dnsbl(ev, it, &list, &reason) == DNS_OK)
        r = sc_rbl_reject(ev, list.data, "Client host", ev->ctx->client_addr, reason.data);
    str_release(&list);
    str_release(&reason);
    return r;
}

int sc_permit_dnswl_client(struct sc_eval *ev, const struct sc_item *it)
{
    struct str list = STR_INIT, reason = STR_INIT;
    int r = sc_dnsbl(ev, it, &list, &reason) == DNS_OK ? SMTPD_CHECK_OK : SMTPD_CHECK_DUNNO;
    str_release(&list);
    str_release(&reason);
    return r;
}

/* The domain an RHSBL restriction asks about, and its class; 0 when there is none. */
static int sc_rhsbl_subject(struct sc_eval *ev, const char *name, struct str *domain,
                            const char **rbl_class)
{
    const struct smtpd_check_ctx *x = ev->ctx;
    const char *d = NULL, *at;
    if (strcmp(name, "reject_rhsbl_client") == 0) {
        d = x->client_name && strcmp(x->client_name, "unknown") ? x->client_name : NULL;
        *rbl_class = "Client host";
    } else if (strcmp(name, "reject_rhsbl_reverse_client") == 0) {
        d = x->reverse_client_name && strcmp(x->reverse_client_name, "unknown")
                ? x->reverse_client_name
                : NULL;
        *rbl_class = "Unverified Client host";
    } else if (strcmp(name, "reject_rhsbl_helo") == 0) {
        d = x->helo_name && x->helo_name[0] != '[' ? x->helo_name : NULL;
        *rbl_class = "Helo command";
    } else {
        const char *a = name[13] == 's' ? x->sender : x->recipient;
        if (a && (at = strrchr(a, '@')) && at[1] && at[1] != '[')
            d = at + 1;
        *rbl_class = name[13] == 's' ? "Sender address" : "Recipient address";
    }
    if (!d || !*d)
        return 0;
    str_set(domain, d);
    str_lower(domain);
    while (domain->len && domain->data[domain->len - 1] == '.')
        str_truncate(domain, domain->len - 1);
    return domain->len > 0;
}

int sc_reject_rhsbl(struct sc_eval *ev, const struct sc_item *it)
{
    struct str domain = STR_INIT, list = STR_INIT, filter = STR_INIT, q = STR_INIT;
    struct str addr = STR_INIT, reason = STR_INIT, err = STR_INIT;
    const char *rbl_class = "";
    int r = SMTPD_CHECK_DUNNO;
    if (sc_rhsbl_subject(ev, it->name, &domain, &rbl_class)) {
        sc_split_list(it->arg, &list, &filter);
        str_setf(&q, "%s.%s", domain.data, list.data);
        int s = dns_list_query(q.data, filter.len ? filter.data : NULL, &addr, &reason, &err);
        if (s == DNS_OK)
            r = sc_rbl_reject(ev, list.data, rbl_class, domain.data, reason.data);
        else if (s == DNS_RETRY)
            msg_warn("%s: DNS list lookup error: %s", list.data, err.data);
    }
    str_release(&domain);
    str_release(&list);
    str_release(&filter);
    str_release(&q);
    str_release(&addr);
    str_release(&reason);
    str_release(&err);
    return r;
}

int sc_permit_rhswl_client(struct sc_eval *ev, const struct sc_item *it)
{
    const char *n = ev->ctx->client_name;
    struct str list = STR_INIT, filter = STR_INIT, q = STR_INIT, addr = STR_INIT;
    struct str reason = STR_INIT, err = STR_INIT;
    int r = SMTPD_CHECK_DUNNO;
    if (n && *n && strcmp(n, "unknown") != 0) {
        sc_split_list(it->arg, &list, &filter);
        str_setf(&q, "%s.%s", n, list.data);
        if (dns_list_query(q.data, filter.len ? filter.data : NULL, &addr, &reason, &err) == DNS_OK)
            r = SMTPD_CHECK_OK;
    }
    str_release(&list);
    str_release(&filter);
    str_release(&q);
    str_release(&addr);
    str_release(&reason);
    str_release(&err);
    return r;
}
