/* args: the pipe(8) command attributes from master.cf: flags=, user=, size=, eol=,
 * directory=, null_sender= and argv= (which takes the rest of the line). */
#include "pipe.h"

#include "base/mem.h"

#include <stdio.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    char letter;
    int flag;
} flag_table[] = {
    {'B', PIPE_FLAG_B}, {'D', PIPE_FLAG_D},   {'F', PIPE_FLAG_F},     {'O', PIPE_FLAG_O},
    {'R', PIPE_FLAG_R}, {'X', PIPE_FLAG_X},   {'h', PIPE_FLAG_h},     {'q', PIPE_FLAG_q},
    {'u', PIPE_FLAG_u}, {'.', PIPE_FLAG_DOT}, {'>', PIPE_FLAG_QUOTE},
};

int pipe_parse_flags(const char *text, struct str *err)
{
    int mask = 0;
    for (const char *c = text; *c; c++) {
        size_t i = 0;
        while (i < sizeof(flag_table) / sizeof(flag_table[0]) && flag_table[i].letter != *c)
            i++;
        if (i == sizeof(flag_table) / sizeof(flag_table[0])) {
            str_setf(err, "unknown flag: %c (ignored)", *c);
            return -1;
        }
        mask |= flag_table[i].flag;
    }
    return mask;
}

void pipe_unescape(const char *s, struct str *out)
{
    static const char from[] = "abfnrtv\\", to[] = "\a\b\f\n\r\t\v\\";
    for (; *s; s++) {
        const char *e;
        if (*s != '\\' || s[1] == 0) {
            str_appendc(out, *s);
        } else if ((e = strchr(from, s[1])) != NULL) {
            str_appendc(out, to[e - from]);
            s++;
        } else if (s[1] >= '0' && s[1] <= '7') {
            int v = 0, n = 0;
            while (n < 3 && s[1] >= '0' && s[1] <= '7')
                v = v * 8 + (*++s - '0'), n++;
            str_appendc(out, (char)v);
        } else {
            str_appendc(out, *++s);
        }
    }
}

static int parse_one(const char *arg, struct pipe_attr *a, struct str *err)
{
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : 0;
    const char *v = eq ? eq + 1 : "";
    struct str tmp = STR_INIT;
    int rc = 0;
    if (n == 5 && strncmp(arg, "flags", 5) == 0) {
        rc = a->flags = pipe_parse_flags(v, err);
    } else if (n == 4 && strncmp(arg, "user", 4) == 0) {
        free(a->user);
        a->user = xstrdup(v);
        rc = command_user_parse(v, &a->run_as, err);
    } else if (n == 4 && strncmp(arg, "size", 4) == 0) {
        char *end;
        errno = 0;
        a->size_limit = strtol(v, &end, 10);
        if (*v == 0 || *end || errno || a->size_limit < 0) {
            str_setf(err, "size= command-line attribute has bad value: %s", v);
            rc = -1;
        }
    } else if (n == 3 && strncmp(arg, "eol", 3) == 0) {
        pipe_unescape(v, &tmp);
        free(a->eol);
        a->eol = xstrdup(str_cstr(&tmp));
    } else if (n == 9 && strncmp(arg, "directory", 9) == 0) {
        free(a->directory);
        a->directory = xstrdup(v);
    } else if (n == 11 && strncmp(arg, "null_sender", 11) == 0) {
        free(a->null_sender);
        a->null_sender = xstrdup(v);
    } else {
        str_setf(err, "unknown attribute name: %s", arg);
        rc = -1;
    }
    str_release(&tmp);
    return rc < 0 ? -1 : 0;
}

int pipe_args_parse(int argc, char *const *argv, int am_root, struct pipe_attr *a, struct str *err)
{
    memset(a, 0, sizeof(*a));
    a->user = xstrdup("");
    a->eol = xstrdup("\n");
    a->null_sender = xstrdup("MAILER-DAEMON");
    a->argv = argv_new();
    int i = 0;
    for (; i < argc && strncmp(argv[i], "argv=", 5) != 0; i++)
        if (parse_one(argv[i], a, err) < 0)
            return -1;
    return command_argv_take(argc, argv, i, am_root, &a->run_as, a->argv, err);
}

void pipe_attr_release(struct pipe_attr *a)
{
    argv_free(a->argv);
    free(a->user);
    free(a->eol);
    free(a->directory);
    free(a->null_sender);
    memset(a, 0, sizeof(*a));
}
