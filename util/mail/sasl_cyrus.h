/* sasl_cyrus: helpers shared by the Cyrus SASL server backend (sasl_cyrus.c) and the Cyrus
 * client (sasl_client.c): library log routing, security-option mapping, connection properties. */
#ifndef KESTREL_MAIL_SASL_CYRUS_H
#define KESTREL_MAIL_SASL_CYRUS_H

#include <sasl/sasl.h>

/* SASL_CB_LOG callback: errors and failures as warnings, the rest only when verbose. */
int sasl_cyrus_log(void *context, int level, const char *message);
/* SECOPT_* flags (sasl_server.h) to the library's SASL_SEC_* flags. */
unsigned sasl_cyrus_secflags(int secflags);
/* Security properties (authentication only, no security layer) and, when ssf > 0, the external
 * (TLS) strength. 0 or -1. */
int sasl_cyrus_set_props(sasl_conn_t *conn, int secflags, int ssf);

#endif
