/* params_local.c: the local delivery agent parameters: aliases, .forward, mailbox delivery and its
 * limits (Postfix 3.7 defaults). */
#include "mail/params.h"

const struct param_def params_local[] = {
    P_STR("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps"),
    P_STR("home_mailbox", ""),
    P_STR("mailbox_command", ""),
    P_STR("mailbox_command_maps", ""),
    P_STR("mailbox_transport", ""),
    P_STR("mailbox_transport_maps", ""),
    P_STR("mailbox_delivery_lock", "fcntl, dotlock"),
    P_SIZE("mailbox_size_limit", "51200000"),
    P_STR("luser_relay", ""),
    P_STR("allow_mail_to_commands", "alias, forward"),
    P_STR("allow_mail_to_files", "alias, forward"),
    P_STR("command_expansion_filter",
          "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    P_STR("execution_directory_expansion_filter",
          "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    P_STR("forward_expansion_filter",
          "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    P_STR("forward_path", "$home/.forward${recipient_delimiter}${extension}, $home/.forward"),
    P_STR("command_execution_directory", ""),
    P_STR("local_command_shell", ""),
    P_STR("local_delivery_status_filter", "$default_delivery_status_filter"),
    P_STR("pipe_delivery_status_filter", "$default_delivery_status_filter"),
    P_BOOL("require_home_directory", "no"),
    P_BOOL("strict_mailbox_ownership", "yes"),
    P_STR("prepend_delivered_header", "command, file, forward"),
    P_INT("local_destination_concurrency_limit", "2"),
    P_INT("local_destination_recipient_limit", "1"),
    P_END,
};
