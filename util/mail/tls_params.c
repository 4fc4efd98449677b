/* tls_params: the one place that reads the TLS parameters from main.cf into the structs the
 * TLS contexts are built from (so the rest of the TLS code is testable without main.cf). */
#include "mail/tls_params.h"

#include "base/mem.h"
#include "mail/config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void tls_param_set(char **field, const char *value)
{
    free(*field);
    *field = value ? xstrdup(value) : NULL;
}

static const char *const grade_params[TLS_GRADE_COUNT] = {
    "tls_export_cipherlist", "tls_low_cipherlist", "tls_medium_cipherlist", "tls_high_cipherlist",
    "tls_null_cipherlist"};

static const char *const grade_defaults[TLS_GRADE_COUNT] = {
    "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH",
    "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH", "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
    "aNULL:-aNULL:HIGH:@STRENGTH", "eNULL:!aNULL"};

static void common_defaults(struct tls_common_params *c)
{
    memset(c, 0, sizeof(*c));
    tls_param_set(&c->protocols, ">=TLSv1");
    tls_param_set(&c->mandatory_protocols, ">=TLSv1");
    tls_param_set(&c->ciphers, "medium");
    tls_param_set(&c->mandatory_ciphers, "medium");
    tls_param_set(&c->fingerprint_digest, "sha256");
    for (int g = 0; g < TLS_GRADE_COUNT; g++)
        c->lists.list[g] = xstrdup(grade_defaults[g]);
    c->cache_timeout = 3600;
    c->verify_depth = 9;
}

static void common_free(struct tls_common_params *c)
{
    char **fields[] = {&c->cert_file,
                       &c->key_file,
                       &c->eccert_file,
                       &c->eckey_file,
                       &c->dcert_file,
                       &c->dkey_file,
                       &c->chain_files,
                       &c->CAfile,
                       &c->CApath,
                       &c->protocols,
                       &c->mandatory_protocols,
                       &c->ciphers,
                       &c->mandatory_ciphers,
                       &c->exclude_ciphers,
                       &c->mandatory_exclude_ciphers,
                       &c->fingerprint_digest,
                       &c->cache_database};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        tls_param_set(fields[i], NULL);
    for (int g = 0; g < TLS_GRADE_COUNT; g++) {
        free((char *)c->lists.list[g]);
        c->lists.list[g] = NULL;
    }
}

void tls_server_params_defaults(struct tls_server_params *p)
{
    memset(p, 0, sizeof(*p));
    common_defaults(&p->c);
    p->level = TLS_LEV_NONE;
    p->tickets = 1;
}

void tls_client_params_defaults(struct tls_client_params *p)
{
    memset(p, 0, sizeof(*p));
    common_defaults(&p->c);
    p->level = TLS_LEV_NONE;
    tls_param_set(&p->verify_cert_match, "hostname");
    tls_param_set(&p->secure_cert_match, "nexthop, dot-nexthop");
}

void tls_server_params_free(struct tls_server_params *p)
{
    common_free(&p->c);
}

void tls_client_params_free(struct tls_client_params *p)
{
    common_free(&p->c);
    tls_param_set(&p->servername, NULL);
    tls_param_set(&p->verify_cert_match, NULL);
    tls_param_set(&p->secure_cert_match, NULL);
    tls_param_set(&p->fingerprint_match, NULL);
    tls_param_set(&p->policy_maps, NULL);
}

/* ---- main.cf ----------------------------------------------------------------------------- */

static const char *get(const char *prefix, const char *name, struct str *buf)
{
    str_setf(buf, "%s_%s", prefix, name);
    const char *v = config_get(str_cstr(buf));
    return v ? v : "";
}

static int get_bool(const char *prefix, const char *name, struct str *buf)
{
    str_setf(buf, "%s_%s", prefix, name);
    return config_get_bool(str_cstr(buf));
}

