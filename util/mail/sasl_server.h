/* sasl_server: server-side SASL for smtpd behind one interface, with Postfix's behaviour and
 * replies; the backend is chosen by smtpd_sasl_type: "cyrus" (the Cyrus SASL library) or
 * "dovecot" (Dovecot's auth protocol over smtpd_sasl_path: a unix socket such as private/auth,
 * relative to the working (queue) directory, or inet:host:port).
 *
 * Use: sasl_srv_settings_from_config() + sasl_srv_init() once per process; per SMTP session
 * sasl_srv_new(); on EHLO sasl_srv_ehlo_line(); on AUTH sasl_srv_start() then, while the result
 * is SASL_RES_CONTINUE, send sasl_srv_reply() ("334 <challenge>"), read the client's line
 * (limit: sasl_srv_response_limit()) and pass it to sasl_srv_next(). Any other result ends the
 * exchange: send sasl_srv_reply(); on failure log with sasl_srv_log_failure().
 * Function names avoid the Cyrus library's own sasl_server_* / sasl_client_* symbols. */
#ifndef KESTREL_MAIL_SASL_SERVER_H
#define KESTREL_MAIL_SASL_SERVER_H

#include <stddef.h>

#include "base/str.h"

/* SASL implementations built in (postconf -a / -A), NULL-terminated. Declared in params.h too. */
extern const char *const sasl_server_types[], *const sasl_client_types[];

/* smtpd_sasl_security_options / smtp_sasl_security_options words. */
enum {
    SECOPT_NOPLAINTEXT = 1,
    SECOPT_NOACTIVE = 2,
    SECOPT_NODICTIONARY = 4,
    SECOPT_NOANONYMOUS = 8,
    SECOPT_MUTUAL_AUTH = 16,
    SECOPT_FORWARD_SECRECY = 32,
};
/* Parse a comma/space list ("noanonymous, noplaintext"); 0, or -1 for an unknown word. */
int sasl_secopts_parse(const char *text, int *flags, struct str *why);

struct sasl_srv_settings {
    const char *type;                 /* smtpd_sasl_type: cyrus | dovecot */
    const char *path;                 /* smtpd_sasl_path */
    const char *service;              /* smtpd_sasl_service (default smtp) */
    const char *local_domain;         /* smtpd_sasl_local_domain (Cyrus user realm) */
    const char *security_options;     /* smtpd_sasl_security_options */
    const char *tls_security_options; /* smtpd_sasl_tls_security_options */
    const char *cyrus_config_path;    /* cyrus_sasl_config_path ("" = library default) */
    long response_limit;              /* smtpd_sasl_response_limit */
    int broken_clients;               /* broken_sasl_auth_clients */
    int timeout;                      /* seconds allowed to each backend exchange */
};

/* Fill from main.cf (config_get of the names above; timeout from ipc_timeout). Strings point
 * into the configuration. */
void sasl_srv_settings_from_config(struct sasl_srv_settings *s);
/* Process-wide set-up; 0, or -1 with the reason (unknown type, bad security options, Cyrus
 * initialisation failure). The Dovecot backend connects lazily and reconnects after a loss. */
int sasl_srv_init(const struct sasl_srv_settings *s, struct str *why);
/* Release process-wide state (Cyrus sasl_server_done, Dovecot connection). */
void sasl_srv_shutdown(void);

/* One SMTP session. Addresses are numeric; ports may be NULL. */
struct sasl_srv_conn {
    const char *client_addr, *client_port;
    const char *server_addr, *server_port;
    int tls_active; /* security options come from smtpd_sasl_tls_security_options when set */
    int tls_ssf;    /* TLS cipher strength in bits (Cyrus external SSF), 0 without TLS */
};

struct sasl_srv;

/* NULL with the reason when the backend cannot create a session. A Dovecot server that is
 * down does not fail here: the mechanism list is then empty and AUTH gives TEMP. */
struct sasl_srv *sasl_srv_new(const struct sasl_srv_conn *conn, struct str *why);
void sasl_srv_free(struct sasl_srv *s);

