/* smtpd_check: the restriction engine of smtpd — compiles the restriction lists once per
 * process, evaluates them at each SMTP stage with smtpd_delay_reject semantics, and formats
 * replies and log lines. The individual restrictions live in smtpd_check_{access,addr,dns}.c. */
#include "smtpd_check_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/textsplit.h"
#include "mail/config.h"
#include "mail/receive_override.h"
#include "mail/restriction_names.h"
#include "table/table.h"

/* ---- generic restrictions ---- */

static int sc_permit(struct sc_eval *ev, const struct sc_item *it)
{
    (void)ev, (void)it;
    return SMTPD_CHECK_OK;
}

static int sc_reject_fn(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return sc_reject(ev, ev->c->reject_code, "5.7.1", "<%s>: %s rejected: Access denied", ev->rname,
                     ev->rclass);
}

static int sc_defer_fn(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return sc_reject(ev, ev->c->defer_code, "4.7.1", "<%s>: %s rejected: Access denied", ev->rname,
                     ev->rclass);
}

static int sc_defer_if_permit_fn(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return sc_defer_if(ev, &ev->dip, ev->c->defer_code, "4.7.1",
                       "<%s>: %s rejected: defer_if_permit requested", ev->rname, ev->rclass);
}

static int sc_defer_if_reject_fn(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return sc_defer_if(ev, &ev->dir, ev->c->defer_code, "4.7.1",
                       "<%s>: %s rejected: defer_if_reject requested", ev->rname, ev->rclass);
}

static int sc_warn_if_reject_fn(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    ev->warn_next = 1;
    return SMTPD_CHECK_DUNNO;
}

static int sc_permit_sasl(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return ev->ctx->sasl_username && *ev->ctx->sasl_username ? SMTPD_CHECK_OK : SMTPD_CHECK_DUNNO;
}

static int sc_permit_tls_all(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    return ev->ctx->tls_active && ev->ctx->ccert_fingerprint ? SMTPD_CHECK_OK : SMTPD_CHECK_DUNNO;
}

static int sc_permit_tls(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    struct str v = STR_INIT;
    int r = SMTPD_CHECK_DUNNO;
    if (ev->ctx->tls_active && ev->ctx->ccert_fingerprint) {
        int s = maps_find(ev->c->relay_clientcerts, ev->ctx->ccert_fingerprint, &v);
        if (s == TABLE_FOUND)
            r = SMTPD_CHECK_OK;
        else if (s == TABLE_ERROR)
            r = sc_reject(ev, 451, "4.3.0", "<%s>: %s rejected: Temporary lookup failure",
                          ev->rname, ev->rclass);
    }
    str_release(&v);
    return r;
}

static int sc_reject_unauth_pipelining(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    if (!ev->ctx->pipelining_seen)
        return SMTPD_CHECK_DUNNO;
    return sc_reject(ev, 503, "5.5.0", "<%s>: %s rejected: Improper use of SMTP command pipelining",
                     ev->rname, ev->rclass);
}

static int sc_unsupported(struct sc_eval *ev, const struct sc_item *it)
{
    static int warned;
    (void)ev;
    if (warned++ < 10)
        msg_warn("restriction %s is not implemented; ignored", it->name);
    return SMTPD_CHECK_DUNNO;
}

static int sc_permit_inet_interfaces(struct sc_eval *ev, const struct sc_item *it)
{
    (void)it;
    const char *a = ev->ctx->client_addr;
    for (size_t i = 0; a && i < ev->c->interfaces->n; i++)
        if (strcasecmp(ev->c->interfaces->v[i], a) == 0)
            return SMTPD_CHECK_OK;
    return SMTPD_CHECK_DUNNO;
}

static int sc_check_sasl_access(struct sc_eval *ev, const struct sc_item *it)
{
    const char *login = ev->ctx->sasl_username;
    if (!login || !*login)
        return SMTPD_CHECK_DUNNO;
    struct str v = STR_INIT;
    char *id = xstrdup(sc_client_id(ev));
    int s = maps_find(it->maps, login, &v), r = SMTPD_CHECK_DUNNO;
    if (s == TABLE_FOUND)
        r = sc_table_result(ev, it, v.data, id, "Client host", login);
    else if (s == TABLE_ERROR)
        r = sc_reject(ev, 451, "4.3.0", "<%s>: Client host rejected: Server configuration error",
                      id);
    free(id);
    str_release(&v);
    return r;
}

