/* table_pcre: "pcre:/etc/postfix/body_checks" — PCRE2 patterns in Postfix's pattern-file syntax
 * (table_pattern.c). Flags: i (case; default insensitive), m, s, x, A (anchored),
 * E (dollar end only), U (ungreedy), X (accepted; PCRE2 is always strict about escapes). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "table/table_pattern.h"
#include "table/table_types.h"

#include "base/mem.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

struct pcre_re {
    pcre2_code *code;
    pcre2_match_data *md;
};

static const struct {
    char flag;
    uint32_t option;
} pcre_flags[] = {
    {'i', PCRE2_CASELESS}, {'m', PCRE2_MULTILINE},
    {'s', PCRE2_DOTALL},   {'x', PCRE2_EXTENDED},
    {'A', PCRE2_ANCHORED}, {'E', PCRE2_DOLLAR_ENDONLY},
    {'U', PCRE2_UNGREEDY}, {'X', 0},
};

static int parse_flags(const char *flags, uint32_t *options, struct str *err)
{
    *options = PCRE2_CASELESS;
    for (const char *f = flags; *f; f++) {
        size_t i = 0, n = sizeof(pcre_flags) / sizeof(pcre_flags[0]);
        while (i < n && pcre_flags[i].flag != *f)
            i++;
        if (i == n) {
            str_setf(err, "unknown pcre option \"%c\"", *f);
            return -1;
        }
        *options ^= pcre_flags[i].option;
    }
    return 0;
}

static void *pcre_compile(const char *pattern, const char *flags, int *ngroups, struct str *err)
{
    uint32_t options;
    if (parse_flags(flags, &options, err) != 0)
        return NULL;
    int code;
    PCRE2_SIZE offset;
    pcre2_code *c =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &code, &offset, NULL);
    if (c == NULL) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(code, buf, sizeof(buf));
        str_setf(err, "pcre \"%s\": %s at offset %zu", pattern, (char *)buf, (size_t)offset);
        return NULL;
    }
    uint32_t groups = 0;
    pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &groups);
    *ngroups = (int)groups;
    struct pcre_re *re = xmalloc(sizeof(*re));
    re->code = c;
    re->md = pcre2_match_data_create_from_pattern(c, NULL);
    return re;
}

static int pcre_match(void *handle, const char *subject, size_t ov[2 * PATTERN_GROUPS],
                      struct str *err)
{
    struct pcre_re *re = handle;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, strlen(subject), 0, 0, re->md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(rc, buf, sizeof(buf));
        str_setf(err, "pcre match: %s", (char *)buf);
        return -1;
    }
    PCRE2_SIZE *v = pcre2_get_ovector_pointer(re->md);
    uint32_t have = pcre2_get_ovector_count(re->md);
    for (uint32_t i = 0; i < PATTERN_GROUPS; i++) {
        int set = i < have && i < (uint32_t)rc && v[2 * i] != PCRE2_UNSET;
        ov[2 * i] = set ? (size_t)v[2 * i] : PATTERN_UNSET;
        ov[2 * i + 1] = set ? (size_t)v[2 * i + 1] : PATTERN_UNSET;
    }
    return 1;
}

static void pcre_free_re(void *handle)
{
    struct pcre_re *re = handle;
    pcre2_match_data_free(re->md);
    pcre2_code_free(re->code);
    free(re);
}

static const struct pattern_engine pcre_engine = {
    .type = "pcre",
    .compile = pcre_compile,
    .match = pcre_match,
    .free = pcre_free_re,
};

struct table *table_pcre_open(const char *name, int flags, struct str *err)
{
    return table_pattern_open(&pcre_engine, name, flags, err);
}
