/* pc_main: postconf's main.cf side: showing parameters (-d, -n, -h, -H, -x, -f) with the
 * unknown/unused warnings, and editing them (-e, -X, -#). */
#include "postconf.h"

#include "base/argv.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/mastercf.h"
#include "mail/params.h"

#include <stdlib.h>
#include <string.h>

void pc_config_path(struct str *out, const char *file)
{
    str_setf(out, "%s/%s", config_directory(), file);
}

/* Write text, breaking lines longer than 80 columns at white space; continuation lines are
 * indented by four spaces. */
static void print_folded(FILE *fp, const char *text)
{
    size_t col = 0;
    const char *p = text;
    while (*p) {
        const char *ws = p;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t wl = (size_t)(p - w);
        if (wl == 0)
            break;
        if (col > 0 && col + 1 + wl > 80) {
            fputs("\n    ", fp);
            col = 4;
        } else if (ws < w) {
            fputc(' ', fp);
            col++;
        }
        fwrite(w, 1, wl, fp);
        col += wl;
    }
    fputc('\n', fp);
}

void pc_print(FILE *fp, int flags, const char *name, const char *value)
{
    struct str line = STR_INIT;
    if (flags & PC_NAMES)
        str_append(&line, name);
    else if (flags & PC_VALUES)
        str_append(&line, value);
    else if (*value)
        str_setf(&line, "%s = %s", name, value);
    else
        str_setf(&line, "%s =", name);
    if (flags & PC_FOLD)
        print_folded(fp, str_cstr(&line));
    else
        fprintf(fp, "%s\n", str_cstr(&line));
    str_release(&line);
}

/* Warn about main.cf names nothing uses (master.cf -o names and values count as uses). */
static void warn_unused(void)
{
    struct str path = STR_INIT, err = STR_INIT;
    pc_config_path(&path, "master.cf");
    struct argv *used = argv_new();
    struct mastercf *m = mastercf_read(path.data, &err);
    if (m)
        mastercf_collect_names(m, used);
    mastercf_free(m);
    config_warn_unused(used);
    argv_free(used);
    str_release(&path);
    str_release(&err);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct argv *all_names(int flags)
{
    if (flags & PC_NONDEF)
        return config_set_names();
    struct argv *names = argv_new();
    for (size_t i = 0; i < param_count(); i++)
        argv_add(names, param_at(i)->name);
    if (!(flags & PC_DEFAULTS)) {
        struct argv *set = config_set_names();
        for (size_t i = 0; i < set->n; i++)
            if (param_lookup(set->v[i]) == NULL)
                argv_add(names, set->v[i]);
        argv_free(set);
    }
    qsort(names->v, names->n, sizeof(char *), by_name);
    return names;
}

/* The value to show for name, or NULL when there is nothing to show. */
static const char *value_of(int flags, const char *name, struct str *buf)
{
    const char *raw = (flags & PC_NONDEF) ? config_set_value(name) : config_get_raw(name);
    if (raw == NULL || !(flags & PC_EXPAND))
        return raw;
    struct str err = STR_INIT;
    str_clear(buf);
    if (config_expand(raw, buf, &err) != 0)
        msg_fatal("%s: parameter %s: %s", config_file(), name, err.data);
    str_release(&err);
    return str_cstr(buf);
}

int pc_show_main(int flags, int argc, char **argv)
{
    if (flags & PC_DEFAULTS)
        config_defaults_only(1);
    else
        warn_unused();
    struct argv *names;
    if (argc > 0) {
        names = argv_new();
        for (int i = 0; i < argc; i++)
            argv_add(names, argv[i]);
    } else {
        names = all_names(flags);
    }
    struct str buf = STR_INIT;
    for (size_t i = 0; i < names->n; i++) {
        const char *v = value_of(flags, names->v[i], &buf);
        if (v != NULL)
            pc_print(stdout, flags, names->v[i], v);
        else if (!(flags & PC_NONDEF) || param_lookup(names->v[i]) == NULL)
            msg_warn("unknown parameter: %s", names->v[i]);
    }
    str_release(&buf);
    argv_free(names);
    return 0;
}

static int valid_name(const char *name)
{
    return *name && strpbrk(name, " \t\r\n=#") == NULL;
}

/* "name=value" or "name = value": append the name and the value to store. */
static void parse_assignment(const char *arg, struct argv *store)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL)
        msg_fatal("missing '=' in parameter assignment: \"%s\"", arg);
    const char *ne = eq, *ns = arg;
    while (*ns == ' ' || *ns == '\t')
        ns++;
    while (ne > ns && (ne[-1] == ' ' || ne[-1] == '\t'))
        ne--;
    const char *v = eq + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    struct str val = STR_INIT;
    str_set(&val, v);
    str_trim_right(&val);
    if (strchr(str_cstr(&val), '\n'))
        msg_fatal("newline in parameter value: \"%s\"", arg);
    argv_addn(store, ns, (size_t)(ne - ns));
    argv_add_owned(store, str_steal(&val));
    if (!valid_name(store->v[store->n - 2]))
        msg_fatal("invalid parameter name in assignment: \"%s\"", arg);
}

int pc_edit_main(int op, int argc, char **argv)
{
    if (argc == 0)
        msg_fatal("no parameters specified");
    struct config_edit *edits = xcalloc((size_t)argc, sizeof(*edits));
    struct argv *store = argv_new();
    for (int i = 0; i < argc; i++) {
        if (op == 'e') {
            parse_assignment(argv[i], store);
        } else {
            if (!valid_name(argv[i]))
                msg_fatal("invalid parameter name: \"%s\"", argv[i]);
            argv_add(store, argv[i]);
            argv_add(store, "");
        }
    }
    for (int i = 0; i < argc; i++) /* store only grows above; pointers are stable now */
        edits[i] = (struct config_edit){store->v[2 * i], store->v[2 * i + 1]};
    struct str path = STR_INIT, err = STR_INIT;
    pc_config_path(&path, "main.cf");
    enum config_edit_op eop = op == 'e'   ? CONFIG_EDIT_SET
                              : op == 'X' ? CONFIG_EDIT_REMOVE
                                          : CONFIG_EDIT_COMMENT;
    if (config_edit_file(path.data, eop, edits, (size_t)argc, &err) != 0)
        msg_fatal("%s", err.data);
    str_release(&path);
    str_release(&err);
    argv_free(store);
    free(edits);
    return 0;
}
