/* attr: the attribute protocol every Kestrel process speaks over unix sockets.
 *
 * A request or reply is a list of attributes, one per line, "name=value\n", ended by an empty
 * line. Names are [a-z0-9_]+; values are bytes with '%', control characters and DEL written as
 * %XX, so a value can never break the framing. The receiver enforces its own limits (line length,
 * attribute count) and, in strict mode, rejects unknown or missing attributes. On connect, a
 * server first sends one list with "protocol=<service protocol name>".
 * docs/architecture.md, "IPC", is the specification. */
#ifndef KESTREL_BASE_ATTR_H
#define KESTREL_BASE_ATTR_H

#include "base/argv.h"
#include "base/str.h"

#define ATTR_NAME_MAX 64

struct attr_list {
    struct argv *names;
    struct argv *values;
};

struct attr_list *attr_list_new(void);
void attr_list_free(struct attr_list *a);
void attr_list_clear(struct attr_list *a);
void attr_add(struct attr_list *a, const char *name, const char *value);
void attr_addn(struct attr_list *a, const char *name, const char *value, size_t len);
void attr_add_long(struct attr_list *a, const char *name, long value);
/* The first value of name, or NULL. */
const char *attr_get(const struct attr_list *a, const char *name);
/* Parses a decimal value of name into *out; -1 when missing or not a number in [min, max]. */
int attr_get_long(const struct attr_list *a, const char *name, long min, long max, long *out);

/* Encodes the whole list (including the final empty line) onto out. */
void attr_encode(const struct attr_list *a, struct str *out);
/* Decodes one line (without its '\n') into name and value. -1 with err set on bad syntax. */
int attr_decode_line(const char *line, size_t len, struct str *name, struct str *value,
                     struct str *err);

/* Strict checking: every attribute must be in `allowed` (NULL-terminated) and every name in
 * `required` must be present. Returns 0, or -1 with err naming the offending attribute. */
int attr_check(const struct attr_list *a, const char *const *allowed, const char *const *required,
               struct str *err);

#endif
