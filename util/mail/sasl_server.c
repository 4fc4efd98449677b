/* sasl_server: the backend-independent part of server SASL: the table of built-in types (the
 * one place postconf -a/-A reads), security options, the AUTH keyword, and the exchange rules
 * Postfix applies before a backend sees anything: "*" aborts, responses are length-limited and
 * must be valid base64; plus the SMTP reply texts and the failure log line. */
#include "mail/sasl_server.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/argv.h"
#include "base/codec.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"

/* The backends compiled in, in postconf -a order. */
static const struct sasl_backend *const backends[] = {
    &sasl_cyrus_backend,
    &sasl_dovecot_backend,
};
const char *const sasl_server_types[] = {"cyrus", "dovecot", NULL};
const char *const sasl_client_types[] = {"cyrus", NULL};

#define BACKEND_TIMEOUT 10 /* seconds per backend exchange, as Postfix's Dovecot client */
#define MAX_MECH_NAME 20   /* RFC 4422 section 3.1 */

static const struct {
    const char *word;
    int flag;
} secopt_words[] = {
    {"noplaintext", SECOPT_NOPLAINTEXT},   {"noactive", SECOPT_NOACTIVE},
    {"nodictionary", SECOPT_NODICTIONARY}, {"noanonymous", SECOPT_NOANONYMOUS},
    {"mutual_auth", SECOPT_MUTUAL_AUTH},   {"forward_secrecy", SECOPT_FORWARD_SECRECY},
};

int sasl_secopts_parse(const char *text, int *flags, struct str *why)
{
    struct argv *w = argv_split(text ? text : "", ", \t\r\n");
    int rc = 0;
    *flags = 0;
    for (size_t i = 0; i < w->n && rc == 0; i++) {
        size_t k, n = sizeof(secopt_words) / sizeof(secopt_words[0]);
        for (k = 0; k < n && strcasecmp(w->v[i], secopt_words[k].word) != 0; k++)
            ;
        if (k == n) {
            str_setf(why, "unknown SASL security option: \"%s\"", w->v[i]);
            rc = -1;
        } else {
            *flags |= secopt_words[k].flag;
        }
    }
    argv_free(w);
    return rc;
}

/* ---- process-wide state ----------------------------------------------------------------- */

static struct {
    const struct sasl_backend *be;
    int secflags, tls_secflags;
    long response_limit;
    int broken_clients;
} g;

void sasl_srv_settings_from_config(struct sasl_srv_settings *s)
{
    s->type = config_get("smtpd_sasl_type");
    s->path = config_get("smtpd_sasl_path");
    s->service = config_get("smtpd_sasl_service");
    s->local_domain = config_get("smtpd_sasl_local_domain");
    s->security_options = config_get("smtpd_sasl_security_options");
    s->tls_security_options = config_get("smtpd_sasl_tls_security_options");
    s->cyrus_config_path = config_get("cyrus_sasl_config_path");
    s->response_limit = config_get_int("smtpd_sasl_response_limit");
    s->broken_clients = config_get_bool("broken_sasl_auth_clients");
    s->timeout = BACKEND_TIMEOUT;
}

int sasl_srv_init(const struct sasl_srv_settings *s, struct str *why)
{
    const struct sasl_backend *be = NULL;
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (s->type && strcmp(s->type, backends[i]->type) == 0)
            be = backends[i];
    if (be == NULL) {
        str_setf(why, "unsupported SASL server implementation: %s", s->type ? s->type : "");
        return -1;
    }
    if (sasl_secopts_parse(s->security_options, &g.secflags, why) < 0 ||
        sasl_secopts_parse(s->tls_security_options ? s->tls_security_options : s->security_options,
                           &g.tls_secflags, why) < 0)
        return -1;
    if (s->response_limit <= 0) {
        str_set(why, "smtpd_sasl_response_limit must be positive");
        return -1;
    }
    if (be->init(s, why) < 0)
        return -1;
    g.be = be;
    g.response_limit = s->response_limit;
    g.broken_clients = s->broken_clients;
    return 0;
}

void sasl_srv_shutdown(void)
{
    if (g.be && g.be->shutdown)
        g.be->shutdown();
    g.be = NULL;
}

/* ---- sessions ------------------------------------------------------------------------------ */

enum { ST_IDLE, ST_ACTIVE, ST_DONE };

struct sasl_srv {
    void *sess;
    int secflags;
    int state;
    int result;
    struct str mechs;  /* advertised list */
    struct str reply;  /* SMTP reply */
    struct str reason; /* failure reason */
    struct str data;   /* backend output: challenge, reason */
    struct str user;
    char *method;
    int authenticated;
};

struct sasl_srv *sasl_srv_new(const struct sasl_srv_conn *conn, struct str *why)
{
    if (g.be == NULL) {
        str_set(why, "SASL server not initialized");
        return NULL;
    }
    int secflags = conn->tls_active ? g.tls_secflags : g.secflags;
    void *sess = g.be->session_new(conn, secflags, why);
    if (sess == NULL)
        return NULL;
    struct sasl_srv *s = xcalloc(1, sizeof(*s));
    s->sess = sess;
    s->secflags = secflags;
    return s;
}

void sasl_srv_free(struct sasl_srv *s)
{
    if (s == NULL)
        return;
    if (g.be)
        g.be->session_free(s->sess);
    str_release(&s->mechs);
    str_release(&s->reply);
    str_release(&s->reason);
    str_release(&s->data);
    str_release(&s->user);
    free(s->method);
    free(s);
}

const char *sasl_srv_mechanisms(struct sasl_srv *s)
{
    str_clear(&s->mechs);
    g.be->mechanisms(s->sess, s->secflags, &s->mechs);
    return str_cstr(&s->mechs);
}