/* Mechanisms to advertise, space-separated ("PLAIN LOGIN"), after the security options; ""
 * when none (then AUTH must not be advertised). */
const char *sasl_srv_mechanisms(struct sasl_srv *s);
/* The EHLO keyword lines without the "250-"/"250 " prefix: "AUTH PLAIN LOGIN", and, with
 * broken_sasl_auth_clients, also "AUTH=PLAIN LOGIN" in broken_line. Returns 0 when there is
 * no mechanism to offer (then nothing is set). broken_line may be NULL. */
int sasl_srv_ehlo_line(struct sasl_srv *s, struct str *line, struct str *broken_line);
/* Format helper behind sasl_srv_ehlo_line (tests): "AUTH" + sep + mechs. */
void sasl_format_auth_keyword(struct str *out, const char *mechs, int broken);

enum sasl_result {
    SASL_RES_CONTINUE = 1, /* reply: "334 <base64 challenge>" */
    SASL_RES_OK = 0,       /* reply: "235 2.7.0 Authentication successful" */
    SASL_RES_FAIL = -1,    /* reply: "535 5.7.8 Error: authentication failed: <reason>" or
                              "500 5.5.6 Authentication exchange line is too long" */
    SASL_RES_TEMP = -2,    /* reply: "454 4.7.0 Temporary authentication failure: <reason>" */
    SASL_RES_ABORT = -3,   /* reply: "501 5.7.0 Authentication aborted" (client sent "*") */
};

/* Start an exchange. init_response: the base64 text after the mechanism on the AUTH line
 * ("=" for an empty one), or NULL when there was none. */
int sasl_srv_start(struct sasl_srv *s, const char *mech, const char *init_response);
/* Continue with the client's response line (without CRLF; len bytes, may hold NUL). */
int sasl_srv_next(struct sasl_srv *s, const char *response, size_t len);
/* The complete SMTP reply for the last result (without CRLF). */
const char *sasl_srv_reply(const struct sasl_srv *s);
/* The failure reason (as in the 535/454 reply and the log), "" when none. */
const char *sasl_srv_reason(const struct sasl_srv *s);
/* The mechanism of the current/last exchange as the client named it, upper-cased (for
 * "sasl_method=PLAIN"), or NULL. */
const char *sasl_srv_method(const struct sasl_srv *s);
/* After SASL_RES_OK: the authenticated user (for "sasl_username=user"), else NULL. */
const char *sasl_srv_username(const struct sasl_srv *s);
/* Longest client response line accepted (smtpd_sasl_response_limit). */
size_t sasl_srv_response_limit(const struct sasl_srv *s);
/* Log the end of a failed exchange as Postfix does, namaddr being "name[addr]":
 * "warning: name[addr]: SASL LOGIN authentication failed: <reason>" or, after "*",
 * "warning: name[addr]: SASL LOGIN authentication aborted". */
void sasl_srv_log_failure(const struct sasl_srv *s, const char *namaddr);

/* ---- backends (sasl_dovecot.c, sasl_cyrus.c) ---------------------------------------------- */

/* What the generic layer passes a backend: base64 text already checked (valid, within the
 * limit, free of control characters). The backend fills `reply` with the challenge (base64)
 * for CONTINUE, the reason for FAIL/TEMP, and `user` for OK. */
struct sasl_backend {
    const char *type;
    int (*init)(const struct sasl_srv_settings *s, struct str *why);
    void *(*session_new)(const struct sasl_srv_conn *c, int secflags, struct str *why);
    void (*session_free)(void *sess);
    void (*mechanisms)(void *sess, int secflags, struct str *out);
    int (*start)(void *sess, const char *mech, const char *resp, struct str *reply,
                 struct str *user);
    int (*step)(void *sess, const char *resp, struct str *reply, struct str *user);
    void (*shutdown)(void);
};
extern const struct sasl_backend sasl_dovecot_backend, sasl_cyrus_backend;

#endif
