/* smtpd_check_policy: check_policy_service — delegates a decision to a policy server
 * (Postfix's SMTPD_POLICY_README protocol). Builds the attribute request from the session,
 * keeps one client (and its connection) per service spec for the life of the process, and
 * applies the server's action= through the access-map code (sc_table_result), or the
 * default action when the server cannot be reached. */
#include "smtpd_check_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/policy_client.h"

/* Policy services kept per process (distinct specs). */
#define SC_POLICY_MAX 100

struct sc_policy {
    char *spec; /* the restriction argument as written */
    struct policy_client *pc;
    char *default_action;
    char *context;
};

/* ---- the service spec: "endpoint" or "endpoint, name=value, ..." ---- */

static char *sc_trim(char *s)
{
    s += strspn(s, " \t\r\n");
    size_t n = strlen(s);
    while (n && strchr(" \t\r\n", s[n - 1]))
        s[--n] = 0;
    return s;
}

static int sc_policy_time(const char *name, const char *v, int *out, struct str *err)
{
    long t;
    if (config_parse_time(v, 's', &t) < 0 || t < 0 || t > 86400 * 365) {
        str_setf(err, "bad %s value \"%s\"", name, v);
        return -1;
    }
    *out = (int)t;
    return 0;
}

static int sc_policy_int(const char *name, const char *v, int *out, struct str *err)
{
    long n;
    if (config_parse_int(v, &n) < 0 || n < 0 || n > 1000000) {
        str_setf(err, "bad %s value \"%s\"", name, v);
        return -1;
    }
    *out = (int)n;
    return 0;
}

static int sc_policy_option(struct sc_policy *p, struct policy_client_opts *o, const char *name,
                            const char *v, struct str *err)
{
    static const struct {
        const char *name;
        size_t off;
        int is_time;
    } opts[] = {
        {"timeout", offsetof(struct policy_client_opts, timeout), 1},
        {"max_idle", offsetof(struct policy_client_opts, max_idle), 1},
        {"max_ttl", offsetof(struct policy_client_opts, max_ttl), 1},
        {"retry_delay", offsetof(struct policy_client_opts, retry_delay), 1},
        {"try_limit", offsetof(struct policy_client_opts, try_limit), 0},
        {"request_limit", offsetof(struct policy_client_opts, request_limit), 0},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (strcmp(name, opts[i].name) != 0)
            continue;
        int *slot = (int *)((char *)o + opts[i].off);
        return opts[i].is_time ? sc_policy_time(name, v, slot, err)
                               : sc_policy_int(name, v, slot, err);
    }
    if (strcmp(name, "default_action") == 0) {
        free(p->default_action);
        p->default_action = xstrdup(v);
    } else if (strcmp(name, "policy_context") == 0) {
        free(p->context);
        p->context = xstrdup(v);
    } else {
        str_setf(err, "unknown attribute \"%s\"", name);
        return -1;
    }
    return 0;
}

static void sc_policy_defaults(struct sc_policy *p, struct policy_client_opts *o)
{
    o->timeout = (int)config_get_time("smtpd_policy_service_timeout");
    o->max_idle = (int)config_get_time("smtpd_policy_service_max_idle");
    o->max_ttl = (int)config_get_time("smtpd_policy_service_max_ttl");
    o->retry_delay = (int)config_get_time("smtpd_policy_service_retry_delay");
    o->try_limit = (int)config_get_int("smtpd_policy_service_try_limit");
    o->request_limit = (int)config_get_int("smtpd_policy_service_request_limit");
    p->default_action = xstrdup(config_get("smtpd_policy_service_default_action"));
    p->context = xstrdup(config_get("smtpd_policy_service_policy_context"));
}

static void sc_policy_release(struct sc_policy *p)
{
    policy_client_free(p->pc);
    free(p->spec);
    free(p->default_action);
    free(p->context);
}

/* Parses spec into p. Returns 0, or -1 with err set. */
static int sc_policy_parse(struct sc_policy *p, const char *spec, struct str *err)
{
    struct policy_client_opts o;
    char *copy = xstrdup(spec), *save = NULL, *endpoint = NULL;
    int rc = 0;
    memset(p, 0, sizeof *p);
    p->spec = xstrdup(spec);
    sc_policy_defaults(p, &o);
    for (char *w = strtok_r(copy, ",", &save); w && rc == 0; w = strtok_r(NULL, ",", &save)) {
        w = sc_trim(w);
        if (!endpoint) {
            endpoint = w;
            continue;
        }
        char *eq = strchr(w, '=');
        if (!eq) {
            str_setf(err, "expected name=value instead of \"%s\"", w);
            rc = -1;
            break;
        }
        *eq = 0;
        rc = sc_policy_option(p, &o, sc_trim(w), sc_trim(eq + 1), err);
    }
    if (rc == 0 && (!endpoint || !*endpoint)) {
        str_set(err, "no server address");
        rc = -1;
    }
    if (rc == 0 && !(p->pc = policy_client_new(endpoint, &o, err)))
        rc = -1;
    free(copy);
    return rc;
}

static struct sc_policy *sc_policy_get(struct smtpd_checker *c, const char *spec)
{
    struct str err = STR_INIT;
    for (size_t i = 0; i < c->npolicies; i++)
        if (strcmp(c->policies[i].spec, spec) == 0)
            return &c->policies[i];
    if (c->npolicies >= SC_POLICY_MAX) {
        msg_warn("check_policy_service %s: more than %d policy services", spec, SC_POLICY_MAX);
        return NULL;
    }
    if (!c->policies)
        c->policies = xmalloc(SC_POLICY_MAX * sizeof *c->policies);
    struct sc_policy *p = &c->policies[c->npolicies];
    if (sc_policy_parse(p, spec, &err) < 0) {
        msg_warn("check_policy_service %s: %s", spec, err.data);
        sc_policy_release(p);
        str_release(&err);
        return NULL;
    }
    str_release(&err);
    c->npolicies++;
    return p;
}