void sasl_format_auth_keyword(struct str *out, const char *mechs, int broken)
{
    str_clear(out);
    str_append(out, broken ? "AUTH=" : "AUTH ");
    str_append(out, mechs);
}

int sasl_srv_ehlo_line(struct sasl_srv *s, struct str *line, struct str *broken_line)
{
    const char *mechs = sasl_srv_mechanisms(s);
    if (*mechs == 0)
        return 0;
    sasl_format_auth_keyword(line, mechs, 0);
    if (broken_line) {
        str_clear(broken_line);
        if (g.broken_clients)
            sasl_format_auth_keyword(broken_line, mechs, 1);
    }
    return 1;
}

/* ---- the exchange --------------------------------------------------------------------------- */

static int finish(struct sasl_srv *s, int result)
{
    s->result = result;
    str_clear(&s->reply);
    switch (result) {
    case SASL_RES_CONTINUE:
        str_setf(&s->reply, "334 %s", str_cstr(&s->data));
        return result;
    case SASL_RES_OK:
        s->authenticated = 1;
        str_set(&s->reply, "235 2.7.0 Authentication successful");
        break;
    case SASL_RES_FAIL:
        str_set(&s->reason, str_cstr(&s->data));
        str_setf(&s->reply, "535 5.7.8 Error: authentication failed: %s", str_cstr(&s->reason));
        break;
    case SASL_RES_TEMP:
        str_set(&s->reason, str_cstr(&s->data));
        str_setf(&s->reply, "454 4.7.0 Temporary authentication failure: %s", str_cstr(&s->reason));
        break;
    case SASL_RES_ABORT:
        str_set(&s->reply, "501 5.7.0 Authentication aborted");
        break;
    }
    s->state = ST_DONE;
    return result;
}

/* A response that is too long ends the exchange with Postfix's 500 reply. */
static int too_long(struct sasl_srv *s)
{
    s->result = SASL_RES_FAIL;
    s->state = ST_DONE;
    str_set(&s->reason, "Authentication exchange line is too long");
    str_set(&s->reply, "500 5.5.6 Authentication exchange line is too long");
    return SASL_RES_FAIL;
}

static int valid_base64(const char *text, size_t len)
{
    struct str scratch = STR_INIT;
    int ok = base64_decode(&scratch, text, len) == 0;
    str_release(&scratch);
    return ok;
}

static int valid_mech_name(const char *mech)
{
    size_t n = strlen(mech);
    if (n == 0 || n > MAX_MECH_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)mech[i]) && mech[i] != '-' && mech[i] != '_')
            return 0;
    return 1;
}

int sasl_srv_start(struct sasl_srv *s, const char *mech, const char *init_response)
{
    free(s->method);
    s->method = xstrdup(mech ? mech : "");
    for (char *p = s->method; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    str_clear(&s->user);
    str_clear(&s->data);
    str_clear(&s->reason);
    s->state = ST_ACTIVE;
    if (!valid_mech_name(s->method)) {
        str_set(&s->data, "Invalid authentication mechanism");
        return finish(s, SASL_RES_FAIL);
    }
    if (init_response) {
        size_t len = strlen(init_response);
        if ((long)len > g.response_limit)
            return too_long(s);
        if (strcmp(init_response, "=") == 0) {
            init_response = "";
        } else if (!valid_base64(init_response, len)) {
            str_set(&s->data, "Invalid base64 data in initial response");
            return finish(s, SASL_RES_FAIL);
        }
    }
    return finish(s, g.be->start(s->sess, s->method, init_response, &s->data, &s->user));
}

int sasl_srv_next(struct sasl_srv *s, const char *response, size_t len)
{
    if (s->state != ST_ACTIVE || s->result != SASL_RES_CONTINUE) {
        str_set(&s->data, "no authentication in progress");
        return finish(s, SASL_RES_FAIL);
    }
    if (len == 1 && response[0] == '*')
        return finish(s, SASL_RES_ABORT);
    if ((long)len > g.response_limit)
        return too_long(s);
    if (memchr(response, 0, len) || !valid_base64(response, len)) {
        str_set(&s->data, "Invalid base64 data in continued response");
        return finish(s, SASL_RES_FAIL);
    }
    /* Keep the last challenge: a backend that fails without a reason reports it (Postfix). */
    struct str resp = STR_INIT;
    str_appendn(&resp, response, len);
    int rc = g.be->step(s->sess, str_cstr(&resp), &s->data, &s->user);
    str_release(&resp);
    return finish(s, rc);
}

const char *sasl_srv_reply(const struct sasl_srv *s)
{
    return str_cstr(&s->reply);
}

const char *sasl_srv_reason(const struct sasl_srv *s)
{
    return str_cstr(&s->reason);
}

const char *sasl_srv_method(const struct sasl_srv *s)
{
    return s->method;
}

const char *sasl_srv_username(const struct sasl_srv *s)
{
    return s->authenticated && s->result == SASL_RES_OK ? str_cstr(&s->user) : NULL;
}

size_t sasl_srv_response_limit(const struct sasl_srv *s)
{
    (void)s;
    return (size_t)g.response_limit;
}

void sasl_srv_log_failure(const struct sasl_srv *s, const char *namaddr)
{
    const char *m = s->method ? s->method : "";
    if (s->result == SASL_RES_ABORT)
        msg_warn("%s: SASL %s authentication aborted", namaddr, m);
    else if (s->result == SASL_RES_FAIL || s->result == SASL_RES_TEMP)
        msg_warn("%s: SASL %s authentication failed: %s", namaddr, m, str_cstr(&s->reason));
}
