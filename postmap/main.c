/* postmap: Postfix lookup table management — builds indexed tables from "key value" source
 * files and queries, lists, updates or deletes entries of any table type. */
#include "mail/table_command.h"

int main(int argc, char **argv)
{
    struct table_command cmd = {
        .program = "postmap",
        .usage = "postmap [-Nbfhimnoprsuvw] [-c config_dir] [-d key] [-q key] [map_type:]file...",
        .build.syntax = TABLE_SYNTAX_MAP,
        .message_input_allowed = 1,
    };
    int first = table_command_parse(argc, argv, &cmd);
    return table_command_run(&cmd, argv + first, argc - first);
}
