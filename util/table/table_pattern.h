/* table_pattern: the Postfix pattern-table file syntax shared by regexp: and pcre:
 *   /pattern/flags result      !/pattern/ result      if /pattern/flags ... endif
 * first match wins; $1..$9, ${1} and $$ in results. An engine supplies compile and match. */
#ifndef KESTREL_TABLE_PATTERN_H
#define KESTREL_TABLE_PATTERN_H

#include "table/table.h"

#include <stddef.h>

#define PATTERN_GROUPS 10 /* $0..$9 */
#define PATTERN_UNSET ((size_t)-1)

struct pattern_engine {
    const char *type; /* "regexp", "pcre" */
    /* Compiles pattern with the flag letters after the closing delimiter; sets *ngroups to the
     * number of capture groups. NULL with err set on failure (unknown flag, bad pattern). */
    void *(*compile)(const char *pattern, const char *flags, int *ngroups, struct str *err);
    /* 1 match (ov[2*i], ov[2*i+1]: group i offsets or PATTERN_UNSET), 0 no match, -1 error. */
    int (*match)(void *re, const char *subject, size_t ov[2 * PATTERN_GROUPS], struct str *err);
    void (*free)(void *re);
};

struct table *table_pattern_open(const struct pattern_engine *eng, const char *name, int flags,
                                 struct str *err);

#endif