static const struct {
    const char *name;
    sc_fn fn;
} sc_dispatch[] = {
    {"permit", sc_permit},
    {"reject", sc_reject_fn},
    {"defer", sc_defer_fn},
    {"defer_if_permit", sc_defer_if_permit_fn},
    {"defer_if_reject", sc_defer_if_reject_fn},
    {"warn_if_reject", sc_warn_if_reject_fn},
    {"reject_unauth_pipelining", sc_reject_unauth_pipelining},
    {"reject_multi_recipient_bounce", sc_reject_multi_recipient_bounce},
    {"check_policy_service", sc_check_policy_service},
    {"check_client_access", sc_check_client_access},
    {"check_client_a_access", sc_check_mx_ns_a_access},
    {"check_client_mx_access", sc_check_mx_ns_a_access},
    {"check_client_ns_access", sc_check_mx_ns_a_access},
    {"check_reverse_client_hostname_access", sc_check_reverse_client_access},
    {"check_reverse_client_hostname_a_access", sc_check_mx_ns_a_access},
    {"check_reverse_client_hostname_mx_access", sc_check_mx_ns_a_access},
    {"check_reverse_client_hostname_ns_access", sc_check_mx_ns_a_access},
    {"check_ccert_access", sc_check_ccert_access},
    {"permit_mynetworks", sc_permit_mynetworks},
    {"permit_inet_interfaces", sc_permit_inet_interfaces},
    {"check_sasl_access", sc_check_sasl_access},
    {"permit_rhswl_client", sc_permit_rhswl_client},
    {"reject_unknown_address", sc_reject_unknown_recipient_domain},
    {"permit_sasl_authenticated", sc_permit_sasl},
    {"permit_tls_all_clientcerts", sc_permit_tls_all},
    {"permit_tls_clientcerts", sc_permit_tls},
    {"permit_dnswl_client", sc_permit_dnswl_client},
    {"reject_rbl_client", sc_reject_rbl_client},
    {"reject_rhsbl_client", sc_reject_rhsbl},
    {"reject_rhsbl_reverse_client", sc_reject_rhsbl},
    {"reject_unknown_client_hostname", sc_reject_unknown_client},
    {"reject_unknown_client", sc_reject_unknown_client},
    {"reject_unknown_reverse_client_hostname", sc_reject_unknown_reverse_client},
    {"check_helo_access", sc_check_helo_access},
    {"check_helo_a_access", sc_check_mx_ns_a_access},
    {"check_helo_mx_access", sc_check_mx_ns_a_access},
    {"check_helo_ns_access", sc_check_mx_ns_a_access},
    {"reject_invalid_helo_hostname", sc_reject_invalid_helo},
    {"reject_invalid_hostname", sc_reject_invalid_helo},
    {"reject_non_fqdn_helo_hostname", sc_reject_non_fqdn_helo},
    {"reject_non_fqdn_hostname", sc_reject_non_fqdn_helo},
    {"reject_unknown_helo_hostname", sc_reject_unknown_helo},
    {"reject_unknown_hostname", sc_reject_unknown_helo},
    {"reject_rhsbl_helo", sc_reject_rhsbl},
    {"check_sender_access", sc_check_sender_access},
    {"check_sender_a_access", sc_check_mx_ns_a_access},
    {"check_sender_mx_access", sc_check_mx_ns_a_access},
    {"check_sender_ns_access", sc_check_mx_ns_a_access},
    {"reject_authenticated_sender_login_mismatch", sc_sender_login_mismatch},
    {"reject_known_sender_login_mismatch", sc_sender_login_mismatch},
    {"reject_sender_login_mismatch", sc_sender_login_mismatch},
    {"reject_unauthenticated_sender_login_mismatch", sc_sender_login_mismatch},
    {"reject_non_fqdn_sender", sc_reject_non_fqdn_sender},
    {"reject_rhsbl_sender", sc_reject_rhsbl},
    {"reject_unknown_sender_domain", sc_reject_unknown_sender_domain},
    {"reject_unlisted_sender", sc_reject_unlisted_sender},
    {"check_recipient_access", sc_check_recipient_access},
    {"check_recipient_a_access", sc_check_mx_ns_a_access},
    {"check_recipient_mx_access", sc_check_mx_ns_a_access},
    {"check_recipient_ns_access", sc_check_mx_ns_a_access},
    {"permit_auth_destination", sc_permit_auth_destination},
    {"permit_mx_backup", sc_permit_mx_backup},
    {"reject_unauth_destination", sc_reject_unauth_destination},
    {"check_relay_domains", sc_reject_unauth_destination},
    {"defer_unauth_destination", sc_defer_unauth_destination},
    {"reject_non_fqdn_recipient", sc_reject_non_fqdn_recipient},
    {"reject_rhsbl_recipient", sc_reject_rhsbl},
    {"reject_unknown_recipient_domain", sc_reject_unknown_recipient_domain},
    {"reject_unlisted_recipient", sc_reject_unlisted_recipient},
    {"check_recipient_maps", sc_reject_unlisted_recipient},
};

