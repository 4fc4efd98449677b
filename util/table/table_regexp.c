/* table_regexp: "regexp:/etc/postfix/header_checks" — POSIX regular expressions (regcomp) in
 * Postfix's pattern-file syntax (table_pattern.c). Flags: i (case; default insensitive),
 * x (extended syntax; default on), m (newline-sensitive; default off). */
#include "table/table_pattern.h"
#include "table/table_types.h"

#include "base/mem.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

static void *regexp_compile(const char *pattern, const char *flags, int *ngroups, struct str *err)
{
    int cflags = REG_EXTENDED | REG_ICASE;
    for (const char *f = flags; *f; f++) {
        switch (*f) {
        case 'i':
            cflags ^= REG_ICASE;
            break;
        case 'x':
            cflags ^= REG_EXTENDED;
            break;
        case 'm':
            cflags ^= REG_NEWLINE;
            break;
        default:
            str_setf(err, "unknown regexp option \"%c\"", *f);
            return NULL;
        }
    }
    regex_t *re = xmalloc(sizeof(*re));
    int rc = regcomp(re, pattern, cflags);
    if (rc != 0) {
        char buf[256];
        regerror(rc, re, buf, sizeof(buf));
        str_setf(err, "regexp \"%s\": %s", pattern, buf);
        free(re);
        return NULL;
    }
    *ngroups = (int)re->re_nsub;
    return re;
}

static int regexp_match(void *handle, const char *subject, size_t ov[2 * PATTERN_GROUPS],
                        struct str *err)
{
    regmatch_t m[PATTERN_GROUPS];
    int rc = regexec(handle, subject, PATTERN_GROUPS, m, 0);
    if (rc == REG_NOMATCH)
        return 0;
    if (rc != 0) {
        char buf[256];
        regerror(rc, handle, buf, sizeof(buf));
        str_setf(err, "regexec: %s", buf);
        return -1;
    }
    for (int i = 0; i < PATTERN_GROUPS; i++) {
        ov[2 * i] = m[i].rm_so < 0 ? PATTERN_UNSET : (size_t)m[i].rm_so;
        ov[2 * i + 1] = m[i].rm_eo < 0 ? PATTERN_UNSET : (size_t)m[i].rm_eo;
    }
    return 1;
}

static void regexp_free(void *handle)
{
    regfree(handle);
    free(handle);
}

static const struct pattern_engine regexp_engine = {
    .type = "regexp",
    .compile = regexp_compile,
    .match = regexp_match,
    .free = regexp_free,
};

struct table *table_regexp_open(const char *name, int flags, struct str *err)
{
    return table_pattern_open(&regexp_engine, name, flags, err);
}
