/* config: main.cf, the parameters every program reads. Loading parses the file (Postfix
 * grammar: name = value, continuation lines, comments); lookups expand $name, ${name},
 * $(name), ${name?value}, ${name:value}, ${name?{a}:{b}} lazily with loop detection.
 * A name's value comes from, in order: config_override(), main.cf, the built-in default. */
#ifndef KESTREL_MAIL_CONFIG_H
#define KESTREL_MAIL_CONFIG_H

#include "base/argv.h"
#include "base/str.h"

/* Largest main.cf, logical line and expanded value accepted, and the $ nesting limit. */
#define CONFIG_MAX_FILE (64L * 1024 * 1024)
#define CONFIG_MAX_LINE (4L * 1024 * 1024)
#define CONFIG_MAX_VALUE (16L * 1024 * 1024)
#define CONFIG_MAX_DEPTH 100

/* NULL dir: $MAIL_CONFIG, else the built-in default. Reads <dir>/main.cf (and registers the
 * per-service parameters of <dir>/master.cf). Returns 0, or -1 with the reason in err
 * ("<path>, line N: ..."); on failure the previous configuration is kept. */
int config_load(const char *config_dir, struct str *err);
/* Parse main.cf text (for tests and tools): replaces the settings; path is used in messages. */
int config_load_text(const char *path, const char *text, size_t len, struct str *err);
const char *config_directory(void);                        /* the directory actually loaded */
const char *config_file(void);                             /* its main.cf path */
void config_override(const char *name, const char *value); /* -o name=value */
/* Expanded value; NULL if the name is neither known nor set. A $ loop is fatal. */
const char *config_get(const char *name);
/* Unexpanded value; NULL if the name is neither known nor set. */
const char *config_get_raw(const char *name);
/* Same as config_get, but an expansion error returns NULL with the reason in err. */
const char *config_get_checked(const char *name, struct str *err);
int config_get_bool(const char *name);
long config_get_int(const char *name);
long config_get_time(const char *name); /* seconds */
long long config_get_size(const char *name);
/* Expand $name references in text; 0, or -1 with the reason in err. */
int config_expand(const char *text, struct str *out, struct str *err);

/* Value conversions behind the typed getters: 0 on success, -1 on bad input. */
int config_parse_bool(const char *text, int *out);
int config_parse_int(const char *text, long *out);
int config_parse_time(const char *text, char unit, long *out);
int config_parse_size(const char *text, long long *out);

/* Ignore main.cf and overrides: every lookup sees built-in defaults (postconf -d). */
void config_defaults_only(int on);
/* Names set in main.cf, sorted (caller frees); the value and line of one of them. */
struct argv *config_set_names(void);
const char *config_set_value(const char *name); /* NULL if not set in main.cf */
int config_set_line(const char *name);
/* Warn "<main.cf>: unused parameter: name=value" for names set in main.cf that are neither
 * known, nor referenced as $name in any value, nor a restriction class, nor in `used`. */
void config_warn_unused(const struct argv *used);
/* Collect the names referenced as $name/${name...}/$(name) in text into names. */
void config_collect_refs(const char *text, struct argv *names);
/* Forget everything loaded (tests). */
void config_reset(void);

/* main.cf editing (config_edit.c), atomically through a temporary file and rename(). */
enum config_edit_op { CONFIG_EDIT_SET, CONFIG_EDIT_REMOVE, CONFIG_EDIT_COMMENT };
/* Append the lines of [s, e) to out, each prefixed with '#' (ends with a newline). */
void config_comment_out(struct str *out, const char *s, const char *e);
struct config_edit {
    const char *name;
    const char *value; /* CONFIG_EDIT_SET only */
};
/* Apply edits to text: SET replaces the first setting of a name (dropping later ones) or
 * appends it; REMOVE deletes every setting; COMMENT puts '#' before each of its lines. */
void config_edit_text(const char *text, size_t len, enum config_edit_op op,
                      const struct config_edit *edits, size_t count, struct str *out);
int config_edit_file(const char *path, enum config_edit_op op, const struct config_edit *edits,
                     size_t count, struct str *err);
/* Replace a file's contents atomically (temporary file in the same directory + rename),
 * keeping its permissions. */
int config_write_file(const char *path, const char *data, size_t len, struct str *err);

#endif