static sc_fn sc_dispatch_find(const char *name)
{
    for (size_t i = 0; i < sizeof sc_dispatch / sizeof sc_dispatch[0]; i++)
        if (strcmp(sc_dispatch[i].name, name) == 0)
            return sc_dispatch[i].fn;
    return sc_unsupported;
}

/* ---- compiling ---- */

struct maps *sc_maps_open(const char *title, const char *value)
{
    struct argv *words = argv_new();
    struct str err = STR_INIT, clean = STR_INIT;
    if (split_words(value, ", \t\r\n", SPLIT_KEEP_BRACES, words, &err) < 0)
        msg_warn("%s: %s", title, err.data);
    for (size_t i = 0; i < words->n; i++) {
        const char *w = words->v[i];
        while (strncmp(w, "proxy:", 6) == 0)
            w += 6;
        if (strncmp(w, "nis:", 4) == 0)
            continue;
        if (clean.len)
            str_append(&clean, " ");
        str_append(&clean, w);
    }
    struct maps *m = maps_open(title, clean.data ? clean.data : "", TABLE_FLAG_FOLD_KEY);
    argv_free(words);
    str_release(&err);
    str_release(&clean);
    return m;
}

static int sc_class_index(const struct smtpd_checker *c, const char *name)
{
    for (size_t i = 0; i < c->nclasses; i++)
        if (strcmp(c->classes[i].name, name) == 0)
            return (int)i;
    return -1;
}

int sc_compile(struct smtpd_checker *c, const char *title, const char *value, struct sc_list *l,
               struct str *err)
{
    struct argv *w = argv_new();
    int rc = -1;
    memset(l, 0, sizeof *l);
    l->title = xstrdup(title);
    if (split_words(value, ", \t\r\n", SPLIT_STRIP_BRACES, w, err) < 0)
        goto out;
    if (w->n > SMTPD_CHECK_MAX_ITEMS) {
        str_setf(err, "%s: too many restrictions", title);
        goto out;
    }
    l->items = xmalloc((w->n ? w->n : 1) * sizeof *l->items);
    for (size_t i = 0; i < w->n; i++) {
        struct sc_item *it = &l->items[l->n];
        const struct restriction_name *r = restriction_lookup(w->v[i]);
        memset(it, 0, sizeof *it);
        it->class_index = -1;
        if (!r) {
            it->class_index = sc_class_index(c, w->v[i]);
            if (it->class_index < 0) {
                str_setf(err, "%s: unknown restriction \"%s\"", title, w->v[i]);
                goto out;
            }
            it->name = xstrdup(w->v[i]);
            l->n++;
            continue;
        }
        it->name = xstrdup(w->v[i]);
        it->fn = sc_dispatch_find(r->name);
        l->n++;
        if (r->arg == RESTRICTION_ARG_NONE)
            continue;
        if (i + 1 >= w->n) {
            str_setf(err, "%s: restriction \"%s\" needs an argument", title, r->name);
            goto out;
        }
        it->arg = xstrdup(w->v[++i]);
        if (r->arg == RESTRICTION_ARG_TABLE) {
            if (!strchr(it->arg, ':')) {
                str_setf(err, "%s: %s: \"%s\" is not a type:table", title, r->name, it->arg);
                goto out;
            }
            it->maps = sc_maps_open(r->name, it->arg);
        }
    }
    rc = 0;
out:
    argv_free(w);
    return rc;
}

void sc_list_free(struct sc_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].name);
        free(l->items[i].arg);
        if (l->items[i].maps)
            maps_free(l->items[i].maps);
    }
    free(l->items);
    free(l->title);
    memset(l, 0, sizeof *l);
}

/* ---- evaluating ---- */

