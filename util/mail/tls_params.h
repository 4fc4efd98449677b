/* tls_params: the TLS settings of the SMTP server and client as plain structs. tls_params.c
 * fills them from main.cf (smtpd_tls_* / smtp_tls_* or lmtp_tls_*); tests and tools fill them
 * by hand. Strings are owned by the struct; NULL and "" both mean "not set". */
#ifndef KESTREL_MAIL_TLS_PARAMS_H
#define KESTREL_MAIL_TLS_PARAMS_H

#include "mail/tls_misc.h"

/* Settings both roles share. */
struct tls_common_params {
    int loglevel;                   /* 0..4 */
    char *cert_file, *key_file;     /* RSA (or any) certificate and key */
    char *eccert_file, *eckey_file; /* ECDSA */
    char *dcert_file, *dkey_file;   /* DSA */
    char *chain_files;              /* list: each file keys followed by their chains */
    char *CAfile, *CApath;
    char *protocols, *mandatory_protocols;
    char *ciphers, *mandatory_ciphers; /* grades */
    char *exclude_ciphers, *mandatory_exclude_ciphers;
    struct tls_cipherlists lists; /* tls_{export,low,medium,high,null}_cipherlist (owned) */
    char *fingerprint_digest;
    char *cache_database; /* "btree:/path" or empty */
    long cache_timeout;   /* seconds */
    int verify_depth;
    int preempt_cipherlist;
};

struct tls_server_params {
    struct tls_common_params c;
    int level; /* TLS_LEV_NONE, MAY, ENCRYPT */
    int ask_ccert, req_ccert;
    int received_header;
    int tickets; /* session tickets (tls_session_ticket_cipher not empty) */
    int wrappermode;
    int auth_only;
};

struct tls_client_params {
    struct tls_common_params c;
    int level;
    char *servername;        /* smtp_tls_servername: "", hostname, nexthop or a name */
    char *verify_cert_match; /* smtp_tls_verify_cert_match */
    char *secure_cert_match; /* smtp_tls_secure_cert_match */
    char *fingerprint_match; /* smtp_tls_fingerprint_cert_match */
    char *policy_maps;       /* smtp_tls_policy_maps (the caller looks them up) */
    int wrappermode;
};

/* From main.cf (config_get): "smtpd" for the server; "smtp" or "lmtp" for the client. Returns
 * 0, or -1 with err set (invalid security level). */
int tls_server_params_load(struct tls_server_params *p, struct str *err);
int tls_client_params_load(struct tls_client_params *p, const char *prefix, struct str *err);
/* Postfix defaults without main.cf, for tests (level none). */
void tls_server_params_defaults(struct tls_server_params *p);
void tls_client_params_defaults(struct tls_client_params *p);
void tls_server_params_free(struct tls_server_params *p);
void tls_client_params_free(struct tls_client_params *p);
/* Replace a string field: free the old value, store a copy (NULL allowed). */
void tls_param_set(char **field, const char *value);

#endif
