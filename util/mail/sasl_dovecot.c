/* sasl_dovecot: the smtpd_sasl_type=dovecot backend. One connection per process to the auth
 * server named by smtpd_sasl_path (a unix socket path, relative to the working directory, or
 * inet:host:port), opened lazily, shared by the sessions the process serves one at a time, and
 * reopened after a loss. Every exchange has a deadline; a server that is unreachable, goes away
 * or talks nonsense gives TEMP ("Connection lost to authentication server"), never FAIL. */
#include "mail/sasl_dovecot.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/codec.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "base/stream.h"
#include "mail/sasl_server.h"

#define MAX_SKIPPED_LINES 100 /* replies to other ids or unknown lines while waiting */
#define LOST "Connection lost to authentication server"
#define BACKEND_ERROR "Authentication backend error"

static struct {
    char *path;
    char *service;
    int timeout;
    struct stream *st;
    struct dovecot_handshake hs;
    unsigned next_id;
} dv;

struct dv_sess {
    char *laddr, *lport, *raddr, *rport;
    int secured;
    int secflags;
    unsigned id;
};

static void dv_disconnect(void)
{
    stream_close(dv.st);
    dv.st = NULL;
    dovecot_handshake_free(&dv.hs);
}

static int dv_open_fd(struct str *why)
{
    if (strncmp(dv.path, "inet:", 5) == 0) {
        struct net_endpoint ep;
        if (net_parse_endpoint(dv.path, &ep, why) < 0)
            return -1;
        int fd = net_connect_endpoint(&ep, NET_ALL, dv.timeout * 1000, why);
        net_endpoint_free(&ep);
        return fd;
    }
    const char *p = strncmp(dv.path, "unix:", 5) == 0 ? dv.path + 5 : dv.path;
    return net_connect_unix(p, dv.timeout * 1000, why);
}

/* Read one line without its LF; 0, or -1 on EOF, error, timeout or an over-long line. */
static int dv_getline(struct str *line, struct str *why)
{
    str_clear(line);
    int rc = stream_getline(dv.st, line, DOVECOT_MAX_LINE);
    if (rc == STREAM_LINE) {
        str_truncate(line, line->len - 1);
        return 0;
    }
    str_set(why, rc == STREAM_PARTIAL   ? "line too long"
                 : rc == STREAM_TIMEOUT ? "timeout"
                 : rc == STREAM_EOF     ? "unexpected end of input"
                                        : "read error");
    return -1;
}

static int dv_handshake(struct str *why)
{
    struct str out = STR_INIT, line = STR_INIT;
    dovecot_client_hello(&out, (long)getpid());
    stream_write(dv.st, out.data, out.len);
    int rc = stream_flush(dv.st) < 0 ? -1 : 0;
    if (rc < 0)
        str_set(why, "write error");
    while (rc == 0 && (rc = dv_getline(&line, why)) == 0)
        if ((rc = dovecot_handshake_line(&dv.hs, line.data, line.len, why)) != 0)
            break;
    str_release(&out);
    str_release(&line);
    return rc == 1 ? 0 : -1;
}

/* Connect and handshake unless connected. 0, or -1 (logged). */
static int dv_connect(void)
{
    if (dv.st)
        return 0;
    struct str why = STR_INIT;
    int fd = dv_open_fd(&why);
    if (fd < 0) {
        /* net's reason starts "connect to <where>: "; log Postfix's shape */
        const char *r = str_cstr(&why), *colon = strstr(r, ": ");
        msg_warn("SASL: Connect to %s failed: %s", dv.path,
                 strncmp(r, "connect to ", 11) == 0 && colon ? colon + 2 : r);
        str_release(&why);
        return -1;
    }
    dv.st = stream_fdopen(fd);
    stream_set_timeout(dv.st, dv.timeout);
    stream_set_deadline(dv.st, deadline_after_ms(dv.timeout * 1000L));
    int rc = dv_handshake(&why);
    if (rc < 0) {
        msg_warn("SASL: Dovecot auth server %s handshake failed: %s", dv.path, str_cstr(&why));
        dv_disconnect();
    }
    str_release(&why);
    return rc;
}