int sc_eval_list(struct sc_eval *ev, const struct sc_list *l)
{
    int r = SMTPD_CHECK_DUNNO;
    if (ev->depth >= SMTPD_CHECK_MAX_DEPTH) {
        msg_warn("%s: restriction class nesting is too deep", l->title);
        str_set(ev->reply, "451 4.3.5 Server configuration error");
        return SMTPD_CHECK_REJECT;
    }
    ev->depth++;
    for (size_t i = 0; i < l->n && r == SMTPD_CHECK_DUNNO; i++) {
        const struct sc_item *it = &l->items[i];
        ev->warn_if_reject = ev->warn_next;
        ev->warn_next = 0;
        if (msg_verbose)
            msg_info("%s: %s %s", l->title, it->name, it->arg ? it->arg : "");
        if (it->class_index >= 0)
            r = sc_eval_list(ev, &ev->c->classes[it->class_index].list);
        else
            r = it->fn(ev, it);
        ev->warn_if_reject = 0;
    }
    ev->depth--;
    return r;
}

int sc_eval_words(struct sc_eval *ev, const char *value, int *known)
{
    struct smtpd_checker *c = ev->c;
    char first[128];
    size_t n = strcspn(value, ", \t");
    *known = 0;
    if (n == 0 || n >= sizeof first)
        return SMTPD_CHECK_DUNNO;
    memcpy(first, value, n);
    first[n] = 0;
    if (!restriction_lookup(first) && sc_class_index(c, first) < 0)
        return SMTPD_CHECK_DUNNO;
    *known = 1;
    for (size_t i = 0; i < c->ndynamic; i++)
        if (strcmp(c->dynamic[i].value, value) == 0)
            return sc_eval_list(ev, &c->dynamic[i].list);
    struct sc_list l;
    struct str err = STR_INIT;
    if (sc_compile(c, "access table result", value, &l, &err) < 0) {
        msg_warn("%s", err.data);
        str_release(&err);
        sc_list_free(&l);
        str_set(ev->reply, "451 4.3.5 Server configuration error");
        return SMTPD_CHECK_REJECT;
    }
    str_release(&err);
    int r = sc_eval_list(ev, &l);
    if (c->ndynamic < SMTPD_CHECK_MAX_DYNAMIC) {
        c->dynamic[c->ndynamic].value = xstrdup(value);
        c->dynamic[c->ndynamic++].list = l;
    } else {
        sc_list_free(&l);
    }
    return r;
}

/* ---- replies and logging ---- */

static void sc_sanitize(struct str *s)
{
    for (size_t i = 0; i < s->len; i++) {
        unsigned char ch = (unsigned char)s->data[i];
        if (ch < 0x20 || ch == 0x7f)
            s->data[i] = '?';
    }
}

static void sc_format_reply(struct smtpd_checker *c, struct str *out, int code, const char *dsn,
                            const char *fmt, va_list ap)
{
    char d[32];
    if (c->soft_bounce && code >= 500 && code < 600)
        code -= 100;
    snprintf(d, sizeof d, "%s", dsn);
    d[0] = (char)('0' + code / 100);
    str_setf(out, "%d %s ", code, d);
    str_vappendf(out, fmt, ap);
    sc_sanitize(out);
}

int sc_reject(struct sc_eval *ev, int code, const char *dsn, const char *fmt, ...)
{
    struct str text = STR_INIT;
    va_list ap;
    va_start(ap, fmt);
    sc_format_reply(ev->c, &text, code, dsn, fmt, ap);
    va_end(ap);
    if (ev->warn_if_reject) {
        sc_log(ev, "reject_warning", text.data);
        str_release(&text);
        return SMTPD_CHECK_DUNNO;
    }
    if (ev->dir.active && text.data[0] == '5')
        str_set(ev->reply, ev->dir.reply.data);
    else
        str_set(ev->reply, text.data);
    str_release(&text);
    return SMTPD_CHECK_REJECT;
}

int sc_defer_if(struct sc_eval *ev, struct sc_defer *d, int code, const char *dsn, const char *fmt,
                ...)
{
    if (d->active)
        return SMTPD_CHECK_DUNNO;
    va_list ap;
    va_start(ap, fmt);
    sc_format_reply(ev->c, &d->reply, code, dsn, fmt, ap);
    va_end(ap);
    if (ev->warn_if_reject && d == &ev->dip) {
        sc_log(ev, "reject_warning", d->reply.data);
        return SMTPD_CHECK_DUNNO;
    }
    d->active = 1;
    return SMTPD_CHECK_DUNNO;
}

