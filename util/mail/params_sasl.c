/* params_sasl.c: the SMTP server SASL parameters (Postfix 3.7 defaults); the client ones are in
 * params_smtp.c. */
#include "mail/params.h"

const struct param_def params_sasl[] = {
    P_BOOL("smtpd_sasl_auth_enable", "no"),
    P_BOOL("smtpd_sasl_authenticated_header", "no"),
    P_STR("smtpd_sasl_exceptions_networks", ""),
    P_STR("smtpd_sasl_local_domain", ""),
    P_STR("smtpd_sasl_mechanism_filter", "!external, static:rest"),
    P_STR("smtpd_sasl_path", "smtpd"),
    P_INT("smtpd_sasl_response_limit", "12288"),
    P_STR("smtpd_sasl_security_options", "noanonymous"),
    P_STR("smtpd_sasl_service", "smtp"),
    P_STR("smtpd_sasl_tls_security_options", "$smtpd_sasl_security_options"),
    P_STR("smtpd_sasl_type", "cyrus"),
    P_BOOL("broken_sasl_auth_clients", "no"),
    P_END,
};

/* sasl_server_types / sasl_client_types (postconf -a/-A) are defined by sasl_server.c, from
 * the backends actually built in. */
