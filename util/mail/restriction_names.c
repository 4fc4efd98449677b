/* restriction_names: the table of smtpd access restriction names (generic, client, HELO,
 * sender, recipient, ETRN and data restrictions), including deprecated spellings that older
 * configurations still use. */
#include "mail/restriction_names.h"

#include <string.h>

#define NONE RESTRICTION_ARG_NONE
#define TABLE RESTRICTION_ARG_TABLE
#define DOMAIN RESTRICTION_ARG_DOMAIN
#define SERVICE RESTRICTION_ARG_SERVICE
#define NUMBER RESTRICTION_ARG_NUMBER

const struct restriction_name restriction_names[] = {
    /* Generic. */
    {"permit", NONE},
    {"reject", NONE},
    {"defer", NONE},
    {"defer_if_permit", NONE},
    {"defer_if_reject", NONE},
    {"warn_if_reject", NONE},
    {"reject_unauth_pipelining", NONE},
    {"reject_plaintext_session", NONE},
    {"reject_multi_recipient_bounce", NONE},
    {"check_policy_service", SERVICE},
    {"sleep", NUMBER},
    /* Client. */
    {"check_client_access", TABLE},
    {"check_client_a_access", TABLE},
    {"check_client_mx_access", TABLE},
    {"check_client_ns_access", TABLE},
    {"check_reverse_client_hostname_access", TABLE},
    {"check_reverse_client_hostname_a_access", TABLE},
    {"check_reverse_client_hostname_mx_access", TABLE},
    {"check_reverse_client_hostname_ns_access", TABLE},
    {"check_ccert_access", TABLE},
    {"check_sasl_access", TABLE},
    {"permit_inet_interfaces", NONE},
    {"permit_mynetworks", NONE},
    {"permit_sasl_authenticated", NONE},
    {"permit_tls_all_clientcerts", NONE},
    {"permit_tls_clientcerts", NONE},
    {"permit_dnswl_client", DOMAIN},
    {"permit_rhswl_client", DOMAIN},
    {"reject_rbl_client", DOMAIN},
    {"reject_rhsbl_client", DOMAIN},
    {"reject_rhsbl_reverse_client", DOMAIN},
    {"reject_unknown_client_hostname", NONE},
    {"reject_unknown_reverse_client_hostname", NONE},
    {"reject_unknown_client", NONE}, /* deprecated */
    {"reject_maps_rbl", NONE},       /* deprecated */
    /* HELO. */
    {"check_helo_access", TABLE},
    {"check_helo_a_access", TABLE},
    {"check_helo_mx_access", TABLE},
    {"check_helo_ns_access", TABLE},
    {"reject_invalid_helo_hostname", NONE},
    {"reject_non_fqdn_helo_hostname", NONE},
    {"reject_unknown_helo_hostname", NONE},
    {"reject_rhsbl_helo", DOMAIN},
    {"reject_invalid_hostname", NONE},  /* deprecated */
    {"reject_non_fqdn_hostname", NONE}, /* deprecated */
    {"reject_unknown_hostname", NONE},  /* deprecated */
    {"permit_naked_ip_address", NONE},  /* deprecated */
    /* Sender. */
    {"check_sender_access", TABLE},
    {"check_sender_a_access", TABLE},
    {"check_sender_mx_access", TABLE},
    {"check_sender_ns_access", TABLE},
    {"reject_authenticated_sender_login_mismatch", NONE},
    {"reject_known_sender_login_mismatch", NONE},
    {"reject_sender_login_mismatch", NONE},
    {"reject_unauthenticated_sender_login_mismatch", NONE},
    {"reject_non_fqdn_sender", NONE},
    {"reject_rhsbl_sender", DOMAIN},
    {"reject_unknown_sender_domain", NONE},
    {"reject_unlisted_sender", NONE},
    {"reject_unverified_sender", NONE},
    /* Recipient. */
    {"check_recipient_access", TABLE},
    {"check_recipient_a_access", TABLE},
    {"check_recipient_mx_access", TABLE},
    {"check_recipient_ns_access", TABLE},
    {"permit_auth_destination", NONE},
    {"permit_mx_backup", NONE},
    {"reject_unauth_destination", NONE},
    {"defer_unauth_destination", NONE},
    {"reject_non_fqdn_recipient", NONE},
    {"reject_rhsbl_recipient", DOMAIN},
    {"reject_unknown_recipient_domain", NONE},
    {"reject_unlisted_recipient", NONE},
    {"reject_unverified_recipient", NONE},
    {"check_recipient_maps", NONE},   /* deprecated spelling of reject_unlisted_recipient */
    {"check_relay_domains", NONE},    /* deprecated */
    {"reject_unknown_address", NONE}, /* deprecated */
    {NULL, NONE},
};

const char *const restriction_list_params[] = {
    "smtpd_client_restrictions",      "smtpd_helo_restrictions",      "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",       "smtpd_recipient_restrictions", "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions", "smtpd_etrn_restrictions",      NULL,
};

const struct restriction_name *restriction_lookup(const char *name)
{
    for (const struct restriction_name *r = restriction_names; r->name; r++)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}
