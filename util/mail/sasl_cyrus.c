/* sasl_cyrus: the smtpd_sasl_type=cyrus backend over the Cyrus SASL library. The application
 * name is smtpd_sasl_path (so the library reads <dir>/smtpd.conf: pwcheck_method, mech_list,
 * auxprop_plugin, ...), and the directory is cyrus_sasl_config_path when set. Library
 * failures that mean "try later" (generic failure, no memory, try again, unavailable) are TEMP;
 * an unknown user is reported as a plain authentication failure, as Postfix does. */
#include <sasl/sasl.h>

#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/sasl_cyrus.h"
#include "mail/sasl_server.h"

static struct {
    int initialized;
    char *confpath;
    char *service;
    char *realm;
} cy;

int sasl_cyrus_log(void *context, int level, const char *message)
{
    (void)context;
    switch (level) {
    case SASL_LOG_ERR:
    case SASL_LOG_FAIL:
        msg_warn("SASL authentication problem: %s", message);
        break;
    case SASL_LOG_WARN:
        msg_warn("SASL authentication info: %s", message);
        break;
    default:
        if (msg_verbose)
            msg_info("SASL authentication info: %s", message);
        break;
    }
    return SASL_OK;
}

static int cy_getconfpath(void *context, const char **path)
{
    (void)context;
    *path = cy.confpath;
    return SASL_OK;
}

typedef int (*sasl_cb_fn)(void);