const char *sc_client_name(const struct smtpd_check_ctx *ctx)
{
    return ctx->client_name && *ctx->client_name ? ctx->client_name : "unknown";
}

const char *sc_client_id(struct sc_eval *ev)
{
    struct str *s = &ev->ctx->priv->scratch;
    str_setf(s, "%s[%s]", sc_client_name(ev->ctx),
             ev->ctx->client_addr ? ev->ctx->client_addr : "");
    return s->data;
}

void sc_log(struct sc_eval *ev, const char *what, const char *text)
{
    const struct smtpd_check_ctx *ctx = ev->ctx;
    struct str line = STR_INIT;
    str_setf(&line, "%s: %s: %s from %s[%s]: %s;", ctx->queue_id ? ctx->queue_id : "NOQUEUE", what,
             ev->cmd, sc_client_name(ctx), ctx->client_addr ? ctx->client_addr : "", text);
    if (ctx->sender)
        str_appendf(&line, " from=<%s>", ctx->sender);
    if (ctx->recipient)
        str_appendf(&line, " to=<%s>", ctx->recipient);
    str_appendf(&line, " proto=%s", ctx->protocol ? ctx->protocol : "SMTP");
    if (ctx->helo_name)
        str_appendf(&line, " helo=<%s>", ctx->helo_name);
    sc_sanitize(&line);
    msg_info("%s", line.data);
    str_release(&line);
}

/* ---- the checker ---- */

static int sc_code(const char *param)
{
    long v = atol(config_get(param));
    if (v < 400 || v > 599) {
        msg_warn("%s: bad reply code \"%s\"; using 450", param, config_get(param));
        return 450;
    }
    return (int)v;
}

static char *sc_xstrdup_param(const char *name)
{
    return xstrdup(config_get(name));
}

static struct match_list *sc_match(const char *param, enum match_kind kind, struct str *err)
{
    const char *pdms = config_get("parent_domain_matches_subdomains");
    int flags = match_parent_style(pdms, param) ? MATCH_FLAG_PARENT : 0;
    return match_list_create(param, config_get(param), kind, flags, err);
}

static int sc_compile_classes(struct smtpd_checker *c, struct str *err)
{
    struct argv *names = argv_new();
    int rc = 0;
    if (split_words(config_get("smtpd_restriction_classes"), ", \t\r\n", SPLIT_STRIP_BRACES, names,
                    err) < 0) {
        argv_free(names);
        return -1;
    }
    c->classes = xmalloc((names->n ? names->n : 1) * sizeof *c->classes);
    for (size_t i = 0; i < names->n; i++) {
        if (restriction_lookup(names->v[i])) {
            str_setf(err, "smtpd_restriction_classes: \"%s\" is a restriction name", names->v[i]);
            argv_free(names);
            return -1;
        }
        c->classes[c->nclasses].name = xstrdup(names->v[i]);
        memset(&c->classes[c->nclasses++].list, 0, sizeof(struct sc_list));
    }
    for (size_t i = 0; i < c->nclasses && rc == 0; i++) {
        const char *v = config_get(c->classes[i].name);
        rc = sc_compile(c, c->classes[i].name, v ? v : "", &c->classes[i].list, err);
    }
    argv_free(names);
    return rc;
}

static void sc_interfaces(struct smtpd_checker *c)
{
    struct argv *w = argv_new();
    struct str err = STR_INIT;
    c->interfaces = argv_new();
    split_words(config_get("inet_interfaces"), ", \t\r\n", SPLIT_STRIP_BRACES, w, &err);
    split_words(config_get("proxy_interfaces"), ", \t\r\n", SPLIT_STRIP_BRACES, w, &err);
    for (size_t i = 0; i < w->n; i++) {
        if (strcasecmp(w->v[i], "all") == 0 || strcasecmp(w->v[i], "loopback-only") == 0) {
            struct if_addr *ifs = NULL;
            long n = interface_addresses(&ifs, &err);
            for (long j = 0; j < n; j++) {
                struct str a = STR_INIT;
                ip_addr_format(&ifs[j].addr, &a);
                argv_add(c->interfaces, a.data);
                str_release(&a);
            }
            free(ifs);
        } else {
            argv_add(c->interfaces, w->v[i]);
        }
    }
    argv_free(w);
    str_release(&err);
}