void sc_policy_free(struct smtpd_checker *c)
{
    for (size_t i = 0; i < c->npolicies; i++)
        sc_policy_release(&c->policies[i]);
    free(c->policies);
    c->policies = NULL;
    c->npolicies = 0;
}

/* ---- the request ---- */

/* The instance attribute: one value per message (cleared by smtpd_check_ctx_reset). */
static const char *sc_policy_instance(struct smtpd_check_ctx *ctx)
{
    static unsigned seq;
    struct str *s = &ctx->priv->instance;
    if (s->len == 0) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        str_setf(s, "%x.%lx.%lx.%x", (unsigned)getpid(), (unsigned long)tv.tv_sec,
                 (unsigned long)tv.tv_usec, seq++);
    }
    return s->data;
}

static const char *sc_nz(const char *s)
{
    return s ? s : "";
}

void sc_policy_request(struct sc_eval *ev, const char *context, struct str *req)
{
    struct smtpd_check_ctx *ctx = ev->ctx;
    int late = strcmp(ev->cmd, "DATA") == 0 || strcmp(ev->cmd, "END-OF-MESSAGE") == 0;
    str_clear(req);
    policy_request_add(req, "request", "smtpd_access_policy");
    policy_request_add(req, "protocol_state", ev->cmd);
    policy_request_add(req, "protocol_name", ctx->protocol ? ctx->protocol : "SMTP");
    policy_request_add(req, "client_address", ctx->client_addr);
    policy_request_add(req, "client_name", sc_client_name(ctx));
    policy_request_add(req, "client_port", ctx->client_port);
    policy_request_add(req, "reverse_client_name",
                       ctx->reverse_client_name && *ctx->reverse_client_name
                           ? ctx->reverse_client_name
                           : "unknown");
    policy_request_add(req, "server_address", ctx->server_addr);
    policy_request_add(req, "server_port", ctx->server_port);
    policy_request_add(req, "helo_name", ctx->helo_name);
    policy_request_add(req, "sender", ctx->sender);
    policy_request_add(req, "recipient", ctx->recipient);
    policy_request_addl(req, "recipient_count", late ? ctx->recipient_count : 0);
    policy_request_add(req, "queue_id", ctx->queue_id);
    policy_request_add(req, "instance", sc_policy_instance(ctx));
    policy_request_addl(req, "size", ctx->message_size);
    policy_request_add(req, "etrn_domain", ctx->etrn_domain);
    policy_request_add(req, "stress", ctx->stress);
    policy_request_add(req, "sasl_method", ctx->sasl_method);
    policy_request_add(req, "sasl_username", ctx->sasl_username);
    policy_request_add(req, "sasl_sender", ctx->sasl_sender);
    int cert = ctx->tls_active && ctx->ccert_fingerprint;
    policy_request_add(req, "ccert_subject", cert ? ctx->ccert_subject : "");
    policy_request_add(req, "ccert_issuer", cert ? ctx->ccert_issuer : "");
    policy_request_add(req, "ccert_fingerprint", cert ? ctx->ccert_fingerprint : "");
    policy_request_add(req, "ccert_pubkey_fingerprint", cert ? ctx->ccert_pubkey_fingerprint : "");
    int tls = ctx->tls_active;
    policy_request_add(req, "encryption_protocol", tls ? ctx->tls_protocol : "");
    policy_request_add(req, "encryption_cipher", tls ? ctx->tls_cipher : "");
    policy_request_addl(req, "encryption_keysize", tls ? ctx->tls_keysize : 0);
    policy_request_add(req, "policy_context", context);
    policy_request_add(req, "compatibility_level", sc_nz(config_get("compatibility_level")));
    policy_request_add(req, "mail_version", sc_nz(config_get("mail_version")));
    policy_request_end(req);
}

/* ---- the restriction ---- */

int sc_check_policy_service(struct sc_eval *ev, const struct sc_item *it)
{
    static int active; /* a policy reply naming check_policy_service must not recurse */
    struct sc_policy *p = sc_policy_get(ev->c, it->arg);
    if (!p) {
        str_set(ev->reply, "451 4.3.5 Server configuration error");
        return SMTPD_CHECK_REJECT;
    }
    if (active) {
        msg_warn("check_policy_service %s: named in a policy server reply; ignored", it->arg);
        return SMTPD_CHECK_DUNNO;
    }
    struct str req = STR_INIT, action = STR_INIT;
    sc_policy_request(ev, p->context, &req);
    int q = policy_client_query(p->pc, &req, &action);
    const char *value = q == POLICY_REPLY_OK ? action.data : p->default_action;
    char *rname = xstrdup(ev->rname ? ev->rname : "");
    active = 1;
    int r = sc_table_result(ev, it, value, rname, ev->rclass ? ev->rclass : "", NULL);
    active = 0;
    free(rname);
    str_release(&req);
    str_release(&action);
    return r;
}

long sc_policy_connections(struct smtpd_checker *c, const char *spec)
{
    for (size_t i = 0; i < c->npolicies; i++)
        if (strcmp(c->policies[i].spec, spec) == 0)
            return policy_client_connections(c->policies[i].pc);
    return -1;
}
