/* config_parse: the main.cf grammar (logical lines, comments, name = value) shared by the
 * loader and the editor. */
#ifndef KESTREL_MAIL_CONFIG_PARSE_H
#define KESTREL_MAIL_CONFIG_PARSE_H

#include "base/str.h"

#include <stddef.h>

/* Called for each setting; value is trimmed. A non-zero return stops the parse. */
typedef int (*config_setting_fn)(const char *name, const char *value, int line, void *ctx);

/* Parse main.cf text; 0, or -1 with "<path>, line N: reason" in err. */
int config_parse(const char *path, const char *text, size_t len, config_setting_fn fn, void *ctx,
                 struct str *err);

/* One logical line: physical lines [first, end) of the text, starting at line number `line`. */
struct config_lline {
    size_t start, end; /* byte offsets of the group of physical lines */
    int line;
    int is_setting; /* not a comment or blank line */
};
/* Split text into groups: a setting line with its continuation lines, or a single
 * comment/blank line. Returns the count; *out is allocated (caller frees). */
size_t config_split_lines(const char *text, size_t len, struct config_lline **out);
/* The name of a setting group (up to white space or '='), into name. */
void config_lline_name(const char *text, const struct config_lline *l, struct str *name);

#endif