static void sc_settings(struct smtpd_checker *c)
{
    c->delay_reject = config_get_bool("smtpd_delay_reject");
    c->reject_unlisted_rcpt = config_get_bool("smtpd_reject_unlisted_recipient");
    c->reject_unlisted_sender = config_get_bool("smtpd_reject_unlisted_sender");
    c->access_parent_style =
        match_parent_style(config_get("parent_domain_matches_subdomains"), "smtpd_access_maps");
    c->allow_percent_hack = config_get_bool("allow_percent_hack");
    c->swap_bangpath = config_get_bool("swap_bangpath");
    c->soft_bounce = config_get_bool("soft_bounce");
    c->show_unknown_table = config_get_bool("show_user_unknown_table_name");
    c->no_unknown_rcpt = receive_override_has("no_unknown_recipient_checks");
    c->null_key = sc_xstrdup_param("smtpd_null_access_lookup_key");
    c->delimiters = sc_xstrdup_param("recipient_delimiter");
    c->double_bounce = sc_xstrdup_param("double_bounce_sender");
    c->myhostname = sc_xstrdup_param("myhostname");
    c->default_rbl_reply = xstrdup(config_get_raw("default_rbl_reply")); /* $rbl_* later */
    c->reject_code = sc_code("reject_code");
    c->defer_code = sc_code("defer_code");
    c->access_reject_code = sc_code("access_map_reject_code");
    c->access_defer_code = sc_code("access_map_defer_code");
    c->relay_code = sc_code("relay_domains_reject_code");
    c->rbl_code = sc_code("maps_rbl_reject_code");
    c->non_fqdn_code = sc_code("non_fqdn_reject_code");
    c->invalid_hostname_code = sc_code("invalid_hostname_reject_code");
    c->unknown_address_code = sc_code("unknown_address_reject_code");
    c->unknown_client_code = sc_code("unknown_client_reject_code");
    c->unknown_hostname_code = sc_code("unknown_hostname_reject_code");
    c->unknown_local_code = sc_code("unknown_local_recipient_reject_code");
    c->unknown_relay_code = sc_code("unknown_relay_recipient_reject_code");
    c->unknown_valias_code = sc_code("unknown_virtual_alias_reject_code");
    c->unknown_vmailbox_code = sc_code("unknown_virtual_mailbox_reject_code");
    c->multi_bounce_code = sc_code("multi_recipient_bounce_reject_code");
    c->nullmx_code = sc_code("nullmx_reject_code");
    c->conn_count_limit = (int)config_get_int("smtpd_client_connection_count_limit");
    c->conn_rate_limit = (int)config_get_int("smtpd_client_connection_rate_limit");
    c->msg_rate_limit = (int)config_get_int("smtpd_client_message_rate_limit");
    c->rcpt_rate_limit = (int)config_get_int("smtpd_client_recipient_rate_limit");
    c->newtls_limit = (int)config_get_int("smtpd_client_new_tls_session_rate_limit");
    c->auth_limit = (int)config_get_int("smtpd_client_auth_rate_limit");
}

static int sc_open_lists(struct smtpd_checker *c, struct str *err)
{
    static const struct {
        const char *param;
        size_t off;
        enum match_kind kind;
    } lists[] = {
        {"mynetworks", offsetof(struct smtpd_checker, mynetworks), MATCH_KIND_ADDR},
        {"mydestination", offsetof(struct smtpd_checker, mydestination), MATCH_KIND_DOMAIN},
        {"relay_domains", offsetof(struct smtpd_checker, relay_domains), MATCH_KIND_DOMAIN},
        {"virtual_alias_domains", offsetof(struct smtpd_checker, virtual_alias_domains),
         MATCH_KIND_DOMAIN},
        {"virtual_mailbox_domains", offsetof(struct smtpd_checker, virtual_mailbox_domains),
         MATCH_KIND_DOMAIN},
        {"permit_mx_backup_networks", offsetof(struct smtpd_checker, mx_backup_networks),
         MATCH_KIND_ADDR},
        {"smtpd_client_event_limit_exceptions", offsetof(struct smtpd_checker, event_exceptions),
         MATCH_KIND_HOSTADDR},
        {"debug_peer_list", offsetof(struct smtpd_checker, debug_peers), MATCH_KIND_HOSTADDR},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        struct match_list **slot = (struct match_list **)((char *)c + lists[i].off);
        if (!(*slot = sc_match(lists[i].param, lists[i].kind, err)))
            return -1;
    }
    c->local_rcpt = sc_maps_open("local_recipient_maps", config_get("local_recipient_maps"));
    c->virtual_alias = sc_maps_open("virtual_alias_maps", config_get("virtual_alias_maps"));
    c->virtual_mailbox = sc_maps_open("virtual_mailbox_maps", config_get("virtual_mailbox_maps"));
    c->relay_rcpt = sc_maps_open("relay_recipient_maps", config_get("relay_recipient_maps"));
    c->sender_login =
        sc_maps_open("smtpd_sender_login_maps", config_get("smtpd_sender_login_maps"));
    c->relay_clientcerts = sc_maps_open("relay_clientcerts", config_get("relay_clientcerts"));
    c->rbl_reply = sc_maps_open("rbl_reply_maps", config_get("rbl_reply_maps"));
    return 0;
}