static void common_load(struct tls_common_params *c, const char *prefix)
{
    struct str n = STR_INIT;
    static const struct {
        const char *name;
        size_t offset;
    } strings[] = {
#define F(name) {#name, offsetof(struct tls_common_params, name)}
        F(cert_file),
        F(key_file),
        F(eccert_file),
        F(eckey_file),
        F(dcert_file),
        F(dkey_file),
        F(chain_files),
        F(CAfile),
        F(CApath),
        F(protocols),
        F(mandatory_protocols),
        F(ciphers),
        F(mandatory_ciphers),
        F(exclude_ciphers),
        F(mandatory_exclude_ciphers),
        F(fingerprint_digest),
#undef F
        {"session_cache_database", offsetof(struct tls_common_params, cache_database)},
    };
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        tls_param_set((char **)((char *)c + strings[i].offset), get(prefix, strings[i].name, &n));
    for (int g = 0; g < TLS_GRADE_COUNT; g++) {
        free((char *)c->lists.list[g]);
        const char *v = config_get(grade_params[g]);
        c->lists.list[g] = xstrdup(v ? v : grade_defaults[g]);
    }
    str_setf(&n, "%s_loglevel", prefix);
    c->loglevel = tls_loglevel_clamp(config_get_int(str_cstr(&n)));
    str_setf(&n, "%s_session_cache_timeout", prefix);
    c->cache_timeout = config_get_time(str_cstr(&n));
    str_setf(&n, "%s_%s", prefix,
             strcmp(prefix, "smtpd_tls") == 0 ? "ccert_verifydepth" : "scert_verifydepth");
    const char *depth = config_get(str_cstr(&n));
    c->verify_depth = depth ? atoi(depth) : 9;
    c->preempt_cipherlist = config_get_bool("tls_preempt_cipherlist");
    str_release(&n);
}

/* get() prefixes the name with "<prefix>_", e.g. "smtpd_tls" + "cert_file". */
int tls_server_params_load(struct tls_server_params *p, struct str *err)
{
    struct str n = STR_INIT;
    tls_server_params_defaults(p);
    common_load(&p->c, "smtpd_tls");
    p->ask_ccert = get_bool("smtpd_tls", "ask_ccert", &n);
    p->req_ccert = get_bool("smtpd_tls", "req_ccert", &n);
    p->received_header = get_bool("smtpd_tls", "received_header", &n);
    p->wrappermode = get_bool("smtpd_tls", "wrappermode", &n);
    p->auth_only = get_bool("smtpd_tls", "auth_only", &n);
    const char *ticket_cipher = config_get("tls_session_ticket_cipher");
    p->tickets = ticket_cipher && *ticket_cipher;
    p->level =
        tls_server_level(get("smtpd_tls", "security_level", &n), config_get_bool("smtpd_use_tls"),
                         config_get_bool("smtpd_enforce_tls"), err);
    str_release(&n);
    return p->level == TLS_LEV_INVALID ? -1 : 0;
}

int tls_client_params_load(struct tls_client_params *p, const char *prefix, struct str *err)
{
    struct str n = STR_INIT, tp = STR_INIT;
    tls_client_params_defaults(p);
    str_setf(&tp, "%s_tls", prefix);
    const char *t = str_cstr(&tp);
    common_load(&p->c, t);
    tls_param_set(&p->servername, get(t, "servername", &n));
    tls_param_set(&p->verify_cert_match, get(t, "verify_cert_match", &n));
    tls_param_set(&p->secure_cert_match, get(t, "secure_cert_match", &n));
    tls_param_set(&p->fingerprint_match, get(t, "fingerprint_cert_match", &n));
    tls_param_set(&p->policy_maps, get(t, "policy_maps", &n));
    p->wrappermode = get_bool(t, "wrappermode", &n);
    int enforce_peername = get_bool(t, "enforce_peername", &n);
    int use_tls = get_bool(prefix, "use_tls", &n);
    int enforce_tls = get_bool(prefix, "enforce_tls", &n);
    p->level =
        tls_client_level(get(t, "security_level", &n), use_tls, enforce_tls, enforce_peername, err);
    str_release(&n);
    str_release(&tp);
    return p->level == TLS_LEV_INVALID ? -1 : 0;
}
