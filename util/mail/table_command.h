/* table_command: the shared body of postmap and postalias — option parsing, main.cf
 * loading, default table types, and the build or the -q/-d/-s/-i operation. The two programs
 * differ only in their source syntax (and postmap's -b/-h message input). */
#ifndef KESTREL_MAIL_TABLE_COMMAND_H
#define KESTREL_MAIL_TABLE_COMMAND_H

#include "table/table_build.h"

struct table_command {
    const char *program; /* "postmap" or "postalias" */
    const char *usage;   /* its usage line */
    struct table_build_opts build;
    const char *config_dir;    /* -c */
    const char *query;         /* -q */
    const char *delete;        /* -d */
    int dump;                  /* -s */
    int incremental;           /* -i */
    int input;                 /* TABLE_TOOL_HEADERS / TABLE_TOOL_BODY (postmap -h/-b) */
    int message_input_allowed; /* postmap accepts -b and -h */
};

/* Parses argv into cmd (program, usage, build.syntax and message_input_allowed set by the
 * caller); returns the index of the first file name. Fatal on a usage error. */
int table_command_parse(int argc, char **argv, struct table_command *cmd);
/* Loads main.cf, then builds or queries the tables named; returns the exit status. */
int table_command_run(const struct table_command *cmd, char **names, int n);

#endif
