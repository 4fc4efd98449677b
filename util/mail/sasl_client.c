/* sasl_client: the smtp client's SASL over the Cyrus library: mechanism filtering, the AUTH
 * command with initial response, and challenge responses. Credentials reach the library through
 * its USER/AUTHNAME/PASS callbacks bound to one client object. */
#include "mail/sasl_client.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/argv.h"
#include "base/codec.h"
#include "base/mem.h"
#include "mail/sasl_cyrus.h"
#include "mail/sasl_server.h"

struct sasl_cli {
    sasl_conn_t *conn;
    sasl_callback_t callbacks[5];
    char *username, *authzid;
    sasl_secret_t *secret;
    char *mechs; /* filtered server list */
    char *mech;  /* chosen */
};

typedef int (*sasl_cb_fn)(void);

static int cli_simple(void *context, int id, const char **result, unsigned *len)
{
    struct sasl_cli *c = context;
    const char *v = id == SASL_CB_USER ? c->authzid : c->username;
    *result = v;
    if (len)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

static int cli_secret(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
    (void)conn;
    (void)id;
    struct sasl_cli *c = context;
    *psecret = c->secret;
    return SASL_OK;
}

static int cli_library_init(struct str *why)
{
    static int done;
    static sasl_callback_t global[] = {
        {SASL_CB_LOG, (sasl_cb_fn)(void (*)(void))sasl_cyrus_log, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    if (done)
        return 0;
    int rc = sasl_client_init(global);
    if (rc != SASL_OK) {
        str_setf(why, "SASL library initialization failed: %s", sasl_errstring(rc, NULL, NULL));
        return -1;
    }
    done = 1;
    return 0;
}

int sasl_cli_filter(const char *server_mechs, const char *filter, struct str *out)
{
    struct argv *have = argv_split(server_mechs ? server_mechs : "", " \t,");
    struct argv *want = argv_split(filter ? filter : "", " \t,");
    int kept = 0;
    str_clear(out);
    for (size_t i = 0; i < have->n; i++) {
        int ok = want->n == 0;
        for (size_t k = 0; k < want->n && !ok; k++)
            ok = strcasecmp(have->v[i], want->v[k]) == 0;
        if (!ok)
            continue;
        if (out->len)
            str_appendc(out, ' ');
        str_append(out, have->v[i]);
        kept++;
    }
    argv_free(have);
    argv_free(want);
    return kept;
}

static char *ip_port(const char *addr, const char *port)
{
    if (addr == NULL || *addr == 0 || port == NULL || *port == 0)
        return NULL;
    struct str s = STR_INIT;
    str_setf(&s, "%s;%s", addr, port);
    return str_steal(&s);
}

static void cli_callbacks(struct sasl_cli *c)
{
    sasl_callback_t cb[] = {
        {SASL_CB_USER, (sasl_cb_fn)(void (*)(void))cli_simple, c},
        {SASL_CB_AUTHNAME, (sasl_cb_fn)(void (*)(void))cli_simple, c},
        {SASL_CB_PASS, (sasl_cb_fn)(void (*)(void))cli_secret, c},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    memcpy(c->callbacks, cb, sizeof(cb));
}

struct sasl_cli *sasl_cli_new(const struct sasl_cli_params *p, struct str *why)
{
    int secflags;
    if (sasl_secopts_parse(p->security_options, &secflags, why) < 0 || cli_library_init(why) < 0)
        return NULL;
    struct sasl_cli *c = xcalloc(1, sizeof(*c));
    c->username = xstrdup(p->username ? p->username : "");
    c->authzid = xstrdup(p->send_authzid ? c->username : "");
    size_t plen = p->password ? strlen(p->password) : 0;
    c->secret = xcalloc(1, sizeof(sasl_secret_t) + plen + 1);
    c->secret->len = plen;
    memcpy(c->secret->data, p->password ? p->password : "", plen);
    struct str m = STR_INIT;
    sasl_cli_filter(p->server_mechs, p->mechanism_filter, &m);
    c->mechs = str_steal(&m);
    cli_callbacks(c);
    char *local = ip_port(p->local_addr, p->local_port);
    char *remote = ip_port(p->remote_addr, p->remote_port);
    int rc = sasl_client_new(p->service ? p->service : "smtp",
                             p->server_name ? p->server_name : "localhost", local, remote,
                             c->callbacks, 0, &c->conn);
    free(local);
    free(remote);
    if (rc == SASL_OK && sasl_cyrus_set_props(c->conn, secflags, p->tls_ssf) < 0)
        rc = SASL_FAIL;
    if (rc != SASL_OK) {
        str_setf(why, "per-session SASL client initialization: %s", sasl_errstring(rc, NULL, NULL));
        sasl_cli_free(c);
        return NULL;
    }
    return c;
}

void sasl_cli_free(struct sasl_cli *c)
{
    if (c == NULL)
        return;
    if (c->conn)
        sasl_dispose(&c->conn);
    if (c->secret)
        memset(c->secret->data, 0, c->secret->len);
    free(c->secret);
    free(c->username);
    free(c->authzid);
    free(c->mechs);
    free(c->mech);
    free(c);
}

int sasl_cli_start(struct sasl_cli *c, struct str *command, struct str *why)
{
    if (*c->mechs == 0) {
        str_set(why, "no mechanism available");
        return -1;
    }
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_start(c->conn, c->mechs, NULL, &out, &outlen, &mech);
    if (rc != SASL_OK && rc != SASL_CONTINUE) {
        str_setf(why, "%s", sasl_errdetail(c->conn));
        return -1;
    }
    free(c->mech);
    c->mech = xstrdup(mech);
    str_clear(command);
    str_appendf(command, "AUTH %s", mech);
    if (out != NULL) {
        str_appendc(command, ' ');
        if (outlen == 0)
            str_appendc(command, '=');
        else
            base64_encode(command, out, outlen);
    }
    return 0;
}

int sasl_cli_step(struct sasl_cli *c, const char *challenge, struct str *response, struct str *why)
{
    struct str in = STR_INIT;
    if (base64_decode(&in, challenge, strlen(challenge)) < 0) {
        str_set(why, "malformed SASL challenge from server");
        return -1;
    }
    const char *out = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_step(c->conn, str_cstr(&in), (unsigned)in.len, NULL, &out, &outlen);
    str_release(&in);
    if (rc != SASL_OK && rc != SASL_CONTINUE) {
        str_setf(why, "%s", sasl_errdetail(c->conn));
        return -1;
    }
    str_clear(response);
    base64_encode(response, out ? out : "", out ? outlen : 0);
    return 0;
}

const char *sasl_cli_mechanism(const struct sasl_cli *c)
{
    return c->mech;
}
