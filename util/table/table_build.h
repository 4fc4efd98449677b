/* table_build: building and updating indexed tables from source text, as postmap and postalias
 * (and sendmail -bi / newaliases) do:
 *   postmap syntax:  key whitespace value
 *   aliases syntax:  name: value, value, ...   ("quoted name": value)
 * A build writes a new file and renames it over the old one only when the whole source was read
 * without error, so a failed build changes nothing. */
#ifndef KESTREL_TABLE_BUILD_H
#define KESTREL_TABLE_BUILD_H

#include "table/table.h"
#include "table/table_source.h"

#include <stdio.h>

enum table_syntax { TABLE_SYNTAX_MAP, TABLE_SYNTAX_ALIASES };

struct table_build_opts {
    enum table_syntax syntax;
    int fold;         /* lowercase keys (default on; -f turns it off) */
    int nul;          /* 1: -N (keys/values with NUL), 0: -n / default */
    int replace;      /* -r: a duplicate replaces the earlier entry */
    int quiet;        /* -w: duplicates are dropped without a warning */
    int default_mode; /* -p: mode 0644 instead of the source's read permissions */
    int keep_root;    /* -o: do not give a root-built file to the source file's owner */
};

/* Reads the next record. 1 (key/value set; *lineno its line), 0 at the end, -1 err set.
 * Malformed lines are warned about ("file, line N: ...") and skipped. */
int table_build_next(struct table_source *src, const struct table_build_opts *o, struct str *key,
                     struct str *value, int *lineno, struct str *err);
/* The TABLE_FLAG_* used to open the output table. */
int table_build_flags(const struct table_build_opts *o);
/* Builds "type:name" from the file name (aliases: also stores "@" -> "@"). 0 or -1 (err). */
int table_build(const char *spec, const struct table_build_opts *o, struct str *err);
/* Adds the records read from in (postmap -i / postalias -i) to an existing or new table. */
int table_build_incremental(const char *spec, FILE *in, const struct table_build_opts *o,
                            struct str *err);

#endif
