/* params_virtual.c: the virtual alias and virtual mailbox parameters (Postfix 3.7 defaults). */
#include "mail/params.h"

const struct param_def params_virtual[] = {
    P_STR("virtual_alias_maps", "$virtual_maps"),
    P_STR("virtual_maps", ""),
    P_STR("virtual_alias_domains", "$virtual_alias_maps"),
    P_INT("virtual_alias_address_length_limit", "1000"),
    P_INT("virtual_alias_expansion_limit", "1000"),
    P_INT("virtual_alias_recursion_limit", "1000"),
    P_STR("virtual_mailbox_base", ""),
    P_STR("virtual_mailbox_domains", "$virtual_mailbox_maps"),
    P_STR("virtual_mailbox_maps", ""),
    P_SIZE("virtual_mailbox_limit", "51200000"),
    P_STR("virtual_mailbox_lock", "fcntl, dotlock"),
    P_STR("virtual_uid_maps", ""),
    P_STR("virtual_gid_maps", ""),
    P_INT("virtual_minimum_uid", "100"),
    P_STR("virtual_delivery_status_filter", "$default_delivery_status_filter"),
    P_INT("virtual_destination_concurrency_limit", "$default_destination_concurrency_limit"),
    P_INT("virtual_destination_recipient_limit", "$default_destination_recipient_limit"),
    P_END,
};
