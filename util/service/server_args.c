/* server_args: parsing of the standard service options (see server_args.h). */
#include "service/server_args.h"

#include "base/log.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int parse_count(const char *text, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == 0 || *end || v < 0 || v > 64)
        return -1;
    *out = (int)v;
    return 0;
}

int server_parse_args(int argc, char **argv, struct server_args *args)
{
    memset(args, 0, sizeof(*args));
    const char *slash = strrchr(argv[0], '/');
    args->service = slash ? slash + 1 : argv[0];
    args->type = "unix";
    args->overrides = argv_new();
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "+n:t:s:o:ucSvzdl")) != -1) {
        switch (c) {
        case 'n':
            args->service = optarg;
            break;
        case 't':
            args->type = optarg;
            break;
        case 's':
            if (parse_count(optarg, &args->listen_count) < 0) {
                msg_error("bad listener count: %s", optarg);
                return -1;
            }
            break;
        case 'o':
            if (strchr(optarg, '=') == NULL) {
                msg_error("-o %s: expected name=value", optarg);
                return -1;
            }
            argv_add(args->overrides, optarg);
            break;
        case 'u':
            args->unprivileged = 1;
            break;
        case 'c':
            args->chroot = 1;
            break;
        case 'S':
            args->standalone = 1;
            break;
        case 'v':
            args->verbose++;
            break;
        case 'z': /* accepted for compatibility, no effect */
        case 'd':
        case 'l':
            break;
        default:
            msg_error("usage: %s [-n service] [-t type] [-s count] [-o name=value] [-ucSv]",
                      argv[0]);
            return -1;
        }
    }
    args->argc = argc - optind;
    args->argv = argv + optind;
    return 0;
}

void server_args_release(struct server_args *args)
{
    argv_free(args->overrides);
    args->overrides = NULL;
}
