/* postalias: Postfix alias database maintenance — builds alias tables from aliases(5) source
 * files ("name: value, ...") and queries, lists, updates or deletes their entries. */
#include "mail/table_command.h"

int main(int argc, char **argv)
{
    struct table_command cmd = {
        .program = "postalias",
        .usage = "postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key] "
                 "[file_type:]file_name...",
        .build.syntax = TABLE_SYNTAX_ALIASES,
    };
    int first = table_command_parse(argc, argv, &cmd);
    return table_command_run(&cmd, argv + first, argc - first);
}
