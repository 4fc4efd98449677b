/* table_source: reading Postfix table source files as logical lines: a line that starts with
 * white space continues the previous one, blank lines and lines whose first non-blank byte is
 * '#' are skipped. Used by postmap, postalias, texthash:, regexp:, pcre: and cidr:. */
#ifndef KESTREL_TABLE_SOURCE_H
#define KESTREL_TABLE_SOURCE_H

#include "base/str.h"

#include <stdio.h>

/* Longest logical line accepted (bytes). */
#define TABLE_SOURCE_LINE_LIMIT (1024 * 1024)

struct table_source {
    FILE *fp;
    char *path;
    int lineno;      /* physical lines read so far */
    int start;       /* first physical line of the logical line last returned */
    struct str next; /* a physical line read ahead */
    int have_next;
    int eof;
    int owned; /* fclose at close */
};

/* path "-" reads standard input. Returns 0, or -1 with err set ("open /x: No such file"). */
int table_source_open(struct table_source *src, const char *path, struct str *err);
/* Wraps an open stream (not closed by table_source_close). */
void table_source_init_stream(struct table_source *src, FILE *fp, const char *name);
/* Next logical line (trailing white space removed) into line. Returns 1, 0 at end of file,
 * or -1 with err set ("/x, line 3: ...") for a NUL byte, an over-long line or a read error. */
int table_source_next(struct table_source *src, struct str *line, struct str *err);
void table_source_close(struct table_source *src);

/* Splits "key whitespace value": key and value (both trimmed). Returns 0, or -1 when there is
 * no white space after the key (value missing). */
int table_source_split(const char *line, struct str *key, struct str *value);

#endif