struct smtpd_checker *smtpd_checker_new(struct str *err)
{
    struct smtpd_checker *c = xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    sc_settings(c);
    sc_interfaces(c);
    if (sc_open_lists(c, err) < 0 || sc_compile_classes(c, err) < 0)
        goto fail;
    sc_rewrite_compile(c);
    static const struct {
        const char *param;
        size_t off;
    } lists[] = {
        {"smtpd_client_restrictions", offsetof(struct smtpd_checker, client)},
        {"smtpd_helo_restrictions", offsetof(struct smtpd_checker, helo)},
        {"smtpd_sender_restrictions", offsetof(struct smtpd_checker, sender)},
        {"smtpd_relay_restrictions", offsetof(struct smtpd_checker, relay)},
        {"smtpd_recipient_restrictions", offsetof(struct smtpd_checker, recipient)},
        {"smtpd_data_restrictions", offsetof(struct smtpd_checker, data)},
        {"smtpd_end_of_data_restrictions", offsetof(struct smtpd_checker, eod)},
        {"smtpd_etrn_restrictions", offsetof(struct smtpd_checker, etrn)},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        struct sc_list *l = (struct sc_list *)((char *)c + lists[i].off);
        if (sc_compile(c, lists[i].param, config_get(lists[i].param), l, err) < 0)
            goto fail;
    }
    /* Postfix refuses to run as an open relay: with both lists empty of a relay restriction
     * the recipient list must say something. */
    if (c->relay.n == 0 && c->recipient.n == 0) {
        str_set(err, "smtpd_relay_restrictions and smtpd_recipient_restrictions are both empty: "
                     "the server would be an open relay");
        goto fail;
    }
    return c;
fail:
    smtpd_checker_free(c);
    return NULL;
}

void smtpd_checker_free(struct smtpd_checker *c)
{
    if (!c)
        return;
    struct sc_list *lists[] = {&c->client,    &c->helo, &c->sender, &c->relay,
                               &c->recipient, &c->data, &c->eod,    &c->etrn};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        sc_list_free(lists[i]);
    for (size_t i = 0; i < c->nclasses; i++) {
        free(c->classes[i].name);
        sc_list_free(&c->classes[i].list);
    }
    free(c->classes);
    for (size_t i = 0; i < c->ndynamic; i++) {
        free(c->dynamic[i].value);
        sc_list_free(&c->dynamic[i].list);
    }
    struct match_list *ml[] = {c->mynetworks,
                               c->mydestination,
                               c->relay_domains,
                               c->virtual_alias_domains,
                               c->virtual_mailbox_domains,
                               c->mx_backup_networks,
                               c->event_exceptions,
                               c->debug_peers};
    for (size_t i = 0; i < sizeof ml / sizeof ml[0]; i++)
        if (ml[i])
            match_list_free(ml[i]);
    struct maps *mp[] = {c->local_rcpt,   c->virtual_alias,     c->virtual_mailbox, c->relay_rcpt,
                         c->sender_login, c->relay_clientcerts, c->rbl_reply};
    for (size_t i = 0; i < sizeof mp / sizeof mp[0]; i++)
        if (mp[i])
            maps_free(mp[i]);
    if (c->interfaces)
        argv_free(c->interfaces);
    free(c->null_key);
    free(c->delimiters);
    free(c->double_bounce);
    free(c->myhostname);
    free(c->default_rbl_reply);
    free(c->service);
    smtpd_check_limits_free(c);
    sc_policy_free(c);
    sc_rewrite_free(c);
    free(c);
}
