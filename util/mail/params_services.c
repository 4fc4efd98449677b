/* params_services.c: per-service parameters of the delivery agents in the shipped master.cf (the
 * registry adds those of other master.cf services). */
#include "mail/params.h"

const struct param_def params_services[] = {
    P_INT("smtp_destination_concurrency_limit", "$default_destination_concurrency_limit"),
    P_INT("smtp_destination_recipient_limit", "$default_destination_recipient_limit"),
    P_INT("lmtp_destination_concurrency_limit", "$default_destination_concurrency_limit"),
    P_INT("lmtp_destination_recipient_limit", "$default_destination_recipient_limit"),
    P_INT("relay_destination_concurrency_limit", "$default_destination_concurrency_limit"),
    P_INT("relay_destination_recipient_limit", "$default_destination_recipient_limit"),
    P_INT("error_destination_concurrency_limit", "$default_destination_concurrency_limit"),
    P_INT("error_destination_recipient_limit", "$default_destination_recipient_limit"),
    P_INT("retry_destination_concurrency_limit", "$default_destination_concurrency_limit"),
    P_INT("retry_destination_recipient_limit", "$default_destination_recipient_limit"),
    P_INT("discard_destination_concurrency_limit", "$default_destination_concurrency_limit"),
    P_INT("discard_destination_recipient_limit", "$default_destination_recipient_limit"),
    P_END,
};