static sasl_callback_t cy_callbacks[] = {
    {SASL_CB_LOG, (sasl_cb_fn)(void (*)(void))sasl_cyrus_log, NULL},
    {SASL_CB_GETCONFPATH, (sasl_cb_fn)(void (*)(void))cy_getconfpath, NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

static int cy_init(const struct sasl_srv_settings *s, struct str *why)
{
    free(cy.confpath);
    free(cy.service);
    free(cy.realm);
    cy.confpath =
        s->cyrus_config_path && *s->cyrus_config_path ? xstrdup(s->cyrus_config_path) : NULL;
    cy.service = xstrdup(s->service && *s->service ? s->service : "smtp");
    cy.realm = s->local_domain && *s->local_domain ? xstrdup(s->local_domain) : NULL;
    if (cy.initialized)
        return 0;
    /* Without a configured directory the library's own default is used. */
    if (cy.confpath == NULL)
        cy_callbacks[1].id = SASL_CB_LIST_END;
    const char *app = s->path && *s->path ? s->path : "smtpd";
    int rc = sasl_server_init(cy_callbacks, app);
    if (rc != SASL_OK) {
        str_setf(why, "SASL per-process initialization failed: %s", sasl_errstring(rc, NULL, NULL));
        return -1;
    }
    cy.initialized = 1;
    return 0;
}

static void cy_shutdown(void)
{
    if (cy.initialized)
        sasl_server_done();
    cy.initialized = 0;
    free(cy.confpath);
    free(cy.service);
    free(cy.realm);
    memset(&cy, 0, sizeof(cy));
}

struct cy_sess {
    sasl_conn_t *conn;
    char *local, *remote; /* "addr;port" or NULL */
    int secflags;
    int ssf;
};

static char *ip_port(const char *addr, const char *port)
{
    if (addr == NULL || *addr == 0 || port == NULL || *port == 0)
        return NULL;
    struct str s = STR_INIT;
    str_setf(&s, "%s;%s", addr, port);
    return str_steal(&s);
}

unsigned sasl_cyrus_secflags(int secflags)
{
    unsigned f = 0;
    f |= (secflags & SECOPT_NOPLAINTEXT) ? SASL_SEC_NOPLAINTEXT : 0;
    f |= (secflags & SECOPT_NOACTIVE) ? SASL_SEC_NOACTIVE : 0;
    f |= (secflags & SECOPT_NODICTIONARY) ? SASL_SEC_NODICTIONARY : 0;
    f |= (secflags & SECOPT_NOANONYMOUS) ? SASL_SEC_NOANONYMOUS : 0;
    f |= (secflags & SECOPT_MUTUAL_AUTH) ? SASL_SEC_MUTUAL_AUTH : 0;
    f |= (secflags & SECOPT_FORWARD_SECRECY) ? SASL_SEC_FORWARD_SECRECY : 0;
    return f;
}

int sasl_cyrus_set_props(sasl_conn_t *conn, int secflags, int ssf)
{
    sasl_security_properties_t p;
    memset(&p, 0, sizeof(p));
    p.min_ssf = 0;
    p.max_ssf = 1; /* authentication only: never negotiate a security layer */
    p.maxbufsize = 0;
    p.security_flags = sasl_cyrus_secflags(secflags);
    if (sasl_setprop(conn, SASL_SEC_PROPS, &p) != SASL_OK)
        return -1;
    if (ssf > 0) {
        sasl_ssf_t ext = (sasl_ssf_t)ssf;
        if (sasl_setprop(conn, SASL_SSF_EXTERNAL, &ext) != SASL_OK)
            return -1;
    }
    return 0;
}

/* (Re)create the library connection: one per exchange, so a failed one leaves nothing. */
static int cy_conn(struct cy_sess *c, struct str *why)
{
    if (c->conn)
        sasl_dispose(&c->conn);
    int rc = sasl_server_new(cy.service, NULL, cy.realm, c->local, c->remote, NULL, 0, &c->conn);
    if (rc == SASL_OK && sasl_cyrus_set_props(c->conn, c->secflags, c->ssf) < 0)
        rc = SASL_FAIL;
    if (rc != SASL_OK) {
        str_setf(why, "SASL per-connection initialization failed: %s",
                 sasl_errstring(rc, NULL, NULL));
        if (c->conn)
            sasl_dispose(&c->conn);
        return -1;
    }
    return 0;
}

static void cy_session_free(void *sess)
{
    struct cy_sess *c = sess;
    if (c == NULL)
        return;
    if (c->conn)
        sasl_dispose(&c->conn);
    free(c->local);
    free(c->remote);
    free(c);
}

static void *cy_session_new(const struct sasl_srv_conn *conn, int secflags, struct str *why)
{
    struct cy_sess *c = xcalloc(1, sizeof(*c));
    c->local = ip_port(conn->server_addr, conn->server_port);
    c->remote = ip_port(conn->client_addr, conn->client_port);
    c->secflags = secflags;
    c->ssf = conn->tls_active ? conn->tls_ssf : 0;
    if (cy_conn(c, why) < 0) {
        cy_session_free(c);
        return NULL;
    }
    return c;
}

static void cy_mechanisms(void *sess, int secflags, struct str *out)
{
    (void)secflags;
    struct cy_sess *c = sess;
    const char *list = NULL;
    unsigned len = 0;
    int count = 0;
    if (c->conn && sasl_listmech(c->conn, NULL, "", " ", "", &list, &len, &count) == SASL_OK &&
        list)
        str_appendn(out, list, len);
}

/* Turn a library status into a result, the challenge, or the user name. */
static int cy_result(struct cy_sess *c, int rc, const char *out, unsigned outlen, struct str *reply,
                     struct str *user)
{
    const void *name = NULL;
    switch (rc) {
    case SASL_CONTINUE:
        str_clear(reply);
        base64_encode(reply, out, outlen);
        return SASL_RES_CONTINUE;
    case SASL_OK:
        if (sasl_getprop(c->conn, SASL_USERNAME, &name) != SASL_OK || name == NULL) {
            str_set(reply, "no user name");
            return SASL_RES_TEMP;
        }
        str_set(user, name);
        return SASL_RES_OK;
    case SASL_NOUSER:
        rc = SASL_BADAUTH; /* do not tell which users exist */
        break;
    }
    str_set(reply, sasl_errstring(rc, NULL, NULL));
    return rc == SASL_FAIL || rc == SASL_NOMEM || rc == SASL_TRYAGAIN || rc == SASL_UNAVAIL
               ? SASL_RES_TEMP
               : SASL_RES_FAIL;
}

static int cy_start(void *sess, const char *mech, const char *resp, struct str *reply,
                    struct str *user)
{
    struct cy_sess *c = sess;
    struct str why = STR_INIT, in = STR_INIT;
    if (cy_conn(c, &why) < 0) {
        msg_warn("%s", str_cstr(&why));
        str_set(reply, sasl_errstring(SASL_FAIL, NULL, NULL));
        str_release(&why);
        return SASL_RES_TEMP;
    }
    if (resp)
        base64_decode(&in, resp, strlen(resp)); /* checked by the caller */
    const char *out = NULL;
    unsigned outlen = 0;
    int rc = sasl_server_start(c->conn, mech, resp ? str_cstr(&in) : NULL, (unsigned)in.len, &out,
                               &outlen);
    rc = cy_result(c, rc, out, outlen, reply, user);
    str_release(&in);
    str_release(&why);
    return rc;
}

static int cy_step(void *sess, const char *resp, struct str *reply, struct str *user)
{
    struct cy_sess *c = sess;
    struct str in = STR_INIT;
    base64_decode(&in, resp, strlen(resp));
    const char *out = NULL;
    unsigned outlen = 0;
    int rc = sasl_server_step(c->conn, str_cstr(&in), (unsigned)in.len, &out, &outlen);
    rc = cy_result(c, rc, out, outlen, reply, user);
    str_release(&in);
    return rc;
}

const struct sasl_backend sasl_cyrus_backend = {
    .type = "cyrus",
    .init = cy_init,
    .session_new = cy_session_new,
    .session_free = cy_session_free,
    .mechanisms = cy_mechanisms,
    .start = cy_start,
    .step = cy_step,
    .shutdown = cy_shutdown,
};
