/* table_command: postmap and postalias in one place (see table_command.h). */
#include "mail/table_command.h"

#include "base/argv.h"
#include "base/log.h"
#include "base/str.h"
#include "mail/config.h"
#include "table/table.h"
#include "table/table_tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(const struct table_command *o)
{
    msg_fatal("usage: %s", o->usage);
}

static void parse_options(int argc, char **argv, struct table_command *o)
{
    int c;
    o->build.fold = 1;
    const char *optstring =
        o->message_input_allowed ? "Nbc:d:fhimnopq:rsuvw" : "Nc:d:fimnopq:rsuvw";
    optind = 1;
    while ((c = getopt(argc, argv, optstring)) != -1) {
        switch (c) {
        case 'N':
            o->build.nul = 1;
            break;
        case 'n':
            o->build.nul = 0;
            break;
        case 'b':
            o->input |= TABLE_TOOL_BODY;
            break;
        case 'h':
            o->input |= TABLE_TOOL_HEADERS;
            break;
        case 'c':
            o->config_dir = optarg;
            break;
        case 'd':
            o->delete = optarg;
            break;
        case 'f':
            o->build.fold = 0;
            break;
        case 'i':
            o->incremental = 1;
            break;
        case 'o':
            o->build.keep_root = 1;
            break;
        case 'p':
            o->build.default_mode = 1;
            break;
        case 'q':
            o->query = optarg;
            break;
        case 'r':
            o->build.replace = 1;
            break;
        case 's':
            o->dump = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'w':
            o->build.quiet = 1;
            break;
        case 'm': /* MIME parsing with -b/-h: accepted, MIME structure is not yet interpreted */
        case 'u': /* SMTPUTF8: keys are handled as bytes */
            break;
        default:
            usage(o);
        }
    }
    if ((o->query != NULL) + (o->delete != NULL) + o->dump + o->incremental > 1)
        msg_fatal("specify only one of -d, -i, -q or -s");
    if (o->input && (o->query == NULL || strcmp(o->query, "-") != 0))
        msg_fatal("-b and -h require -q -");
}

int table_command_parse(int argc, char **argv, struct table_command *cmd)
{
    log_init(cmd->program);
    parse_options(argc, argv, cmd);
    if (optind >= argc)
        usage(cmd);
    return optind;
}

static const char *default_type(void)
{
    const char *type = config_get("default_database_type");
    return type && *type ? type : "hash";
}

/* "type:name", with the default type for plain file names. */
static struct argv *table_specs(char **names, int n)
{
    struct argv *specs = argv_new();
    for (int i = 0; i < n; i++) {
        const char *colon = strchr(names[i], ':');
        const char *slash = strchr(names[i], '/');
        if (colon && (slash == NULL || colon < slash)) {
            argv_add(specs, names[i]);
        } else {
            struct str s = STR_INIT;
            str_setf(&s, "%s:%s", default_type(), names[i]);
            argv_add_owned(specs, str_steal(&s));
        }
    }
    return specs;
}

/* Runs -q/-d/-s; returns the exit status. */
static int run_tool(const struct table_command *o, struct argv *specs)
{
    struct str err = STR_INIT;
    int flags = TABLE_FLAG_LOCK | (o->build.fold ? TABLE_FLAG_FOLD_KEY : 0);
    int rc;
    if (o->query && strcmp(o->query, "-") == 0)
        rc = table_tool_query_stream(specs->v, specs->n, flags, o->input, stdin, stdout, &err);
    else if (o->query)
        rc = table_tool_query(specs->v, specs->n, flags, o->query, stdout, &err);
    else if (o->delete)
        rc = table_tool_delete(specs->v, specs->n, flags | table_build_flags(&o->build), o->delete,
                               stdin, &err);
    else
        rc = table_tool_dump(specs->v, specs->n, flags, stdout, &err);
    fflush(stdout);
    if (rc < 0)
        msg_fatal("%s", str_cstr(&err));
    str_release(&err);
    return rc;
}

static void build_all(const struct table_command *o, const struct argv *specs)
{
    struct str err = STR_INIT;
    for (size_t i = 0; i < specs->n; i++) {
        int rc = o->incremental ? table_build_incremental(specs->v[i], stdin, &o->build, &err)
                                : table_build(specs->v[i], &o->build, &err);
        if (rc != 0)
            msg_fatal("%s", str_cstr(&err));
    }
    str_release(&err);
}

int table_command_run(const struct table_command *cmd, char **names, int n)
{
    struct str err = STR_INIT;
    if (config_load(cmd->config_dir, &err) != 0)
        msg_fatal("%s", str_cstr(&err));
    str_release(&err);
    struct argv *specs = table_specs(names, n);
    int status = 0;
    if (cmd->query || cmd->delete || cmd->dump)
        status = run_tool(cmd, specs);
    else
        build_all(cmd, specs);
    argv_free(specs);
    return status;
}
