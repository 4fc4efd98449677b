/* pc_master: postconf's master.cf side: -M (entries), -F (fields) and -P (-o parameters),
 * shown with service[/type[/name]] filters or edited with -e, -X and -#. */
#include "postconf.h"

#include "base/argv.h"
#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/mastercf.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct mastercf *load_master(struct str *path, struct str *text)
{
    struct str err = STR_INIT;
    pc_config_path(path, "master.cf");
    int fd = open(path->data, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        msg_fatal("open %s: %m", path->data);
    char buf[65536];
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0 && text->len <= (size_t)CONFIG_MAX_FILE)
        str_appendn(text, buf, (size_t)r);
    close(fd);
    struct mastercf *m = mastercf_parse(path->data, str_cstr(text), text->len, &err);
    if (m == NULL)
        msg_fatal("%s", err.data);
    str_release(&err);
    return m;
}

/* Does entry e match filter "service[/type[/name]]"? *rest gets the name part or NULL. */
static int matches(const struct mastercf_entry *e, const char *filter, const char **rest)
{
    const char *s1 = strchr(filter, '/');
    size_t l1 = s1 ? (size_t)(s1 - filter) : strlen(filter);
    *rest = NULL;
    if (strlen(e->field[0]) != l1 || strncmp(e->field[0], filter, l1) != 0)
        return 0;
    if (s1 == NULL)
        return 1;
    const char *t = s1 + 1, *s2 = strchr(t, '/');
    size_t l2 = s2 ? (size_t)(s2 - t) : strlen(t);
    if (strlen(e->field[1]) != l2 || strncmp(e->field[1], t, l2) != 0)
        return 0;
    *rest = s2 ? s2 + 1 : NULL;
    return 1;
}

static void expand_if(int flags, struct str *text)
{
    if (!(flags & PC_EXPAND))
        return;
    struct str out = STR_INIT, err = STR_INIT;
    if (config_expand(str_cstr(text), &out, &err) != 0)
        msg_fatal("%s", err.data);
    str_set(text, str_cstr(&out));
    str_release(&out);
    str_release(&err);
}

static void show_entry(int mode, int flags, const struct mastercf_entry *e, const char *name)
{
    struct str key = STR_INIT, val = STR_INIT;
    if (mode == 'M') {
        mastercf_format(e, flags & PC_FOLD, &val);
        expand_if(flags, &val);
        printf("%s\n", val.data);
    } else if (mode == 'F') {
        for (int f = 0; f < 8; f++) {
            if (name && strcmp(name, mastercf_field_names[f]) != 0)
                continue;
            str_clear(&val);
            if (f < 7)
                str_append(&val, e->field[f]);
            else
                mastercf_command_text(e, &val);
            expand_if(flags, &val);
            str_setf(&key, "%s/%s/%s", e->field[0], e->field[1], mastercf_field_names[f]);
            pc_print(stdout, flags, key.data, str_cstr(&val));
        }
    } else {
        struct argv *o = mastercf_overrides(e);
        for (size_t i = 0; i < o->n; i++) {
            char *eq = strchr(o->v[i], '=');
            size_t nl = eq ? (size_t)(eq - o->v[i]) : strlen(o->v[i]);
            if (name && (strlen(name) != nl || strncmp(name, o->v[i], nl) != 0))
                continue;
            str_set(&val, eq ? eq + 1 : "");
            expand_if(flags, &val);
            str_setf(&key, "%s/%s/%.*s", e->field[0], e->field[1], (int)nl, o->v[i]);
            pc_print(stdout, flags, key.data, str_cstr(&val));
        }
        argv_free(o);
    }
    str_release(&key);
    str_release(&val);
}

int pc_show_master(int mode, int flags, int argc, char **argv)
{
    struct str path = STR_INIT, text = STR_INIT;
    struct mastercf *m = load_master(&path, &text);
    for (size_t i = 0; i < m->n; i++) {
        const char *rest = NULL;
        int want = argc == 0;
        for (int a = 0; a < argc && !want; a++)
            want = matches(&m->v[i], argv[a], &rest);
        if (want)
            show_entry(mode, flags, &m->v[i], rest);
    }
    mastercf_free(m);
    str_release(&path);
    str_release(&text);
    return 0;
}

/* One edit of master.cf text (in -> out). */
static int edit_one(int mode, int edit, const char *path, const struct str *in, const char *arg,
                    struct str *out, struct str *err)
{
    char *key = xstrdup(arg), *value = NULL, *eq = strchr(key, '=');
    int rc;
    if (eq) {
        char *k = eq;
        while (k > key && (k[-1] == ' ' || k[-1] == '\t'))
            k--;
        *k = 0;
        value = eq + 1;
        while (*value == ' ' || *value == '\t')
            value++;
    }
    if ((edit == 'e') != (value != NULL)) {
        str_setf(err, edit == 'e' ? "missing '=' in \"%s\"" : "unexpected '=' in \"%s\"", arg);
        rc = -1;
    } else if (mode == 'M' && edit == 'e') {
        struct str want = STR_INIT;
        struct argv *w = argv_split(value, " \t");
        str_setf(&want, "%s/%s", w->n > 0 ? w->v[0] : "", w->n > 1 ? w->v[1] : "");
        if (strcmp(want.data, key) != 0) {
            str_setf(err, "entry \"%s\" does not match service/type \"%s\"", value, key);
            rc = -1;
        } else {
            rc = mastercf_edit_entry(path, str_cstr(in), in->len, value, out, err);
        }
        argv_free(w);
        str_release(&want);
    } else if (mode == 'M') {
        rc = mastercf_remove_entry(path, str_cstr(in), in->len, key, edit == '#', out, err);
    } else if (mode == 'F' && edit == 'e') {
        rc = mastercf_edit_field(path, str_cstr(in), in->len, key, value, out, err);
    } else if (mode == 'P' && edit != '#') {
        rc = mastercf_edit_param(path, str_cstr(in), in->len, key, value, out, err);
    } else {
        str_setf(err, "-%c is not supported with -%c", edit, mode);
        rc = -1;
    }
    free(key);
    return rc;
}

int pc_edit_master(int mode, int edit, int argc, char **argv)
{
    if (argc == 0)
        msg_fatal("no service specified");
    struct str path = STR_INIT, text = STR_INIT, out = STR_INIT, err = STR_INIT;
    mastercf_free(load_master(&path, &text));
    for (int i = 0; i < argc; i++) {
        str_clear(&out);
        if (edit_one(mode, edit, path.data, &text, argv[i], &out, &err) != 0)
            msg_fatal("%s", err.data);
        str_set(&text, str_cstr(&out));
    }
    if (config_write_file(path.data, str_cstr(&text), text.len, &err) != 0)
        msg_fatal("%s", err.data);
    str_release(&path);
    str_release(&text);
    str_release(&out);
    str_release(&err);
    return 0;
}
