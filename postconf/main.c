/* postconf: display and edit main.cf and master.cf, list supported table and SASL types. */
#include "postconf.h"

#include "base/log.h"
#include "mail/config.h"
#include "mail/mastercf.h"
#include "mail/params.h"
#include "table/table.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
    msg_fatal_status(1, "usage: postconf [-aAdfhHmnvx] [-c config_dir] [-e|-X|-#] "
                        "[-M|-F|-P] [name[=value] ...]");
}

static int print_list(const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        printf("%s\n", list[i]);
    return 0;
}

/* Load main.cf; a broken file is fatal (exit 1) with the file and line. */
static void load_config(const char *dir)
{
    struct str err = STR_INIT;
    if (config_load(dir, &err) != 0)
        msg_fatal("%s", err.data);
    str_release(&err);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int flags = 0, edit = 0, mode = 0, list = 0, ch;
    log_init("postconf");
    while ((ch = getopt(argc, argv, "aAc:defhHmMFnPvxX#")) != -1) {
        switch (ch) {
        case 'a':
        case 'A':
        case 'm':
            list = ch;
            break;
        case 'c':
            dir = optarg;
            break;
        case 'd':
            flags |= PC_DEFAULTS;
            break;
        case 'e':
        case 'X':
        case '#':
            if (edit && edit != ch)
                msg_fatal("specify one of -e, -X and -#");
            edit = ch;
            break;
        case 'f':
            flags |= PC_FOLD;
            break;
        case 'h':
            flags |= PC_VALUES;
            break;
        case 'H':
            flags |= PC_NAMES;
            break;
        case 'M':
        case 'F':
        case 'P':
            if (mode && mode != ch)
                msg_fatal("specify one of -M, -F and -P");
            mode = ch;
            break;
        case 'n':
            flags |= PC_NONDEF;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'x':
            flags |= PC_EXPAND;
            break;
        default:
            usage();
        }
    }
    if (list == 'a')
        return print_list(sasl_server_types);
    if (list == 'A')
        return print_list(sasl_client_types);
    if (list == 'm')
        return print_list(table_type_names());
    load_config(dir);
    if (!edit && optind < argc && strchr(argv[optind], '=') != NULL)
        edit = 'e'; /* "postconf name=value" implies -e */
    int status;
    if (mode)
        status = edit ? pc_edit_master(mode, edit, argc - optind, argv + optind)
                      : pc_show_master(mode, flags, argc - optind, argv + optind);
    else
        status = edit ? pc_edit_main(edit, argc - optind, argv + optind)
                      : pc_show_main(flags, argc - optind, argv + optind);
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("error writing standard output");
    return status;
}
