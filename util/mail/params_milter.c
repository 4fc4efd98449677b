/* params_milter.c: the Milter (mail filter) client parameters (Postfix 3.7 defaults). */
#include "mail/params.h"

const struct param_def params_milter[] = {
    P_TIME("milter_command_timeout", "30s", 's'),
    P_STR("milter_connect_macros", "j {daemon_name} {daemon_addr} v _"),
    P_TIME("milter_connect_timeout", "30s", 's'),
    P_TIME("milter_content_timeout", "300s", 's'),
    P_STR("milter_data_macros", "i"),
    P_STR("milter_default_action", "tempfail"),
    P_STR("milter_end_of_data_macros", "i"),
    P_STR("milter_end_of_header_macros", "i"),
    P_STR("milter_header_checks", ""),
    P_STR("milter_helo_macros",
          "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}"),
    P_STR("milter_macro_daemon_name", "$myhostname"),
    P_STR("milter_macro_defaults", ""),
    P_STR("milter_macro_v", "$mail_name $mail_version"),
    P_STR("milter_mail_macros",
          "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}"),
    P_STR("milter_protocol", "6"),
    P_STR("milter_rcpt_macros", "i {rcpt_addr} {rcpt_host} {rcpt_mailer}"),
    P_STR("milter_unknown_command_macros", ""),
    P_STR("non_smtpd_milters", ""),
    P_STR("smtpd_milters", ""),
    P_STR("smtpd_milter_maps", ""),
    P_END,
};