static int dv_init(const struct sasl_srv_settings *s, struct str *why)
{
    if (s->path == NULL || *s->path == 0) {
        str_set(why, "smtpd_sasl_path is empty");
        return -1;
    }
    free(dv.path);
    free(dv.service);
    dv.path = xstrdup(s->path);
    dv.service = xstrdup(s->service && *s->service ? s->service : "smtp");
    dv.timeout = s->timeout > 0 ? s->timeout : 10;
    return 0;
}

static void dv_shutdown(void)
{
    dv_disconnect();
    free(dv.path);
    free(dv.service);
    dv.path = dv.service = NULL;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

static void *dv_session_new(const struct sasl_srv_conn *c, int secflags, struct str *why)
{
    (void)why;
    struct dv_sess *d = xcalloc(1, sizeof(*d));
    d->secflags = secflags;
    d->laddr = dup_or_null(c->server_addr);
    d->lport = dup_or_null(c->server_port);
    d->raddr = dup_or_null(c->client_addr);
    d->rport = dup_or_null(c->client_port);
    d->secured = c->tls_active;
    return d;
}

static void dv_session_free(void *sess)
{
    struct dv_sess *d = sess;
    if (d == NULL)
        return;
    free(d->laddr);
    free(d->lport);
    free(d->raddr);
    free(d->rport);
    free(d);
}

static int mech_allowed(const struct dovecot_mech *m, int secflags)
{
    if (m->flags & DMECH_PRIVATE)
        return 0;
    if (((secflags & SECOPT_NOPLAINTEXT) && (m->flags & DMECH_PLAINTEXT)) ||
        ((secflags & SECOPT_NOACTIVE) && (m->flags & DMECH_ACTIVE)) ||
        ((secflags & SECOPT_NODICTIONARY) && (m->flags & DMECH_DICTIONARY)) ||
        ((secflags & SECOPT_NOANONYMOUS) && (m->flags & DMECH_ANONYMOUS)))
        return 0;
    if (((secflags & SECOPT_MUTUAL_AUTH) && !(m->flags & DMECH_MUTUAL_AUTH)) ||
        ((secflags & SECOPT_FORWARD_SECRECY) && !(m->flags & DMECH_FORWARD_SECRECY)))
        return 0;
    return 1;
}

static void dv_mechanisms(void *sess, int secflags, struct str *out)
{
    (void)sess;
    if (dv_connect() < 0)
        return;
    for (size_t i = 0; i < dv.hs.n_mechs; i++) {
        if (!mech_allowed(&dv.hs.mechs[i], secflags))
            continue;
        if (out->len)
            str_appendc(out, ' ');
        str_append(out, dv.hs.mechs[i].name);
    }
}

/* The connection failed mid-exchange: drop it (the next exchange reconnects). */
static int dv_lost(struct str *reply, const char *what, struct str *why)
{
    msg_warn("SASL: Dovecot auth server %s: %s: %s", dv.path, what, str_cstr(why));
    dv_disconnect();
    str_set(reply, LOST);
    return SASL_RES_TEMP;
}

static int user_ok(const struct str *u)
{
    if (u->len == 0)
        return 0;
    for (size_t i = 0; i < u->len; i++)
        if ((unsigned char)u->data[i] < 0x20 || u->data[i] == 0x7f)
            return 0;
    return 1;
}

/* Map one parsed reply to a result. `reply` holds the last challenge on entry. */
static int dv_result(struct dovecot_reply *r, struct str *reply, struct str *user)
{
    struct str scratch = STR_INIT;
    int rc = SASL_RES_TEMP;
    switch (r->kind) {
    case DREPLY_CONT:
        if (base64_decode(&scratch, r->data.data, r->data.len) == 0) {
            str_set(reply, str_cstr(&r->data));
            rc = SASL_RES_CONTINUE;
        } else {
            msg_warn("SASL: Dovecot auth server %s sent an invalid challenge", dv.path);
            str_set(reply, BACKEND_ERROR);
        }
        break;
    case DREPLY_OK:
        if (r->have_user && user_ok(&r->user)) {
            str_set(user, str_cstr(&r->user));
            rc = SASL_RES_OK;
        } else {
            msg_warn("SASL: Dovecot auth server %s: OK without a valid user name", dv.path);
            str_set(reply, BACKEND_ERROR);
        }
        break;
    case DREPLY_FAIL:
        /* Without reason=, the previous challenge stays as the reason (Postfix does this). */
        if (r->have_reason)
            str_set(reply, str_cstr(&r->reason));
        rc = r->temp ? SASL_RES_TEMP : SASL_RES_FAIL;
        break;
    }
    str_release(&scratch);
    return rc;
}

/* Send a request and wait for the reply to our id. */
static int dv_exchange(struct dv_sess *d, const struct str *req, struct str *reply,
                       struct str *user)
{
    struct str line = STR_INIT, why = STR_INIT;
    struct dovecot_reply r = {0};
    int rc = -100;
    stream_set_deadline(dv.st, deadline_after_ms(dv.timeout * 1000L));
    stream_write(dv.st, req->data, req->len);
    if (stream_flush(dv.st) < 0) {
        str_set(&why, "write error");
        rc = dv_lost(reply, "request", &why);
    }
    for (int skipped = 0; rc == -100; skipped++) {
        if (dv_getline(&line, &why) < 0) {
            rc = dv_lost(reply, "reply", &why);
        } else if (dovecot_parse_reply(line.data, line.len, d->id, &r) == DREPLY_BAD) {
            str_set(&why, "malformed reply");
            rc = dv_lost(reply, "reply", &why);
        } else if (r.kind != DREPLY_OTHER) {
            rc = dv_result(&r, reply, user);
        } else if (skipped >= MAX_SKIPPED_LINES) {
            str_set(&why, "too many unrelated lines");
            rc = dv_lost(reply, "reply", &why);
        }
    }
    dovecot_reply_free(&r);
    str_release(&line);
    str_release(&why);
    return rc;
}

static int dv_start(void *sess, const char *mech, const char *resp, struct str *reply,
                    struct str *user)
{
    struct dv_sess *d = sess;
    for (int attempt = 0; attempt < 2; attempt++) {
        int fresh = dv.st == NULL;
        if (dv_connect() < 0) {
            str_set(reply, LOST);
            return SASL_RES_TEMP;
        }
        const struct dovecot_mech *m = dovecot_find_mech(&dv.hs, mech);
        if (m == NULL || !mech_allowed(m, d->secflags)) {
            str_set(reply, "Invalid authentication mechanism");
            return SASL_RES_FAIL;
        }
        struct dovecot_auth_req a = {.mech = m->name,
                                     .service = dv.service,
                                     .local_addr = d->laddr,
                                     .remote_addr = d->raddr,
                                     .local_port = d->lport,
                                     .remote_port = d->rport,
                                     .secured = d->secured,
                                     .resp = resp};
        struct str req = STR_INIT, why = STR_INIT;
        d->id = ++dv.next_id;
        int rc = dovecot_auth_request(&req, d->id, &a, &why);
        if (rc < 0) {
            str_set(reply, "Invalid authentication mechanism");
            rc = SASL_RES_FAIL;
        } else {
            rc = dv_exchange(d, &req, reply, user);
        }
        str_release(&req);
        str_release(&why);
        /* A connection kept from an earlier session may have gone stale: try a fresh one. */
        if (!(rc == SASL_RES_TEMP && dv.st == NULL && !fresh))
            return rc;
    }
    return SASL_RES_TEMP;
}

static int dv_step(void *sess, const char *resp, struct str *reply, struct str *user)
{
    struct dv_sess *d = sess;
    if (dv.st == NULL) {
        str_set(reply, LOST);
        return SASL_RES_TEMP;
    }
    struct str req = STR_INIT, why = STR_INIT;
    int rc;
    if (dovecot_cont_request(&req, d->id, resp, strlen(resp), &why) < 0) {
        str_set(reply, "Invalid base64 data in continued response");
        rc = SASL_RES_FAIL;
    } else {
        rc = dv_exchange(d, &req, reply, user);
    }
    str_release(&req);
    str_release(&why);
    return rc;
}

const struct sasl_backend sasl_dovecot_backend = {
    .type = "dovecot",
    .init = dv_init,
    .session_new = dv_session_new,
    .session_free = dv_session_free,
    .mechanisms = dv_mechanisms,
    .start = dv_start,
    .step = dv_step,
    .shutdown = dv_shutdown,
};
