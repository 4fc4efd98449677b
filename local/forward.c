/* forward: the user's .forward files: forward_path macro expansion (paths that use an empty
 * attribute are skipped, so ".forward+$extension" is only tried with an extension) and the
 * checks a .forward file must pass (regular, owned by the user or root, not group or world
 * writable; otherwise it is skipped with a warning, as Postfix does). */
#include "local.h"

#include "base/log.h"
#include "base/mem.h"

#include <stdio.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MACRO_DEPTH 10

static const char *macro_value(const char *name, size_t len, const char *const *names,
                               const char *const *values)
{
    for (size_t i = 0; names[i]; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return values[i];
    return NULL;
}

static void expand(struct str *out, const char *s, size_t len, const char *const *names,
                   const char *const *values, int *undef, int depth);

/* Handles one "$..." at s (s[0] == '$'); returns the bytes consumed. */
static size_t expand_macro(struct str *out, const char *s, size_t len, const char *const *names,
                           const char *const *values, int *undef, int depth)
{
    if (len >= 2 && (s[1] == '{' || s[1] == '(')) {
        char close = s[1] == '{' ? '}' : ')';
        size_t i = 2, name_end, level = 1;
        while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
            i++;
        name_end = i;
        size_t body = i;
        for (; i < len && level > 0; i++) {
            if (s[i] == s[1])
                level++;
            else if (s[i] == close)
                level--;
        }
        if (level > 0) { /* unterminated: literal */
            str_appendn(out, s, len);
            return len;
        }
        const char *v = macro_value(s + 2, name_end - 2, names, values);
        int set = v && *v;
        if (body < i - 1 && (s[body] == '?' || s[body] == ':')) {
            if ((s[body] == '?') == set && depth < MACRO_DEPTH)
                expand(out, s + body + 1, i - 1 - body - 1, names, values, undef, depth + 1);
        } else if (set) {
            str_append(out, v);
        } else {
            *undef = 1;
        }
        return i;
    }
    size_t i = 1;
    while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
        i++;
    if (i == 1) {
        str_appendc(out, '$');
        return 1;
    }
    const char *v = macro_value(s + 1, i - 1, names, values);
    if (v && *v)
        str_append(out, v);
    else
        *undef = 1;
    return i;
}

static void expand(struct str *out, const char *s, size_t len, const char *const *names,
                   const char *const *values, int *undef, int depth)
{
    size_t i = 0;
    while (i < len) {
        if (s[i] == '$')
            i += expand_macro(out, s + i, len - i, names, values, undef, depth);
        else
            str_appendc(out, s[i++]);
    }
}

struct argv *forward_paths(const char *forward_path, const char *const *names,
                           const char *const *values)
{
    struct argv *out = argv_new();
    struct argv *items = argv_split(forward_path, ", \t\n");
    struct str path = STR_INIT;
    for (size_t i = 0; i < items->n; i++) {
        int undef = 0;
        str_clear(&path);
        expand(&path, items->v[i], strlen(items->v[i]), names, values, &undef, 0);
        if (!undef && path.len > 0)
            argv_add(out, path.data);
    }
    str_release(&path);
    argv_free(items);
    return out;
}

int forward_read(const char *path, uid_t uid, struct str *text, struct str *why)
{
    str_clear(text);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        if (errno == ELOOP) {
            msg_warn("file %s is a symbolic link - skipping", path);
            return 0;
        }
        str_setf(why, "open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = 1;
    if (fstat(fd, &st) < 0) {
        str_setf(why, "fstat: %s", strerror(errno));
        rc = -1;
    } else if (!S_ISREG(st.st_mode)) {
        msg_warn("file %s is not a regular file - skipping", path);
        rc = 0;
    } else if (st.st_uid != 0 && st.st_uid != uid) {
        msg_warn("file %s has bad owner uid %ld - skipping", path, (long)st.st_uid);
        rc = 0;
    } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        msg_warn("file %s is %s writable - skipping", path,
                 (st.st_mode & S_IWOTH) ? "world" : "group");
        rc = 0;
    }
    char buf[8192];
    ssize_t n;
    while (rc == 1 && (n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || text->len + (size_t)n > LOCAL_MAX_INCLUDE) {
            str_setf(why, "read: %s", n < 0 ? strerror(errno) : "file too large");
            rc = -1;
        } else {
            str_appendn(text, buf, (size_t)n);
        }
    }
    close(fd);
    return rc;
}
