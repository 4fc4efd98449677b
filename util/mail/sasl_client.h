/* sasl_client: client-side SASL for the smtp client over the Cyrus SASL library (PLAIN, LOGIN
 * and whatever plugins are installed). The caller looks up the credentials
 * (smtp_sasl_password_maps) and drives SMTP; this module picks the mechanism from the server's
 * EHLO AUTH list (after smtp_sasl_mechanism_filter and the security options), builds the AUTH
 * command with its initial response, and answers each 334 challenge. */
#ifndef KESTREL_MAIL_SASL_CLIENT_H
#define KESTREL_MAIL_SASL_CLIENT_H

#include "base/str.h"

struct sasl_cli_params {
    const char *server_mechs; /* the EHLO AUTH list, e.g. "PLAIN LOGIN CRAM-MD5" */
    const char *username;     /* from smtp_sasl_password_maps */
    const char *password;
    const char *mechanism_filter; /* smtp_sasl_mechanism_filter ("" = no filter) */
    const char *security_options; /* smtp_sasl_security_options or the TLS variant */
    const char *service;          /* "smtp" (NULL: "smtp") */
    const char *server_name;      /* the server's host name (NULL: "localhost") */
    const char *local_addr, *local_port, *remote_addr, *remote_port; /* may be NULL */
    int send_authzid;                                                /* send_cyrus_sasl_authzid */
    int tls_ssf; /* TLS strength when TLS is active, else 0 */
};

struct sasl_cli;

/* Keep the server mechanisms that the filter names (case-insensitive; an empty filter keeps
 * all) into out, space-separated. Returns the number kept. */
int sasl_cli_filter(const char *server_mechs, const char *filter, struct str *out);

/* NULL with the reason in why (bad security options, library failure). */
struct sasl_cli *sasl_cli_new(const struct sasl_cli_params *p, struct str *why);
void sasl_cli_free(struct sasl_cli *c);
/* The AUTH command to send, "AUTH PLAIN <base64>" ("=" for an empty initial response) or
 * "AUTH LOGIN". 0, or -1 with the reason (e.g. no mechanism left after the filter, or none
 * the library allows under the security options). */
int sasl_cli_start(struct sasl_cli *c, struct str *command, struct str *why);
/* Answer a challenge (the base64 text after "334 "): the base64 response line to send.
 * 0, or -1 with the reason. */
int sasl_cli_step(struct sasl_cli *c, const char *challenge, struct str *response, struct str *why);
/* The chosen mechanism (after sasl_cli_start), or NULL. */
const char *sasl_cli_mechanism(const struct sasl_cli *c);

#endif
