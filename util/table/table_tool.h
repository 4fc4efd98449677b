/* table_tool: the query, dump and delete operations of postmap and postalias (-q, -s, -d),
 * writing results to a stream in postmap's shapes. Errors are returned, never fatal. */
#ifndef KESTREL_TABLE_TOOL_H
#define KESTREL_TABLE_TOOL_H

#include "base/str.h"

#include <stddef.h>
#include <stdio.h>

/* How "-q -" reads keys from standard input. */
enum table_tool_input {
    TABLE_TOOL_LINES = 0,        /* one key per line */
    TABLE_TOOL_HEADERS = 1 << 0, /* -h: each logical message header line is a key */
    TABLE_TOOL_BODY = 1 << 1,    /* -b: each message body line is a key */
};

/* Prints the value of key from the first table that has it. Returns 0 found, 1 not found,
 * -1 error (err set). */
int table_tool_query(char **specs, size_t n, int flags, const char *key, FILE *out,
                     struct str *err);
/* "-q -": keys from in; prints "key<TAB>value" for each key found. 0 if any found, 1 none, -1. */
int table_tool_query_stream(char **specs, size_t n, int flags, int input, FILE *in, FILE *out,
                            struct str *err);
/* -s: prints "key<TAB>value" for every entry of every table. 0 or -1. */
int table_tool_dump(char **specs, size_t n, int flags, FILE *out, struct str *err);
/* -d: removes key (or, with key "-", the keys read from in) from every table. 0 if something
 * was removed, 1 if not, -1 error. */
int table_tool_delete(char **specs, size_t n, int flags, const char *key, FILE *in,
                      struct str *err);

#endif
